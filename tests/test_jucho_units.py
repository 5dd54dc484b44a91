"""住戸: add, edit, delete (confirmed), list search/sort/pages, CSV; arrears encrypted and only for 管理者."""
from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa

from app.extensions import db
from plugins.jucho.models_units import JuchoUnit
from tests.conftest import post_form
from tests.jucho_fixtures import *  # noqa: F403  (the shared 重調 fixtures)
from tests.jucho_helpers import audit_rows

UNIT = {"number": "１０１", "floor": "1", "area": "72.5", "layout": "3LDK", "management_fee": "15,000",
        "repair_reserve": "12000", "repair_lump_sum": "", "usage_fee": "15200", "usage_fee_detail": "駐車場 15,000円、駐輪場 200円",
        "community_fee": "300", "payment_method": "debit", "arrears_management": "45,000", "arrears_reserve": "36000",
        "arrears_usage": "", "late_charge": "1,230"}


def _new(client, building_id, **fields):
    return post_form(client, f"/jucho/buildings/{building_id}/units/new", {**UNIT, **fields})


def test_admin_adds_a_unit_with_arrears_stored_encrypted(app, admin, make_building, in_tenant):
    building_id = make_building()
    response = _new(admin, building_id)
    assert response.status_code == 302
    html = admin.get(f"/jucho/buildings/{building_id}/units").get_data(as_text=True)
    assert ">101<" in html and "72.50㎡" in html and "15,000円" in html and "口座振替" in html
    assert "81,000円" in html                                      # 滞納額（合計）, admins only
    with app.app_context():
        raw = db.session.execute(sa.text("SELECT number, arrears_management, late_charge, search_text FROM jucho_units")).one()
    assert raw[0] == "101" and raw[1].startswith("k1$") and raw[2].startswith("k1$") and "45000" not in raw[3]
    with in_tenant("juchoco"):
        unit = db.session.execute(sa.select(JuchoUnit)).scalar_one()
        assert unit.arrears("arrears_management") == 45000 and unit.arrears("arrears_usage") is None
        assert unit.late_charge == "1230"
    action, _, _, details = audit_rows(app, "jucho.unit")[-1]
    details = json.loads(details)
    assert action == "jucho.unit.create" and "45000" not in json.dumps(details) and "45,000" not in json.dumps(details)
    assert "滞納額 管理費（円）" in details["personal_fields"]


