"""MAMA in a real browser: code registration, a device request approved by the admin, and scoped associations."""
import random

from app.extensions import db
from plugins.mama.cli import sample_association
from tests.browser.conftest import password_step, screenshot
from tests.mama_helpers import in_tenant, issue_code


def _password_step(page, base, login_id):
    password_step(page, base, "mama1", login_id, then="**/mama/device")


def test_admin_approves_a_device_request_and_the_user_sees_only_scoped_associations(
        app, live_server, new_context, make_tenant, add_user):
    make_tenant("mama1", product="mama")
    add_user("mama1", "staff")
    rng = random.Random(3)
    with in_tenant(app, "mama1"):
        db.session.add_all(sample_association(n, rng) for n in range(1, 9))
        db.session.commit()
    code = issue_code(app, "mama1", "admin")

    admin = new_context().new_page()
    _password_step(admin, live_server, "admin")
    assert "この端末は登録されていません" in admin.content()
    screenshot(admin, "mama-device-unregistered")
    admin.fill("#code", code)
    admin.click("[data-testid=code-submit]")
    admin.wait_for_url(f"{live_server}/")
    assert "端末管理" in admin.content() and "ユーザーマスタ" in admin.content()
    screenshot(admin, "mama-admin-dashboard")

    staff = new_context(user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
                                   "(KHTML, like Gecko) Version/17.5 Safari/605.1.15").new_page()
    _password_step(staff, live_server, "staff")
    staff.fill("#name", "受付カウンターのMac")
    staff.click("[data-testid=request-submit]")
    staff.wait_for_url("**/mama/device/status")
    assert "端末の登録を申請しました" in staff.content() and "申請中" in staff.content()

    admin.goto(f"{live_server}/mama/devices")
    queue = admin.inner_text("[data-testid=device-queue]")
    assert "受付カウンターのMac" in queue and "staff" in queue and "Safari" in queue
    screenshot(admin, "mama-device-queue")
    admin.click("[data-testid=approve-staff]")
    admin.wait_for_url("**/mama/devices")
    assert "承認しました" in admin.content()

    admin.click("nav.site-nav >> text=物件参照権限登録")
    admin.click("[data-testid=scope-staff]")
    admin.fill("#q", "A0000")
    admin.click("form.search-bar button[type=submit]")
    admin.check("[data-testid=scope-candidates] tr:has-text('A00002') input[type=checkbox]")
    admin.check("[data-testid=scope-candidates] tr:has-text('A00005') input[type=checkbox]")
    admin.click("[data-testid=scope-add]")
    assert "2件の管理組合を追加しました" in admin.content()
    screenshot(admin, "mama-scope")

    password_step(staff, live_server, "mama1", "staff", then=f"{live_server}/")
    nav = staff.inner_text("nav.site-nav")
    assert "管理組合登録" in nav and "ユーザーマスタ" not in nav and "端末管理" not in nav
    staff.click("nav.site-nav >> text=管理組合登録")
    staff.wait_for_url("**/mama/associations")
    table = staff.inner_text("[data-testid=association-table]")
    assert "A00002" in table and "A00005" in table
    assert "A00001" not in table and "A00003" not in table
    assert "2 件" in staff.inner_text("[data-testid=association-count]")
    screenshot(staff, "mama-staff-associations")
    response = staff.goto(f"{live_server}/mama/users")
    assert response.status == 403


def test_lists_keep_their_action_column_in_view_and_phone_pages_do_not_overflow(
        app, live_server, new_context, make_tenant, add_user):
    """A long login id / e-mail wraps in its cell (the 操作 column was pushed out of the frame); 390 px phone."""
    make_tenant("mama1", product="mama")
    add_user("mama1", "a.very.long.login.id.for.testing@example-company.co.jp")
    with in_tenant(app, "mama1"):
        db.session.add_all(sample_association(n, random.Random(5)) for n in range(1, 4))
        db.session.commit()
    for width in (1280, 390):
        page = new_context(viewport={"width": width, "height": 800}).new_page()
        code = issue_code(app, "mama1", "admin")
        _password_step(page, live_server, "admin")
        page.fill("#code", code)
        page.click("[data-testid=code-submit]")
        page.wait_for_url(f"{live_server}/")
        for path in ("/mama/users", "/mama/devices", "/mama/scopes", "/mama/associations", "/mama/associations/new",
                     "/mama/permissions", "/mama/account/devices", "/mama/users/new"):
            page.goto(live_server + path)
            assert not page.evaluate(
                "document.documentElement.scrollWidth > document.documentElement.clientWidth"), (width, path)
        if width == 1280:
            for path, testid in (("/mama/users", "user-table"), ("/mama/devices", None), ("/mama/scopes", None)):
                page.goto(live_server + path)
                table = page.locator(f"[data-testid={testid}]" if testid else "table.data").last
                frame = table.locator("xpath=..").bounding_box()
                last = table.locator("thead th").last.bounding_box()
                assert last["x"] + last["width"] <= frame["x"] + frame["width"] + 1, path
            screenshot(page, "mama-users-long-login-id")
