"""The restriction's decisions and changes: the cached policy per tenant, saving with a 15-minute undo, restoring."""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app import audit
from app.extensions import db
from app.models import Tenant
from app.products import plugin_manager
from app.timeutil import utcnow

from .models import (
    SCOPE_ADMINS,
    SCOPE_ALL,
    SCOPE_OFF,
    SCOPE_WEAK,
    IpAllowEntry,
    IpRestriction,
    IpRestrictionUndo,
)
from .rules import Entry, Matcher, client_ip

UNDO_MINUTES = 15
REASON = "ip_restricted"


@dataclass(frozen=True)
class Policy:
    """A tenant's restriction as enforced: whom it applies to and the allowed networks."""

    scope: str
    matcher: Matcher


def _cache() -> dict:
    return current_app.extensions.setdefault("kanri_ip_policies", {})


def stored(tenant) -> tuple[str, list[Entry]]:
    """The tenant's stored scope and entries (scope off and no entries when never configured)."""
    setting = db.session.execute(
        sa.select(IpRestriction).where(IpRestriction.tenant_id == tenant.id)).scalar_one_or_none()
    rows = db.session.execute(sa.select(IpAllowEntry.network, IpAllowEntry.note)
                              .where(IpAllowEntry.tenant_id == tenant.id).order_by(IpAllowEntry.id)).all()
    return (setting.scope if setting else SCOPE_OFF), [Entry(network, note or "") for network, note in rows]


def policy(tenant) -> Policy | None:
    """The tenant's policy, parsed once per process and change (``ip_rules_version``); None when never configured."""
    version = tenant.ip_rules_version or 0
    if not version:
        return None
    cached = _cache().get(tenant.id)
    if cached is not None and cached[0] == version:
        return cached[1]
    scope, entries = stored(tenant)
    result = Policy(scope, Matcher(e.network for e in entries))
    _cache()[tenant.id] = (version, result)
    return result


def has_strong_binding(tenant, user) -> bool:
    """True when a plugin says the user has a registered device or a stronger factor (``user_has_strong_binding``)."""
    return any(answer is True for answer in plugin_manager().hook.user_has_strong_binding(tenant=tenant, user=user))


def applies_to(scope: str, tenant, user) -> bool:
    """True when a restriction of this scope covers the user."""
    if scope == SCOPE_ALL:
        return True
    if scope == SCOPE_ADMINS:
        return bool(user.is_admin)
    if scope == SCOPE_WEAK:
        return not has_strong_binding(tenant, user)
    return False


def refuses(policy_: Policy | None, tenant, user, remote_addr: str | None) -> bool:
    """True when the policy refuses this user at this address (the address is checked first: it is cheapest)."""
    if policy_ is None or policy_.scope == SCOPE_OFF:
        return False
    if policy_.matcher.allows(client_ip(remote_addr)):
        return False
    return applies_to(policy_.scope, tenant, user)


def would_refuse(scope: str, entries: list[Entry], tenant, user, remote_addr: str | None) -> bool:
    """True when settings not yet saved would refuse this user at this address (the lock-out guard)."""
    return refuses(Policy(scope, Matcher(e.network for e in entries)), tenant, user, remote_addr)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _apply(tenant, scope: str, entries: list[Entry], actor_login: str | None) -> None:
    # The UPDATE of the tenant row comes first: it locks the row, so two saves of one tenant run one after the other.
    db.session.execute(sa.update(Tenant).where(Tenant.id == tenant.id)
                       .values(ip_rules_version=Tenant.ip_rules_version + 1))
    setting = db.session.execute(
        sa.select(IpRestriction).where(IpRestriction.tenant_id == tenant.id)).scalar_one_or_none()
    if setting is None:
        setting = IpRestriction(tenant_id=tenant.id)
        db.session.add(setting)
    setting.scope = scope
    setting.updated_at = utcnow()
    setting.updated_by = actor_login
    db.session.execute(sa.delete(IpAllowEntry).where(IpAllowEntry.tenant_id == tenant.id)
                       .execution_options(synchronize_session=False))
    if entries:
        db.session.execute(sa.insert(IpAllowEntry), [{"tenant_id": tenant.id, "network": e.network, "note": e.note}
                                                      for e in entries])
    db.session.flush()
    db.session.refresh(tenant)


