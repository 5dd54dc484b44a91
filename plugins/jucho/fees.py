"""手数料: the per-tenant fee table (tax-inclusive yen and the tax rate per item) and the fee arithmetic.

A request stores its fee as line items copied from this table when it is made (``requests.create_request``), so a
later change of an amount never changes what an older request costs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenancy import TenantScoped
from app.timeutil import UTCDateTime, utcnow

KIND_REPORT = "report"      # the 重要事項調査報告書 itself: charged on every request
KIND_DOCUMENT = "document"  # an extra copy the broker may tick (管理規約の写し …)
KIND_EXPRESS = "express"    # 速達 (postal delivery only)
KINDS = {KIND_REPORT: "報告書（必ず請求）", KIND_DOCUMENT: "追加書類（依頼者が選択）", KIND_EXPRESS: "速達（郵送のみ）"}
MAX_FEE = 1_000_000
DEFAULT_TAX_RATE = 10

# (code, name, kind, tax-inclusive yen): a sensible start for a new 重調@CITY tenant; admins edit it.
DEFAULT_FEES = (
    ("report", "重要事項調査報告書", KIND_REPORT, 11000),
    ("rules", "管理規約の写し", KIND_DOCUMENT, 3300),
    ("bylaws", "使用細則の写し", KIND_DOCUMENT, 1100),
    ("repair_plan", "長期修繕計画の写し", KIND_DOCUMENT, 3300),
    ("minutes", "総会議事録の写し（直近2期分）", KIND_DOCUMENT, 2200),
    ("express", "速達", KIND_EXPRESS, 1100),
)


class JuchoFeeItem(TenantScoped, db.Model):
    """One line of a tenant's fee table: a tax-inclusive amount in yen and its consumption-tax rate."""

    __tablename__ = "jucho_fee_items"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),
                      sa.Index("ix_jucho_fee_items_tenant_order", "tenant_id", "sort_order"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(16))
    amount: Mapped[int] = mapped_column(sa.Integer)     # yen, tax included
    tax_rate: Mapped[int] = mapped_column(sa.Integer)   # percent (10 = 10%)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def kind_label(self) -> str:
        """Japanese label of the kind."""
        return KINDS.get(self.kind, self.kind)

    @property
    def tax(self) -> int:
        """The consumption tax included in the amount (yen, rounded down)."""
        return tax_included(self.amount, self.tax_rate)


def tax_included(amount: int, rate: int) -> int:
    """The consumption tax inside a tax-inclusive amount: floor(amount × rate / (100 + rate))."""
    return amount * rate // (100 + rate)


@dataclass(frozen=True)
class FeeLine:
    """One charged item as it is copied onto a request."""

    fee_item_id: int | None
    name: str
    amount: int
    tax_rate: int

    @property
    def tax(self) -> int:
        """Tax included in this line."""
        return tax_included(self.amount, self.tax_rate)


def active_items(kind: str | None = None) -> list[JuchoFeeItem]:
    """The current tenant's active fee items (of one kind), in display order."""
    query = sa.select(JuchoFeeItem).where(JuchoFeeItem.active.is_(True))
    if kind is not None:
        query = query.where(JuchoFeeItem.kind == kind)
    return list(db.session.execute(query.order_by(JuchoFeeItem.sort_order, JuchoFeeItem.id)).scalars())


def all_items() -> list[JuchoFeeItem]:
    """Every fee item of the current tenant, active or not, in display order."""
    return list(db.session.execute(
        sa.select(JuchoFeeItem).order_by(JuchoFeeItem.sort_order, JuchoFeeItem.id)).scalars())


def lines_for(document_ids: list[int], express: bool) -> list[FeeLine]:
    """The fee lines of a new request: every active 報告書 item, the chosen active documents, 速達 if asked."""
    lines = [_line(item) for item in active_items(KIND_REPORT)]
    chosen = set(document_ids)
    lines += [_line(item) for item in active_items(KIND_DOCUMENT) if item.id in chosen]
    if express:
        lines += [_line(item) for item in active_items(KIND_EXPRESS)]
    return lines


def _line(item: JuchoFeeItem) -> FeeLine:
    return FeeLine(item.id, item.name, item.amount, item.tax_rate)


def seed_default_fees() -> int:
    """Give the current tenant the default fee table when it has none; return how many items were added."""
    if db.session.execute(sa.select(JuchoFeeItem.id).limit(1)).first() is not None:
        return 0
    for order, (code, name, kind, amount) in enumerate(DEFAULT_FEES, start=1):
        db.session.add(JuchoFeeItem(code=code, name=name, kind=kind, amount=amount, tax_rate=DEFAULT_TAX_RATE,
                                    active=True, sort_order=order * 10))
    db.session.flush()
    return len(DEFAULT_FEES)
