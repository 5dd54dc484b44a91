"""Security incidents: every active admin of the affected tenants is mailed, and the incident stays checkable.

``flask incident notify`` writes, in one transaction: the ``incidents`` row (time, subject, operator, reason,
scope), one outbox mail per admin (not secret), one ``incident_recipients`` row per admin (tenant-owned: tenant,
login id and the outbox mail id, never the address), an admins-only notice for those tenants (already delivered:
the mail is the delivery), and in each tenant's log ``incident.notify`` plus 運用担当者による操作. ``flask incident
status`` reads the outbox rows back: queued, delivered, failed, and which recipients failed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app import audit
from app.extensions import db
from app.mailer import STATUS_FAILED, STATUS_SENT, MailOutbox, send_mail
from app.models import ROLE_ADMIN, STATUS_ACTIVE, Tenant, User
from app.operator import record_access
from app.products import product_name
from app.tenancy import TenantScoped, tenant_scope
from app.timeutil import UTCDateTime, format_jst, utcnow
from app.urls import external_url

from . import notices
from .notices import NoticeError

SUBJECT_MAX = 100
MAIL_TEMPLATE = "incident"


class Incident(db.Model):
    """One security incident notification (platform-wide; its recipients are tenant-owned rows)."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(SUBJECT_MAX))
    scope: Mapped[str] = mapped_column(sa.String(64))  # all / product:<code> / tenants
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.String(200))
    notice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("notices.id", ondelete="SET NULL"), nullable=True)


class IncidentRecipient(TenantScoped, db.Model):
    """One admin of an affected tenant and the outbox mail sent to them (no address: the mail row holds it)."""

    __tablename__ = "incident_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(sa.ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    login_id: Mapped[str] = mapped_column(sa.String(64))
    mail_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mail_outbox.id", ondelete="SET NULL"), nullable=True,
                                                index=True)


def _scope(tenant_codes, product: str | None, everyone: bool) -> tuple[str, str | None]:
    chosen = sum((bool(tenant_codes), product is not None, everyone))
    if chosen != 1:
        raise NoticeError("対象は --tenant（複数可）、--product、--all のどれか一つで指定してください。")
    if everyone:
        return "all", None
    if product is not None:
        code = notices.check_product(product)
        if code is None:
            raise NoticeError("全製品を対象にするには --product all ではなく --all を指定してください。")
        return f"product:{code}", code
    return "tenants", None


def _admins() -> list[User]:
    return list(db.session.execute(sa.select(User).where(User.role == ROLE_ADMIN, User.status == STATUS_ACTIVE)
                                   .order_by(User.login_id)).scalars())


MAIL_TOPIC = "【重要】セキュリティインシデントのお知らせ"


def notify(*, subject: str, body: str, tenant_codes=(), product: str | None = None, everyone: bool = False,
           operator: str, reason: str) -> tuple[Incident, int, list[Tenant]]:
    """Check the input, then mail every active admin of the affected tenants, record it all and commit.

    Returns the incident, the number of mails queued and the tenants. Nothing is written on bad input.
    """
    subject = notices.clean_title(subject, "件名", SUBJECT_MAX)
    body = notices.clean_body(body)
    scope, code = _scope(tenant_codes, product, everyone)
    tenants = notices.target_tenants(code, tenant_codes)
    if not tenants:
        raise NoticeError(f"{product_name(code) if code else '全製品'}に有効なテナントがありません。")
    try:
        incident = Incident(subject=subject, scope=scope, created_at=utcnow(), created_by=operator, reason=reason)
        db.session.add(incident)
        db.session.flush()
        notice = notices.create_notice(title=subject, body=body, product=code, tenants=tenants, operator=operator,
                                       audience=notices.AUDIENCE_ADMINS, source=f"incident:{incident.id}",
                                       delivered=True, audit_post=False)
        incident.notice_id = notice.id
        link = external_url("transparency.notice_detail", notice_id=notice.id)
        queued = 0
        for tenant in tenants:
            queued += _notify_tenant(incident, notice, tenant, link, operator, reason)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return incident, queued, tenants


