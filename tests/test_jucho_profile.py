"""物件詳細 and the 別表第5 groups: edit one group at a time, Japanese validation, audit with labels, isolation."""
from __future__ import annotations

import json
from datetime import date

import pytest

from app.extensions import db
from plugins.jucho.models_profile import JuchoBuildingProfile, JuchoRepairRecord, profile_of
from plugins.jucho.profile import GROUPS
from tests.conftest import post_form
from tests.jucho_fixtures import *  # noqa: F403  (the shared 重調 fixtures)
from tests.jucho_helpers import audit_rows

COMMON = {"parking_spaces": "40", "parking_vacant": "3", "parking_fee_min": "12,000", "parking_fee_max": "１８０００円",
          "parking_fee_note": "機械式上段 12,000円", "parking_succession": "no", "bicycle_spaces": "80",
          "bicycle_fee": "200", "motorcycle_spaces": "", "motorcycle_fee": "", "storage_spaces": "", "storage_fee": "",
          "balcony_use": "有（使用料なし）", "garden_use": ""}


def test_detail_page_shows_every_group_with_an_edit_button(admin, make_building):
    building_id = make_building()
    html = admin.get(f"/jucho/buildings/{building_id}").get_data(as_text=True)
    for group in GROUPS:
        assert group.title in html
        assert f"/jucho/buildings/{building_id}/profile/{group.code}" in html
    assert "大規模修繕の記録はまだありません" in html and "—" in html
    assert f'href="/jucho/buildings/{building_id}"' in admin.get("/jucho/buildings").get_data(as_text=True)


def test_edit_one_group_saves_only_it_and_audits_before_after_in_japanese(app, admin, make_building, in_tenant):
    building_id = make_building()
    url = f"/jucho/buildings/{building_id}/profile/common"
    response = post_form(admin, url, COMMON)
    assert response.status_code == 302 and response.headers["Location"].endswith("#group-common")
    html = admin.get(f"/jucho/buildings/{building_id}").get_data(as_text=True)
    assert "40台" in html and "3台" in html and "12,000円" in html and "18,000円" in html and "不可" in html
    with in_tenant("juchoco"):
        profile = db.session.query(JuchoBuildingProfile).one()
        assert (profile.parking_fee_min, profile.parking_fee_max, profile.motorcycle_spaces) == (12000, 18000, None)
        assert profile.officers_count is None
    response = post_form(admin, url, {**COMMON, "parking_vacant": "5"})
    assert response.status_code == 302
    action, outcome, target, details = audit_rows(app, "jucho.profile")[-1]
    details = json.loads(details)
    assert (action, outcome, target) == ("jucho.profile.update", "success", f"building:{building_id}")
    assert details["before"] == {"駐車場 空き区画": "3台"} and details["after"] == {"駐車場 空き区画": "5台"}
    assert details["group"].startswith("共用部分")
    oplog = admin.get("/admin/oplog").get_data(as_text=True)
    assert "物件の重要事項調査項目の編集" in oplog


