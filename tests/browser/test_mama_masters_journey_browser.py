"""MAMA 管理組合 master as one story in a real browser: the 管理者 registers a 管理組合 (a bad 総戸数 first, the
address filled from the postcode), corrects its name, deletes it by mistake and restores it from 削除済み; then
checks every step in 操作ログ and downloads it as CSV."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_mama_permissions_browser import _admin_page

NAME = "青葉台グリーンハイツ管理組合"
RENAMED = "青葉台グリーンハイツ第一管理組合"


def test_admin_registers_corrects_deletes_and_restores_an_association_then_reads_the_log(
        app, live_server, new_context, make_tenant):
    make_tenant("mama1", product="mama")
    admin = _admin_page(app, live_server, new_context)

    # 1. 新規登録: 総戸数 0 is refused with a message on the form, nothing typed is lost.
    admin.click("nav.site-nav >> text=管理組合登録")
    admin.wait_for_url("**/mama/associations")
    admin.click("a.button >> text=新規登録")
    admin.fill("#code", "G00001")
    admin.fill("#name", NAME)
    admin.fill("#name_kana", "アオバダイグリーンハイツ")
    admin.fill("#postal_code", "2270062")  # the form script fills 都道府県・市区町村・町域
    admin.wait_for_function("() => document.querySelector('#city').value === '横浜市青葉区'")
    admin.fill("#address_line", "青葉台1-2-3")
    admin.fill("#units", "0")
    admin.fill("#building_year", "2005")
    admin.click("button.primary[type=submit]")
    expect(admin.locator("body")).to_contain_text("1〜10000 の数で入力してください。")
    assert admin.input_value("#name") == NAME and admin.input_value("#city") == "横浜市青葉区"
    admin.fill("#units", "84")
    admin.click("button.primary[type=submit]")
    expect(admin.locator("body")).to_contain_text(f"管理組合「{NAME}」を登録しました。")

    # 2. 編集: the name is corrected.
    admin.goto(f"{live_server}/mama/associations")
    admin.click(f"[data-testid=association-table] >> text={NAME}")
    detail = admin.inner_text("[data-testid=association-detail]")
    assert "G00001" in detail and "神奈川県横浜市青葉区" in detail.replace("\n", "").replace(" ", "")
    admin.click("[data-testid=edit]")
    admin.fill("#name", RENAMED)
    admin.click("button.primary[type=submit]")
    expect(admin.locator("body")).to_contain_text(f"管理組合「{RENAMED}」を更新しました。")

    # 3. 削除 (confirmed), then 元に戻す from 削除済み.
    admin.goto(f"{live_server}/mama/associations")
    admin.click(f"[data-testid=association-table] >> text={RENAMED}")
    admin.click("[data-testid=delete]")
    admin.click("[data-testid=confirm-delete]")
    admin.wait_for_url("**/mama/associations")
    expect(admin.locator("body")).to_contain_text("削除済みの一覧から元に戻せます")
    assert RENAMED not in admin.inner_text("[data-testid=association-table]")
    admin.click("[data-testid=trash-link]")
    admin.click("[data-testid=trash-table] >> text=元に戻す")
    expect(admin.locator("body")).to_contain_text("を元に戻しました")
    admin.goto(f"{live_server}/mama/associations")
    assert RENAMED in admin.inner_text("[data-testid=association-table]")
    screenshot(admin, "journey-mama-association-restored")

    # 4. 操作ログ: the four steps, newest first, then only the 更新, and the CSV.
    admin.locator("nav.site-nav").get_by_role("link", name="操作ログ").click()
    admin.wait_for_url("**/admin/oplog")
    labels = admin.locator("[data-testid=oplog] tbody tr td:nth-child(3)").all_inner_texts()
    steps = [label.strip() for label in labels if label.strip().startswith("管理組合")]
    assert steps[:4] == ["管理組合の復元（削除済みから）", "管理組合削除（削除済みへ）", "管理組合更新", "管理組合登録"]
    admin.select_option("#action", label="管理組合更新")
    admin.get_by_role("button", name="絞り込む").click()
    admin.wait_for_url("**action=mama.association.update**")
    rows = admin.locator("[data-testid=oplog] tbody tr")
    assert rows.count() == 1 and "admin" in rows.first.inner_text()
    change = rows.first.inner_text()
    assert f"name: {NAME} → {RENAMED}" in change
    assert "address_line" not in change and "units" not in change  # only what the edit changed
    screenshot(admin, "journey-mama-oplog")
    with admin.expect_download() as info:
        admin.get_by_test_id("oplog-csv").click()
    lines = open(info.value.path(), "rb").read().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("日時,操作者,操作,操作コード,対象")
    assert len(lines) == 2 and ",管理組合更新,mama.association.update," in lines[1]
    assert f"name: {NAME} → {RENAMED}" in lines[1] and "address_line" not in lines[1]
