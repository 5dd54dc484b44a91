"""依頼: a broker's request for a 重要事項調査報告書 (tables and the service every screen and later step uses).

Service API (no request code here; callers commit):

- ``create_request(data, channel=…, received_on=…, actor=…)`` numbers the request (``R2026-000123``, unique per
  tenant), copies the fee lines from the fee table, sets the due date and queues the receipt and notification mail.
- ``set_status(request, status, actor)`` moves along 受付 → 作成中 → 確認待ち → 発行済み (and 確認待ち → 作成中 as
  差し戻し); ``cancel(request, reason, actor)`` sets 取消. ``ISSUED`` is for the issue step only: the work queue
  never offers it (``QUEUE_TARGETS``).
- ``assign(request, user, actor)``, ``set_due_date``, ``set_payment_status``, ``set_building`` (a request for a
  building 「一覧にない」 pointed at a 物件 of the master); ``history(request)`` reads the audit trail of one request. Every change writes one audit event whose target is ``request:<id>``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import audit
from app.crypto import EncryptedText
from app.extensions import db
from app.models import STATUS_ACTIVE, AuditEvent, User
from app.searchtext import Searchable
from app.tenancy import TenantScoped, current_tenant
from app.timeutil import UTCDateTime, jst_today, utcnow

from .business_days import add_business_days
from .fees import FeeLine, lines_for
from .models import JuchoBuilding

RECEIVED, DRAFTING, REVIEW, ISSUED, CANCELLED = "received", "drafting", "review", "issued", "cancelled"
STATUSES = {RECEIVED: "受付", DRAFTING: "作成中", REVIEW: "確認待ち", ISSUED: "発行済み", CANCELLED: "取消"}
OPEN_STATUSES = (RECEIVED, DRAFTING, REVIEW)
# Allowed moves (取消 aside): forward along the path, and 確認待ち back to 作成中 (差し戻し).
TRANSITIONS = {RECEIVED: {DRAFTING}, DRAFTING: {REVIEW}, REVIEW: {DRAFTING, ISSUED}, ISSUED: set(), CANCELLED: set()}
QUEUE_TARGETS = (DRAFTING, REVIEW)  # what the 依頼一覧 may set; 発行済み only through the issue step

PURPOSES = {"sale": "売買", "lease": "賃貸", "other": "その他"}
DELIVERIES = {"electronic": "電子（メール）", "post": "郵送"}
CHANNELS = {"web": "Web受付", "fax": "FAX等（社員入力）"}
PAYMENTS = {"unbilled": "未請求", "billed": "請求済み", "paid": "入金済み"}
DEFAULT_DUE_BUSINESS_DAYS = 3
MAX_DUE_BUSINESS_DAYS = 30
NUMBER_PATTERN = re.compile(r"^R(\d{4})-(\d{6})$")
DEFAULT_LINK_DAYS, MAX_LINK_DAYS = 14, 90                # 電子交付: how long a mailed link works
DEFAULT_LINK_DOWNLOADS, MAX_LINK_DOWNLOADS = 5, 50      # and how many downloads it allows


class TransitionError(ValueError):
    """A status change the work flow does not allow (the message is Japanese, for the screen)."""


class JuchoRequestSettings(TenantScoped, db.Model):
    """Per-tenant settings of the request desk: the due date's business days and where staff are notified."""

    __tablename__ = "jucho_request_settings"
    __table_args__ = (sa.UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    due_business_days: Mapped[int] = mapped_column(sa.Integer, default=DEFAULT_DUE_BUSINESS_DAYS)
    notify_email: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)  # None: every active 管理者
    staff_may_issue: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    delivery_valid_days: Mapped[int] = mapped_column(sa.Integer, default=DEFAULT_LINK_DAYS,
                                                     server_default=str(DEFAULT_LINK_DAYS))
    delivery_max_downloads: Mapped[int] = mapped_column(sa.Integer, default=DEFAULT_LINK_DOWNLOADS,
                                                        server_default=str(DEFAULT_LINK_DOWNLOADS))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class JuchoRequest(TenantScoped, Searchable, db.Model):
    """One request for a 重要事項調査報告書, from the public form (Web) or typed in by staff (FAX等)."""

    __tablename__ = "jucho_requests"
    # Searched: number, building, unit, broker company and licence; never the broker's person name, phone, e-mail
    # or address (encrypted personal data).
    __search_fields__ = ("number", "building_name", "unit_number", "broker_company", "license_number")
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.Index("ix_jucho_requests_tenant_status_due", "tenant_id", "status", "due_date"),
        sa.Index("ix_jucho_requests_tenant_received", "tenant_id", "received_on"),
        sa.Index("ix_jucho_requests_tenant_assignee", "tenant_id", "assignee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(16))
    channel: Mapped[str] = mapped_column(sa.String(8))
    building_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("jucho_buildings.id", ondelete="SET NULL"), nullable=True, index=True)
    building_name: Mapped[str] = mapped_column(sa.String(200))  # as chosen or typed (「一覧にない」)
    building_unlisted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    unit_number: Mapped[str] = mapped_column(sa.String(32))
    broker_company: Mapped[str] = mapped_column(sa.String(200))
    license_number: Mapped[str] = mapped_column(sa.String(64))
    contact_name: Mapped[str] = mapped_column(EncryptedText())
    phone: Mapped[str] = mapped_column(EncryptedText())
    email: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    postal_address: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    purpose: Mapped[str] = mapped_column(sa.String(8))
    delivery: Mapped[str] = mapped_column(sa.String(16))
    express: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    seller_consent: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_on: Mapped[date] = mapped_column(sa.Date)
    due_date: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16), default=RECEIVED)
    cancel_reason: Mapped[str] = mapped_column(sa.Text, default="")
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    payment_status: Mapped[str] = mapped_column(sa.String(16), default="unbilled")
    total_amount: Mapped[int] = mapped_column(sa.Integer, default=0)
    total_tax: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    lines: Mapped[list[JuchoRequestLine]] = relationship(
        back_populates="request", order_by="JuchoRequestLine.id", cascade="all, delete-orphan", passive_deletes=True)
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    building: Mapped[JuchoBuilding | None] = relationship(foreign_keys=[building_id])

    @property
    def status_label(self) -> str:
        """Japanese label of the status."""
        return STATUSES.get(self.status, self.status)

    @property
    def purpose_label(self) -> str:
        """Japanese label of the purpose."""
        return PURPOSES.get(self.purpose, self.purpose)

    @property
    def delivery_label(self) -> str:
        """Japanese label of the delivery."""
        return DELIVERIES.get(self.delivery, self.delivery)

    @property
    def channel_label(self) -> str:
        """Japanese label of the channel."""
        return CHANNELS.get(self.channel, self.channel)

    @property
    def payment_label(self) -> str:
        """Japanese label of the payment status."""
        return PAYMENTS.get(self.payment_status, self.payment_status)

    @property
    def is_open(self) -> bool:
        """True while the request is 受付, 作成中 or 確認待ち."""
        return self.status in OPEN_STATUSES

    @property
    def overdue(self) -> bool:
        """True when the request is still open after its due date (JST)."""
        return self.is_open and self.due_date < jst_today()