@pytest.mark.parametrize("group, fields, field, message", [
    ("common", {**COMMON, "parking_vacant": "41"}, "parking_vacant", "空き区画は区画数以下にしてください。"),
    ("common", {**COMMON, "parking_fee_min": "20000"}, "parking_fee_max", "上限は下限以上の金額にしてください。"),
    ("common", {**COMMON, "bicycle_fee": "-1"}, "bicycle_fee", "0円以上の金額を入力してください"),
    ("common", {**COMMON, "parking_spaces": "たくさん"}, "parking_spaces", "半角数字（整数）で入力してください。"),
    ("governance", {"general_meeting_month": "13", "fiscal_month": "3"}, "general_meeting_month",
     "1〜12の月を入力してください。"),
    ("finances", {"finance_as_of": "1850-03-31"}, "finance_as_of", "1900年から5年後までの日付を入力してください。"),
    ("finances", {"finance_as_of": "2026-02-30"}, "finance_as_of", "日付を正しく入力してください"),
    ("finances", {"reserve_balance": "1.5"}, "reserve_balance", "半角数字（整数）で入力してください。"),
    ("other", {"plan_certified": "no", "plan_certified_on": "2024-04-01"}, "plan_certified",
     "管理計画の認定日を入力する場合は「有」を選択してください。"),
    ("caretaker", {"office_contact": "内線"}, "office_contact", "電話番号は数字とハイフンで"),
    ("restrictions", {"pets": "maybe"}, "pets", "一覧から選択してください。"),
])
def test_bad_input_gets_a_japanese_message_and_keeps_what_was_typed(admin, make_building, in_tenant, group, fields,
                                                                    field, message):
    building_id = make_building()
    response = post_form(admin, f"/jucho/buildings/{building_id}/profile/{group}", fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    for value in fields.values():
        if value and value != "maybe":
            assert f'value="{value}"' in html or value in html
    with in_tenant("juchoco"):
        assert db.session.query(JuchoBuildingProfile).count() == 0


def test_dates_and_the_seismic_target_from_the_construction_start(admin, make_building):
    building_id = make_building()
    response = post_form(admin, f"/jucho/buildings/{building_id}/profile/surveys", {
        "asbestos_survey": "yes", "asbestos_surveyed_on": "2019-03-15", "asbestos_result": "使用なし",
        "construction_started_on": "1981-05-31", "seismic_diagnosis": "no", "seismic_diagnosed_on": "",
        "seismic_result": ""})
    assert response.status_code == 302
    html = admin.get(f"/jucho/buildings/{building_id}").get_data(as_text=True)
    assert "2019年3月15日" in html and "対象（昭和56年5月31日以前の着工）" in html
    post_form(admin, f"/jucho/buildings/{building_id}/profile/surveys", {"construction_started_on": "1981-06-01"})
    assert "対象外（昭和56年6月1日以降の着工）" in admin.get(f"/jucho/buildings/{building_id}").get_data(as_text=True)


def test_general_user_edits_too_and_unchanged_form_records_nothing(app, general, make_building):
    building_id = make_building()
    url = f"/jucho/buildings/{building_id}/profile/governance"
    fields = {"officers_count": "5", "officer_selection": "輪番制", "general_meeting_month": "6", "fiscal_month": "3",
              "insurance_type": "マンション総合保険", "insurance_company": "青葉損保", "rules_names": "使用細則"}
    assert post_form(general, url, fields).status_code == 302
    before = len(audit_rows(app, "jucho.profile"))
    response = post_form(general, url, fields)
    assert response.status_code == 302 and len(audit_rows(app, "jucho.profile")) == before
    html = general.get(f"/jucho/buildings/{building_id}").get_data(as_text=True)
    assert "5名" in html and "6月" in html and "青葉損保" in html


def test_repair_rows_add_and_delete_through_the_confirmation(app, admin, make_building, in_tenant):
    building_id = make_building()
    page = f"/jucho/buildings/{building_id}/profile/plan"
    bad = post_form(admin, page, {"kind": "done", "year": "19", "content": ""},
                    action=f"/jucho/buildings/{building_id}/repairs")
    assert bad.status_code == 422 and "入力してください。" in bad.get_data(as_text=True)
    assert post_form(admin, page, {"kind": "done", "year": "2019", "month": "3", "content": "外壁塗装・屋上防水"},
                     action=f"/jucho/buildings/{building_id}/repairs").status_code == 302
    assert post_form(admin, page, {"kind": "planned", "year": "2031", "content": "給排水管更新"},
                     action=f"/jucho/buildings/{building_id}/repairs").status_code == 302
    html = admin.get(f"/jucho/buildings/{building_id}").get_data(as_text=True)
    assert "2019年3月" in html and "外壁塗装・屋上防水" in html and "2031年" in html
    with in_tenant("juchoco"):
        record_id = db.session.query(JuchoRepairRecord).filter_by(kind="done").one().id
    url = f"/jucho/buildings/{building_id}/repairs/{record_id}/delete"
    assert post_form(admin, url, {}).status_code == 200                        # only the confirmation page
    assert post_form(admin, url, {"confirmed": "yes"}).status_code == 302
    with in_tenant("juchoco"):
        assert db.session.query(JuchoRepairRecord).count() == 1
    assert [row[0] for row in audit_rows(app, "jucho.repair")] == ["jucho.repair.create", "jucho.repair.create",
                                                                   "jucho.repair.delete"]


def test_another_tenants_building_and_unknown_group_are_404(admin, outsider, make_building, in_tenant):
    building_id = make_building()
    assert outsider.get(f"/jucho/buildings/{building_id}").status_code == 404
    assert outsider.get(f"/jucho/buildings/{building_id}/profile/common").status_code == 404
    response = post_form(outsider, "/jucho/buildings", {}, action=f"/jucho/buildings/{building_id}/profile/common")
    assert response.status_code in (400, 404)
    assert admin.get(f"/jucho/buildings/{building_id}/profile/nope").status_code == 404
    with in_tenant("juchoco"):
        from plugins.jucho.models import JuchoBuilding

        assert profile_of(db.session.get(JuchoBuilding, building_id)) is None
    assert date.today()  # the fixture building stays untouched
