"""電子交付: an issued report sent to the broker as a signed, expiring, download-limited link (tables and service;
callers commit).

Service API:

- ``create_delivery(report, recipient, actor)`` — a new delivery of the request's latest issued version: a random
  token id (only its sha256 stored), the expiry and download limit from the tenant's settings, the mail queued
  through the outbox (``secret=True``: the body holds the link). Audited ``jucho.report.delivery``.
- ``revoke(delivery, actor)`` — 停止: the link stops working at once. Audited ``jucho.report.delivery_revoke``.
- ``find(token)`` — the current tenant's delivery a link names, or why not (``UNKNOWN`` → 404, ``GONE`` → 410).
- ``take_download(delivery, ip, user_agent)`` — count one download with a conditional UPDATE (two racing
  downloads at the limit never both succeed) and log it; refused attempts are logged too.

The link's signature (itsdangerous, own salt) only stops guessing; expiry, revocation and the count are decided
from the database on every use. Neither the token nor the recipient's address ever enters an audit record.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import audit
from app.crypto import EncryptedText
from app.display import browser_label
from app.extensions import db
from app.mailer import send_mail
from app.models import User
from app.queryargs import URLSAFE_ALPHABET, token_shaped
from app.tenancy import TenantScoped, current_tenant
from app.timeutil import UTCDateTime, format_jst, utcnow
from app.urls import external_url

from .reports import JuchoReport, can_issue, document, latest_issued
from .requests import (
    DEFAULT_LINK_DAYS,
    DEFAULT_LINK_DOWNLOADS,
    ISSUED,
    MAX_LINK_DAYS,
    MAX_LINK_DOWNLOADS,
    JuchoRequest,
    TransitionError,
    settings,
)

SALT = "kanri.jucho.report-delivery.v1"
TOKEN_ALPHABET = URLSAFE_ALPHABET | {"."}
MAX_TOKEN_LENGTH = 200

ACTIVE, EXPIRED, REVOKED, USED_UP = "active", "expired", "revoked", "used_up"
STATES = {ACTIVE: "有効", EXPIRED: "期限切れ", REVOKED: "停止", USED_UP: "上限到達"}
DOWNLOADED = "downloaded"
OUTCOMES = {DOWNLOADED: "ダウンロード", EXPIRED: "拒否（期限切れ）", REVOKED: "拒否（停止）", USED_UP: "拒否（上限到達）"}
UNKNOWN, GONE = "unknown", "gone"


class DeliveryError(TransitionError):
    """A delivery the rules refuse (the message is Japanese, for the screen)."""


class JuchoReportDelivery(TenantScoped, db.Model):
    """One mailed link to one issued report version: who sent it where, until when, how many downloads."""

    __tablename__ = "jucho_report_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("jucho_reports.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("jucho_requests.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(EncryptedText())
    token_hash: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the random token id; the id itself is mailed only
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    max_downloads: Mapped[int] = mapped_column(sa.Integer)
    download_count: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    mail_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mail_outbox.id", ondelete="SET NULL"), nullable=True)

    report: Mapped[JuchoReport] = relationship(foreign_keys=[report_id])
    request: Mapped[JuchoRequest] = relationship(foreign_keys=[request_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    downloads: Mapped[list[JuchoReportDownload]] = relationship(
        back_populates="delivery", order_by="JuchoReportDownload.id", cascade="all, delete-orphan",
        passive_deletes=True)

    def state(self, now: datetime | None = None) -> str:
        """有効 / 期限切れ / 停止 / 上限到達 (停止 first, then 上限到達: what happened before the date passed)."""
        now = now or utcnow()
        if self.revoked_at is not None:
            return REVOKED
        if self.download_count >= self.max_downloads:
            return USED_UP
        if now >= self.expires_at:
            return EXPIRED
        return ACTIVE

    @property
    def state_label(self) -> str:
        """The state in Japanese."""
        return STATES[self.state()]

    @property
    def remaining(self) -> int:
        """Downloads left (never negative)."""
        return max(self.max_downloads - self.download_count, 0)


class JuchoReportDownload(TenantScoped, db.Model):
    """One use of a link: when, from which IP and browser, and whether the PDF was served."""

    __tablename__ = "jucho_report_downloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        sa.ForeignKey("jucho_report_deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    browser: Mapped[str] = mapped_column(sa.String(100))
    outcome: Mapped[str] = mapped_column(sa.String(16))

    delivery: Mapped[JuchoReportDelivery] = relationship(back_populates="downloads")

    @property
    def outcome_label(self) -> str:
        """ダウンロード, or why it was refused."""
        return OUTCOMES.get(self.outcome, self.outcome)


# --- tokens ------------------------------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _digest(token_id: str) -> str:
    return hashlib.sha256(token_id.encode("ascii")).hexdigest()


def _make_token(delivery: JuchoReportDelivery, token_id: str) -> str:
    return _serializer().dumps({"d": delivery.id, "k": token_id})


@dataclass
class Lookup:
    """The delivery a link names, or why there is none (``UNKNOWN`` or ``GONE`` with the state)."""

    delivery: JuchoReportDelivery | None = None
    reason: str | None = None
    state: str | None = None


def find(token: str) -> Lookup:
    """The current tenant's delivery for a link token: signature, then the stored hash (constant time), then state."""
    if token_shaped(token, max_length=MAX_TOKEN_LENGTH, alphabet=TOKEN_ALPHABET) is None:
        return Lookup(reason=UNKNOWN)
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return Lookup(reason=UNKNOWN)
    if not isinstance(data, dict) or not isinstance(data.get("d"), int) or not isinstance(data.get("k"), str):
        return Lookup(reason=UNKNOWN)
    # The tenant filter applies: another tenant's delivery id is simply not found.
    delivery = db.session.get(JuchoReportDelivery, data["d"])
    if delivery is None or not data["k"].isascii():
        return Lookup(reason=UNKNOWN)
    if not hmac.compare_digest(delivery.token_hash, _digest(data["k"])):
        return Lookup(reason=UNKNOWN)
    state = delivery.state()
    if state != ACTIVE:
        return Lookup(delivery=delivery, reason=GONE, state=state)
    return Lookup(delivery=delivery)


