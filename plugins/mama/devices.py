"""Registered devices (端末認証): cookie tokens, registration codes, requests, approval and revocation."""
from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, request

from app import audit
from app.crypto import blind_index
from app.display import browser_label
from app.extensions import db
from app.models import User
from app.queryargs import cookie_tokens, token_length, token_shaped
from app.timeutil import utcnow

from .models import (
    DEVICE_APPROVED,
    DEVICE_PENDING,
    DEVICE_REJECTED,
    DEVICE_REVOKED,
    MamaDevice,
    MamaRegistrationCode,
)

TOKEN_BYTES = 32  # 256 bits
TOKEN_LENGTH = token_length(TOKEN_BYTES)  # secrets.token_urlsafe(TOKEN_BYTES): 43 base64url characters
COOKIE_DAYS = 400  # browsers cap cookie lifetime at 400 days
COOKIE_NAME = "kanri-mama-device"
MAX_TOKENS_PER_BROWSER = 5  # one browser may carry the devices of a few users
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a screen and typed
CODE_LENGTH = 12
CODE_HOURS = 24
MAX_PENDING_PER_USER = 3  # more open requests only flood the admins' mailboxes


def hash_token(token: str) -> str:
    """Return the stored (sha256) form of a device token (ValueError for anything not shaped like one)."""
    if token_shaped(token, length=TOKEN_LENGTH) is None:
        raise ValueError("not a device token")
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def cookie_name() -> str:
    """The device cookie's name; '__Host-' prefixed when cookies are Secure."""
    secure = current_app.config.get("SESSION_COOKIE_SECURE")
    return f"__Host-{COOKIE_NAME}" if secure else COOKIE_NAME


def browser_tokens() -> list[str]:
    """The device tokens this browser carries (newest first); anything not shaped like a token is ignored."""
    return cookie_tokens(cookie_name(), separator=".", limit=MAX_TOKENS_PER_BROWSER, length=TOKEN_LENGTH)


def device_of_browser(user: User) -> MamaDevice | None:
    """The user's device this browser holds a token for, approved ones first."""
    hashes = [hash_token(token) for token in browser_tokens()]
    if not hashes:
        return None
    devices = db.session.execute(
        sa.select(MamaDevice).where(MamaDevice.token_hash.in_(hashes), MamaDevice.user_id == user.id)
    ).scalars().all()
    devices.sort(key=lambda device: (device.status != DEVICE_APPROVED, -device.id))
    return devices[0] if devices else None


def token_for(device: MamaDevice) -> str | None:
    """The browser's token that belongs to device."""
    return next((token for token in browser_tokens() if hash_token(token) == device.token_hash), None)


def set_device_cookie(response, token: str) -> None:
    """Put token first in the browser's device cookie (HttpOnly, SameSite=Lax, Secure per config, 400 days)."""
    others = [t for t in browser_tokens() if t != token]
    value = ".".join([token, *others][:MAX_TOKENS_PER_BROWSER])
    response.set_cookie(
        cookie_name(), value, max_age=int(timedelta(days=COOKIE_DAYS).total_seconds()), path="/",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), httponly=True, samesite="Lax",
    )


def _client_ip() -> str | None:
    return audit.clean(request.remote_addr, 64)


