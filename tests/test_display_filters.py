"""Technical strings out of sight: browsers, amounts, years, counts, error references, the lock icon."""
from __future__ import annotations

import random
import re
import uuid
from decimal import Decimal

import pytest

from app.display import REFERENCE_ALPHABET, browser_label, count_unit, error_reference, year, yen
from app.extensions import db
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import admin_client, in_tenant

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


@pytest.mark.parametrize("agent,shown", [
    (CHROME, "Chrome 131 / Windows"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", "Safari 17 / iOS"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
     "Safari/537.36 Edg/130.0.2849.68", "Edge 130 / macOS"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133 / Linux"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.85 "
     "Safari/537.36", "Chrome 131 / Linux"),
    ("", "不明なブラウザ"),
    (None, "不明なブラウザ"),
    ("<script>alert(1)</script>", "不明なブラウザ"),
    ("x" * 5000, "不明なブラウザ"),
])
def test_browser_label(agent, shown):
    assert browser_label(agent) == shown


@pytest.mark.parametrize("value,shown", [
    (15000, "15,000円"), (Decimal("12000.00"), "12,000円"), ("1500000", "1,500,000円"), (0, "0円"),
    (None, "-"), ("", "-"), ("abc", "-"),
])
def test_yen(value, shown):
    assert yen(value) == shown


def test_year_and_count_have_no_separator_in_years_and_no_space():
    assert year(1998) == "1998年" and year("2,004") == "2004年" and year(None) == "-"
    assert count_unit(48, "戸") == "48戸" and count_unit(3200, "件") == "3,200件" and count_unit(None, "戸") == "-"


def test_error_reference_is_eight_readable_characters_from_the_request_id():
    ids = [uuid.uuid4().hex for _ in range(200)]
    references = [error_reference(request_id) for request_id in ids]
    assert all(len(ref) == 8 and set(ref) <= set(REFERENCE_ALPHABET) for ref in references)
    assert not set("ILOU") & set("".join(references))
    assert len(set(references)) == len(ids)
    assert error_reference(ids[0]) == error_reference(ids[0])
    assert error_reference("") == "-" and error_reference("zz-not-hex") == "-" and error_reference(None) == "-"


def test_error_page_shows_the_reference_and_the_log_has_both(client, caplog):
    caplog.set_level("INFO", logger="kanri.request")
    response = client.get("/no/such/page")
    request_id = response.headers["X-Request-ID"]
    reference = error_reference(request_id)
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and f"<code>{reference}</code>" in html and request_id not in html
    assert any(request_id in record.getMessage() and f'"ref": "{reference}"' in record.getMessage()
               for record in caplog.records)


def test_mama_association_shows_units_and_year_without_stray_spaces(app, make_tenant):
    from plugins.mama.cli import sample_association

    info, client = admin_client(app, make_tenant)
    with in_tenant(app, info.code):
        association = sample_association(1, random.Random(1))
        association.units, association.building_year = 48, 1998
        db.session.add(association)
        db.session.commit()
        association_id = association.id
    page = client.get(f"/mama/associations/{association_id}").get_data(as_text=True)
    assert "<dd>48戸</dd>" in page and "<dd>1998年</dd>" in page and "1,998" not in page
    listing = client.get("/mama/associations").get_data(as_text=True)
    assert ">48戸<" in listing and ">1998年<" in listing


def test_encrypted_fields_carry_a_lock_not_a_heading(app, make_tenant, outbox):
    _, client = admin_client(app, make_tenant)
    form = client.get("/mama/associations/new").get_data(as_text=True)
    assert "<h2>担当者</h2>" in form and "（暗号化して保存します）" not in form
    lock = re.search(r'<span class="encrypted" title="暗号化して保存します" data-testid="encrypted-contact_name">', form)
    assert lock and '<span class="visually-hidden">暗号化して保存します</span>' in form

    make_tenant("juchoco", product="jucho")
    jucho = app.test_client()
    jucho_login(jucho, outbox, "juchoco", "admin")
    form = jucho.get("/jucho/associations/new").get_data(as_text=True)
    assert 'data-testid="encrypted-contact_person"' in form and "暗号化して保存します。</p>" not in form


def test_session_and_history_pages_show_the_browser_not_the_header(app, make_tenant):
    from tests.mama_helpers import login_with_code, mama_tenant

    info = mama_tenant(make_tenant)
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = CHROME
    login_with_code(client, app, info.code, "admin")
    for url in ("/account/sessions", "/account/login-history", "/admin/oplog"):
        html = client.get(url).get_data(as_text=True)
        text = re.sub(r'title="[^"]*"', "", html)
        assert "Chrome 131 / Windows" in text, url
        assert "Mozilla/5.0" not in text, url
