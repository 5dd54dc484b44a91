"""One look and one voice in both products: the error summary on every form, 必須 marks from the validators,
キャンセル, a detail page after save, 「—」 for empty cells, breadcrumbs, labelled table cells for phones and the
same word for the same thing (ユーザー in MAMA, 社員 in 重調)."""
from __future__ import annotations

import re

import pytest

from app.views import blank
from tests.conftest import post_form
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import admin_client
from tests.test_jucho_properties import ASSOCIATION, BUILDING, create_association, create_building
from tests.test_jucho_staff import _user_id as jucho_user_id
from tests.test_jucho_staff import register
from tests.test_kana_search import jucho  # noqa: F401 - the fixture
from tests.test_mama_associations import GOOD
from tests.test_mama_users import _user_id as mama_user_id


@pytest.fixture
def mama(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    return client


def _labels(html: str) -> dict[str, str]:
    """label text → the label's inner HTML, for each form field."""
    return {re.sub(r"<[^>]+>.*", "", inner).strip(): inner
            for inner in re.findall(r'<label for="[^"]+">(.*?)</label>', html)}


@pytest.mark.parametrize("value, shown", [(None, "—"), ("", "—"), ("  ", "—"), (0, 0), ("0", "0"), ("x", "x")])
def test_blank_shows_a_dash_for_nothing_only(value, shown):
    assert blank(value) == shown


def test_mama_error_summary_counts_and_links_the_fields(mama):
    response = post_form(mama, "/mama/associations/new", {**GOOD, "code": "", "postal_code": "12", "units": "x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = html.split('data-testid="error-summary"')[1].split("</div>")[0]
    assert "入力内容に誤りがあります（3件）" in summary
    assert '<a href="#code">組合コード: 入力してください。</a>' in summary
    assert '<a href="#postal_code">郵便番号: 郵便番号は7桁の数字で入力してください（例: 160-0023）。</a>' in summary
    assert 'href="#units"' in summary
    assert html.count('role="alert"') == 1  # one summary, not a second product-made banner


def test_jucho_error_summary_on_building_staff_and_association_forms(jucho):  # noqa: F811
    association_id = create_association(jucho)
    building = post_form(jucho, "/jucho/buildings/new", {**BUILDING, "association_id": str(association_id),
                                                          "name": "", "prefecture": ""}).get_data(as_text=True)
    assert "入力内容に誤りがあります（2件）" in building and 'href="#name"' in building and 'href="#prefecture"' in building
    staff = register(jucho, email="bad").get_data(as_text=True)
    assert "入力内容に誤りがあります（1件）" in staff and 'href="#email"' in staff
    association = post_form(jucho, "/jucho/associations/new", {**ASSOCIATION, "name": ""}).get_data(as_text=True)
    assert "入力内容に誤りがあります（1件）" in association
    assert "入力内容に誤りがあります" not in jucho.get("/jucho/associations/new").get_data(as_text=True)


def test_required_fields_are_marked_from_the_validators(mama, jucho):  # noqa: F811
    html = mama.get("/mama/associations/new").get_data(as_text=True)
    labels = _labels(html)
    for name in ("組合コード", "管理組合名", "郵便番号", "都道府県", "市区町村", "町域・番地", "総戸数"):
        assert "必須" in labels[name], name
    for name in ("建物名", "担当者 電話番号", "備考"):
        assert "必須" not in labels[name], name
    assert re.search(r'<input[^>]*aria-required="true"[^>]*id="code"|<input[^>]*id="code"[^>]*aria-required="true"', html)
    assert not re.search(r'<input[^>]*id="building_name"[^>]*aria-required', html)
    association_id = create_association(jucho)
    building = jucho.get(f"/jucho/buildings/new?association={association_id}").get_data(as_text=True)
    labels = _labels(building)
    for name in ("物件名", "郵便番号", "都道府県", "市区町村", "町域・番地", "地上階数", "総戸数"):
        assert "必須" in labels[name], name
    assert "必須" not in labels["建物名"] and "必須" not in labels["フリガナ"]


def test_every_master_form_has_cancel_back_to_the_list_or_the_detail(mama, jucho, app):  # noqa: F811
    response = post_form(mama, "/mama/associations/new", GOOD)
    show = response.headers["Location"]
    pages = {"/mama/associations/new": "/mama/associations", f"{show}/edit": show, "/mama/users/new": "/mama/users"}
    uid = mama_user_id(app, "admin")
    pages[f"/mama/users/{uid}/edit"] = f"/mama/users/{uid}"
    for page, target in pages.items():
        html = mama.get(page).get_data(as_text=True)
        assert f'<a class="button" href="{target}" data-testid="cancel">キャンセル</a>' in html, page
    association_id = create_association(jucho)
    building_id = create_building(jucho, association_id)
    staff_id = jucho_user_id(app, "admin")
    pages = {"/jucho/associations/new": "/jucho/associations",
             f"/jucho/associations/{association_id}/edit": f"/jucho/associations/{association_id}",
             "/jucho/buildings/new": "/jucho/buildings",
             f"/jucho/buildings/{building_id}/edit": f"/jucho/buildings/{building_id}",
             "/jucho/staff/new": "/jucho/staff", f"/jucho/staff/{staff_id}/edit": f"/jucho/staff/{staff_id}"}
    for page, target in pages.items():
        html = jucho.get(page).get_data(as_text=True)
        assert f'<a class="button" href="{target}" data-testid="cancel">キャンセル</a>' in html, page


def test_saving_leads_to_the_detail_page_in_both_products(mama, jucho, app):  # noqa: F811
    response = post_form(mama, "/mama/associations/new", GOOD)
    assert re.fullmatch(r"/mama/associations/\d+", response.headers["Location"])
    uid = mama_user_id(app, "admin")
    response = post_form(mama, f"/mama/users/{uid}/edit", {"name": "管理 花子", "email": "", "role": "admin",
                                                            "permission_set": "0", "status": "active"})
    assert response.headers["Location"] == f"/mama/users/{uid}"
    page = mama.get(response.headers["Location"]).get_data(as_text=True)
    assert "管理 花子" in page and 'data-testid="user-detail"' in page

    response = post_form(jucho, "/jucho/associations/new", ASSOCIATION)
    assert re.fullmatch(r"/jucho/associations/\d+", response.headers["Location"])
    association_id = int(response.headers["Location"].split("/")[-1])
    response = post_form(jucho, "/jucho/buildings/new", {**BUILDING, "association_id": str(association_id)})
    assert re.fullmatch(r"/jucho/buildings/\d+", response.headers["Location"])
    page = jucho.get(response.headers["Location"]).get_data(as_text=True)
    assert "グランドメゾン青葉" in page and "〒227-0062" in page and "15,000円" in page
    response = register(jucho)
    staff_id = jucho_user_id(app, "ichiro")
    assert response.headers["Location"] == f"/jucho/staff/{staff_id}"
    page = jucho.get(response.headers["Location"]).get_data(as_text=True)
    assert "鈴木 一郎" in page and 'data-testid="suspend"' in page
    # The new employee has never logged in: the empty cell reads 「—」, as everywhere.
    last_login = page.split("<dt>最終ログイン</dt>")[1].split("</dd>")[0]
    assert last_login.endswith("—")


def test_detail_pages_of_another_tenant_are_not_found(jucho, app, make_tenant, outbox):  # noqa: F811
    association_id = create_association(jucho)
    building_id = create_building(jucho, association_id)
    staff_id = jucho_user_id(app, "admin")
    make_tenant("juchoco2", product="jucho")
    other = app.test_client()
    jucho_login(other, outbox, "juchoco2", "admin")
    for path in (f"/jucho/associations/{association_id}", f"/jucho/buildings/{building_id}", f"/jucho/staff/{staff_id}"):
        response = other.get(path)
        assert response.status_code == 404, path
        assert "グランドメゾン" not in response.get_data(as_text=True)


def test_breadcrumbs_and_labelled_cells_on_the_master_screens(mama, jucho, app):  # noqa: F811
    post_form(mama, "/mama/associations/new", GOOD)
    for path in ("/mama/associations", "/mama/associations/new", "/mama/users", "/mama/users/new"):
        html = mama.get(path).get_data(as_text=True)
        crumbs = html.split('data-testid="breadcrumbs"')[1].split("</nav>")[0]
        assert '<a href="/">ホーム</a>' in crumbs and 'aria-current="page"' in crumbs, path
    listing = mama.get("/mama/associations").get_data(as_text=True)
    assert '<td data-label="組合コード">' in listing and '<td data-label="総戸数" class="num">120戸</td>' in listing
    association_id = create_association(jucho)
    create_building(jucho, association_id)
    for path in ("/jucho/associations", "/jucho/buildings", "/jucho/staff", f"/jucho/associations/{association_id}"):
        html = jucho.get(path).get_data(as_text=True)
        assert 'data-testid="breadcrumbs"' in html, path
        assert re.search(r'<td data-label="[^"]+"', html), path
    assert '<td data-label="所在地">神奈川県横浜市青葉区青葉台1-2-3</td>' in jucho.get("/jucho/buildings").get_data(as_text=True)


def test_the_same_word_for_the_same_thing(mama, jucho, app):  # noqa: F811
    uid = mama_user_id(app, "admin")
    for path in ("/", "/mama/users", "/mama/users/new", f"/mama/users/{uid}", f"/mama/devices/users/{uid}"):
        response = mama.get(path)
        html = response.get_data(as_text=True)
        assert "社員" not in html and "利用者" not in html, path
    staff_id = jucho_user_id(app, "admin")
    for path in ("/", "/jucho/staff", "/jucho/staff/new", f"/jucho/staff/{staff_id}", f"/jucho/staff/{staff_id}/edit"):
        html = jucho.get(path).get_data(as_text=True)
        assert "ユーザー" not in html and "利用者" not in html, path


def _crumbs(html: str, path: str) -> str:
    """The breadcrumbs of a page: ホーム links home, the page itself is the last crumb, not a link."""
    assert 'data-testid="breadcrumbs"' in html, path
    crumbs = html.split('data-testid="breadcrumbs"')[1].split("</nav>")[0]
    assert '<a href="/">ホーム</a>' in crumbs and 'aria-current="page"' in crumbs, path
    return crumbs


def test_breadcrumbs_and_cancel_on_the_other_screens_of_both_products(mama, jucho, app):  # noqa: F811
    uid = mama_user_id(app, "admin")
    forms = {"/mama/permissions/new?role=general", f"/mama/scopes/{uid}", "/account/password", "/account/export"}
    for path in ("/mama/devices", f"/mama/devices/users/{uid}", "/mama/account/devices", "/mama/permissions",
                 "/mama/permissions/new?role=general", "/mama/scopes", f"/mama/scopes/{uid}", "/mama/associations/trash",
                 f"/mama/users/{uid}/reset-password", "/admin/oplog", "/notices", "/account/export", "/account/password",
                 "/account/login-history", "/account/sessions", "/manual", "/faq/mama", "/contact"):
        response = mama.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        _crumbs(html, path)
        if path in forms:
            assert 'data-testid="cancel"' in html, path
    assert re.search(r'<td data-label="ログインID" class="long">admin</td>', mama.get("/mama/devices").get_data(as_text=True))

    building_id = create_building(jucho, create_association(jucho))
    for path, last in ((f"/jucho/buildings/{building_id}/units", "住戸一覧"),
                       (f"/jucho/buildings/{building_id}/units/new", "住戸登録"),
                       (f"/jucho/buildings/{building_id}/units/import", "CSV取込"),
                       (f"/jucho/buildings/{building_id}/profile/plan", "長期修繕計画の編集"),
                       ("/jucho/buildings/trash", "削除済みの物件"), ("/jucho/associations/trash", "削除済みの管理組合"),
                       ("/admin/oplog", "操作ログ"), ("/notices", "お知らせ")):
        response = jucho.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert f'<span aria-current="page">{last}</span>' in _crumbs(html, path), path
        if "/units/" in path or "/profile/" in path:
            assert 'data-testid="cancel"' in html, path


# Pages that need no breadcrumbs: before login, errors, the confirmation page (it names what it acts on), ホーム,
# partials (the 依頼 取消 page is a confirmation page).
_NO_CRUMBS = re.compile(r"(/_|/email/|/errors/|auth/login\.html|/base\.html|/confirm\.html|/dashboard\.html|"
                        r"mama/device_(login|status)\.html|mama/reset/|jucho/login/|jucho/reset/|jucho/public/|"
                        r"jucho/requests/(_|cancel)|/notices/_panel\.html)")


def test_every_page_template_has_breadcrumbs():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    pages = [p for folder in ("app", "plugins") for p in (root / folder).rglob("templates/**/*.html")
             if not _NO_CRUMBS.search(p.as_posix()) and 'extends "base.html"' in p.read_text(encoding="utf-8")]
    assert len(pages) > 40
    missing = [p.relative_to(root).as_posix() for p in pages if "breadcrumbs(" not in p.read_text(encoding="utf-8")]
    assert missing == []
