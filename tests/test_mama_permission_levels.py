"""メニュー権限の段階（閲覧 / 編集 / 削除）: the grid, every MAMA view's level, hidden buttons, forged posts, migration."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime

import flask_migrate
import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from plugins.mama.models import MamaAssociation, MamaPermissionSet, MamaUserSettings
from tests.conftest import post_form
from tests.mama_helpers import admin_client, audit_actions, get_user, in_tenant, login_with_code
from tests.test_migrations import PRODUCTION_PLUGINS, scratch_url  # noqa: F401  (the fixture)

ALL_VIEW = {"mama.associations": "view", "mama.devices": "view", "mama.users": "view",
            "mama.permissions": "view", "mama.scopes": "view"}
ALL_EDIT = {**{menu: "edit" for menu in ALL_VIEW}}
# MAMA endpoints that are not behind a menu: the login's device step, the user's own devices, and the pages
# reachable without a login. Every other MAMA endpoint must carry menu_required (checked below).
UNGUARDED = {"mama.device", "mama.device_code", "mama.device_request", "mama.device_status_page", "mama.my_devices",
             "mama.my_device_revoke", "mama.reset_request", "mama.reset_request_sent", "mama.static"}


def _set_for(app, login_id: str, name: str, role: str, levels: dict) -> int:
    with in_tenant(app, "mama1"):
        permission_set = MamaPermissionSet(name=name, role=role)
        permission_set.levels = levels
        db.session.add(permission_set)
        db.session.flush()
        user = get_user(login_id)
        db.session.execute(sa.update(MamaUserSettings).where(MamaUserSettings.user_id == user.id)
                           .values(permission_set_id=permission_set.id, scope_all=True))
        db.session.commit()
        return permission_set.id


def _user_with(app, make_tenant, add_user, levels: dict, role: str = "admin"):
    """A tenant whose second user ('boss2') has exactly these levels; returns (admin client, boss2 client)."""
    _, admin = admin_client(app, make_tenant)
    add_user("mama1", "boss2", role=role)
    _set_for(app, "boss2", "テスト用", role, levels)
    client = app.test_client()
    login_with_code(client, app, "mama1", "boss2")
    return admin, client


def _association(app) -> int:
    with in_tenant(app, "mama1"):
        association = MamaAssociation(code="A00001", name="テスト管理組合", name_kana="テストカンリクミアイ",
                                      postal_code="160-0023", prefecture="東京都", city="新宿区",
                                      address_line="1-2-3", units=30, building_year=2001, fiscal_start_month=4)
        db.session.add(association)
        db.session.commit()
        return association.id


def _mama_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("mama."):
            yield rule, app.view_functions[rule.endpoint]


def _url(rule) -> str:
    return rule.build({name: 1 for name in rule.arguments})[1]


def test_every_mama_view_is_guarded_by_a_menu_level(app):
    unguarded = {rule.endpoint for rule, view in _mama_rules(app) if not hasattr(view, "menu_permission")}
    assert unguarded <= UNGUARDED, f"MAMA views without menu_required: {sorted(unguarded - UNGUARDED)}"
    levels = {rule.endpoint: view.menu_permission[1] for rule, view in _mama_rules(app)
              if hasattr(view, "menu_permission")}
    assert levels["mama.associations_index"] == "view" and levels["mama.associations_new"] == "edit"
    assert levels["mama.associations_delete"] == "delete" and levels["mama.device_revoke"] == "delete"
    assert levels["mama.users_delete"] == "delete" and levels["mama.scopes_remove"] == "edit"


def test_forged_post_without_edit_is_refused_on_every_write_endpoint(app, make_tenant, add_user):
    _user_with(app, make_tenant, add_user, ALL_VIEW)
    attacker = app.test_client()
    login_with_code(attacker, app, "mama1", "boss2")
    page = attacker.get("/mama/associations")
    assert page.status_code == 200
    posts = [(rule, view) for rule, view in _mama_rules(app)
             if "POST" in rule.methods and hasattr(view, "menu_permission")]
    assert len(posts) >= 15
    for rule, _ in posts:
        response = post_form(attacker, "/mama/associations", {"confirmed": "yes", "name": "x"}, action=_url(rule))
        assert response.status_code == 403, (rule.endpoint, response.status_code)
    denied = [target for action, outcome, target in audit_actions(app, "mama1") if action == "access.denied"]
    assert len(denied) == len(posts)
    with in_tenant(app, "mama1"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(MamaAssociation)).scalar_one() == 0


def test_edit_without_delete_cannot_reach_any_delete_view(app, make_tenant, add_user):
    _, editor = _user_with(app, make_tenant, add_user, ALL_EDIT)
    association_id = _association(app)
    deletes = [rule for rule, view in _mama_rules(app) if getattr(view, "menu_permission", (None, None))[1] == "delete"]
    assert {rule.endpoint for rule in deletes} >= {"mama.associations_delete", "mama.users_delete",
                                                   "mama.permissions_delete", "mama.device_revoke"}
    for rule in deletes:
        if "GET" in rule.methods:
            assert editor.get(_url(rule)).status_code == 403, rule.endpoint
        if "POST" in rule.methods:
            response = post_form(editor, "/mama/associations", {"confirmed": "yes"}, action=_url(rule))
            assert response.status_code == 403, rule.endpoint
    assert editor.get(f"/mama/associations/{association_id}/edit").status_code == 200
    assert editor.get("/mama/associations/new").status_code == 200


def test_view_only_sees_lists_and_details_but_no_write_buttons(app, make_tenant, add_user):
    _, viewer = _user_with(app, make_tenant, add_user, ALL_VIEW)
    association_id = _association(app)
    for url in ("/mama/associations", f"/mama/associations/{association_id}", "/mama/users", "/mama/devices",
                "/mama/permissions", "/mama/scopes", "/mama/associations/export.csv"):
        assert viewer.get(url).status_code == 200, url
    for url in ("/mama/associations/new", f"/mama/associations/{association_id}/edit", "/mama/users/new",
                "/mama/permissions/new", f"/mama/associations/{association_id}/delete"):
        assert viewer.get(url).status_code == 403, url
    show = viewer.get(f"/mama/associations/{association_id}").get_data(as_text=True)
    assert 'data-testid="edit"' not in show and 'data-testid="delete"' not in show
    assert "新規登録" not in viewer.get("/mama/associations").get_data(as_text=True)
    users = viewer.get("/mama/users").get_data(as_text=True)
    assert "ユーザーを追加" not in users and "/edit" not in users and "パスワード再発行" not in users
    assert "権限セットを作成" not in viewer.get("/mama/permissions").get_data(as_text=True)
    scope = viewer.get(f"/mama/scopes/{get_user_id(app, 'admin')}").get_data(as_text=True)
    assert "scope-mode-save" not in scope and "管理組合を追加" not in scope


def get_user_id(app, login_id: str) -> int:
    """The id of a user of mama1."""
    with in_tenant(app, "mama1"):
        return get_user(login_id).id


def test_edit_level_sees_edit_but_not_delete(app, make_tenant, add_user):
    _, editor = _user_with(app, make_tenant, add_user, {"mama.associations": "edit"}, role="general")
    association_id = _association(app)
    show = editor.get(f"/mama/associations/{association_id}").get_data(as_text=True)
    assert 'data-testid="edit"' in show and 'data-testid="delete"' not in show
    response = post_form(editor, f"/mama/associations/{association_id}/edit", {
        "code": "A00001", "name": "名前を変えた管理組合", "name_kana": "ナマエ", "postal_code": "160-0023",
        "prefecture": "東京都", "city": "新宿区", "address_line": "1-2-3", "units": "30", "building_year": "2001",
        "fiscal_start_month": "4"})
    assert response.status_code == 302
    assert "名前を変えた管理組合" in editor.get(f"/mama/associations/{association_id}").get_data(as_text=True)


def test_grid_saves_levels_with_implications_and_shows_them(app, make_tenant):
    _, admin = admin_client(app, make_tenant)
    response = post_form(admin, "/mama/permissions/new?role=admin", {
        "name": "端末担当", "level-mama.devices": ["delete"], "level-mama.users": ["view"],
        "level-mama.scopes": ["delete", "edit"]})  # 物件参照権限 has no 削除: edit is what is kept
    assert response.status_code == 302
    with in_tenant(app, "mama1"):
        saved = db.session.execute(sa.select(MamaPermissionSet)).scalar_one()
        assert saved.levels == {"mama.devices": "delete", "mama.users": "view", "mama.scopes": "edit"}
        set_id = saved.id
    grid = admin.get(f"/mama/permissions/{set_id}/edit").get_data(as_text=True)
    for level in ("view", "edit", "delete"):  # 削除 ⇒ 編集 ⇒ 閲覧: all three ticked
        assert f'data-testid="grant-mama.devices-{level}"\n            aria-label="端末管理の' in grid
    tick = 'data-testid="grant-mama.users-{}"\n            aria-label="ユーザーマスタの{}" checked'
    assert tick.format("view", "閲覧") in grid and tick.format("edit", "編集") not in grid
    assert 'grant-mama.scopes-delete' not in grid
    matrix = admin.get("/mama/permissions?role=admin").get_data(as_text=True)
    assert "閲覧・編集・削除" in matrix and "閲覧" in matrix
    assert ("mama.permission_set.create", "success", f"permission_set:{set_id}") in audit_actions(app, "mama1")


def test_a_set_that_grants_nothing_is_saved_with_a_warning(app, make_tenant):
    _, admin = admin_client(app, make_tenant)
    response = post_form(admin, "/mama/permissions/new?role=general", {"name": "空のセット"})
    assert response.status_code == 302
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "「空のセット」ではどのメニューも使えません" in page
    with in_tenant(app, "mama1"):
        assert db.session.execute(sa.select(MamaPermissionSet.name)).scalar_one() == "空のセット"


def test_admin_without_a_set_has_every_level(app, make_tenant):
    _, admin = admin_client(app, make_tenant)
    association_id = _association(app)
    show = admin.get(f"/mama/associations/{association_id}").get_data(as_text=True)
    assert 'data-testid="edit"' in show and 'data-testid="delete"' in show
    assert admin.get(f"/mama/associations/{association_id}/delete").status_code == 200


def test_a_set_cannot_take_the_last_admins_user_edit_level(app, make_tenant):
    _, admin = admin_client(app, make_tenant)
    set_id = _set_for(app, "admin", "管理者セット", "admin", {"mama.users": "delete", "mama.permissions": "delete"})
    response = post_form(admin, f"/mama/permissions/{set_id}/edit", {
        "name": "管理者セット", "level-mama.users": ["view"], "level-mama.permissions": ["delete"]})
    assert response.status_code == 422 and "管理者が一人もいなくなる" in response.get_data(as_text=True)


def test_migration_keeps_every_listed_menu_at_full_level(base_config, scratch_url):  # noqa: F811
    application = create_app({**base_config, "SQLALCHEMY_DATABASE_URI": scratch_url,
                              "KANRI_PLUGINS": PRODUCTION_PLUGINS})
    now = datetime.now(UTC)
    try:
        with application.app_context():
            flask_migrate.upgrade(revision="0014_trash_and_search")
            with db.engine.begin() as connection:
                tenant_id = connection.execute(sa.text(
                    "INSERT INTO tenants (code, name, product, contract_start, contract_end, status, created_at) "
                    "VALUES ('mig', 'mig 株式会社', 'mama', :start, :end, 'active', :now) RETURNING id"),
                    {"start": date(2026, 1, 1), "end": date(2099, 12, 31), "now": now}).scalar_one()
                for name, menus in (("全部", ["mama.associations", "mama.scopes", "mama.users"]), ("空", [])):
                    connection.execute(sa.text(
                        "INSERT INTO mama_permission_sets (tenant_id, name, role, menus_json, created_at, updated_at) "
                        "VALUES (:t, :n, 'admin', :m, :now, :now)"), {"t": tenant_id, "n": name,
                                                                     "m": json.dumps(menus), "now": now})
            db.session.remove()
            flask_migrate.upgrade()
            grants = db.session.execute(sa.text(
                "SELECT s.name, g.menu_id, g.level, g.tenant_id FROM mama_permission_grants g "
                "JOIN mama_permission_sets s ON s.id = g.permission_set_id ORDER BY g.menu_id")).all()
            assert [tuple(row) for row in grants] == [("全部", "mama.associations", "delete", tenant_id),
                                                     ("全部", "mama.scopes", "edit", tenant_id),
                                                     ("全部", "mama.users", "delete", tenant_id)]
            db.session.remove()
            flask_migrate.downgrade(revision="0014_trash_and_search")
            back = dict(db.session.execute(sa.text("SELECT name, menus_json FROM mama_permission_sets")).all())
            assert {name: json.loads(value) for name, value in back.items()} == {
                "全部": ["mama.associations", "mama.scopes", "mama.users"], "空": []}
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("level", ["view", "edit"])
def test_forged_delete_of_a_permission_set_is_refused(app, make_tenant, add_user, level):
    _, client = _user_with(app, make_tenant, add_user, {"mama.permissions": level})
    with in_tenant(app, "mama1"):
        set_id = db.session.execute(sa.select(MamaPermissionSet.id)).scalar_one()
    response = post_form(client, "/mama/permissions", {"confirmed": "yes"}, action=f"/mama/permissions/{set_id}/delete")
    assert response.status_code == 403
    with in_tenant(app, "mama1"):
        assert db.session.get(MamaPermissionSet, set_id) is not None
