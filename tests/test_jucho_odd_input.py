"""Odd input never causes a 500 (SQLite and PostgreSQL): huge ids, NUL and control characters."""
from __future__ import annotations

import pytest

from tests.conftest import post_form
from tests.jucho_helpers import jucho_login
from tests.test_jucho_properties import ASSOCIATION, BUILDING, create_association, create_building

HUGE = "99999999999999999999"


@pytest.fixture
def admin(client, outbox, make_tenant):
    """The admin of 重調@CITY tenant 'juchoco', logged in."""
    make_tenant("juchoco", product="jucho")
    jucho_login(client, outbox, "juchoco", "admin")
    return client


@pytest.mark.parametrize("path", [
    f"/jucho/associations/{HUGE}/edit", f"/jucho/associations/{HUGE}/delete", f"/jucho/buildings/{HUGE}/edit",
    f"/jucho/buildings/{HUGE}/delete", f"/jucho/staff/{HUGE}/edit", "/jucho/associations/2147483648/edit",
    "/jucho/associations/0/edit",
])
def test_impossible_ids_are_not_found(admin, path):
    assert admin.get(path).status_code == 404


@pytest.mark.parametrize("action", ["suspend", "resume", "reset-password"])
def test_impossible_staff_ids_are_not_found_on_post(admin, action):
    response = post_form(admin, "/jucho/staff", {}, action=f"/jucho/staff/{HUGE}/{action}")
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/jucho/associations?q=%00", "/jucho/buildings?q=a%00b", "/jucho/staff?q=%00",
                                  "/jucho/buildings?q=%0D%0A%E2%80%A8"])
def test_control_characters_in_a_search_are_ignored(admin, path):
    assert admin.get(path).status_code == 200


@pytest.mark.parametrize("field", ["name", "kana", "contact_person", "contact_phone", "notes"])
def test_control_characters_in_an_association_get_a_japanese_message(admin, field):
    response = post_form(admin, "/jucho/associations/new", {**ASSOCIATION, field: "管理\x00組合"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "使用できない文字" in html or "カタカナ" in html or "電話番号" in html
    assert "yamada@kanri-co.example.jp" in html  # what was typed stays on the form


def test_line_breaks_are_fine_in_notes_but_not_in_a_name(admin):
    assert create_association(admin, notes="1行目\r\n2行目\t続き")
    response = post_form(admin, "/jucho/associations/new", {**ASSOCIATION, "name": "一行\r\n二行"})
    assert response.status_code == 200 and "使用できない文字" in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["name", "city", "address_line", "building_name", "other_fees", "planned_repair",
                                   "notes"])
def test_control_characters_in_a_building_get_a_japanese_message(admin, field):
    association = create_association(admin)
    building = create_building(admin, association)
    response = post_form(admin, f"/jucho/buildings/{building}/edit",
                         {**BUILDING, "association_id": str(association), field: "x\x00y"})
    assert response.status_code == 200 and "使用できない文字" in response.get_data(as_text=True)
    assert "x\x00y" not in admin.get(f"/jucho/buildings/{building}/edit").get_data(as_text=True)


@pytest.mark.parametrize("field", ["name", "email", "login_id"])
def test_control_characters_in_staff_registration_get_a_message(admin, outbox, field):
    data = {"name": "鈴木 一郎", "email": "ichiro@example.co.jp", "login_id": "ichiro", "role": "general"}
    response = post_form(admin, "/jucho/staff/new", {**data, field: data[field] + "\x00"})
    assert response.status_code == 200
    assert not [m for m in outbox if "ichiro" in ",".join(m.recipients)]


def test_control_characters_in_the_forgot_form_get_a_message(client, make_tenant):
    make_tenant("juchoco", product="jucho")
    response = post_form(client, "/jucho/password/forgot", {"company_code": "jucho\x00co", "identifier": "admin"})
    assert response.status_code == 200 and "使用できない文字" in response.get_data(as_text=True)
