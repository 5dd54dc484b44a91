"""Links in mail come from KANRI_BASE_URL, never from the request; a request for another Host answers 400."""
from __future__ import annotations

import re

import pytest

from app import create_app
from app.config import ConfigError
from app.display import error_reference
from app.urls import external_url
from tests.conftest import csrf_from
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import DEVICE_PAGE, admin_client, mama_tenant, password_step

BASE = "https://kanri.example.jp"
FORGED = [{"Host": "evil.example"}, {"Host": "evil.example:443"}, {"Host": "localhost.evil.example"},
          {"X-Forwarded-Host": "evil.example"}, {"X-Forwarded-Host": "localhost, evil.example"},
          {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}]
_URL = re.compile(r"https?://[^\s<>\"']+")


def _links(outbox) -> list[str]:
    return [url for message in outbox for url in _URL.findall(message.body + (message.html or ""))]


def _assert_links_from_base(outbox, base: str = BASE):
    links = _links(outbox)
    assert links, "the mail carries no link"
    assert all(link.startswith(base + "/") for link in links), links
    assert not any("evil" in link for link in links)


# ---- the password-reset link (重調) ---------------------------------------------------------------------------------


@pytest.fixture
def jucho(make_tenant, add_user):
    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "hanako", email="hanako@example.co.jp")


def _forgot(client, headers=None):
    page = client.get("/jucho/password/forgot")
    response = client.post("/jucho/password/forgot", headers=headers or {},
                           data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                 "company_code": "juchoco", "identifier": "hanako"})
    return response


@pytest.mark.config(KANRI_BASE_URL=BASE, KANRI_PROXY_FIX=1)
@pytest.mark.parametrize("headers", FORGED)
def test_forged_host_never_reaches_the_reset_mail(client, outbox, jucho, headers):
    response = _forgot(client, headers)
    assert response.status_code == 400
    assert outbox == []


@pytest.mark.config(KANRI_BASE_URL=BASE)
def test_forwarded_host_is_ignored_without_proxy_fix_and_the_link_uses_the_base(client, outbox, jucho):
    response = _forgot(client, {"X-Forwarded-Host": "evil.example"})
    assert response.status_code == 302
    _assert_links_from_base(outbox)
    assert _links(outbox)[0].startswith(f"{BASE}/jucho/password/reset/")


@pytest.mark.config(KANRI_BASE_URL=BASE + "/kanri/")
def test_a_base_url_with_a_path_prefixes_every_link(app, client, outbox, jucho):
    assert app.config["KANRI_BASE_URL"] == BASE + "/kanri"
    _forgot(client)
    assert _links(outbox)[0].startswith(f"{BASE}/kanri/jucho/password/reset/")


@pytest.mark.config(KANRI_BASE_URL=BASE)
def test_the_mailed_reset_link_works(client, outbox, jucho):
    _forgot(client)
    path = _links(outbox)[0].removeprefix(BASE)
    assert client.get(path).status_code == 200


# ---- the device-request mail to MAMA admins ---------------------------------------------------------------------


def _send_device_request(client, headers):
    page = client.get(DEVICE_PAGE)
    return client.post("/mama/device/request", headers=headers,
                       data={"csrf_token": csrf_from(page.get_data(as_text=True)), "name": "経理部のPC"})


@pytest.mark.config(KANRI_BASE_URL=BASE, KANRI_PROXY_FIX=1)
@pytest.mark.parametrize("headers", FORGED)
def test_forged_host_never_reaches_the_device_request_mail(app, client, make_tenant, add_user, outbox, headers):
    mama_tenant(make_tenant)
    add_user("mama1", "staff")
    password_step(client, "mama1", "staff")
    assert _send_device_request(client, headers).status_code == 400
    assert outbox == []
    assert _send_device_request(client, {}).status_code == 302
    _assert_links_from_base(outbox)
    assert _links(outbox)[0] == f"{BASE}/mama/devices"


# ---- the new-employee mail (重調) -----------------------------------------------------------------------------------


def _register(client, headers, login_id="ichiro"):
    page = client.get("/jucho/staff/new")
    return client.post("/jucho/staff/new", headers=headers, data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "name": "鈴木 一郎",
        "email": f"{login_id}@example.co.jp", "login_id": login_id, "role": "general"})


@pytest.mark.config(KANRI_BASE_URL=BASE, KANRI_PROXY_FIX=1)
@pytest.mark.parametrize("headers", FORGED)
def test_forged_host_never_reaches_the_new_staff_mail(app, client, make_tenant, outbox, headers):
    make_tenant("juchoco", product="jucho")
    jucho_login(client, outbox, "juchoco", "admin")
    outbox.clear()
    assert _register(client, headers).status_code == 400
    assert outbox == []
    assert _register(client, {}).status_code == 302
    _assert_links_from_base(outbox)
    assert f"{BASE}/login" in outbox[0].body


# ---- trusted hosts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "あ", "ééé".encode().decode("latin-1"), "a" * 5000,
                                  "localhost:99999", "localhost@evil.example", "evil.example#localhost"])
def test_a_request_for_another_host_is_a_400(client, host):
    assert client.get("/login", headers={"Host": host}).status_code == 400


