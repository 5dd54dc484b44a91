"""The maintenance screen and the advance-notice banner in a real browser (Japanese text visible, styled)."""
from datetime import timedelta

from app.timeutil import JST, utcnow
from tests.browser.conftest import screenshot


def _jst(delta: timedelta) -> str:
    return (utcnow() + delta).astimezone(JST).strftime("%Y-%m-%d %H:%M")


def test_banner_then_maintenance_screen_in_browser(app, live_server, new_context):
    runner = app.test_cli_runner()
    start, end = _jst(timedelta(hours=5)), _jst(timedelta(hours=7))
    assert runner.invoke(args=["maintenance", "schedule", "--start", start, "--end", end,
                               "--message", "システム更新を行います。", "--operator", "ops"]).exit_code == 0
    page = new_context().new_page()
    page.goto(f"{live_server}/login")
    banner = page.locator("[data-testid=page-banner]")
    assert banner.is_visible()
    assert f"{start} JST から {end} JST まで（約2時間）" in banner.inner_text()
    screenshot(page, "maintenance-banner")

    until = _jst(timedelta(hours=1))
    assert runner.invoke(args=["maintenance", "on", "--message", "ただいまデータベースを更新しています。",
                               "--until", until, "--operator", "ops"]).exit_code == 0
    response = page.goto(f"{live_server}/login")
    assert response.status == 503
    screen = page.locator("[data-testid=maintenance]")
    assert screen.get_by_text("ただいまメンテナンス中です").is_visible()
    assert screen.get_by_text("ただいまデータベースを更新しています。").is_visible()
    assert screen.get_by_text(f"{until} JST").is_visible()
    screenshot(page, "maintenance-screen")
