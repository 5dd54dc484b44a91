"""The same patterns on every page, in a real browser at 1280 px and on a 390 px phone: breadcrumbs that end with
the page, lists that are tables on a wide screen and stacked cards with their labels on a phone (MAMA 端末管理,
メニュー権限, 物件参照権限; the core 操作ログ, お知らせ, データ書き出し, account pages, マニュアル, 削除済み; 重調
住戸一覧, 物件概要の編集 and 削除済みの物件). Screenshots are kept as test artifacts."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest

from app.builtins.lifecycle import export
from app.builtins.transparency import notices
from app.extensions import db
from app.softdelete import soft_delete
from app.timeutil import utcnow
from plugins.jucho.models import JuchoAssociation, JuchoBuilding
from plugins.jucho.models_profile import JuchoRepairRecord
from plugins.jucho.models_units import JuchoUnit
from plugins.mama.cli import sample_association
from tests.browser.conftest import password_step, screenshot
from tests.browser.test_jucho_browser import _code, smtp_sink  # noqa: F401 - the fixture
from tests.browser.test_mama_browser import _password_step
from tests.mama_helpers import get_user, in_tenant, issue_code

VIEWPORTS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _check(page, url: str, crumbs: list[str], name: str, width: str, table: str | None = None) -> None:
    """Open url: the breadcrumbs read ``crumbs`` (ホーム first, this page last and not a link); a list is a table
    with its header at 1280 and cards with each cell's label at 390; nothing is wider than a phone."""
    response = page.goto(url)
    assert response.status == 200, url
    screenshot(page, f"pages-{name}-{width}")
    nav = page.locator("[data-testid=breadcrumbs]")
    assert nav.is_visible(), url
    assert [text.strip() for text in nav.locator("li").all_inner_texts()] == crumbs, url
    assert nav.locator("li").last.locator("a").count() == 0 and nav.locator("li a").first.inner_text() == "ホーム"
    if table:
        cell = page.locator(f"[data-testid={table}] tbody td[data-label]").first
        label = cell.get_attribute("data-label")
        header = page.evaluate(f"() => document.querySelector('[data-testid={table}] thead')"
                               ".getBoundingClientRect().height")
        before = page.evaluate(f"() => getComputedStyle(document.querySelector('[data-testid={table}] tbody "
                               "td[data-label]'), '::before').content")
        if width == "390":
            assert header <= 1 and before == f'"{label}"', (url, header, before)  # a card, labelled cell by cell
            assert cell.bounding_box()["width"] > 300, url
        else:
            assert header > 10 and before in ("none", "normal"), (url, header, before)  # a table with a header row
    if width == "390":
        assert page.evaluate(OVERFLOW) <= 0, url


@pytest.mark.parametrize("width", VIEWPORTS)
def test_mama_and_core_pages_have_breadcrumbs_and_cards(app, live_server, new_context, make_tenant, width):
    make_tenant("mama1", product="mama")
    with in_tenant(app, "mama1") as tenant:
        gone = sample_association(1, random.Random(1))
        gone.code, gone.name = "D0001", "旧青葉台管理組合"
        db.session.add(gone)
        db.session.flush()
        soft_delete(gone, "admin")
        notice = notices.create_notice(title="年末年始の窓口について", body="12月29日から1月3日まで休業します。",
                                       product=None, tenants=[tenant], operator="operator:test",
                                       publish_at=utcnow() - timedelta(minutes=5))
        export.request_export(tenant, get_user("admin"), "社内サーバーに保管します")
        db.session.commit()
        notice_id = notice.id
    page = new_context(viewport=VIEWPORTS[width]).new_page()
    code = issue_code(app, "mama1", "admin")
    _password_step(page, live_server, "admin")
    page.fill("#code", code)
    page.click("[data-testid=code-submit]")
    page.wait_for_url(f"{live_server}/")

    base = live_server
    _check(page, f"{base}/mama/devices", ["ホーム", "端末管理"], "mama-devices", width, table="device-users")
    assert page.locator("[data-testid=device-queue] td.empty").inner_text() == "承認待ちの申請はありません。"
    _check(page, f"{base}/mama/permissions", ["ホーム", "メニュー権限マスタ"], "mama-permissions", width)
    page.click("text=一般の権限セットを作成")
    assert page.locator("label[for=name] .required-mark").is_visible()
    page.click("button.primary")  # no name: the summary, and the grid as it was
    assert "権限セット名:" in page.inner_text("[data-testid=error-summary]")
    assert page.locator("[data-testid=breadcrumbs] li").last.inner_text() == "作成"
    screenshot(page, f"pages-mama-permission-form-{width}")
    page.click("[data-testid=cancel]")
    page.wait_for_url("**/mama/permissions?role=general")
    _check(page, f"{base}/mama/scopes", ["ホーム", "物件参照権限登録"], "mama-scopes", width, table="scope-users")
    _check(page, f"{base}/mama/associations/trash", ["ホーム", "管理組合登録", "削除済みの管理組合"], "mama-trash", width,
           table="trash-table")
    assert "旧青葉台管理組合" in page.inner_text("[data-testid=trash-table]")

    _check(page, f"{base}/admin/oplog", ["ホーム", "操作ログ"], "core-oplog", width, table="oplog")
    _check(page, f"{base}/notices", ["ホーム", "お知らせ"], "core-notices", width, table="notice-list")
    _check(page, f"{base}/notices/{notice_id}", ["ホーム", "お知らせ", "年末年始の窓口について"], "core-notice", width)
    _check(page, f"{base}/account/export", ["ホーム", "データ書き出し"], "core-export", width, table="export-history")
    _check(page, f"{base}/account/login-history", ["ホーム", "ログイン履歴"], "core-login-history", width,
           table="login-history")
    _check(page, f"{base}/account/sessions", ["ホーム", "ログイン中のセッション"], "core-sessions", width,
           table="session-table")
    _check(page, f"{base}/account/password", ["ホーム", "パスワード変更"], "core-password", width)
    assert page.locator(".required-mark").count() == 3 and page.is_visible("[data-testid=cancel]")
    _check(page, f"{base}/manual", ["ホーム", "マニュアル"], "core-manual", width)


