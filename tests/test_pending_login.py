"""A pending login (password done, second factor open) is a server-side record used at most once.

Each test copies the browser's session cookie right after the password step, as someone with a
moment's access to the browser (or its traffic) could, and replays it after the real login.
"""
from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
import time_machine
from flask import session as flask_session
from werkzeug.exceptions import HTTPException

from app.auth.factors import EXPIRED, PENDING_KEY, REPLAYED, complete_login, pending_login
from app.extensions import db
from app.models import AuditEvent, PendingLoginRecord, UserSession
from app.tenancy import all_tenants
from app.timeutil import utcnow
from plugins.mama.devices import COOKIE_NAME
from tests import mama_helpers as mama
from tests.conftest import PASSWORD, csrf_from, login, password_step, post_form
from tests.jucho_helpers import CODE_PAGE, code_from, start_login, submit_code

SAMPLE_PAGE = "/sample/confirm"


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, saved: str, device_cookie: str | None = None):
    """A second browser that carries only the copied cookies."""
    other = app.test_client()
    other.set_cookie("session", saved)
    if device_cookie is not None:
        other.set_cookie(COOKIE_NAME, device_cookie)
    return other


def _audit(app, action: str) -> list[tuple[str, str | None, dict]]:
    with app.app_context(), all_tenants():
        rows = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id)).scalars()
        return [(row.outcome, row.target, json.loads(row.details)) for row in rows]


def _records(app) -> list[PendingLoginRecord]:
    with app.app_context(), all_tenants():
        return db.session.execute(sa.select(PendingLoginRecord).order_by(PendingLoginRecord.id)).scalars().all()


def _open_sessions(app) -> int:
    with app.app_context(), all_tenants():
        return db.session.execute(sa.select(sa.func.count()).select_from(UserSession)
                                  .where(UserSession.ended_at.is_(None))).scalar_one()


def _refused(response, client) -> None:
    """The replay went back to the login page with the Japanese message, and nobody is logged in."""
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert REPLAYED in client.get("/login").get_data(as_text=True)
    assert client.get("/").status_code == 302


# --- MAMA: registered device -------------------------------------------------------------------

def test_mama_pending_cookie_replayed_with_the_device_cookie_after_logout_is_refused(app, client, make_tenant):
    mama.mama_tenant(make_tenant)
    mama.login_with_code(client, app, "mama1", "admin")  # registers this browser as a device
    mama.logout(client)
    device_cookie = client.get_cookie(COOKIE_NAME).value

    assert mama.password_step(client, "mama1", "admin").status_code == 302
    saved = _session_cookie(client)
    response = client.get(mama.DEVICE_PAGE)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert client.get("/").status_code == 200
    mama.logout(client)
    assert _open_sessions(app) == 0

    # The copied pending cookie plus the device cookie: no second login, however often it is tried.
    assert client.get_cookie(COOKIE_NAME).value == device_cookie
    for _ in range(3):
        client.set_cookie("session", saved)
        _refused(client.get(mama.DEVICE_PAGE), client)
    assert _open_sessions(app) == 0
    replays = _audit(app, "login.pending_replayed")
    assert len(replays) == 3
    assert all(outcome == "failure" and target == "user:admin" for outcome, target, _ in replays)
    assert replays[0][2]["first_use"] == "completed" and replays[0][2]["step"] == "open"
    assert [a for a, _, _ in mama.audit_actions(app, "mama1")].count("login.success") == 2


def test_mama_pending_cookie_replayed_in_another_browser_after_completion_is_refused(app, client, make_tenant):
    mama.mama_tenant(make_tenant)
    mama.login_with_code(client, app, "mama1", "admin")
    mama.logout(client)
    device_cookie = client.get_cookie(COOKIE_NAME).value

    mama.password_step(client, "mama1", "admin")
    saved = _session_cookie(client)
    assert client.get(mama.DEVICE_PAGE).headers["Location"].endswith("/")

    thief = _replay(app, saved, device_cookie)
    _refused(thief.get(mama.DEVICE_PAGE), thief)
    assert client.get("/").status_code == 200  # the real user stays logged in
    assert _open_sessions(app) == 1
    assert len(_audit(app, "login.pending_replayed")) == 1


