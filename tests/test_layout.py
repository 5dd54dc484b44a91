"""The logged-in frame: header with tenant, product, user and logout; navigation and dashboard from plugins."""
from tests.conftest import login, password_step


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
    assert client.get("/healthz").get_json() == {"status": "ok", "maintenance": False}


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


def test_login_history_shows_the_users_own_sign_ins_with_japanese_labels(app, client, make_tenant, add_user):
    """audit_action_labels feeds the screens that show audit events: here the user's own ログイン履歴."""
    make_tenant("acme")
    add_user("acme", "staff")
    bad = app.test_client()
    bad.environ_base["HTTP_USER_AGENT"] = "EvilBrowser/1.0"
    assert password_step(bad, "acme", "admin", "wrong password 123").status_code == 200
    login(bad, "acme", "staff")  # another user's sign-in must not appear
    login(client, "acme", "admin")
    page = client.get("/account/login-history")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "ログイン成功" in html and "パスワード認証成功" in html
    assert "ログイン失敗（パスワードの誤り）" in html and "EvilBrowser/1.0" in html
    assert html.count("<tr>") - 1 == 3  # failure, password ok, success: staff's sign-in is not listed
    assert 'href="/account/login-history"' in html
