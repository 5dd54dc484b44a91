"""Registered-device second factor: codes, requests, approval, revocation and cookie binding."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.timeutil import utcnow
from plugins.mama.devices import COOKIE_NAME, hash_token
from plugins.mama.models import MamaDevice, MamaRegistrationCode
from tests.conftest import PASSWORD, csrf_from, post_form
from tests.mama_helpers import (
    DEVICE_PAGE,
    NOT_REGISTERED,
    audit_actions,
    enter_code,
    get_user,
    in_tenant,
    issue_code,
    login,
    login_with_code,
    logout,
    mama_tenant,
    password_step,
    send_request,
)


def _device_cookie(client):
    return client.get_cookie(COOKIE_NAME)


def _devices(app, code, login_id):
    with in_tenant(app, code):
        user = get_user(login_id)
        return [(d.status, d.name) for d in db.session.execute(
            sa.select(MamaDevice).where(MamaDevice.user_id == user.id).order_by(MamaDevice.id)).scalars()]


def _approve_first_pending(admin, app, code):
    page = admin.get("/mama/devices")
    with in_tenant(app, code):
        device_id = db.session.execute(sa.select(MamaDevice.id).where(MamaDevice.status == "pending")).scalars().first()
    return admin.post(f"/mama/devices/{device_id}/approve",
                      data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def test_unregistered_browser_sees_the_device_page_not_the_dashboard(app, client, make_tenant):
    mama_tenant(make_tenant)
    response = password_step(client, "mama1", "admin")
    assert response.headers["Location"].endswith(DEVICE_PAGE)
    page = client.get(DEVICE_PAGE)
    assert NOT_REGISTERED in page.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not logged in
    assert ("device.check", "failure", "user:admin") in audit_actions(app, "mama1")


def test_device_page_without_a_pending_login_goes_back_to_login(client, make_tenant):
    mama_tenant(make_tenant)
    response = client.get(DEVICE_PAGE)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_registration_code_registers_approves_and_logs_in(app, client, make_tenant):
    mama_tenant(make_tenant)
    response = login_with_code(client, app, "mama1", "admin")
    assert response.headers["Location"].endswith("/")
    home = client.get("/")
    assert home.status_code == 200 and "ユーザーマスタ" in home.get_data(as_text=True)
    cookie = _device_cookie(client)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert not cookie.secure  # follows SESSION_COOKIE_SECURE (False for http in tests)
    set_cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE_NAME))
    max_age = int(set_cookie.split("Max-Age=")[1].split(";")[0])
    assert 0 < max_age <= 400 * 24 * 3600
    with in_tenant(app, "mama1"):
        device = db.session.execute(sa.select(MamaDevice)).scalar_one()
        assert device.status == "approved" and device.via == "code"
        assert device.token_hash == hash_token(cookie.value) and cookie.value not in device.token_hash
    actions = [a for a, _, _ in audit_actions(app, "mama1")]
    assert "device.code_redeem" in actions and "login.success" in actions


@pytest.mark.config(SESSION_COOKIE_SECURE=True)
def test_device_cookie_is_secure_and_host_prefixed_when_cookies_are_secure(app, client, make_tenant):
    mama_tenant(make_tenant)
    response = login_with_code(client, app, "mama1", "admin")
    header = next(h for h in response.headers.getlist("Set-Cookie") if "mama-device" in h)
    assert header.startswith("__Host-kanri-mama-device=")
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header


def test_approved_device_logs_in_again_and_refreshes_last_use(app, client, make_tenant):
    mama_tenant(make_tenant)
    login_with_code(client, app, "mama1", "admin")
    logout(client)
    response = login(client, "mama1", "admin")
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert client.get("/").status_code == 200
    assert any(h.startswith(COOKIE_NAME) for h in response.headers.getlist("Set-Cookie"))  # refreshed
    with in_tenant(app, "mama1"):
        device = db.session.execute(sa.select(MamaDevice)).scalar_one()
        assert device.last_used_at is not None and device.last_ip == "127.0.0.1"


def test_request_mails_every_admin_then_approval_lets_the_user_in(app, client, make_tenant, add_user, outbox):
    mama_tenant(make_tenant)
    add_user("mama1", "boss2", role="admin")
    add_user("mama1", "staff")
    add_user("mama1", "other")
    admin = app.test_client()
    login_with_code(admin, app, "mama1", "admin")

    password_step(client, "mama1", "staff")
    response = send_request(client, "経理部のPC")
    assert response.status_code == 302 and response.headers["Location"].endswith("/mama/device/status")
    recipients = sorted(r for message in outbox for r in message.recipients)
    assert recipients == ["admin@mama1.example.jp", "boss2@mama1.example.jp"]
    assert all("経理部のPC" in m.body and "staff" in m.body for m in outbox)
    assert _devices(app, "mama1", "staff") == [("pending", "経理部のPC")]

    # pending: no login
    page = login(client, "mama1", "staff")
    assert page.status_code == 200 and "承認待ち" in page.get_data(as_text=True)
    assert client.get("/").status_code == 302

    queue = admin.get("/mama/devices").get_data(as_text=True)
    assert "経理部のPC" in queue and "127.0.0.1" in queue
    assert _approve_first_pending(admin, app, "mama1").status_code == 302
    response = login(client, "mama1", "staff")
    assert response.status_code == 302 and client.get("/").status_code == 200
    assert any(a == "device.approve" for a, _, _ in audit_actions(app, "mama1"))


def test_request_names_the_device_from_the_user_agent(app, make_tenant, add_user):
    mama_tenant(make_tenant)
    add_user("mama1", "staff")
    client = app.test_client()
    ua = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/126.0 Safari/537.36")
    client.environ_base["HTTP_USER_AGENT"] = ua
    password_step(client, "mama1", "staff")
    send_request(client)
    assert _devices(app, "mama1", "staff") == [("pending", "Chrome 126 / Windows")]


def test_rejected_device_does_not_log_in(app, client, make_tenant, add_user):
    mama_tenant(make_tenant)
    add_user("mama1", "staff")
    admin = app.test_client()
    login_with_code(admin, app, "mama1", "admin")
    password_step(client, "mama1", "staff")
    send_request(client)
    page = admin.get("/mama/devices")
    with in_tenant(app, "mama1"):
        device_id = db.session.execute(sa.select(MamaDevice.id).where(MamaDevice.status == "pending")).scalar_one()
    admin.post(f"/mama/devices/{device_id}/reject", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    response = login(client, "mama1", "staff")
    assert response.status_code == 200 and "拒否" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_revoked_device_is_refused(app, client, make_tenant, add_user):
    mama_tenant(make_tenant)
    add_user("mama1", "staff")
    admin = app.test_client()
    login_with_code(admin, app, "mama1", "admin")
    login_with_code(client, app, "mama1", "staff")
    logout(client)
    with in_tenant(app, "mama1"):
        device_id = db.session.execute(sa.select(MamaDevice.id).where(MamaDevice.user_id == get_user("staff").id)).scalar_one()
        staff_id = get_user("staff").id
    response = post_form(admin, f"/mama/devices/users/{staff_id}", {"confirmed": "yes"}, action=f"/mama/devices/{device_id}/revoke")
    assert response.status_code == 302
    page = login(client, "mama1", "staff")
    assert page.status_code == 200 and "無効化" in page.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert any(a == "device.revoke" for a, _, _ in audit_actions(app, "mama1"))


def test_user_revokes_own_device_and_cannot_touch_anothers(app, client, make_tenant, add_user):
    mama_tenant(make_tenant)
    add_user("mama1", "staff")
    login_with_code(client, app, "mama1", "staff")
    other = app.test_client()
    login_with_code(other, app, "mama1", "admin")
    with in_tenant(app, "mama1"):
        own = db.session.execute(sa.select(MamaDevice.id).where(MamaDevice.user_id == get_user("staff").id)).scalar_one()
        admins = db.session.execute(sa.select(MamaDevice.id).where(MamaDevice.user_id == get_user("admin").id)).scalar_one()
    page = client.get("/mama/account/devices")
    assert "このブラウザ" in page.get_data(as_text=True)
    assert post_form(client, "/mama/account/devices", {"confirmed": "yes"}, action=f"/mama/account/devices/{admins}/revoke").status_code == 404
    assert post_form(client, "/mama/account/devices", {"confirmed": "yes"}, action=f"/mama/account/devices/{own}/revoke").status_code == 302
    assert client.get("/").status_code == 302  # revoking this browser's device ends this session too
    assert login(client, "mama1", "staff").status_code == 200
    assert client.get("/").status_code == 302


def test_device_cookie_of_another_user_does_not_pass(app, client, make_tenant, add_user):
    mama_tenant(make_tenant)
    add_user("mama1", "staff")
    login_with_code(client, app, "mama1", "admin")
    logout(client)
    page = login(client, "mama1", "staff")  # same browser, admin's cookie still in it
    assert page.status_code == 200 and NOT_REGISTERED in page.get_data(as_text=True)
    assert client.get("/").status_code == 302
    # the staff registers this browser too; both users keep working here
    code = issue_code(app, "mama1", "staff")
    assert enter_code(client, code).status_code == 302
    logout(client)
    assert login(client, "mama1", "admin").status_code == 302
    assert client.get("/").status_code == 200


def test_reused_code_is_refused(app, make_tenant):
    mama_tenant(make_tenant)
    code = issue_code(app, "mama1", "admin")
    first = app.test_client()
    password_step(first, "mama1", "admin")
    assert enter_code(first, code).status_code == 302
    second = app.test_client()
    password_step(second, "mama1", "admin")
    response = enter_code(second, code)
    assert response.status_code == 422 and "使用済み" in response.get_data(as_text=True)
    assert second.get("/").status_code == 302
    assert ("device.code_redeem", "failure", "user:admin") in audit_actions(app, "mama1")


def test_expired_code_is_refused(app, client, make_tenant):
    mama_tenant(make_tenant)
    code = issue_code(app, "mama1", "admin")
    with in_tenant(app, "mama1"):
        for record in db.session.execute(sa.select(MamaRegistrationCode)).scalars():
            record.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    password_step(client, "mama1", "admin")
    assert enter_code(client, code).status_code == 422
    assert client.get("/").status_code == 302


def test_code_is_valid_for_24_hours_and_stored_hashed(app, make_tenant):
    mama_tenant(make_tenant)
    code = issue_code(app, "mama1", "admin")
    assert len(code.replace("-", "")) >= 8
    with in_tenant(app, "mama1"):
        record = db.session.execute(sa.select(MamaRegistrationCode).order_by(MamaRegistrationCode.id.desc())).scalars().first()
        assert code.replace("-", "") not in record.code_hash
        assert timedelta(hours=23, minutes=59) < record.expires_at - record.created_at <= timedelta(hours=24)


def test_code_of_another_user_and_wrong_code_are_refused(app, client, make_tenant, add_user):
    mama_tenant(make_tenant)
    add_user("mama1", "staff")
    admin_code = issue_code(app, "mama1", "admin")
    password_step(client, "mama1", "staff")
    assert enter_code(client, admin_code).status_code == 422
    assert enter_code(client, "AAAA-BBBB-CCCC").status_code == 422
    assert enter_code(client, "").status_code == 422
    assert client.get("/").status_code == 302


def test_a_new_code_voids_the_older_one(app, client, make_tenant):
    mama_tenant(make_tenant)
    old = issue_code(app, "mama1", "admin")
    new = issue_code(app, "mama1", "admin")
    password_step(client, "mama1", "admin")
    assert enter_code(client, old).status_code == 422
    assert enter_code(client, new.lower().replace("-", " ")).status_code == 302  # typing is forgiving


def test_admin_issues_code_shown_once_and_revokes_all(app, client, make_tenant, add_user):
    mama_tenant(make_tenant)
    add_user("mama1", "staff")
    login_with_code(client, app, "mama1", "admin")
    with in_tenant(app, "mama1"):
        staff_id = get_user("staff").id
    response = post_form(client, f"/mama/devices/users/{staff_id}", {}, action=f"/mama/devices/users/{staff_id}/code")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "この画面でしか表示しません" in html
    code = html.split('data-testid="registration-code">')[1].split("<")[0]
    staff = app.test_client()
    password_step(staff, "mama1", "staff")
    assert enter_code(staff, code).status_code == 302
    assert code not in client.get(f"/mama/devices/users/{staff_id}").get_data(as_text=True)
    response = post_form(client, f"/mama/devices/users/{staff_id}", {"confirmed": "yes"},
                         action=f"/mama/devices/users/{staff_id}/revoke-all")
    assert response.status_code == 302
    assert _devices(app, "mama1", "staff")[0][0] == "revoked"
    assert {"device.code_issue", "device.revoke_all"} <= {a for a, _, _ in audit_actions(app, "mama1")}


def test_foreign_device_and_user_ids_answer_404(app, client, make_tenant, add_user):
    mama_tenant(make_tenant, "mama1")
    mama_tenant(make_tenant, "mama2")
    add_user("mama2", "staff")
    victim = app.test_client()
    password_step(victim, "mama2", "staff")
    send_request(victim)
    login_with_code(client, app, "mama1", "admin")
    with in_tenant(app, "mama2"):
        device_id = db.session.execute(sa.select(MamaDevice.id)).scalar_one()
        staff_id = get_user("staff").id
    page = client.get("/mama/devices")
    token = csrf_from(page.get_data(as_text=True))
    for url in (f"/mama/devices/{device_id}/approve", f"/mama/devices/{device_id}/reject",
                f"/mama/devices/{device_id}/revoke", f"/mama/devices/users/{staff_id}/code",
                f"/mama/devices/users/{staff_id}/revoke-all"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    assert client.get(f"/mama/devices/users/{staff_id}").status_code == 404
    assert _devices(app, "mama2", "staff") == [("pending", "不明なブラウザ")]


def test_device_forms_need_csrf(app, client, make_tenant):
    mama_tenant(make_tenant)
    code = issue_code(app, "mama1", "admin")
    password_step(client, "mama1", "admin")
    assert client.post("/mama/device/code", data={"code": code}).status_code == 400
    assert client.post("/mama/device/request", data={"name": "x"}).status_code == 400


def test_request_name_too_long_is_refused_with_a_message(app, client, make_tenant):
    mama_tenant(make_tenant)
    password_step(client, "mama1", "admin")
    response = send_request(client, "あ" * 101)
    assert response.status_code == 422 and "100文字以内" in response.get_data(as_text=True)


@pytest.mark.config(RATELIMIT_ENABLED=True, MAMA_DEVICE_RATE_LIMIT="3 per minute")
def test_code_entry_is_rate_limited(app, client, make_tenant):
    mama_tenant(make_tenant)
    password_step(client, "mama1", "admin")
    statuses = [enter_code(client, "WRONG-CODE-XXXX").status_code for _ in range(4)]
    assert statuses[:3] == [422, 422, 422] and statuses[3] == 429


def test_tenant_create_prints_the_admin_registration_code(app, runner):
    result = runner.invoke(args=["tenant", "create", "--code", "newco", "--name", "新会社", "--product", "mama",
                                 "--contract-end", "2099-12-31", "--admin-login", "boss",
                                 "--admin-email", "boss@newco.example.jp"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "端末登録コード" in line)
    code = line.rsplit(": ", 1)[1].strip()
    password = next(line for line in result.output.splitlines() if "仮パスワード" in line).rsplit(": ", 1)[1]
    client = app.test_client()
    password_step(client, "newco", "boss", password)
    assert enter_code(client, code).status_code == 302


def test_device_code_command(app, runner, make_tenant, add_user):
    mama_tenant(make_tenant)
    result = runner.invoke(args=["user", "device-code", "--tenant", "mama1", "--login", "admin", "--reason", "テスト"])
    assert result.exit_code == 0, result.output
    code = result.output.strip().rsplit(": ", 1)[1]
    client = app.test_client()
    password_step(client, "mama1", "admin")
    assert enter_code(client, code).status_code == 302
    bad = runner.invoke(args=["user", "device-code", "--tenant", "mama1", "--login", "nobody", "--reason", "テスト"])
    assert bad.exit_code != 0 and "nobody" in bad.output
    assert runner.invoke(args=["user", "device-code", "--tenant", "nope", "--login", "admin", "--reason", "テスト"]).exit_code != 0


def test_password_reset_can_revoke_every_device(app, client, make_tenant, add_user):
    mama_tenant(make_tenant)
    add_user("mama1", "staff")
    login_with_code(client, app, "mama1", "admin")
    staff = app.test_client()
    login_with_code(staff, app, "mama1", "staff")
    with in_tenant(app, "mama1"):
        staff_id = get_user("staff").id
    response = post_form(client, f"/mama/users/{staff_id}/reset-password", {"revoke_devices": "y", "confirmed": "yes"})
    assert response.status_code == 200 and "temporary-password" in response.get_data(as_text=True)
    assert staff.get("/").status_code == 302  # session ended
    assert _devices(app, "mama1", "staff")[0][0] == "revoked"
    refused = password_step(staff, "mama1", "staff", PASSWORD)  # the old password no longer works
    assert refused.status_code == 200 and "正しくありません" in refused.get_data(as_text=True)