class JuchoRequestLine(TenantScoped, db.Model):
    """One charged item of a request, copied from the fee table when the request was made."""

    __tablename__ = "jucho_request_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("jucho_requests.id", ondelete="CASCADE"), index=True)
    fee_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("jucho_fee_items.id", ondelete="SET NULL"),
                                                    nullable=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    amount: Mapped[int] = mapped_column(sa.Integer)
    tax_rate: Mapped[int] = mapped_column(sa.Integer)
    tax: Mapped[int] = mapped_column(sa.Integer)

    request: Mapped[JuchoRequest] = relationship(back_populates="lines")


@dataclass
class RequestInput:
    """What a request form collected (already validated and normalised)."""

    building_id: int | None
    building_name: str
    unit_number: str
    broker_company: str
    license_number: str
    contact_name: str
    phone: str
    email: str | None
    postal_address: str | None
    purpose: str
    delivery: str
    express: bool
    seller_consent: bool
    document_ids: list[int] = field(default_factory=list)


# --- settings, dates ---------------------------------------------------------------------------------------------


def settings() -> JuchoRequestSettings:
    """The current tenant's request settings (a default row is made on first use)."""
    row = db.session.execute(sa.select(JuchoRequestSettings)).scalar_one_or_none()
    if row is None:
        row = JuchoRequestSettings(due_business_days=DEFAULT_DUE_BUSINESS_DAYS)
        db.session.add(row)
        db.session.flush()
    return row


