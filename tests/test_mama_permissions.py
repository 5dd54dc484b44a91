"""メニュー権限マスタ: each menu × 一般 / 管理者 / a permission set; forbidden menus answer 403 and are hidden."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from plugins.mama.models import MamaPermissionSet, MamaUserSettings
from plugins.mama.permissions import full_level
from tests.conftest import post_form
from tests.mama_helpers import admin_client, audit_actions, get_user, in_tenant, login_with_code

# menu id → (a page of the menu, its label in the navigation)
MENUS = {
    "mama.associations": ("/mama/associations", "管理組合登録"),
    "mama.devices": ("/mama/devices", "端末管理"),
    "mama.users": ("/mama/users", "ユーザーマスタ"),
    "mama.permissions": ("/mama/permissions", "メニュー権限マスタ"),
    "mama.scopes": ("/mama/scopes", "物件参照権限登録"),
}
ADMIN_ONLY = {"mama.devices", "mama.users", "mama.permissions", "mama.scopes"}


def _nav(client) -> str:
    html = client.get("/").get_data(as_text=True)
    return html.split('<nav class="site-nav"')[1].split("</nav>")[0] if 'class="site-nav"' in html else ""


def _make_set(app, code, name, role, menus):
    with in_tenant(app, code):
        permission_set = MamaPermissionSet(name=name, role=role)
        permission_set.levels = menus if isinstance(menus, dict) else {menu: full_level(menu) for menu in menus}
        db.session.add(permission_set)
        db.session.commit()
        return permission_set.id


def _assign(app, code, login_id, set_id):
    with in_tenant(app, code):
        user = get_user(login_id)
        settings = db.session.execute(sa.select(MamaUserSettings).where(MamaUserSettings.user_id == user.id)).scalar_one()
        settings.permission_set_id = set_id
        db.session.commit()


@pytest.mark.parametrize("menu_id", sorted(MENUS))
def test_general_user_default(app, make_tenant, add_user, menu_id):
    _, _ = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    client = app.test_client()
    login_with_code(client, app, "mama1", "staff")
    url, label = MENUS[menu_id]
    expected = 403 if menu_id in ADMIN_ONLY else 200
    assert client.get(url).status_code == expected
    assert (label in _nav(client)) == (menu_id not in ADMIN_ONLY)
    if expected == 403:
        assert ("access.denied", "failure", f"menu:{menu_id}") in audit_actions(app, "mama1")


@pytest.mark.parametrize("menu_id", sorted(MENUS))
def test_admin_default_opens_every_menu(app, make_tenant, menu_id):
    _, client = admin_client(app, make_tenant)
    url, label = MENUS[menu_id]
    assert client.get(url).status_code == 200
    assert label in _nav(client)


@pytest.mark.parametrize("menu_id", sorted(MENUS))
def test_admin_permission_set_narrows_menus(app, make_tenant, add_user, menu_id):
    _, admin = admin_client(app, make_tenant)
    add_user("mama1", "boss2", role="admin")
    set_id = _make_set(app, "mama1", "閲覧のみ管理者", "admin", ["mama.associations", "mama.devices"])
    _assign(app, "mama1", "boss2", set_id)
    client = app.test_client()
    login_with_code(client, app, "mama1", "boss2")
    url, label = MENUS[menu_id]
    allowed = menu_id in {"mama.associations", "mama.devices"}
    assert client.get(url).status_code == (200 if allowed else 403)
    assert (label in _nav(client)) == allowed


@pytest.mark.parametrize("menu_id", sorted(MENUS))
def test_general_permission_set_without_associations(app, make_tenant, add_user, menu_id):
    admin_client(app, make_tenant)
    add_user("mama1", "staff")
    set_id = _make_set(app, "mama1", "なし", "general", [])
    _assign(app, "mama1", "staff", set_id)
    client = app.test_client()
    login_with_code(client, app, "mama1", "staff")
    url, label = MENUS[menu_id]
    assert client.get(url).status_code == 403
    assert label not in _nav(client)


def test_a_general_set_listing_admin_menus_still_does_not_open_them(app, make_tenant, add_user):
    admin_client(app, make_tenant)
    add_user("mama1", "staff")
    set_id = _make_set(app, "mama1", "ずる", "general", ["mama.users", "mama.associations"])
    _assign(app, "mama1", "staff", set_id)
    client = app.test_client()
    login_with_code(client, app, "mama1", "staff")
    assert client.get("/mama/users").status_code == 403
    assert client.get("/mama/associations").status_code == 200


def test_forbidden_post_answers_403_too(app, make_tenant, add_user):
    admin_client(app, make_tenant)
    add_user("mama1", "staff")
    client = app.test_client()
    login_with_code(client, app, "mama1", "staff")
    assert post_form(client, "/mama/associations", {}, action="/mama/users/1/unlock").status_code == 403


def test_permission_screen_builds_menus_from_the_registry_and_saves_a_set(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    general = client.get("/mama/permissions?role=general").get_data(as_text=True)
    assert "管理組合登録" in general and "ユーザーマスタ" not in general.split("permission-matrix")[1]
    admin_page = client.get("/mama/permissions?role=admin").get_data(as_text=True)
    assert "ユーザーマスタ" in admin_page
    new = client.get("/mama/permissions/new?role=general").get_data(as_text=True)
    assert 'name="level-mama.associations"' in new and 'level-mama.users' not in new
    response = post_form(client, "/mama/permissions/new?role=general",
                         {"name": "参照のみ", "level-mama.associations": ["view"]})
    assert response.status_code == 302
    with in_tenant(app, "mama1"):
        saved = db.session.execute(sa.select(MamaPermissionSet)).scalar_one()
        assert saved.role == "general" and saved.levels == {"mama.associations": "view"}
    assert "参照のみ" in client.get("/mama/permissions?role=general").get_data(as_text=True)
    assert any(a == "mama.permission_set.create" for a, _, _ in audit_actions(app, "mama1"))


def test_permission_set_bad_input(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    empty = post_form(client, "/mama/permissions/new?role=general", {"name": ""})
    assert empty.status_code == 422 and "入力してください" in empty.get_data(as_text=True)
    smuggled = post_form(client, "/mama/permissions/new?role=general",
                         {"name": "x", "level-mama.users": ["delete"], "level-mama.associations": ["all", "<b>"]})
    assert smuggled.status_code == 302  # an admin-only menu or a made-up level on a 一般 set is ignored
    with in_tenant(app, "mama1"):
        assert db.session.execute(sa.select(MamaPermissionSet).where(MamaPermissionSet.name == "x")).scalar_one().levels == {}
    post_form(client, "/mama/permissions/new?role=general", {"name": "同名"})
    twice = post_form(client, "/mama/permissions/new?role=general", {"name": "同名"})
    assert twice.status_code == 422 and "既にあります" in twice.get_data(as_text=True)
    assert client.get("/mama/permissions?role=bogus").status_code == 200
    assert client.get("/mama/permissions/999999/edit").status_code == 404


def test_set_in_use_cannot_be_deleted_and_unused_can(app, make_tenant, add_user):
    _, client = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    used = _make_set(app, "mama1", "使用中", "general", ["mama.associations"])
    unused = _make_set(app, "mama1", "未使用", "general", [])
    _assign(app, "mama1", "staff", used)
    post_form(client, "/mama/permissions", {"confirmed": "yes"}, action=f"/mama/permissions/{used}/delete")
    post_form(client, "/mama/permissions", {"confirmed": "yes"}, action=f"/mama/permissions/{unused}/delete")
    with in_tenant(app, "mama1"):
        names = db.session.execute(sa.select(MamaPermissionSet.name)).scalars().all()
    assert names == ["使用中"]


def test_admin_set_that_would_lock_everyone_out_is_refused(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    set_id = _make_set(app, "mama1", "管理者セット", "admin", ["mama.users", "mama.permissions"])
    _assign(app, "mama1", "admin", set_id)
    response = post_form(client, f"/mama/permissions/{set_id}/edit", {"name": "管理者セット",
                                                                       "level-mama.permissions": ["delete"]})
    assert response.status_code == 422 and "管理者が一人もいなくなる" in response.get_data(as_text=True)
    assert client.get("/mama/users").status_code == 200


def test_other_tenants_permission_set_is_404(app, make_tenant):
    admin_client(app, make_tenant, "mama1")
    _, client = admin_client(app, make_tenant, "mama2")
    foreign = _make_set(app, "mama1", "よそ", "general", [])
    assert client.get(f"/mama/permissions/{foreign}/edit").status_code == 404
    assert post_form(client, "/mama/permissions", {"confirmed": "yes"}, action=f"/mama/permissions/{foreign}/delete").status_code == 404
