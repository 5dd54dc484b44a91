"""修繕記録's tables: the repair records and each user's 暗証番号 (the second factor), and the PIN service."""
from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto import EncryptedText
from app.extensions import db
from app.models import User
from app.passwords import burn_equivalent_work, hash_password, verify_password
from app.tenancy import TenantScoped
from app.timeutil import UTCDateTime, utcnow

PIN_LENGTH = 6
MAX_PIN_FAILURES = 5


class RepairRecord(TenantScoped, db.Model):
    """One repair of a 管理組合's building; the contractor's contact person is personal data (encrypted)."""

    __tablename__ = "repairs_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    contractor: Mapped[str] = mapped_column(sa.String(100))
    contractor_kana: Mapped[str] = mapped_column(sa.String(100), default="")
    contact_name: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    contact_phone: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    cost: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def public_values(self) -> dict:
        """What the audit log may keep (no personal data)."""
        return {"title": self.title, "contractor": self.contractor, "cost": self.cost}


class RepairsPin(TenantScoped, db.Model):
    """A user's 暗証番号: only its bcrypt hash; locked after MAX_PIN_FAILURES wrong answers in a row."""

    __tablename__ = "repairs_pins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    pin_hash: Mapped[str] = mapped_column(sa.String(100))
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _pin_of(user: User) -> RepairsPin | None:
    return db.session.execute(sa.select(RepairsPin).where(RepairsPin.user_id == user.id)).scalar_one_or_none()


def issue_pin(user: User) -> str:
    """Give user a new random 暗証番号 (replacing and unlocking the old one); returns it once."""
    pin = "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))
    record = _pin_of(user) or RepairsPin(user_id=user.id)
    record.pin_hash, record.failures, record.issued_at = hash_password(pin), 0, utcnow()
    db.session.add(record)
    db.session.flush()
    return pin


def check_pin(user: User, pin: str) -> bool | None:
    """True when right, False when wrong (counted), None when the PIN is missing or locked (now or before)."""
    record = _pin_of(user)
    if record is None or record.failures >= MAX_PIN_FAILURES:
        burn_equivalent_work(pin)
        return None
    if verify_password(pin, record.pin_hash):
        record.failures = 0
        return True
    record.failures += 1
    return False if record.failures < MAX_PIN_FAILURES else None
