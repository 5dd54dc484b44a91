"""Hostile bytes in every cookie, header and query argument the app reads: a 400 or ignored, never a 500.

Real WSGI servers hand header and cookie text to the app as latin-1, so UTF-8 'あ' arrives as 'ã\\x81\\x82';
the test client passes str through unchanged, so both forms are sent.
"""
from __future__ import annotations

import pytest

from app.queryargs import cookie_tokens, token_shaped
from plugins.mama.devices import COOKIE_NAME
from tests.conftest import post_form
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import (
    DEVICE_PAGE,
    NOT_REGISTERED,
    admin_client,
    login,
    login_with_code,
    logout,
    mama_tenant,
    password_step,
    send_request,
)


def _wire(text: str) -> str:
    """How UTF-8 text reaches a WSGI app in a header (decoded as latin-1)."""
    return text.encode("utf-8").decode("latin-1")


HOSTILE = [
    "あ", _wire("あ"), "ééé", "\x00", "\x01abc", "\x7f", "\x1b[31mred", "a" * 5000, _wire("あ") * 2000,
    "A" * 42 + "あ", "A" * 42 + "\x00", "A" * 44, "..", "%E3%81%82", "'\"<script>", "=" * 10,
]
HEADER_HOSTILE = [v for v in HOSTILE if all(ord(c) > 31 or c == "\t" for c in v)]  # the client refuses CR/LF/NUL


def _ok(response):
    assert response.status_code < 500, response.status_code
    return response


# ---- the core helper -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE + [None, "", 42, b"abc"])
def test_token_shaped_refuses_everything_the_app_does_not_issue(value):
    assert token_shaped(value, length=43) is None


def test_token_shaped_accepts_what_secrets_token_urlsafe_makes():
    import secrets

    token = secrets.token_urlsafe(32)
    assert token_shaped(token, length=43) == token
    assert token_shaped(token, max_length=42) is None


def test_cookie_tokens_keeps_the_good_parts_only(app):
    good = "A" * 43
    raw = ".".join(["あ", good, "\x00", "B" * 44, good])
    with app.test_request_context(headers={"Cookie": f"c={raw}"}):
        assert cookie_tokens("c", length=43) == [good]
    with app.test_request_context(headers={"Cookie": "c=" + ".".join([good] * 500)}):
        assert cookie_tokens("c", length=43, limit=5) == []  # far longer than the app ever writes


# ---- cookies ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_device_cookie_on_the_device_page_is_ignored(app, client, make_tenant, value):
    mama_tenant(make_tenant)
    password_step(client, "mama1", "admin")
    client.set_cookie(COOKIE_NAME, value)
    response = _ok(client.get(DEVICE_PAGE))
    assert response.status_code == 200 and NOT_REGISTERED in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["あ", _wire("あ"), "ééé", "\x00", "a" * 5000])
def test_hostile_device_cookie_on_my_devices_is_ignored(app, make_tenant, value):
    _, client = admin_client(app, make_tenant)
    client.set_cookie(COOKIE_NAME, value)
    response = _ok(client.get("/mama/account/devices"))
    assert response.status_code == 200


@pytest.mark.parametrize("junk", ["あ", "ééé", "\x00", "x" * 60])
def test_a_good_device_token_next_to_junk_still_logs_in(app, client, make_tenant, junk):
    mama_tenant(make_tenant)
    login_with_code(client, app, "mama1", "admin")
    token = client.get_cookie(COOKIE_NAME).value
    logout(client)
    client.set_cookie(COOKIE_NAME, f"{junk}.{token}.{junk}")
    response = login(client, "mama1", "admin")
    assert response.status_code == 302 and client.get("/").status_code == 200
    assert client.get_cookie(COOKIE_NAME).value == token  # the refreshed cookie no longer carries the junk


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_device_cookie_when_sending_a_request_is_ignored(app, client, make_tenant, value):
    mama_tenant(make_tenant)
    password_step(client, "mama1", "admin")
    client.set_cookie(COOKIE_NAME, value)
    response = _ok(send_request(client, "経理部のPC"))
    assert response.status_code == 302
    assert all(part and "\x00" not in part for part in client.get_cookie(COOKIE_NAME).value.split("."))


