from tests.conftest import login


def test_login_reaches_dashboard(client, make_tenant):
    make_tenant("acme")
    response = login(client, "acme", "admin")
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "acme 株式会社" in html
    assert "サンプルノート" in html
