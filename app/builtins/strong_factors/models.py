"""Tables of the stronger factors: the tenant's policy, TOTP, recovery codes, passkeys and wrong tries."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto import EncryptedText
from app.extensions import db
from app.tenancy import TenantScoped
from app.timeutil import UTCDateTime, utcnow

MODE_ADDITIONAL = "additional"
MODE_REPLACE = "replace"
MODE_BOTH = "both"
MODE_LABELS = {
    MODE_ADDITIONAL: "製品の認証要素は従来どおり必須。強い認証要素は任意（登録した人は追加で入力）",
    MODE_REPLACE: "強い認証要素を登録した人は、製品の認証要素の代わりに強い認証要素でログイン",
    MODE_BOTH: "両方必須（強い認証要素のない人は、ログイン直後に登録）",
}


class FactorPolicy(TenantScoped, db.Model):
    """A tenant's factor policy; no row means the default (additional, admins not forced)."""

    __tablename__ = "strong_factor_policies"
    __table_args__ = (sa.UniqueConstraint("tenant_id", name="uq_strong_factor_policies_tenant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mode: Mapped[str] = mapped_column(sa.String(16), default=MODE_ADDITIONAL)
    admins_required: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TotpCredential(TenantScoped, db.Model):
    """A user's authenticator app (RFC 6238); unconfirmed until a code was typed once."""

    __tablename__ = "strong_factor_totp"
    __export_exclude__ = True  # secrets: never in a tenant export

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(EncryptedText())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_step: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(TenantScoped, db.Model):
    """One single-use recovery code; only its keyed hash is stored."""

    __tablename__ = "strong_factor_recovery_codes"
    __export_exclude__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Passkey(TenantScoped, db.Model):
    """A WebAuthn credential (platform or roaming authenticator) registered by a user."""

    __tablename__ = "strong_factor_passkeys"
    __export_exclude__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    credential_id: Mapped[str] = mapped_column(sa.String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sign_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    transports: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FactorFailure(TenantScoped, db.Model):
    """One wrong code typed at the stronger-factor step (counted per login and per hour)."""

    __tablename__ = "strong_factor_failures"
    __export_exclude__ = True
    __table_args__ = (sa.Index("ix_strong_factor_failures_user_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    pending_id: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