def test_mama_pending_cookie_of_a_registration_request_cannot_be_used_later(app, client, make_tenant, add_user):
    """The device request abandons the pending login: its copy must not finish a login once approved."""
    mama.mama_tenant(make_tenant)
    add_user("mama1", "staff")
    mama.password_step(client, "mama1", "staff")
    saved = _session_cookie(client)
    response = mama.send_request(client, "経理部のPC")
    assert response.headers["Location"].endswith("/mama/device/status")
    device_cookie = client.get_cookie(COOKIE_NAME).value
    with mama.in_tenant(app, "mama1"):
        from plugins.mama.models import MamaDevice

        db.session.execute(sa.update(MamaDevice).values(status="approved", decided_at=utcnow(),
                                                    expires_at=utcnow() + timedelta(days=30)))
        db.session.commit()

    thief = _replay(app, saved, device_cookie)
    _refused(thief.get(mama.DEVICE_PAGE), thief)
    assert _audit(app, "login.pending_replayed")[0][2]["first_use"] == "abandoned"
    assert _open_sessions(app) == 0


# --- 重調: e-mailed code -------------------------------------------------------------------------

def test_jucho_pending_cookie_replayed_after_logout_is_refused_and_audited(app, client, outbox, make_tenant):
    make_tenant("juchoco", product="jucho")
    start_login(client, "juchoco", "admin")
    saved = _session_cookie(client)
    code = code_from(outbox[-1])
    assert submit_code(client, code).headers["Location"].endswith("/")
    mama.logout(client)
    assert _open_sessions(app) == 0

    client.set_cookie("session", saved)
    with time_machine.travel(utcnow() + timedelta(seconds=70), tick=False):  # past the resend cooldown
        _refused(client.get(CODE_PAGE), client)
        client.set_cookie("session", saved)
        token = csrf_from(client.get("/login").get_data(as_text=True))
        _refused(client.post(CODE_PAGE, data={"csrf_token": token, "code": code}), client)
    assert len(outbox) == 1  # no new code was mailed for the replayed login
    assert _open_sessions(app) == 0
    replays = _audit(app, "login.pending_replayed")
    assert [(o, t) for o, t, _ in replays] == [("failure", "user:admin")] * 2


def test_jucho_pending_cookie_replayed_in_another_browser_after_completion_is_refused(app, client, outbox,
                                                                                       make_tenant):
    make_tenant("juchoco", product="jucho")
    start_login(client, "juchoco", "admin")
    saved = _session_cookie(client)
    assert submit_code(client, code_from(outbox[-1])).status_code == 302

    thief = _replay(app, saved)
    _refused(thief.get(CODE_PAGE), thief)
    assert client.get("/").status_code == 200
    assert _open_sessions(app) == 1
    assert len(_audit(app, "login.pending_replayed")) == 1


def test_jucho_ten_minute_code_extends_the_server_record(app, client, outbox, make_tenant):
    make_tenant("juchoco", product="jucho")
    start = utcnow()
    with time_machine.travel(start, tick=False):
        start_login(client, "juchoco", "admin")
    [record] = _records(app)
    assert record.expires_at == start + timedelta(minutes=10)


# --- the test-only sample product: a factor that does nothing about replays itself -----------------

def test_sample_pending_cookie_replayed_after_logout_is_refused(app, client, make_tenant):
    make_tenant("acme")
    password_step(client, "acme", "admin", PASSWORD)
    saved = _session_cookie(client)
    assert post_form(client, SAMPLE_PAGE, {"answer": "ok"}).headers["Location"].endswith("/")
    mama.logout(client)

    client.set_cookie("session", saved)
    _refused(client.get(SAMPLE_PAGE), client)
    client.set_cookie("session", saved)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    _refused(client.post(SAMPLE_PAGE, data={"csrf_token": token, "answer": "ok"}), client)
    assert _open_sessions(app) == 0
    assert len(_audit(app, "login.pending_replayed")) == 2


def test_sample_pending_cookie_replayed_in_another_browser_after_completion_is_refused(app, client, make_tenant):
    make_tenant("acme")
    password_step(client, "acme", "admin", PASSWORD)
    saved = _session_cookie(client)
    post_form(client, SAMPLE_PAGE, {"answer": "ok"})

    thief = _replay(app, saved)
    _refused(thief.get(SAMPLE_PAGE), thief)
    assert client.get("/").status_code == 200
    assert _open_sessions(app) == 1


