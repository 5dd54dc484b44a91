"""重調@CITY in a real browser, with mail delivered over SMTP to a local aiosmtpd sink."""
from __future__ import annotations

import re
import socket
import time
from email import message_from_bytes, policy

import pytest

from tests.browser.conftest import password_step, screenshot
from tests.smtp_helpers import point_mail_at

NEW_PASSWORD = "violet kettle marching quietly 88"


class Sink:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 15.0):
        """Wait until count messages have arrived; return the newest."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"expected {count} messages, got {len(self.messages)}"
            time.sleep(0.05)
        return self.messages[count - 1]

    @staticmethod
    def text(message) -> str:
        """The plain-text body of a message."""
        return message.get_body(preferencelist=("plain",)).get_content()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_sink(app):
    """A real SMTP server on a free loopback port; the app sends its mail there."""
    from aiosmtpd.controller import Controller

    handler = Sink()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    point_mail_at(app, "127.0.0.1", port)
    try:
        yield handler
    finally:
        controller.stop()


def _code(sink: Sink, count: int) -> str:
    message = sink.wait_for(count)
    return re.search(r"認証コード: (\d{6})", Sink.text(message)).group(1)


def _login(page, base: str, sink: Sink, login_id: str, password: str, expect_mail: int):
    password_step(page, base, "juchoco", login_id, password, then="**/jucho/login/code")
    code = _code(sink, expect_mail)
    page.fill("#code", code)
    page.click("button.primary")


def test_jucho_end_to_end_in_browser(live_server, new_context, make_tenant, smtp_sink):
    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    page = new_context().new_page()

    # Password, then the code read from the real SMTP sink.
    password_step(page, live_server, "juchoco", "admin", then="**/jucho/login/code")
    assert page.inner_text("[data-testid=masked-email]") == "t***@example.co.jp"
    message = smtp_sink.wait_for(1)
    assert message["To"] == "taro@example.co.jp" and "認証コード" in message["Subject"]
    screenshot(page, "jucho-code")
    page.fill("#code", "000000" if "000000" not in Sink.text(message) else "111111")
    page.click("button.primary")
    assert "正しくありません" in page.content()
    page.fill("#code", _code(smtp_sink, 1))
    page.click("button.primary")
    page.wait_for_url(f"{live_server}/")
    assert "現在、お知らせはありません。" in page.content()
    screenshot(page, "jucho-dashboard")

    # 管理組合登録 from the navigation, with a bad phone number first.
    page.click("nav.site-nav >> text=管理組合登録")
    page.fill("#name", "グランドメゾン青葉管理組合")
    page.fill("#kana", "グランドメゾンアオバ")
    page.fill("#contact_person", "山田 太郎")
    page.fill("#contact_phone", "電話してください")
    page.click("button.primary")
    assert "電話番号は半角数字" in page.content()
    assert page.input_value("#contact_person") == "山田 太郎"
    page.fill("#contact_phone", "03-1234-5678")
    page.click("button.primary")
    assert "を登録しました" in page.content()

    # 物件マスタ登録, with bad numbers and a bad date first.
    page.click("nav.site-nav >> text=物件マスタ登録")
    page.fill("#name", "グランドメゾン青葉")
    page.fill("#kana", "グランドメゾンアオバ")
    page.fill("#postal_code", "2270062")  # the form script fills 都道府県・市区町村・町域 from the postcode
    page.wait_for_function("() => document.querySelector('#city').value === '横浜市青葉区'")
    page.fill("#address_line", "青葉台1-2-3")
    page.fill("#floors_above", "-3")
    page.fill("#total_units", "84")
    page.fill("#management_fee", "-100")
    page.fill("#repair_reserve", "210.5")
    page.select_option("#repair_reserve_basis", "sqm")
    page.click("button.primary")
    content = page.content()
    assert "1〜100階の範囲" in content and "0以上の金額" in content
    screenshot(page, "jucho-building-errors")
    page.fill("#floors_above", "12")
    page.fill("#management_fee", "15000")
    page.fill("#completion_date", "2005-03-31")
    page.fill("#planned_repair_year", "2028")
    page.fill("#planned_repair", "外壁塗装・屋上防水")
    page.click("button.primary")
    assert "を登録しました" in page.content()
    page.click("nav.site-nav >> text=物件一覧")
    assert "神奈川県横浜市青葉区青葉台1-2-3" in page.content()
    screenshot(page, "jucho-buildings")

    # 社員登録: the temporary password goes to the employee by mail only.
    page.click("nav.site-nav >> text=社員登録")
    page.fill("#name", "鈴木 一郎")
    page.fill("#email", "ichiro@example.co.jp")
    page.fill("#login_id", "ichiro")
    page.click("button.primary")
    page.wait_for_url("**/jucho/staff/*")  # the new employee's detail page
    assert "鈴木 一郎" in page.inner_text("[data-testid=staff-detail]")
    welcome = smtp_sink.wait_for(2)
    assert welcome["To"] == "ichiro@example.co.jp"
    temporary = re.search(r"仮パスワード: (\S+)", Sink.text(welcome)).group(1)
    assert temporary not in page.content()
    screenshot(page, "jucho-staff")
    page.click("[data-testid=logout]")
    page.wait_for_url("**/login")

    # The employee logs in with it, must change it, then reaches the dashboard.
    _login(page, live_server, smtp_sink, "ichiro", temporary, expect_mail=3)
    page.wait_for_url("**/account/password")
    page.fill("#current_password", temporary)
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm_password", NEW_PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{live_server}/")
    assert "社員登録" not in page.inner_text("nav.site-nav")


def test_password_reset_in_browser(live_server, new_context, make_tenant, smtp_sink):
    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    page = new_context().new_page()
    page.goto(f"{live_server}/login")
    page.click("text=パスワードをお忘れの方")
    page.fill("#company_code", "juchoco")
    page.fill("#identifier", "taro@example.co.jp")
    page.click("button.primary")
    page.wait_for_url("**/jucho/password/forgot/sent")
    screenshot(page, "jucho-forgot-sent")
    link = re.search(r"(http://\S+/jucho/password/reset/\S+)", Sink.text(smtp_sink.wait_for(1))).group(1)
    page.goto(link)
    page.fill("#new_password", "short")
    page.fill("#confirm_password", "short")
    page.click("button.primary")
    assert "12文字以上" in page.content()
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm_password", NEW_PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/login")
    assert "パスワードを再設定しました" in page.content()
    assert "再設定のお知らせ" in smtp_sink.wait_for(2)["Subject"]
    page.goto(link)
    assert "このリンクは使えません" in page.content()
    _login(page, live_server, smtp_sink, "admin", NEW_PASSWORD, expect_mail=3)
    page.wait_for_url(f"{live_server}/")


PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(page, name: str) -> None:
    screenshot(page, f"jucho-phone-{name}")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px on a 390px phone"


def _first_column_readable(page, name: str) -> None:
    width = page.evaluate("() => document.querySelector('table.data tbody td').getBoundingClientRect().width")
    assert width >= 120, f"{name}: the first column is squeezed to {width}px (one character a line)"


def test_every_screen_fits_a_phone(live_server, new_context, make_tenant, smtp_sink, app):
    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(f"{live_server}/login")
    _no_sideways_scroll(page, "login")
    page.goto(f"{live_server}/jucho/password/forgot")
    _no_sideways_scroll(page, "forgot")
    page.goto(f"{live_server}/jucho/password/reset/invalid-token")
    _no_sideways_scroll(page, "reset-invalid")
    password_step(page, live_server, "juchoco", "admin", then="**/jucho/login/code")
    _no_sideways_scroll(page, "code")
    page.fill("#code", _code(smtp_sink, 1))
    page.click("button.primary")
    page.wait_for_url(f"{live_server}/")
    _no_sideways_scroll(page, "dashboard")
    long_name = "グランドメゾン青葉台ステーションフロントタワーレジデンス管理組合" * 2
    page.goto(f"{live_server}/jucho/associations/new")
    page.fill("#name", long_name)
    page.fill("#contact_phone", "x")
    page.click("button.primary")
    _no_sideways_scroll(page, "association-errors")
    page.fill("#contact_phone", "03-1234-5678")
    page.fill("#contact_email", "very.long.address.of.the.person.in.charge@kanri-company.example.co.jp")
    page.click("button.primary")
    assert "を登録しました" in page.content()
    _no_sideways_scroll(page, "association-edit")
    page.goto(f"{live_server}/jucho/associations")
    _no_sideways_scroll(page, "associations")
    _first_column_readable(page, "associations")
    page.goto(f"{live_server}/jucho/buildings/new")
    _no_sideways_scroll(page, "building-new")
    page.fill("#name", long_name)
    page.fill("#postal_code", "227-0062")
    page.select_option("#prefecture", "神奈川県")
    page.fill("#city", "横浜市青葉区")
    page.fill("#address_line", "青葉台一丁目二番三号" * 5)
    page.fill("#floors_above", "12")
    page.fill("#total_units", "84")
    page.fill("#management_fee", "15000")
    page.fill("#repair_reserve", "210.5")
    page.click("button.primary")
    assert "を登録しました" in page.content()
    _no_sideways_scroll(page, "building-edit")
    page.goto(f"{live_server}/jucho/buildings")
    _no_sideways_scroll(page, "buildings")
    _first_column_readable(page, "buildings")
    page.goto(f"{live_server}/jucho/staff")
    _no_sideways_scroll(page, "staff")
    page.goto(f"{live_server}/jucho/staff/new")
    _no_sideways_scroll(page, "staff-new")
    page.goto(f"{live_server}/jucho/staff/1/edit")
    _no_sideways_scroll(page, "staff-edit")
    page.goto(f"{live_server}/jucho/associations/1/delete")
    _no_sideways_scroll(page, "association-delete")
