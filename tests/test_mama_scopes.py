"""物件参照権限登録: lists, details, search, counts and CSV respect the user's scope; outside → 404."""
from __future__ import annotations

import random

import sqlalchemy as sa

from app.extensions import db
from plugins.mama.cli import sample_association
from plugins.mama.models import MamaAssociation, MamaUserAssociation
from tests.conftest import csrf_from, post_form
from tests.mama_helpers import admin_client, audit_actions, get_user, home_count, in_tenant, login_with_code


def _seed(app, code, count=6):
    rng = random.Random(2)
    with in_tenant(app, code):
        rows = [sample_association(n, rng) for n in range(1, count + 1)]
        db.session.add_all(rows)
        db.session.commit()
        return {row.code: row.id for row in rows}


def _grant(admin, app, login_id, ids, code="mama1"):
    with in_tenant(app, code):
        uid = get_user(login_id).id
    page = admin.get(f"/mama/scopes/{uid}?q=A")
    return admin.post(f"/mama/scopes/{uid}/add", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                        "association_id": [str(i) for i in ids]})


def _staff(app, make_tenant, add_user):
    _, admin = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    ids = _seed(app, "mama1")
    staff = app.test_client()
    login_with_code(staff, app, "mama1", "staff")
    return admin, staff, ids


def test_new_general_user_sees_no_association_until_granted(app, make_tenant, add_user):
    admin, staff, ids = _staff(app, make_tenant, add_user)
    page = staff.get("/mama/associations").get_data(as_text=True)
    assert "0 件" in page and "A00001" not in page
    assert home_count(staff, "参照できる管理組合") == 0
    assert staff.get(f"/mama/associations/{ids['A00001']}").status_code == 404


def test_selected_scope_applies_to_list_search_count_detail_and_csv(app, make_tenant, add_user):
    admin, staff, ids = _staff(app, make_tenant, add_user)
    assert _grant(admin, app, "staff", [ids["A00001"], ids["A00002"]]).status_code == 302
    page = staff.get("/mama/associations").get_data(as_text=True)
    assert "2 件" in page and "A00001" in page and "A00002" in page and "A00003" not in page
    assert "A00003" not in staff.get("/mama/associations?q=A0000").get_data(as_text=True)
    assert home_count(staff, "参照できる管理組合") == 2
    csv_text = staff.get("/mama/associations/export.csv").get_data().decode("utf-8-sig")
    assert "A00001" in csv_text and "A00003" not in csv_text
    assert staff.get(f"/mama/associations/{ids['A00001']}").status_code == 200
    outside = ids["A00003"]
    assert staff.get(f"/mama/associations/{outside}").status_code == 404
    assert staff.get(f"/mama/associations/{outside}/edit").status_code == 404
    token = csrf_from(staff.get("/mama/associations").get_data(as_text=True))
    assert staff.post(f"/mama/associations/{outside}/edit", data={"csrf_token": token, "name": "x"}).status_code == 404
    assert staff.post(f"/mama/associations/{outside}/delete", data={"csrf_token": token}).status_code == 404
    with in_tenant(app, "mama1"):
        assert db.session.get(MamaAssociation, outside) is not None


def test_scope_all_shows_everything_and_back(app, make_tenant, add_user):
    admin, staff, ids = _staff(app, make_tenant, add_user)
    with in_tenant(app, "mama1"):
        uid = get_user("staff").id
    assert post_form(admin, f"/mama/scopes/{uid}", {"mode": "all"}).status_code == 302
    assert "6 件" in staff.get("/mama/associations").get_data(as_text=True)
    assert post_form(admin, f"/mama/scopes/{uid}", {"mode": "selected"}).status_code == 302
    assert "0 件" in staff.get("/mama/associations").get_data(as_text=True)
    bad = post_form(admin, f"/mama/scopes/{uid}", {"mode": "everything"})
    assert bad.status_code == 422 and "どちらかを選択してください" in bad.get_data(as_text=True)
    assert {"mama.scope.mode"} <= {a for a, _, _ in audit_actions(app, "mama1")}


def test_remove_from_scope(app, make_tenant, add_user):
    admin, staff, ids = _staff(app, make_tenant, add_user)
    _grant(admin, app, "staff", [ids["A00001"]])
    with in_tenant(app, "mama1"):
        uid = get_user("staff").id
    response = post_form(admin, f"/mama/scopes/{uid}", {"confirmed": "yes"}, action=f"/mama/scopes/{uid}/remove/{ids['A00001']}")
    assert response.status_code == 302
    assert staff.get(f"/mama/associations/{ids['A00001']}").status_code == 404
    assert {"mama.scope.add", "mama.scope.remove"} <= {a for a, _, _ in audit_actions(app, "mama1")}


def test_foreign_associations_cannot_be_added_to_a_scope(app, make_tenant, add_user):
    admin, staff, _ = _staff(app, make_tenant, add_user)
    admin_client(app, make_tenant, "mama2")
    foreign = _seed(app, "mama2", 2)
    response = _grant(admin, app, "staff", list(foreign.values()))
    assert response.status_code == 302
    with in_tenant(app, "mama1"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(MamaUserAssociation)).scalar_one() == 0
    assert staff.get(f"/mama/associations/{foreign['A00001']}").status_code == 404
    assert admin.get(f"/mama/associations/{foreign['A00001']}").status_code == 404


def test_a_scoped_user_registering_an_association_keeps_it_in_scope(app, make_tenant, add_user):
    admin, staff, _ = _staff(app, make_tenant, add_user)
    response = post_form(staff, "/mama/associations/new", {
        "code": "S1", "name": "自分の組合", "name_kana": "ジブンノクミアイ", "postal_code": "1000001",
        "prefecture": "東京都", "city": "千代田区", "address_line": "1-1", "units": "10", "building_year": "2000",
        "fiscal_start_month": "4"})
    assert response.status_code == 302
    assert "1 件" in staff.get("/mama/associations").get_data(as_text=True)


def test_scope_screens_list_users_and_search_candidates(app, make_tenant, add_user):
    admin, _, ids = _staff(app, make_tenant, add_user)
    index = admin.get("/mama/scopes").get_data(as_text=True)
    assert "staff" in index and "すべて" in index and "選択 0件" in index
    with in_tenant(app, "mama1"):
        uid = get_user("staff").id
    page = admin.get(f"/mama/scopes/{uid}?q=A00001").get_data(as_text=True)
    assert "A00001" in page.split("scope-candidates")[1]
    assert admin.get(f"/mama/scopes/{uid}?page=zz&q=" + "%" * 300).status_code == 200
    assert admin.get("/mama/scopes/999999").status_code == 404