# --- settings ----------------------------------------------------------------------------------------------------


def valid_days() -> int:
    """How many days a new link works (the tenant's setting, 1–90)."""
    return min(max(settings().delivery_valid_days or DEFAULT_LINK_DAYS, 1), MAX_LINK_DAYS)


def download_limit() -> int:
    """How many downloads a new link allows (the tenant's setting, 1–50)."""
    return min(max(settings().delivery_max_downloads or DEFAULT_LINK_DOWNLOADS, 1), MAX_LINK_DOWNLOADS)


# --- reading -----------------------------------------------------------------------------------------------------


def deliveries_of(request: JuchoRequest) -> list[JuchoReportDelivery]:
    """Every delivery of the request, newest first."""
    return list(db.session.execute(sa.select(JuchoReportDelivery).where(JuchoReportDelivery.request_id == request.id)
                                   .order_by(JuchoReportDelivery.id.desc())).scalars())


def has_correction(delivery: JuchoReportDelivery) -> bool:
    """True when a newer version of the report was issued after the one this link delivers."""
    latest = latest_issued(delivery.request)
    return latest is not None and latest.version > delivery.report.version


# --- changes -----------------------------------------------------------------------------------------------------


def _record(action: str, delivery: JuchoReportDelivery, actor: User | None, **details) -> None:
    audit.record(action, target=f"request:{delivery.request_id}", actor=actor,
                 actor_login=None if actor else "public", number=delivery.request.number,
                 version=delivery.report.version, delivery=delivery.id, **details)


