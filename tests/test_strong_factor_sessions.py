"""A removed passkey, authenticator app or recovery code set ends the sessions whose login passed it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.builtins.strong_factors.models import MODE_ADDITIONAL, MODE_REPLACE, Passkey
from app.extensions import db
from app.models import AuditEvent, UserSession
from tests.conftest import PASSWORD, csrf_from, password_step, post_form
from tests.mama_helpers import DEVICE_PAGE, login_with_code, logout
from tests.passkey_authenticator import SoftPasskey
from tests.strong_factor_helpers import STRONG_PAGE, code_at, enrol_totp, newest_session, set_policy

PASSKEY_GONE = "ログインに使ったパスキーが削除されたため、ログアウトしました。"


@pytest.fixture
def mama(app, make_tenant, add_user):
    make_tenant("mama1", product="mama")
    add_user("mama1", "emp")
    set_policy(app, "mama1", MODE_REPLACE)  # a passkey login needs no registered device
    return "mama1"


def register_passkey(client, passkey: SoftPasskey, name: str) -> int:
    """Register ``passkey`` on 「強い認証要素」 as the page's script does; returns the stored row's id."""
    page = client.get("/account/factors").get_data(as_text=True)
    options = client.post("/account/factors/passkeys/options", data={"csrf_token": csrf_from(page)})
    assert options.status_code == 200
    done = client.post("/account/factors/passkeys", data={"csrf_token": csrf_from(page), "name": name,
                                                          "response": passkey.create(options.json)})
    assert done.status_code in (200, 302), done.get_data(as_text=True)
    with client.application.app_context():
        return db.session.execute(sa.select(Passkey.id).where(Passkey.name == name)
                                  .execution_options(all_tenants=True)).scalar_one()


def device_login_with_a_passkey(app):
    """(client, passkey, its id): mama1's emp logged in with the registered device, then registered 「鍵」."""
    key = SoftPasskey()
    client = app.test_client()
    login_with_code(client, app, "mama1", "emp")
    return client, key, register_passkey(client, key, "鍵")


def passkey_login(client, passkey: SoftPasskey, login_id: str = "emp"):
    """Password, then the passkey on the stronger step (the tenant's policy lets it replace the device)."""
    assert password_step(client, "mama1", login_id, PASSWORD).headers["Location"].endswith(STRONG_PAGE)
    page = client.get(STRONG_PAGE).get_data(as_text=True)
    options = client.post("/login/stronger/passkey/options", data={"csrf_token": csrf_from(page)})
    response = client.post("/login/stronger/passkey", data={"csrf_token": csrf_from(page),
                                                            "response": passkey.get(options.json)})
    assert response.status_code == 302 and not response.headers["Location"].endswith(STRONG_PAGE)
    assert client.get("/").status_code == 200
    return response


def remove_passkey(client, key_id: int):
    """Confirm the removal with the password."""
    return post_form(client, f"/account/factors/passkeys/{key_id}/remove", {"confirmed": "yes", "password": PASSWORD})


def _ends(app) -> list[tuple[int, str]]:
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "session.end")
                                  .order_by(AuditEvent.id).execution_options(all_tenants=True)).scalars().all()
        return [(row.target, row.details) for row in rows]


def _open_sessions(app) -> dict[int, str | None]:
    with app.app_context():
        rows = db.session.execute(sa.select(UserSession).where(UserSession.ended_at.is_(None))
                                  .execution_options(all_tenants=True)).scalars().all()
        return {row.id: row.stronger_credential_id for row in rows}


def test_removing_a_passkey_logs_out_the_browsers_that_logged_in_with_it(app, mama):
    laptop, phone = SoftPasskey(), SoftPasskey()
    setup = app.test_client()
    login_with_code(setup, app, "mama1", "emp")
    laptop_id = register_passkey(setup, laptop, "ノートPC")
    phone_id = register_passkey(setup, phone, "スマートフォン")
    logout(setup)
    office, home, train = app.test_client(), app.test_client(), app.test_client()
    passkey_login(office, phone)
    assert newest_session(app, "mama1", "emp").stronger_credential_id == phone_id
    passkey_login(home, laptop)
    passkey_login(train, laptop)
    assert newest_session(app, "mama1", "emp").stronger_credential_id == laptop_id

    done = remove_passkey(office, laptop_id)
    assert done.status_code == 302 and done.headers["Location"].endswith("/account/factors")
    assert "パスキー「ノートPC」を削除しました" in office.get("/account/factors").get_data(as_text=True)
    for browser in (home, train):
        response = browser.get("/")
        assert response.status_code == 302 and response.headers["Location"].endswith("/login")
        assert PASSKEY_GONE in browser.get("/login").get_data(as_text=True)
        assert browser.get("/").status_code == 302  # the cookie is gone, not only refused once
    assert office.get("/").status_code == 200  # opened with the other passkey: kept
    ended = [target for target, details in _ends(app) if '"reason": "passkey_removed"' in details]
    assert len(ended) == 2
    assert list(_open_sessions(app).values()) == [phone_id]