def test_pending_login_past_expiry_is_refused(app, client, make_tenant):
    make_tenant("acme")
    password_step(client, "acme", "admin", PASSWORD)
    token = csrf_from(client.get(SAMPLE_PAGE).get_data(as_text=True))
    with time_machine.travel(utcnow() + timedelta(minutes=5, seconds=1), tick=False):
        response = client.post(SAMPLE_PAGE, data={"csrf_token": token, "answer": "ok"})
        assert response.status_code == 302 and response.headers["Location"].endswith("/login")
        assert client.get("/").status_code == 302
    assert _open_sessions(app) == 0
    assert [r.consumed_at for r in _records(app)] == [None]


def test_cookie_carries_only_the_record_id_and_a_nonce_stored_hashed(app, client, make_tenant):
    make_tenant("acme")
    password_step(client, "acme", "admin", PASSWORD, next_url="/sample/notes")
    with client.session_transaction() as session:
        named = dict(session[PENDING_KEY])
    assert set(named) == {"id", "nonce"} and len(named["nonce"]) == 43
    [record] = _records(app)
    assert record.id == named["id"] and named["nonce"] not in record.nonce_hash
    assert record.factor == "sample-confirm" and record.next_url == "/sample/notes" and record.consumed_at is None
    assert post_form(client, SAMPLE_PAGE, {"answer": "ok"}).headers["Location"].endswith("/sample/notes")
    [record] = _records(app)
    assert record.consumed_at is not None and record.consumed_reason == "completed"
    assert [d["pending"] for _, _, d in _audit(app, "login.success")] == [record.id]


def test_two_concurrent_completions_cannot_both_win(app, make_tenant):
    """Both requests found the pending login open; the atomic consume lets only the first finish."""
    make_tenant("acme")
    client = app.test_client()
    password_step(client, "acme", "admin", PASSWORD)
    with client.session_transaction() as session:
        named = dict(session[PENDING_KEY])

    with app.test_request_context(SAMPLE_PAGE):
        flask_session[PENDING_KEY] = named
        first, second = pending_login(), pending_login()
        assert first is not None and second is not None  # both see it open
        assert complete_login(first, "sample-confirm").status_code == 302
        flask_session.clear()
        flask_session[PENDING_KEY] = named  # the second request's browser still names it
        try:
            complete_login(second, "sample-confirm")
        except HTTPException as refused:
            assert refused.response.headers["Location"].endswith("/login")
            assert ("error", REPLAYED) in flask_session["_flashes"] and PENDING_KEY not in flask_session
        else:
            raise AssertionError("the second completion logged in too")
    assert _open_sessions(app) == 1
    [(outcome, target, details)] = _audit(app, "login.pending_replayed")
    assert (outcome, target, details["step"], details["first_use"]) == ("failure", "user:admin", "complete",
                                                                         "completed")


def test_expiry_between_opening_and_completing_is_refused(app, make_tenant):
    make_tenant("acme")
    client = app.test_client()
    password_step(client, "acme", "admin", PASSWORD)
    with client.session_transaction() as session:
        named = dict(session[PENDING_KEY])
    with app.test_request_context(SAMPLE_PAGE):
        flask_session[PENDING_KEY] = named
        pending = pending_login()
        assert pending is not None
        with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
            try:
                complete_login(pending, "sample-confirm")
            except HTTPException as refused:
                assert refused.response.headers["Location"].endswith("/login")
                assert ("error", EXPIRED) in flask_session["_flashes"]
            else:
                raise AssertionError("an expired pending login completed")
    assert _open_sessions(app) == 0
    assert [(o, d["step"]) for o, _, d in _audit(app, "login.pending_expired")] == [("failure", "complete")]


def test_hostile_or_old_format_pending_cookie_is_ignored(app, client, make_tenant):
    make_tenant("acme")
    bad_values = [
        {"tenant_id": 1, "user_id": 1, "nonce": "x", "factor": "sample-confirm", "expires": 9e12},  # before 0004
        {"id": "1 OR 1=1", "nonce": "a" * 43},
        {"id": 1, "nonce": "a" * 43},
        {"id": 2**40, "nonce": "a" * 43},
        {"id": True, "nonce": "a" * 43},
        {"id": 1, "nonce": "\x00" * 43},
        "garbage",
    ]
    for value in bad_values:
        with client.session_transaction() as session:
            session[PENDING_KEY] = value
        response = client.get(SAMPLE_PAGE)
        assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert _open_sessions(app) == 0


