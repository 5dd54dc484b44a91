"""The tenant's password and session policy: effective values, password history, session limits, changes.

The baseline (SECURITY-BASELINE.md) is the floor for passwords and the ceiling for sessions: a tenant may ask
for longer passwords and shorter sessions, never the reverse. The values are read through
``Tenant.security_policy``, which is loaded with the tenant (no query of its own per request).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app import audit
from app.extensions import db
from app.passwords import MAX_LENGTH, MIN_LENGTH, TEMPORARY_LENGTH, verify_password

from .models import PasswordHistory, TenantSecurityPolicy

MAX_MIN_LENGTH = 64
MAX_HISTORY = 24
MIN_IDLE_MINUTES = 5
MIN_ABSOLUTE_HOURS = 1
REUSED = "過去{count}回分のパスワードと同じものは使えません。別のパスワードにしてください。"


@dataclass(frozen=True)
class Policy:
    """The rules in force for one tenant."""

    password_min_length: int
    password_history: int
    idle_timeout_minutes: int
    absolute_timeout_hours: int


def baseline() -> Policy:
    """The baseline's rules (the configured session limits are the longest a tenant may have)."""
    return Policy(MIN_LENGTH, 0, current_app.config["KANRI_IDLE_TIMEOUT_MINUTES"],
                  current_app.config["KANRI_ABSOLUTE_TIMEOUT_HOURS"])


def policy_of(tenant) -> Policy:
    """The rules in force for tenant: its own where stricter than the baseline, else the baseline's."""
    base = baseline()
    row = getattr(tenant, "security_policy", None) if tenant is not None else None
    if row is None:
        return base
    return Policy(min(max(row.password_min_length, base.password_min_length), MAX_MIN_LENGTH),
                  min(max(row.password_history, 0), MAX_HISTORY),
                  min(row.idle_timeout_minutes, base.idle_timeout_minutes),
                  min(row.absolute_timeout_hours, base.absolute_timeout_hours))


def session_limits(tenant) -> tuple[timedelta, timedelta]:
    """The tenant's idle and absolute session timeouts."""
    policy = policy_of(tenant)
    return timedelta(minutes=policy.idle_timeout_minutes), timedelta(hours=policy.absolute_timeout_hours)


def password_min_length(tenant) -> int:
    """The shortest password the tenant accepts."""
    return policy_of(tenant).password_min_length


def temporary_length(tenant) -> int:
    """The length of a system-made temporary password for tenant (never shorter than its minimum)."""
    return max(TEMPORARY_LENGTH, password_min_length(tenant))


def password_hint(tenant) -> str:
    """The rule text shown under every new-password field, e.g. 「12〜128文字。…」."""
    policy = policy_of(tenant)
    text = (f"{policy.password_min_length}〜{MAX_LENGTH}文字。よく使われる語や会社コード・ログインIDを含むものは使えません。")
    if policy.password_history:
        text += f"過去{policy.password_history}回分と同じパスワードは使えません。"
    return text + "長い文章のようなパスワードがおすすめです。"


def _history(user, count: int) -> list[PasswordHistory]:
    return list(db.session.execute(
        sa.select(PasswordHistory).where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc()).limit(count)).scalars())


def history_errors(user, password: str) -> list[str]:
    """A message when password is one of the user's last N passwords (N from the tenant's policy)."""
    count = policy_of(user.tenant).password_history
    if count == 0 or user.id is None:
        return []
    for row in _history(user, count):
        if verify_password(password, row.password_hash):
            return [REUSED.format(count=count)]
    return []


def remember_password(user) -> None:
    """Keep the hash of the password just set (when the tenant keeps a history) and drop older ones beyond N."""
    count = policy_of(user.tenant).password_history
    if count == 0:
        if user.id is not None:
            db.session.execute(sa.delete(PasswordHistory).where(PasswordHistory.user_id == user.id))
        return
    if user.id is None:  # a new user (create_user with a typed password): its id is needed for the history row
        db.session.add(user)
        db.session.flush()
    db.session.add(PasswordHistory(user_id=user.id, tenant_id=user.tenant_id, password_hash=user.password_hash))
    db.session.flush()
    keep = [row.id for row in _history(user, count)]
    db.session.execute(sa.delete(PasswordHistory).where(PasswordHistory.user_id == user.id,
                                                        PasswordHistory.id.not_in(keep)))


def _prune_tenant_history(count: int) -> int:
    """Drop every user's history rows beyond the newest count (the current tenant); returns how many went."""
    rows = db.session.execute(sa.select(PasswordHistory.id, PasswordHistory.user_id)
                              .order_by(PasswordHistory.user_id, PasswordHistory.id.desc())).all()
    seen: dict[int, int] = {}
    drop = []
    for row_id, user_id in rows:
        seen[user_id] = seen.get(user_id, 0) + 1
        if seen[user_id] > count:
            drop.append(row_id)
    if drop:
        db.session.execute(sa.delete(PasswordHistory).where(PasswordHistory.id.in_(drop)))
    return len(drop)


def _row_for(tenant) -> TenantSecurityPolicy:
    row = tenant.security_policy
    if row is None:
        base = baseline()
        row = TenantSecurityPolicy(tenant_id=tenant.id, password_min_length=base.password_min_length,
                                   password_history=base.password_history,
                                   idle_timeout_minutes=base.idle_timeout_minutes,
                                   absolute_timeout_hours=base.absolute_timeout_hours)
        row.tenant = tenant
        db.session.add(row)
    return row


def _save(tenant, action: str, values: dict[str, tuple[str, int]], actor, **extra) -> bool:
    """Store ``{audit name: (column, value)}`` on the tenant's row and audit old → new; False when unchanged.
    ``extra`` may hold a callable run after the flush whose answer is audited under its name."""
    before = policy_of(tenant)
    if all(getattr(before, column) == value for column, value in values.values()):
        return False
    row = _row_for(tenant)
    for column, value in values.values():
        setattr(row, column, value)
    db.session.flush()
    after = policy_of(tenant)
    audit.record(action, target=f"tenant:{tenant.code}", actor=actor,
                 before={name: getattr(before, column) for name, (column, _) in values.items()},
                 after={name: getattr(after, column) for name, (column, _) in values.items()},
                 **{name: run() for name, run in extra.items()})
    return True


def save_password_policy(tenant, min_length: int, history: int, actor) -> bool:
    """Store the tenant's password rules (validated by the form) and audit old → new; False when unchanged."""
    return _save(tenant, "security.password_policy.update",
                 {"min_length": ("password_min_length", min_length), "history_count": ("password_history", history)},
                 actor, history_rows_dropped=lambda: _prune_tenant_history(history))


def save_session_policy(tenant, idle_minutes: int, absolute_hours: int, actor) -> bool:
    """Store the tenant's session timeouts (validated by the form) and audit old → new; False when unchanged."""
    return _save(tenant, "security.session_policy.update",
                 {"idle_minutes": ("idle_timeout_minutes", idle_minutes),
                  "absolute_hours": ("absolute_timeout_hours", absolute_hours)}, actor)

