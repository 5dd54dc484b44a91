"""管理組合 and 物件 screens: create, edit, delete, search, sort, pages, encryption, bad input, CSV, 10,000 rows."""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant
from app.tenancy import tenant_scope
from app.timeutil import utcnow
from plugins.jucho.models import JuchoAssociation, JuchoBuilding
from tests.conftest import post_form
from tests.jucho_helpers import jucho_login
from tests.query_helpers import analyze, dialect_of, plan_of, reads_of, still_at, stopped_clock, the_query

ASSOCIATION = {"name": "グランドメゾン青葉管理組合", "kana": "グランドメゾンアオバ", "management_form": "full",
               "contact_person": "山田 太郎", "contact_phone": "03-1234-5678",
               "contact_email": "yamada@kanri-co.example.jp", "notes": ""}
BUILDING = {"name": "グランドメゾン青葉", "kana": "グランドメゾンアオバ", "postal_code": "227-0062",
            "prefecture": "神奈川県", "city": "横浜市青葉区", "address_line": "青葉台1-2-3", "building_name": "",
            "structure": "RC", "floors_above": "12", "floors_below": "1", "total_units": "84",
            "completion_date": "2005-03-31", "management_fee_basis": "unit", "management_fee": "15000",
            "repair_reserve_basis": "sqm", "repair_reserve": "210.50", "parking_fee": "12000",
            "other_fees": "バイク置場 500円/月", "planned_repair_year": "2028", "planned_repair": "外壁塗装・屋上防水",
            "notes": ""}


@pytest.fixture
def admin(client, outbox, make_tenant):
    """The admin of 重調@CITY tenant 'juchoco', logged in."""
    make_tenant("juchoco", product="jucho")
    jucho_login(client, outbox, "juchoco", "admin")
    return client


@pytest.fixture
def tenant_scope_of(app):
    """Run a block inside a tenant: `with tenant_scope_of("juchoco"): ...`."""
    from contextlib import contextmanager

    @contextmanager
    def _scope(code: str):
        with app.app_context():
            tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
            with tenant_scope(tenant):
                yield tenant

    return _scope


def create_association(client, **fields) -> int:
    response = post_form(client, "/jucho/associations/new", {**ASSOCIATION, **fields})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].split("/")[-1])  # the detail page of the saved row


def create_building(client, association_id: int, **fields) -> int:
    response = post_form(client, "/jucho/buildings/new", {**BUILDING, "association_id": str(association_id), **fields})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].split("/")[-1])  # the detail page of the saved row


def test_association_create_edit_and_encrypted_contact(app, admin, tenant_scope_of):
    association_id = create_association(admin)
    page = admin.get(f"/jucho/associations/{association_id}/edit").get_data(as_text=True)
    assert "山田 太郎" in page and "03-1234-5678" in page and "yamada@kanri-co.example.jp" in page
    response = post_form(admin, f"/jucho/associations/{association_id}/edit",
                         {**ASSOCIATION, "name": "青葉第二管理組合", "management_form": "self"})
    assert response.status_code == 302
    listing = admin.get("/jucho/associations").get_data(as_text=True)
    assert "青葉第二管理組合" in listing and "自主管理" in listing
    with app.app_context():
        raw = db.session.execute(sa.text(
            "SELECT name, contact_person, contact_phone, contact_email FROM jucho_associations")).one()
    assert raw[0] == "青葉第二管理組合"
    assert all(value.startswith("k1$") for value in raw[1:])
    assert "山田" not in "".join(raw[1:]) and "yamada" not in "".join(raw[1:])
    with tenant_scope_of("juchoco"):
        stored = db.session.get(JuchoAssociation, association_id)
        assert stored.contact_person == "山田 太郎"


def test_empty_personal_fields_are_stored_as_null(app, admin):
    create_association(admin, contact_person="", contact_phone="", contact_email="")
    with app.app_context():
        raw = db.session.execute(sa.text("SELECT contact_person, contact_phone FROM jucho_associations")).one()
    assert raw == (None, None)


def test_building_create_edit_and_list(app, admin, tenant_scope_of):
    association_id = create_association(admin)
    building_id = create_building(admin, association_id)
    page = admin.get(f"/jucho/buildings/{building_id}/edit").get_data(as_text=True)
    assert "グランドメゾン青葉" in page and "210.50" in page and "外壁塗装" in page
    response = post_form(admin, f"/jucho/buildings/{building_id}/edit",
                         {**BUILDING, "association_id": str(association_id), "total_units": "90", "kana": "ｱｵﾊﾞ"})
    assert response.status_code == 302
    with tenant_scope_of("juchoco"):
        building = db.session.get(JuchoBuilding, building_id)
        assert building.total_units == 90 and building.kana == "アオバ"
        assert building.repair_reserve == Decimal("210.50") and building.completion_date == date(2005, 3, 31)
    listing = admin.get(f"/jucho/buildings?association={association_id}").get_data(as_text=True)
    assert "グランドメゾン青葉" in listing and "神奈川県横浜市青葉区青葉台1-2-3" in listing
    assert f'association={association_id}">1</a>' in admin.get("/jucho/associations").get_data(as_text=True)


