"""Mail to a tenant's admins about device registration requests."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.mailer import send_mail
from app.models import ROLE_ADMIN, STATUS_ACTIVE, User
from app.urls import external_url

from .models import DEVICE_APPROVED, MamaDevice


def tenant_admins() -> list[User]:
    """The active 管理者 of the current tenant."""
    return list(db.session.execute(
        sa.select(User).where(User.role == ROLE_ADMIN, User.status == STATUS_ACTIVE).order_by(User.login_id)
    ).scalars())


def mail_device_request(device: MamaDevice, requester: User) -> int:
    """Queue a mail to every admin of the tenant (one message each) in the current transaction; returns how many."""
    sent = 0
    link = external_url("mama.devices_index")
    for admin in tenant_admins():
        if not admin.email:
            continue
        send_mail(admin.email, "端末の登録申請が届きました", "mama/email/device_request", admin=admin, device=device,
                  requester=requester, tenant=requester.tenant, link=link)
        sent += 1
    return sent


def mail_notice(tenant, notice) -> int:
    """Queue a お知らせ to every active admin of the tenant (one message each); returns how many."""
    sent = 0
    link = external_url("transparency.notice_detail", notice_id=notice.id)
    subject = f"お知らせ: {notice.title}"
    for admin in tenant_admins():
        if not admin.email:
            continue
        send_mail(admin.email, subject, "mama/email/notice", admin=admin, tenant=tenant, notice=notice, link=link)
        sent += 1
    return sent


def mail_device_decision(device: MamaDevice) -> bool:
    """Queue a mail telling the requester that an admin approved or rejected their device; False without an address."""
    user = device.user
    if not user.email:
        return False
    approved = device.status == DEVICE_APPROVED
    subject = f"【MAMAシステム】端末の登録申請が{'承認' if approved else '拒否'}されました（{user.tenant.name}）"
    send_mail(user.email, subject, "mama/email/device_decision", user=user, device=device, tenant=user.tenant,
              approved=approved, link=external_url("auth.login"))
    return True
