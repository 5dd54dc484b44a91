"""端末登録の申請状況: a page bound to the requesting browser, refreshing while pending; the user is mailed the decision."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.timeutil import utcnow
from plugins.mama.device_status import STATUS_COOKIE
from plugins.mama.models import MamaDevice
from tests.conftest import csrf_from
from tests.mama_helpers import (
    audit_actions,
    get_user,
    in_tenant,
    login,
    login_with_code,
    mama_tenant,
    password_step,
)
from tests.mama_helpers import send_request as request_device

STATUS = "/mama/device/status"


def _status_cookie(client) -> str | None:
    cookie = client.get_cookie(STATUS_COOKIE)
    return cookie.value if cookie else None


def _decide(admin, app, verb: str, login_id: str = "staff"):
    page = admin.get("/mama/devices")
    with in_tenant(app, "mama1"):
        device_id = db.session.execute(sa.select(MamaDevice.id).where(
            MamaDevice.status == "pending", MamaDevice.user_id == get_user(login_id).id)).scalar_one()
    return admin.post(f"/mama/devices/{device_id}/{verb}", data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def _setup(app, make_tenant, add_user):
    mama_tenant(make_tenant)
    add_user("mama1", "staff")
    admin = app.test_client()
    login_with_code(admin, app, "mama1", "admin")
    return admin


def test_request_leads_to_a_refreshing_status_page_then_approved(app, client, make_tenant, add_user, outbox):
    admin = _setup(app, make_tenant, add_user)
    password_step(client, "mama1", "staff")
    response = request_device(client, "経理部のPC")
    assert response.status_code == 302 and response.headers["Location"].endswith(STATUS)
    cookie = client.get_cookie(STATUS_COOKIE)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax" and len(cookie.value) >= 43
    with in_tenant(app, "mama1"):
        device = db.session.execute(sa.select(MamaDevice).where(MamaDevice.status == "pending")).scalar_one()
        assert device.status_token_hash == hashlib.sha256(cookie.value.encode()).hexdigest()  # only the hash
    page = client.get(STATUS)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "申請中" in html and "経理部のPC" in html and "mama1 株式会社" in html
    assert '<meta http-equiv="refresh" content="15">' in html
    assert client.get("/").status_code == 302  # the status page is no login

    outbox.clear()
    assert _decide(admin, app, "approve").status_code == 302
    html = client.get(STATUS).get_data(as_text=True)
    assert "承認済み" in html and "ログインしてください" in html and 'http-equiv="refresh"' not in html
    [mail] = [m for m in outbox if m.recipients == ["staff@mama1.example.jp"]]
    assert "MAMAシステム" in mail.subject and "mama1 株式会社" in mail.subject and "承認" in mail.subject
    assert "経理部のPC" in mail.body and mail.html and "経理部のPC" in mail.html
    assert login(client, "mama1", "staff").status_code == 302 and client.get("/").status_code == 200


def test_rejection_is_shown_and_mailed(app, client, make_tenant, add_user, outbox):
    admin = _setup(app, make_tenant, add_user)
    password_step(client, "mama1", "staff")
    request_device(client)
    outbox.clear()
    assert _decide(admin, app, "reject").status_code == 302
    html = client.get(STATUS).get_data(as_text=True)
    assert "拒否" in html and "登録コード" in html and 'http-equiv="refresh"' not in html
    [mail] = outbox
    assert mail.recipients == ["staff@mama1.example.jp"] and "拒否" in mail.subject and "MAMAシステム" in mail.subject
    assert ("device.reject", "success", f"device:{_device_id(app)}") in audit_actions(app, "mama1")


def _device_id(app) -> int:
    with in_tenant(app, "mama1"):
        return db.session.execute(sa.select(MamaDevice.id).where(MamaDevice.status == "rejected")).scalar_one()


def test_another_browser_or_a_guessed_token_sees_nothing(app, client, make_tenant, add_user):
    _setup(app, make_tenant, add_user)
    password_step(client, "mama1", "staff")
    request_device(client, "経理部のPC")
    stranger = app.test_client()
    page = stranger.get(STATUS)
    assert page.status_code == 404 and "経理部のPC" not in page.get_data(as_text=True)
    for forged in ("A" * 43, "x", "<script>", "a" * 3000, _status_cookie(client)[:-1] + "B"):
        stranger.set_cookie(STATUS_COOKIE, forged)
        page = stranger.get(STATUS)
        assert page.status_code == 404 and "staff" not in page.get_data(as_text=True)


def test_status_page_never_shows_another_users_request(app, make_tenant, add_user):
    _setup(app, make_tenant, add_user)
    add_user("mama1", "other")
    first, second = app.test_client(), app.test_client()
    password_step(first, "mama1", "staff")
    request_device(first, "スタッフのPC")
    password_step(second, "mama1", "other")
    request_device(second, "別の人のPC")
    assert "スタッフのPC" in first.get(STATUS).get_data(as_text=True)
    other = second.get(STATUS).get_data(as_text=True)
    assert "別の人のPC" in other and "スタッフのPC" not in other and ">staff<" not in other


def test_the_status_token_expires(app, client, make_tenant, add_user):
    _setup(app, make_tenant, add_user)
    password_step(client, "mama1", "staff")
    request_device(client)
    with in_tenant(app, "mama1"):
        db.session.execute(sa.update(MamaDevice).where(MamaDevice.status == "pending").values(status_token_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    page = client.get(STATUS)
    assert page.status_code == 404 and "確認できません" in page.get_data(as_text=True)


def test_a_user_without_an_email_is_decided_without_a_mail(app, client, make_tenant, add_user, outbox):
    admin = _setup(app, make_tenant, add_user)
    with in_tenant(app, "mama1"):
        get_user("staff").email = None
        db.session.commit()
    password_step(client, "mama1", "staff")
    request_device(client)
    outbox.clear()
    assert _decide(admin, app, "approve").status_code == 302
    assert len(outbox) == 0
    assert "承認済み" in client.get(STATUS).get_data(as_text=True)