def _notify_tenant(incident: Incident, notice, tenant: Tenant, link: str, operator: str, reason: str) -> int:
    mails = 0
    with tenant_scope(tenant):
        for admin in _admins():
            mail_id = None
            if admin.email:
                row = send_mail(admin.email, MAIL_TOPIC, MAIL_TEMPLATE, secret=False, admin=admin,
                                tenant=tenant, product=product_name(tenant.product), incident=incident,
                                notice=notice, link=link)
                db.session.flush()
                mail_id = row.id
                mails += 1
            db.session.add(IncidentRecipient(incident_id=incident.id, user_id=admin.id, login_id=admin.login_id,
                                             mail_id=mail_id))
        audit.record("incident.notify", tenant=tenant, actor_login=operator, target=f"incident:{incident.id}",
                     subject=incident.subject, mails=mails, notice_id=notice.id)
        record_access(tenant, "incident notify", reason, operator, incident_id=incident.id)
    return mails


@dataclass
class IncidentStatus:
    """Where the incident's mails are: counts per state and the recipients whose mail failed."""

    incident: Incident
    tenants: int = 0
    queued: int = 0
    delivered: int = 0
    failed: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (tenant code, login id, why)


def get(incident_id: int) -> Incident:
    """The incident, or a Japanese error."""
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NoticeError(f"インシデント番号 {incident_id} はありません。")
    return incident


def status(incident_id: int) -> IncidentStatus:
    """Counts of queued / delivered / failed mails of an incident and the failed recipients (no addresses)."""
    result = IncidentStatus(get(incident_id))
    rows = db.session.execute(
        sa.select(Tenant.code, IncidentRecipient.login_id, IncidentRecipient.mail_id, MailOutbox.status,
                  MailOutbox.last_error)
        .join(Tenant, Tenant.id == IncidentRecipient.tenant_id)
        .outerjoin(MailOutbox, MailOutbox.id == IncidentRecipient.mail_id)
        .where(IncidentRecipient.incident_id == incident_id)
        .order_by(Tenant.code, IncidentRecipient.login_id)
        .execution_options(all_tenants=True)).all()
    if result.incident.notice_id is not None:
        result.tenants = len(notices.targets_of(result.incident.notice_id))
    for code, login_id, mail_id, mail_status, error in rows:
        if mail_id is None:
            result.failed += 1
            result.failures.append((code, login_id, "メールアドレス未登録"))
        elif mail_status == STATUS_SENT:
            result.delivered += 1
        elif mail_status == STATUS_FAILED:
            result.failed += 1
            result.failures.append((code, login_id, (error or "").split(":")[0] or "送信失敗"))
        else:
            result.queued += 1
    return result


@dataclass
class IncidentSummary:
    """One line of ``flask incident list``."""

    incident: Incident
    tenants: int
    recipients: int

    @property
    def created_jst(self) -> str:
        """When it was notified, in Japan time."""
        return format_jst(self.incident.created_at)


def list_incidents(limit: int = 100) -> list[IncidentSummary]:
    """The newest incidents with how many tenants and admins they reached."""
    counts = (sa.select(IncidentRecipient.incident_id,
                        sa.func.count(sa.distinct(IncidentRecipient.tenant_id)).label("tenants"),
                        sa.func.count().label("recipients"))
              .group_by(IncidentRecipient.incident_id).subquery())
    rows = db.session.execute(
        sa.select(Incident, counts.c.tenants, counts.c.recipients)
        .outerjoin(counts, counts.c.incident_id == Incident.id)
        .order_by(Incident.id.desc()).limit(limit).execution_options(all_tenants=True)).all()
    return [IncidentSummary(incident, tenants or 0, recipients or 0) for incident, tenants, recipients in rows]
