"""重調@CITY in a real browser: edit one 別表第5 group, import 住戸 from a CSV with one bad row (the preview shows
the error and nothing is saved), then fix the file and import it."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from plugins.jucho.models import JuchoAssociation, JuchoBuilding
from plugins.jucho.models_units import JuchoUnit
from tests.browser.conftest import ARTIFACTS, password_step, screenshot
from tests.browser.test_jucho_browser import _code, smtp_sink  # noqa: F401 - the fixture
from tests.mama_helpers import in_tenant

HEADER = "住戸番号,階,専有面積（㎡）,間取り,管理費（月額・円）,修繕積立金（月額・円）,支払方法"
GOOD = ["101,1,72.50,3LDK,15000,12000,口座振替", "102,1,65.10,2LDK,13000,11000,振込"]


def _write(name: str, lines: list[str]) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(("\r\n".join([HEADER, *lines]) + "\r\n").encode("cp932"))   # as Excel saves it in Japan
    return str(path)


def test_edit_a_group_then_import_units_with_a_bad_row_fix_and_import(app, live_server, new_context, make_tenant,
                                                                       smtp_sink):  # noqa: F811 - the fixture
    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    with in_tenant(app, "juchoco"):
        association = JuchoAssociation(name="青葉管理組合", kana="アオバカンリクミアイ", management_form="full")
        db.session.add(association)
        db.session.flush()
        building = JuchoBuilding(association_id=association.id, name="グランドメゾン青葉", kana="グランドメゾンアオバ",
                                 address="東京都青葉区1-2-3", structure="RC", floors_above=12, total_units=84,
                                 management_fee_basis="unit", management_fee=15000, repair_reserve_basis="unit",
                                 repair_reserve=12000)
        db.session.add(building)
        db.session.commit()
        building_id = building.id

    page = new_context().new_page()
    password_step(page, live_server, "juchoco", "admin", then="**/jucho/login/code")
    page.fill("#code", _code(smtp_sink, 1))
    page.click("button.primary")
    page.wait_for_url(f"{live_server}/")

    # 物件一覧 → 物件詳細 → 共用部分 編集: a bad value first (空き > 区画数), then a good one
    page.goto(f"{live_server}/jucho/buildings")
    page.click("table.jucho-list >> text=グランドメゾン青葉")
    page.click("[data-testid=edit-common]")
    page.fill("#parking_spaces", "40")
    page.fill("#parking_vacant", "41")
    page.fill("#parking_fee_min", "12,000")
    page.select_option("#parking_succession", "no")
    page.click("[data-testid=profile-form] button.primary")
    assert "空き区画は区画数以下にしてください。" in page.content()
    assert page.input_value("#parking_fee_min") == "12,000"                 # what was typed stays
    page.fill("#parking_vacant", "3")
    page.click("[data-testid=profile-form] button.primary")
    page.wait_for_url(f"**/jucho/buildings/{building_id}#group-common")
    section = page.inner_text("[data-testid=group-common]")
    assert "40台" in section and "3台" in section and "12,000円" in section and "不可" in section
    screenshot(page, "jucho-building-profile")

    # 住戸CSV取込: one bad row → the preview names row, column and message; nothing saved
    page.click("[data-testid=units-link]")
    page.click("[data-testid=import-link]")
    page.set_input_files("#file", _write("units-bad.csv", [*GOOD, "103,1,広い,3LDK,15000,12000,口座振替"]))
    page.click("[data-testid=upload-form] button.primary")
    page.wait_for_url("**/units/import/*")
    assert "4行目「専有面積（㎡）」: 専有面積は数字で入力してください（例: 72.50）。" in page.inner_text(
        "[data-testid=preview-table]")
    assert page.inner_text("[data-testid=count-error]") == "1" and page.locator("[data-testid=apply-import]").count() == 0
    screenshot(page, "jucho-unit-import-error")
    with in_tenant(app, "juchoco"):
        assert db.session.execute(sa.select(sa.func.count(JuchoUnit.id))).scalar_one() == 0

    # fixed file → preview 新規 3 → 取り込む → the list
    page.goto(f"{live_server}/jucho/buildings/{building_id}/units/import")
    page.set_input_files("#file", _write("units-fixed.csv", [*GOOD, "103,1,70.00,3LDK,15000,12000,口座振替"]))
    page.click("[data-testid=upload-form] button.primary")
    assert page.inner_text("[data-testid=count-new]") == "3" and "Shift_JIS" in page.content()
    page.click("[data-testid=apply-import]")
    page.wait_for_url(f"**/jucho/buildings/{building_id}/units")
    assert "住戸を取り込みました（新規 3件・更新 0件）" in page.content()
    table = page.inner_text("[data-testid=unit-table]")
    assert "101" in table and "103" in table and "72.50㎡" in table and "口座振替" in table
    screenshot(page, "jucho-units")
    page.go_back()                                          # the preview again: it cannot be applied twice
    page.reload()
    assert "この取り込みは実行済みです" in page.content()
