"""重調@CITY tables: e-mailed login codes, 管理組合 (associations) and 物件 (buildings)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.address import split_address
from app.crypto import EncryptedText
from app.extensions import db
from app.searchtext import Searchable
from app.softdelete import SoftDeletable
from app.tenancy import TenantScoped
from app.timeutil import UTCDateTime, utcnow

STRUCTURES = {"RC": "RC造（鉄筋コンクリート造）", "SRC": "SRC造（鉄骨鉄筋コンクリート造）", "S": "S造（鉄骨造）",
              "W": "木造", "OTHER": "その他"}
MANAGEMENT_FORMS = {"full": "全部委託", "partial": "一部委託", "self": "自主管理"}
FEE_BASES = {"unit": "1戸あたり（円/月）", "sqm": "1㎡あたり（円/月）"}


class JuchoLoginCode(TenantScoped, db.Model):
    """One e-mailed login code, bound to a user's pending login; only its keyed hash is stored."""

    __tablename__ = "jucho_login_codes"
    __export_exclude__ = True  # secrets or short-lived: never in a tenant export
    __table_args__ = (sa.Index("ix_jucho_login_codes_user_nonce", "user_id", "nonce_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    nonce_hash: Mapped[str] = mapped_column(sa.String(64))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    void_reason: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)


class JuchoAssociation(TenantScoped, SoftDeletable, Searchable, db.Model):
    """管理組合: the owners' association whose building(s) a 重要事項調査報告書 describes (deleted ones wait in
    削除済み for 30 days)."""

    __tablename__ = "jucho_associations"
    # Searched: the name and its kana. The contact person's fields are encrypted personal data and never go
    # into the clear-text search_text.
    __search_fields__ = ("name", "kana")
    __table_args__ = (
        sa.Index("ix_jucho_associations_tenant_name", "tenant_id", "name", "id"),
        sa.Index("ix_jucho_associations_tenant_kana", "tenant_id", "kana", "id"),
        sa.Index("ix_jucho_associations_tenant_updated", "tenant_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kana: Mapped[str] = mapped_column(sa.String(200), default="")
    management_form: Mapped[str] = mapped_column(sa.String(16))
    contact_person: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    contact_phone: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    buildings: Mapped[list[JuchoBuilding]] = relationship(back_populates="association", passive_deletes=True)

    @property
    def management_form_label(self) -> str:
        """Japanese label of the management form."""
        return MANAGEMENT_FORMS.get(self.management_form, self.management_form)


class JuchoBuilding(TenantScoped, SoftDeletable, Searchable, db.Model):
    """物件: a building of one 管理組合, with the facts a 重要事項調査報告書 draws on (deleted ones wait in
    削除済み for 30 days)."""

    __tablename__ = "jucho_buildings"
    # Searched: name, kana, postcode and the address (plain columns: where a building stands is not personal data);
    # the address parts are one piece, so 「新宿区西新宿」 typed across them is found.
    __search_fields__ = ("name", "kana", "postal_code", ("prefecture", "city", "address_line"), "building_name")
    __table_args__ = (
        sa.Index("ix_jucho_buildings_tenant_name", "tenant_id", "name", "id"),
        sa.Index("ix_jucho_buildings_tenant_kana", "tenant_id", "kana", "id"),
        sa.Index("ix_jucho_buildings_tenant_completed", "tenant_id", "completion_date", "id"),
        sa.Index("ix_jucho_buildings_tenant_units", "tenant_id", "total_units", "id"),
        sa.Index("ix_jucho_buildings_tenant_updated", "tenant_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(sa.ForeignKey("jucho_associations.id", ondelete="RESTRICT"),
                                                index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kana: Mapped[str] = mapped_column(sa.String(200), default="")
    # The address in MAMA's five parts (app.address); rows from before the split keep an unsplittable address in
    # address_line, hence its 300 characters.
    postal_code: Mapped[str] = mapped_column(sa.String(8), default="")
    prefecture: Mapped[str] = mapped_column(sa.String(8), default="")
    city: Mapped[str] = mapped_column(sa.String(100), default="")
    address_line: Mapped[str] = mapped_column(sa.String(300), default="")
    building_name: Mapped[str] = mapped_column(sa.String(200), default="")
    structure: Mapped[str] = mapped_column(sa.String(16))
    floors_above: Mapped[int] = mapped_column(sa.Integer)
    floors_below: Mapped[int] = mapped_column(sa.Integer, default=0)
    total_units: Mapped[int] = mapped_column(sa.Integer)
    completion_date: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    management_fee_basis: Mapped[str] = mapped_column(sa.String(8))
    management_fee: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    repair_reserve_basis: Mapped[str] = mapped_column(sa.String(8))
    repair_reserve: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    parking_fee: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    other_fees: Mapped[str] = mapped_column(sa.Text, default="")
    planned_repair_year: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    planned_repair: Mapped[str] = mapped_column(sa.Text, default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    association: Mapped[JuchoAssociation] = relationship(back_populates="buildings")

    @property
    def address(self) -> str:
        """The full address on one line (without the postcode), as MAMA's 管理組合 shows it."""
        line = f"{self.prefecture or ''}{self.city or ''}{self.address_line or ''}"
        return f"{line} {self.building_name}" if self.building_name else line

    @address.setter
    def address(self, text: str) -> None:
        """Set the parts from an address typed on one line (app.address.split_address; no postcode)."""
        parts = split_address(text)
        self.prefecture, self.city, self.address_line = parts.prefecture, parts.city, parts.address_line

    @property
    def structure_label(self) -> str:
        """Japanese label of the structure."""
        return STRUCTURES.get(self.structure, self.structure)

    @staticmethod
    def basis_label(basis: str) -> str:
        """Japanese label of a fee basis."""
        return FEE_BASES.get(basis, basis)


# The 別表第5 profile, 住戸 and their imports live in their own modules; import them so the mapper knows them.
from . import models_profile, models_units  # noqa: E402,F401
