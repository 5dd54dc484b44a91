"""お知らせ (notices): platform-wide announcements targeted at tenants, delivered once per tenant, read per user.

A ``notices`` row is platform-wide (title, Markdown body, audience, publication time, who posted it). Whom it
is for lives in ``notice_targets``, one tenant-owned row per tenant, fixed when the notice is posted (all
tenants of one product, of every product, or the listed ones). That row is also the delivery record: when the
notice is published, each target is claimed with one conditional ``UPDATE … WHERE delivered_at IS NULL`` in
the same transaction as the mail the products' ``deliver_notice`` hooks queue, so a tenant gets a notice
exactly once even when ``flask notice deliver-due`` and several ``flask mail worker`` processes run at once.
``notice_reads`` (tenant-owned) holds which user opened which notice. A tenant's purge removes its targets and
read marks with every other tenant-owned row.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app import audit
from app.extensions import db
from app.models import STATUS_ACTIVE, Tenant
from app.operator import record_access
from app.products import all_products, plugin_manager, product_name
from app.richtext import markdown_html
from app.tenancy import TenantScoped, TenantScopeError, all_tenants, current_tenant_id, tenant_scope
from app.tenant_reads import TenantRead, of_tenant
from app.timeutil import JST, UTCDateTime, format_jst, utcnow

log = logging.getLogger("kanri.notices")

TITLE_MAX = 200
BODY_MAX = 20_000
INPUT_FORMAT = "%Y-%m-%d %H:%M"
AUDIENCE_ALL = "all"
AUDIENCE_ADMINS = "admins"
AUDIENCE_LABELS = {AUDIENCE_ALL: "全員", AUDIENCE_ADMINS: "管理者のみ"}
ALL_PRODUCTS = "all"
SYSTEM_ACTOR = "system"


class NoticeError(ValueError):
    """A notice command cannot be done; the message is Japanese and safe to show (``bad_input``: exit 2)."""

    def __init__(self, message: str, bad_input: bool = True):
        super().__init__(message)
        self.bad_input = bad_input


class Notice(db.Model):
    """One announcement (platform-wide; whom it is for is in ``notice_targets``)."""

    __tablename__ = "notices"
    __table_args__ = (sa.Index("ix_notices_publish_at", "publish_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))
    body: Mapped[str] = mapped_column(sa.Text)  # Markdown, rendered safely by body_html
    product: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)  # None: every product
    audience: Mapped[str] = mapped_column(sa.String(16), default=AUDIENCE_ALL)
    publish_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    source: Mapped[str | None] = mapped_column(sa.String(64), nullable=True, index=True)  # maintenance:ID, incident:ID

    @property
    def body_html(self):
        """The body as sanitised HTML (Markup)."""
        return markdown_html(self.body)

    @property
    def publish_jst(self) -> str:
        """Publication time in Japan time."""
        return format_jst(self.publish_at)

    @property
    def product_label(self) -> str:
        """The product's name, or 全製品."""
        return product_name(self.product) if self.product else "全製品"

    def state(self, now: datetime | None = None) -> str:
        """取下げ, 掲載予定 or 掲載中."""
        if self.withdrawn_at is not None:
            return "取下げ"
        return "掲載予定" if self.publish_at > (now or utcnow()) else "掲載中"


