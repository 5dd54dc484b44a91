"""Built-in plugin: 「セキュリティ設定」 — a tenant's 管理者 sets the password and session policy and reads the
セキュリティ状況 (admins, locked and suspended users, last sign-ins, failed logins by IP, the settings).

Registered like any product (``app.plugins.BUILTIN_PLUGINS``); product-agnostic. The rules themselves are
enforced by the core through ``policy`` (password changes, resets, temporary passwords, session expiry).
"""
from __future__ import annotations

from flask import Blueprint

from app.hookspecs import hookimpl
from app.products import MenuLink, admin_links

from . import models  # noqa: F401  (tables and Tenant.security_policy join the metadata)

bp = Blueprint("security_center", __name__, template_folder="templates")


@bp.app_template_global()
def password_hint(tenant):
    """The password rules of tenant as the hint under a new-password field (「12〜128文字。…」)."""
    from .policy import password_hint as hint

    return hint(tenant)


@hookimpl
def register_blueprints(app):
    """The セキュリティ設定 pages under ``/admin/security``."""
    app.register_blueprint(bp)


@hookimpl
def menu_links(tenant, user):
    """「セキュリティ設定」 in the main menu, for a tenant's 管理者 only."""
    link = MenuLink("セキュリティ設定", "security_center.index", menu_id="security_center", section="main",
                    description="パスワード・セッションのルールとセキュリティ状況", order=910)
    return admin_links(tenant, user, link)


@hookimpl
def audit_action_labels():
    """Japanese labels of the module's own audit actions."""
    return {"security.password_policy.update": "パスワードポリシーの変更",
            "security.session_policy.update": "セッションポリシーの変更",
            "security.overview.export": "セキュリティ状況のCSV出力"}


from . import views  # noqa: E402,F401  (routes register on bp)
