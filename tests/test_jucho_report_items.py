"""report_items.assemble: the 別表第5 sections 1–12 in order, values formatted for print, stable keys, 「—」 for what
is unknown, and the seller's arrears only with consent."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.extensions import db
from plugins.jucho.demo_profile import seed_profile, seed_units
from plugins.jucho.models import JuchoBuilding
from plugins.jucho.models_units import JuchoUnit
from plugins.jucho.report_items import NO_CONSENT, PERSONAL_KEYS, Section, assemble
from tests.jucho_fixtures import *  # noqa: F403  (the shared 重調 fixtures)

TITLES = ["1. 物件の表示", "2. 管理体制", "3. 共用部分に関する規約等の定め", "4. 売却予定住戸の費用負担", "5. 管理組合の収支",
          "6. 専有部分の使用規制", "7. 大規模修繕", "8. アスベスト使用調査・耐震診断", "9. 建替え等", "10. 管理形態",
          "11. 管理員", "12. 備考"]


def _values(sections: list[Section]) -> dict[str, str]:
    return {item.key: item.value_text for section in sections for item in section.items}


def _full(in_tenant, make_building, include_personal: bool):
    building_id = make_building()
    with in_tenant("juchoco"):
        building = db.session.get(JuchoBuilding, building_id)
        seed_profile(building, 1)
        seed_units(building)
        db.session.commit()
        db.session.expire_all()
        building = db.session.get(JuchoBuilding, building_id)
        unit = db.session.execute(sa.select(JuchoUnit).where(JuchoUnit.number == "302")).scalar_one()
        return assemble(building, unit, include_personal=include_personal, as_of=date(2026, 11, 30))


def test_full_building_prints_every_section_in_order_with_japanese_values(jucho, in_tenant, make_building):
    sections = _full(in_tenant, make_building, include_personal=True)
    assert [section.title for section in sections] == TITLES
    values = _values(sections)
    keys = [item.key for section in sections for item in section.items]
    assert len(keys) == len(set(keys))                                   # stable, unique keys
    assert values["building.name"] == "グランドメゾン青葉" and values["building.total_units"] == "84戸"
    assert values["unit.number"] == "302" and values["unit.area"] == "70.40㎡"
    assert values["building.plan_certified"] == "有（2024年4月1日認定）"
    assert values["governance.association"] == "グランドメゾン青葉管理組合"
    assert values["governance.officers"] == "6名" and values["governance.general_meeting_month"] == "6月"
    assert values["parking.spaces"] == "34台" and values["parking.vacant"] == "1台"
    assert values["parking.fee"] == "12,000円〜18,500円（機械式上段 12,000円）"
    assert values["parking.succession"] == "不可" and values["bicycle.fee"] == "200円"
    assert values["unit.management_fee"] == "14,080円" and values["unit.usage_fee"] == "200円（駐輪場 200円）"
    assert values["unit.arrears.management"] == "45,000円" and values["unit.arrears.usage"] == "なし"
    assert values["unit.late_charge"] == "有（1,230円）" and values["unit.payment_method"] == "口座振替"
    assert values["finance.reserve_balance"] == "97,000,000円" and values["finance.loan_balance"] == "0円"
    assert values["finance.reserve_revision"] == "予定あり（2027年4月から1㎡あたり30円増額（総会決議済み））"
    assert values["use.minpaku"] == "禁止" and values["use.pets"] == "細則等による制限あり（小型犬・猫 1匹まで（ペット飼育細則））"
    assert values["plan.exists"] == "有（2020年5月20日作成）" and values["plan.period"] == "2020年〜2049年（30年間）"
    assert values["repairs.done"] == "1992年10月 第1回大規模修繕（外壁塗装・屋上防水・鉄部塗装）"
    assert values["repairs.planned"] == "2028年 第2回大規模修繕（外壁・給排水管更新）"
    assert values["asbestos.survey"] == "有（2019年3月15日実施）"
    assert values["seismic.target"] == "対象（1978年4月1日着工）" and values["seismic.diagnosis"] == "無"
    assert values["management.registration"] == "国土交通大臣(5)第012345号" and values["management.consignment"] == "全部委託"
    assert values["caretaker.form"] == "日勤" and values["caretaker.contact"] == "03-5555-0100"
    assert values["remarks.as_of"] == "2026年11月30日" and values["remarks.text"] == "—"


def test_without_consent_the_arrears_are_not_printed(jucho, in_tenant, make_building):
    values = _values(_full(in_tenant, make_building, include_personal=False))
    for key in PERSONAL_KEYS:
        assert values[key] == NO_CONSENT
    text = "".join(values.values())
    assert "45,000円" not in text and "1,230円" not in text
    assert values["unit.management_fee"] == "14,080円"                   # the fees are not personal


def test_an_empty_building_and_no_unit_print_dashes(jucho, in_tenant, make_building):
    building_id = make_building()
    with in_tenant("juchoco"):
        building = db.session.get(JuchoBuilding, building_id)
        sections = assemble(building, None, include_personal=True, as_of=date(2026, 4, 1))
    values = _values(sections)
    assert [section.title for section in sections] == TITLES
    assert values["parking.fee"] == "—" and values["unit.number"] == "—" and values["unit.arrears.management"] == "—"
    assert values["repairs.done"] == "—" and values["plan.period"] == "—" and values["seismic.target"] == "—"
    assert values["management.consignment"] == "全部委託"                 # from the 管理組合's 管理形態
    assert values["building.name"] == "グランドメゾン青葉" and values["remarks.as_of"] == "2026年4月1日"


def test_a_bare_object_without_a_session_works_too():
    building = JuchoBuilding(name="テスト", address="", total_units=None)
    values = _values(assemble(building, None, include_personal=False, as_of=date(2026, 1, 5)))
    assert values["building.address"] == "—" and values["building.total_units"] == "—"
    assert values["unit.arrears.reserve"] == NO_CONSENT
