"""Password change: current password required, policy, other sessions end, notice mailed."""
import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant, User
from app.passwords import verify_password
from app.tenancy import tenant_scope
from tests.conftest import PASSWORD, login, post_form

NEW = "an entirely new passphrase for kanri"


def _change(client, current, new, confirm=None):
    return post_form(client, "/account/password", {
        "current_password": current, "new_password": new, "confirm_password": confirm or new})


def _admin(app, company="acme"):
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == company)).scalar_one()
        with tenant_scope(tenant):
            return db.session.execute(sa.select(User).where(User.login_id == "admin")).scalar_one()


def test_change_needs_the_current_password(client, make_tenant, app):
    make_tenant("acme")
    login(client, "acme", "admin")
    page = _change(client, "not my password at all", NEW).get_data(as_text=True)
    assert "現在のパスワードが正しくありません" in page
    with app.app_context():
        assert verify_password(PASSWORD, _admin(app).password_hash)


def test_new_password_follows_the_policy_with_reasons(client, make_tenant):
    make_tenant("acme")
    login(client, "acme", "admin")
    cases = {
        "short": "12文字以上",
        "password1234": "よく使われる",
        "acme-admin-passphrase": "推測されやすい語",
        PASSWORD: "現在のパスワードと異なる",
    }
    for new, message in cases.items():
        assert message in _change(client, PASSWORD, new).get_data(as_text=True), new
    assert "一致しません" in _change(client, PASSWORD, NEW, NEW + "x").get_data(as_text=True)


def test_change_ends_other_sessions_keeps_this_one_and_mails_a_notice(make_tenant, app, outbox):
    make_tenant("acme")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "acme", "admin")
    login(elsewhere, "acme", "admin")
    response = _change(here, PASSWORD, NEW)
    assert response.status_code == 302
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert len(outbox) == 1
    assert outbox[0].recipients == ["admin@acme.example.jp"]
    assert "パスワード変更のお知らせ" in outbox[0].subject
    assert NEW not in outbox[0].body and NEW not in outbox[0].html
    with app.app_context():
        assert verify_password(NEW, _admin(app).password_hash)
    fresh = app.test_client()
    login(fresh, "acme", "admin", NEW)
    assert fresh.get("/").status_code == 200


def test_forced_change_clears_the_temporary_flag(client, make_tenant, add_user, app):
    make_tenant("acme")
    temporary = add_user("acme", "newbie", password=None)
    login(client, "acme", "newbie", temporary)
    assert "仮パスワードでログインしました" in client.get("/account/password").get_data(as_text=True)
    # The temporary password may not be kept as the long-term one.
    assert "現在のパスワードと異なる" in _change(client, temporary, temporary).get_data(as_text=True)
    assert _change(client, temporary, NEW).status_code == 302
    assert client.get("/").status_code == 200
