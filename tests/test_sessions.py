"""Server-side sessions: hashed ids, idle and absolute expiry, logout, the user's own sessions."""
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from app.extensions import db
from app.models import UserSession
from app.tenancy import all_tenants
from app.timeutil import utcnow
from tests.conftest import csrf_from, login, post_form


def _sessions(app):
    with app.app_context(), all_tenants():
        return db.session.execute(sa.select(UserSession).order_by(UserSession.id)).scalars().all()


def _session_cookie(client):
    cookie = client.get_cookie("session")
    return cookie.value if cookie else ""


def test_login_creates_a_server_session_storing_only_a_hash(client, make_tenant, app):
    make_tenant("acme")
    login(client, "acme", "admin")
    rows = _sessions(app)
    assert len(rows) == 1
    assert len(rows[0].token_hash) == 64 and rows[0].ended_at is None
    # The raw token (>= 128 bits) is in the signed cookie; the database only has its SHA-256.
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    token = serializer.loads(_session_cookie(client))["_user_id"]
    assert len(token) >= 22 and token not in rows[0].token_hash


def test_login_replaces_the_pre_login_session(client, make_tenant):
    """Session fixation: nothing set before authentication survives the login."""
    make_tenant("acme")
    with client.session_transaction() as sess:
        sess["planted"] = "attacker value"
    login(client, "acme", "admin")
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_idle_timeout_30_minutes(client, make_tenant, app):
    make_tenant("acme")
    start = utcnow()
    with time_machine.travel(start, tick=False) as traveller:
        login(client, "acme", "admin")
        traveller.shift(timedelta(minutes=29))
        assert client.get("/").status_code == 200
        traveller.shift(timedelta(minutes=29))  # activity above kept it alive
        assert client.get("/").status_code == 200
        traveller.shift(timedelta(minutes=31))
        response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _sessions(app)[0].end_reason == "idle_timeout"


def test_absolute_timeout_12_hours(client, make_tenant, app):
    make_tenant("acme")
    start = utcnow()
    with time_machine.travel(start, tick=False) as traveller:
        login(client, "acme", "admin")
        for _ in range(30):  # busy all day, never idle
            traveller.shift(timedelta(minutes=29))
            if client.get("/").status_code != 200:
                break
        response = client.get("/")
    assert response.status_code == 302
    row = _sessions(app)[0]
    assert row.end_reason == "absolute_timeout"
    assert row.ended_at - row.created_at <= timedelta(hours=12, minutes=30)


def test_logout_is_post_and_invalidates_on_the_server(client, make_tenant, app):
    make_tenant("acme")
    login(client, "acme", "admin")
    stolen_cookie = _session_cookie(client)
    assert client.get("/logout").status_code == 405
    page = client.get("/").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert _sessions(app)[0].end_reason == "logout"
    # Replaying the old cookie does not bring the session back.
    replay = app.test_client()
    replay.set_cookie("session", stolen_cookie)
    assert replay.get("/").status_code == 302


def test_user_sees_and_ends_own_sessions(make_tenant, app):
    make_tenant("acme")
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "acme", "admin")
    login(phone, "acme", "admin")
    page = laptop.get("/account/sessions").get_data(as_text=True)
    assert page.count("danger small") == 2 and "この端末" in page
    phone_session = _sessions(app)[1]
    post_form(laptop, "/account/sessions", {"confirmed": "yes"}, action=f"/account/sessions/{phone_session.id}/end")
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 200


def test_end_all_other_sessions(make_tenant, app):
    make_tenant("acme")
    clients = [app.test_client() for _ in range(3)]
    for c in clients:
        login(c, "acme", "admin")
    post_form(clients[0], "/account/sessions", {"confirmed": "yes"}, action="/account/sessions/end-others")
    assert clients[0].get("/").status_code == 200
    assert all(c.get("/").status_code == 302 for c in clients[1:])


def test_cannot_end_another_users_session(make_tenant, add_user, app):
    make_tenant("acme")
    make_tenant("other")
    add_user("acme", "taro")
    mine, theirs, foreign = app.test_client(), app.test_client(), app.test_client()
    login(mine, "acme", "taro")
    login(theirs, "acme", "admin")
    login(foreign, "other", "admin")
    for victim in _sessions(app)[1:]:
        response = post_form(mine, "/account/sessions", {"confirmed": "yes"}, action=f"/account/sessions/{victim.id}/end")
        assert response.status_code == 404
    assert theirs.get("/").status_code == 200 and foreign.get("/").status_code == 200


def test_cookie_flags(client, make_tenant):
    make_tenant("acme")
    login(client, "acme", "admin")
    response = client.get("/")
    header = response.headers.get("Set-Cookie") or ""
    login_response = login(client.application.test_client(), "acme", "admin")
    cookie = login_response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert header == "" or "HttpOnly" in header


def test_production_cookie_is_secure_host_prefixed(base_config, monkeypatch):
    from app import create_app

    monkeypatch.setenv("KANRI_ENV", "production")
    app = create_app({**base_config, "KANRI_ENV": "production", "DEBUG": False,
                      "KANRI_BASE_URL": "https://kanri.example.jp"})
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-kanri"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
