"""管理組合登録: fields, encryption at rest, search / sort / pagination, CSV and bad input."""
from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from app.extensions import db
from plugins.mama.cli import sample_association
from plugins.mama.models import MamaAssociation
from tests.conftest import post_form
from tests.mama_helpers import admin_client, audit_details, in_tenant
from tests.query_helpers import analyze, dialect_of, plan_of, reads_of, still_at, stopped_clock, the_query

GOOD = {
    "code": "a00123", "name": "グランドメゾン西新宿管理組合", "name_kana": "ぐらんどめぞんにししんじゅく",
    "postal_code": "１６０－００２３", "prefecture": "東京都", "city": "新宿区", "address_line": "西新宿1-2-3",
    "building_name": "グランドメゾン西新宿", "units": "120", "building_year": "2005", "fiscal_start_month": "4",
    "contact_name": "山田 理事長", "contact_phone": "03-1234-5678", "contact_email": "yamada@example.jp",
    "notes": "=HYPERLINK(\"x\")",
}


def _seed(app, code: str, count: int) -> None:
    import random

    rng = random.Random(1)
    with in_tenant(app, code):
        db.session.add_all(sample_association(n, rng) for n in range(1, count + 1))
        db.session.commit()


def _create(client, **overrides):
    return post_form(client, "/mama/associations/new", {**GOOD, **overrides})