def _new_device(user: User, status: str, name: str | None, via: str) -> tuple[MamaDevice, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    agent = request.user_agent.string
    now = utcnow()
    device = MamaDevice(
        user_id=user.id, token_hash=hash_token(token), status=status,
        name=(name or "").strip()[:100] or browser_label(agent), user_agent=audit.clean(agent, 300),
        requested_ip=_client_ip(), requested_at=now, via=via,
        expires_at=now + timedelta(days=COOKIE_DAYS),
    )
    if status == DEVICE_APPROVED:
        device.decided_at = now
        device.decided_by = user.login_id
    db.session.add(device)
    db.session.flush()
    return device, token


def is_usable(device: MamaDevice | None) -> bool:
    """True for an approved device whose lifetime has not run out."""
    return device is not None and device.status == DEVICE_APPROVED and device.expires_at > utcnow()


def has_approved_device(user: User) -> bool:
    """True when the user has at least one approved device whose lifetime has not run out."""
    return db.session.execute(
        sa.select(MamaDevice.id).where(MamaDevice.user_id == user.id, MamaDevice.status == DEVICE_APPROVED,
                                       MamaDevice.expires_at > utcnow()).limit(1)).first() is not None


def mark_used(device: MamaDevice) -> None:
    """Record a login from device and extend its lifetime (the cookie is refreshed with it)."""
    now = utcnow()
    device.last_used_at = now
    device.last_ip = _client_ip()
    device.expires_at = now + timedelta(days=COOKIE_DAYS)


def request_device(user: User, name: str | None) -> tuple[MamaDevice, str]:
    """Create a pending device for user from this browser; returns it and the cookie token."""
    device, token = _new_device(user, DEVICE_PENDING, name, via="request")
    audit.record("device.request", actor=user, target=f"user:{user.login_id}", device_id=device.id,
                 device_name=device.name)
    return device, token


def normalize_code(value: str) -> str:
    """Upper-case a typed code and drop spaces and hyphens (full-width input allowed)."""
    text = unicodedata.normalize("NFKC", value or "").upper()
    return "".join(ch for ch in text if ch.isalnum())


def _code_hash(code: str, tenant_id: int) -> str:
    return blind_index(normalize_code(code), purpose="mama-registration-code", tenant_id=tenant_id)


def format_code(code: str) -> str:
    """Show a code in groups of four: ABCD-EFGH-JKLM."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def issue_code(user: User, actor_login: str | None) -> str:
    """Issue a one-time registration code for user (24 h); older unused codes are voided. Returns it once."""
    now = utcnow()
    for old in db.session.execute(sa.select(MamaRegistrationCode).where(
            MamaRegistrationCode.user_id == user.id, MamaRegistrationCode.used_at.is_(None),
            MamaRegistrationCode.voided_at.is_(None))).scalars():
        old.voided_at = now
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    db.session.add(MamaRegistrationCode(user_id=user.id, code_hash=_code_hash(code, user.tenant_id),
                                    issued_by=actor_login, created_at=now,
                                    expires_at=now + timedelta(hours=CODE_HOURS)))
    db.session.flush()
    audit.record("device.code_issue", target=f"user:{user.login_id}", actor_login=actor_login,
                 tenant=user.tenant, valid_hours=CODE_HOURS)
    return format_code(code)


def redeem_code(user: User, code: str) -> tuple[MamaDevice, str] | None:
    """Register and approve this browser for user with a valid code; None (audited) when it is not."""
    normalized = normalize_code(code)
    record = None
    if len(normalized) == CODE_LENGTH:
        record = db.session.execute(sa.select(MamaRegistrationCode).where(
            MamaRegistrationCode.code_hash == _code_hash(normalized, user.tenant_id))).scalar_one_or_none()
    now = utcnow()
    reason = None
    if record is None or record.user_id != user.id:
        reason = "unknown_code"
    elif record.used_at is not None:
        reason = "code_used"
    elif record.voided_at is not None:
        reason = "code_voided"
    elif record.expires_at <= now:
        reason = "code_expired"
    if reason:
        audit.record("device.code_redeem", outcome="failure", actor=user, target=f"user:{user.login_id}",
                     reason=reason)
        return None
    # Claim the code in one conditional UPDATE: of two requests racing with the same code only one wins.
    claimed = db.session.execute(
        sa.update(MamaRegistrationCode).where(MamaRegistrationCode.id == record.id, MamaRegistrationCode.used_at.is_(None),
                                          MamaRegistrationCode.voided_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        audit.record("device.code_redeem", outcome="failure", actor=user, target=f"user:{user.login_id}",
                     reason="code_used")
        return None
    device, token = _new_device(user, DEVICE_APPROVED, None, via="code")
    audit.record("device.code_redeem", actor=user, target=f"user:{user.login_id}", device_id=device.id,
                 device_name=device.name)
    return device, token


def decide(device: MamaDevice, approve: bool, actor: User) -> bool:
    """Approve or reject a pending device; False when it is no longer pending."""
    if device.status != DEVICE_PENDING:
        return False
    before = device.status
    device.status = DEVICE_APPROVED if approve else DEVICE_REJECTED
    device.decided_at = utcnow()
    device.decided_by = actor.login_id
    audit.record("device.approve" if approve else "device.reject", actor=actor,
                 target=f"device:{device.id}", user=device.user.login_id,
                 before={"status": before}, after={"status": device.status})
    return True


def revoke(device: MamaDevice, actor: User) -> bool:
    """Revoke one device (approved or pending); False when it was already closed."""
    if device.status in (DEVICE_REVOKED, DEVICE_REJECTED):
        return False
    before = device.status
    device.status = DEVICE_REVOKED
    device.decided_at = utcnow()
    device.decided_by = actor.login_id
    audit.record("device.revoke", actor=actor, target=f"device:{device.id}", user=device.user.login_id,
                 before={"status": before}, after={"status": DEVICE_REVOKED})
    return True


def revoke_all(user: User, actor: User | None, reason: str) -> int:
    """Revoke every open device of user; returns how many."""
    now = utcnow()
    count = 0
    for device in db.session.execute(sa.select(MamaDevice).where(
            MamaDevice.user_id == user.id, MamaDevice.status.in_((DEVICE_APPROVED, DEVICE_PENDING)))).scalars():
        device.status = DEVICE_REVOKED
        device.decided_at = now
        device.decided_by = actor.login_id if actor else None
        count += 1
    audit.record("device.revoke_all", actor=actor, target=f"user:{user.login_id}", count=count, reason=reason)
    return count


def devices_of(user: User) -> list[MamaDevice]:
    """The user's devices, newest first."""
    return list(db.session.execute(
        sa.select(MamaDevice).where(MamaDevice.user_id == user.id).order_by(MamaDevice.requested_at.desc(), MamaDevice.id.desc())
    ).scalars())


def pending_count(user: User) -> int:
    """How many registration requests of user wait for an admin."""
    return db.session.execute(sa.select(sa.func.count()).select_from(MamaDevice).where(
        MamaDevice.user_id == user.id, MamaDevice.status == DEVICE_PENDING)).scalar_one()


def pending_devices_query():
    """A select of the tenant's devices waiting for approval, to count."""
    return sa.select(MamaDevice.id).where(MamaDevice.status == DEVICE_PENDING)


def pending_devices() -> list[MamaDevice]:
    """The tenant's approval queue, oldest first."""
    return list(db.session.execute(
        sa.select(MamaDevice).where(MamaDevice.status == DEVICE_PENDING).order_by(MamaDevice.requested_at, MamaDevice.id)
    ).scalars())


def delete_user_rows(user: User) -> None:
    """Delete a user's devices and codes (before the user row goes)."""
    db.session.execute(sa.delete(MamaDevice).where(MamaDevice.user_id == user.id))
    db.session.execute(sa.delete(MamaRegistrationCode).where(MamaRegistrationCode.user_id == user.id))


DEVICES_USABLE = "登録端末（利用可）"
DEVICES_WAITING = "登録端末（承認待ち）"


def device_counts(user_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per user: approved, unexpired devices and requests waiting for approval (one grouped query)."""
    now = utcnow()
    usable = sa.and_(MamaDevice.status == DEVICE_APPROVED, MamaDevice.expires_at > now)
    rows = db.session.execute(
        sa.select(MamaDevice.user_id, sa.func.count().filter(usable),
                  sa.func.count().filter(MamaDevice.status == DEVICE_PENDING))
        .where(MamaDevice.user_id.in_(user_ids)).group_by(MamaDevice.user_id)).all() if user_ids else []
    counts = {user_id: {DEVICES_USABLE: 0, DEVICES_WAITING: 0} for user_id in user_ids}
    for user_id, approved, pending in rows:
        counts[user_id] = {DEVICES_USABLE: approved, DEVICES_WAITING: pending}
    return counts
