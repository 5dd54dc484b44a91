"""Append-only audit log, hash-chained per tenant; record() is the one way to write it."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import g, has_request_context, request
from flask_login import current_user

from .crypto import keyset
from .extensions import db
from .models import AuditEvent
from .tenancy import current_tenant
from .timeutil import utcnow

log = logging.getLogger("kanri.audit")
GENESIS = "0" * 64
SYSTEM_CHAIN = 0
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # C0, DEL, C1 (NEL), line separators
# Detail keys that would carry a secret; record() refuses them so no caller can leak one.
_SECRET_WORDS = ("password", "passwd", "secret", "token", "code_value", "otp", "reset_link", "pepper")


class AuditSecretError(ValueError):
    """A caller tried to put a secret into an audit record."""


def clean(value, limit: int = 300):
    """Escape control characters (log injection) and cap the length of a text value."""
    if value is None:
        return None
    text = str(value)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text[:limit]


def _clean_details(details: dict) -> dict:
    cleaned = {}
    for key, value in details.items():
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise AuditSecretError(f"audit detail {key!r} looks like a secret")
        if isinstance(value, dict):
            cleaned[key] = _clean_details(value)
        elif isinstance(value, (int, float, bool)) or value is None:
            cleaned[key] = value
        elif isinstance(value, (list, tuple)):
            cleaned[key] = [clean(v) for v in value]
        else:
            cleaned[key] = clean(value, 1000)
    return cleaned


def _chain_key() -> bytes:
    # Keyed with a key derived from the keyset (outside the database): someone who can write
    # the audit table cannot recompute a valid chain after editing it.
    return hmac.new(keyset().blind_index_key, b"kanri-audit-chain-v1", hashlib.sha256).digest()


def _digest(row: dict) -> str:
    fields = {k: row[k] for k in sorted(row) if k not in {"id", "hash"}}
    fields["occurred_at"] = row["occurred_at"].isoformat(timespec="microseconds")
    payload = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hmac.new(_chain_key(), payload.encode("utf-8"), hashlib.sha256).hexdigest()


def _request_facts() -> dict:
    if not has_request_context():
        return {"ip": None, "user_agent": "cli", "request_id": g.get("request_id")}
    return {
        "ip": clean(request.remote_addr, 64),
        "user_agent": clean(request.user_agent.string, 300),
        "request_id": g.get("request_id"),
    }


def _default_actor():
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user
    return None


def record(action: str, *, target=None, outcome: str = "success", tenant=None, actor=None,
           actor_login: str | None = None, **details) -> None:
    """Append an audit event for the current (or given) tenant; never pass secrets in details."""
    tenant = tenant if tenant is not None else current_tenant()
    actor = actor if actor is not None else _default_actor()
    chain_id = tenant.id if tenant is not None else SYSTEM_CHAIN
    table = AuditEvent.__table__
    row = {
        "tenant_id": tenant.id if tenant is not None else None,
        "chain_id": chain_id,
        "occurred_at": utcnow(),
        "actor_id": actor.id if actor is not None else None,
        "actor_login": clean(actor.login_id if actor is not None else actor_login, 64),
        "action": clean(action, 64),
        "outcome": clean(outcome, 16),
        "target": clean(target, 200),
        "details": json.dumps(_clean_details(details), ensure_ascii=False, sort_keys=True),
        **_request_facts(),
    }
    for _attempt in range(5):
        last = db.session.execute(
            sa.select(table.c.seq, table.c.hash).where(table.c.chain_id == chain_id)
            .order_by(table.c.seq.desc()).limit(1)
        ).first()
        row["seq"] = (last.seq + 1) if last else 1
        row["prev_hash"] = last.hash if last else GENESIS
        row["hash"] = _digest(row)
        try:
            with db.session.begin_nested():
                db.session.execute(sa.insert(table).values(**row))
            break
        except sa.exc.IntegrityError:
            continue  # another writer took this seq; read the new tail and chain after it
    else:
        raise RuntimeError(f"audit event {row['action']} could not be appended to chain {chain_id}")
    log.log(logging.INFO if has_request_context() else logging.DEBUG, json.dumps({"event": "audit", "tenant": chain_id, "action": row["action"],
                         "outcome": row["outcome"], "request_id": row["request_id"]}, ensure_ascii=False))


@dataclass
class BrokenLink:
    """The first audit row whose hash or chain link does not match."""

    chain_id: int
    seq: int
    event_id: int
    reason: str


def verify(chain_id: int | None = None) -> tuple[int, BrokenLink | None]:
    """Recompute the chain(s); return (rows checked, first broken link or None)."""
    table = AuditEvent.__table__
    query = sa.select(table).order_by(table.c.chain_id, table.c.seq)
    if chain_id is not None:
        query = query.where(table.c.chain_id == chain_id)
    checked = 0
    expected_prev, expected_seq, current_chain = GENESIS, 1, None
    for row in db.session.execute(query).mappings():
        if row["chain_id"] != current_chain:
            current_chain, expected_prev, expected_seq = row["chain_id"], GENESIS, 1
        data = dict(row)
        reason = None
        if row["seq"] != expected_seq:
            reason = f"expected seq {expected_seq}: a record is missing"
        elif row["prev_hash"] != expected_prev:
            reason = "prev_hash does not match the previous record"
        elif _digest(data) != row["hash"]:
            reason = "record content does not match its hash"
        if reason:
            return checked, BrokenLink(row["chain_id"], row["seq"], row["id"], reason)
        checked += 1
        expected_prev, expected_seq = row["hash"], expected_seq + 1
    return checked, None


# What a user sees of their own sign-ins on the ログイン履歴 page.
LOGIN_HISTORY_ACTIONS = ("login.success", "login.failure", "login.refused", "login.password_ok",
                         "login.pending_replayed", "login.pending_expired", "account.locked", "logout")
FAILURE_REASONS = {"bad_password": "パスワードの誤り", "locked": "ロック中", "tenant_suspended": "契約停止中",
                   "contract_ended": "契約終了", "user_suspended": "アカウント停止中",
                   "temporary_password_expired": "仮パスワードの期限切れ", "no_second_factor": "二要素認証なし",
                   "ip_restricted": "IPアドレス制限"}


def login_history(user, limit: int = 50) -> list[AuditEvent]:
    """The user's own newest sign-in events (success, failure, lockout, second factor), newest first."""
    return db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.chain_id == user.tenant_id, AuditEvent.actor_id == user.id,
                                    AuditEvent.action.in_(LOGIN_HISTORY_ACTIONS))
        .order_by(AuditEvent.seq.desc()).limit(limit)
    ).scalars().all()


def details_of(event: AuditEvent) -> dict:
    """The event's details as a dict (an unreadable value gives an empty dict)."""
    try:
        value = json.loads(event.details or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