def create_delivery(report: JuchoReport, recipient: str, actor: User) -> JuchoReportDelivery:
    """Send the latest issued version to ``recipient`` as a new link; raises ``DeliveryError`` when not allowed."""
    if not can_issue(actor):
        raise DeliveryError("電子交付は報告書を発行できる社員だけが行えます。管理者に依頼してください。")
    if report.status != ISSUED:
        raise DeliveryError("発行済みの報告書だけを電子交付できます。")
    latest = latest_issued(report.request)
    if latest is None or latest.id != report.id:
        raise DeliveryError("新しい版が発行されています。最新の版を送付してください。")
    now = utcnow()
    token_id = secrets.token_urlsafe(32)
    delivery = JuchoReportDelivery(
        report_id=report.id, report=report, request_id=report.request_id, request=report.request,
        recipient=recipient, token_hash=_digest(token_id), created_by_id=actor.id, created_by=actor,
        created_at=now, expires_at=now + timedelta(days=valid_days()), max_downloads=download_limit(),
        download_count=0)
    db.session.add(delivery)
    db.session.flush()
    link = external_url("jucho.report_link", company_code=current_tenant().code,
                        token=_make_token(delivery, token_id))
    delivery.mail_id = _mail(delivery, link, actor).id
    _record("jucho.report.delivery", delivery, actor, expires=format_jst(delivery.expires_at),
            max_downloads=delivery.max_downloads)
    return delivery


def _mail(delivery: JuchoReportDelivery, link: str, actor: User):
    request = delivery.request
    mail = send_mail(delivery.recipient, f"重要事項調査報告書のご送付（{request.number}）",
                     "jucho/email/report_delivery", secret=True, tenant=current_tenant(), request=request,
                     report=delivery.report, document=document(delivery.report), delivery=delivery, link=link,
                     sender=actor, expires=format_jst(delivery.expires_at))
    db.session.flush()  # the outbox row's id, kept on the delivery
    return mail


def revoke(delivery: JuchoReportDelivery, actor: User) -> None:
    """停止: the link answers 「使えません」 from now on; raises ``DeliveryError`` when already stopped."""
    if not can_issue(actor):
        raise DeliveryError("リンクの停止は報告書を発行できる社員だけが行えます。")
    if delivery.revoked_at is not None:
        raise DeliveryError("このリンクは既に停止されています。")
    delivery.revoked_at = utcnow()
    delivery.revoked_by_id = actor.id
    delivery.revoked_by = actor
    _record("jucho.report.delivery_revoke", delivery, actor, downloads=delivery.download_count)


def take_download(delivery: JuchoReportDelivery, ip: str | None, user_agent: str | None) -> bool:
    """Count one download if the link is still usable (one conditional UPDATE decides); log the attempt either way."""
    now = utcnow()
    table = JuchoReportDelivery.__table__
    counted = db.session.execute(
        table.update().where(
            table.c.id == delivery.id, table.c.tenant_id == delivery.tenant_id, table.c.revoked_at.is_(None),
            table.c.expires_at > now, table.c.download_count < table.c.max_downloads)
        .values(download_count=table.c.download_count + 1)).rowcount == 1
    db.session.refresh(delivery)
    outcome = DOWNLOADED if counted else delivery.state(now)
    if outcome == ACTIVE:  # a refusal is never logged as 「有効」
        outcome = USED_UP
    delivery.downloads.append(JuchoReportDownload(at=now, ip=(ip or "")[:64] or None,
                                                  browser=browser_label(user_agent)[:100], outcome=outcome))
    if counted:
        _record("jucho.report.delivery_download", delivery, None, downloads=delivery.download_count,
                max_downloads=delivery.max_downloads)
    else:
        _record("jucho.report.delivery_refused", delivery, None, reason=outcome)
    return counted


__all__ = ["ACTIVE", "EXPIRED", "GONE", "REVOKED", "STATES", "UNKNOWN", "USED_UP", "DeliveryError",
           "JuchoReportDelivery", "JuchoReportDownload", "Lookup", "create_delivery", "deliveries_of",
           "download_limit", "find", "has_correction", "revoke", "take_download", "valid_days"]
