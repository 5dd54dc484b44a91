"""Recovery codes: ten single-use codes shown once, stored as keyed hashes, each use audited and mailed."""
from __future__ import annotations

import hmac
import re
import secrets
import unicodedata

import sqlalchemy as sa

from app import audit
from app.crypto import blind_index
from app.extensions import db
from app.mailer import send_mail
from app.timeutil import utcnow

from .models import RecoveryCode

COUNT = 10
LENGTH = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or typed from paper
_SHAPE = re.compile(rf"[{ALPHABET}]{{{LENGTH}}}")


def normalize(typed: str | None) -> str:
    """The typed code in lower case without spaces or hyphens (full-width characters made ASCII)."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", typed or "")).lower()


def looks_like_code(typed: str | None) -> bool:
    """True when the typed text has the shape of a recovery code."""
    return bool(_SHAPE.fullmatch(normalize(typed)))


def _hash(user, code: str) -> str:
    return blind_index(f"{user.id}|{code}", purpose="recovery-code", tenant_id=user.tenant_id)


def shown(code: str) -> str:
    """A code as printed for the user: two groups of five."""
    return f"{code[:5]}-{code[5:]}"


def regenerate(user, actor=None) -> list[str]:
    """Replace the user's recovery codes with ten new ones; returns them (shown once). Caller commits."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id)
                       .execution_options(synchronize_session=False))
    codes = ["".join(secrets.choice(ALPHABET) for _ in range(LENGTH)) for _ in range(COUNT)]
    now = utcnow()
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(user, code), created_at=now))
    audit.record("strong_factors.recovery_issued", actor=actor or user, target=f"user:{user.login_id}", count=COUNT)
    return [shown(code) for code in codes]


def remove_all(user) -> int:
    """Delete the user's recovery codes (no stronger factor left for them to stand in for)."""
    result = db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id)
                                .execution_options(synchronize_session=False))
    return result.rowcount


def left(user) -> int:
    """How many unused recovery codes the user has."""
    return db.session.execute(sa.select(sa.func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalar_one()


def use(user, typed: str) -> bool:
    """Spend one recovery code: True when it matched an unused one (marked used atomically, audited, mailed)."""
    if not looks_like_code(typed):
        return False
    wanted = _hash(user, normalize(typed))
    rows = db.session.execute(sa.select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalars().all()
    match = next((row for row in rows if hmac.compare_digest(row.code_hash, wanted)), None)
    if match is None:
        return False
    now = utcnow()
    won = db.session.execute(sa.update(RecoveryCode).where(RecoveryCode.id == match.id, RecoveryCode.used_at.is_(None))
                             .values(used_at=now).execution_options(synchronize_session=False)).rowcount == 1
    if not won:
        return False
    remaining = left(user)
    audit.record("strong_factors.recovery_used", actor=user, target=f"user:{user.login_id}", code_id=match.id,
                 remaining=remaining)
    if user.email:
        send_mail(user.email, "リカバリーコードが使用されました", "strong_factors/email/recovery_used", user=user,
                  tenant=user.tenant, used_at=now, remaining=remaining)
    return True
