"""重調@CITY: 住戸 (the units of a building, with their fees and the seller's arrears) and pending CSV imports."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto import EncryptedText
from app.extensions import db
from app.searchtext import Searchable
from app.tenancy import TenantScoped
from app.timeutil import UTCDateTime, utcnow

PAYMENT_METHODS = {"debit": "口座振替", "transfer": "振込", "other": "その他"}
# The seller's arrears: personal data, encrypted at rest, shown only to 管理者 and in a report with consent.
PERSONAL_FIELDS = ("arrears_management", "arrears_reserve", "arrears_usage", "late_charge")


class JuchoUnit(TenantScoped, Searchable, db.Model):
    """住戸: one unit of a building (住戸番号 unique per building), its monthly fees and, encrypted, its arrears."""

    __tablename__ = "jucho_units"
    __search_fields__ = ("number", "layout")
    __table_args__ = (
        sa.UniqueConstraint("building_id", "number", name="uq_jucho_units_building_number"),
        sa.Index("ix_jucho_units_tenant_building", "tenant_id", "building_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("jucho_buildings.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(sa.String(20))
    floor: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    area: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2), nullable=True)
    layout: Mapped[str] = mapped_column(sa.String(20), default="")
    management_fee: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    repair_reserve: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    repair_lump_sum: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    usage_fee: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    usage_fee_detail: Mapped[str] = mapped_column(sa.String(200), default="")
    community_fee: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    payment_method: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    # Whole yen as text, encrypted (NULL = 未入力); read them through ``arrears`` for numbers.
    arrears_management: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    arrears_reserve: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    arrears_usage: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    late_charge: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def payment_method_label(self) -> str:
        """Japanese label of the payment method ('' when unknown)."""
        return PAYMENT_METHODS.get(self.payment_method or "", "")

    def arrears(self, name: str) -> int | None:
        """One personal amount (滞納額 or 遅延損害金) in yen, None when not entered."""
        value = getattr(self, name)
        return int(value) if value not in (None, "") else None


class JuchoUnitImport(TenantScoped, db.Model):
    """A checked but not yet applied 住戸 CSV upload: bound to its user and building, expires, applied once.

    The parsed rows (which may hold arrears) are stored encrypted; nothing of the upload is in the cookie."""

    __tablename__ = "jucho_unit_imports"
    __export_exclude__ = True  # short-lived work data: the units themselves are exported

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("jucho_buildings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200), default="")
    payload: Mapped[str] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
