"""A user's authenticator app: start enrolment, confirm it with a code, check a login code, remove it."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app import audit
from app.extensions import db
from app.timeutil import utcnow

from . import totp
from .models import TotpCredential


def credential(user) -> TotpCredential | None:
    """The user's TOTP row (confirmed or still being enrolled), or None."""
    return db.session.execute(sa.select(TotpCredential).where(TotpCredential.user_id == user.id)).scalar_one_or_none()


def start(user) -> TotpCredential:
    """A new unconfirmed secret for the user (replacing an unconfirmed one); refused when one is active. Caller commits."""
    row = credential(user)
    if row is not None and row.confirmed_at is not None:
        raise ValueError("an authenticator app is already active")
    if row is None:
        row = TotpCredential(user_id=user.id, secret=totp.new_secret())
        db.session.add(row)
    else:
        row.secret = totp.new_secret()
        row.last_step = None
    row.created_at = utcnow()
    audit.record("strong_factors.totp_started", actor=user, target=f"user:{user.login_id}")
    return row


def confirm(user, typed: str, now: datetime | None = None) -> bool:
    """Activate the pending secret when ``typed`` is its current code; audited either way. Caller commits."""
    row = credential(user)
    if row is None or row.confirmed_at is not None:
        return False
    step = totp.matching_step(str(row.secret), typed, now or utcnow(), row.last_step)
    if step is None:
        audit.record("strong_factors.totp_confirmed", outcome="failure", actor=user, target=f"user:{user.login_id}",
                     reason="wrong_code")
        return False
    row.last_step, row.confirmed_at = step, now or utcnow()
    audit.record("strong_factors.totp_confirmed", actor=user, target=f"user:{user.login_id}")
    return True


def check(user, typed: str, now: datetime | None = None) -> bool:
    """True when ``typed`` is a code of the user's active secret in a step not used before (then remembered)."""
    row = credential(user)
    if row is None or row.confirmed_at is None:
        return False
    now = now or utcnow()
    step = totp.matching_step(str(row.secret), typed, now, row.last_step)
    if step is None:
        return False
    # Conditional update: two requests racing with the same code cannot both pass.
    won = db.session.execute(
        sa.update(TotpCredential).where(TotpCredential.id == row.id, sa.or_(
            TotpCredential.last_step.is_(None), TotpCredential.last_step < step))
        .values(last_step=step, last_used_at=now).execution_options(synchronize_session=False)).rowcount == 1
    return won


def remove(user, actor=None) -> bool:
    """Delete the user's authenticator app; audited. Caller commits."""
    row = credential(user)
    if row is None:
        return False
    db.session.delete(row)
    audit.record("strong_factors.totp_removed", actor=actor or user, target=f"user:{user.login_id}",
                 was_active=row.confirmed_at is not None)
    return True