def test_general_user_never_sees_or_changes_the_arrears(app, admin, general, make_building, in_tenant):
    building_id = make_building()
    _new(admin, building_id)
    with in_tenant("juchoco"):
        unit_id = db.session.execute(sa.select(JuchoUnit.id)).scalar_one()
    edit = f"/jucho/buildings/{building_id}/units/{unit_id}/edit"
    for page in (f"/jucho/buildings/{building_id}/units", edit):
        html = general.get(page).get_data(as_text=True)
        assert "45,000" not in html and "45000" not in html and "滞納" not in html and "1230" not in html
    assert "45000" in admin.get(edit).get_data(as_text=True)
    # a general user's POST with arrears fields changes nothing of them
    response = post_form(general, edit, {**UNIT, "management_fee": "16000", "arrears_management": "0"})
    assert response.status_code == 302
    with in_tenant("juchoco"):
        unit = db.session.get(JuchoUnit, unit_id)
        assert unit.management_fee == 16000 and unit.arrears("arrears_management") == 45000
    body = general.get(f"/jucho/buildings/{building_id}/units.csv").get_data(as_text=True)
    header = next(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert "滞納額 管理費（円）" not in header and "遅延損害金（円）" not in header and "45000" not in body
    template = general.get(f"/jucho/buildings/{building_id}/units/template.csv").get_data(as_text=True)
    assert template.startswith("\ufeff住戸番号,階,専有面積（㎡）") and "滞納" not in template
    admin_csv = admin.get(f"/jucho/buildings/{building_id}/units.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(admin_csv.lstrip("\ufeff"))))
    assert rows[0][-1] == "遅延損害金（円）" and rows[1][0] == "101" and rows[1][-4] == "45000"


def test_number_is_normalised_and_unique_per_building(admin, make_building):
    first, second = make_building(), make_building(name="パークハウス新宿")
    assert _new(admin, first, number="a-１０１").status_code == 302
    response = _new(admin, first, number="A-101")
    assert response.status_code == 422 and "この住戸番号は既に登録されています。" in response.get_data(as_text=True)
    assert _new(admin, second, number="A-101").status_code == 302      # the same number in another building


def test_bad_input_keeps_what_was_typed(admin, make_building, in_tenant):
    building_id = make_building()
    cases = [({"number": ""}, "入力してください。"), ({"area": "72.555"}, "小数2桁まで"),
             ({"management_fee": "-5"}, "0〜10,000,000円の範囲で入力してください。"),
             ({"floor": "三階"}, "半角数字（整数）で入力してください。"), ({"arrears_reserve": "たくさん"}, "半角数字（整数）"),
             ({"payment_method": "cash"}, "一覧から選択してください。"), ({"number": "1" * 21}, "20文字以内")]
    for fields, message in cases:
        response = _new(admin, building_id, **fields)
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and message in html, fields
        assert "駐車場 15,000円、駐輪場 200円" in html
    with in_tenant("juchoco"):
        assert db.session.execute(sa.select(sa.func.count(JuchoUnit.id))).scalar_one() == 0


def test_search_sort_and_pages(admin, make_building, in_tenant):
    building_id = make_building()
    from app.crypto import bind_rows

    with in_tenant("juchoco"):
        rows = [{"building_id": building_id, "number": f"{floor}{room:02d}", "floor": floor, "layout": "3LDK" if room % 2
                 else "2LDK", "usage_fee_detail": ""} for floor in range(1, 8) for room in range(1, 9)]
        db.session.execute(sa.insert(JuchoUnit), bind_rows(JuchoUnit, rows))
        db.session.commit()
    base = f"/jucho/buildings/{building_id}/units"
    first = admin.get(base).get_data(as_text=True)
    assert "1 / 2 ページ（全56件）" in first and ">101<" in first and ">708<" not in first
    assert ">708<" in admin.get(f"{base}?sort=floor&dir=desc").get_data(as_text=True).split("</thead>")[1][:2000]
    found = admin.get(f"{base}?q=２ｌｄｋ").get_data(as_text=True)
    assert ">102<" in found and ">708<" in found and ">101<" not in found and ">707<" not in found


def test_delete_needs_the_confirmation(app, admin, make_building, in_tenant):
    building_id = make_building()
    _new(admin, building_id)
    with in_tenant("juchoco"):
        unit_id = db.session.execute(sa.select(JuchoUnit.id)).scalar_one()
    url = f"/jucho/buildings/{building_id}/units/{unit_id}/delete"
    page = post_form(admin, f"/jucho/buildings/{building_id}/units/{unit_id}/edit", {}, action=url)
    assert page.status_code == 200 and "住戸を削除しますか？" in page.get_data(as_text=True)
    assert post_form(admin, url, {"confirmed": "yes"}).status_code == 302
    with in_tenant("juchoco"):
        assert db.session.get(JuchoUnit, unit_id) is None
    assert audit_rows(app, "jucho.unit.delete")[-1][2] == f"unit:{unit_id}"


def test_other_tenant_and_other_building_ids_are_404(admin, outsider, make_building, in_tenant):
    building_id, other_building = make_building(), make_building(name="別の物件")
    _new(admin, building_id)
    with in_tenant("juchoco"):
        unit_id = db.session.execute(sa.select(JuchoUnit.id)).scalar_one()
    for url in (f"/jucho/buildings/{building_id}/units", f"/jucho/buildings/{building_id}/units/{unit_id}/edit",
                f"/jucho/buildings/{building_id}/units/{unit_id}/delete", f"/jucho/buildings/{building_id}/units.csv",
                f"/jucho/buildings/{building_id}/units/new"):
        assert outsider.get(url).status_code == 404, url
    assert admin.get(f"/jucho/buildings/{other_building}/units/{unit_id}/edit").status_code == 404
    response = outsider.post(f"/jucho/buildings/{building_id}/units/{unit_id}/delete", data={"confirmed": "yes"})
    assert response.status_code in (400, 404)
    with in_tenant("juchoco"):
        assert db.session.get(JuchoUnit, unit_id) is not None
