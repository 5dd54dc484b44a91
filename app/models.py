"""Core tables: tenants, users, server-side sessions and the audit log."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .crypto import EncryptedText
from .extensions import db
from .tenancy import TenantScoped
from .timeutil import UTCDateTime, jst_today, utcnow

ROLE_GENERAL = "general"
ROLE_ADMIN = "admin"
ROLE_LABELS = {ROLE_GENERAL: "一般", ROLE_ADMIN: "管理者"}
STATUS_ACTIVE = "active"
STATUS_SUSPENDED = "suspended"
STATUS_PURGED = "purged"  # a tenant's tombstone: its rows were deleted after the contract ended
STATUS_LABELS = {STATUS_ACTIVE: "有効", STATUS_SUSPENDED: "停止"}


class Tenant(db.Model):
    """One customer company under one contract for one product."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    product: Mapped[str] = mapped_column(sa.String(32))
    contract_start: Mapped[date] = mapped_column(sa.Date)
    contract_end: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16), default=STATUS_ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the contract-end purge deleted every row of the tenant; the row stays as a tombstone
    # (code, product, dates) so the code is never reused.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Bumped on every change of the tenant's IP address restriction (0: never configured): each process keeps the
    # parsed allow list per tenant and re-reads it only when this number, loaded with the tenant anyway, moves.
    ip_rules_version: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # True while the tenant's factor policy makes someone register a stronger factor (both required, or admins
    # required): read from the tenant row every request already loads, so other tenants pay no query for it.
    strong_factor_gate: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())

    @classmethod
    def by_code(cls, code: str | None) -> Tenant | None:
        """The tenant with this company code (case and surrounding spaces ignored), or None."""
        normalized = (code or "").strip().lower()
        return db.session.execute(sa.select(cls).where(cls.code == normalized)).scalar_one_or_none()

    @property
    def contract_over(self) -> bool:
        """True once the JST contract end date has passed."""
        return jst_today() > self.contract_end

    @property
    def can_log_in(self) -> bool:
        """True when the tenant is active and within its contract."""
        return self.status == STATUS_ACTIVE and not self.contract_over


class User(TenantScoped, UserMixin, db.Model):
    """A person who logs in to one tenant."""

    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "login_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    login_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(EncryptedText())
    email: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    email_bidx: Mapped[str | None] = mapped_column(sa.String(64), index=True, nullable=True)
    role: Mapped[str] = mapped_column(sa.String(16), default=ROLE_GENERAL)
    status: Mapped[str] = mapped_column(sa.String(16), default=STATUS_ACTIVE)
    password_hash: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    temp_password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tenant: Mapped[Tenant] = relationship(lazy="joined")
    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Set per request by the session loader; Flask-Login stores it as the alternative id.
    session_token = None
    current_session = None

    def get_id(self) -> str | None:
        """Return the server-side session token Flask-Login keeps in the cookie."""
        return self.session_token

    @property
    def is_admin(self) -> bool:
        """True for the 管理者 role."""
        return self.role == ROLE_ADMIN

    @property
    def is_active(self) -> bool:
        """Suspended users are not active for Flask-Login."""
        return self.status == STATUS_ACTIVE

    @property
    def role_label(self) -> str:
        """Japanese label of the role."""
        return ROLE_LABELS.get(self.role, self.role)

    def is_locked(self, now: datetime | None = None) -> bool:
        """True while a lockout is in force."""
        return self.locked_until is not None and self.locked_until > (now or utcnow())


class UserSession(TenantScoped, db.Model):
    """A server-side login session; only the hash of its random id is stored."""

    __tablename__ = "user_sessions"
    __export_exclude__ = True  # secrets or short-lived: never in a tenant export

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    ip: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)
    # The stronger factor (e.g. "passkey", "totp") this session's login passed, if any, and which credential of it
    # (a passkey's id): removing that credential ends the session.
    stronger_factor: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    stronger_credential_id: Mapped[int | None] = mapped_column(nullable=True)
    # The user's login before this one, copied from the audit log when the session opens (ホーム's 前回ログイン).
    # False on sessions older than the columns: ホーム then reads the audit log itself.
    previous_login_read: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    previous_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    previous_login_ip: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    previous_login_agent: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)

    user: Mapped[User] = relationship(back_populates="sessions")

    @property
    def is_open(self) -> bool:
        """True until the session is ended (idle or absolute expiry is checked separately)."""
        return self.ended_at is None


# The predicate of app.operator.operator_event_clause, word for word: queries for operator events alone
# (the 操作ログ filter 「運用担当者による操作のみ」) page on this small partial (chain_id, seq) index.
OPERATOR_EVENTS_PREDICATE = "actor_id IS NULL AND (actor_login = 'operator' OR actor_login LIKE 'operator:%')"


class AuditEvent(TenantScoped, db.Model):
    """One append-only audit record, hash-chained per tenant (chain 0 holds system events)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.UniqueConstraint("chain_id", "seq"),
        sa.Index("ix_audit_events_operator", "chain_id", "seq",
                 postgresql_where=sa.text(OPERATOR_EVENTS_PREDICATE), sqlite_where=sa.text(OPERATOR_EVENTS_PREDICATE)),
        # A user's own events by kind, newest first: 前回ログイン on the dashboard and ログイン履歴 seek here instead of
        # walking the tenant's whole chain (the bench showed the dashboard at 0.3 % of bare Flask at 1,000,000 events).
        sa.Index("ix_audit_events_actor_action", "chain_id", "actor_id", "action", "seq"),
        # One record's history (a 依頼's page lists every event whose target is request:<id>).
        sa.Index("ix_audit_events_target", "chain_id", "target", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nullable: failed logins for an unknown company belong to no tenant. No foreign key,
    # so the log outlives users; purge removes a tenant's chain explicitly.
    tenant_id: Mapped[int | None] = mapped_column(sa.Integer, index=True, nullable=True)
    chain_id: Mapped[int] = mapped_column(sa.Integer)
    seq: Mapped[int] = mapped_column(sa.Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    actor_login: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    outcome: Mapped[str] = mapped_column(sa.String(16), default="success")
    target: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    details: Mapped[str] = mapped_column(sa.Text, default="{}")
    ip: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)
    request_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))


class PendingLoginRecord(TenantScoped, db.Model):
    """A login whose password was right and whose second factor is still open: used at most once.

    The browser's session carries only the row id and a random nonce; the row stores the nonce's
    SHA-256. ``consumed_at`` is set exactly once (login completed, abandoned by the factor) by a
    conditional UPDATE, so a copied cookie or two concurrent completions cannot log in twice.
    """

    __tablename__ = "pending_logins"
    __export_exclude__ = True  # secrets or short-lived: never in a tenant export
    __table_args__ = (sa.Index("ix_pending_logins_user_expires", "user_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    nonce_hash: Mapped[str] = mapped_column(sa.String(64))
    factor: Mapped[str] = mapped_column(sa.String(64))
    next_url: Mapped[str | None] = mapped_column(sa.String(2048), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    consumed_reason: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    # Set when a stronger factor step passed and handed the login on to the product's factor.
    stronger_factor: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    stronger_credential_id: Mapped[int | None] = mapped_column(nullable=True)
