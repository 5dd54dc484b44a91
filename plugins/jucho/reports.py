"""報告書: the drafts and issued versions of a request's 重要事項調査報告書 (tables and service; callers commit).

Service API:

- ``start_draft(request, actor)`` — the request's working draft (version 1, or after an issue a correction that
  ``supersedes`` the latest issued version); 受付 moves to 作成中.
- ``document(report)`` — the ``ReportDocument``: for a draft assembled live from the masters as of today with the
  report's overrides applied (``overridden`` marked), for an issued report read from its frozen snapshot.
- ``set_override(report, key, value, actor)`` / ``clear_override`` / ``set_notes`` — per-report changes of a draft.
- ``issue(report, actor)`` — freezes the document as JSON, renders the PDF, stores both with the PDF's sha256 and
  moves the request to 発行済み. An issued report is never changed again.
- ``can_issue(user)`` — 管理者, or every active user when the tenant allows 一般 to issue.
- ``assembled_values(report)`` — what the masters give for each item (the draft page shows it beside an override);
  ``markers(request_ids)`` — 「下書きあり」/「発行済み 第N版」 for a page of the 依頼一覧 in one query.

Every change writes one audit event whose target is ``request:<id>`` (so the request's history shows it).
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import audit
from app.crypto import EncryptedText
from app.extensions import db
from app.models import User
from app.tenancy import TenantScoped, current_tenant
from app.timeutil import UTCDateTime, jst_today, utcnow

from .models_units import JuchoUnit
from .report_document import ReportDocument, ReportItem, ReportSection
from .report_items import PERSONAL_KEYS, assemble
from .requests import (
    CANCELLED,
    DRAFTING,
    ISSUED,
    RECEIVED,
    REVIEW,
    JuchoRequest,
    TransitionError,
    set_status,
    settings,
)
from .units import normalize_number

DRAFT = "draft"
REPORT_STATUSES = {DRAFT: "下書き", ISSUED: "発行済み"}
MAX_OVERRIDE_LENGTH = 2000
MAX_NOTES_LENGTH = 4000


class JuchoReport(TenantScoped, db.Model):
    """One version of a request's report: a draft (live content plus overrides) or issued (frozen snapshot + PDF)."""

    __tablename__ = "jucho_reports"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "request_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("jucho_requests.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(16), default=DRAFT)
    supersedes_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("jucho_reports.id", ondelete="SET NULL"), nullable=True)
    notes: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)  # staff may write personal facts
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Frozen at issue: the document as JSON and the PDF (base64), both encrypted (the arrears are personal data).
    snapshot: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True, deferred=True)
    pdf_data: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True, deferred=True)
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    pdf_size: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)

    request: Mapped[JuchoRequest] = relationship(foreign_keys=[request_id])
    supersedes: Mapped[JuchoReport | None] = relationship(remote_side=[id], foreign_keys=[supersedes_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    overrides: Mapped[list[JuchoReportOverride]] = relationship(
        back_populates="report", order_by="JuchoReportOverride.id", cascade="all, delete-orphan",
        passive_deletes=True)

    @property
    def is_draft(self) -> bool:
        """True until issued."""
        return self.status == DRAFT

    @property
    def status_label(self) -> str:
        """下書き / 発行済み."""
        return REPORT_STATUSES.get(self.status, self.status)

    def pdf_bytes(self) -> bytes:
        """The issued PDF (checked against its sha256); a draft has none."""
        if self.pdf_data is None:
            raise ValueError("a draft has no issued PDF")
        data = base64.b64decode(self.pdf_data)
        if hashlib.sha256(data).hexdigest() != self.pdf_sha256:
            raise ValueError("the stored PDF does not match its sha256")
        return data

    def override_map(self) -> dict[str, str]:
        """key → the value staff set for this report."""
        return {row.key: row.value for row in self.overrides}


class JuchoReportOverride(TenantScoped, db.Model):
    """A value staff set for one item of one draft, replacing what the masters give."""

    __tablename__ = "jucho_report_overrides"
    __table_args__ = (sa.UniqueConstraint("report_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("jucho_reports.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[str] = mapped_column(EncryptedText())
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    report: Mapped[JuchoReport] = relationship(back_populates="overrides")


# --- reading -----------------------------------------------------------------------------------------------------


def versions(request: JuchoRequest) -> list[JuchoReport]:
    """Every version of the request's report, newest first."""
    return list(db.session.execute(sa.select(JuchoReport).where(JuchoReport.request_id == request.id)
                                   .order_by(JuchoReport.version.desc())).scalars())


def current_draft(request: JuchoRequest) -> JuchoReport | None:
    """The request's draft in progress, if any."""
    return db.session.execute(sa.select(JuchoReport).where(
        JuchoReport.request_id == request.id, JuchoReport.status == DRAFT)).scalar_one_or_none()


def latest_issued(request: JuchoRequest) -> JuchoReport | None:
    """The newest issued version, if any."""
    return db.session.execute(sa.select(JuchoReport).where(
        JuchoReport.request_id == request.id, JuchoReport.status == ISSUED)
        .order_by(JuchoReport.version.desc()).limit(1)).scalar_one_or_none()


def unit_of(request: JuchoRequest) -> JuchoUnit | None:
    """The 住戸 the request names, found by its normalised number in the request's 物件 (None when unknown)."""
    if request.building_id is None:
        return None
    return db.session.execute(sa.select(JuchoUnit).where(
        JuchoUnit.building_id == request.building_id,
        JuchoUnit.number == normalize_number(request.unit_number))).scalar_one_or_none()


def item_keys(report: JuchoReport) -> dict[str, ReportItem]:
    """key → item of the draft's document (the keys an override may name)."""
    return {item.key: item for item in document(report).items()}


def _assembled_sections(report: JuchoReport) -> list[ReportSection]:
    request = report.request
    consent = bool(request.seller_consent)
    overrides = report.override_map()
    sections = []
    for section in assemble(request.building, unit_of(request), include_personal=consent, as_of=jst_today()):
        items = []
        for item in section.items:
            personal = item.key in PERSONAL_KEYS
            if item.key in overrides and (consent or not personal):
                items.append(ReportItem(item.key, item.label, overrides[item.key], overridden=True,
                                        personal=personal))
            else:
                items.append(ReportItem(item.key, item.label, item.value_text, personal=personal))
        sections.append(ReportSection(section.title, items))
    return sections


def assembled_values(report: JuchoReport) -> dict[str, str]:
    """key → the value the masters give today, overrides left aside (shown for comparison beside an override)."""
    request = report.request
    sections = assemble(request.building, unit_of(request), include_personal=bool(request.seller_consent),
                        as_of=jst_today())
    return {item.key: item.value_text for section in sections for item in section.items}


def markers(request_ids: list[int]) -> dict[int, str]:
    """request id → 「下書きあり」 or 「発行済み 第N版」 (newest issued version) for the given requests, one query."""
    if not request_ids:
        return {}
    rows = db.session.execute(
        sa.select(JuchoReport.request_id, JuchoReport.status, sa.func.max(JuchoReport.version))
        .where(JuchoReport.request_id.in_(request_ids)).group_by(JuchoReport.request_id, JuchoReport.status))
    found: dict[int, str] = {}
    for request_id, status, version in rows:
        if status == DRAFT:
            found[request_id] = "下書きあり"  # a draft in progress is what staff act on next
        elif found.get(request_id) != "下書きあり":
            found[request_id] = f"発行済み 第{version}版"
    return found


def _issuer(request: JuchoRequest) -> tuple[str, str, str]:
    tenant = current_tenant()
    profile = getattr(request.building, "profile", None)
    name = (profile.company_name if profile is not None and profile.company_name else None) or tenant.name
    registration = (profile.company_registration or "") if profile is not None else ""
    address = (profile.company_address or "") if profile is not None else ""
    return name, registration, address


def document(report: JuchoReport) -> ReportDocument:
    """What the report prints: the frozen snapshot once issued, else assembled now with the overrides applied."""
    if not report.is_draft:
        return ReportDocument.from_dict(json.loads(report.snapshot))
    request = report.request
    issuer_name, registration, address = _issuer(request)
    author = report.created_by.name if report.created_by is not None else ""
    return ReportDocument(
        request_number=request.number, version=report.version, as_of=jst_today(), issuer_name=issuer_name,
        issuer_registration=registration, issuer_address=address, author=author,
        recipient_company=request.broker_company, recipient_license=request.license_number,
        recipient_person=request.contact_name, building_name=request.building_name,
        unit_number=request.unit_number, purpose=request.purpose_label, seller_consent=bool(request.seller_consent),
        sections=_assembled_sections(report), notes=report.notes or "", issued=False,
        supersedes_version=report.supersedes.version if report.supersedes is not None else None)


# --- changes -----------------------------------------------------------------------------------------------------


def _record(action: str, report: JuchoReport, actor: User | None, **details) -> None:
    audit.record(action, target=f"request:{report.request_id}", actor=actor, number=report.request.number,
                 version=report.version, **details)


def start_draft(request: JuchoRequest, actor: User | None) -> JuchoReport:
    """The request's draft: the one in progress, else a new version (a correction once a version was issued)."""
    existing = current_draft(request)
    if existing is not None:
        return existing
    if request.status == CANCELLED:
        raise TransitionError("取消された依頼の報告書は作成できません。")
    if request.building_id is None:
        raise TransitionError("物件マスタにない物件の依頼です。先に物件を登録し、依頼の物件を選び直してください。")
    previous = latest_issued(request)
    if previous is None and request.status == ISSUED:
        raise TransitionError("発行済みの報告書が見つかりません。")
    last_version = db.session.execute(sa.select(sa.func.max(JuchoReport.version)).where(
        JuchoReport.request_id == request.id)).scalar() or 0
    report = JuchoReport(request_id=request.id, request=request, version=last_version + 1, status=DRAFT,
                         supersedes_id=previous.id if previous is not None else None, supersedes=previous,
                         created_by_id=actor.id if actor is not None else None, created_by=actor)
    db.session.add(report)
    db.session.flush()
    if request.status == RECEIVED:
        set_status(request, DRAFTING, actor)
    _record("jucho.report.draft", report, actor,
            supersedes=previous.version if previous is not None else None)
    return report


def _require_draft(report: JuchoReport) -> None:
    if not report.is_draft:
        raise TransitionError("発行済みの報告書は変更できません。訂正は新しい版を作成してください。")


def set_override(report: JuchoReport, key: str, value: str, actor: User | None) -> None:
    """Replace one item's value in this draft only; the personal items only with the seller's consent."""
    _require_draft(report)
    items = item_keys(report)
    if key not in items:
        raise TransitionError("この項目は報告書にありません。")
    value = (value or "").strip()
    if not value:
        raise TransitionError("記載内容を入力してください（元に戻すには「元に戻す」を使ってください）。")
    if len(value) > MAX_OVERRIDE_LENGTH:
        raise TransitionError(f"記載内容は{MAX_OVERRIDE_LENGTH}文字以内で入力してください。")
    personal = key in PERSONAL_KEYS
    if personal and not report.request.seller_consent:
        raise TransitionError("売主の同意がないため、この項目は記載できません。")
    row = next((row for row in report.overrides if row.key == key), None)
    row_was_new = row is None
    if row is None:
        report.overrides.append(JuchoReportOverride(key=key, value=value,
                                                    updated_by_id=actor.id if actor is not None else None))
    else:
        row.value = value
        row.updated_by_id = actor.id if actor is not None else None
    report.updated_at = utcnow()
    # Only which item changed: the typed text may hold personal facts (and the arrears are personal), so it stays
    # in the encrypted override row and never enters the operation log.
    _record("jucho.report.override", report, actor, item=items[key].label, personal=personal,
            replaced="master" if row_was_new else "override")


def clear_override(report: JuchoReport, key: str, actor: User | None) -> None:
    """Go back to the value the masters give for one item."""
    _require_draft(report)
    row = next((row for row in report.overrides if row.key == key), None)
    if row is None:
        return
    label = item_keys(report)[key].label if key in item_keys(report) else key
    report.overrides.remove(row)
    report.updated_at = utcnow()
    _record("jucho.report.override_clear", report, actor, item=label)


def set_notes(report: JuchoReport, notes: str, actor: User | None) -> None:
    """The draft's notes (printed under 備考 as 「特記事項」); audited without their text."""
    _require_draft(report)
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES_LENGTH:
        raise TransitionError(f"特記事項は{MAX_NOTES_LENGTH}文字以内で入力してください。")
    if notes == (report.notes or ""):
        return
    report.notes = notes or None
    report.updated_at = utcnow()
    _record("jucho.report.notes", report, actor, length=len(notes))


def can_issue(user: User | None) -> bool:
    """管理者 issue; 一般 only where the tenant allows it."""
    if user is None or not user.is_active:
        return False
    return user.is_admin or bool(settings().staff_may_issue)


def issue(report: JuchoReport, actor: User) -> JuchoReport:
    """Freeze the draft: snapshot JSON + PDF + sha256; the request becomes 発行済み. Raises ``TransitionError``."""
    from .report_pdf import render_report  # reportlab is imported only when a PDF is made

    _require_draft(report)
    if not can_issue(actor):
        raise TransitionError("報告書を発行する権限がありません。管理者に依頼してください。")
    request = report.request
    correction = report.supersedes_id is not None
    if not correction and request.status != REVIEW:
        raise TransitionError("「確認待ち」にしてから発行してください。")
    if correction and request.status != ISSUED:
        raise TransitionError("この依頼の状態では訂正版を発行できません。")
    draft = document(report)
    frozen = replace(draft, issued=True, author=draft.author or actor.name)
    pdf = render_report(frozen)
    report.snapshot = json.dumps(frozen.to_dict(), ensure_ascii=False, sort_keys=True)
    report.pdf_data = base64.b64encode(pdf).decode("ascii")
    report.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    report.pdf_size = len(pdf)
    report.status = ISSUED
    report.issued_at = utcnow()
    report.issued_by_id = actor.id
    report.issued_by = actor
    if not correction:
        set_status(request, ISSUED, actor)
    _record("jucho.report.issue", report, actor, sha256=report.pdf_sha256, size=len(pdf),
            supersedes=report.supersedes.version if report.supersedes is not None else None,
            overrides=len(report.overrides))
    return report


def discard_draft(report: JuchoReport, actor: User | None) -> None:
    """Delete a draft (its overrides and notes); an issued report cannot be deleted."""
    _require_draft(report)
    _record("jucho.report.discard", report, actor)
    db.session.delete(report)


__all__ = ["DRAFT", "DRAFTING", "JuchoReport", "JuchoReportOverride", "assembled_values", "can_issue", "clear_override",
           "current_draft", "discard_draft", "document", "issue", "latest_issued", "markers", "set_notes", "set_override",
           "start_draft", "unit_of", "versions"]
