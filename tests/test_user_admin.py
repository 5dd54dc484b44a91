"""The core's user-administration service (app.user_admin): add, edit, suspend, delete, reset, last-admin guard."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import ROLE_ADMIN, ROLE_GENERAL, STATUS_ACTIVE, STATUS_SUSPENDED, AuditEvent, Tenant, User
from app.passwords import verify_password
from app.tenancy import tenant_scope
from app.user_admin import (
    LAST_ADMIN,
    NOT_YOURSELF_DELETE,
    NOT_YOURSELF_RESET,
    LastAdminError,
    UserAdminError,
    add_user,
    delete_user,
    edit_user,
    reset_password,
)
from tests.conftest import login


@pytest.fixture
def acme(app, make_tenant, add_user):
    """Tenant acme with the admin 'admin' and the general user 'ippan'; yields inside its scope."""
    info = make_tenant("acme")
    add_user("acme", "ippan")
    with app.test_request_context("/"):
        tenant = db.session.get(Tenant, info.id)
        with tenant_scope(tenant):
            yield tenant


def _user(login_id: str) -> User:
    return db.session.execute(sa.select(User).where(User.login_id == login_id)).scalar_one()


def _audit(action: str) -> list[dict]:
    rows = db.session.execute(sa.select(AuditEvent.details).where(AuditEvent.action == action)
                              .order_by(AuditEvent.seq)).scalars()
    return [json.loads(row) for row in rows]


def test_add_user_with_typed_or_generated_password(acme):
    typed, none = add_user(acme, "typed", "入力 太郎", "typed@acme.example.jp", password="correct horse battery")
    generated, temporary = add_user(acme, "gen", "生成 花子", None, role=ROLE_ADMIN, actor=_user("admin"))
    db.session.commit()
    assert none is None and typed.must_change_password and typed.temp_password_expires_at is not None
    assert temporary and generated.must_change_password and generated.role == ROLE_ADMIN
    assert verify_password(temporary, generated.password_hash)
    assert [d["after"]["login_id"] for d in _audit("user.create") if d.get("after")][-2:] == ["typed", "gen"]


def test_edit_changes_and_audits_only_field_names_of_personal_data(acme):
    admin, ippan = _user("admin"), _user("ippan")
    called = []
    changed = edit_user(ippan, name="新しい 名前", email="new@acme.example.jp", role=ROLE_ADMIN, status=STATUS_ACTIVE,
                        actor=admin, also=lambda: called.append(True))
    db.session.commit()
    assert changed == ["name", "email"] and called == [True]
    assert (ippan.name, ippan.email, ippan.role) == ("新しい 名前", "new@acme.example.jp", ROLE_ADMIN)
    [details] = _audit("user.update")
    assert details["before"] == {"role": ROLE_GENERAL, "status": STATUS_ACTIVE}
    assert details["after"] == {"role": ROLE_ADMIN, "status": STATUS_ACTIVE}
    assert details["changed_personal_fields"] == ["name", "email"]
    assert "新しい" not in json.dumps(details, ensure_ascii=False)


@pytest.mark.parametrize("role, status", [(ROLE_GENERAL, STATUS_ACTIVE), (ROLE_ADMIN, STATUS_SUSPENDED)])
def test_the_last_admin_cannot_be_demoted_or_suspended(acme, role, status):
    admin = _user("admin")
    with pytest.raises(LastAdminError) as refused:
        edit_user(admin, name=admin.name, email=admin.email, role=role, status=status, actor=admin)
    assert refused.value.message == LAST_ADMIN
    admin = _user("admin")  # the change was rolled back
    assert (admin.role, admin.status) == (ROLE_ADMIN, STATUS_ACTIVE)
    assert _audit("user.update") == []


def test_a_products_stricter_admin_check_and_message(acme):
    ippan = _user("ippan")
    with pytest.raises(LastAdminError) as refused:
        edit_user(ippan, name=ippan.name, email=ippan.email, role=ROLE_GENERAL, status=STATUS_ACTIVE,
                  admin_check=lambda: False, message="ユーザーマスタを使える管理者が必要です。")
    assert refused.value.message == "ユーザーマスタを使える管理者が必要です。"


def test_suspending_another_admin_ends_their_sessions(app, make_tenant, add_user):
    make_tenant("acme")
    add_user("acme", "boss2", role=ROLE_ADMIN)
    client = app.test_client()
    login(client, "acme", "boss2")
    assert client.get("/").status_code == 200
    with app.test_request_context("/"):
        with tenant_scope(Tenant.by_code("acme")):
            boss = _user("boss2")
            edit_user(boss, name=boss.name, email=boss.email, role=ROLE_ADMIN, status=STATUS_SUSPENDED,
                      actor=_user("admin"))
            db.session.commit()
    assert client.get("/").status_code == 302


def test_delete_user_runs_the_products_cleanup_and_keeps_the_last_admin(acme):
    admin, ippan = _user("admin"), _user("ippan")
    with pytest.raises(UserAdminError) as refused:
        delete_user(admin, actor=admin)
    assert refused.value.message == NOT_YOURSELF_DELETE
    with pytest.raises(LastAdminError):
        delete_user(admin, actor=None)
    assert _user("admin") is not None
    cleaned = []
    assert delete_user(_user("ippan"), actor=_user("admin"), cleanup=lambda u: cleaned.append(u.login_id)) == "ippan"
    db.session.commit()
    assert cleaned == ["ippan"] and ippan.id not in [u.id for u in db.session.execute(sa.select(User)).scalars()]
    assert _audit("user.delete")[-1]["before"]["login_id"] == "ippan"


def test_reset_password_of_another_user(acme):
    admin, ippan = _user("admin"), _user("ippan")
    with pytest.raises(UserAdminError) as refused:
        reset_password(admin, actor=admin)
    assert refused.value.message == NOT_YOURSELF_RESET
    temporary, details = reset_password(ippan, actor=admin, also=lambda u: {"devices_revoked": 2})
    db.session.commit()
    assert details == {"devices_revoked": 2}
    assert verify_password(temporary, ippan.password_hash) and ippan.must_change_password
    [audited] = _audit("password.reset")
    assert audited["devices_revoked"] == 2 and audited["sessions_ended"] == 0