def test_building_needs_an_association_first(admin):
    html = admin.get("/jucho/buildings/new").get_data(as_text=True)
    assert "先に管理組合を登録してください" in html


@pytest.mark.parametrize("fields, message", [
    ({"name": ""}, "入力してください"),
    ({"kana": "山田"}, "全角カタカナ"),
    ({"contact_phone": "call me"}, "電話番号は半角数字"),
    ({"contact_email": "yamada@"}, "メールアドレスの形式"),
    ({"management_form": "outsourced"}, "一覧から選択してください"),
    ({"notes": "あ" * 2001}, "2000文字以内"),
])
def test_bad_association_input(app, admin, fields, message):
    response = post_form(admin, "/jucho/associations/new", {**ASSOCIATION, **fields})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.text("SELECT count(*) FROM jucho_associations")).scalar_one() == 0


BAD_BUILDING_INPUT = [
    ({"floors_above": "abc"}, "半角数字（整数）"),
    ({"floors_above": "-1"}, "1〜100階の範囲"),
    ({"floors_above": ""}, "入力してください"),
    ({"floors_below": "-2"}, "0〜20階の範囲"),
    ({"total_units": "0"}, "1〜10,000戸の範囲"),
    ({"total_units": "99999999999999999999"}, "1〜10,000戸の範囲"),
    ({"completion_date": "2026-02-30"}, "日付を正しく入力"),
    ({"completion_date": "昭和60年"}, "日付を正しく入力"),
    ({"completion_date": "1850-01-01"}, "1900年から"),
    ({"management_fee": "-5"}, "0以上の金額"),
    ({"management_fee": "abc"}, "半角数字で入力"),
    ({"management_fee": "NaN"}, "小数は2桁まで"),
    ({"management_fee": "Infinity"}, "小数は2桁まで"),
    ({"repair_reserve": "1.234"}, "小数は2桁まで"),
    ({"repair_reserve": "1e30"}, "大きすぎます"),
    ({"management_fee_basis": "floor"}, "一覧から選択してください"),
    ({"parking_fee": "-100"}, "0〜10,000,000円の範囲"),
    ({"planned_repair_year": "12345"}, "1,900〜2,200年の範囲"),
    ({"structure": "XYZ"}, "一覧から選択してください"),
    ({"association_id": "abc"}, "一覧から選択してください"),
    ({"association_id": "999999"}, "一覧から選択してください"),
    ({"address_line": ""}, "入力してください"),
    ({"postal_code": "12-34"}, "郵便番号は7桁"),
    ({"prefecture": ""}, "都道府県を選択"),
]


@pytest.mark.parametrize("fields, message", BAD_BUILDING_INPUT)
def test_bad_building_input_on_create(app, admin, fields, message):
    association_id = create_association(admin)
    response = post_form(admin, "/jucho/buildings/new", {**BUILDING, "association_id": str(association_id), **fields})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html, html
    assert "入力内容に誤りがあります" in html
    with app.app_context():
        assert db.session.execute(sa.text("SELECT count(*) FROM jucho_buildings")).scalar_one() == 0


@pytest.mark.parametrize("fields, message", BAD_BUILDING_INPUT[:8])
def test_bad_building_input_on_edit_keeps_what_was_saved(admin, tenant_scope_of, fields, message):
    association_id = create_association(admin)
    building_id = create_building(admin, association_id)
    typed = {**BUILDING, "association_id": str(association_id), "notes": "まだ保存していないメモ", **fields}
    response = post_form(admin, f"/jucho/buildings/{building_id}/edit", typed)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "まだ保存していないメモ" in html  # the typed values stay on screen
    with tenant_scope_of("juchoco"):
        building = db.session.get(JuchoBuilding, building_id)
        assert (building.floors_above, building.total_units, building.notes) == (12, 84, "")


def test_another_tenants_association_cannot_be_chosen(admin, client, outbox, make_tenant, app):
    own = create_association(admin)
    make_tenant("otherco", product="jucho")
    other = app.test_client()
    jucho_login(other, outbox, "otherco", "admin")
    foreign = create_association(other, name="他社の管理組合")
    response = post_form(admin, "/jucho/buildings/new", {**BUILDING, "association_id": str(foreign)})
    assert response.status_code == 200 and "一覧から選択してください" in response.get_data(as_text=True)
    assert "他社の管理組合" not in admin.get("/jucho/associations").get_data(as_text=True)
    assert admin.get(f"/jucho/associations/{foreign}/edit").status_code == 404
    assert admin.get(f"/jucho/associations/{foreign}/delete").status_code == 404
    building = create_building(other, foreign)
    assert admin.get(f"/jucho/buildings/{building}/edit").status_code == 404
    assert post_form(admin, f"/jucho/associations/{own}/edit", {},
                     action=f"/jucho/buildings/{building}/delete").status_code == 404
    assert "他社" not in admin.get(f"/jucho/buildings?association={foreign}").get_data(as_text=True)


