"""The tenant's factor policy and what it means for one user's login."""
from __future__ import annotations

import sqlalchemy as sa

from app import audit
from app.extensions import db
from app.tenancy import current_tenant
from app.timeutil import utcnow

from .models import (
    MODE_ADDITIONAL,
    MODE_BOTH,
    MODE_LABELS,
    MODE_REPLACE,
    FactorPolicy,
    Passkey,
    TotpCredential,
)

__all__ = ["MODE_ADDITIONAL", "MODE_BOTH", "MODE_REPLACE", "current_policy", "has_stronger_factor",
           "must_enrol", "replaces_product_factor", "set_policy"]


def current_policy() -> FactorPolicy:
    """The current tenant's policy (an unsaved default row when none was ever saved)."""
    row = db.session.execute(sa.select(FactorPolicy)).scalar_one_or_none()
    return row if row is not None else FactorPolicy(mode=MODE_ADDITIONAL, admins_required=False)


def set_policy(mode: str, admins_required: bool, actor) -> bool:
    """Save the current tenant's policy and audit the change; False when nothing changed. Caller commits."""
    if mode not in MODE_LABELS:
        raise ValueError(f"unknown factor policy mode {mode!r}")
    row = db.session.execute(sa.select(FactorPolicy)).scalar_one_or_none()
    before = (row.mode, row.admins_required) if row is not None else (MODE_ADDITIONAL, False)
    if before == (mode, admins_required):
        return False
    if row is None:
        row = FactorPolicy()
        db.session.add(row)
    row.mode, row.admins_required, row.updated_at = mode, admins_required, utcnow()
    current_tenant().strong_factor_gate = mode == MODE_BOTH or admins_required
    audit.record("strong_factors.policy", actor=actor, target="strong_factors:policy", mode_before=before[0],
                 mode=mode, admins_required_before=before[1], admins_required=admins_required)
    return True


def has_totp(user) -> bool:
    """True when the user has a confirmed authenticator app."""
    return db.session.execute(sa.select(TotpCredential.id).where(
        TotpCredential.user_id == user.id, TotpCredential.confirmed_at.is_not(None))).first() is not None


def passkey_count(user) -> int:
    """How many passkeys the user registered."""
    return db.session.execute(sa.select(sa.func.count(Passkey.id)).where(Passkey.user_id == user.id)).scalar_one()


def has_stronger_factor(user) -> bool:
    """True when the user has a confirmed TOTP or at least one passkey."""
    return has_totp(user) or passkey_count(user) > 0


def replaces_product_factor(policy: FactorPolicy) -> bool:
    """True when a passed stronger factor completes the login without the product's factor."""
    return policy.mode == MODE_REPLACE


def must_enrol(policy: FactorPolicy, user) -> bool:
    """True when the policy requires this user to register a stronger factor before any page."""
    required = policy.mode == MODE_BOTH or (policy.admins_required and user.is_admin)
    return required and not has_stronger_factor(user)
