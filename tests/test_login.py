"""Password login: generic failures, lockout, constant work, account and contract checks."""
from datetime import timedelta

import bcrypt
import sqlalchemy as sa
import time_machine

from app.auth.login import GENERIC_FAILURE
from app.extensions import db
from app.models import AuditEvent, Tenant, User
from app.tenancy import all_tenants, tenant_scope
from app.timeutil import utcnow
from tests.conftest import PASSWORD, login, password_step


def _user(app, login_id="admin", company="acme"):
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == company)).scalar_one()
        with tenant_scope(tenant):
            return db.session.execute(sa.select(User).where(User.login_id == login_id)).scalar_one()


def _audit_actions(app):
    with app.app_context(), all_tenants():
        return [(e.action, e.outcome, e.details) for e in db.session.execute(
            sa.select(AuditEvent).order_by(AuditEvent.id)).scalars()]


def test_login_page_is_japanese_form(client):
    html = client.get("/login").get_data(as_text=True)
    for label in ("会社コード", "ログインID", "パスワード", 'name="csrf_token"'):
        assert label in html


def test_right_password_gives_only_a_pending_login(client, make_tenant):
    make_tenant("acme")
    response = password_step(client, "acme", "admin", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/sample/confirm")
    # Not logged in yet: the dashboard still sends the browser to the login page.
    assert client.get("/").status_code == 302


def test_wrong_password_unknown_user_unknown_company_look_the_same(client, make_tenant):
    make_tenant("acme")
    pages = [
        password_step(client, "acme", "admin", "wrong password here!"),
        password_step(client, "acme", "nobody", PASSWORD),
        password_step(client, "nosuchco", "admin", PASSWORD),
    ]
    for page in pages:
        assert page.status_code == 200
        assert GENERIC_FAILURE in page.get_data(as_text=True)


def test_every_failure_is_an_audit_event(client, make_tenant, app):
    make_tenant("acme")
    password_step(client, "acme", "admin", "wrong password here!")
    password_step(client, "acme", "ghost", PASSWORD)
    password_step(client, "nosuchco", "admin", PASSWORD)
    failures = [a for a in _audit_actions(app) if a[0] == "login.failure"]
    reasons = sorted(f[2] for f in failures)
    assert len(failures) == 3
    assert any('"bad_password"' in r for r in reasons)
    assert any('"unknown_user"' in r for r in reasons)
    assert any('"unknown_company"' in r for r in reasons)


def test_unknown_ids_cost_one_bcrypt_like_known_ones(client, make_tenant, monkeypatch):
    make_tenant("acme")
    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, hashed: calls.append(1) or real(pw, hashed))
    for company, login_id in [("acme", "admin"), ("acme", "ghost"), ("nosuchco", "x")]:
        calls.clear()
        password_step(client, company, login_id, "wrong password here!")
        assert len(calls) == 1, (company, login_id)


def test_ten_failures_lock_for_fifteen_minutes_with_the_same_message(client, make_tenant, app):
    make_tenant("acme")
    for _ in range(10):
        password_step(client, "acme", "admin", "wrong password here!")
    user = _user(app)
    assert user.locked_until is not None
    locked_for = user.locked_until - utcnow()
    assert timedelta(minutes=14) < locked_for <= timedelta(minutes=15)
    # The right password is refused with the same words while locked.
    page = password_step(client, "acme", "admin", PASSWORD)
    assert page.status_code == 200 and GENERIC_FAILURE in page.get_data(as_text=True)
    assert ("account.locked", "failure") in [(a, o) for a, o, _ in _audit_actions(app)]
    with time_machine.travel(utcnow() + timedelta(minutes=16), tick=False):
        assert password_step(client, "acme", "admin", PASSWORD).status_code == 302


def test_success_resets_the_failure_counter(client, make_tenant, app):
    make_tenant("acme")
    for _ in range(9):
        password_step(client, "acme", "admin", "wrong password here!")
    assert password_step(client, "acme", "admin", PASSWORD).status_code == 302
    assert _user(app).failed_logins == 0
    password_step(client, "acme", "admin", "wrong password here!")
    assert _user(app).locked_until is None


def test_no_more_than_100_failures_an_hour_on_one_account(client, make_tenant, app):
    make_tenant("acme")
    start = utcnow()
    counted = 0
    # 180 guesses spread over the hour: well over the 100 allowed, so the cap is what keeps the count down.
    with time_machine.travel(start, tick=False) as traveller:
        for _minute in range(60):
            for _ in range(3):
                password_step(client, "acme", "admin", "wrong password here!")
            traveller.shift(timedelta(minutes=1))
    with app.app_context(), all_tenants():
        counted = db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "login.failure", AuditEvent.details.contains('"bad_password"'))).scalar_one()
    assert 0 < counted <= 100