@pytest.mark.parametrize("query", [
    "page=abc", "page=-1", "page=0", "page=99999999999999999999", "page=%EF%BC%92", "sort=password_hash",
    "sort=units&dir=sideways", "q=%25_%27%22<script>", "association=abc", "association=99999999999999",
    "q=" + "あ" * 500,
])
def test_lists_never_fail_on_odd_arguments(admin, query):
    create_association(admin)
    assert admin.get(f"/jucho/associations?{query}").status_code == 200
    response = admin.get(f"/jucho/buildings?{query}")
    assert response.status_code == 200
    assert "<script>" not in response.get_data(as_text=True)


def _bulk(app, code: str, associations: int, buildings_each: int, first: int = 0) -> None:
    """Bulk-insert associations numbered from first, each with buildings_each buildings."""
    with app.app_context():
        tenant_id = db.session.execute(sa.select(Tenant.id).where(Tenant.code == code)).scalar_one()
        now = utcnow()
        last_id = db.session.execute(sa.select(sa.func.coalesce(sa.func.max(JuchoAssociation.id), 0))
                                     .execution_options(all_tenants=True)).scalar_one()
        db.session.execute(sa.insert(JuchoAssociation), [
            {"tenant_id": tenant_id, "name": f"管理組合{i:05d}", "kana": f"カンリクミアイ{i:05d}",
             "management_form": "full", "notes": "", "created_at": now, "updated_at": now}
            for i in range(first, first + associations)])
        ids = db.session.execute(sa.select(JuchoAssociation.id).execution_options(all_tenants=True)
                                 .where(JuchoAssociation.tenant_id == tenant_id, JuchoAssociation.id > last_id)
                                 .order_by(JuchoAssociation.id)).scalars().all()
        rows = []
        for n, association_id in enumerate(ids, start=first):
            for j in range(buildings_each):
                k = n * buildings_each + j
                rows.append({"tenant_id": tenant_id, "association_id": association_id, "name": f"物件{k:05d}",
                             "kana": f"ブッケン{k:05d}", "prefecture": "東京都", "city": "千代田区",
                             "address_line": f"千代田{k}", "structure": "RC",
                             "floors_above": 5 + k % 30, "floors_below": 0, "total_units": 10 + k % 500,
                             "management_fee_basis": "unit", "management_fee": Decimal("12000"),
                             "repair_reserve_basis": "unit", "repair_reserve": Decimal("9000"),
                             "other_fees": "=HYPERLINK(\"x\")" if k == 0 else "", "planned_repair": "",
                             "notes": "", "created_at": now, "updated_at": now})
        db.session.execute(sa.insert(JuchoBuilding), rows)
        db.session.commit()


def test_search_sort_and_pages(app, admin):
    _bulk(app, "juchoco", 3, 40)
    html = admin.get("/jucho/buildings?sort=units&dir=desc").get_data(as_text=True)
    assert "1 / 3 ページ（全120件）" in html
    assert html.index("物件00119") < html.index("物件00118") < html.index("物件00070")
    assert "物件00000" not in html
    html = admin.get("/jucho/buildings?q=ブッケン0011").get_data(as_text=True)
    assert "物件00110" in html and "物件00119" in html and "物件00001" not in html
    html = admin.get("/jucho/buildings?page=3&sort=kana&dir=asc").get_data(as_text=True)
    assert "物件00100" in html and "物件00119" in html and "物件00099" not in html
    html = admin.get("/jucho/buildings?q=%25").get_data(as_text=True)
    assert "該当する物件はありません" in html  # % is a character, not a wildcard
    html = admin.get("/jucho/associations?q=00002").get_data(as_text=True)
    assert "管理組合00002" in html and "管理組合00001" not in html


# The list URLs of a large tenant: first and deep pages, each sort on its index, searches.
LIST_URLS = ("/jucho/buildings", "/jucho/buildings?page=150&sort=units&dir=desc", "/jucho/buildings?q=ブッケン0999",
             "/jucho/associations?page=200&sort=name", "/jucho/associations?q=クミアイ09")
