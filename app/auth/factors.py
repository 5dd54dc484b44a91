"""The hand-off between the core's password step and a product's second factor.

A pending login (password right, factor still open) is a server-side ``pending_logins`` row. The
browser's session carries only the row id and a random nonce (the row keeps the nonce's SHA-256).
The core consumes the row exactly once: ``complete_login`` marks it used with a conditional UPDATE
whatever the factor, so a copied cookie, a replay after logout or two concurrent completions can
never log in twice; ``abandon_pending_login`` voids it. Presenting a used row again is refused and
audited (``login.pending_replayed``).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, session, url_for
from flask_login import login_user

from .. import audit
from ..extensions import db
from ..models import PendingLoginRecord, Tenant, User
from ..security import is_safe_next
from ..tenancy import set_current_tenant, tenant_scope
from ..timeutil import utcnow
from .sessions import create_session

PENDING_KEY = "kanri_pending_login"
NONCE_BYTES = 32  # 256 bits; token_urlsafe gives 43 characters
_NONCE = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_ID = 2**31 - 1
MAX_NEXT_LENGTH = 2048
MAX_PENDING_EXTENSION = timedelta(minutes=15)
REPLAYED = ("このログイン手続きは既に完了しているか、無効になっています。"
            "もう一度パスワードからログインしてください。")
EXPIRED = "ログインの有効期限が切れました。もう一度パスワードからログインしてください。"


@dataclass(frozen=True)
class SecondFactor:
    """What a product's ``second_factor`` hook returns: its name and the endpoint that runs it."""

    name: str
    label: str
    endpoint: str


@dataclass
class PendingLogin:
    """A login whose password was right and whose second factor is still open.

    ``id`` is the server record's id. ``nonce`` is this pending login's random value (unique for
    ever, unlike an id a database may reuse): a factor binds its own proof (a mailed code) to a
    keyed hash of it. It is a secret: never log it or store it in clear.
    """

    tenant: Tenant
    user: User
    id: int
    nonce: str
    factor: str
    next_url: str | None
    expires_at: datetime
    stronger_factor: str | None = None
    stronger_credential_id: int | None = None


def _hash_nonce(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("ascii")).hexdigest()


