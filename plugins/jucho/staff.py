"""Staff rules: counting admins, mailing temporary passwords and e-mail changes."""
from __future__ import annotations

from app.accounts import active_admins
from app.mailer import send_mail
from app.models import ROLE_ADMIN, STATUS_ACTIVE, User
from app.urls import external_url

from .emailcode import mask_email


def active_admin_count() -> int:
    """Number of active 管理者 in the current tenant (counted under the tenant-row lock)."""
    return len(active_admins())


def leaves_no_admin(user: User, role: str, status: str) -> bool:
    """True when giving user this role and status would leave the tenant without an active admin."""
    is_active_admin = user.role == ROLE_ADMIN and user.status == STATUS_ACTIVE
    stays_active_admin = role == ROLE_ADMIN and status == STATUS_ACTIVE
    return is_active_admin and not stays_active_admin and active_admin_count() <= 1


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
