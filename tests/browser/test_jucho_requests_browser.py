"""重調@CITY 依頼 in a real browser: a broker fills the public form and receives the receipt over SMTP; a staff
member finds it in 依頼一覧, assigns it to themself and moves it to 作成中."""
from __future__ import annotations

import re

from tests.browser.conftest import fill_broker_request, password_step, screenshot
from tests.jucho_request_helpers import add_building
from tests.smtp_helpers import SmtpSink


def _mail_to(sink: SmtpSink, address: str, count: int):
    return next(message for message in sink.wait_for(count) if message["To"] == address)


def test_broker_request_then_staff_take_it_in_the_queue(app, live_server, new_context, make_tenant, smtp):
    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    add_building(app, "juchoco")

    # The broker: no account, the public form.
    broker = new_context().new_page()
    broker.goto(f"{live_server}/jucho/juchoco/request")
    assert "重要事項調査報告書のご依頼" in broker.content()
    assert broker.locator("#website").bounding_box()["x"] < -1000    # the honeypot is off screen for people
    broker.select_option("#building", label="グランドメゾン青葉（新宿区）")
    fill_broker_request(broker, email="")                            # forgotten first: the form says so, keeps input
    broker.click("[data-testid=request-submit]")
    assert "電子で受け取る場合はメールアドレスを入力してください。" in broker.content()
    assert broker.input_value("#broker_company") == "みなと不動産株式会社"
    broker.fill("#email", "hanako@minato.example.jp")
    broker.check("#seller_consent")
    screenshot(broker, "jucho-request-form")
    broker.click("[data-testid=request-submit]")
    broker.wait_for_url("**/jucho/juchoco/request/done")
    number = broker.inner_text("[data-testid=request-number]")
    assert re.fullmatch(r"R\d{4}-\d{6}", number)
    screenshot(broker, "jucho-request-done")

    receipt = _mail_to(smtp.sink, "hanako@minato.example.jp", 2)
    assert "重調@CITY" in receipt["Subject"] and number in receipt["Subject"]
    text = SmtpSink.text(receipt)
    assert number in text and "グランドメゾン青葉" in text and "11,000円" in text
    assert number in SmtpSink.text(_mail_to(smtp.sink, "taro@example.co.jp", 2))   # the staff notification

    # The staff member: log in with the mailed code, open 依頼一覧.
    staff = new_context().new_page()
    password_step(staff, live_server, "juchoco", "admin", then="**/jucho/login/code")
    code_mail = [m for m in smtp.sink.wait_for(3) if "認証コード" in m["Subject"]][0]
    staff.fill("#code", re.search(r"認証コード: (\d{6})", SmtpSink.text(code_mail)).group(1))
    staff.click("button.primary")
    staff.wait_for_url(f"{live_server}/")
    assert "依頼状況" in staff.content() and "受付 1件" in staff.content()
    staff.click("nav.site-nav >> text=依頼一覧")
    row = staff.locator("[data-testid=request-row]", has_text=number)
    assert "未割当" in row.inner_text() and "受付" in row.inner_text()
    screenshot(staff, "jucho-request-queue")
    row.locator(f"text={number}").click()
    staff.click("[data-testid=assign-me]")
    assert "担当者を「管理 太郎」にしました。" in staff.content()
    assert staff.inner_text("[data-testid=request-assignee]") == "管理 太郎"
    staff.select_option("#status", label="作成中")
    staff.click("[data-testid=status-submit]")
    assert staff.inner_text("[data-testid=request-status]") == "作成中"
    history = staff.inner_text("[data-testid=request-history]")
    assert "依頼の受付" in history and "依頼の担当者設定" in history and "受付 → 作成中" in history
    screenshot(staff, "jucho-request-detail")
    staff.goto(f"{live_server}/jucho/requests?assignee=me")
    assert number in staff.content()
