"""Demo 別表第5 data: a full profile and 大規模修繕 rows per building, and ~40 住戸 (bulk insert) for one of them."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from app.crypto import bind_rows
from app.extensions import db

from .models_profile import JuchoBuildingProfile, JuchoRepairRecord
from .models_units import JuchoUnit


def seed_profile(building, number: int = 1) -> JuchoBuildingProfile:
    """Give a building a complete profile and two 大規模修繕 rows (one done, one planned)."""
    built = building.completion_date or date(2000, 3, 31)
    profile = JuchoBuildingProfile(
        building_id=building.id, officers_count=5 + number, officer_selection="輪番制（総会で選任）",
        general_meeting_month=6, fiscal_month=3, insurance_type="マンション総合保険", insurance_company="青葉損害保険株式会社",
        rules_names="使用細則、駐車場使用細則、ペット飼育細則", parking_spaces=30 + number * 4, parking_vacant=number,
        parking_fee_min=12000, parking_fee_max=18000 + number * 500, parking_fee_note="機械式上段 12,000円",
        parking_succession="no", bicycle_spaces=80, bicycle_fee=200, motorcycle_spaces=6, motorcycle_fee=1000,
        storage_spaces=10, storage_fee=1500, balcony_use="有（使用料なし）", garden_use="1階住戸のみ 月額500円",
        unit_use="residential", minpaku="forbidden", pets="rules", pets_note="小型犬・猫 1匹まで（ペット飼育細則）",
        instruments="rules", instruments_note="9時〜20時に限る", reform_limits="床材は遮音等級 LL-45 以上、工事は理事会の承認が必要",
        other_restrictions="", finance_as_of=date(2026, 3, 31), management_income=18_600_000 + number * 100_000,
        management_expense=17_900_000, management_carryover=3_200_000, reserve_income=21_000_000,
        reserve_expense=4_500_000, reserve_carryover=96_000_000, reserve_balance=96_000_000 + number * 1_000_000,
        loan_balance=0, arrears_total=120_000, fee_revision="none", reserve_revision="planned",
        reserve_revision_note="2027年4月から1㎡あたり30円増額（総会決議済み）", long_term_plan="yes",
        long_term_plan_made_on=date(2020, 5, 20), long_term_plan_start_year=2020, long_term_plan_years=30,
        asbestos_survey="yes", asbestos_surveyed_on=date(2019, 3, 15), asbestos_result="吹付けアスベストの使用なし",
        construction_started_on=date(built.year - 2, 4, 1), seismic_diagnosis="no", seismic_result="",
        rebuild_resolution="no", site_sale_resolution="no", company_name="みなと住宅管理株式会社",
        company_registration="国土交通大臣(5)第012345号", company_address="東京都千代田区丸の内1-1-1",
        consignment="full", management_duties="事務管理業務、管理員業務、清掃業務、建物・設備管理業務",
        caretaker_form="daily", caretaker_hours="月〜金 9:00〜17:00（祝日休み）", office_contact="03-5555-0100",
        plan_certified="yes" if number == 1 else "no", plan_certified_on=date(2024, 4, 1) if number == 1 else None,
        remarks="")
    db.session.add(profile)
    db.session.add(JuchoRepairRecord(building_id=building.id, kind="done", year=built.year + 12, month=10,
                                     content="第1回大規模修繕（外壁塗装・屋上防水・鉄部塗装）"))
    db.session.add(JuchoRepairRecord(building_id=building.id, kind="planned", year=max(built.year + 36, 2028),
                                     content="第2回大規模修繕（外壁・給排水管更新）"))
    return profile


def seed_units(building, floors: int = 8, per_floor: int = 5) -> int:
    """Add floors × per_floor 住戸 (101 … 805) in one bulk insert, a few with arrears; returns how many."""
    rows = []
    for floor in range(1, floors + 1):
        for room in range(1, per_floor + 1):
            area = Decimal("58.40") + Decimal(room * 6) + (Decimal("0.35") if room % 2 else 0)
            late = floor == 3 and room == 2
            rows.append({
                "building_id": building.id, "number": f"{floor}{room:02d}", "floor": floor, "area": area,
                "layout": "2LDK" if room in (1, 5) else "3LDK", "management_fee": int(area * 200),
                "repair_reserve": int(area * 180), "repair_lump_sum": None,
                "usage_fee": 15200 if room % 2 else 200, "usage_fee_detail": "駐車場 15,000円、駐輪場 200円" if room % 2
                else "駐輪場 200円", "community_fee": 300, "payment_method": "debit",
                "arrears_management": "45000" if late else "0", "arrears_reserve": "36000" if late else "0",
                "arrears_usage": "0", "late_charge": "1230" if late else "0"})
    db.session.execute(sa.insert(JuchoUnit), bind_rows(JuchoUnit, rows))
    return len(rows)
