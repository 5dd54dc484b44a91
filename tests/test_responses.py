"""Security headers, CSRF, error pages with support id, no inline script."""
import re
from pathlib import Path

import pytest

from app.display import error_reference
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[1]


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "no-store" in headers["Cache-Control"]
    assert "Server" not in headers or "/" not in headers["Server"]


def test_authenticated_pages_are_not_cached(client, make_tenant):
    make_tenant("acme")
    login(client, "acme", "admin")
    for url in ("/", "/account/sessions", "/account/password", "/sample/notes"):
        assert "no-store" in client.get(url).headers["Cache-Control"], url


def test_hsts_only_over_tls(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://kanri.example")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]


def test_csrf_is_required_on_login(client, make_tenant):
    make_tenant("acme")
    response = client.post("/login", data={"company_code": "acme", "login_id": "admin", "password": "x"})
    assert response.status_code == 400
    assert "不正な送信" in response.get_data(as_text=True)


@pytest.mark.parametrize("status,url,text", [
    (404, "/no/such/page", "ページが見つかりません"),
    (405, "/logout", "この操作はできません"),
])
def test_japanese_error_pages_carry_the_request_id(client, status, url, text):
    response = client.get(url)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert text in html
    assert error_reference(response.headers["X-Request-ID"]) in html


def test_500_is_generic_with_support_id_and_no_trace(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "システムエラーが発生しました" in html and error_reference(response.headers["X-Request-ID"]) in html
    assert "secret internals" not in html and "Traceback" not in html


def test_403_page_is_japanese(app, client):
    from flask import abort

    @app.route("/forbidden")
    def forbidden():
        abort(403)

    assert "アクセスできません" in client.get("/forbidden").get_data(as_text=True)


@pytest.mark.config(RATELIMIT_ENABLED=True, KANRI_LOGIN_RATE_LIMIT="3 per minute")
def test_429_page_is_japanese(client, auth):
    for _ in range(3):
        auth.post_form(client, "/login", {"company_code": "x", "login_id": "y", "password": "z"})
    response = auth.post_form(client, "/login", {"company_code": "x", "login_id": "y", "password": "z"})
    assert response.status_code == 429
    assert "しばらくお待ちください" in response.get_data(as_text=True)


def test_templates_carry_no_inline_script_or_style():
    offenders = []
    for path in list(ROOT.glob("templates/**/*.html")) + list(ROOT.glob("plugins/**/templates/**/*.html")):
        if "/email/" in str(path):
            continue  # e-mail bodies are not served under the CSP
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or "<style" in text \
                or re.search(r"\sstyle=", text) or re.search(r"\son[a-z]+=", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_a_unique_clash_at_save_time_is_a_japanese_409_not_a_500(app, client, make_tenant):
    """Two people saving the same unique value at once: the loser sees a clear page, nothing half-saved."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Tenant

    make_tenant("acme")

    @app.route("/_test/clash", methods=["GET"])
    def clash():
        db.session.add(Tenant(code="acme", name="dup", product="sample", contract_start=Tenant.query.first().contract_start,
                              contract_end=Tenant.query.first().contract_end))
        db.session.commit()
        return "saved"

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/_test/clash")
    assert response.status_code == 409
    assert "他の操作と同時に保存されたため" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Tenant)).scalar_one() == 1
