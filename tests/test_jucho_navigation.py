"""Every 重調@CITY screen is reachable from the navigation; the dashboard keeps a place for お知らせ."""
from __future__ import annotations

import re

from tests.jucho_helpers import jucho_login

ADMIN_MENUS = {"管理組合一覧": "/jucho/associations", "管理組合登録": "/jucho/associations/new",
               "物件一覧": "/jucho/buildings", "物件マスタ登録": "/jucho/buildings/new",
               "社員一覧": "/jucho/staff", "社員登録": "/jucho/staff/new",
               "依頼一覧": "/jucho/requests", "依頼登録（FAX等）": "/jucho/requests/new", "手数料・受付設定": "/jucho/fees"}


def _nav(html: str) -> dict[str, str]:
    nav = html.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]
    return {label: href for href, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav)}


def test_admin_navigation_reaches_every_screen(client, outbox, make_tenant):
    make_tenant("juchoco", product="jucho")
    jucho_login(client, outbox, "juchoco", "admin")
    html = client.get("/").get_data(as_text=True)
    links = _nav(html)
    for label, href in ADMIN_MENUS.items():
        assert links.get(label) == href
        assert client.get(href).status_code == 200, href
    assert "重調@CITY" in html


def test_general_staff_sees_property_and_request_menus_only(client, outbox, make_tenant, add_user):
    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "hanako")
    jucho_login(client, outbox, "juchoco", "hanako")
    links = _nav(client.get("/").get_data(as_text=True))
    assert set(links) == {"ホーム", "管理組合一覧", "管理組合登録", "物件一覧", "物件マスタ登録", "依頼一覧",
                          "依頼登録（FAX等）"}


def test_dashboard_says_honestly_that_there_are_no_notices(client, outbox, make_tenant):
    make_tenant("juchoco", product="jucho")
    jucho_login(client, outbox, "juchoco", "admin")
    html = client.get("/").get_data(as_text=True)
    assert "お知らせ" in html and "現在、お知らせはありません。" in html


def test_other_products_get_no_jucho_menus_or_counts(client, make_tenant):
    from tests.conftest import login

    make_tenant("sampleco", product="sample")
    login(client, "sampleco", "admin")
    html = client.get("/").get_data(as_text=True)
    assert "物件マスタ登録" not in html and "登録件数" not in html and "/jucho/" not in html
    assert "現在、お知らせはありません" in html  # お知らせ are the core's, on every product's ホーム
