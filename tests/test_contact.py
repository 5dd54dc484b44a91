"""お問い合わせ: KANRI_SUPPORT_CONTACT and the products' support hours, linked from every page's footer and
from every error page (not from the bare page for a refused Host)."""
from __future__ import annotations

import pytest
from flask import abort

from app import create_app
from app.config import ConfigError
from app.errors import render_error
from tests.conftest import login
from tests.mama_helpers import login_with_code, mama_tenant

MAMA_HOURS = "平日 9:00〜18:00（土日祝日・年末年始を除く）"
JUCHO_HOURS = "平日 9:30〜17:30（土日祝日・年末年始を除く）"


def test_anonymous_contact_page_shows_the_desk_and_every_products_hours(client):
    response = client.get("/contact")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    desk = html.split('data-testid="support-contact"')[1].split("</address>")[0]
    assert "kanri サポートデスク<br>support@kanri-test.example.jp<br>03-1234-5678" in desk
    hours = html.split('data-testid="support-hours"')[1].split("</dl>")[0]
    assert f"<dt>MAMAシステム</dt><dd>{MAMA_HOURS}</dd>" in hours
    assert f"<dt>重調@CITY</dt><dd>{JUCHO_HOURS}</dd>" in hours


def test_logged_in_user_sees_their_products_hours_only(app, client, make_tenant):
    mama = mama_tenant(make_tenant, "mama1")
    login_with_code(client, app, mama.code, "admin")
    html = client.get("/contact").get_data(as_text=True)
    assert MAMA_HOURS in html and JUCHO_HOURS not in html and "重調@CITY" not in html


@pytest.mark.config(KANRI_SUPPORT_CONTACT="help@kanri.example.jp\\n0120-000-000 <b>")
def test_a_written_newline_separates_lines_and_the_text_is_escaped(client):
    html = client.get("/contact").get_data(as_text=True)
    assert "help@kanri.example.jp<br>0120-000-000 &lt;b&gt;" in html


def test_every_page_footer_links_to_contact(app, client, make_tenant):
    for url in ("/login", "/faq/mama", "/contact"):
        assert 'data-testid="footer-contact"' in client.get(url).get_data(as_text=True)
    make_tenant("acme")
    login(client, "acme", "admin")
    assert 'href="/contact" data-testid="footer-contact"' in client.get("/").get_data(as_text=True)


def test_error_pages_link_to_contact(app, client, make_tenant):
    not_found = client.get("/no/such/page")
    assert not_found.status_code == 404 and 'data-testid="error-contact"' in not_found.get_data(as_text=True)
    make_tenant("acme")
    bad_csrf = client.post("/login", data={"csrf_token": "forged", "company_code": "acme"})
    assert bad_csrf.status_code == 400 and 'data-testid="error-contact"' in bad_csrf.get_data(as_text=True)
    with app.test_request_context("/"):
        for status in (409, 500, 403, 429):
            html, code = render_error(status)
            assert code == status and 'data-testid="error-contact"' in html and 'href="/contact"' in html


def test_an_unexpected_error_page_links_to_contact(base_config):
    app = create_app({**base_config, "PROPAGATE_EXCEPTIONS": False, "TESTING": False})

    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    @app.route("/bad")
    def bad():
        abort(400)

    client = app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500 and 'data-testid="error-contact"' in response.get_data(as_text=True)
    assert "boom" not in response.get_data(as_text=True)
    assert 'data-testid="error-contact"' in client.get("/bad").get_data(as_text=True)


def test_maintenance_screen_links_to_contact_which_stays_open(app, client, runner):
    result = runner.invoke(args=["maintenance", "on", "--message", "更新中です。", "--operator", "ops"])
    assert result.exit_code == 0, result.output
    screen = client.get("/login")
    assert screen.status_code == 503
    assert 'href="/contact" data-testid="maintenance-contact"' in screen.get_data(as_text=True)
    contact = client.get("/contact")
    assert contact.status_code == 200 and "support@kanri-test.example.jp" in contact.get_data(as_text=True)
    assert client.get("/faq/mama").status_code == 503


def test_the_bare_page_for_a_refused_host_builds_no_link(client):
    response = client.get("/contact", headers={"Host": "evil.example"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "href" not in html and "お問い合わせ番号" in html


def _production(base_config, tmp_path, **overrides):
    return {**base_config, "KANRI_ENV": "production", "DEBUG": False, "KANRI_BASE_URL": "https://kanri.example.jp",
            "SECRET_KEY": "p" * 12 + "-a-long-random-production-secret-value", **overrides}


@pytest.mark.parametrize("value", ["", "   ", "support@example.invalid", None])
def test_production_refuses_to_start_without_a_support_contact(base_config, tmp_path, value):
    with pytest.raises(ConfigError) as error:
        create_app(_production(base_config, tmp_path, KANRI_SUPPORT_CONTACT=value))
    assert "KANRI_SUPPORT_CONTACT" in str(error.value) and "\n" not in str(error.value)


def test_development_has_a_default_contact(monkeypatch, tmp_path):
    from app.config import from_environment

    monkeypatch.delenv("KANRI_SUPPORT_CONTACT", raising=False)
    monkeypatch.setenv("KANRI_ENV", "development")
    assert from_environment(str(tmp_path))["KANRI_SUPPORT_CONTACT"] == "support@example.invalid"
    monkeypatch.setenv("KANRI_ENV", "production")
    assert from_environment(str(tmp_path))["KANRI_SUPPORT_CONTACT"] == ""
