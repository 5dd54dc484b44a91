"""マニュアル and よくある質問 in a real browser: a MAMA user opens マニュアル from the navigation, downloads the
PDF with its Japanese name, then searches the FAQ."""
from __future__ import annotations

from pathlib import Path

from app.builtins.manuals import service
from tests.browser.conftest import password_step, screenshot
from tests.mama_helpers import issue_code


def test_user_downloads_the_manual_and_searches_the_faq(app, live_server, new_context, make_tenant, tmp_path):
    make_tenant("mama1", product="mama")
    with app.app_context():
        service.build_and_publish("mama", "1.0", operator="operator:test")
    code = issue_code(app, "mama1", "admin")
    page = new_context(accept_downloads=True).new_page()
    password_step(page, live_server, "mama1", "admin", then="**/mama/device")
    page.fill("#code", code)
    page.click("[data-testid=code-submit]")
    page.wait_for_url(f"{live_server}/")

    page.click("[data-testid=help-manuals]")
    page.wait_for_url("**/manual")
    latest = page.locator("[data-testid=manual-latest]")
    assert latest.get_by_text("MAMAシステム 操作マニュアル").is_visible()
    assert "1.0（最新）" in page.inner_text("[data-testid=manual-version]")
    screenshot(page, "manual-page")
    with page.expect_download() as info:
        page.click("[data-testid=manual-download]")
    download = info.value
    assert download.suggested_filename == "MAMAシステム_操作マニュアル_v1.0.pdf"
    saved = Path(tmp_path / "downloaded.pdf")
    download.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")

    page.click("[data-testid=help-faq]")
    page.wait_for_url("**/faq/mama")
    assert page.get_by_role("heading", name="よくある質問（MAMAシステム）").is_visible()
    page.fill("[data-testid=faq-q]", "登録コード")
    page.click("[data-testid=faq-search]")
    page.wait_for_url("**/faq/mama?q=*")
    items = page.locator("[data-testid=faq-item]")
    assert items.count() >= 2
    assert page.get_by_role("heading", name="Q. 「この端末は登録されていません」と表示されます。端末の登録はどうすればよいですか？").is_visible()
    assert page.get_by_text("パスワードを忘れました。").count() == 0
    screenshot(page, "faq-search")
    page.fill("[data-testid=faq-q]", "宇宙旅行")
    page.click("[data-testid=faq-search]")
    assert page.locator("[data-testid=faq-none]").get_by_text("該当する質問はありません").is_visible()