class NoticeTarget(TenantScoped, db.Model):
    """A tenant a notice is for, and when it was delivered to that tenant (NULL: not yet)."""

    __tablename__ = "notice_targets"
    __table_args__ = (sa.UniqueConstraint("notice_id", "tenant_id"),
                      sa.Index("ix_notice_targets_pending", "delivered_at", "notice_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("notices.id", ondelete="CASCADE"))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    mails_queued: Mapped[int] = mapped_column(default=0)


class NoticeRead(TenantScoped, db.Model):
    """A user opened a notice (the unread mark is gone for this user only)."""

    __tablename__ = "notice_reads"
    __table_args__ = (sa.UniqueConstraint("user_id", "notice_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- input --------------------------------------------------------------------------------------

def _has_control(text: str, allow_newlines: bool = False) -> bool:
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    return any((ord(ch) < 32 or 0x7f <= ord(ch) <= 0x9f) and ch not in allowed for ch in text)


def clean_title(title: str, name: str = "タイトル", limit: int = TITLE_MAX) -> str:
    """A one-line title: not empty, at most ``limit`` characters, no control characters."""
    title = (title or "").strip()
    if not title:
        raise NoticeError(f"{name}を指定してください。")
    if len(title) > limit:
        raise NoticeError(f"{name}は{limit}文字以内にしてください（{len(title)}文字）。")
    if _has_control(title):
        raise NoticeError(f"{name}に制御文字は使えません。")
    return title


def clean_body(body: str) -> str:
    """A Markdown body: not empty, at most BODY_MAX characters, no control characters but line breaks and tabs."""
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise NoticeError("本文が空です。")
    if len(body) > BODY_MAX:
        raise NoticeError(f"本文は{BODY_MAX}文字以内にしてください（{len(body)}文字）。")
    if _has_control(body, allow_newlines=True):
        raise NoticeError("本文に制御文字は使えません。")
    return body


def read_body_file(path) -> str:
    """Read a UTF-8 Markdown file for a notice or an incident mail (Japanese message when it cannot be used)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(BODY_MAX * 4 + 1)
    except FileNotFoundError:
        raise NoticeError(f"本文のファイルが見つかりません: {path}") from None
    except IsADirectoryError:
        raise NoticeError(f"本文のファイルではなくフォルダです: {path}") from None
    except OSError as exc:
        raise NoticeError(f"本文のファイルを読めません: {path}（{exc.strerror}）") from None
    if len(raw) > BODY_MAX * 4:
        raise NoticeError(f"本文のファイルが大きすぎます（{BODY_MAX}文字以内にしてください）: {path}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NoticeError(f"本文のファイルは UTF-8 で保存してください: {path}") from None
    return clean_body(text)


def parse_publish_at(text: str | None, now: datetime | None = None) -> datetime | None:
    """``--publish-at`` typed in Japan time ('YYYY-MM-DD HH:MM') as aware UTC; None when not given."""
    if text is None:
        return None
    try:
        local = datetime.strptime(text.strip(), INPUT_FORMAT).replace(tzinfo=JST)
    except ValueError:
        raise NoticeError(f"--publish-at は「YYYY-MM-DD HH:MM」（日本時間）の形で指定してください: {text}") from None
    moment = local.astimezone(UTC)
    if moment <= (now or utcnow()):
        raise NoticeError(f"--publish-at が過去の日時です: {format_jst(moment)}。すぐに掲載するには省略してください。")
    return moment


def product_codes() -> list[str]:
    """The codes of the registered products."""
    return sorted(all_products())


def check_product(code: str | None) -> str | None:
    """A registered product's code, or None for ``all``; anything else is refused with the list of codes."""
    code = (code or "").strip().lower()
    if code == ALL_PRODUCTS:
        return None
    if code not in all_products():
        raise NoticeError(f"製品コード {code!r} はありません。指定できるもの: {', '.join([*product_codes(), ALL_PRODUCTS])}")
    return code


def target_tenants(product: str | None, codes: list[str] | tuple[str, ...] = ()) -> list[Tenant]:
    """The active tenants a notice or incident goes to: the listed codes (of ``product`` when given), else every
    active tenant of ``product`` (of every product when None)."""
    if codes:
        found = []
        for code in dict.fromkeys(c.strip().lower() for c in codes):
            tenant = Tenant.by_code(code)
            if tenant is None or tenant.purged_at is not None:
                raise NoticeError(f"会社コード {code!r} のテナントはありません。")
            if product is not None and tenant.product != product:
                raise NoticeError(f"会社コード {code} は {product_name(product)}（{product}）のテナントではありません。")
            if tenant.status != STATUS_ACTIVE:
                raise NoticeError(f"会社コード {code} のテナントは停止中です。")
            found.append(tenant)
        return found
    query = sa.select(Tenant).where(Tenant.status == STATUS_ACTIVE).order_by(Tenant.code)
    if product is not None:
        query = query.where(Tenant.product == product)
    return list(db.session.execute(query).scalars())


# --- posting and withdrawing --------------------------------------------------------------------

def create_notice(*, title: str, body: str, product: str | None, tenants: list[Tenant], operator: str,
                  publish_at: datetime | None = None, audience: str = AUDIENCE_ALL, reason: str | None = None,
                  source: str | None = None, delivered: bool = False, audit_post: bool = True) -> Notice:
    """Add a notice and its targets in the caller's transaction (the caller commits, then calls ``deliver_due``).

    ``reason`` records 運用担当者による操作 in each target tenant's log; ``delivered`` marks every target as
    already delivered (an incident mails the admins itself); ``audit_post`` records ``notice.post`` in the
    system chain.
    """
    if audience not in AUDIENCE_LABELS:
        raise NoticeError(f"対象者は {' / '.join(AUDIENCE_LABELS)} のどちらかを指定してください。")
    if not tenants:
        raise NoticeError("対象のテナントがありません。")
    now = utcnow()
    notice = Notice(title=title, body=body, product=product, audience=audience, publish_at=publish_at or now,
                    created_at=now, created_by=operator, source=source)
    db.session.add(notice)
    db.session.flush()
    with all_tenants():
        for tenant in tenants:
            db.session.add(NoticeTarget(notice_id=notice.id, tenant_id=tenant.id,
                                        delivered_at=now if delivered else None))
        db.session.flush()
    if audit_post:
        audit.record("notice.post", tenant=None, actor_login=operator, target=f"notice:{notice.id}",
                     title=title, product=product or ALL_PRODUCTS, audience=audience,
                     publish_at=notice.publish_at.isoformat(), tenants=len(tenants),
                     tenant_codes=[t.code for t in tenants[:50]], reason=reason)
    if reason is not None:
        for tenant in tenants:
            record_access(tenant, "notice post", reason, operator, notice_id=notice.id, title=title)
    return notice


def post_notice(*, title: str, body: str, product: str, tenant_codes=(), publish_at: str | None = None,
                audience: str = AUDIENCE_ALL, operator: str, reason: str) -> tuple[Notice, list[Tenant]]:
    """``flask notice post``: check everything, then add the notice and commit (nothing is written on bad input)."""
    title = clean_title(title)
    body = clean_body(body)
    code = check_product(product)
    when = parse_publish_at(publish_at)
    tenants = target_tenants(code, tenant_codes)
    if not tenants:
        raise NoticeError(f"{product_name(code) if code else '全製品'}に有効なテナントがありません。")
    try:
        notice = create_notice(title=title, body=body, product=code, tenants=tenants, operator=operator,
                               publish_at=when, audience=audience, reason=reason)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return notice, tenants


def by_source(source: str) -> list[Notice]:
    """The notices posted automatically for one thing (``maintenance:<id>``, ``incident:<id>``)."""
    return list(db.session.execute(sa.select(Notice).where(Notice.source == source).order_by(Notice.id)).scalars())


def targets_of(notice_id: int) -> list[Tenant]:
    """The tenants a notice is for (operator code: crosses tenants)."""
    return list(db.session.execute(
        sa.select(Tenant).join(NoticeTarget, NoticeTarget.tenant_id == Tenant.id)
        .where(NoticeTarget.notice_id == notice_id).order_by(Tenant.code)
        .execution_options(all_tenants=True)).scalars())


def withdraw(notice_id: int, operator: str, reason: str | None) -> Notice:
    """Take a notice down (it disappears from every list and is not delivered any more) in the caller's transaction."""
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        raise NoticeError(f"お知らせ番号 {notice_id} はありません。")
    if notice.withdrawn_at is not None:
        raise NoticeError(f"お知らせ番号 {notice_id} は取り下げ済みです（{format_jst(notice.withdrawn_at)}）。")
    notice.withdrawn_at = utcnow()
    notice.withdrawn_by = operator
    audit.record("notice.withdraw", tenant=None, actor_login=operator, target=f"notice:{notice.id}",
                 title=notice.title, reason=reason)
    if reason is not None:
        for tenant in targets_of(notice.id):
            record_access(tenant, "notice withdraw", reason, operator, notice_id=notice.id, title=notice.title)
    return notice


def withdraw_notice(notice_id: int, operator: str, reason: str) -> Notice:
    """``flask notice withdraw``: withdraw and commit."""
    try:
        notice = withdraw(notice_id, operator, reason)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return notice


@dataclass
class NoticeSummary:
    """A notice with how many tenants it is for and how many got it (for ``flask notice list``)."""

    notice: Notice
    targets: int
    delivered: int


def list_notices(limit: int = 100) -> list[NoticeSummary]:
    """The newest notices with their delivery counts."""
    counts = (sa.select(NoticeTarget.notice_id, sa.func.count().label("targets"),
                        sa.func.count(NoticeTarget.delivered_at).label("delivered"))
              .group_by(NoticeTarget.notice_id).subquery())
    rows = db.session.execute(
        sa.select(Notice, counts.c.targets, counts.c.delivered).outerjoin(counts, counts.c.notice_id == Notice.id)
        .order_by(Notice.publish_at.desc(), Notice.id.desc()).limit(limit)
        .execution_options(all_tenants=True)).all()
    return [NoticeSummary(notice, targets or 0, delivered or 0) for notice, targets, delivered in rows]


# --- delivery -----------------------------------------------------------------------------------

@dataclass
class DeliveryReport:
    """What one delivery pass did: tenants served, mails the products queued, targets that failed (retried later)."""

    tenants: int = 0
    mails: int = 0
    failed: list[str] = field(default_factory=list)


def _due_targets(now: datetime, notice_id: int | None) -> list[tuple[int, int, int]]:
    query = (sa.select(NoticeTarget.id, NoticeTarget.notice_id, NoticeTarget.tenant_id)
             .join(Notice, Notice.id == NoticeTarget.notice_id)
             .where(NoticeTarget.delivered_at.is_(None), Notice.publish_at <= now, Notice.withdrawn_at.is_(None))
             .order_by(Notice.publish_at, NoticeTarget.id).execution_options(all_tenants=True))
    if notice_id is not None:
        query = query.where(NoticeTarget.notice_id == notice_id)
    return [tuple(row) for row in db.session.execute(query)]


def _deliver_target(target_id: int, notice_id: int, tenant: Tenant, now: datetime) -> int | None:
    """Claim one target and let the products deliver; None when another process already has it."""
    with tenant_scope(tenant):
        claimed = db.session.execute(
            sa.update(NoticeTarget).where(NoticeTarget.id == target_id, NoticeTarget.delivered_at.is_(None))
            .values(delivered_at=now).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:  # delivered (or being delivered) by another process
            db.session.rollback()
            return None
        notice = db.session.get(Notice, notice_id)
        answers = plugin_manager().hook.deliver_notice(tenant=tenant, notice=notice)
        mails = sum(answer for answer in answers if isinstance(answer, int))
        db.session.execute(sa.update(NoticeTarget).where(NoticeTarget.id == target_id)
                           .values(mails_queued=mails).execution_options(synchronize_session=False))
        audit.record("notice.deliver", tenant=tenant, actor_login=SYSTEM_ACTOR, target=f"notice:{notice_id}",
                     title=notice.title, mails=mails)
        db.session.commit()
        return mails


def deliver_due(now: datetime | None = None, notice_id: int | None = None) -> DeliveryReport:
    """Deliver every published, undelivered target once (each tenant in its own transaction); safe to run anywhere,
    any number of times, by several processes at once."""
    now = now or utcnow()
    report = DeliveryReport()
    for target_id, due_notice, tenant_id in _due_targets(now, notice_id):
        tenant = db.session.get(Tenant, tenant_id)
        try:
            mails = _deliver_target(target_id, due_notice, tenant, now)
        except Exception:  # noqa: BLE001 - one tenant's failure must not stop the others; retried next pass
            db.session.rollback()
            log.exception('{"event": "notice.deliver_error", "notice_id": %d, "tenant_id": %d}', due_notice, tenant_id)
            report.failed.append(f"{tenant.code}（お知らせ番号 {due_notice}）")
            continue
        if mails is not None:
            report.tenants += 1
            report.mails += mails
    return report


# --- what a user sees ---------------------------------------------------------------------------

def visible_query(user, now: datetime | None = None):
    """Notices for the user's tenant, published, not withdrawn, for the user's role; newest first."""
    query = (sa.select(Notice).join(NoticeTarget, NoticeTarget.notice_id == Notice.id)
             .where(NoticeTarget.tenant_id == user.tenant_id,
                    *_published_for(Notice.__table__, now or utcnow(), bool(user.is_admin))))
    return query.order_by(Notice.publish_at.desc(), Notice.id.desc())


def _published_for(notices, now, admin: bool) -> list:
    """Published by ``now``, not withdrawn, and for the role (一般 users see only notices for everyone)."""
    found = [notices.c.publish_at <= now, notices.c.withdrawn_at.is_(None)]
    return found if admin else [*found, notices.c.audience == AUDIENCE_ALL]


def find_visible(user, notice_id: int) -> Notice | None:
    """The notice if this user may read it now, else None (the caller answers 404)."""
    return db.session.execute(visible_query(user).where(Notice.id == notice_id)).scalar_one_or_none()


def _visible_conditions(notices, targets, admin: bool) -> list:
    return [of_tenant(targets), *_published_for(notices, sa.bindparam("now", type_=UTCDateTime()), admin)]


def _panel_statement(admin: bool):
    """The newest visible notices with the user's read mark, and the user's unread count on every row."""
    notices, targets, reads = Notice.__table__, NoticeTarget.__table__, NoticeRead.__table__
    user_id = sa.bindparam("user_id", type_=sa.Integer)
    unread = (sa.select(sa.func.count()).select_from(notices.join(targets, targets.c.notice_id == notices.c.id))
              .where(*_visible_conditions(notices, targets, admin),
                     notices.c.id.not_in(sa.select(reads.c.notice_id).where(of_tenant(reads),
                                                                             reads.c.user_id == user_id)))
              .correlate(None).scalar_subquery())
    return (sa.select(notices.c.id, notices.c.title, notices.c.publish_at,
                      reads.c.id.is_not(None).label("is_read"), unread.label("unread"))
            .select_from(notices.join(targets, targets.c.notice_id == notices.c.id)
                         .outerjoin(reads, sa.and_(reads.c.notice_id == notices.c.id, reads.c.user_id == user_id,
                                                   of_tenant(reads))))
            .where(*_visible_conditions(notices, targets, admin))
            .order_by(notices.c.publish_at.desc(), notices.c.id.desc())
            .limit(sa.bindparam("limit", type_=sa.Integer)))


_PANEL = {True: TenantRead(lambda: _panel_statement(admin=True)),
          False: TenantRead(lambda: _panel_statement(admin=False))}


def panel_rows(user, limit: int = 5) -> list[sa.Row]:
    """The user's newest visible notices for the ホーム panel, in one read: id, title, publish_at, is_read, and
    ``unread`` (the user's unread count over all visible notices) on every row."""
    if user.tenant_id != current_tenant_id():
        raise TenantScopeError("the notice panel is read for the current tenant's user only")
    return _PANEL[bool(user.is_admin)].rows(now=utcnow(), user_id=user.id, limit=limit)


def read_ids(user, notice_ids) -> set[int]:
    """Which of these notices the user has opened."""
    ids = list(notice_ids)
    if not ids:
        return set()
    return set(db.session.execute(sa.select(NoticeRead.notice_id).where(
        NoticeRead.user_id == user.id, NoticeRead.notice_id.in_(ids))).scalars())


def mark_read(user, notice: Notice) -> None:
    """Remember that the user opened the notice (once; a concurrent second open is harmless); commits."""
    if read_ids(user, [notice.id]):
        return
    try:
        with db.session.begin_nested():
            db.session.add(NoticeRead(notice_id=notice.id, user_id=user.id, read_at=utcnow()))
    except sa.exc.IntegrityError:
        pass  # the same user opened it in another tab at the same moment
    db.session.commit()
