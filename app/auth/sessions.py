"""Server-side sessions: create, load with idle/absolute expiry, end."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import g, request
from sqlalchemy.orm import Load, contains_eager

from .. import audit
from ..crypto import OPEN_AFTER_LOAD, open_row
from ..extensions import db
from ..models import PendingLoginRecord, User, UserSession
from ..products import SessionRefusal, plugin_manager
from ..queryargs import token_length, token_shaped
from ..tenancy import set_current_tenant, tenant_scope
from ..timeutil import utcnow

TOKEN_BYTES = 32  # 256 bits
TOKEN_LENGTH = token_length(TOKEN_BYTES)
LAST_SEEN_GRANULARITY = timedelta(seconds=60)


def hash_token(token: str) -> str:
    """Return the stored form of a session token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def create_session(user: User, stronger_factor: str | None = None, credential_id: int | None = None) -> str:
    """Open a server-side session for user (noting the stronger factor its login passed, and which credential of
    it); returns the token."""
    from ..builtins.security_center.policy import session_limits
    from ..dashboard import logged_login

    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    _, absolute = session_limits(user.tenant)
    previous = logged_login(user)  # read before this login's own login.success is recorded
    record = UserSession(
        user_id=user.id,
        token_hash=hash_token(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + absolute,
        ip=audit.clean(request.remote_addr, 64),
        user_agent=audit.clean(request.user_agent.string, 300),
        stronger_factor=stronger_factor,
        stronger_credential_id=credential_id if stronger_factor else None,
        previous_login_read=True,
        previous_login_at=previous.occurred_at if previous else None,
        previous_login_ip=previous.ip if previous else None,
        previous_login_agent=previous.user_agent if previous else None,
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
    from ..builtins.security_center.policy import session_limits

    idle, absolute = session_limits(record.user.tenant)  # from the tenant row loaded with the user: no query
    # A limit shortened after the login applies to the sessions already open too.
    if now >= min(record.expires_at, record.created_at + absolute):
        return "absolute_timeout"
    if now - record.last_seen_at >= idle:
        return "idle_timeout"
    return None


# (companion entity, id of its on-clause) of each companion → (the prepared session statement, the on-clauses).
# The on-clauses are built once per process (SessionCompanion's contract), so a handful of shapes at most. The
# entry holds the on-clauses themselves: an id in a key then always names a live object, never a reused id.
_STATEMENTS: dict = {}
_STATEMENTS_MAX = 64


def _session_statement(companions) -> sa.Select:
    key = tuple((companion.entity, id(companion.on)) for companion in companions)
    found, _ = _STATEMENTS.get(key, (None, None))
    if found is None:
        found = (sa.select(UserSession).join(UserSession.user).join(User.tenant)
                 .options(contains_eager(UserSession.user).contains_eager(User.tenant))
                 .where(UserSession.token_hash == sa.bindparam("token_hash"),
                        UserSession.tenant_id == User.tenant_id)
                 # No tenant is current yet; none of these tables is soft-deletable. Without per-request options
                 # the statement stays the same object, and SQLAlchemy keeps its cache key with it.
                 .execution_options(all_tenants=True, include_deleted=True))
        for companion in companions:
            found = (found.outerjoin(companion.entity, companion.on).add_columns(companion.entity)
                     .options(Load(companion.entity).lazyload("*")))
        if len(_STATEMENTS) >= _STATEMENTS_MAX:
            _STATEMENTS.clear()
        _STATEMENTS[key] = (found, [companion.on for companion in companions])
    return found


def _session_row(token: str):
    """(session, companions) in ONE query: the session joined to its user and tenant, plus the rows the
    products' ``session_valid`` reads (``session_companions``), outer-joined; (None, []) when unknown."""
    companions = [c for batch in plugin_manager().hook.session_companions() for c in (batch or ())]
    params = {"token_hash": hash_token(token)}
    for companion in companions:
        params.update(companion.params)
    row = db.session.execute(_session_statement(companions), params,
                             execution_options={OPEN_AFTER_LOAD: True}).first()
    if row is None:
        return None, []
    g.session_companion_rows = {companion.entity: found for companion, found in zip(companions, row[1:],
                                                                                   strict=True)}
    return row[0], list(row[1:])


def session_companion(entity) -> tuple[bool, object]:
    """(loaded, row): whether this request's session query outer-joined ``entity`` (``session_companions``),
    and the row it found (None when the join matched nothing). (False, None) when it was not joined."""
    rows = g.get("session_companion_rows") or {}
    return (entity in rows), rows.get(entity)


def _explain_end(reason: str | None) -> None:
    """A session a plugin ended on the server comes back: the early loader logs it out and says why."""
    messages = {}
    for batch in plugin_manager().hook.session_end_messages():
        messages.update(batch or {})
    if reason in messages:
        g.session_refusal = SessionRefusal(reason, messages[reason])


def load_session(token: str) -> User | None:
    """Return the user of a live session token and make its tenant current; None otherwise."""
    if token_shaped(token, length=TOKEN_LENGTH) is None:  # only what create_session issues is looked up
        return None
    record, companions = _session_row(token)
    if record is None:
        return None
    user = record.user
    tenant = user.tenant
    with tenant_scope(tenant):  # opened even for an ended session: no sealed value stays in the identity map
        for row in (record, user, *companions):
            if row is not None:
                open_row(row)
    if not record.is_open:
        _explain_end(record.end_reason)
        return None
    # Held for the request: the identity map keeps rows only while something refers to them.
    g.session_companions = companions
    set_current_tenant(tenant)
    now = utcnow()
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