def test_create_show_and_encrypt_personal_fields(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    response = _create(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    for text in ("A00123", "グランドメゾンニシシンジュク", "160-0023", "山田 理事長", "yamada@example.jp", "4月開始"):
        assert text in page, text
    with app.app_context():
        raw = db.session.execute(sa.text("SELECT contact_name, contact_phone, contact_email, name FROM mama_associations")).one()
    assert "山田" not in raw[0] and "1234" not in raw[1] and "yamada" not in raw[2]
    assert raw[3] == "グランドメゾン西新宿管理組合"  # searchable columns stay plain
    details = audit_details(app, "mama1", "mama.association.create")[-1]
    assert details["after"]["code"] == "A00123" and "contact_name" in details["changed_personal_fields"]
    assert "山田" not in str(details)


def test_every_field_rejects_bad_input_next_to_it_and_keeps_the_rest(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    bad = {"code": "!!", "name": "", "name_kana": "漢字", "postal_code": "12", "prefecture": "火星",
           "city": "", "address_line": "", "units": "たくさん", "building_year": "1800", "fiscal_start_month": "13",
           "contact_phone": "abc", "contact_email": "nope", "notes": "x" * 2001}
    response = _create(client, **bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("組合コードは英数字", "入力してください", "全角カタカナ", "郵便番号は7桁", "一覧から選択してください",
                    "半角数字で入力してください", "1900〜", "電話番号は数字とハイフン", "メールアドレスの形式",
                    "2000文字以内"):
        assert message in html, message
    assert "グランドメゾン西新宿" in html  # building name typed earlier is still in the form
    with in_tenant(app, "mama1"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(MamaAssociation)).scalar_one() == 0


def test_duplicate_code_and_failed_edit_keep_the_saved_record(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    location = _create(client).headers["Location"]
    assert _create(client).status_code == 422
    aid = int(location.rsplit("/", 1)[1])
    response = post_form(client, f"/mama/associations/{aid}/edit", {**GOOD, "units": "-5", "name": "変更後"})
    assert response.status_code == 422 and "1〜10000" in response.get_data(as_text=True)
    with in_tenant(app, "mama1"):
        saved = db.session.get(MamaAssociation, aid)
        assert (saved.units, saved.name) == (120, GOOD["name"])


def test_edit_records_before_and_after(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    aid = int(_create(client).headers["Location"].rsplit("/", 1)[1])
    assert post_form(client, f"/mama/associations/{aid}/edit", {**GOOD, "units": "130"}).status_code == 302
    details = audit_details(app, "mama1", "mama.association.update")[-1]
    assert details["before"]["units"] == 120 and details["after"]["units"] == 130
    assert details["changed_personal_fields"] == []


def test_delete(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    aid = int(_create(client).headers["Location"].rsplit("/", 1)[1])
    confirm = post_form(client, f"/mama/associations/{aid}", {}, action=f"/mama/associations/{aid}/delete")
    assert confirm.status_code == 200 and "管理組合を削除しますか？" in confirm.get_data(as_text=True)
    assert client.get(f"/mama/associations/{aid}").status_code == 200  # the one-click POST changed nothing
    assert post_form(client, f"/mama/associations/{aid}/delete", {"confirmed": "yes"}).status_code == 302
    assert client.get(f"/mama/associations/{aid}").status_code == 404


def test_search_sort_and_pagination(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    _seed(app, "mama1", 120)
    page = client.get("/mama/associations").get_data(as_text=True)
    assert "120 件" in page and "1 / 3 ページ" in page
    assert "A00001" in page and "A00051" not in page
    second = client.get("/mama/associations?page=2").get_data(as_text=True)
    assert "A00051" in second
    desc = client.get("/mama/associations?sort=code&dir=desc").get_data(as_text=True)
    assert desc.index("A00120") < desc.index("A00119")
    found = client.get("/mama/associations?q=A0011").get_data(as_text=True)
    assert "10 件" in found  # code prefix: A00110 … A00119
    kana = client.get("/mama/associations?q=セタガヤ").get_data(as_text=True)
    assert "セタガヤ" in kana
    pref = client.get("/mama/associations?prefecture=大阪府").get_data(as_text=True)
    assert "大阪市北区" in pref and "新宿区" not in pref.split("association-table")[1]


def test_bad_query_arguments_never_fail(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    _seed(app, "mama1", 3)
    for query in ("page=abc", "page=-1", "page=999999", "sort=password_hash", "dir=sideways", "prefecture=火星",
                  "q=%25_%5C", "q=" + "あ" * 500):
        response = client.get(f"/mama/associations?{query}")
        assert response.status_code == 200, query
    assert client.get("/mama/associations/export.csv?sort=bogus&page=x").status_code == 200


def test_csv_is_utf8_bom_excel_safe_and_complete(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    _create(client)
    _seed(app, "mama1", 3)
    response = client.get("/mama/associations/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["組合コード", "管理組合名", "フリガナ"] and len(rows) == 5
    ours = next(row for row in rows if row[0] == "A00123")
    assert ours[11] == "山田 理事長" and ours[14].startswith("'=")  # formula made inert
    assert ours[15].endswith("JST")
    filtered = client.get("/mama/associations/export.csv?q=A00123").get_data().decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(filtered)))) == 2


# The list's URLs: page 1 (code order), a deep page, a sort on an indexed column, a search, an area filter.
LIST_URLS = ("/mama/associations", "/mama/associations?page=150", "/mama/associations?sort=name&dir=desc",
             "/mama/associations?q=コウホク&sort=units", "/mama/associations?prefecture=東京都&sort=year")
# (URL, the index its page query must be served from) — no full scan of the table and no sort of 10,000 rows.
INDEXED_PAGES = (("/mama/associations?page=150", "uq_mama_associations_tenant_live_code"),
                 ("/mama/associations?sort=name&dir=desc", "ix_mama_associations_tenant_kana"),
                 ("/mama/associations?sort=units", "ix_mama_associations_tenant_units"),
                 ("/mama/associations?prefecture=東京都&sort=area", "ix_mama_associations_tenant_area"))


def _bulk_seed(app, code: str, first: int, count: int) -> None:
    """count sample associations numbered from first, in one bulk insert (encrypted as the form would)."""
    import random

    from app.crypto import bind_rows

    rng = random.Random(first)
    columns = [column.key for column in MamaAssociation.__table__.columns
               if column.key not in ("id", "tenant_id", "row_key", "search_text")]
    with in_tenant(app, code):
        rows = []
        for number in range(first, first + count):
            association = sample_association(number, rng)
            rows.append({name: getattr(association, name) for name in columns if getattr(association, name) is not None})
        db.session.execute(sa.insert(MamaAssociation), bind_rows(MamaAssociation, rows))
        db.session.commit()


def test_ten_thousand_associations_cost_the_same_queries_and_use_the_indexes(app, make_tenant):
    """Scale without a stopwatch: a page runs as many queries at 10,000 rows as at 3, from an index, not a scan."""
    _, client = admin_client(app, make_tenant)
    _bulk_seed(app, "mama1", 1, 3)
    now = stopped_clock()
    with still_at(now):
        few = {url: len(reads_of(app, client, url)) for url in LIST_URLS}
    _bulk_seed(app, "mama1", 4, 9_997)
    analyze(app)
    with still_at(now):
        many = {url: len(reads_of(app, client, url)) for url in LIST_URLS}
    assert many == few, "a list page's queries grow with the rows (one query per row?)"
    assert max(many.values()) <= 13, many  # session, user, tenant, factor policy, device, settings, page, count …
    assert "10000 件" in client.get("/mama/associations").get_data(as_text=True)
    for url, index in INDEXED_PAGES:
        page_query = the_query(reads_of(app, client, url), "FROM mama_associations", "LIMIT")
        plan = plan_of(app, page_query)
        assert index in plan, (url, plan)
        if dialect_of(app) == "postgresql":
            assert "Seq Scan" not in plan, (url, plan)
        else:
            assert "SCAN mama_associations" not in plan and "TEMP B-TREE" not in plan, (url, plan)
    search = the_query(reads_of(app, client, "/mama/associations?q=コウホク&sort=units"), "FROM mama_associations",
                       "LIMIT")
    assert "search_text" in search.sql  # one normalised column, not four LIKEs (its index: test_search_index.py)
    csv_body = client.get("/mama/associations/export.csv").get_data()
    assert csv_body.count(b"\r\n") == 10_001