def _changes(before: list[Entry], after: list[Entry]) -> dict:
    old = {e.network for e in before}
    new = {e.network for e in after}
    return {"added": len(new - old), "removed": len(old - new), "entries": len(new)}


def save(tenant, user, scope: str, entries: list[Entry], locks_out_self: bool) -> str:
    """Store new settings, keep the previous ones restorable for 15 minutes, audit; returns the undo link's token.

    The caller commits. Older undo records of the tenant stop working: only the newest change can be undone.
    """
    before_scope, before = stored(tenant)
    now = utcnow()
    db.session.execute(sa.update(IpRestrictionUndo)
                       .where(IpRestrictionUndo.tenant_id == tenant.id, IpRestrictionUndo.used_at.is_(None))
                       .values(used_at=now, used_reason="superseded").execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(32)
    db.session.add(IpRestrictionUndo(
        tenant_id=tenant.id, token_hash=_hash(token), user_id=user.id, previous_scope=before_scope,
        previous_entries=json.dumps([[e.network, e.note] for e in before], ensure_ascii=False),
        created_at=now, expires_at=now + timedelta(minutes=UNDO_MINUTES)))
    _apply(tenant, scope, entries, user.login_id)
    audit.record("ip_restriction.update", target=f"tenant:{tenant.code}", actor=user, scope_before=before_scope,
                 scope_after=scope, locks_out_self=locks_out_self, **_changes(before, entries))
    return token


def switch_off(tenant, operator: str) -> bool:
    """Set the scope to 制限しない and keep the list (the operator's rescue when every admin is locked out); audited.
    False when it already was off. The caller commits."""
    scope, entries = stored(tenant)
    if scope == SCOPE_OFF:
        return False
    _apply(tenant, SCOPE_OFF, entries, operator)
    audit.record("ip_restriction.update", tenant=tenant, actor_login=operator, target=f"tenant:{tenant.code}",
                 scope_before=scope, scope_after=SCOPE_OFF, added=0, removed=0, entries=len(entries))
    return True


def latest_undo(tenant) -> IpRestrictionUndo | None:
    """The tenant's newest change that can still be undone (unused, within 15 minutes), or None."""
    return db.session.execute(
        sa.select(IpRestrictionUndo).where(IpRestrictionUndo.tenant_id == tenant.id,
                                           IpRestrictionUndo.used_at.is_(None),
                                           IpRestrictionUndo.expires_at > utcnow())
        .order_by(IpRestrictionUndo.id.desc()).limit(1)).scalar_one_or_none()


def undo_by_token(token: str) -> IpRestrictionUndo | None:
    """The undo record a link's token names, across tenants (the link works without a session), or None."""
    if not token or len(token) > 100:
        return None
    return db.session.execute(sa.select(IpRestrictionUndo).where(IpRestrictionUndo.token_hash == _hash(token))
                              .execution_options(all_tenants=True)).scalar_one_or_none()


def usable(record: IpRestrictionUndo | None) -> bool:
    """True while the record can still be used (not used, not superseded, within 15 minutes)."""
    return record is not None and record.used_at is None and record.expires_at > utcnow()


def restore(tenant, record: IpRestrictionUndo, actor, via: str) -> bool:
    """Put back the settings before the change, once (a conditional UPDATE); audited. False when already used or
    expired. The caller commits."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(IpRestrictionUndo).where(IpRestrictionUndo.id == record.id, IpRestrictionUndo.used_at.is_(None),
                                           IpRestrictionUndo.expires_at > now)
        .values(used_at=now, used_reason="undone").execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        audit.record("ip_restriction.undo", outcome="failure", target=f"tenant:{tenant.code}", actor=actor,
                     via=via, reason="used_or_expired")
        return False
    scope_now, now_entries = stored(tenant)
    entries = [Entry(network, note) for network, note in json.loads(record.previous_entries)]
    _apply(tenant, record.previous_scope, entries, getattr(actor, "login_id", None))
    audit.record("ip_restriction.undo", target=f"tenant:{tenant.code}", actor=actor, via=via,
                 scope_before=scope_now, scope_after=record.previous_scope, **_changes(now_entries, entries))
    return True