@pytest.mark.parametrize("name", ["session", "remember_token"])
@pytest.mark.parametrize("value", HOSTILE + ["x|" + "あ", "1|" + "ééé", "\x00|\x01"])
def test_hostile_session_and_remember_cookies_are_ignored(client, make_tenant, name, value):
    client.set_cookie(name, value)
    assert _ok(client.get("/login")).status_code == 200
    response = _ok(client.get("/"))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---- headers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("agent", HEADER_HOSTILE)
def test_hostile_user_agent_is_stored_escaped_not_a_500(app, client, make_tenant, agent):
    mama_tenant(make_tenant)
    client.environ_base["HTTP_USER_AGENT"] = agent
    assert _ok(password_step(client, "mama1", "admin")).status_code == 302
    assert _ok(send_request(client)).status_code == 302


@pytest.mark.parametrize("value", HEADER_HOSTILE)
def test_hostile_csrf_header_is_a_400(client, make_tenant, value):
    make_tenant("acme")
    client.get("/login")
    response = client.post("/login", data={"company_code": "acme"}, headers={"X-CSRFToken": value})
    assert response.status_code == 400


@pytest.mark.parametrize("value", HEADER_HOSTILE)
def test_hostile_request_id_header_is_not_echoed(client, value):
    response = _ok(client.get("/login", headers={"X-Request-ID": value}))
    assert response.headers["X-Request-ID"] != value and len(response.headers["X-Request-ID"]) == 32


@pytest.mark.config(KANRI_PROXY_FIX=1)
@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Forwarded-Proto"])
@pytest.mark.parametrize("value", HEADER_HOSTILE)
def test_hostile_forwarded_headers_are_ignored(client, make_tenant, header, value):
    """Host and X-Forwarded-Host are tested with the base URL (tests/test_base_url.py)."""
    mama_tenant(make_tenant)
    client.environ_base["HTTP_" + header.upper().replace("-", "_")] = value
    assert _ok(client.get("/login")).status_code == 200
    assert _ok(password_step(client, "mama1", "admin")).status_code == 302
    assert _ok(send_request(client)).status_code == 302


# ---- query-string arguments and the URL --------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE + ["//evil.example/", "/\\evil", "/" + "a" * 600, "/ok\x85"])
def test_hostile_next_argument_is_dropped(client, make_tenant, value):
    make_tenant("acme")
    page = _ok(client.get("/login", query_string={"next": value}))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="next" type="hidden" value=""' in html


@pytest.mark.parametrize("value", HOSTILE + ["9" * 5000, "-1", "1e9"])
def test_hostile_list_arguments_in_mama(app, make_tenant, value):
    _, client = admin_client(app, make_tenant)
    args = {name: value for name in ("page", "q", "sort", "dir", "prefecture")}
    assert _ok(client.get("/mama/associations", query_string=args)).status_code == 200
    assert _ok(client.get("/mama/users", query_string=args)).status_code == 200
    assert _ok(client.get("/mama/permissions", query_string={"role": value})).status_code == 200
    assert _ok(client.get("/mama/scopes", query_string=args)).status_code == 200


@pytest.fixture
def jucho_client(app, make_tenant, outbox):
    make_tenant("juchoco", product="jucho")
    client = app.test_client()
    jucho_login(client, outbox, "juchoco", "admin")
    return client


@pytest.mark.parametrize("value", HOSTILE + ["9" * 5000, "-1"])
def test_hostile_list_arguments_in_jucho(jucho_client, value):
    args = {name: value for name in ("page", "q", "sort", "dir", "association")}
    for path in ("/jucho/buildings", "/jucho/associations", "/jucho/staff"):
        assert _ok(jucho_client.get(path, query_string=args)).status_code == 200, path


@pytest.mark.parametrize("token", ["あ", "ééé", "%00", "a" * 5000, "..", "%E3%81%82"])
def test_hostile_reset_token_in_the_url_is_refused_politely(client, token):
    response = _ok(client.get(f"/jucho/password/reset/{token}"))
    assert response.status_code in (404, 410)  # 410: 「このリンクは使えません」


def test_hostile_form_fields_outside_wtforms_are_ignored(app, make_tenant, add_user):
    info, client = admin_client(app, make_tenant)
    response = post_form(client, "/mama/scopes/1", {"association_id": ["あ", "\x00", "9" * 5000, "-1"],
                                                   "q": "\x00" * 500}, action="/mama/scopes/1/add")
    assert response.status_code in (302, 404)
