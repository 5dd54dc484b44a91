"""Built-in plugin: stronger factors (TOTP, recovery codes, passkeys) and the tenant's factor policy.

Product-agnostic: the login step runs before the product's own factor (``stronger_factor`` hook) and either
completes the login or hands it on to the product's factor, as the tenant's policy says; a required enrolment
is enforced on every request through ``session_gate``. See docs/security.md 「強い認証要素」.
"""
from __future__ import annotations

from flask import Blueprint

from app.auth.factors import SecondFactor
from app.hookspecs import hookimpl
from app.products import MenuLink

from . import models  # noqa: F401  (tables join the metadata)
from .summary import factor_summary

__all__ = ["STEP", "bp", "factor_summary"]

bp = Blueprint("strong_factors", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/strong_factors")
STEP = SecondFactor("stronger", "強い認証要素", "strong_factors.login")
# Endpoints a user who must first register a stronger factor may still open.
ENROLMENT_ENDPOINTS = {"strong_factors.index", "strong_factors.totp_setup", "strong_factors.totp_confirm",
                       "strong_factors.passkey_options",
                       "strong_factors.passkey_register", "strong_factors.recovery_codes", "strong_factors.static",
                       "auth.logout", "auth.change_password", "static"}


@hookimpl
def register_blueprints(app):
    """The pages under ``/account/factors``, ``/login/stronger`` and ``/admin/security/factors``."""
    app.register_blueprint(bp)


@hookimpl
def stronger_factor(tenant, user, factor):
    """A user who registered TOTP or a passkey passes it before (or, by policy, instead of) the product's factor."""
    from .policy import has_stronger_factor

    return STEP if has_stronger_factor(user) else None


@hookimpl
def session_gate(tenant, user, endpoint):
    """Send a user whom the policy requires to hold a stronger factor to its registration first."""
    if tenant is None or user is None or not tenant.strong_factor_gate or endpoint in ENROLMENT_ENDPOINTS:
        return None
    from .policy import current_policy, must_enrol

    return "strong_factors.index" if must_enrol(current_policy(), user) else None


@hookimpl
def menu_links(tenant, user):
    """「強い認証要素」 for every user; the policy page for a tenant's 管理者."""
    if tenant is None or user is None:
        return []
    links = [MenuLink("強い認証要素", "strong_factors.index", section="account", order=25)]
    if getattr(user, "is_admin", False):
        links.append(MenuLink("認証要素のポリシー", "strong_factors.policy", menu_id="strong_factors", section="main",
                              description="パスキー・認証アプリを必須にするかどうか", order=910))
    return links


@hookimpl
def user_security_facts(tenant, users):
    """セキュリティ状況: each user's passkeys, authenticator app and unused recovery codes (three grouped queries)."""
    summary = factor_summary(tenant.id)
    empty = {"passkeys": 0, "totp": False, "recovery_codes_left": 0}
    return {user.id: {"パスキー": summary.get(user.id, empty)["passkeys"],
                      "認証アプリ": "登録済み" if summary.get(user.id, empty)["totp"] else "なし",
                      "リカバリーコード残り": summary.get(user.id, empty)["recovery_codes_left"]}
            for user in users}


@hookimpl
def user_has_strong_binding(tenant, user):
    """A user with a passkey or a confirmed authenticator app is strongly bound (the IP restriction's scope)."""
    from .policy import has_stronger_factor

    return True if has_stronger_factor(user) else None


@hookimpl
def session_end_messages():
    """Why a session opened with a removed passkey, authenticator app or recovery code set ended."""
    from .session_end import MESSAGES

    return MESSAGES


@hookimpl
def audit_action_labels():
    """Japanese labels of the module's audit actions."""
    return {
        "strong_factors.policy": "認証要素ポリシーの変更",
        "strong_factors.totp_started": "認証アプリの登録開始",
        "strong_factors.totp_confirmed": "認証アプリの登録",
        "strong_factors.totp_removed": "認証アプリの削除",
        "strong_factors.recovery_issued": "リカバリーコードの発行",
        "strong_factors.recovery_used": "リカバリーコードの使用",
        "strong_factors.passkey_added": "パスキーの登録",
        "strong_factors.passkey_removed": "パスキーの削除",
        "strong_factors.passkey_used": "パスキーの使用",
        "strong_factors.reset": "強い認証要素のリセット（管理者）",
        "strong_factors.login_passed": "強い認証要素による認証",
        "strong_factors.login_failed": "強い認証要素の認証失敗",
    }


from . import views  # noqa: E402,F401  (routes register on bp)
