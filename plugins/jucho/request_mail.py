"""Mail about a new 依頼: the broker's receipt and the staff notification, queued in the caller's transaction."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.mailer import send_mail
from app.models import ROLE_ADMIN, STATUS_ACTIVE, Tenant, User
from app.urls import external_url

from .requests import JuchoRequest, settings


def staff_recipients() -> list[str]:
    """The configured notification address, or else every active 管理者 of the current tenant with an address."""
    configured = settings().notify_email
    if configured:
        return [configured]
    admins = db.session.execute(sa.select(User).where(User.role == ROLE_ADMIN, User.status == STATUS_ACTIVE)).scalars()
    return sorted({user.email for user in admins if user.email})


def mail_receipt(request: JuchoRequest, tenant: Tenant) -> None:
    """The broker's receipt: number, summary and fee (only when the request has an e-mail address)."""
    if not request.email:
        return
    send_mail(request.email, f"重要事項調査報告書のご依頼を受け付けました（{request.number}）",
              "jucho/email/request_receipt", request=request, tenant=tenant)


def mail_staff(request: JuchoRequest, tenant: Tenant) -> None:
    """Tell the tenant's staff that a request came in through the public form."""
    recipients = staff_recipients()
    if not recipients:
        return
    send_mail(recipients, f"新しい依頼 {request.number} {request.building_name}",
              "jucho/email/request_new", request=request, tenant=tenant,
              detail_url=external_url("jucho.request_detail", request_id=request.id))
