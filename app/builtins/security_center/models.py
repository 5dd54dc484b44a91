"""Tables of the tenant security settings: one policy row per tenant and each user's password history."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.extensions import db
from app.models import Tenant
from app.tenancy import TenantScoped
from app.timeutil import UTCDateTime, utcnow


class TenantSecurityPolicy(db.Model):
    """A tenant's own password and session rules; absent means the baseline's.

    Keyed by the tenant like the tenant row itself (not TenantScoped): the session loader reads it through
    ``Tenant.security_policy``, a joined relationship, so it arrives with the tenant and costs no query.
    That join is a LEFT OUTER JOIN: lock a Tenant entity with ``with_for_update(of=Tenant)`` (PostgreSQL refuses
    FOR UPDATE on the nullable side of an outer join), or lock ``select(Tenant.id)`` as the core does.
    """

    __tablename__ = "tenant_security_policies"

    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    password_min_length: Mapped[int] = mapped_column(sa.Integer)
    password_history: Mapped[int] = mapped_column(sa.Integer)
    idle_timeout_minutes: Mapped[int] = mapped_column(sa.Integer)
    absolute_timeout_hours: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tenant: Mapped[Tenant] = relationship(
        backref=backref("security_policy", uselist=False, lazy="joined", passive_deletes=True))


class PasswordHistory(TenantScoped, db.Model):
    """The bcrypt hash of a password a user set (newest rows kept, as many as the tenant's policy asks)."""

    __tablename__ = "password_history"
    __export_exclude__ = True  # password hashes never leave
    __table_args__ = (sa.Index("ix_password_history_user_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    password_hash: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
