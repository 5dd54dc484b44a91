"""MAMA's tables: registered devices, registration codes, permission sets, user settings, associations."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.crypto import EncryptedText
from app.extensions import db
from app.models import User
from app.searchtext import Searchable
from app.softdelete import SoftDeletable
from app.tenancy import TenantScoped
from app.timeutil import UTCDateTime, utcnow

DEVICE_PENDING = "pending"
DEVICE_APPROVED = "approved"
DEVICE_REJECTED = "rejected"
DEVICE_REVOKED = "revoked"
DEVICE_STATUS_LABELS = {
    DEVICE_PENDING: "承認待ち",
    DEVICE_APPROVED: "承認済み",
    DEVICE_REJECTED: "拒否",
    DEVICE_REVOKED: "無効化",
}


class MamaDevice(TenantScoped, db.Model):
    """A browser registered for one user; only the sha256 of its cookie token is stored."""

    __tablename__ = "mama_devices"
    __table_args__ = (sa.Index("ix_mama_devices_tenant_status", "tenant_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=DEVICE_PENDING)
    name: Mapped[str] = mapped_column(sa.String(100))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)
    requested_ip: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    via: Mapped[str] = mapped_column(sa.String(16), default="request")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_ip: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The 申請状況 page: sha256 of a random token held in an HttpOnly cookie of the requesting browser.
    status_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True, nullable=True)
    status_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def status_label(self) -> str:
        """Japanese label of the state."""
        return DEVICE_STATUS_LABELS.get(self.status, self.status)


class MamaRegistrationCode(TenantScoped, db.Model):
    """A one-time device registration code an admin issued; stored only as a keyed hash."""

    __tablename__ = "mama_registration_codes"
    __export_exclude__ = True  # secrets or short-lived: never in a tenant export

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    issued_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MamaPermissionSet(TenantScoped, db.Model):
    """A named permission set (メニュー権限) for users of one role: one level per menu in its grants."""

    __tablename__ = "mama_permission_sets"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    grants: Mapped[list[MamaPermissionGrant]] = relationship(
        back_populates="permission_set", cascade="all, delete-orphan", lazy="selectin")

    @property
    def levels(self) -> dict[str, str]:
        """menu id → the highest level granted (view / edit / delete)."""
        return {grant.menu_id: grant.level for grant in self.grants}

    @levels.setter
    def levels(self, values: dict[str, str]) -> None:
        current = {grant.menu_id: grant for grant in self.grants}
        for menu_id, grant in current.items():
            if menu_id not in values:
                self.grants.remove(grant)
        for menu_id, level in values.items():
            if menu_id in current:
                current[menu_id].level = level
            else:
                self.grants.append(MamaPermissionGrant(menu_id=menu_id, level=level))


class MamaPermissionGrant(TenantScoped, db.Model):
    """One menu of a permission set and its level: view (閲覧) < edit (編集) < delete (削除)."""

    __tablename__ = "mama_permission_grants"
    __table_args__ = (sa.UniqueConstraint("permission_set_id", "menu_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    permission_set_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mama_permission_sets.id", ondelete="CASCADE"), index=True)
    menu_id: Mapped[str] = mapped_column(sa.String(100))
    level: Mapped[str] = mapped_column(sa.String(16))

    permission_set: Mapped[MamaPermissionSet] = relationship(back_populates="grants")


class MamaUserSettings(TenantScoped, db.Model):
    """MAMA's per-user settings: the permission set and the association scope."""

    __tablename__ = "mama_user_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    permission_set_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("mama_permission_sets.id", ondelete="SET NULL"), index=True, nullable=True)
    scope_all: Mapped[bool] = mapped_column(default=False)

    permission_set: Mapped[MamaPermissionSet | None] = relationship(lazy="joined")


class MamaAssociation(TenantScoped, SoftDeletable, Searchable, db.Model):
    """A 管理組合 (homeowners' association); the contact person's fields are encrypted. Deleted ones wait in
    削除済み for 30 days (``app.softdelete``)."""

    __tablename__ = "mama_associations"
    # Searched: code, names, postcode and the address (plain columns, public facts about a building). The contact
    # person's name, phone and e-mail are encrypted personal data and stay out of the clear-text search_text.
    __search_fields__ = ("code", "name", "name_kana", "postal_code", ("prefecture", "city", "address_line"),
                         "building_name")
    __table_args__ = (
        # A code is unique among live associations only: a deleted one keeps its code for 30 days without
        # blocking a new record, and restoring it is refused while a live one holds the code.
        sa.Index("uq_mama_associations_tenant_live_code", "tenant_id", "code", unique=True,
                 sqlite_where=sa.text("deleted_at IS NULL"), postgresql_where=sa.text("deleted_at IS NULL")),
        sa.Index("ix_mama_associations_tenant_name", "tenant_id", "name", "id"),
        sa.Index("ix_mama_associations_tenant_kana", "tenant_id", "name_kana", "id"),
        sa.Index("ix_mama_associations_tenant_area", "tenant_id", "prefecture", "city", "id"),
        sa.Index("ix_mama_associations_tenant_units", "tenant_id", "units", "id"),
        sa.Index("ix_mama_associations_tenant_year", "tenant_id", "building_year", "id"),
        sa.Index("ix_mama_associations_tenant_updated", "tenant_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(200))
    name_kana: Mapped[str] = mapped_column(sa.String(200))
    postal_code: Mapped[str] = mapped_column(sa.String(8))
    prefecture: Mapped[str] = mapped_column(sa.String(8))
    city: Mapped[str] = mapped_column(sa.String(100))
    address_line: Mapped[str] = mapped_column(sa.String(200))
    building_name: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    units: Mapped[int] = mapped_column(sa.Integer)
    building_year: Mapped[int] = mapped_column(sa.Integer)
    fiscal_start_month: Mapped[int] = mapped_column(sa.Integer)
    contact_name: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    contact_phone: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    notes: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def address(self) -> str:
        """The full address on one line."""
        return f"{self.prefecture}{self.city}{self.address_line}" + (f" {self.building_name}" if self.building_name else "")


class MamaUserAssociation(TenantScoped, db.Model):
    """One association a user with a limited scope (物件参照権限) may see."""

    __tablename__ = "mama_user_associations"
    __table_args__ = (sa.UniqueConstraint("user_id", "association_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    association_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mama_associations.id", ondelete="CASCADE"), index=True)


RESET_OPEN = "open"
RESET_DONE = "done"
RESET_REJECTED = "rejected"
RESET_STATUS_LABELS = {RESET_OPEN: "未対応", RESET_DONE: "対応済み", RESET_REJECTED: "却下"}


class MamaResetRequest(TenantScoped, db.Model):
    """A user's request that an admin reset their password (MAMA has no self-service reset)."""

    __tablename__ = "mama_reset_requests"
    __table_args__ = (sa.Index("ix_mama_reset_requests_tenant_status", "tenant_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=RESET_OPEN)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_ip: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def status_label(self) -> str:
        """Japanese label of the state."""
        return RESET_STATUS_LABELS.get(self.status, self.status)

