"""Built-in plugin: 「操作ログ」 — a tenant's 管理者 reads, filters, verifies and downloads the tenant's audit log.

Registered like any product (``app.plugins.BUILTIN_PLUGINS``); product-agnostic. The list pages by
keyset (``before=<seq>`` / ``after=<seq>`` on the ``(chain_id, seq)`` index), never by OFFSET or a
``count(*)`` of the whole log. The chain check runs on demand (a POST button), not on every view.
"""
from __future__ import annotations

from flask import Blueprint

from app.hookspecs import hookimpl
from app.products import MenuLink, admin_links

bp = Blueprint("oplog", __name__, template_folder="templates")


@hookimpl
def register_blueprints(app):
    """The 操作ログ pages under ``/admin/oplog``."""
    app.register_blueprint(bp)


@hookimpl
def menu_links(tenant, user):
    """「操作ログ」 in the main menu, for a tenant's 管理者 only."""
    link = MenuLink("操作ログ", "oplog.index", menu_id="oplog", section="main",
                    description="このテナントの操作の記録（監査ログ）", order=900)
    return admin_links(tenant, user, link)


@hookimpl
def audit_action_labels():
    """Japanese labels of the module's own audit actions."""
    return {"oplog.export": "操作ログのCSV出力", "oplog.verify": "操作ログの改ざん検知"}


from . import views  # noqa: E402,F401  (routes register on bp)