def test_suspended_user_gets_a_clear_message_after_the_right_password(client, make_tenant, add_user, app):
    make_tenant("acme")
    add_user("acme", "taro")
    with app.app_context(), all_tenants():
        db.session.execute(sa.update(User).where(User.login_id == "taro").values(status="suspended"))
        db.session.commit()
    html = password_step(client, "acme", "taro", PASSWORD).get_data(as_text=True)
    assert "このアカウントは停止されています" in html
    # Without the password the state is not revealed.
    html = password_step(client, "acme", "taro", "wrong password here!").get_data(as_text=True)
    assert "停止" not in html and GENERIC_FAILURE in html


def test_suspended_tenant_and_ended_contract_refuse_login(client, make_tenant, app):
    make_tenant("acme")
    make_tenant("oldco")
    with app.app_context():
        db.session.execute(sa.update(Tenant).where(Tenant.code == "acme").values(status="suspended"))
        db.session.execute(sa.update(Tenant).where(Tenant.code == "oldco").values(
            contract_end=(utcnow() - timedelta(days=2)).date()))
        db.session.commit()
    assert "ご契約が停止" in password_step(client, "acme", "admin", PASSWORD).get_data(as_text=True)
    assert "ご契約期間が終了" in password_step(client, "oldco", "admin", PASSWORD).get_data(as_text=True)
    refused = [d for a, _, d in _audit_actions(app) if a == "login.refused"]
    assert any("tenant_suspended" in d for d in refused) and any("contract_ended" in d for d in refused)


def test_temporary_password_forces_the_change_screen(client, make_tenant, add_user):
    make_tenant("acme")
    temporary = add_user("acme", "newbie", password=None)
    assert temporary and len(temporary) >= 16
    response = login(client, "acme", "newbie", temporary)
    assert response.headers["Location"].endswith("/account/password")
    # Every other page sends the user back to the change screen.
    assert client.get("/").headers["Location"].endswith("/account/password")
    assert client.get("/sample/notes").headers["Location"].endswith("/account/password")


def test_temporary_password_expires_after_72_hours(client, make_tenant, add_user):
    make_tenant("acme")
    temporary = add_user("acme", "newbie", password=None)
    with time_machine.travel(utcnow() + timedelta(hours=72, minutes=1), tick=False):
        html = password_step(client, "acme", "newbie", temporary).get_data(as_text=True)
    assert "仮パスワードの有効期限（72時間）が切れています" in html
    with time_machine.travel(utcnow() + timedelta(hours=71), tick=False):
        assert password_step(client, "acme", "newbie", temporary).status_code == 302


def test_pending_login_expires_after_five_minutes(client, make_tenant):
    make_tenant("acme")
    password_step(client, "acme", "admin", PASSWORD)
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        response = client.get("/sample/confirm")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_then_next_only_to_same_site_paths(client, make_tenant):
    make_tenant("acme")
    response = login(client, "acme", "admin", next_url="/sample/notes")
    assert response.headers["Location"].endswith("/sample/notes")
    assert client.post("/logout").status_code == 400  # no CSRF token: refused
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = login(client.application.test_client(), "acme", "admin", next_url=evil)
        location = response.headers["Location"]
        assert location == "/" or location.endswith("://localhost/"), location


def test_company_code_is_case_insensitive(client, make_tenant):
    make_tenant("acme")
    assert password_step(client, "ACME", "admin", PASSWORD).status_code == 302


def test_login_form_with_empty_fields_shows_japanese_errors(client, auth):
    response = auth.post_form(client, "/login", {"company_code": "", "login_id": "", "password": ""})
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("入力してください") == 3


def test_a_factor_may_extend_the_pending_login_up_to_15_minutes(app, make_tenant):
    from flask import session

    from app.auth.factors import PENDING_KEY, SecondFactor, extend_pending_login, start_pending_login
    from app.models import PendingLoginRecord

    make_tenant("acme")
    user = _user(app)

    def stored_expiry():
        with all_tenants():
            return db.session.get(PendingLoginRecord, session[PENDING_KEY]["id"]).expires_at

    with app.test_request_context():
        db.session.add(user)
        now = utcnow()
        with time_machine.travel(now, tick=False):
            start_pending_login(user, SecondFactor("sample-confirm", "確認", "sample.confirm"), None)
            assert stored_expiry() == now + timedelta(minutes=5)
            extend_pending_login(now + timedelta(minutes=10))  # the server record, not the cookie
            assert stored_expiry() == now + timedelta(minutes=10)
            extend_pending_login(now + timedelta(minutes=2))  # never shortens
            assert stored_expiry() == now + timedelta(minutes=10)
            extend_pending_login(now + timedelta(hours=3))  # capped
            assert stored_expiry() == now + timedelta(minutes=15)
            assert set(session[PENDING_KEY]) == {"id", "nonce"}  # the cookie names the record only
