"""パスワードのリセット依頼: a MAMA user asks the tenant's admins, who reset the password (no self-service reset)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import request

from app import audit
from app.accounts import active_account, tenant_for_login
from app.extensions import db
from app.mailer import send_mail
from app.models import User
from app.tenancy import set_current_tenant
from app.timeutil import utcnow
from app.urls import external_url

from . import PRODUCT
from .models import RESET_DONE, RESET_OPEN, MamaResetRequest
from .notify import tenant_admins

# An open request older than this is stale: admins no longer see it and the user may ask again (a new mail).
REQUEST_VALID_DAYS = 7


def _live():
    return sa.and_(MamaResetRequest.status == RESET_OPEN,
                   MamaResetRequest.requested_at >= utcnow() - timedelta(days=REQUEST_VALID_DAYS))


def submit(company_code: str, login_id: str) -> None:
    """Record a request and mail the admins when the account exists; audit either way. The caller answers the
    same page whatever happened, so nothing here is told to the visitor."""
    tenant = tenant_for_login(PRODUCT, company_code)
    user = active_account(tenant, login_id) if tenant is not None else None
    if user is None:
        audit.record("mama.reset.request", outcome="failure", tenant=tenant, actor_login="-",
                     target="user:(unknown)", reason="no_matching_account")
        return
    set_current_tenant(tenant)
    if open_request_of(user) is not None:  # one open request per account: no second mail to the admins
        audit.record("mama.reset.request", outcome="failure", tenant=tenant, actor=user,
                     target=f"user:{user.login_id}", reason="already_requested")
        return
    reset_request = MamaResetRequest(user_id=user.id, requested_ip=audit.clean(request.remote_addr, 64))
    db.session.add(reset_request)
    db.session.flush()
    mail_admins(reset_request)
    audit.record("mama.reset.request", tenant=tenant, actor=user, target=f"user:{user.login_id}",
                 request_id=reset_request.id)


def mail_admins(reset_request: MamaResetRequest) -> int:
    """Queue a mail to every admin with an address (one each); returns how many."""
    user = reset_request.user
    subject = f"【MAMAシステム】パスワードのリセット依頼が届きました（{user.tenant.name}）"
    link = external_url("mama.users_index")
    sent = 0
    for admin in tenant_admins():
        if admin.email:
            send_mail(admin.email, subject, "mama/email/reset_request", admin=admin, user=user,
                      reset_request=reset_request, tenant=user.tenant, link=link)
            sent += 1
    return sent


def open_request_of(user: User) -> MamaResetRequest | None:
    """The user's open request of the last REQUEST_VALID_DAYS days, if any."""
    return db.session.execute(sa.select(MamaResetRequest).where(
        MamaResetRequest.user_id == user.id, _live())).scalars().first()


def open_requests() -> list[MamaResetRequest]:
    """The tenant's open requests of the last REQUEST_VALID_DAYS days, oldest first."""
    return list(db.session.execute(sa.select(MamaResetRequest).where(_live())
                                   .order_by(MamaResetRequest.requested_at, MamaResetRequest.id)).scalars())


def close(reset_request: MamaResetRequest, actor: User, status: str) -> bool:
    """Mark an open request done or rejected (audited); False when it was already closed or is stale."""
    if reset_request.status != RESET_OPEN or reset_request.requested_at < utcnow() - timedelta(days=REQUEST_VALID_DAYS):
        return False
    reset_request.status = status
    reset_request.decided_at = utcnow()
    reset_request.decided_by = actor.login_id
    action = "mama.reset.done" if status == RESET_DONE else "mama.reset.reject"
    audit.record(action, actor=actor, target=f"user:{reset_request.user.login_id}", request_id=reset_request.id)
    return True


def close_for(user: User, actor: User) -> int:
    """After an admin reset the user's password: their open requests are done; returns how many."""
    requests = db.session.execute(sa.select(MamaResetRequest).where(
        MamaResetRequest.user_id == user.id, MamaResetRequest.status == RESET_OPEN)).scalars().all()
    return sum(close(item, actor, RESET_DONE) for item in requests)

