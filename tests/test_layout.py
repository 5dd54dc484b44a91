"""The logged-in frame: header with tenant, product, user and logout; navigation and dashboard from plugins."""
from tests.conftest import login


def test_dashboard_shows_header_navigation_and_panels(client, make_tenant):
    make_tenant("acme")
    response = login(client, "acme", "admin")
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "acme 株式会社" in html  # tenant
    assert "サンプル製品" in html  # product
    assert "管理 太郎（管理者）" in html  # user and role
    assert 'action="/logout"' in html and 'data-testid="logout"' in html
    assert 'href="/sample/notes"' in html and "サンプルノート" in html  # plugin menu link
    assert "パスワード変更" in html and "ログイン中のセッション" in html  # built-in account plugin
    assert "サンプルのお知らせ" in html  # plugin dashboard panel
    assert html.startswith("<!doctype html>") and '<html lang="ja">' in html


def test_login_page_has_no_header_navigation(client):
    html = client.get("/login").get_data(as_text=True)
    assert "site-nav" not in html and "ログアウト" not in html


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_each_product_brings_its_own_stylesheet(app, client, make_tenant, outbox):
    """Product styles live in the product's static folder; the core stylesheet names no product."""
    from tests.jucho_helpers import jucho_login
    from tests.mama_helpers import admin_client

    _, mama = admin_client(app, make_tenant)
    html = mama.get("/mama/users").get_data(as_text=True)
    assert 'href="/mama/static/mama.css"' in html and "jucho.css" not in html
    css = mama.get("/mama/static/mama.css")
    assert css.status_code == 200 and "table.data.mama-list" in css.get_data(as_text=True)

    make_tenant("juchoco", product="jucho")
    jucho_login(client, outbox, "juchoco", "admin")
    html = client.get("/jucho/buildings").get_data(as_text=True)
    assert 'href="/jucho/static/jucho.css"' in html and "mama.css" not in html
    assert "table.data.jucho-list" in client.get("/jucho/static/jucho.css").get_data(as_text=True)

    core = client.get("/static/kanri.css").get_data(as_text=True)
    assert "mama" not in core.lower() and "jucho" not in core.lower() and "重調" not in core