@pytest.mark.config(KANRI_BASE_URL=BASE, KANRI_EXTRA_HOSTS="kanri-internal.example, 10.0.0.5")
def test_trusted_hosts_are_the_base_host_extras_and_loopback_outside_production(app, client):
    assert app.config["TRUSTED_HOSTS"] == ["kanri.example.jp", "kanri-internal.example", "10.0.0.5",
                                           "localhost", "127.0.0.1"]
    for host in ("kanri.example.jp", "kanri-internal.example", "10.0.0.5:8000", "127.0.0.1:5000", "localhost"):
        assert client.get("/login", headers={"Host": host}).status_code == 200, host


def test_trusted_host_check_also_works_on_a_flask_without_it(base_config, monkeypatch):
    from app import urls

    monkeypatch.setattr(urls, "_flask_checks_trusted_hosts", lambda: False)
    app = create_app(base_config)
    assert urls._check_host in app.before_request_funcs[None]
    app.config["TRUSTED_HOSTS"] = None  # Flask's own check off: what an older Flask would do
    client = app.test_client()
    assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/login").status_code == 200


def test_installed_flask_applies_trusted_hosts():
    from app.urls import _flask_checks_trusted_hosts

    assert _flask_checks_trusted_hosts()


# ---- external_url outside a request ----------------------------------------------------------------------------


@pytest.mark.config(KANRI_BASE_URL=BASE)
def test_external_url_works_outside_a_request(app):
    with app.app_context():
        assert external_url("auth.login") == f"{BASE}/login"
        assert external_url("jucho.reset_password", token="abc.def") == f"{BASE}/jucho/password/reset/abc.def"
        assert external_url("main.dashboard", _anchor="top") == f"{BASE}/#top"


@pytest.mark.config(KANRI_BASE_URL=BASE)
def test_external_url_ignores_the_request_host(app):
    with app.test_request_context("/", headers={"Host": "127.0.0.1:5000"}):
        assert external_url("auth.login") == f"{BASE}/login"


# ---- settings ---------------------------------------------------------------------------------------------------


def _production(base_config, tmp_path, **overrides):
    return {**base_config, "KANRI_ENV": "production", "DEBUG": False,
            "SECRET_KEY": "p" * 12 + "-a-long-random-production-secret-value", **overrides}


@pytest.mark.parametrize("base,reason", [
    ("", "KANRI_BASE_URL is missing"),
    (None, "KANRI_BASE_URL is missing"),
    ("http://kanri.example.jp", "must be https"),
    ("kanri.example.jp", "must look like"),
    ("https://", "must look like"),
    ("https://user:pw@kanri.example.jp", "must look like"),
    ("https://kanri.example.jp/?next=x", "must look like"),
    ("https://kanri.example.jp:99999", "is not a URL"),
    ("ftp://kanri.example.jp", "must look like"),
])
def test_production_refuses_a_missing_or_unsafe_base_url(base_config, tmp_path, base, reason):
    with pytest.raises(ConfigError) as error:
        create_app(_production(base_config, tmp_path, KANRI_BASE_URL=base))
    assert reason in str(error.value) and "\n" not in str(error.value)


def test_production_trusts_only_the_base_host(base_config, tmp_path):
    app = create_app(_production(base_config, tmp_path, KANRI_BASE_URL=BASE + "/"))
    assert app.config["KANRI_BASE_URL"] == BASE
    assert app.config["TRUSTED_HOSTS"] == ["kanri.example.jp"]
    client = app.test_client()
    assert client.get("/login", base_url=BASE).status_code == 200
    assert client.get("/login", base_url="https://localhost").status_code == 400


def test_development_defaults_to_the_development_server(base_config, monkeypatch):
    monkeypatch.delenv("KANRI_BASE_URL", raising=False)
    app = create_app({**base_config, "KANRI_ENV": "development", "KANRI_BASE_URL": ""})
    assert app.config["KANRI_BASE_URL"] == "http://127.0.0.1:5000"
    assert app.config["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]


def test_base_url_is_read_from_the_environment(monkeypatch, tmp_path):
    from app.config import from_environment

    monkeypatch.setenv("KANRI_BASE_URL", " https://kanri.example.jp ")
    monkeypatch.setenv("KANRI_EXTRA_HOSTS", "a.example,b.example")
    settings = from_environment(str(tmp_path))
    assert settings["KANRI_BASE_URL"] == BASE and settings["KANRI_EXTRA_HOSTS"] == "a.example,b.example"


def test_no_mail_link_is_built_from_the_request():
    """url_for(..., _external=True) takes the host from the request: every link in mail uses external_url."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    offenders = [str(path.relative_to(root)) for folder in ("app", "plugins") for path in (root / folder).rglob("*.py")
                 if "_external" in path.read_text(encoding="utf-8") and path.name != "urls.py"]
    assert offenders == []


def test_a_foreign_host_is_a_400_page_with_a_support_id_also_when_logged_in(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    for path in ("/", "/mama/users", "/account/password", "/no-such-page"):
        response = client.get(path, headers={"Host": "evil.example"})
        assert response.status_code == 400, path
        html = response.get_data(as_text=True)
        assert "リクエストが正しくありません" in html and "お問い合わせ番号" in html and "evil" not in html
        assert error_reference(response.headers["X-Request-ID"]) in html
    assert client.get("/mama/users").status_code == 200  # the session is untouched
