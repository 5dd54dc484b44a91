"""Odd input on the core's forms and URLs: a Japanese message or a 404, never a 500."""
import pytest

from tests.conftest import PASSWORD, login, password_step, post_form


@pytest.mark.parametrize("field", ["company_code", "login_id"])
def test_control_characters_in_login_form_get_a_japanese_message(client, make_tenant, field):
    make_tenant("acme")
    data = {"company_code": "acme", "login_id": "admin", "password": PASSWORD}
    data[field] = data[field] + "\x00"
    response = post_form(client, "/login", data)
    assert response.status_code == 200
    assert "使用できない文字（制御文字）が含まれています" in response.get_data(as_text=True)


def test_password_may_hold_any_character(client, make_tenant):
    """Passwords are hashed, never stored as text: they are not refused for odd characters."""
    make_tenant("acme")
    response = password_step(client, "acme", "admin", "wrong\x00password\x85here")
    assert response.status_code == 200 and "正しくありません" in response.get_data(as_text=True)


def test_very_long_inputs_are_refused_politely(client, make_tenant):
    make_tenant("acme")
    response = post_form(client, "/login", {"company_code": "a" * 5000, "login_id": "b" * 5000, "password": "c"})
    assert response.status_code == 200
    assert "32" in response.get_data(as_text=True)


@pytest.mark.parametrize("session_id", ["99999999999999999999", "2147483648", "0", "-1", "abc"])
def test_impossible_ids_in_urls_are_404(client, make_tenant, session_id):
    make_tenant("acme")
    login(client, "acme", "admin")
    response = post_form(client, "/account/sessions", {}, action=f"/account/sessions/{session_id}/end")
    assert response.status_code == 404


def test_largest_possible_id_is_still_routed(client, make_tenant):
    make_tenant("acme")
    login(client, "acme", "admin")
    response = post_form(client, "/account/sessions", {}, action="/account/sessions/2147483647/end")
    assert response.status_code == 404  # routed, no such row: the same answer, from the view
