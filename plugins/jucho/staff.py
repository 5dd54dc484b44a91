"""社員 administration: the core's ``app.user_admin`` service plus what 重調@CITY adds to it — one e-mail
address per employee, temporary passwords mailed (never shown to the admin), notices of an e-mail change.

Every function leaves the commit to the caller; a refused change raises ``UserAdminError`` (rolled back).
"""
from __future__ import annotations

from app.accounts import find_user_by_email
from app.mailer import send_mail
from app.models import Tenant, User
from app.urls import external_url
from app.user_admin import add_user, edit_user, reset_password

from .emailcode import mask_email

LAST_ADMIN_DEMOTE = "有効な管理者が1人もいなくなるため、一般に変更できません。"
LAST_ADMIN_SUSPEND = "有効な管理者が1人もいなくなるため、停止できません。"
EMAIL_TAKEN = "このメールアドレスは他の社員が使用しています。"


def email_taken(email: str, user: User | None = None) -> bool:
    """True when another employee of the current tenant (not ``user``) already has this address."""
    other = find_user_by_email(email)
    return other is not None and (user is None or other.id != user.id)


def register(tenant: Tenant, login_id: str, name: str, email: str, role: str, actor) -> User:
    """社員登録: add the user with a generated temporary password and mail it to them."""
    user, temporary = add_user(tenant, login_id, name, email, role=role, actor=actor)
    mail_temporary_password(user, temporary, first=True)
    return user


def update(user: User, name: str, email: str, role: str, actor) -> bool:
    """社員編集 (name, e-mail, role; never the last active admin). Both addresses of an e-mail change get
    a notice. Returns whether the address changed."""
    old_email = user.email
    changed = edit_user(user, name=name, email=email, role=role, status=user.status, actor=actor,
                        message=LAST_ADMIN_DEMOTE)
    if "email" in changed:
        mail_email_changed(user, old_email, email)
    return "email" in changed


def set_staff_status(user: User, status: str, actor) -> None:
    """停止 / 再開 (suspending ends the employee's sessions; never the last active admin)."""
    edit_user(user, name=user.name, email=user.email, role=user.role, status=status, actor=actor,
              message=LAST_ADMIN_SUSPEND)


def reissue_password(user: User, actor) -> None:
    """パスワード再発行: a new temporary password, mailed to the employee; their sessions end."""
    temporary, _ = reset_password(user, actor=actor)
    mail_temporary_password(user, temporary, first=False)


def mail_temporary_password(user: User, password: str, first: bool) -> None:
    """Queue the temporary-password mail (社員登録 or 再発行) in the current transaction; its body is erased once sent."""
    subject = "アカウント登録のお知らせ" if first else "仮パスワード再発行のお知らせ"
    send_mail(user.email, subject, "jucho/email/temporary_password", secret=True, user=user, tenant=user.tenant, first=first,
              temporary=password, expires_at=user.temp_password_expires_at,
              login_url=external_url("auth.login"))


def mail_email_changed(user: User, old: str, new: str) -> None:
    """Queue a notice to both the old and the new address of an e-mail change in the current transaction."""
    for to in (old, new):
        send_mail(to, "メールアドレス変更のお知らせ", "jucho/email/email_changed", user=user, tenant=user.tenant,
                  old_address=mask_email(old), new_address=mask_email(new), is_old=(to == old))
