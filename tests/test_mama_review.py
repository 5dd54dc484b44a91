"""Regression tests from the security review of MAMA: odd ids and input, the factor hand-off, revoked devices
ending live sessions, concurrent last-admin changes and single use of registration codes under concurrency."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import ROLE_ADMIN, User, UserSession
from plugins.mama.models import MamaAssociation, MamaDevice, MamaPermissionSet, MamaUserAssociation
from tests.conftest import csrf_from, post_form
from tests.mama_helpers import (
    DEVICE_PAGE,
    admin_client,
    audit_actions,
    enter_code,
    get_user,
    in_tenant,
    issue_code,
    login_with_code,
    password_step,
    send_request,
)
from tests.test_mama_associations import GOOD

HUGE = "9" * 25


@pytest.fixture
def no_propagation(app):
    """Let the app answer with its error pages (a 500 is a status, not an exception in the test)."""
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def _ids(app, login_id="staff"):
    with in_tenant(app, "mama1"):
        return get_user(login_id).id


def test_huge_ids_in_urls_answer_404_not_500(no_propagation, make_tenant, add_user):
    app = no_propagation
    _, client = admin_client(app, make_tenant)
    token = csrf_from(client.get("/mama/users").get_data(as_text=True))
    for url in (f"/mama/associations/{HUGE}", f"/mama/associations/{HUGE}/edit", f"/mama/devices/users/{HUGE}",
                f"/mama/users/{HUGE}/edit", f"/mama/users/{HUGE}/delete", f"/mama/users/{HUGE}/reset-password",
                f"/mama/permissions/{HUGE}/edit", f"/mama/scopes/{HUGE}", "/mama/associations/2147483648"):
        assert client.get(url).status_code == 404, url
    for url in (f"/mama/associations/{HUGE}/delete", f"/mama/devices/{HUGE}/approve", f"/mama/devices/{HUGE}/reject",
                f"/mama/devices/{HUGE}/revoke", f"/mama/devices/users/{HUGE}/code",
                f"/mama/devices/users/{HUGE}/revoke-all", f"/mama/users/{HUGE}/unlock",
                f"/mama/permissions/{HUGE}/delete", f"/mama/scopes/{HUGE}/add", f"/mama/scopes/{HUGE}/remove/1",
                f"/mama/scopes/1/remove/{HUGE}", f"/mama/account/devices/{HUGE}/revoke"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url


def test_odd_association_ids_when_adding_to_a_scope_are_ignored(no_propagation, make_tenant, add_user):
    app = no_propagation
    _, client = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    staff_id = _ids(app)
    token = csrf_from(client.get(f"/mama/scopes/{staff_id}").get_data(as_text=True))
    for value in ("²", "١", HUGE, "-1", "0", "1.5", "", "abc"):
        response = client.post(f"/mama/scopes/{staff_id}/add", data={"csrf_token": token, "association_id": value})
        assert response.status_code == 302, value
    with in_tenant(app, "mama1"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(MamaUserAssociation)).scalar_one() == 0


def test_control_characters_are_refused_next_to_the_field(no_propagation, make_tenant):
    """PostgreSQL cannot store NUL: the form says so instead of a 500, and nothing is saved."""
    app = no_propagation
    _, client = admin_client(app, make_tenant)
    for field in ("name", "city", "notes", "contact_name", "building_name"):
        response = post_form(client, "/mama/associations/new", {**GOOD, field: "ab\x00c"})
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and "制御文字" in html, field
    assert post_form(client, "/mama/associations/new", {**GOOD, "notes": "1行目\r\n2行目\tタブ"}).status_code == 302
    response = post_form(client, "/mama/permissions/new?role=general", {"name": "a\x00b"})
    assert response.status_code == 422 and "制御文字" in response.get_data(as_text=True)
    response = post_form(client, "/mama/users/new", {"login_id": "abc", "name": "a\x1bb", "email": "", "role": "general",
                                                     "permission_set": "0", "password_mode": "generate"})
    assert response.status_code == 422 and "制御文字" in response.get_data(as_text=True)
    for url in ("/mama/associations?q=%00", "/mama/associations/export.csv?q=a%00b", "/mama/scopes/1?q=%00"):
        assert client.get(url).status_code in (200, 404), url
    with in_tenant(app, "mama1"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(MamaAssociation)).scalar_one() == 1
        assert db.session.execute(sa.select(sa.func.count()).select_from(MamaPermissionSet)).scalar_one() == 0


def test_device_request_name_with_nul_is_refused(no_propagation, make_tenant, add_user):
    app = no_propagation
    make_tenant("mama1", product="mama")
    add_user("mama1", "staff")
    client = app.test_client()
    password_step(client, "mama1", "staff")
    response = send_request(client, "PC\x00")
    assert response.status_code == 422 and "制御文字" in response.get_data(as_text=True)
    with in_tenant(app, "mama1"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(MamaDevice)).scalar_one() == 0


def test_device_screens_ignore_another_products_pending_login(app, make_tenant):
    """A 重調 user between password and e-mail code must not file MAMA device requests (nor mail admins)."""
    make_tenant("juc1", product="jucho")
    client = app.test_client()
    response = password_step(client, "juc1", "admin")
    assert response.status_code == 302 and "/mama/" not in response.headers["Location"]
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    token = csrf_from(login_page)
    assert client.get(DEVICE_PAGE).headers["Location"].endswith("/login")
    response = client.post("/mama/device/request", data={"csrf_token": token, "name": "x"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    response = client.post("/mama/device/code", data={"csrf_token": token, "code": "ABCD-EFGH-JKLM"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    with in_tenant(app, "juc1"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(MamaDevice)).scalar_one() == 0
    assert not any(action.startswith("device.") for action, _, _ in audit_actions(app, "juc1"))


def _open_sessions(app, login_id):
    with in_tenant(app, "mama1"):
        return db.session.execute(sa.select(sa.func.count()).select_from(UserSession).where(
            UserSession.user_id == get_user(login_id).id, UserSession.ended_at.is_(None))).scalar_one()


def test_admin_revoking_a_device_ends_the_session_opened_from_it(app, make_tenant, add_user):
    """A stolen device cookie (plus password) stops working at once when the admin revokes the device."""
    _, admin = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    thief = app.test_client()
    login_with_code(thief, app, "mama1", "staff")
    assert thief.get("/").status_code == 200
    with in_tenant(app, "mama1"):
        device_id = db.session.execute(sa.select(MamaDevice.id).where(MamaDevice.user_id == get_user("staff").id)).scalar_one()
    staff_id = _ids(app)
    post_form(admin, f"/mama/devices/users/{staff_id}", {"confirmed": "yes"}, action=f"/mama/devices/{device_id}/revoke")
    response = thief.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert "ログアウトしました" in thief.get("/login").get_data(as_text=True)
    assert _open_sessions(app, "staff") == 0
    assert thief.get("/mama/account/devices").status_code == 302
    assert admin.get("/mama/users").status_code == 200  # the admin's own session is untouched


def test_revoke_all_ends_every_session_of_the_user(app, make_tenant, add_user):
    _, admin = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    first, second = app.test_client(), app.test_client()
    login_with_code(first, app, "mama1", "staff")
    login_with_code(second, app, "mama1", "staff")
    staff_id = _ids(app)
    post_form(admin, f"/mama/devices/users/{staff_id}", {"confirmed": "yes"}, action=f"/mama/devices/users/{staff_id}/revoke-all")
    assert first.get("/").status_code == 302 and second.get("/").status_code == 302
    assert _open_sessions(app, "staff") == 0
    assert sum(1 for action, _, _ in audit_actions(app, "mama1") if action == "session.end") >= 2


def test_user_revoking_this_browser_is_logged_out(app, make_tenant, add_user):
    make_tenant("mama1", product="mama")
    add_user("mama1", "staff")
    client = app.test_client()
    login_with_code(client, app, "mama1", "staff")
    with in_tenant(app, "mama1"):
        own = db.session.execute(sa.select(MamaDevice.id).where(MamaDevice.user_id == get_user("staff").id)).scalar_one()
    post_form(client, "/mama/account/devices", {"confirmed": "yes"}, action=f"/mama/account/devices/{own}/revoke")
    assert client.get("/").status_code == 302


def _post_in_thread(client, url, data, results, key):
    def run():
        results[key] = client.post(url, data=data).status_code
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, make_tenant, add_user, monkeypatch):
    """Both requests pass the last-admin check before either commits unless the check is serialised."""
    from plugins.mama import permissions
    from plugins.mama.views import users as users_view

    _, first = admin_client(app, make_tenant)
    add_user("mama1", "boss2", role="admin")
    second = app.test_client()
    login_with_code(second, app, "mama1", "boss2")
    admin_id, boss_id = _ids(app, "admin"), _ids(app, "boss2")
    form = {"name": "管理 太郎", "email": "", "role": "general", "permission_set": "0", "status": "active"}
    token_first = csrf_from(first.get(f"/mama/users/{boss_id}/edit").get_data(as_text=True))
    token_second = csrf_from(second.get(f"/mama/users/{admin_id}/edit").get_data(as_text=True))

    barrier = threading.Barrier(2)
    original = permissions.has_working_admin

    def checked_then_wait():
        result = original()
        try:
            barrier.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        return result

    monkeypatch.setattr(users_view, "has_working_admin", checked_then_wait)
    results = {}
    threads = [_post_in_thread(first, f"/mama/users/{boss_id}/edit", {**form, "csrf_token": token_first}, results, 1),
               _post_in_thread(second, f"/mama/users/{admin_id}/edit", {**form, "csrf_token": token_second}, results, 2)]
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results.values()) == [302, 422]
    with in_tenant(app, "mama1"):
        admins = db.session.execute(sa.select(sa.func.count()).select_from(User).where(User.role == ROLE_ADMIN)).scalar_one()
    assert admins == 1


def test_a_registration_code_redeemed_twice_at_once_registers_one_device(app, make_tenant, monkeypatch):
    from plugins.mama import devices

    make_tenant("mama1", product="mama")
    code = issue_code(app, "mama1", "admin")
    first, second = app.test_client(), app.test_client()
    tokens = []
    for client in (first, second):
        password_step(client, "mama1", "admin")
        tokens.append(csrf_from(client.get(DEVICE_PAGE).get_data(as_text=True)))

    barrier = threading.Barrier(2)
    original = devices._new_device

    def wait_then_create(*args, **kwargs):
        try:
            barrier.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        return original(*args, **kwargs)

    monkeypatch.setattr(devices, "_new_device", wait_then_create)
    results = {}
    threads = [_post_in_thread(client, "/mama/device/code", {"csrf_token": token, "code": code}, results, n)
               for n, (client, token) in enumerate(zip((first, second), tokens, strict=True))]
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results.values()) == [302, 422]
    with in_tenant(app, "mama1"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(MamaDevice)).scalar_one() == 1


def test_enter_code_helper_still_works_after_review(app, make_tenant):
    make_tenant("mama1", product="mama")
    client = app.test_client()
    password_step(client, "mama1", "admin")
    assert enter_code(client, issue_code(app, "mama1", "admin")).status_code == 302


def test_open_registration_requests_per_user_are_capped(app, make_tenant, add_user, outbox):
    """Someone holding only the password cannot flood every admin's mailbox from fresh browsers."""
    from plugins.mama.devices import MAX_PENDING_PER_USER

    make_tenant("mama1", product="mama")
    add_user("mama1", "staff")
    for _ in range(MAX_PENDING_PER_USER):
        browser = app.test_client()
        password_step(browser, "mama1", "staff")
        assert send_request(browser).status_code == 302
    mails = len(outbox)
    browser = app.test_client()
    password_step(browser, "mama1", "staff")
    response = send_request(browser)
    assert response.status_code == 422 and "承認待ちの申請が既に" in response.get_data(as_text=True)
    assert len(outbox) == mails
    with in_tenant(app, "mama1"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(MamaDevice)).scalar_one() == MAX_PENDING_PER_USER
    assert ("device.request", "failure", "user:staff") in audit_actions(app, "mama1")
