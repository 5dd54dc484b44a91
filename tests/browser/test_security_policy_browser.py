"""セキュリティ設定 in a real browser: an admin raises the minimum password length from the navigation, and a user's
change to a shorter password is refused with the message next to the field (screenshots in tests/browser/artifacts/)."""
from tests.browser.conftest import password_step, screenshot
from tests.conftest import PASSWORD

SHORT = "kxq7 vorn plaz"  # 14 characters: enough for the baseline's 12, not for 20
LONG = "tangerine harbour lanterns drift 41"


def _login(page, base_url, login_id):
    password_step(page, base_url, "acme", login_id, then="**/sample/confirm")
    page.fill("#answer", "ok")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_admin_raises_the_minimum_and_a_short_password_is_refused(live_server, new_context, make_tenant, add_user):
    make_tenant("acme")
    add_user("acme", "staff")

    admin = new_context().new_page()
    _login(admin, live_server, "admin")
    admin.locator("nav.site-nav").get_by_role("link", name="セキュリティ設定").click()
    admin.wait_for_url("**/admin/security")
    assert admin.get_by_test_id("password-min-length").inner_text().startswith("12文字以上")
    admin.get_by_test_id("edit-password-policy").click()
    admin.wait_for_url("**/admin/security/password")
    admin.fill("#min_length", "20")
    admin.get_by_test_id("save-password-policy").click()
    admin.wait_for_url("**/admin/security")
    assert "パスワードのルールを保存しました。" in admin.content()
    assert admin.get_by_test_id("password-min-length").inner_text().startswith("20文字以上")
    screenshot(admin, "security-policy-admin")

    user = new_context().new_page()
    _login(user, live_server, "staff")
    user.goto(f"{live_server}/account/password")
    assert "20〜128文字" in user.locator("#new_password-note").inner_text()
    user.fill("#current_password", PASSWORD)
    user.fill("#new_password", SHORT)
    user.fill("#confirm_password", SHORT)
    user.get_by_role("button", name="パスワードを変更").click()
    user.wait_for_load_state()
    note = user.locator("#new_password-note").inner_text()
    assert "パスワードは20文字以上にしてください（現在14文字）。" in note
    assert user.get_by_test_id("error-summary").is_visible()
    screenshot(user, "security-policy-short-password-refused")

    user.fill("#current_password", PASSWORD)
    user.fill("#new_password", LONG)
    user.fill("#confirm_password", LONG)
    user.get_by_role("button", name="パスワードを変更").click()
    user.wait_for_url(f"{live_server}/")
    assert "パスワードを変更しました。" in user.content()
