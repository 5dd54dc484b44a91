"""重調@CITY 報告書 in a real browser: a 一般 社員 opens the demo's request, creates the draft, corrects one item for
this report, previews the 下書きPDF and moves it to 確認待ち; the 管理者 issues it and the request shows the issued
version with its sha256."""
from __future__ import annotations

import io

import sqlalchemy as sa
from pypdf import PdfReader

from app.extensions import db
from tests.browser.conftest import password_step, screenshot
from tests.browser.test_jucho_browser import _code, smtp_sink  # noqa: F401 - the fixture
from tests.jucho_request_helpers import in_tenant


def _login(page, base, sink, login_id, mail_count):
    password_step(page, base, "juchoco", login_id, then="**/jucho/login/code")
    page.fill("#code", _code(sink, mail_count))
    page.click("button.primary")
    page.wait_for_url(f"{base}/")


def test_staff_draft_then_admin_issue(app, live_server, new_context, make_tenant, add_user,
                                      smtp_sink):  # noqa: F811 - the fixture
    from plugins.jucho.demo import seed_demo
    from plugins.jucho.requests import JuchoRequest

    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    add_user("juchoco", "staff1")
    with in_tenant(app, "juchoco") as tenant:
        seed_demo(tenant)
        db.session.commit()
        number = db.session.execute(sa.select(JuchoRequest.number)).scalar_one()

    # 一般: 依頼一覧 → the demo's request → 報告書を作成
    staff_context = new_context()
    staff = staff_context.new_page()
    _login(staff, live_server, smtp_sink, "staff1", 1)
    staff.goto(f"{live_server}/jucho/requests")
    staff.locator("[data-testid=request-row]", has_text=number).locator(f"text={number}").click()
    staff.click("[data-testid=report-start]")
    staff.wait_for_url("**/report")
    assert "報告書 第1版" in staff.content() and "住戸一覧に登録あり" in staff.content()
    assert staff.inner_text("[data-testid=request-status]") == "作成中"

    # 修正 one item for this report only; back at the item's row with the badge and the master's value
    staff.locator("[data-testid=report-item][data-key='use.pets'] [data-testid=override-edit]").click()
    staff.fill("#value", "小型犬1匹まで可（理事会の承認が必要）")
    staff.click("[data-testid=override-form] button.primary")
    staff.wait_for_url("**/report#item-use-pets")
    row = staff.locator("[data-testid=report-item][data-key='use.pets']")
    assert "個別修正" in row.inner_text() and "小型犬1匹まで可" in row.inner_text()
    assert "物件マスタ等の内容" in row.inner_text()
    assert "発行は管理者が行います" in staff.inner_text("[data-testid=issue-hint]")
    screenshot(staff, "jucho-report-draft")

    # 下書きPDFを表示 opens in a new tab; the PDF itself carries the watermark and the correction
    with staff_context.expect_page() as popup:
        staff.click("[data-testid=report-preview]")
    assert popup.value.url.endswith("/report/preview.pdf")
    pdf = staff_context.request.get(popup.value.url)
    assert pdf.headers["content-disposition"].startswith("inline;")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "下書き" in text and "小型犬1匹まで可" in text
    popup.value.close()

    staff.click("[data-testid=report-review]")
    assert "「確認待ち」にしました。" in staff.content()
    assert staff.inner_text("[data-testid=request-status]") == "確認待ち"

    # 管理者: 発行する → the confirmation page → 発行済み with the version, its sha256 and the download link
    admin = new_context().new_page()
    _login(admin, live_server, smtp_sink, "admin", 2)
    admin.goto(f"{live_server}/jucho/requests")
    admin.locator("[data-testid=request-row]", has_text=number).locator(f"text={number}").click()
    admin.click("[data-testid=report-open]")
    admin.click("[data-testid=report-issue]")
    assert "後から変更できません" in admin.inner_text("[data-testid=confirm-consequences]")
    admin.click("[data-testid=confirm-issue]")
    admin.wait_for_url("**/jucho/requests/*")
    assert "報告書（第1版）を発行しました。" in admin.content()
    assert admin.inner_text("[data-testid=request-status]") == "発行済み"
    versions = admin.inner_text("[data-testid=report-versions]")
    assert "第1版" in versions and "管理 太郎" in versions
    assert "報告書の発行" in admin.inner_text("[data-testid=request-history]")
    screenshot(admin, "jucho-report-issued")
    with admin.expect_download() as download:
        admin.click("[data-testid=report-download]")
    assert download.value.suggested_filename == f"重要事項調査報告書_{number}_第1版.pdf"