def default_due_date(received_on: date) -> date:
    """受付日 + the tenant's number of business days (土日・祝日・年末年始 skipped, see ``business_days``)."""
    return add_business_days(received_on, settings().due_business_days)


# --- create ------------------------------------------------------------------------------------------------------


def normalize_width(text: str) -> str:
    """NFKC (全角英数 → 半角, 半角カナ → 全角) and surrounding spaces removed."""
    return unicodedata.normalize("NFKC", text or "").strip()


def _next_number(year: int) -> str:
    prefix = f"R{year}-"
    last = db.session.execute(
        sa.select(sa.func.max(JuchoRequest.number)).where(JuchoRequest.number.startswith(prefix))).scalar()
    sequence = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{sequence:06d}"


def create_request(data: RequestInput, *, channel: str, received_on: date | None = None,
                   actor: User | None = None) -> JuchoRequest:
    """Store a new request for the current tenant with its fee lines and due date; audited. The caller commits
    (and queues mail with ``notify_created``)."""
    received_on = received_on or jst_today()
    lines: list[FeeLine] = lines_for(data.document_ids, data.express and data.delivery == "post")
    now = utcnow()
    for _attempt in range(5):
        request = JuchoRequest(
            number=_next_number(received_on.year), channel=channel, building_id=data.building_id,
            building_name=data.building_name, building_unlisted=data.building_id is None,
            unit_number=data.unit_number, broker_company=data.broker_company, license_number=data.license_number,
            contact_name=data.contact_name, phone=data.phone, email=data.email or None,
            postal_address=data.postal_address or None, purpose=data.purpose, delivery=data.delivery,
            express=data.express and data.delivery == "post", seller_consent=data.seller_consent,
            consent_at=now if data.seller_consent else None, received_on=received_on,
            due_date=default_due_date(received_on), status=RECEIVED, payment_status="unbilled",
            total_amount=sum(line.amount for line in lines), total_tax=sum(line.tax for line in lines))
        request.lines = [JuchoRequestLine(fee_item_id=line.fee_item_id, name=line.name, amount=line.amount,
                                          tax_rate=line.tax_rate, tax=line.tax) for line in lines]
        try:
            with db.session.begin_nested():
                db.session.add(request)
                db.session.flush()
            break
        except sa.exc.IntegrityError:
            continue  # another request took this number at the same instant: number again
    else:
        raise RuntimeError("no free request number")
    audit.record("jucho.request.create", target=f"request:{request.id}", actor=actor,
                 actor_login=None if actor else "public", number=request.number, channel=channel,
                 consent=data.seller_consent, amount=request.total_amount)
    return request


# --- changes -----------------------------------------------------------------------------------------------------


def set_status(request: JuchoRequest, status: str, actor: User | None) -> None:
    """Move a request to ``status`` along the work flow; raises ``TransitionError`` for any other move."""
    if status not in STATUSES or status == CANCELLED:
        raise TransitionError("この状態には変更できません。取消は「取消」ボタンから行ってください。")
    if status not in TRANSITIONS.get(request.status, set()):
        raise TransitionError(f"「{request.status_label}」から「{STATUSES[status]}」には変更できません。")
    before = request.status
    request.status = status
    audit.record("jucho.request.status", target=f"request:{request.id}", actor=actor,
                 before={"status": STATUSES[before]}, after={"status": STATUSES[status]}, number=request.number)


def cancel(request: JuchoRequest, reason: str, actor: User | None) -> None:
    """取消 with a reason (any open request); raises ``TransitionError`` once issued or already cancelled."""
    if not request.is_open:
        raise TransitionError(f"「{request.status_label}」の依頼は取消できません。")
    if not (reason or "").strip():
        raise TransitionError("取消の理由を入力してください。")
    before = request.status
    request.status = CANCELLED
    request.cancel_reason = reason.strip()
    audit.record("jucho.request.cancel", target=f"request:{request.id}", actor=actor,
                 before={"status": STATUSES[before]}, after={"status": STATUSES[CANCELLED]}, number=request.number)


def staff_members() -> list[User]:
    """Active users of the current tenant who can be assigned, by login id."""
    return list(db.session.execute(
        sa.select(User).where(User.status == STATUS_ACTIVE).order_by(User.login_id)).scalars())


