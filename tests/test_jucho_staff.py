"""社員 screens: registration mails a temporary password, edits, suspension ends sessions, last-admin rule."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import User
from tests.conftest import PASSWORD, post_form
from tests.jucho_helpers import audit_rows, jucho_login
from tests.smtp_helpers import SmtpServer, SmtpSink, point_mail_at

NEW_PASSWORD = "violet kettle marching quietly 88"


@pytest.fixture
def admin(client, outbox, make_tenant):
    """A 重調@CITY tenant 'juchoco' with its admin logged in on client."""
    make_tenant("juchoco", product="jucho")
    jucho_login(client, outbox, "juchoco", "admin")
    outbox.clear()
    return client


def _user(app, login_id: str) -> User | None:
    from app.models import Tenant
    from app.tenancy import tenant_scope

    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "juchoco")).scalar_one()
        with tenant_scope(tenant):
            user = db.session.execute(sa.select(User).where(User.login_id == login_id)).scalar_one_or_none()
            if user is not None:
                db.session.expunge(user)
            return user


def _user_id(app, login_id: str) -> int:
    return _user(app, login_id).id


def register(client, **fields):
    data = {"name": "鈴木 一郎", "email": "ichiro@example.co.jp", "login_id": "ichiro", "role": "general", **fields}
    return post_form(client, "/jucho/staff/new", data)


def test_registration_mails_a_temporary_password_the_admin_never_sees(app, admin, outbox):
    response = register(admin)
    assert response.status_code == 302
    assert len(outbox) == 1
    mail = outbox[0]
    assert mail.recipients == ["ichiro@example.co.jp"]
    temporary = re.search(r"仮パスワード: (\S+)", mail.body).group(1)
    assert len(temporary) >= 16 and temporary in mail.html and "72時間" in mail.body
    listing = admin.get("/jucho/staff").get_data(as_text=True)
    assert "ichiro" in listing and "鈴木 一郎" in listing and temporary not in listing
    assert temporary not in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert all(temporary not in details for *_, details in audit_rows(app, ""))
    # The new employee logs in with it (code by mail) and must change it first.
    employee = app.test_client()
    response = jucho_login(employee, outbox, "juchoco", "ichiro", temporary)
    assert response.headers["Location"].endswith("/account/password")
    assert employee.get("/jucho/buildings").headers["Location"].endswith("/account/password")


@pytest.mark.config(KANRI_MAIL_RETRY_SECONDS=0.2, KANRI_MAIL_POLL_SECONDS=0.2)
def test_registration_commits_while_smtp_is_down_and_the_mail_follows_when_it_returns(app, admin, outbox):
    """Formerly the registration was rolled back when SMTP failed; with the outbox the employee and the
    temporary-password mail commit together, and the mail goes out once the SMTP server is back."""
    server = SmtpServer()
    point_mail_at(app, "127.0.0.1", server.port)  # nothing listens there yet: smtplib is refused
    response = register(admin)
    assert response.status_code == 302
    assert _user(app, "ichiro") is not None
    assert ("jucho.staff.create", "failure") not in [(a, o) for a, o, _, _ in audit_rows(app)]
    assert outbox == []  # tried and refused: still queued
    server.start()
    try:
        message = server.sink.wait_for(1)[0]  # the background sender retries on its own
        assert message["To"] == "ichiro@example.co.jp"
        temporary = re.search(r"仮パスワード: (\S+)", SmtpSink.text(message)).group(1)
        employee = app.test_client()
        response = jucho_login(employee, outbox, "juchoco", "ichiro", temporary)
        assert response.headers["Location"].endswith("/account/password")
    finally:
        server.stop()


@pytest.mark.parametrize("fields, message", [
    ({"name": ""}, "入力してください"),
    ({"email": "not-an-address"}, "メールアドレスの形式が正しくありません"),
    ({"login_id": "a"}, "ログインIDは半角英数字"),
    ({"login_id": "admin"}, "このログインIDは既に使われています"),
    ({"email": "admin@juchoco.example.jp"}, "このメールアドレスは他の社員が使用しています"),
    ({"role": "root"}, "一覧から選択してください"),
    ({"name": "長" * 101}, "100文字以内"),
])
def test_bad_registration_input_gets_a_japanese_message(app, admin, outbox, fields, message):
    response = register(admin, **fields)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert outbox == []
    assert _user(app, "ichiro") is None


def test_edit_name_role_and_email_mails_old_and_new_address(app, admin, outbox, add_user):
    add_user("juchoco", "hanako", email="hanako@example.co.jp")
    user_id = _user_id(app, "hanako")
    response = post_form(admin, f"/jucho/staff/{user_id}/edit",
                         {"name": "佐藤 花子", "email": "hanako.sato@example.co.jp", "role": "admin"})
    assert response.status_code == 302
    assert sorted(m.recipients[0] for m in outbox) == ["hanako.sato@example.co.jp", "hanako@example.co.jp"]
    assert all("メールアドレス変更" in m.subject for m in outbox)
    user = _user(app, "hanako")
    assert user.role == "admin"
    page = admin.get(f"/jucho/staff/{user_id}/edit").get_data(as_text=True)
    assert "佐藤 花子" in page and "hanako.sato@example.co.jp" in page
    # The new address receives the login codes.
    other = app.test_client()
    outbox.clear()
    jucho_login(other, outbox, "juchoco", "hanako")
    assert outbox[-1].recipients == ["hanako.sato@example.co.jp"]


def test_bad_edit_input_keeps_the_saved_values(app, admin, add_user):
    add_user("juchoco", "hanako", email="hanako@example.co.jp")
    user_id = _user_id(app, "hanako")
    response = post_form(admin, f"/jucho/staff/{user_id}/edit", {"name": "", "email": "broken", "role": "general"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "入力してください" in html and "メールアドレスの形式が正しくありません" in html
    with app.app_context():
        from app.models import Tenant
        from app.tenancy import tenant_scope

        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "juchoco")).scalar_one()
        with tenant_scope(tenant):
            user = db.session.get(User, user_id)
            assert (user.name, user.email) == ("hanako さん", "hanako@example.co.jp")


def test_last_active_admin_cannot_demote_or_suspend_themselves(app, admin, outbox):
    admin_id = _user_id(app, "admin")
    response = post_form(admin, f"/jucho/staff/{admin_id}/edit",
                         {"name": "管理 太郎", "email": "admin@juchoco.example.jp", "role": "general"})
    assert response.status_code == 200
    assert "有効な管理者が1人もいなくなる" in response.get_data(as_text=True)
    response = post_form(admin, f"/jucho/staff/{admin_id}/edit", {"confirmed": "yes"}, action=f"/jucho/staff/{admin_id}/suspend")
    assert response.status_code == 302
    assert "停止できません" in admin.get(response.headers["Location"]).get_data(as_text=True)
    user = _user(app, "admin")
    assert user.role == "admin" and user.status == "active"
    assert admin.get("/").status_code == 200


def test_with_a_second_admin_an_admin_may_step_down(app, admin, add_user):
    add_user("juchoco", "boss2", role="admin")
    admin_id = _user_id(app, "admin")
    response = post_form(admin, f"/jucho/staff/{admin_id}/edit",
                         {"name": "管理 太郎", "email": "admin@juchoco.example.jp", "role": "general"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert _user(app, "admin").role == "general"
    assert admin.get("/jucho/staff").status_code == 403


def test_suspension_ends_live_sessions_at_once_and_resume_allows_login(app, admin, outbox, add_user):
    add_user("juchoco", "hanako", email="hanako@example.co.jp")
    employee = app.test_client()
    jucho_login(employee, outbox, "juchoco", "hanako")
    assert employee.get("/jucho/buildings").status_code == 200
    user_id = _user_id(app, "hanako")
    response = post_form(admin, f"/jucho/staff/{user_id}/edit", {"confirmed": "yes"}, action=f"/jucho/staff/{user_id}/suspend")
    assert response.status_code == 302
    assert "停止しました" in admin.get(response.headers["Location"]).get_data(as_text=True)
    response = employee.get("/jucho/buildings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    other = app.test_client()
    from tests.conftest import password_step
    response = password_step(other, "juchoco", "hanako", PASSWORD)
    assert response.status_code == 200 and "停止されています" in response.get_data(as_text=True)
    post_form(admin, f"/jucho/staff/{user_id}/edit", {}, action=f"/jucho/staff/{user_id}/resume")
    assert _user(app, "hanako").status == "active"
    jucho_login(other, outbox, "juchoco", "hanako")
    assert other.get("/jucho/buildings").status_code == 200


def test_password_reset_by_admin_mails_a_new_temporary_password_and_ends_sessions(app, admin, outbox, add_user):
    add_user("juchoco", "hanako", email="hanako@example.co.jp")
    employee = app.test_client()
    jucho_login(employee, outbox, "juchoco", "hanako")
    outbox.clear()
    user_id = _user_id(app, "hanako")
    response = post_form(admin, f"/jucho/staff/{user_id}/edit", {"confirmed": "yes"}, action=f"/jucho/staff/{user_id}/reset-password")
    assert response.status_code == 302
    assert len(outbox) == 1 and outbox[0].recipients == ["hanako@example.co.jp"]
    temporary = re.search(r"仮パスワード: (\S+)", outbox[0].body).group(1)
    assert temporary not in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert employee.get("/jucho/buildings").status_code == 302
    fresh = app.test_client()
    response = jucho_login(fresh, outbox, "juchoco", "hanako", temporary)
    assert response.headers["Location"].endswith("/account/password")


def test_general_staff_cannot_open_staff_screens(app, client, outbox, make_tenant, add_user):
    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "hanako")
    jucho_login(client, outbox, "juchoco", "hanako")
    admin_id = _user_id(app, "admin")
    assert client.get("/jucho/staff").status_code == 403
    assert client.get("/jucho/staff/new").status_code == 403
    assert client.get(f"/jucho/staff/{admin_id}/edit").status_code == 403
    assert ("access.denied", "failure") in [(a, o) for a, o, _, _ in audit_rows(app, "access.")]
    assert "社員一覧" not in client.get("/").get_data(as_text=True)


def test_another_tenants_employee_is_404(app, admin, make_tenant, outbox):
    make_tenant("otherco", product="jucho")
    from app.models import Tenant
    from app.tenancy import tenant_scope

    with app.app_context():
        other = db.session.execute(sa.select(Tenant).where(Tenant.code == "otherco")).scalar_one()
        with tenant_scope(other):
            foreign_id = db.session.execute(sa.select(User.id)).scalar_one()
    assert admin.get(f"/jucho/staff/{foreign_id}/edit").status_code == 404
    response = post_form(admin, "/jucho/staff", {"confirmed": "yes"}, action=f"/jucho/staff/{foreign_id}/suspend")
    assert response.status_code == 404


def test_staff_list_survives_odd_paging(admin):
    for query in ("page=abc", "page=-3", "page=99999999999", "q=%25%27"):
        assert admin.get(f"/jucho/staff?{query}").status_code == 200
