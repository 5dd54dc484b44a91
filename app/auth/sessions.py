"""Server-side sessions: create, load with idle/absolute expiry, end."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g, request

from .. import audit
from ..extensions import db
from ..models import PendingLoginRecord, Tenant, User, UserSession
from ..products import plugin_manager
from ..queryargs import token_length, token_shaped
from ..tenancy import set_current_tenant
from ..timeutil import utcnow

TOKEN_BYTES = 32  # 256 bits
TOKEN_LENGTH = token_length(TOKEN_BYTES)
LAST_SEEN_GRANULARITY = timedelta(seconds=60)


def hash_token(token: str) -> str:
    """Return the stored form of a session token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def create_session(user: User, stronger_factor: str | None = None) -> str:
    """Open a server-side session for user (noting the stronger factor its login passed); returns the token."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    hours = current_app.config["KANRI_ABSOLUTE_TIMEOUT_HOURS"]
    record = UserSession(
        user_id=user.id,
        token_hash=hash_token(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=hours),
        ip=audit.clean(request.remote_addr, 64),
        user_agent=audit.clean(request.user_agent.string, 300),
        stronger_factor=stronger_factor,
    )
    db.session.add(record)
    db.session.flush()
    user.session_token = token
    user.current_session = record
    return token


def login_stronger_factor(record: UserSession | None) -> str | None:
    """The stronger factor ("passkey", "totp", "recovery") the login of this session passed, or None."""
    return record.stronger_factor if record is not None else None


def _expiry_reason(record: UserSession, now) -> str | None:
    if now >= record.expires_at:
        return "absolute_timeout"
    idle = timedelta(minutes=current_app.config["KANRI_IDLE_TIMEOUT_MINUTES"])
    if now - record.last_seen_at >= idle:
        return "idle_timeout"
    return None


def load_session(token: str) -> User | None:
    """Return the user of a live session token and make its tenant current; None otherwise."""
    if token_shaped(token, length=TOKEN_LENGTH) is None:  # only what create_session issues is looked up
        return None
    record = db.session.execute(
        sa.select(UserSession).where(UserSession.token_hash == hash_token(token))
        .execution_options(all_tenants=True)
    ).scalar_one_or_none()
    if record is None or not record.is_open:
        return None
    tenant = db.session.get(Tenant, record.tenant_id)
    set_current_tenant(tenant)
    now = utcnow()
    user = record.user
    reason = _expiry_reason(record, now)
    if reason is None and not (user.is_active and tenant.can_log_in):
        reason = "account_unavailable"
    if reason is None:
        refusal = plugin_manager().hook.session_valid(tenant=tenant, user=user, session_record=record)
        if refusal is not None:
            reason = refusal.reason
            g.session_refusal = refusal  # the early loader logs out, says why and sends to the login page
    if reason:
        end_session(record, reason, actor=user)
        db.session.commit()
        set_current_tenant(None)
        return None
    if now - record.last_seen_at >= LAST_SEEN_GRANULARITY:
        record.last_seen_at = now
        db.session.commit()
    user.session_token = token
    user.current_session = record
    return user


def end_session(record: UserSession, reason: str, actor=None) -> None:
    """Mark one session ended on the server and audit it."""
    if record.ended_at is not None:
        return
    record.ended_at = utcnow()
    record.end_reason = reason
    audit.record("session.end", target=f"session:{record.id}", actor=actor or record.user, reason=reason)


def open_sessions(user: User) -> list[UserSession]:
    """Return the user's sessions that are still usable, newest first."""
    now = utcnow()
    rows = db.session.execute(
        sa.select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())
    ).scalars()
    return [row for row in rows if _expiry_reason(row, now) is None]


def end_user_sessions(user: User, reason: str, keep: UserSession | None = None, actor=None) -> int:
    """End every open session of user except keep, and void their open pending logins (a login
    started with the old password cannot finish); tells the plugins; returns how many sessions ended."""
    db.session.execute(
        sa.update(PendingLoginRecord)
        .where(PendingLoginRecord.user_id == user.id, PendingLoginRecord.consumed_at.is_(None))
        .values(consumed_at=utcnow(), consumed_reason="abandoned")
        .execution_options(synchronize_session=False)
    )
    count = 0
    rows = db.session.execute(
        sa.select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).scalars()
    for record in rows:
        if keep is not None and record.id == keep.id:
            continue
        end_session(record, reason, actor=actor)
        count += 1
    plugin_manager().hook.sessions_ended(tenant=user.tenant, user=user, reason=reason)
    return count
