"""ユーザーマスタ: add, edit, delete, password reset, unlock, the last-admin guard and bad input."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, User
from app.timeutil import utcnow
from tests.conftest import PASSWORD, post_form
from tests.mama_helpers import (
    admin_client,
    audit_actions,
    audit_details,
    enter_code,
    get_user,
    in_tenant,
    issue_code,
    login_with_code,
    password_step,
)

NEW_PASSWORD = "purple elephant dances quietly 77"


def _user_id(app, login_id, code="mama1"):
    with in_tenant(app, code):
        return get_user(login_id).id


def _secret(html: str, testid: str) -> str:
    return html.split(f'data-testid="{testid}">')[1].split("<")[0]


def test_add_user_with_generated_password_shown_once_and_forced_change(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    response = post_form(client, "/mama/users/new", {"login_id": "tanaka", "name": "田中 一郎",
                                                     "email": "tanaka@example.jp", "role": "general",
                                                     "permission_set": "0", "password_mode": "generate"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "この画面でしか表示しません" in html
    password = _secret(html, "initial-password")
    assert len(password) >= 16
    assert password not in client.get("/mama/users").get_data(as_text=True)
    staff = app.test_client()
    password_step(staff, "mama1", "tanaka", password)
    assert enter_code(staff, issue_code(app, "mama1", "tanaka")).headers["Location"].endswith("/account/password")
    with in_tenant(app, "mama1"):
        assert get_user("tanaka").must_change_password
    assert ("user.create", "success", "user:tanaka") in audit_actions(app, "mama1")


def test_add_user_with_typed_password(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    response = post_form(client, "/mama/users/new", {"login_id": "sato", "name": "佐藤", "email": "",
                                                     "role": "admin", "permission_set": "0",
                                                     "password_mode": "manual", "password": NEW_PASSWORD})
    assert response.status_code == 200 and NEW_PASSWORD in response.get_data(as_text=True)
    with in_tenant(app, "mama1"):
        user = get_user("sato")
        assert user.must_change_password and user.temp_password_expires_at > utcnow() + timedelta(hours=71)
        assert user.role == "admin"


def test_add_user_bad_input_keeps_values_and_says_why(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    response = post_form(client, "/mama/users/new", {"login_id": "x", "name": "", "email": "not-mail",
                                                     "role": "root", "permission_set": "abc",
                                                     "password_mode": "manual", "password": "short"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("ログインIDは英数字", "入力してください", "メールアドレスの形式", "一覧から選択してください"):
        assert message in html, message
    assert 'value="not-mail"' in html
    weak = post_form(client, "/mama/users/new", {"login_id": "weakling", "name": "弱", "role": "general",
                                                 "permission_set": "0", "password_mode": "manual",
                                                 "password": "password1234"})
    assert weak.status_code == 422 and "パスワード" in weak.get_data(as_text=True)
    missing = post_form(client, "/mama/users/new", {"login_id": "nopass", "name": "無", "role": "general",
                                                    "permission_set": "0", "password_mode": "manual"})
    assert missing.status_code == 422 and "初期パスワードを入力" in missing.get_data(as_text=True)
    taken = post_form(client, "/mama/users/new", {"login_id": "admin", "name": "重複", "role": "general",
                                                  "permission_set": "0", "password_mode": "generate"})
    assert taken.status_code == 422 and "既に使われています" in taken.get_data(as_text=True)
    with in_tenant(app, "mama1"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one() == 1


def test_edit_user_records_before_and_after_without_personal_values(app, make_tenant, add_user):
    _, client = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    uid = _user_id(app, "staff")
    response = post_form(client, f"/mama/users/{uid}/edit", {"name": "新しい 名前", "email": "new@example.jp",
                                                             "role": "admin", "permission_set": "0",
                                                             "status": "active"})
    assert response.status_code == 302
    with in_tenant(app, "mama1"):
        user = get_user("staff")
        assert (user.name, user.email, user.role) == ("新しい 名前", "new@example.jp", "admin")
    details = audit_details(app, "mama1", "user.update")[-1]
    assert details["before"]["role"] == "general" and details["after"]["role"] == "admin"
    assert sorted(details["changed_personal_fields"]) == ["email", "name"]
    with in_tenant(app, "mama1"):
        raw = " ".join(db.session.execute(sa.select(AuditEvent.details)).scalars())
    assert "new@example.jp" not in raw and "新しい 名前" not in raw


def test_edit_user_bad_input(app, make_tenant, add_user):
    _, client = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    uid = _user_id(app, "staff")
    response = post_form(client, f"/mama/users/{uid}/edit", {"name": "", "email": "bad", "role": "general",
                                                             "permission_set": "0", "status": "gone"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "入力してください" in html and "一覧から選択してください" in html
    with in_tenant(app, "mama1"):
        assert get_user("staff").name == "staff さん"


def test_suspending_a_user_ends_their_sessions(app, make_tenant, add_user):
    _, client = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    staff = app.test_client()
    login_with_code(staff, app, "mama1", "staff")
    uid = _user_id(app, "staff")
    post_form(client, f"/mama/users/{uid}/edit", {"name": "staff さん", "email": "", "role": "general",
                                                  "permission_set": "0", "status": "suspended"})
    assert staff.get("/").status_code == 302


def test_last_admin_cannot_demote_suspend_or_delete_themselves(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    uid = _user_id(app, "admin")
    for status, role in (("active", "general"), ("suspended", "admin")):
        response = post_form(client, f"/mama/users/{uid}/edit", {"name": "管理 太郎", "email": "", "role": role,
                                                                 "permission_set": "0", "status": status})
        assert response.status_code == 422 and "管理者が一人もいなくなる" in response.get_data(as_text=True)
    response = post_form(client, f"/mama/users/{uid}/delete", {"confirmed": "yes"})
    assert response.status_code == 422 and "自分自身は削除できません" in response.get_data(as_text=True)
    with in_tenant(app, "mama1"):
        user = get_user("admin")
        assert (user.role, user.status) == ("admin", "active")
    assert client.get("/mama/users").status_code == 200


def test_admin_may_step_down_when_another_admin_remains(app, make_tenant, add_user):
    _, client = admin_client(app, make_tenant)
    add_user("mama1", "boss2", role="admin")
    uid = _user_id(app, "admin")
    response = post_form(client, f"/mama/users/{uid}/edit", {"name": "管理 太郎", "email": "", "role": "general",
                                                             "permission_set": "0", "status": "active"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert client.get("/mama/users").status_code == 403


def test_delete_user_keeps_audit_login_id(app, make_tenant, add_user):
    _, client = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    staff = app.test_client()
    login_with_code(staff, app, "mama1", "staff")
    uid = _user_id(app, "staff")
    assert "削除しますか" in client.get(f"/mama/users/{uid}/delete").get_data(as_text=True)
    assert post_form(client, f"/mama/users/{uid}/delete", {"confirmed": "yes"}).status_code == 302
    with in_tenant(app, "mama1"):
        assert db.session.execute(sa.select(User).where(User.login_id == "staff")).first() is None
    assert "staff" not in client.get("/mama/users").get_data(as_text=True).split("user-table")[1]
    assert ("user.delete", "success", "user:staff") in audit_actions(app, "mama1")
    assert staff.get("/").status_code == 302
    assert client.get(f"/mama/users/{uid}/edit").status_code == 404


def test_reset_password_shows_temporary_password_once_and_ends_sessions(app, make_tenant, add_user):
    _, client = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    staff = app.test_client()
    login_with_code(staff, app, "mama1", "staff")
    uid = _user_id(app, "staff")
    response = post_form(client, f"/mama/users/{uid}/reset-password", {"confirmed": "yes"})
    html = response.get_data(as_text=True)
    temporary = _secret(html, "temporary-password")
    assert staff.get("/").status_code == 302
    assert password_step(staff, "mama1", "staff", PASSWORD).status_code == 200  # old password gone
    response = password_step(staff, "mama1", "staff", temporary)
    assert response.status_code == 302
    assert staff.get("/mama/device").headers["Location"].endswith("/account/password")  # device kept
    details = audit_details(app, "mama1", "password.reset")[-1]
    assert details["devices_revoked"] == 0 and details["sessions_ended"] >= 1
    assert temporary not in str(details)


def test_admin_cannot_reset_own_password_here(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    response = post_form(client, f"/mama/users/{_user_id(app, 'admin')}/reset-password", {"confirmed": "yes"})
    assert response.status_code == 422 and "パスワード変更" in response.get_data(as_text=True)


def test_unlock_a_locked_user(app, make_tenant, add_user):
    _, client = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    with in_tenant(app, "mama1"):
        get_user("staff").locked_until = utcnow() + timedelta(minutes=10)
        db.session.commit()
    assert "ロック中" in client.get("/mama/users").get_data(as_text=True)
    uid = _user_id(app, "staff")
    assert post_form(client, "/mama/users", {}, action=f"/mama/users/{uid}/unlock").status_code == 302
    with in_tenant(app, "mama1"):
        assert get_user("staff").locked_until is None
    assert ("account.unlock", "success", "user:staff") in audit_actions(app, "mama1")


def test_user_ids_of_another_tenant_are_404(app, make_tenant, add_user):
    admin_client(app, make_tenant, "mama2")
    add_user("mama2", "victim")
    _, client = admin_client(app, make_tenant, "mama1")
    uid = _user_id(app, "victim", "mama2")
    for url in (f"/mama/users/{uid}/edit", f"/mama/users/{uid}/delete", f"/mama/users/{uid}/reset-password"):
        assert client.get(url).status_code == 404, url
    assert post_form(client, "/mama/users", {}, action=f"/mama/users/{uid}/unlock").status_code == 404
    assert client.get("/mama/users?page=abc").status_code == 200
