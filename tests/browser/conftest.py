"""Browser fixtures: the app served on a free loopback port and Debian's Chromium driven by Playwright."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

CHROMIUM = os.environ.get("KANRI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # kept by CI as the run's screenshots


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def live_server(app):
    """Serve the test app on 127.0.0.1:<free port> in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["KANRI_BASE_URL"] = base_url  # links in mail lead to this server (127.0.0.1 is a trusted host)
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the run (skips with a reason when Chromium is not installed)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def new_context(browser):
    """Factory for fresh browser contexts (separate cookie jars = separate browsers)."""
    contexts = []

    def _new(**kwargs):
        context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", **kwargs)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under tests/browser/artifacts/ for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def password_step(page, base_url: str, company: str, login_id: str, password: str = PASSWORD, then: str | None = None):
    """Fill in and send the login form; with ``then`` (a URL glob, e.g. the product's factor page) wait for it."""
    page.goto(f"{base_url}/login")
    page.fill("#company_code", company)
    page.fill("#login_id", login_id)
    page.fill("#password", password)
    page.click("button[type=submit]")
    if then:
        page.wait_for_url(then)


def fill_broker_request(page, email: str) -> None:
    """Fill the public 依頼 form's broker fields (unit 305, 売買, 電子, the seller's consent); the 物件 is the caller's."""
    page.fill("#unit_number", "３０５")
    page.fill("#broker_company", "みなと不動産株式会社")
    page.fill("#license_number", "国土交通大臣(3)第12345号")
    page.fill("#contact_name", "仲介 花子")
    page.fill("#phone", "03-1234-5678")
    page.check("#purpose-0")
    page.check("#delivery-0")
    page.fill("#email", email)
    page.check("#seller_consent")


def jucho_login(page, base_url: str, sink, company: str, login_id: str, mails: int, password: str = PASSWORD):
    """Log in to 重調@CITY: the password step, then the code from the ``mails``-th message the SMTP sink holds."""
    import re

    from tests.smtp_helpers import SmtpSink

    password_step(page, base_url, company, login_id, password, then="**/jucho/login/code")
    message = sink.wait_for(mails)[mails - 1]
    assert "認証コード" in message["Subject"], message["Subject"]
    page.fill("#code", re.search(r"認証コード: (\d{6})", SmtpSink.text(message)).group(1))
    page.click("button.primary")
