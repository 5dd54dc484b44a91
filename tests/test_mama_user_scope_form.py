"""物件参照権限 on the user form: chosen with the user in one transaction, audited; 「0 件」 explains why and who."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from plugins.mama.models import MamaAssociation, MamaPermissionSet, MamaUserAssociation, MamaUserSettings
from tests.conftest import post_form
from tests.mama_helpers import admin_client, audit_details, get_user, in_tenant, login_with_code


def _associations(app, code: str = "mama1", count: int = 3) -> list[int]:
    with in_tenant(app, code):
        rows = [MamaAssociation(code=f"{code[-1]}{n:05d}", name=f"{code}の管理組合{n}", name_kana="カンリクミアイ",
                                postal_code="160-0023", prefecture="東京都", city="新宿区", address_line="1-2-3",
                                units=30, building_year=2001, fiscal_start_month=4) for n in range(count)]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def _scope(app, login_id: str, code: str = "mama1") -> tuple[bool, list[str]]:
    with in_tenant(app, code):
        user = get_user(login_id)
        settings = db.session.execute(sa.select(MamaUserSettings).where(MamaUserSettings.user_id == user.id)).scalar_one()
        codes = db.session.execute(sa.select(MamaAssociation.code).join(
            MamaUserAssociation, MamaUserAssociation.association_id == MamaAssociation.id)
            .where(MamaUserAssociation.user_id == user.id).order_by(MamaAssociation.code)).scalars().all()
        return settings.scope_all, list(codes)


NEW_USER = {"login_id": "tanaka", "name": "田中 一郎", "email": "tanaka@example.jp", "role": "general",
            "permission_set": "0", "password_mode": "generate"}


def test_new_user_gets_the_chosen_associations(app, make_tenant):
    _, admin = admin_client(app, make_tenant)
    ids = _associations(app)
    form = admin.get("/mama/users/new").get_data(as_text=True)
    assert 'data-testid="scope-fieldset"' in form and "mama1の管理組合1" in form and "scope_filter.js" in form
    response = post_form(admin, "/mama/users/new", {**NEW_USER, "scope_mode": "selected",
                                                    "scope_associations": [str(ids[0]), str(ids[2])]})
    assert response.status_code == 200
    assert _scope(app, "tanaka") == (False, ["100000", "100002"])
    [detail] = audit_details(app, "mama1", "mama.scope.set")
    assert detail["after"] == {"scope_all": False, "associations": ["100000", "100002"]}


def test_edit_switches_to_all_and_back(app, make_tenant, add_user):
    _, admin = admin_client(app, make_tenant)
    ids = _associations(app)
    add_user("mama1", "staff")
    user_id = _user_id(app, "staff")
    base = {"name": "staff さん", "email": "staff@mama1.example.jp", "role": "general", "permission_set": "0",
            "status": "active"}
    assert post_form(admin, f"/mama/users/{user_id}/edit", {**base, "scope_mode": "all"}).status_code == 302
    assert _scope(app, "staff") == (True, [])
    edit = admin.get(f"/mama/users/{user_id}/edit").get_data(as_text=True)
    assert '<input checked id="scope_mode-0" name="scope_mode" type="radio" value="all">' in edit
    assert post_form(admin, f"/mama/users/{user_id}/edit", {**base, "scope_mode": "selected",
                                                            "scope_associations": [str(ids[1])]}).status_code == 302
    assert _scope(app, "staff") == (False, ["100001"])
    staff = app.test_client()
    login_with_code(staff, app, "mama1", "staff")
    page = staff.get("/mama/associations").get_data(as_text=True)
    assert "mama1の管理組合1" in page and "mama1の管理組合0" not in page and "mama1の管理組合2" not in page
    # a post without the scope fields leaves the scope as it was
    assert post_form(admin, f"/mama/users/{user_id}/edit", base).status_code == 302
    assert _scope(app, "staff") == (False, ["100001"])
    assert len(audit_details(app, "mama1", "mama.scope.set")) == 2


def _user_id(app, login_id: str, code: str = "mama1") -> int:
    with in_tenant(app, code):
        return get_user(login_id).id


def test_another_tenants_association_cannot_be_chosen(app, make_tenant):
    _, admin = admin_client(app, make_tenant)
    admin_client(app, make_tenant, "mama2")
    foreign = _associations(app, "mama2", 1)
    mine = _associations(app, "mama1", 1)
    response = post_form(admin, "/mama/users/new", {**NEW_USER, "scope_mode": "selected",
                                                    "scope_associations": [str(foreign[0]), str(mine[0])]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "一覧から選択してください" in html and "mama2の管理組合" not in html
    with in_tenant(app, "mama1"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(MamaUserAssociation)).scalar_one() == 0
    bad = post_form(admin, "/mama/users/new", {**NEW_USER, "scope_mode": "everything", "scope_associations": ["x"]})
    assert bad.status_code == 422 and "どちらかを選択してください" in bad.get_data(as_text=True)


def test_a_failed_save_changes_no_scope(app, make_tenant, add_user):
    _, admin = admin_client(app, make_tenant)
    ids = _associations(app)
    add_user("mama1", "staff")
    response = post_form(admin, "/mama/users/new", {**NEW_USER, "login_id": "staff", "scope_mode": "selected",
                                                    "scope_associations": [str(ids[0])]})
    assert response.status_code == 422 and "既に使われています" in response.get_data(as_text=True)
    assert _scope(app, "staff") == (False, [])


def test_new_general_user_sees_why_nothing_and_which_admins_can_change_it(app, make_tenant, add_user):
    admin_client(app, make_tenant)
    _associations(app)
    add_user("mama1", "boss2", role="admin")
    add_user("mama1", "staff")
    with in_tenant(app, "mama1"):  # boss2 may not set scopes: not named
        narrow = MamaPermissionSet(name="端末のみ", role="admin")
        narrow.levels = {"mama.devices": "delete", "mama.scopes": "view"}
        db.session.add(narrow)
        db.session.flush()
        db.session.execute(sa.update(MamaUserSettings).where(MamaUserSettings.user_id == get_user("boss2").id)
                           .values(permission_set_id=narrow.id))
        db.session.commit()
    staff = app.test_client()
    login_with_code(staff, app, "mama1", "staff")
    for url in ("/", "/mama/associations"):
        html = staff.get(url).get_data(as_text=True)
        why = html.split('data-testid="scope-why"')[1].split("</p>")[0]
        assert "物件参照権限" in why and "まだ設定されていない" in why and "管理 太郎" in why and "boss2" not in why


def test_a_user_admin_without_scope_edit_gets_no_scope_fields(app, make_tenant, add_user):
    admin_client(app, make_tenant)
    ids = _associations(app)
    add_user("mama1", "boss2", role="admin")
    with in_tenant(app, "mama1"):
        narrow = MamaPermissionSet(name="ユーザー担当", role="admin")
        narrow.levels = {"mama.users": "edit", "mama.scopes": "view"}
        db.session.add(narrow)
        db.session.flush()
        db.session.execute(sa.update(MamaUserSettings).where(MamaUserSettings.user_id == get_user("boss2").id)
                           .values(permission_set_id=narrow.id))
        db.session.commit()
    boss = app.test_client()
    login_with_code(boss, app, "mama1", "boss2")
    form = boss.get("/mama/users/new").get_data(as_text=True)
    assert 'data-testid="scope-fieldset"' not in form and "管理 太郎 が「物件参照権限登録」で設定します" in form
    response = post_form(boss, "/mama/users/new", {**NEW_USER, "scope_mode": "all",
                                                   "scope_associations": [str(ids[0])]})
    assert response.status_code == 200
    assert _scope(app, "tanaka") == (False, [])  # the forged scope fields were ignored


def test_too_many_associations_for_a_list_points_to_the_scope_screen(app, make_tenant, monkeypatch):
    from plugins.mama import scope_choice

    _, admin = admin_client(app, make_tenant)
    _associations(app)
    monkeypatch.setattr(scope_choice, "CHOICE_LIMIT", 2)
    form = admin.get("/mama/users/new").get_data(as_text=True)
    assert "管理組合が多いため、ここでは選べません" in form and "mama1の管理組合0" not in form
    assert "scope_filter.js" not in form
    response = post_form(admin, "/mama/users/new", {**NEW_USER, "scope_mode": "all"})
    assert response.status_code == 200
    assert _scope(app, "tanaka") == (True, [])
