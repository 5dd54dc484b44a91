"""One look and one voice: the product and the company in the header and in every mail subject; "kanri" only
in the footer."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.branding import mail_subject
from tests.conftest import post_form
from tests.jucho_helpers import jucho_login, start_login
from tests.mama_helpers import admin_client, password_step, send_request

ROOT = Path(__file__).resolve().parent.parent
FOOTER = re.compile(r'<footer class="site-footer">.*?</footer>', re.S)


def _header(html: str) -> str:
    return re.search(r'<header class="site-header">(.*?)</header>', html, re.S).group(1)


def _without_footer(html: str) -> str:
    html = FOOTER.sub("", html)
    return html.replace("kanri.css", "").replace("kanri.js", "")  # asset file names are not something a user reads


def test_mama_header_and_title_name_the_product_and_the_company(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    html = client.get("/").get_data(as_text=True)
    header = _header(html)
    assert 'data-testid="brand">MAMAシステム</a>' in header and "mama1 株式会社" in header
    assert "<title>ホーム | MAMAシステム（mama1 株式会社）</title>" in html
    assert "kanri" not in _without_footer(html).lower()
    assert "kanri" in FOOTER.search(html).group(0)


def test_jucho_header_names_its_product(app, make_tenant, outbox):
    make_tenant("juchoco", product="jucho")
    client = app.test_client()
    jucho_login(client, outbox, "juchoco", "admin")
    for url in ("/", "/jucho/associations", "/jucho/buildings", "/notices", "/no/such/page"):
        html = client.get(url).get_data(as_text=True)
        assert 'data-testid="brand">重調@CITY</a>' in _header(html) and "juchoco 株式会社" in _header(html), url
        assert "kanri" not in _without_footer(html).lower(), url


@pytest.mark.config(KANRI_SERVICE_NAME="テスト管理クラウド")
def test_pages_before_a_tenant_is_known_show_the_neutral_service_name(client):
    for url in ("/login", "/no/such/page"):
        html = client.get(url).get_data(as_text=True)
        assert 'data-testid="brand">テスト管理クラウド</a>' in _header(html), url
        assert "MAMAシステム</a>" not in html and "kanri" not in _without_footer(html).lower(), url


def test_no_template_says_kanri_outside_the_footer():
    offenders = []
    for folder in (ROOT / "app", ROOT / "plugins"):
        for path in folder.rglob("templates/**/*"):
            if path.suffix not in (".html", ".txt"):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                text = line.replace("kanri.css", "").replace("kanri.js", "")
                if "kanri" in text.lower() and 'class="site-footer"' not in text:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []


def test_no_send_names_a_product_or_the_platform_in_its_subject():
    # Sends give the topic only; app.branding.mail_subject adds the product and company for every one.
    call = re.compile(r"send_mail\(\s*[^,]+,\s*(f?\"[^\"]*\")", re.S)
    subjects = []
    for folder in (ROOT / "app", ROOT / "plugins"):
        for path in folder.rglob("*.py"):
            subjects += call.findall(path.read_text(encoding="utf-8"))
    assert len(subjects) >= 8
    assert [s for s in subjects if re.search(r"kanri|MAMA|重調|【", s, re.I)] == []


def test_mail_subjects_carry_product_and_company(app, make_tenant, add_user, outbox):
    info, admin = admin_client(app, make_tenant)
    add_user(info.code, "staff")
    staff = app.test_client()
    password_step(staff, info.code, "staff")
    send_request(staff)  # mails the admins
    make_tenant("juchoco", product="jucho")
    start_login(app.test_client(), "juchoco", "admin")  # mails a login code
    subjects = [message.subject for message in outbox]
    assert "【MAMAシステム】端末の登録申請が届きました（mama1 株式会社）" in subjects
    assert "【重調@CITY】ログイン認証コード（juchoco 株式会社）" in subjects
    assert all(re.fullmatch(r"【(MAMAシステム|重調@CITY)】.+（.+）", subject) for subject in subjects), subjects
    bodies = "\n".join(message.body for message in outbox)
    assert "kanri" not in bodies.lower() and "MAMAシステム（このメールは送信専用です）" in bodies


def test_password_change_mail_of_each_product(app, make_tenant, outbox):
    from tests.conftest import PASSWORD

    _, client = admin_client(app, make_tenant)
    page = "/account/password"
    post_form(client, page, {"current_password": PASSWORD, "new_password": "とても長い新しいパスワード2026",
                             "confirm_password": "とても長い新しいパスワード2026"})
    assert [m.subject for m in outbox if "パスワード変更" in m.subject] == [
        "【MAMAシステム】パスワード変更のお知らせ（mama1 株式会社）"]


def test_mail_subject_helper(app):
    class Tenant:
        product, name = "jucho", "サンプル管理株式会社"

    with app.app_context():
        assert mail_subject("お知らせ", Tenant()) == "【重調@CITY】お知らせ（サンプル管理株式会社）"
        assert mail_subject("バックアップに失敗しました") == f"【{app.config['KANRI_SERVICE_NAME']}】バックアップに失敗しました"
