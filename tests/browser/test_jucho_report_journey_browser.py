"""The whole 重調@CITY journey in one browser run, as the issue promises it: a broker requests a report on the public
form, the staff member drafts it from the masters, issues it and sends it electronically, and the broker downloads the
issued PDF from the mailed link. Everything goes over real HTTP and SMTP."""
from __future__ import annotations

import io
import re

import sqlalchemy as sa
from pypdf import PdfReader

from app.extensions import db
from tests.browser.conftest import fill_broker_request, password_step, screenshot
from tests.jucho_request_helpers import in_tenant
from tests.smtp_helpers import SmtpSink

BROKER = "hanako@minato.example.jp"



def _mail(sink: SmtpSink, count: int, subject: str, to: str | None = None):
    return next(message for message in reversed(sink.wait_for(count))
                if subject in message["Subject"] and (to is None or message["To"] == to))


def test_request_draft_issue_and_broker_download(app, live_server, new_context, make_tenant, smtp):
    from plugins.jucho.demo import seed_demo
    from plugins.jucho.models import JuchoBuilding

    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    with in_tenant(app, "juchoco") as tenant:
        seed_demo(tenant)                                      # buildings with 別表第5 profiles and 40 住戸
        db.session.commit()
        building = db.session.execute(sa.select(JuchoBuilding).where(
            JuchoBuilding.name == "パークハウス新宿")).scalar_one()
        building_id = str(building.id)

    # 1. The broker asks on the public form (no account) and gets a receipt with the request number.
    broker_context = new_context(accept_downloads=True)
    broker = broker_context.new_page()
    broker.goto(f"{live_server}/jucho/juchoco/request")
    broker.select_option("#building", value=building_id)
    fill_broker_request(broker, email=BROKER)
    broker.click("[data-testid=request-submit]")
    broker.wait_for_url("**/jucho/juchoco/request/done")
    number = broker.inner_text("[data-testid=request-number]")
    assert number in _mail(smtp.sink, 1, number, to=BROKER)["Subject"]

    # 2. The 管理者 logs in with the mailed code and opens the request from 依頼一覧.
    staff = new_context(accept_downloads=True).new_page()
    password_step(staff, live_server, "juchoco", "admin", then="**/jucho/login/code")
    code = re.search(r"認証コード: (\d{6})", SmtpSink.text(_mail(smtp.sink, 3, "認証コード"))).group(1)
    staff.fill("#code", code)
    staff.click("button.primary")
    staff.wait_for_url(f"{live_server}/")
    staff.click("nav.site-nav >> text=依頼一覧")
    staff.locator("[data-testid=request-row]", has_text=number).locator(f"text={number}").click()

    # 3. Draft: one click assembles the report from the building, its profile and the unit.
    staff.click("[data-testid=report-start]")
    staff.wait_for_url("**/report")
    assert "住戸一覧に登録あり" in staff.content()
    assert "パークハウス新宿" in staff.content() and "305" in staff.content()
    staff.click("[data-testid=report-review]")
    assert staff.inner_text("[data-testid=request-status]") == "確認待ち"

    # 4. Issue through the confirmation page: frozen, 発行済み.
    staff.click("[data-testid=report-issue]")
    staff.click("[data-testid=confirm-issue]")
    staff.wait_for_url("**/jucho/requests/*")
    assert staff.inner_text("[data-testid=request-status]") == "発行済み"

    # 5. Deliver electronically: the link goes to the broker's address from the request.
    staff.click("[data-testid=delivery-link]")
    assert staff.input_value("#recipient") == BROKER
    staff.click("[data-testid=delivery-submit]")
    staff.click("[data-testid=confirm-delivery]")
    assert "ダウンロード用リンクを送付しました" in staff.content()
    mail = _mail(smtp.sink, 4, "重要事項調査報告書のご送付", to=BROKER)
    link = re.search(r"(http://127\.0\.0\.1:\d+/jucho/juchoco/r/\S+)", SmtpSink.text(mail)).group(1)

    # 6. The broker opens the mailed link and downloads the issued PDF.
    broker.goto(link)
    with broker.expect_download() as info:
        broker.click("[data-testid=link-download]")
    with open(info.value.path(), "rb") as handle:
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)
    assert "重要事項調査報告書" in text and "パークハウス新宿" in text and "305" in text and number in text
    assert "下書き" not in text
    screenshot(broker, "jucho-journey-broker")

    # Every step is in the request's history, the download included.
    staff.goto(f"{live_server}/jucho/requests")
    staff.locator("[data-testid=request-row]", has_text=number).locator(f"text={number}").click()
    history = staff.inner_text("[data-testid=request-history]")
    for label in ("依頼の受付", "報告書の発行", "報告書の電子交付（メール送付）", "報告書のダウンロード（電子交付）"):
        assert label in history, label
    assert "仲介業者（Webフォーム）" in history and "仲介業者（受領リンク）" in history
    screenshot(staff, "jucho-journey-request")
