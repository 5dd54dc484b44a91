"""重調@CITY 電子交付 in a real browser: a staff member sends the issued report from the request's 電子交付 screen
(confirmation page), the mail goes over SMTP, the broker opens the mailed link in Chromium and downloads the PDF."""
from __future__ import annotations

import re

from app.extensions import db
from tests.browser.conftest import password_step, screenshot
from tests.jucho_delivery_helpers import BROKER_EMAIL, filed_request, issue
from tests.jucho_request_helpers import in_tenant
from tests.smtp_helpers import SmtpSink


def _mail(sink: SmtpSink, count: int, subject: str):
    return next(message for message in sink.wait_for(count) if subject in message["Subject"])


def test_staff_send_the_report_and_the_broker_downloads_it(app, live_server, new_context, make_tenant, smtp):
    from plugins.jucho.reports import JuchoReport

    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    request_id = filed_request(app, "juchoco")                     # the receipt and the staff notice: 2 mails
    report_id = issue(app, "juchoco", request_id)

    staff = new_context().new_page()
    password_step(staff, live_server, "juchoco", "admin", then="**/jucho/login/code")
    code_mail = _mail(smtp.sink, 3, "認証コード")
    staff.fill("#code", re.search(r"認証コード: (\d{6})", SmtpSink.text(code_mail)).group(1))
    staff.click("button.primary")
    staff.wait_for_url(f"{live_server}/")
    staff.goto(f"{live_server}/jucho/requests/{request_id}")
    staff.click("[data-testid=delivery-link]")
    assert staff.input_value("#recipient") == BROKER_EMAIL
    staff.click("[data-testid=delivery-submit]")
    assert "報告書をメールで送付しますか？" in staff.content()
    staff.click("[data-testid=confirm-delivery]")
    assert "ダウンロード用リンクを送付しました" in staff.content()
    assert staff.inner_text("[data-testid=delivery-state]") == "有効"

    mail = _mail(smtp.sink, 4, "重要事項調査報告書のご送付")
    assert mail["To"] == BROKER_EMAIL
    link = re.search(r"(http://127\.0\.0\.1:\d+/jucho/juchoco/r/\S+)", SmtpSink.text(mail)).group(1)

    broker = new_context(accept_downloads=True).new_page()
    broker.goto(link)
    assert "重要事項調査報告書のダウンロード" in broker.content()
    assert broker.inner_text("[data-testid=link-remaining]").startswith("5回")
    screenshot(broker, "jucho-delivery-landing")
    with broker.expect_download() as info:
        broker.click("[data-testid=link-download]")
    download = info.value
    assert download.suggested_filename.startswith("重要事項調査報告書_R") and download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as handle:
        data = handle.read()
    with in_tenant(app, "juchoco"):
        assert data == db.session.get(JuchoReport, report_id).pdf_bytes()
    broker.reload()
    assert broker.inner_text("[data-testid=link-remaining]").startswith("4回")

    staff.reload()
    assert "1／5回" in staff.content()
    downloads = staff.inner_text("[data-testid=download-list]")
    assert "127.0.0.1" in downloads and "Chrome" in downloads and "ダウンロード" in downloads
    screenshot(staff, "jucho-delivery-staff")