def assign(request: JuchoRequest, user: User | None, actor: User | None) -> None:
    """Make ``user`` (an active member of the request's tenant, or None) the assignee; audited."""
    if user is not None and (user.tenant_id != request.tenant_id or user.status != STATUS_ACTIVE):
        raise TransitionError("担当者は有効な社員から選んでください。")
    before = request.assignee.login_id if request.assignee else None
    request.assignee_id = user.id if user is not None else None
    request.assignee = user
    audit.record("jucho.request.assign", target=f"request:{request.id}", actor=actor, number=request.number,
                 before={"assignee": before or "なし"}, after={"assignee": user.login_id if user else "なし"})


def set_due_date(request: JuchoRequest, due: date, actor: User | None) -> None:
    """Change the due date (not before the 受付日); audited."""
    if due < request.received_on:
        raise TransitionError("期限は受付日以降の日付にしてください。")
    before = request.due_date
    request.due_date = due
    audit.record("jucho.request.due", target=f"request:{request.id}", actor=actor, number=request.number,
                 before={"due": before.isoformat()}, after={"due": due.isoformat()})


def set_payment_status(request: JuchoRequest, status: str, actor: User | None) -> None:
    """未請求 / 請求済み / 入金済み (管理者 decide who may call it); audited."""
    if status not in PAYMENTS:
        raise TransitionError("入金状況を一覧から選択してください。")
    before = request.payment_status
    request.payment_status = status
    audit.record("jucho.request.payment", target=f"request:{request.id}", actor=actor, number=request.number,
                 before={"payment": PAYMENTS[before]}, after={"payment": PAYMENTS[status]})


def set_building(request: JuchoRequest, building: JuchoBuilding, actor: User | None) -> None:
    """Point the request at a 物件 of the master (「物件を選び直す」): open requests without any report only."""
    from .reports import JuchoReport  # reports builds on this module

    if not request.is_open:
        raise TransitionError(f"「{request.status_label}」の依頼の物件は変更できません。")
    has_report = db.session.execute(sa.select(sa.exists().where(JuchoReport.request_id == request.id))).scalar()
    if has_report:
        raise TransitionError("報告書を作成した後は物件を変更できません。")
    if building is None or building.tenant_id != request.tenant_id:
        raise TransitionError("物件を一覧から選択してください。")
    before = request.building_name
    request.building_id = building.id
    request.building = building
    request.building_name = building.name
    request.building_unlisted = False
    audit.record("jucho.request.building", target=f"request:{request.id}", actor=actor, number=request.number,
                 before={"building": before}, after={"building": building.name})


# --- reading -----------------------------------------------------------------------------------------------------

HISTORY_ACTIONS = ("jucho.request.create", "jucho.request.status", "jucho.request.cancel", "jucho.request.assign",
                   "jucho.request.due", "jucho.request.payment")


def history(request: JuchoRequest) -> list[AuditEvent]:
    """The request's audit events (this module's actions and any ``jucho.request.*`` of later steps), oldest first."""
    return list(db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.chain_id == request.tenant_id,
                                    sa.or_(AuditEvent.action.startswith("jucho.request."),
                                           AuditEvent.action.startswith("jucho.report.")),
                                    AuditEvent.target == f"request:{request.id}")
        .order_by(AuditEvent.seq)).scalars())


def status_counts() -> dict[str, int]:
    """How many requests of the current tenant are in each status."""
    rows = db.session.execute(sa.select(JuchoRequest.status, sa.func.count()).group_by(JuchoRequest.status))
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: count for status, count in rows})
    return counts


def overdue_condition():
    """SQL condition: open and past its due date (JST today)."""
    return sa.and_(JuchoRequest.status.in_(OPEN_STATUSES), JuchoRequest.due_date < jst_today())


def in_status_query(status: str):
    """A select of the current tenant's requests in one status, to count."""
    return sa.select(JuchoRequest.id).where(JuchoRequest.status == status)


def overdue_query():
    """A select of the current tenant's open requests past their due date, to count."""
    return sa.select(JuchoRequest.id).where(overdue_condition())


def assigned_open_query(user: User):
    """A select of the open requests assigned to ``user``, to count."""
    return sa.select(JuchoRequest.id).where(JuchoRequest.status.in_(OPEN_STATUSES), JuchoRequest.assignee_id == user.id)


def tenant_name() -> str:
    """The current tenant's company name (for mail and pages)."""
    tenant = current_tenant()
    return tenant.name if tenant is not None else ""
