"""ホーム in a real browser, in both products, at 1280 px and on a 390 px phone: 前回ログイン with a readable
browser, 対応待ち, 登録件数, お知らせ, 最近の変更; the header names the product and the company."""
from __future__ import annotations

from app.extensions import db
from tests.browser.conftest import password_step, screenshot
from tests.jucho_helpers import code_from
from tests.mama_helpers import in_tenant, issue_code

CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/131.0.0.0 Safari/537.36")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def _password(page, base: str, company: str, login_id: str) -> None:
    password_step(page, base, company, login_id)


def _logout(page) -> None:
    page.click("[data-testid=logout]")
    page.wait_for_url("**/login*")


def test_mama_dashboard(app, live_server, new_context, make_tenant, add_user):
    from plugins.mama.cli import add_sample_associations

    make_tenant("mama1", product="mama")
    add_user("mama1", "staff")
    with in_tenant(app, "mama1"):
        add_sample_associations(12)
        db.session.commit()
    page = new_context(user_agent=CHROME_UA).new_page()  # the first login comes from "Chrome 131 on Windows"
    code = issue_code(app, "mama1", "admin")
    _password(page, live_server, "mama1", "admin")
    page.wait_for_url("**/mama/device")
    page.fill("#code", code)
    page.click("[data-testid=code-submit]")
    page.wait_for_url(f"{live_server}/")
    assert page.locator("[data-testid=last-login]").get_by_text("初めてのログインです").is_visible()

    staff = new_context().new_page()  # a staff member asks for their browser to be registered
    _password(staff, live_server, "mama1", "staff")
    staff.wait_for_url("**/mama/device")
    staff.click("text=登録を申請")

    _logout(page)
    _password(page, live_server, "mama1", "admin")
    page.wait_for_url(f"{live_server}/")
    last = page.inner_text("[data-testid=last-login]")
    assert "Chrome 131 / Windows" in last and "127.0.0.1" in last and "JST" in last
    header = page.inner_text("header.site-header")
    assert "MAMAシステム" in header and "mama1 株式会社" in header and "kanri" not in header
    pending = page.locator("[data-testid=panel]", has_text="対応待ち")
    assert "端末の登録申請（承認待ち）" in pending.inner_text() and "1件" in pending.inner_text()
    counts = page.locator("[data-testid=panel]", has_text="登録件数").inner_text()
    assert "参照できる管理組合" in counts and "12件" in counts and "ユーザー" in counts and "2人" in counts
    changes = page.inner_text("[data-testid=panel-changes]")
    assert "端末登録申請" in changes and "device.request" not in changes
    assert page.locator("[data-testid=panel-notices]").is_visible()
    screenshot(page, "dashboard-mama-1280")

    pending.get_by_role("link").first.click()
    page.wait_for_url("**/mama/devices")

    phone = new_context(**PHONE, user_agent=CHROME_UA)
    phone.add_cookies(page.context.cookies())
    small = phone.new_page()
    small.goto(f"{live_server}/")
    assert small.locator("[data-testid=last-login]").is_visible()
    screenshot(small, "dashboard-mama-390")


def test_jucho_dashboard(app, live_server, new_context, make_tenant, outbox):
    from plugins.jucho.demo import seed_demo

    make_tenant("juchoco", product="jucho")
    with in_tenant(app, "juchoco") as tenant:
        seed_demo(tenant)
        db.session.commit()
    page = new_context().new_page()
    for attempt in range(2):  # twice, so the second ホーム has a 前回ログイン
        before = len(outbox)
        _password(page, live_server, "juchoco", "admin")
        page.wait_for_url("**/jucho/login/code")
        assert len(outbox) == before + 1
        page.fill("#code", code_from(outbox[-1]))
        page.click("text=確認してログイン")
        page.wait_for_url(f"{live_server}/")
        if attempt == 0:
            _logout(page)
    header = page.inner_text("header.site-header")
    assert "重調@CITY" in header and "juchoco 株式会社" in header
    assert "HeadlessChrome" not in page.inner_text("[data-testid=last-login]")
    assert "Chrome" in page.inner_text("[data-testid=last-login]")
    counts = page.locator("[data-testid=panel]", has_text="登録件数").inner_text()
    assert "管理組合" in counts and "5件" in counts and "物件" in counts and "社員" in counts and "1人" in counts
    assert "ログイン成功" not in page.inner_text("[data-testid=panel-changes]")
    screenshot(page, "dashboard-jucho-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "dashboard-jucho-390")
