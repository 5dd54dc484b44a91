"""郵便番号 → 住所: the table shipped in a package (no network), the logged-in, rate-limited JSON endpoint, the form
markup the static script fills, and the postcode validator both products share."""
from __future__ import annotations

import pytest
from wtforms import Form, StringField

from app.address import POSTAL_MESSAGE, lookup_postcode, postal_code, postal_digits
from tests.mama_helpers import admin_client


@pytest.mark.parametrize("typed, digits", [
    ("160-0023", "1600023"), ("１６０－００２３", "1600023"), ("〒160 0023", "1600023"), ("1600023", "1600023"),
    ("160-002", None), ("abcdefg", None), ("", None), (None, None),
])
def test_postal_digits(typed, digits):
    assert postal_digits(typed) == digits


def test_lookup_fills_prefecture_city_and_a_unique_town():
    match = lookup_postcode("160-0023")
    assert (match.prefecture, match.city, match.town) == ("東京都", "新宿区", "西新宿")


def test_a_code_for_several_towns_leaves_the_town_empty():
    match = lookup_postcode("068-0546")  # 夕張市 南部青葉町 and 南部菊水町 share it
    assert (match.prefecture, match.city, match.town) == ("北海道", "夕張市", "")


def test_a_code_for_several_cities_gives_the_prefecture_only():
    match = lookup_postcode("004-0000")  # 札幌市厚別区 and 札幌市清田区
    assert (match.prefecture, match.city, match.town) == ("北海道", "", "")


def test_an_unknown_code_is_none():
    assert lookup_postcode("000-0000") is None


class _Form(Form):
    code = StringField(validators=[postal_code])


@pytest.mark.parametrize("typed, stored", [("1600023", "160-0023"), ("１６０ー００２３", "160-0023"), ("", "")])
def test_postal_validator_stores_the_usual_form(typed, stored):
    form = _Form(data={"code": typed})
    assert form.validate() and form.code.data == stored


def test_postal_validator_explains_a_bad_code():
    form = _Form(data={"code": "16-23"})
    assert not form.validate() and form.code.errors == [POSTAL_MESSAGE]


def test_endpoint_answers_a_logged_in_user(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    response = client.get("/postcode/1600023")
    assert response.status_code == 200 and response.is_json
    assert response.get_json() == {"prefecture": "東京都", "city": "新宿区", "town": "西新宿"}
    assert response.headers["Cache-Control"] == "no-store"
    unknown = client.get("/postcode/0000000")
    assert unknown.status_code == 404 and "見つかりません" in unknown.get_json()["error"]
    for bad in ("160-002", "abc", "1" * 40, "%00"):
        answer = client.get(f"/postcode/{bad}")
        assert answer.status_code in (400, 404) and "<html" not in answer.get_data(as_text=True).lower(), bad


def test_endpoint_refuses_anonymous_visitors(client):
    response = client.get("/postcode/1600023")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "東京都" not in response.get_data(as_text=True)


@pytest.mark.config(RATELIMIT_ENABLED=True, KANRI_POSTCODE_RATE_LIMIT="3 per minute")
def test_endpoint_is_rate_limited_per_user(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    assert [client.get("/postcode/1600023").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_forms_mark_the_inputs_the_script_fills_and_the_script_is_allowed(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    html = client.get("/mama/associations/new").get_data(as_text=True)
    assert 'data-postcode=""' in html and 'data-address="prefecture"' in html
    assert 'data-address="city"' in html and 'data-address="town"' in html
    assert '<script src="/static/kanri.js" data-postcode-url="/postcode/0000000"></script>' in html
    script = client.get("/static/kanri.js")
    assert script.status_code == 200 and "data-postcode" in script.get_data(as_text=True)
    assert "script-src 'self'" in client.get("/mama/associations/new").headers["Content-Security-Policy"]
    assert "<script>" not in html  # no inline script