@pytest.mark.parametrize("width", VIEWPORTS)
def test_jucho_units_profile_and_trash_have_breadcrumbs_and_cards(app, live_server, new_context, make_tenant,
                                                                  smtp_sink, width):  # noqa: F811 - the fixture
    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    with in_tenant(app, "juchoco"):
        association = JuchoAssociation(name="青葉管理組合", kana="アオバカンリクミアイ", management_form="full")
        db.session.add(association)
        db.session.flush()
        buildings = [JuchoBuilding(association_id=association.id, name=name, kana=kana, structure="RC",
                                   floors_above=12, total_units=84, management_fee_basis="unit", management_fee=15000,
                                   repair_reserve_basis="unit", repair_reserve=12000)
                     for name, kana in (("グランドメゾン青葉", "グランドメゾンアオバ"), ("青葉ハイツ", "アオバハイツ"))]
        for building in buildings:
            building.address = "東京都港区芝公園4-2-8"
        db.session.add_all(buildings)
        db.session.flush()
        db.session.add(JuchoUnit(building_id=buildings[0].id, number="305", floor=3, layout="3LDK",
                                 management_fee=15000, repair_reserve=12000))
        db.session.add(JuchoRepairRecord(building_id=buildings[0].id, kind="done", year=2019, month=10,
                                         content="第1回大規模修繕（外壁塗装・屋上防水）"))
        soft_delete(buildings[1], "admin")
        db.session.commit()
        building_id = buildings[0].id
    page = new_context(viewport=VIEWPORTS[width]).new_page()
    password_step(page, live_server, "juchoco", "admin", then="**/jucho/login/code")
    page.fill("#code", _code(smtp_sink, 1))
    page.click("button.primary")
    page.wait_for_url(f"{live_server}/")

    base = f"{live_server}/jucho"
    _check(page, f"{base}/buildings/{building_id}/units", ["ホーム", "物件一覧", "グランドメゾン青葉", "住戸一覧"],
           "jucho-units", width, table="unit-table")
    assert page.locator("[data-testid=unit-table] td[data-label='専有面積']").inner_text() == "—"  # the one empty mark
    page.click("[data-testid=unit-table] >> text=305")
    assert page.locator("[data-testid=breadcrumbs] li").last.inner_text() == "305"
    assert page.is_visible("[data-testid=cancel]")
    screenshot(page, f"pages-jucho-unit-form-{width}")
    _check(page, f"{base}/buildings/{building_id}/profile/plan",
           ["ホーム", "物件一覧", "グランドメゾン青葉", "長期修繕計画の編集"], "jucho-profile-edit", width,
           table="repair-table")
    _check(page, f"{base}/buildings/trash", ["ホーム", "物件一覧", "削除済みの物件"], "jucho-trash", width,
           table="trash-table")
    assert "青葉ハイツ" in page.inner_text("[data-testid=trash-table]")
