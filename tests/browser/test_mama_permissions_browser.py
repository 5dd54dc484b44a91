"""MAMA in a real browser: the permission grid, the device request's status page, password reset requests."""
from __future__ import annotations

from tests.browser.conftest import password_step, screenshot
from tests.conftest import PASSWORD
from tests.mama_helpers import issue_code


def _admin_page(app, live_server, new_context):
    """A browser logged in as mama1's admin (registered with a code)."""
    code = issue_code(app, "mama1", "admin")
    page = new_context().new_page()
    _password_step(page, live_server, "admin")
    page.fill("#code", code)
    page.click("[data-testid=code-submit]")
    page.wait_for_url(f"{live_server}/")
    return page


def _password_step(page, base, login_id):
    password_step(page, base, "mama1", login_id, then="**/mama/device")


def test_permission_grid_saves_levels_with_implications(app, live_server, new_context, make_tenant):
    make_tenant("mama1", product="mama")
    admin = _admin_page(app, live_server, new_context)
    admin.goto(f"{live_server}/mama/permissions/new?role=admin")
    grid = admin.inner_text("[data-testid=permission-grid]")
    assert "閲覧" in grid and "編集" in grid and "削除" in grid and "物件参照権限登録" in grid
    assert admin.locator("[data-testid='grant-mama.scopes-delete']").count() == 0  # nothing to delete there
    admin.fill("#name", "管理組合担当")
    admin.check("[data-testid='grant-mama.associations-delete']")
    admin.check("[data-testid='grant-mama.users-view']")
    assert admin.is_checked("[data-testid='grant-mama.associations-view']")  # ticked with 削除 by the grid's script
    admin.check("[data-testid='grant-mama.devices-edit']")
    admin.uncheck("[data-testid='grant-mama.devices-view']")  # clearing 閲覧 clears 編集 too
    assert not admin.is_checked("[data-testid='grant-mama.devices-edit']")
    screenshot(admin, "mama-permission-grid")
    admin.click("button.primary[type=submit]")
    admin.wait_for_url("**/mama/permissions?role=admin")
    matrix = admin.inner_text("[data-testid=permission-matrix]")
    assert "管理組合担当" in matrix and "閲覧・編集・削除" in matrix
    admin.click("[data-testid=permission-matrix] a:text-is('編集')")
    admin.wait_for_url("**/mama/permissions/*/edit")
    for level in ("view", "edit", "delete"):  # 削除 ⇒ 編集 ⇒ 閲覧
        assert admin.is_checked(f"[data-testid='grant-mama.associations-{level}']")
    assert admin.is_checked("[data-testid='grant-mama.users-view']")
    assert not admin.is_checked("[data-testid='grant-mama.users-edit']")
    assert not admin.is_checked("[data-testid='grant-mama.devices-view']")
    screenshot(admin, "mama-permission-matrix")


def test_status_page_refreshes_to_approved_after_the_admin_approves(
        app, live_server, new_context, make_tenant, add_user):
    make_tenant("mama1", product="mama")
    add_user("mama1", "staff")
    app.config["MAMA_DEVICE_STATUS_REFRESH_SECONDS"] = 1
    admin = _admin_page(app, live_server, new_context)

    staff = new_context().new_page()
    _password_step(staff, live_server, "staff")
    staff.fill("#name", "経理部のPC")
    staff.click("[data-testid=request-submit]")
    staff.wait_for_url("**/mama/device/status")
    assert staff.inner_text("[data-testid=status-label]") == "申請中"
    screenshot(staff, "mama-device-status-pending")

    admin.goto(f"{live_server}/mama/devices")
    admin.click("[data-testid=approve-staff]")
    admin.wait_for_url("**/mama/devices")

    # no reload from the test: the page's own <meta http-equiv="refresh"> brings the new state
    staff.locator("[data-testid=status-label]", has_text="承認済み").wait_for(timeout=10_000)
    assert "ログインしてください" in staff.inner_text("[data-testid=status-next]")
    screenshot(staff, "mama-device-status-approved")
    staff.click("[data-testid=status-login]")
    staff.wait_for_url("**/login")
    staff.fill("#company_code", "mama1")
    staff.fill("#login_id", "staff")
    staff.fill("#password", PASSWORD)
    staff.click("button[type=submit]")
    staff.wait_for_url(f"{live_server}/")


def test_reset_request_appears_for_the_admin(app, live_server, new_context, make_tenant, add_user):
    make_tenant("mama1", product="mama")
    add_user("mama1", "staff")
    visitor = new_context().new_page()
    visitor.goto(f"{live_server}/login")
    visitor.click("text=パスワードのリセットを依頼（MAMAシステム）")
    visitor.wait_for_url("**/mama/password/reset-request")
    visitor.fill("#company_code", "mama1")
    visitor.fill("#login_id", "staff")
    screenshot(visitor, "mama-reset-request-form")
    visitor.click("[data-testid=reset-request-submit]")
    visitor.wait_for_url("**/mama/password/reset-request/sent")
    assert "貴社の管理者にパスワードのリセット依頼を送りました" in visitor.inner_text("[data-testid=reset-request-answer]")

    admin = _admin_page(app, live_server, new_context)
    admin.goto(f"{live_server}/mama/users")
    requests = admin.inner_text("[data-testid=reset-requests]")
    assert "staff" in requests and "パスワードのリセット依頼（1件）" in requests
    screenshot(admin, "mama-reset-requests")
    admin.click("[data-testid=reset-handle-staff]")
    admin.wait_for_url("**/mama/users/*/reset-password")
    assert "staff" in admin.content()
