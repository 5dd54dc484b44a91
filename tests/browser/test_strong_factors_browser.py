"""Stronger factors in Chromium: a passkey registered with the virtual authenticator (CDP WebAuthn) and used to log
in instead of MAMA's registered device, and an authenticator app (TOTP) enrolled from the QR page."""
from __future__ import annotations

import pyotp
import sqlalchemy as sa

from app.builtins.strong_factors.models import Passkey
from app.extensions import db
from tests.browser.conftest import password_step, screenshot
from tests.mama_helpers import in_tenant, issue_code
from tests.strong_factor_helpers import newest_session, set_policy


def _localhost(app, live_server: str) -> str:
    """WebAuthn needs a secure context and an RP id that is a domain: http://localhost is both."""
    base = live_server.replace("127.0.0.1", "localhost")
    app.config["KANRI_BASE_URL"] = base
    return base


def _log_in_with_device_code(app, page, base: str, login_id: str) -> None:
    code = issue_code(app, "mama1", login_id)
    password_step(page, base, "mama1", login_id, then="**/mama/device")
    page.fill("#code", code)
    page.click("[data-testid=code-submit]")
    page.wait_for_url(f"{base}/")


def test_passkey_registered_in_the_browser_replaces_the_device(app, live_server, new_context, make_tenant, add_user):
    make_tenant("mama1", product="mama")
    add_user("mama1", "emp")
    set_policy(app, "mama1", "replace")
    base = _localhost(app, live_server)
    context = new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    _log_in_with_device_code(app, page, base, "emp")

    page.goto(f"{base}/account/factors")
    page.fill("#name", "このノートPC")
    page.click("[data-testid=passkey-add]")
    page.wait_for_selector("[data-testid=recovery-codes]")
    assert "パスキー「このノートPC」を登録しました" in page.content()
    assert page.locator("[data-testid=recovery-codes] li").count() == 10
    screenshot(page, "strong-factors-passkey-recovery-codes")
    page.click("[data-testid=recovery-done]")
    assert "このノートPC" in page.inner_text("[data-testid=passkey-table]")
    screenshot(page, "strong-factors-account-page")

    context.clear_cookies()  # a browser without the registered device's cookie (the authenticator stays)
    password_step(page, base, "mama1", "emp", then="**/login/stronger")
    screenshot(page, "strong-factors-login-step")
    page.click("[data-testid=passkey-login]")
    page.wait_for_url(f"{base}/")
    assert "ログアウト" in page.content()
    assert newest_session(app, "mama1", "emp").stronger_factor == "passkey"
    with in_tenant(app, "mama1"):
        key = db.session.execute(sa.select(Passkey)).scalar_one()
        assert key.last_used_at is not None and key.name == "このノートPC"
    page.goto(f"{base}/account/factors")  # the device guard accepts the passkey login on later requests too
    assert page.url == f"{base}/account/factors"


def test_totp_enrolment_in_the_browser(app, live_server, new_context, make_tenant, add_user):
    make_tenant("mama1", product="mama")
    add_user("mama1", "emp")
    base = _localhost(app, live_server)
    page = new_context().new_page()
    _log_in_with_device_code(app, page, base, "emp")
    page.goto(f"{base}/account/factors")
    page.click("[data-testid=totp-setup]")
    page.click("[data-testid=totp-start]")
    page.wait_for_selector("[data-testid=totp-qr]")
    assert page.eval_on_selector("[data-testid=totp-qr]", "img => img.naturalWidth") > 0  # the SVG QR code drew
    screenshot(page, "strong-factors-totp-setup")
    secret = page.inner_text("[data-testid=totp-secret]").replace(" ", "")
    page.fill("#code", "000000")
    page.click("[data-testid=totp-confirm]")
    assert "コードが正しくありません" in page.content()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("[data-testid=totp-confirm]")
    page.wait_for_selector("[data-testid=recovery-codes]")
    assert "認証アプリを登録しました" in page.content()
    screenshot(page, "strong-factors-totp-done")
