"""The core's login toolkit for second factors: pending_login(factor) and restart_login(message)."""
from __future__ import annotations

from flask import session as flask_session

from app.auth.factors import PENDING_KEY, SecondFactor, complete_login, pending_login, restart_login
from tests.conftest import PASSWORD, password_step
from tests.plugins.sample_product import FACTOR

SAMPLE_PAGE = "/sample/confirm"


def _named_pending(app, make_tenant) -> dict:
    """The session entry of a sample tenant's pending login, after a real password step."""
    make_tenant("acme")
    client = app.test_client()
    password_step(client, "acme", "admin", PASSWORD)
    with client.session_transaction() as session:
        return dict(session[PENDING_KEY])


def test_pending_login_for_its_own_factor(app, make_tenant):
    named = _named_pending(app, make_tenant)
    with app.test_request_context(SAMPLE_PAGE):
        flask_session[PENDING_KEY] = named
        by_factor = pending_login(FACTOR)
        by_name = pending_login(FACTOR.name)
        assert by_factor is not None and by_name is not None
        assert by_factor.id == by_name.id == pending_login().id  # the no-argument call still works
        assert by_factor.user.login_id == "admin"


def test_another_factors_pending_login_is_none_and_stays_open(app, make_tenant):
    named = _named_pending(app, make_tenant)
    with app.test_request_context(SAMPLE_PAGE):
        flask_session[PENDING_KEY] = named
        assert pending_login(SecondFactor("other-code", "別の確認", "other.verify")) is None
        assert pending_login("other-code") is None
        assert flask_session[PENDING_KEY] == named  # not dropped: it belongs to another factor
        pending = pending_login(FACTOR)
        assert pending is not None
        assert complete_login(pending, FACTOR.name).status_code == 302


def test_no_pending_login_is_none_for_any_factor(app):
    with app.test_request_context(SAMPLE_PAGE):
        assert pending_login(FACTOR) is None
        assert pending_login() is None


def test_restart_login_flashes_and_redirects(app):
    with app.test_request_context(SAMPLE_PAGE):
        response = restart_login()
        assert response.status_code == 302 and response.headers["Location"].endswith("/login")
        assert ("warning", "もう一度ログインしてください。") in flask_session["_flashes"]
    with app.test_request_context(SAMPLE_PAGE):
        restart_login("ログインの有効期限が切れました。もう一度ログインしてください。")
        assert ("warning", "ログインの有効期限が切れました。もう一度ログインしてください。") in flask_session["_flashes"]


def test_a_device_page_without_pending_login_restarts_the_login(client):
    response = client.get("/mama/device")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    with client.session_transaction() as session:
        assert ("warning", "もう一度ログインしてください。") in session["_flashes"]
