"""Tables of the IP address restriction: the tenant's setting, its allowed networks and the 15-minute undo records."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenancy import TenantScoped
from app.timeutil import UTCDateTime, utcnow

SCOPE_OFF = "off"
SCOPE_ALL = "all"
SCOPE_ADMINS = "admins"
SCOPE_WEAK = "weak"
SCOPE_LABELS = {
    SCOPE_OFF: "制限しない",
    SCOPE_ALL: "全員",
    SCOPE_ADMINS: "管理者のみ",
    SCOPE_WEAK: "登録済み端末などの強い認証手段がないユーザー",
}


class IpRestriction(TenantScoped, db.Model):
    """A tenant's IP address restriction: whom it applies to (scope); one row per tenant."""

    __tablename__ = "ip_restrictions"
    __table_args__ = (sa.UniqueConstraint("tenant_id", name="uq_ip_restrictions_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(16), default=SCOPE_OFF)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)


class IpAllowEntry(TenantScoped, db.Model):
    """One allowed IPv4/IPv6 address or CIDR range (normalised) with an optional memo."""

    __tablename__ = "ip_allow_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(sa.String(64))
    note: Mapped[str] = mapped_column(sa.String(100), default="")


class IpRestrictionUndo(TenantScoped, db.Model):
    """The settings before one change, restorable for 15 minutes, once, by button or by the mailed link."""

    __tablename__ = "ip_restriction_undos"
    __export_exclude__ = True  # short-lived, and the link token's hash

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    previous_scope: Mapped[str] = mapped_column(sa.String(16))
    previous_entries: Mapped[str] = mapped_column(sa.Text)  # JSON: [[network, note], ...]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    used_reason: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