# (URL, the table listed, the index its page query must be served from): no full scan, no sort of 10,000 rows.
INDEXED_PAGES = (("/jucho/buildings", "jucho_buildings", "ix_jucho_buildings_tenant_kana"),
                 ("/jucho/buildings?page=150&sort=units&dir=desc", "jucho_buildings", "ix_jucho_buildings_tenant_units"),
                 ("/jucho/buildings?sort=completed", "jucho_buildings", "ix_jucho_buildings_tenant_completed"),
                 ("/jucho/associations?page=2&sort=name", "jucho_associations", "ix_jucho_associations_tenant_name"))


def test_ten_thousand_rows_cost_the_same_queries_and_use_the_indexes(app, admin):
    """Scale without a stopwatch: a page runs as many queries at 10,000 rows as at 3, from an index, not a scan."""
    _bulk(app, "juchoco", 3, 1)
    now = stopped_clock()
    with still_at(now):  # a page of 3 rows
        few = {name: len(reads_of(app, admin, f"/jucho/{name}")) for name in ("buildings", "associations")}
    _bulk(app, "juchoco", 9_997, 1, first=3)
    analyze(app)
    with still_at(now):  # pages of 50 rows, deep pages and searches among 10,000 rows
        many = {url: len(reads_of(app, admin, url)) for url in LIST_URLS}
    assert many == {url: few[url.split("/")[2].split("?")[0]] for url in LIST_URLS}, (few, many)
    # session, user, tenant, the tenant's factor policy (session gate), …, the page, its count, its rows' associations
    assert max(many.values()) <= 9, many
    assert "全10000件" in admin.get("/jucho/buildings").get_data(as_text=True)
    for url, table, index in INDEXED_PAGES:
        page_query = the_query(reads_of(app, admin, url), f"FROM {table}", "LIMIT")
        plan = plan_of(app, page_query)
        assert index in plan, (url, plan)
        if dialect_of(app) == "postgresql":
            assert f"Seq Scan on {table}" not in plan, (url, plan)
        else:
            assert f"SCAN {table}" not in plan and "TEMP B-TREE" not in plan, (url, plan)
    html = admin.get("/jucho/buildings?q=ブッケン0999").get_data(as_text=True)
    assert sorted(set(re.findall(r"物件\d{5}", html))) == [f"物件{k:05d}" for k in range(9990, 10_000)]


def test_buildings_csv_is_streamed_utf8_with_bom(app, admin):
    _bulk(app, "juchoco", 600, 2)
    response = admin.get("/jucho/buildings.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment; filename=buildings_" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["ID", "管理組合", "管理形態", "物件名"]
    assert len(rows) == 1 + 1200
    assert "'=HYPERLINK(\"x\")" in [cell for row in rows for cell in row]  # no formula injection


def test_associations_csv_decrypts_personal_fields(admin):
    create_association(admin)
    response = admin.get("/jucho/associations.csv")
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][1:7] == ["グランドメゾン青葉管理組合", "グランドメゾンアオバ", "全部委託", "山田 太郎", "03-1234-5678",
                            "yamada@kanri-co.example.jp"]


def test_delete_is_for_admins_and_blocked_while_buildings_exist(app, admin, outbox, add_user):
    association_id = create_association(admin)
    building_id = create_building(admin, association_id)
    response = post_form(admin, f"/jucho/associations/{association_id}/delete", {"confirmed": "yes"})
    assert response.status_code == 422 and "物件が1件登録されているため削除できません" in response.get_data(as_text=True)
    assert admin.get(f"/jucho/associations/{association_id}/edit").status_code == 200
    add_user("juchoco", "hanako")
    general = app.test_client()
    jucho_login(general, outbox, "juchoco", "hanako")
    assert general.get(f"/jucho/buildings/{building_id}/delete").status_code == 403
    assert general.get(f"/jucho/buildings/{building_id}/edit").status_code == 200
    assert f"/jucho/buildings/{building_id}/delete" not in general.get(f"/jucho/buildings/{building_id}/edit").get_data(
        as_text=True)
    assert f"/jucho/buildings/{building_id}/delete" in admin.get(f"/jucho/buildings/{building_id}/edit").get_data(
        as_text=True)
    response = post_form(admin, f"/jucho/buildings/{building_id}/delete", {"confirmed": "yes"})
    assert response.status_code == 302
    assert admin.get(f"/jucho/buildings/{building_id}/edit").status_code == 404
    response = post_form(admin, f"/jucho/associations/{association_id}/delete", {"confirmed": "yes"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/jucho/associations")
    assert admin.get(f"/jucho/associations/{association_id}/edit").status_code == 404


def test_other_products_cannot_open_jucho_screens(client, outbox, make_tenant):
    from tests.conftest import login

    make_tenant("sampleco", product="sample")
    login(client, "sampleco", "admin")
    for url in ("/jucho/associations", "/jucho/buildings", "/jucho/staff", "/jucho/buildings.csv"):
        assert client.get(url).status_code == 404


def test_not_logged_in_goes_to_login(client):
    response = client.get("/jucho/buildings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
