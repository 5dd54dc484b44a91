"""Wrong codes at the stronger-factor step: five per login, then the login starts over; too many in an hour lock the account."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app import audit
from app.extensions import db
from app.timeutil import utcnow

from .models import FactorFailure

PER_LOGIN = 5
WINDOW = timedelta(hours=1)


def count_for_login(pending) -> int:
    """Wrong codes typed in this pending login."""
    return db.session.execute(sa.select(sa.func.count(FactorFailure.id)).where(
        FactorFailure.user_id == pending.user.id, FactorFailure.pending_id == pending.id)).scalar_one()


def record(pending, method: str) -> tuple[int, bool]:
    """Count one wrong code; returns (left in this login, account locked now). Locks like wrong passwords do:
    ``KANRI_LOCKOUT_THRESHOLD`` wrong codes within an hour lock the account for ``KANRI_LOCKOUT_MINUTES``. Caller commits."""
    user = pending.user
    now = utcnow()
    db.session.add(FactorFailure(user_id=user.id, pending_id=pending.id, created_at=now))
    db.session.flush()
    in_hour = db.session.execute(sa.select(sa.func.count(FactorFailure.id)).where(
        FactorFailure.user_id == user.id, FactorFailure.created_at >= now - WINDOW)).scalar_one()
    left = PER_LOGIN - count_for_login(pending)
    audit.record("strong_factors.login_failed", outcome="failure", actor=user, target=f"user:{user.login_id}",
                 method=method, pending=pending.id, left=max(left, 0), failures_in_hour=in_hour)
    config = current_app.config
    locked = in_hour >= config["KANRI_LOCKOUT_THRESHOLD"]
    if locked:
        user.locked_until = now + timedelta(minutes=config["KANRI_LOCKOUT_MINUTES"])
        db.session.execute(sa.delete(FactorFailure).where(FactorFailure.user_id == user.id)
                           .execution_options(synchronize_session=False))
        audit.record("account.locked", outcome="failure", actor=user, target=f"user:{user.login_id}",
                     minutes=config["KANRI_LOCKOUT_MINUTES"], reason="stronger_factor")
    return max(left, 0), locked
