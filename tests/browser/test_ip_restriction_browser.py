"""IPアドレス制限 in a real browser: the admin saves an allow list that leaves out their own address, sees the
lock-out confirmation, saves anyway, is refused, undoes the change with the link from the refused address, and then
uses the one-button undo after an ordinary change."""
from __future__ import annotations

from tests.browser.conftest import password_step, screenshot
from tests.ip_restriction_helpers import stored


def _log_in(page, base_url: str) -> None:
    password_step(page, base_url, "acme", "admin", then="**/sample/confirm")
    page.fill("#answer", "ok")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_admin_saves_sees_the_confirmation_and_undoes(app, live_server, new_context, make_tenant):
    make_tenant("acme")
    page = new_context().new_page()
    _log_in(page, live_server)
    page.goto(f"{live_server}/admin/security/ip")
    assert page.get_by_test_id("ip-address").inner_text().startswith("127.0.0.1")

    # A typo first: the line is named, nothing is saved.
    page.select_option("#scope", label="全員")
    page.fill("#entries", "203.0.113.0/24 # 本社\n10.0.0.300\n")
    page.get_by_test_id("ip-save").click()
    assert "2行目: 「10.0.0.300」はIPアドレスでもCIDRでもありません。" in page.get_by_test_id("error-summary").inner_text()
    screenshot(page, "ip-restriction-line-error")

    # The list leaves out 127.0.0.1: the lock-out guard asks first.
    page.fill("#entries", "203.0.113.0/24 # 本社\n2001:db8::/32 # 大阪\n")
    page.get_by_test_id("ip-save").click()
    confirm = page.get_by_test_id("confirm-ip-lockout")
    assert confirm.is_visible()
    assert "あなた自身がアクセスできなくなります" in page.locator("h1").inner_text()
    assert "127.0.0.1" in page.get_by_test_id("confirm-target").inner_text()
    screenshot(page, "ip-restriction-lockout-confirm")
    assert stored(app, "acme")[2] == 0
    confirm.click()
    page.get_by_test_id("ip-locked-out").wait_for()
    assert stored(app, "acme")[:2] == ("all", ["203.0.113.0/24", "2001:db8::/32"])
    screenshot(page, "ip-restriction-locked-out")
    undo_link = page.get_by_test_id("ip-undo-link").get_attribute("href")

    # The next request from this address is refused, with the address and whom to ask.
    response = page.goto(f"{live_server}/")
    assert response.status == 403
    assert page.get_by_test_id("ip-refused-address").inner_text() == "127.0.0.1"
    screenshot(page, "ip-restriction-refused")

    # The undo link works from the refused address.
    page.goto(undo_link)
    page.get_by_test_id("confirm-ip-undo").click()
    page.get_by_test_id("ip-undo-done").wait_for()
    screenshot(page, "ip-restriction-undone")
    assert stored(app, "acme")[:2] == ("off", [])

    # The same session works again; an ordinary change (127.0.0.1 included) is undone with one button on the page.
    page.get_by_test_id("ip-undo-continue").click()
    page.wait_for_url("**/admin/security/ip")
    page.select_option("#scope", label="管理者のみ")
    page.fill("#entries", "127.0.0.1 # この端末\n203.0.113.0/24 # 本社\n")
    page.get_by_test_id("ip-save").click()
    page.get_by_test_id("ip-undo-button").wait_for()
    assert page.get_by_test_id("ip-scope").inner_text() == "管理者のみ"
    screenshot(page, "ip-restriction-saved")
    page.get_by_test_id("ip-undo-button").click()
    page.get_by_text("IPアドレス制限を変更前の設定に戻しました。").wait_for()
    assert page.get_by_test_id("ip-scope").inner_text() == "制限しない"
    assert stored(app, "acme")[:2] == ("off", [])
