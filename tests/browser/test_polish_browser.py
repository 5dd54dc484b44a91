"""In a real browser, both products: the confirmation page before a destructive action, the 削除済み list with
元に戻す, and a search that finds 新宿 (フリガナ シンジュク) whether typed in hiragana, half-width or katakana."""
from __future__ import annotations

from playwright.sync_api import expect

from app.extensions import db
from plugins.jucho.models import JuchoAssociation, JuchoBuilding
from plugins.mama.cli import sample_association
from tests.browser.conftest import password_step, screenshot
from tests.browser.test_jucho_browser import _code, smtp_sink  # noqa: F401 - the fixture
from tests.browser.test_mama_browser import _password_step
from tests.mama_helpers import in_tenant, issue_code

SPELLINGS = ("しんじゅく", "ｼﾝｼﾞｭｸ", "シンジュク")


def _mama_admin(app, live_server, new_context):
    page = new_context().new_page()
    code = issue_code(app, "mama1", "admin")
    _password_step(page, live_server, "admin")
    page.fill("#code", code)
    page.click("[data-testid=code-submit]")
    page.wait_for_url(f"{live_server}/")
    return page


def test_mama_kana_search_confirmed_delete_and_restore(app, live_server, new_context, make_tenant):
    import random

    make_tenant("mama1", product="mama")
    with in_tenant(app, "mama1"):
        shinjuku = sample_association(1, random.Random(1))
        shinjuku.code, shinjuku.name, shinjuku.name_kana = "S0001", "新宿パークハイツ管理組合", "シンジュクパークハイツ"
        other = sample_association(2, random.Random(2))
        other.code, other.name, other.name_kana = "Y0001", "横浜ベイ管理組合", "ヨコハマベイ"
        db.session.add_all([shinjuku, other])
        db.session.commit()
    page = _mama_admin(app, live_server, new_context)

    for word in SPELLINGS:
        page.goto(f"{live_server}/mama/associations")
        page.fill("#q", word)
        page.click("form.search-bar button[type=submit]")
        table = page.inner_text("[data-testid=association-table]")
        assert "新宿パークハイツ管理組合" in table and "横浜ベイ管理組合" not in table, word
    screenshot(page, "mama-kana-search")

    page.click("[data-testid=association-table] >> text=S0001")
    page.click("[data-testid=delete]")
    target = page.inner_text("[data-testid=confirm-target]")
    assert "S0001" in target and "新宿パークハイツ管理組合" in target
    assert "30日間" in page.inner_text("[data-testid=confirm-consequences]")
    screenshot(page, "mama-confirm-delete")
    page.click("text=キャンセル")
    expect(page.locator("body")).to_contain_text("新宿パークハイツ管理組合")  # nothing happened
    page.click("[data-testid=delete]")
    page.click("[data-testid=confirm-delete]")
    page.wait_for_url("**/mama/associations")
    assert "新宿パークハイツ管理組合" not in page.inner_text("[data-testid=association-table]")

    page.click("[data-testid=trash-link]")
    assert "新宿パークハイツ管理組合" in page.inner_text("[data-testid=trash-table]")
    screenshot(page, "mama-trash")
    page.click("[data-testid=trash-table] >> text=元に戻す")
    expect(page.locator("body")).to_contain_text("を元に戻しました")
    page.goto(f"{live_server}/mama/associations")
    assert "新宿パークハイツ管理組合" in page.inner_text("[data-testid=association-table]")


def test_jucho_kana_search_suspend_confirmation_and_building_trash(app, live_server, new_context, make_tenant,
                                                                   add_user, smtp_sink):  # noqa: F811 - the fixture
    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    add_user("juchoco", "hanako")
    with in_tenant(app, "juchoco"):
        association = JuchoAssociation(name="新宿管理組合", kana="シンジュクカンリクミアイ", management_form="full")
        db.session.add(association)
        db.session.flush()
        for name, kana, address in (("新宿タワー", "シンジュクタワー", "東京都新宿区西新宿1-2-3"),
                                    ("横浜ベイ", "ヨコハマベイ", "神奈川県横浜市中区山下町1")):
            db.session.add(JuchoBuilding(association_id=association.id, name=name, kana=kana, address=address,
                                         structure="RC", floors_above=10, total_units=50, management_fee_basis="unit",
                                         management_fee=10000, repair_reserve_basis="unit", repair_reserve=8000))
        db.session.commit()
        hanako = db.session.execute(db.select(db.metadata.tables["users"].c.id).where(
            db.metadata.tables["users"].c.login_id == "hanako")).scalar_one()

    page = new_context().new_page()
    password_step(page, live_server, "juchoco", "admin", then="**/jucho/login/code")
    page.fill("#code", _code(smtp_sink, 1))
    page.click("button.primary")
    page.wait_for_url(f"{live_server}/")

    for word in SPELLINGS:
        page.goto(f"{live_server}/jucho/buildings")
        page.fill("#q", word)
        page.click("form.search-bar button[type=submit]")
        table = page.inner_text("table.jucho-list")
        assert "新宿タワー" in table and "横浜ベイ" not in table, word
    screenshot(page, "jucho-kana-search")

    # 社員 停止: a confirmation page first
    page.goto(f"{live_server}/jucho/staff/{hanako}")
    page.click("[data-testid=suspend]")
    expect(page.locator("body")).to_contain_text("社員を停止しますか？")
    assert "hanako" in page.inner_text("[data-testid=confirm-target]")
    assert "セッション" in page.inner_text("[data-testid=confirm-consequences]")
    screenshot(page, "jucho-confirm-suspend")
    page.click("[data-testid=confirm-suspend]")
    page.wait_for_url(f"**/jucho/staff/{hanako}")
    expect(page.locator("body")).to_contain_text("を停止しました")

    # 物件 削除 → 削除済み → 元に戻す
    page.goto(f"{live_server}/jucho/buildings")
    page.click("table.jucho-list >> text=新宿タワー")
    page.click("a.button.danger >> text=削除")
    expect(page.locator("body")).to_contain_text("物件を削除しますか？")
    page.click("[data-testid=confirm-delete]")
    page.wait_for_url("**/jucho/buildings")
    assert "新宿タワー" not in page.inner_text("table.jucho-list")
    page.click("[data-testid=trash-link]")
    assert "新宿タワー" in page.inner_text("[data-testid=trash-table]")
    screenshot(page, "jucho-trash")
    page.click("[data-testid=trash-table] >> text=元に戻す")
    expect(page.locator("body")).to_contain_text("を元に戻しました")
    page.goto(f"{live_server}/jucho/buildings")
    assert "新宿タワー" in page.inner_text("table.jucho-list")