def _from_cookie() -> tuple[int, str] | None:
    """The (record id, nonce) this browser's session names, if well formed; None otherwise."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    record_id, nonce = data.get("id"), data.get("nonce")
    if type(record_id) is not int or not 0 < record_id <= _MAX_ID:
        return None
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        return None
    return record_id, nonce


def _load(record_id: int, nonce: str) -> PendingLoginRecord | None:
    """The record with this id whose nonce matches (before a tenant is known, hence all_tenants)."""
    record = db.session.execute(
        sa.select(PendingLoginRecord).where(PendingLoginRecord.id == record_id)
        .execution_options(all_tenants=True)
    ).scalar_one_or_none()
    if record is None or not hmac.compare_digest(record.nonce_hash, _hash_nonce(nonce)):
        return None
    return record


def _mark(record_id: int, nonce: str, values: dict, *conditions) -> bool:
    """Atomically update the open record named by id and nonce; True if exactly one row changed.

    The id and the 256-bit nonce identify the row on their own, so the update may run before or
    without a current tenant.
    """
    result = db.session.execute(
        sa.update(PendingLoginRecord)
        .where(PendingLoginRecord.id == record_id,
               PendingLoginRecord.nonce_hash == _hash_nonce(nonce),
               PendingLoginRecord.consumed_at.is_(None), *conditions)
        .values(**values)
        .execution_options(all_tenants=True, synchronize_session=False)
    )
    return result.rowcount == 1


def _delete_stale(user: User, now: datetime) -> None:
    """Housekeeping: drop the user's pending logins that have expired (used or not).

    Runs whenever the user passes the password step, so the table holds at most the open and
    recently used pending logins of each user (a used row stays until it expires, so a replay in
    that window is recognised and audited; after expiry a copied cookie is refused anyway).
    """
    db.session.execute(
        sa.delete(PendingLoginRecord)
        .where(PendingLoginRecord.user_id == user.id, PendingLoginRecord.expires_at < now)
        .execution_options(synchronize_session=False)
    )


def start_pending_login(user: User, factor: SecondFactor, next_url: str | None) -> None:
    """Replace the browser session with a new pending login (a server record) that lives a few minutes."""
    minutes = current_app.config["KANRI_PENDING_LOGIN_MINUTES"]
    session.clear()
    now = utcnow()
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    with tenant_scope(user.tenant):
        _delete_stale(user, now)
        record = PendingLoginRecord(
            tenant_id=user.tenant_id, user_id=user.id, nonce_hash=_hash_nonce(nonce), factor=factor.name,
            next_url=next_url if next_url and len(next_url) <= MAX_NEXT_LENGTH else None,
            created_at=now, expires_at=now + timedelta(minutes=minutes))
        db.session.add(record)
        db.session.commit()
        session[PENDING_KEY] = {"id": record.id, "nonce": nonce}


def _refuse(record: PendingLoginRecord | None, step: str, factor: str | None = None) -> NoReturn:
    """Audit a refused pending login, drop it from the browser and send the browser to the login page."""
    now = utcnow()
    tenant = db.session.get(Tenant, record.tenant_id) if record is not None else None
    if tenant is not None:
        set_current_tenant(tenant)
    user = db.session.get(User, record.user_id) if tenant is not None else None
    replayed = record is None or record.consumed_at is not None or record.expires_at > now
    details = {"pending": record.id if record is not None else None, "step": step,
               "first_use": record.consumed_reason if record is not None else None}
    if factor:
        details["factor"] = factor
    audit.record("login.pending_replayed" if replayed else "login.pending_expired", outcome="failure",
                 tenant=tenant, actor=user, target=f"user:{user.login_id}" if user is not None else None,
                 **details)
    db.session.commit()
    session.pop(PENDING_KEY, None)
    flash(REPLAYED if replayed else EXPIRED, "error")
    abort(redirect(url_for("auth.login")))


def pending_login(factor: str | None = None) -> PendingLogin | None:
    """Return the open pending login of this browser (and make its tenant current), or None.

    With ``factor`` (a ``SecondFactor`` or its name), only a pending login that waits for that
    factor is returned: another product's pending login answers None (and stays open).
    A pending login that was already used or abandoned is a replayed cookie: it is audited and the
    browser is sent to the login page at once (this call does not return).
    """
    pending = _open_pending_login()
    if pending is None or factor is None:
        return pending
    name = factor.name if isinstance(factor, SecondFactor) else factor
    return pending if pending.factor == name else None


def restart_login(message: str = "もう一度ログインしてください。"):
    """Flash ``message`` and redirect to the login page (a factor screen without its pending login)."""
    flash(message, "warning")
    return redirect(url_for("auth.login"))


def _open_pending_login() -> PendingLogin | None:
    named = _from_cookie()
    if named is None:
        session.pop(PENDING_KEY, None)
        return None
    record = _load(*named)
    if record is None:
        session.pop(PENDING_KEY, None)
        return None
    if record.consumed_at is not None:
        _refuse(record, "open")
    if utcnow() >= record.expires_at:
        session.pop(PENDING_KEY, None)
        return None
    tenant = db.session.get(Tenant, record.tenant_id)
    if tenant is None:
        session.pop(PENDING_KEY, None)
        return None
    set_current_tenant(tenant)
    user = db.session.get(User, record.user_id)
    if user is None or not user.is_active or not tenant.can_log_in:
        session.pop(PENDING_KEY, None)
        return None
    return PendingLogin(tenant, user, record.id, named[1], record.factor, record.next_url, record.expires_at,
                        record.stronger_factor, record.stronger_credential_id)


def complete_login(pending: PendingLogin, factor_name: str):
    """Finish a login after the factor succeeded (fresh session, server record, audit); returns the redirect.

    The pending login is consumed here, atomically, whichever factor completes it: when this
    browser's pending login is already used, voided or expired (a replayed cookie, or another
    request finished it first) the login is refused, audited and the browser is sent to the login
    page (this call does not return); uncommitted changes of the request are rolled back.
    """
    if pending.factor != factor_name:
        raise PermissionError("the factor that completed is not the one this login started")
    user = pending.user
    named = _from_cookie()
    now = utcnow()
    won = named is not None and named[0] == pending.id and _mark(
        named[0], named[1], {"consumed_at": now, "consumed_reason": "completed"},
        PendingLoginRecord.expires_at > now, PendingLoginRecord.tenant_id == pending.tenant.id,
        PendingLoginRecord.user_id == user.id, PendingLoginRecord.factor == factor_name)
    if not won:
        db.session.rollback()
        _refuse(_load(*named) if named is not None else None, "complete", factor_name)
    session.clear()  # no value from before authentication survives (session fixation)
    with tenant_scope(pending.tenant):
        create_session(user, stronger_factor=pending.stronger_factor, credential_id=pending.stronger_credential_id)
        user.last_login_at = now
        login_user(user)
        audit.record("login.success", target=f"user:{user.login_id}", actor=user, factor=factor_name,
                     pending=pending.id,
                     **({"stronger_factor": pending.stronger_factor} if pending.stronger_factor else {}))
        db.session.commit()
    set_current_tenant(pending.tenant)
    if user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return redirect(pending.next_url if is_safe_next(pending.next_url) else url_for("main.dashboard"))


def pass_stronger_factor(pending: PendingLogin, method: str, then: SecondFactor | None,
                         credential_id: int | None = None):
    """A stronger-factor step passed with ``method`` (and the credential ``credential_id``, e.g. a passkey's id):
    complete the login (``then`` None: the step replaced the product's factor) or hand the pending login on to
    the product's factor ``then``; returns the redirect.

    The hand-over is one conditional UPDATE of the open record, so the step cannot be passed twice or
    after the login was used; a refused hand-over is audited and sent to the login page (no return).
    """
    pending.stronger_factor = method
    pending.stronger_credential_id = credential_id
    if then is None:
        return complete_login(pending, pending.factor)
    named = _from_cookie()
    now = utcnow()
    moved = named is not None and named[0] == pending.id and _mark(
        named[0], named[1], {"factor": then.name, "stronger_factor": method, "stronger_credential_id": credential_id},
        PendingLoginRecord.expires_at > now, PendingLoginRecord.factor == pending.factor,
        PendingLoginRecord.user_id == pending.user.id)
    if not moved:
        db.session.rollback()
        _refuse(_load(*named) if named is not None else None, "stronger_factor", pending.factor)
    db.session.commit()
    return redirect(url_for(then.endpoint))


def extend_pending_login(until) -> None:
    """Let this browser's pending login live until ``until`` (a factor whose proof outlives 5 minutes,
    e.g. a 10-minute e-mail code). Never shortens it, never revives a used or expired one, and never
    beyond 15 minutes from now. Updates the server record and commits."""
    named = _from_cookie()
    if named is None:
        return
    now = utcnow()
    until = min(until, now + MAX_PENDING_EXTENSION)
    _mark(named[0], named[1], {"expires_at": until},
          PendingLoginRecord.expires_at > now, PendingLoginRecord.expires_at < until)
    db.session.commit()


def abandon_pending_login() -> None:
    """Void this browser's pending login for good (the factor failed or the user gave up); commits."""
    named = _from_cookie()
    session.pop(PENDING_KEY, None)
    if named is None:
        return
    _mark(named[0], named[1], {"consumed_at": utcnow(), "consumed_reason": "abandoned"})
    db.session.commit()
