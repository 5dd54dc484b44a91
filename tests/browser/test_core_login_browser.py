"""The core login in a real browser: password step, sample factor, dashboard, logout."""
from tests.browser.conftest import password_step, screenshot


def test_login_and_logout_in_browser(live_server, new_context, make_tenant):
    make_tenant("acme")
    page = new_context().new_page()
    password_step(page, live_server, "acme", "admin", then="**/sample/confirm")
    page.fill("#answer", "ok")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    assert "acme 株式会社" in page.content()
    screenshot(page, "core-dashboard")
    page.click("[data-testid=logout]")
    page.wait_for_url("**/login")
    assert "ログアウトしました" in page.content()
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/login")