def test_removing_the_passkey_of_ones_own_session_says_so_on_the_login_page(app, mama):
    setup, key, key_id = device_login_with_a_passkey(app)
    browser = app.test_client()
    passkey_login(browser, key)
    done = remove_passkey(browser, key_id)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    page = browser.get("/login").get_data(as_text=True)
    assert "パスキー「鍵」を削除しました。このパスキーでログインしていたため、ログアウトしました。" in page
    assert browser.get("/").status_code == 302
    assert setup.get("/").status_code == 200  # the device login did not pass the passkey: kept
    assert any('"reason": "passkey_removed"' in details for _, details in _ends(app))


def test_a_removed_authenticator_app_and_replaced_recovery_codes_end_their_sessions(app, mama, clock):
    setup = app.test_client()
    login_with_code(setup, app, "mama1", "emp")
    secret, codes = enrol_totp(setup, clock)
    by_code, by_app = app.test_client(), app.test_client()
    password_step(by_code, "mama1", "emp", PASSWORD)
    assert post_form(by_code, STRONG_PAGE, {"code": codes[0]}).status_code == 302
    clock.now = clock.now.replace(minute=5)
    password_step(by_app, "mama1", "emp", PASSWORD)
    assert post_form(by_app, STRONG_PAGE, {"code": code_at(secret, clock.now)}).status_code == 302
    assert by_code.get("/").status_code == 200 and by_app.get("/").status_code == 200

    replaced = post_form(setup, "/account/factors/recovery", {"confirmed": "yes", "password": PASSWORD})
    assert replaced.status_code == 200
    assert by_code.get("/").status_code == 302
    assert "ログインに使ったリカバリーコードが無効になったため" in by_code.get("/login").get_data(as_text=True)
    assert by_app.get("/").status_code == 200

    removed = post_form(by_app, "/account/factors/totp/remove", {"confirmed": "yes", "password": PASSWORD})
    assert removed.headers["Location"].endswith("/login")
    assert "この認証アプリでログインしていたため、ログアウトしました" in by_app.get("/login").get_data(as_text=True)
    assert setup.get("/").status_code == 200
    reasons = [details for _, details in _ends(app)]
    assert sum('"reason": "recovery_replaced"' in d for d in reasons) == 1
    assert sum('"reason": "totp_removed"' in d for d in reasons) == 1


def test_an_admin_reset_ends_the_users_passkey_sessions_and_voids_a_half_done_login(app, mama, make_tenant,
                                                                                     add_user):
    make_tenant("mama2", product="mama")
    add_user("mama2", "emp")
    set_policy(app, "mama2", MODE_REPLACE)
    setup, key, key_id = device_login_with_a_passkey(app)
    emp = app.test_client()
    passkey_login(emp, key)
    foreign = app.test_client()
    login_with_code(foreign, app, "mama2", "emp")
    admin = app.test_client()
    login_with_code(admin, app, "mama1", "admin")
    with app.app_context():
        user_id = db.session.execute(sa.select(Passkey.user_id).where(Passkey.id == key_id)
                                     .execution_options(all_tenants=True)).scalar_one()
    set_policy(app, "mama1", MODE_ADDITIONAL)  # now a passkey login goes on to the device step
    half_done = app.test_client()
    password_step(half_done, "mama1", "emp", PASSWORD)
    page = half_done.get(STRONG_PAGE).get_data(as_text=True)
    options = half_done.post("/login/stronger/passkey/options", data={"csrf_token": csrf_from(page)})
    moved = half_done.post("/login/stronger/passkey", data={"csrf_token": csrf_from(page),
                                                            "response": key.get(options.json)})
    assert moved.headers["Location"].endswith(DEVICE_PAGE)
    assert post_form(admin, f"/admin/security/factors/users/{user_id}/reset", {"confirmed": "yes"}).status_code == 302
    assert emp.get("/").status_code == 302
    assert "管理者が強い認証要素をリセットしたため、ログアウトしました" in emp.get("/login").get_data(as_text=True)
    assert setup.get("/").status_code == 200 and admin.get("/").status_code == 200
    assert foreign.get("/").status_code == 200  # another tenant's user of the same login id
    assert any('"reason": "factors_reset"' in details for _, details in _ends(app))
    stopped = half_done.get(DEVICE_PAGE)  # the passkey it passed is gone: the login cannot finish
    assert stopped.status_code == 302 and stopped.headers["Location"].endswith("/login")