def test_expired_pending_rows_are_deleted_at_the_users_next_password_step(app, client, make_tenant, add_user):
    make_tenant("acme")
    add_user("acme", "other")
    start = utcnow()
    with time_machine.travel(start, tick=False):
        password_step(client, "acme", "admin", PASSWORD)
        login(app.test_client(), "acme", "admin")
        password_step(app.test_client(), "acme", "other", PASSWORD)
    assert len(_records(app)) == 3
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        password_step(client, "acme", "admin", PASSWORD)
    records = _records(app)
    # admin's two old rows (one used, one never finished) are gone; another user's rows are untouched
    assert len(records) == 2 and records[-1].expires_at == start + timedelta(minutes=25)


def test_two_browsers_completing_at_the_same_instant_log_in_once(app, make_tenant, monkeypatch):
    """Real concurrency: both requests hold the pending login open and reach the consume together."""
    import threading

    from app.auth import factors

    make_tenant("acme")
    owner = app.test_client()
    password_step(owner, "acme", "admin", PASSWORD)
    token = csrf_from(owner.get(SAMPLE_PAGE).get_data(as_text=True))
    saved = _session_cookie(owner)
    browsers = [owner, _replay(app, saved)]
    together = threading.Barrier(2)
    original = factors._mark
    reached = []

    def mark_together(*args, **kwargs):
        if "consumed_at" in args[2]:
            reached.append(args[0])
            try:
                together.wait(timeout=10)  # both passed pending_login() and the factor's check
            except threading.BrokenBarrierError:
                pass
        return original(*args, **kwargs)

    monkeypatch.setattr(factors, "_mark", mark_together)
    results: list = [None, None]

    def finish(index):
        response = browsers[index].post(SAMPLE_PAGE, data={"csrf_token": token, "answer": "ok"})
        results[index] = (response.status_code, response.headers.get("Location", ""))

    threads = [threading.Thread(target=finish, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(location.rsplit("/", 1)[-1] for _, location in results) == ["", "login"], results
    assert all(status == 302 for status, _ in results)
    assert len(reached) == 2  # the race really happened: both got as far as consuming
    assert _open_sessions(app) == 1
    assert len(_audit(app, "login.success")) == 1 and len(_audit(app, "login.pending_replayed")) == 1


# --- ending a user's sessions also voids the logins they have half done ------------------------------

def test_password_change_voids_a_login_half_done_elsewhere(app, client, make_tenant):
    """Someone who knew the old password and stands at the second factor cannot finish after a change."""
    make_tenant("acme")
    other = app.test_client()
    password_step(other, "acme", "admin", PASSWORD)  # the other browser waits at the factor
    login(client, "acme", "admin")
    new_password = "a brand new passphrase for 2027"
    response = post_form(client, "/account/password", {"current_password": PASSWORD, "new_password": new_password,
                                                       "confirm_password": new_password})
    assert response.status_code == 302
    _refused(other.get(SAMPLE_PAGE), other)
    assert [r.consumed_reason for r in _records(app)] == ["abandoned", "completed"]


def test_jucho_admin_reset_voids_the_code_already_mailed(app, client, outbox, make_tenant, add_user):
    """An admin's password reset ends the user's sessions: the code mailed to a half-done login dies too."""
    from plugins.jucho.models import JuchoLoginCode
    from tests.jucho_helpers import jucho_login

    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "staff", email="staff@juchoco.example.jp")
    thief = app.test_client()
    start_login(thief, "juchoco", "staff")
    code = code_from(outbox[-1])
    jucho_login(client, outbox, "juchoco", "admin")
    with app.app_context(), all_tenants():
        staff_id = db.session.execute(sa.text("SELECT id FROM users WHERE login_id = 'staff'")).scalar_one()
    response = post_form(client, f"/jucho/staff/{staff_id}/edit", {"confirmed": "yes"},
                         action=f"/jucho/staff/{staff_id}/reset-password")
    assert response.status_code == 302
    _refused(submit_code(thief, code), thief)
    with app.app_context(), all_tenants():
        reasons = db.session.execute(sa.select(JuchoLoginCode.void_reason)
                                     .where(JuchoLoginCode.user_id == staff_id)).scalars().all()
    assert reasons == ["sessions_ended"]
