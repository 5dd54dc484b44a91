"""MAMA passwords as one story in a real browser: a user changes the password from the account menu, later forgets
it and asks for a reset from the login screen; the 管理者 handles the request and hands over a temporary password;
the user logs in with it on the registered PC, must choose a new one, and the old ones stop working."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import password_step, screenshot
from tests.browser.test_mama_permissions_browser import _admin_page
from tests.mama_helpers import issue_code

CHOSEN = "maple harbour listening calmly 31"
AFTER_RESET = "quiet orchard lantern evening 59"
GENERIC_FAILURE = "会社コード、ログインID、またはパスワードが正しくありません。"


def _change_password(page, current: str, new: str) -> None:
    page.fill("#current_password", current)
    page.fill("#new_password", new)
    page.fill("#confirm_password", new)
    page.click("button.primary")


def test_user_changes_then_forgets_the_password_and_the_admin_resets_it(
        app, live_server, new_context, make_tenant, add_user):
    from tests.conftest import PASSWORD

    make_tenant("mama1", product="mama")
    add_user("mama1", "staff")
    code = issue_code(app, "mama1", "staff")
    staff = new_context().new_page()
    password_step(staff, live_server, "mama1", "staff", then="**/mama/device")
    staff.fill("#code", code)
    staff.click("[data-testid=code-submit]")
    staff.wait_for_url(f"{live_server}/")

    # 1. パスワード変更 from the account menu: a wrong current password is refused on the form, then it works.
    staff.click("a.account-link >> text=パスワード変更")
    staff.wait_for_url("**/account/password")
    _change_password(staff, "not the password at all", CHOSEN)
    expect(staff.locator("body")).to_contain_text("現在のパスワードが正しくありません。")
    _change_password(staff, PASSWORD, CHOSEN)
    staff.wait_for_url(f"{live_server}/")
    expect(staff.locator("body")).to_contain_text("パスワードを変更しました")
    staff.click("[data-testid=logout]")
    staff.wait_for_url("**/login")

    # 2. Forgotten: the request goes from the login screen to the company's 管理者.
    staff.click("text=パスワードのリセットを依頼（MAMAシステム）")
    staff.fill("#company_code", "mama1")
    staff.fill("#login_id", "staff")
    staff.click("[data-testid=reset-request-submit]")
    staff.wait_for_url("**/mama/password/reset-request/sent")
    assert "貴社の管理者にパスワードのリセット依頼を送りました" in staff.inner_text("[data-testid=reset-request-answer]")

    # 3. The 管理者 handles it from ユーザーマスタ and reads the temporary password once.
    admin = _admin_page(app, live_server, new_context)
    admin.click("nav.site-nav >> text=ユーザーマスタ")
    assert "パスワードのリセット依頼（1件）" in admin.inner_text("[data-testid=reset-requests]")
    admin.click("[data-testid=reset-handle-staff]")
    admin.wait_for_url("**/mama/users/*/reset-password")
    admin.click("button.primary >> text=パスワードを再発行")
    temporary = admin.inner_text("[data-testid=temporary-password]").strip()
    screenshot(admin, "journey-mama-temporary-password")
    admin.click("nav.site-nav >> text=ユーザーマスタ")
    assert admin.locator("[data-testid=reset-requests]").count() == 0  # the request is done

    # 4. The chosen password is gone; the temporary one works on the registered PC and must be replaced at once.
    password_step(staff, live_server, "mama1", "staff", CHOSEN)
    expect(staff.locator("body")).to_contain_text(GENERIC_FAILURE)
    password_step(staff, live_server, "mama1", "staff", temporary, then="**/account/password")
    staff.goto(f"{live_server}/mama/associations")  # nothing else opens before the change
    staff.wait_for_url("**/account/password")
    screenshot(staff, "journey-mama-forced-change")
    _change_password(staff, temporary, AFTER_RESET)
    staff.wait_for_url(f"{live_server}/")
    staff.click("[data-testid=logout]")
    staff.wait_for_url("**/login")
    password_step(staff, live_server, "mama1", "staff", temporary)
    expect(staff.locator("body")).to_contain_text(GENERIC_FAILURE)
    password_step(staff, live_server, "mama1", "staff", AFTER_RESET, then=f"{live_server}/")
