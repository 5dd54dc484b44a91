"""A large 重調@CITY building for the report PDF test and benchmark: the demo's full profile, 400 住戸 and a long
大規模修繕 history, and the ``ReportDocument`` of one of its units (built without a request, as the service would)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from app.extensions import db
from plugins.jucho.demo_profile import seed_profile, seed_units
from plugins.jucho.models import JuchoAssociation, JuchoBuilding
from plugins.jucho.models_profile import JuchoRepairRecord
from plugins.jucho.models_units import JuchoUnit
from plugins.jucho.report_document import ReportDocument, ReportItem, ReportSection
from plugins.jucho.report_items import PERSONAL_KEYS, assemble

FLOORS = 20
PER_FLOOR = 20
UNIT = "1503"          # an odd room: 「駐車場 15,000円、駐輪場 200円」
AS_OF = date(2026, 11, 30)
REPAIR_LINES = [f"{1992 + 3 * n}年{n % 12 + 1}月 第{n + 2}回修繕工事（外壁補修・鉄部塗装・共用廊下長尺シート張替え 第{n + 2}工区）"
                for n in range(11)]
ISSUER = ("デモ不動産管理株式会社", "国土交通大臣(5)第012345号", "東京都千代田区丸の内1-1-1")


def create_large_building() -> int:
    """In the current tenant: a 管理組合 and its 物件 「グランドメゾン青葉」 seeded by ``seed_large_building``;
    commits and returns the building id."""
    association = JuchoAssociation(name="グランドメゾン青葉管理組合", kana="カンリクミアイ", management_form="full")
    db.session.add(association)
    db.session.flush()
    building = JuchoBuilding(
        association_id=association.id, name="グランドメゾン青葉", kana="グランドメゾンアオバ", address="東京都青葉区1-2-3",
        structure="RC", floors_above=FLOORS, floors_below=0, total_units=FLOORS * PER_FLOOR,
        completion_date=date(1980, 3, 31), management_fee_basis="unit", management_fee=Decimal(15000),
        repair_reserve_basis="unit", repair_reserve=Decimal(12000))
    db.session.add(building)
    db.session.flush()
    seed_large_building(building)
    db.session.commit()
    return building.id


def seed_large_building(building: JuchoBuilding) -> None:
    """Full profile, FLOORS × PER_FLOOR 住戸 and a dozen more 大規模修繕 rows (done and planned); caller commits."""
    seed_profile(building, 1)
    seed_units(building, floors=FLOORS, per_floor=PER_FLOOR)
    for n in range(11):
        db.session.add(JuchoRepairRecord(building_id=building.id, kind="done", year=1992 + 3 * n, month=n % 12 + 1,
                                         content=REPAIR_LINES[n].split(" ", 1)[1]))
    for year in (2030, 2035, 2040):
        db.session.add(JuchoRepairRecord(building_id=building.id, kind="planned", year=year,
                                         content=f"第{year - 2017}回大規模修繕（予定・長期修繕計画による）"))


def sections_of(building_id: int, *, overrides: dict[str, str] | None = None) -> list[ReportSection]:
    """The report sections of UNIT with the seller's consent, with ``overrides`` applied as staff would."""
    overrides = overrides or {}
    building = db.session.get(JuchoBuilding, building_id)
    unit = db.session.execute(sa.select(JuchoUnit).where(JuchoUnit.building_id == building_id,
                                                         JuchoUnit.number == UNIT)).scalar_one()
    sections = []
    for section in assemble(building, unit, include_personal=True, as_of=AS_OF):
        sections.append(ReportSection(section.title, [
            ReportItem(item.key, item.label, overrides.get(item.key, item.value_text),
                       overridden=item.key in overrides, personal=item.key in PERSONAL_KEYS)
            for item in section.items]))
    return sections


def document_of(sections: list[ReportSection], *, issued: bool, notes: str = "", **changes) -> ReportDocument:
    """A report document for UNIT addressed to a broker, version 1, as of AS_OF."""
    values = dict(
        request_number="R2026-000123", version=1, as_of=AS_OF, issuer_name=ISSUER[0], issuer_registration=ISSUER[1],
        issuer_address=ISSUER[2], author="管理 太郎", recipient_company="青葉不動産販売株式会社",
        recipient_license="東京都知事(3)第45678号", recipient_person="佐藤 一郎", building_name="グランドメゾン青葉",
        unit_number=UNIT, purpose="売買", seller_consent=True, sections=sections, notes=notes, issued=issued)
    values.update(changes)
    return ReportDocument(**values)
