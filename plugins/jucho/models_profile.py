"""重調@CITY: the 別表第5 facts of a building beyond the 物件マスタ — one profile row per building and the rows of its
大規模修繕 history and plans."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.tenancy import TenantScoped
from app.timeutil import UTCDateTime, utcnow

from .models import JuchoBuilding

# Choices (stored value → Japanese label). An empty value (NULL) means 未入力 and prints as 「—」.
YES_NO = {"yes": "有", "no": "無"}
YES_NO_UNKNOWN = {"yes": "有", "no": "無", "unknown": "不明"}
SUCCESSION = {"yes": "可", "no": "不可", "rules": "細則による"}
UNIT_USES = {"residential": "住宅専用", "mixed": "住宅・事務所併用可", "other": "その他（規約による）"}
PERMISSIONS = {"allowed": "可", "forbidden": "禁止", "rules": "細則等による制限あり", "none": "規約に定めなし"}
CONSIGNMENTS = {"full": "全部委託", "partial": "一部委託"}
CARETAKER_FORMS = {"resident": "常駐", "daily": "日勤", "patrol": "巡回", "none": "管理員なし"}
REVISIONS = {"planned": "予定あり", "considering": "検討中", "none": "予定なし"}
REPAIR_KINDS = {"done": "実施履歴", "planned": "予定"}

# 昭和56年5月31日: buildings started on or before this day were built to the old seismic standard (旧耐震).
OLD_SEISMIC_LAST_DAY = date(1981, 5, 31)


def _text(length: int | None = None):
    return mapped_column(sa.String(length) if length else sa.Text, nullable=True)


class JuchoBuildingProfile(TenantScoped, db.Model):
    """The 別表第5 items of one building or its association (one row per 物件; every column may be unknown)."""

    __tablename__ = "jucho_building_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("jucho_buildings.id", ondelete="CASCADE"), unique=True)
    # 管理体制
    officers_count: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    officer_selection: Mapped[str | None] = _text(200)
    general_meeting_month: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    fiscal_month: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    insurance_type: Mapped[str | None] = _text(200)
    insurance_company: Mapped[str | None] = _text(200)
    rules_names: Mapped[str | None] = _text()
    # 共用部分
    parking_spaces: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    parking_vacant: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    parking_fee_min: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    parking_fee_max: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    parking_fee_note: Mapped[str | None] = _text(200)
    parking_succession: Mapped[str | None] = _text(16)
    bicycle_spaces: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    bicycle_fee: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    motorcycle_spaces: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    motorcycle_fee: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    storage_spaces: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    storage_fee: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    balcony_use: Mapped[str | None] = _text(200)
    garden_use: Mapped[str | None] = _text(200)
    # 使用制限
    unit_use: Mapped[str | None] = _text(16)
    minpaku: Mapped[str | None] = _text(16)
    pets: Mapped[str | None] = _text(16)
    pets_note: Mapped[str | None] = _text(200)
    instruments: Mapped[str | None] = _text(16)
    instruments_note: Mapped[str | None] = _text(200)
    reform_limits: Mapped[str | None] = _text()
    other_restrictions: Mapped[str | None] = _text()
    # 管理組合の収支 (直近決算) と改定予定
    finance_as_of: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    management_income: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    management_expense: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    management_carryover: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    reserve_income: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    reserve_expense: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    reserve_carryover: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    reserve_balance: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    loan_balance: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    arrears_total: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    fee_revision: Mapped[str | None] = _text(16)
    fee_revision_note: Mapped[str | None] = _text(200)
    reserve_revision: Mapped[str | None] = _text(16)
    reserve_revision_note: Mapped[str | None] = _text(200)
    # 長期修繕計画
    long_term_plan: Mapped[str | None] = _text(16)
    long_term_plan_made_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    long_term_plan_start_year: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    long_term_plan_years: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    # アスベスト使用調査・耐震診断
    asbestos_survey: Mapped[str | None] = _text(16)
    asbestos_surveyed_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    asbestos_result: Mapped[str | None] = _text(500)
    construction_started_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    seismic_diagnosis: Mapped[str | None] = _text(16)
    seismic_diagnosed_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    seismic_result: Mapped[str | None] = _text(500)
    # 建替え等
    rebuild_resolution: Mapped[str | None] = _text(16)
    site_sale_resolution: Mapped[str | None] = _text(16)
    rebuild_note: Mapped[str | None] = _text(500)
    # 管理形態
    company_name: Mapped[str | None] = _text(200)
    company_registration: Mapped[str | None] = _text(100)
    company_address: Mapped[str | None] = _text(300)
    consignment: Mapped[str | None] = _text(16)
    management_duties: Mapped[str | None] = _text()
    # 管理員
    caretaker_form: Mapped[str | None] = _text(16)
    caretaker_hours: Mapped[str | None] = _text(200)
    office_contact: Mapped[str | None] = _text(100)
    # 管理計画認定・備考
    plan_certified: Mapped[str | None] = _text(16)
    plan_certified_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    remarks: Mapped[str | None] = _text()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def seismic_target(self) -> bool | None:
        """True when construction started on or before 1981-05-31 (耐震診断の対象), None when the day is unknown."""
        if self.construction_started_on is None:
            return None
        return self.construction_started_on <= OLD_SEISMIC_LAST_DAY


class JuchoRepairRecord(TenantScoped, db.Model):
    """One 大規模修繕 of a building: carried out (実施履歴) or planned (予定), with its year, month and content."""

    __tablename__ = "jucho_repair_records"
    __table_args__ = (sa.Index("ix_jucho_repair_records_building_kind", "building_id", "kind", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("jucho_buildings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    year: Mapped[int] = mapped_column(sa.Integer)
    month: Mapped[int | None] = mapped_column(sa.SmallInteger, nullable=True)
    content: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def kind_label(self) -> str:
        """実施履歴 or 予定."""
        return REPAIR_KINDS.get(self.kind, self.kind)


def profile_of(building) -> JuchoBuildingProfile | None:
    """The stored profile of a building, or None when nothing has been entered yet."""
    return db.session.execute(sa.select(JuchoBuildingProfile).where(
        JuchoBuildingProfile.building_id == building.id)).scalar_one_or_none()


def repair_records(building, kind: str | None = None) -> list[JuchoRepairRecord]:
    """A building's 大規模修繕 rows (of one kind when given), oldest first."""
    query = sa.select(JuchoRepairRecord).where(JuchoRepairRecord.building_id == building.id)
    if kind is not None:
        query = query.where(JuchoRepairRecord.kind == kind)
    return list(db.session.execute(query.order_by(JuchoRepairRecord.year, sa.func.coalesce(JuchoRepairRecord.month, 0),
                                                  JuchoRepairRecord.id)).scalars())


# Read-only ways from a building to its profile and 大規模修繕 rows (the report reads them as attributes).
JuchoBuilding.profile = relationship(JuchoBuildingProfile, uselist=False, viewonly=True)
JuchoBuilding.repairs = relationship(JuchoRepairRecord, viewonly=True,
                                     order_by=(JuchoRepairRecord.year, JuchoRepairRecord.month, JuchoRepairRecord.id))
