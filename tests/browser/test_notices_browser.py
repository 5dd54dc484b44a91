"""お知らせ on the 重調@CITY dashboard in a real browser: 未読 until the user opens the notice."""
from __future__ import annotations

import re

from tests.browser.conftest import password_step, screenshot
from tests.smtp_helpers import SmtpSink


def test_jucho_user_reads_a_notice_and_the_unread_mark_goes(app, live_server, new_context, make_tenant, smtp,
                                                            tmp_path):
    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    body = tmp_path / "notice.md"
    body.write_text("年末年始は **12月29日から1月3日まで** サポート窓口を休業します。\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=[
        "notice", "post", "--product", "jucho", "--title", "年末年始の休業のお知らせ", "--body-file", str(body),
        "--reason", "休業案内", "--operator", "ops"])
    assert result.exit_code == 0, result.output

    page = new_context().new_page()
    password_step(page, live_server, "juchoco", "admin", then="**/jucho/login/code")
    code = re.search(r"認証コード: (\d{6})", SmtpSink.text(smtp.sink.wait_for(1)[0])).group(1)
    page.fill("#code", code)
    page.click("button.primary")
    page.wait_for_url(f"{live_server}/")

    item = page.locator("[data-testid=notices] li", has_text="年末年始の休業のお知らせ")
    assert item.locator("[data-testid=unread]").is_visible()
    assert item.locator("[data-testid=unread]").inner_text() == "未読"
    screenshot(page, "notices-dashboard-unread")

    item.get_by_role("link", name="年末年始の休業のお知らせ").click()
    page.wait_for_url("**/notices/*")
    assert page.locator("[data-testid=notice-body] strong").inner_text() == "12月29日から1月3日まで"
    screenshot(page, "notices-detail")

    page.click("nav.site-nav >> text=ホーム")
    page.wait_for_url(f"{live_server}/")
    item = page.locator("[data-testid=notices] li", has_text="年末年始の休業のお知らせ")
    assert item.is_visible()
    assert item.locator("[data-testid=unread]").count() == 0
    assert page.locator("[data-testid=unread-count]").count() == 0
