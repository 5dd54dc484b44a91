"""Japanese substring search on a trigram index (issue 13): through the FTS5 trigram table on SQLite and the
pg_trgm GIN index on PostgreSQL, every search finds exactly the rows a plain substring filter finds."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.kana import search_key
from app.searchtext import Searchable, fts_table, matching, trigram_index
from app.softdelete import including_deleted, soft_delete
from plugins.mama.models import MamaAssociation
from tests.mama_helpers import admin_client, in_tenant, mama_tenant
from tests.query_helpers import analyze, dialect_of, plan_of, reads_of, the_query
from tests.test_mama_associations import _bulk_seed

NAMES = (
    "グランドメゾン西新宿管理組合", "しんじゅくハイツ", "ｼﾝｼﾞｭｸｺｰﾎﾟ", "新宿タワー", "西新宿パークタワー",
    "100%還元マンション", "a_b レジデンス", "back\\slash館", 'say "hi" ハウス', "NEAR AND OR NOT 荘",
    "a-b*c テラス", "🏠ハウス横浜", "ＡＢＣマンション", "abc mansion", "O'Brien コート", "(括弧) ^ col:name",
    "港北ニュータウン", "コウホク", "ﾐﾅﾄ", "みなとみらい", "新",
)

SEARCHES = (
    # 1-, 2-, 3-character and long words, kana and width variants
    "し", "しん", "しんじ", "しんじゅく", "ｼﾝｼﾞｭｸ", "シンジュク", "新", "新宿", "西新宿", "グランドメゾン西新宿管理組合",
    "みなと", "ﾐﾅﾄ", "こうほく", "abc", "ＡＢＣ", "ABCマンション",
    # several words: all of them must appear
    "新宿 タワー", "しんじゅく　はいつ", "タワー 西", "新 宿",
    # LIKE metacharacters
    "%", "_", "\\", "100%", "a_b", "a%b", "back\\slash", "%還元",
    # quotes and FTS5 query syntax
    '"', '"hi"', 'say "hi"', "*", "b*c", "NEAR", "near and", "AND", "OR NOT", "-", "a-b", "'", "O'Brien",
    "(括弧)", "^", "col:name", "col:",
    # emoji, and words found nowhere
    "🏠", "🏠ハ", "🏠ハウス", "存在しない", "zz",
)


def _add(app, code: str, names, first: int = 0) -> list[int]:
    with in_tenant(app, code):
        rows = [MamaAssociation(code=f"X{number:03d}", name=name, name_kana="", postal_code="", prefecture="",
                                city="", address_line="", units=1, building_year=2000, fiscal_start_month=4)
                for number, name in enumerate(names, start=first)]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def _found(app, code: str, words: str) -> list[int]:
    """Ids found through the index (the one query function every list uses)."""
    with in_tenant(app, code):
        return sorted(db.session.execute(matching(sa.select(MamaAssociation.id), MamaAssociation, words)).scalars())


def _expected(app, code: str, words: str) -> list[int]:
    """Ids whose normalised search_text contains every word, by a plain Python filter over the tenant's rows."""
    keys = [key for key in (search_key(word) for word in words.split()[:5]) if key]
    with in_tenant(app, code):
        rows = db.session.execute(sa.select(MamaAssociation.id, MamaAssociation.search_text)).all()
    return sorted(row.id for row in rows if all(key in row.search_text for key in keys))


@pytest.fixture
def two_tenants(app, make_tenant):
    mama_tenant(make_tenant, "mama1")
    mama_tenant(make_tenant, "mama2")
    return _add(app, "mama1", NAMES), _add(app, "mama2", NAMES)


def test_index_finds_exactly_the_substring_matches(app, two_tenants):
    mine, theirs = two_tenants
    wrong = {words: (_found(app, "mama1", words), _expected(app, "mama1", words)) for words in SEARCHES
             if _found(app, "mama1", words) != _expected(app, "mama1", words)}
    assert wrong == {}, f"{dialect_of(app)}: index ≠ substring filter"
    # The comparison is not vacuous: these searches find rows, and only the tenant's own.
    assert _found(app, "mama1", "しんじゅく") == [mine[1], mine[2]]  # しんじゅくハイツ, ｼﾝｼﾞｭｸｺｰﾎﾟ
    assert _found(app, "mama1", "100%") == [mine[5]]
    assert _found(app, "mama1", 'say "hi"') == [mine[8]]
    assert _found(app, "mama1", "🏠ハウス") == [mine[11]]
    assert _found(app, "mama1", "新宿 タワー") == [mine[3], mine[4]]
    assert _found(app, "mama1", "%") == [mine[5]]
    assert _found(app, "mama1", "NEAR") == [mine[9]]
    assert not set(_found(app, "mama1", "新")) & set(theirs)
    assert set(_found(app, "mama2", "新")) <= set(theirs)


def test_added_changed_and_deleted_rows_are_found_at_once(app, make_tenant):
    mama_tenant(make_tenant, "mama1")
    (kept, renamed, removed, trashed) = _add(app, "mama1", ("港南ヒルズ", "青葉台レジデンス", "緑山ガーデン", "白金コート"))
    assert _found(app, "mama1", "ヒルズ") == [kept]
    with in_tenant(app, "mama1"):
        db.session.get(MamaAssociation, renamed).name = "あざみ野テラス"
        db.session.delete(db.session.get(MamaAssociation, removed))
        soft_delete(db.session.get(MamaAssociation, trashed), "admin")
        db.session.commit()
    assert _found(app, "mama1", "青葉台レジデンス") == []
    assert _found(app, "mama1", "あざみ野テラス") == [renamed]
    assert _found(app, "mama1", "アザミ") == [renamed]
    assert _found(app, "mama1", "緑山ガーデン") == []
    assert _found(app, "mama1", "白金コート") == []  # in 削除済み: hidden from every list
    with in_tenant(app, "mama1"), including_deleted():
        assert db.session.execute(matching(sa.select(MamaAssociation.id), MamaAssociation,
                                           "白金コート")).scalars().all() == [trashed]
    _add(app, "mama1", ("ヒルズ第二",), first=10)
    assert len(_found(app, "mama1", "ヒルズ")) == 2


def test_every_searchable_table_has_its_trigram_index(app):
    searchable = [mapper.local_table.name for mapper in db.Model.registry.mappers
                  if issubclass(mapper.class_, Searchable)]
    assert {"mama_associations", "jucho_associations", "jucho_buildings", "jucho_units",
            "jucho_requests"} <= set(searchable)
    with app.app_context():
        inspector = sa.inspect(db.engine)
        names = set(inspector.get_table_names())
        for table in searchable:
            if dialect_of(app) == "postgresql":
                assert trigram_index(table) in {index["name"] for index in inspector.get_indexes(table)}, table
            else:
                assert fts_table(table) in names, table


def test_search_at_ten_thousand_rows_uses_the_trigram_index(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    _bulk_seed(app, "mama1", 1, 10_000)
    analyze(app)
    page = client.get("/mama/associations?q=ａ０９８７６")
    assert "A09876" in page.get_data(as_text=True) and "1 件" in page.get_data(as_text=True)
    search = the_query(reads_of(app, client, "/mama/associations?q=ａ０９８７６"), "SELECT mama_associations.id, ", "LIMIT")
    plan = plan_of(app, search)
    if dialect_of(app) == "postgresql":
        assert trigram_index("mama_associations") in plan, plan
    else:
        assert f"SCAN {fts_table('mama_associations')} VIRTUAL TABLE" in plan, plan
        assert "SCAN mama_associations " not in plan + " ", plan


def test_a_common_word_at_ten_thousand_rows_reads_the_sort_index_not_every_match(app, make_tenant):
    """A word in more rows than the count's cap: the count stops at the cap among the trigram index's rows (no
    ORDER BY, no list of every match first), and the page walks the sort's index checking rows, rather than sorting every match (on SQLite)."""
    _, client = admin_client(app, make_tenant)
    _bulk_seed(app, "mama1", 1, 10_000)
    analyze(app)
    html = client.get("/mama/associations?q=こうほく").get_data(as_text=True)
    expected = _expected(app, "mama1", "コウホク")
    assert len(expected) > 1_000 and "1000 件以上" in html
    with in_tenant(app, "mama1"):
        codes = db.session.execute(sa.select(MamaAssociation.code).where(MamaAssociation.id.in_(expected))
                                   .order_by(MamaAssociation.code).limit(50)).scalars().all()
    shown = [code for code in codes if f">{code}</a>" in html]
    assert shown == codes and f">{codes[-1]}</a>" in html
    reads = reads_of(app, client, "/mama/associations?q=こうほく")
    count = the_query(reads, "count(*)", "search_text")
    assert "ORDER BY" not in count.sql
    page = the_query(reads, "SELECT mama_associations.id, ", "LIMIT")
    if dialect_of(app) == "sqlite":
        plan = plan_of(app, page)
        assert "uq_mama_associations_tenant_live_code" in plan and "TEMP B-TREE" not in plan, plan
        # The count starts from the FTS table (joined), so it stops at the cap: no list of every match first.
        plan = plan_of(app, count)
        assert f"SCAN {fts_table('mama_associations')} VIRTUAL TABLE" in plan and "LIST SUBQUERY" not in plan, plan
    rare = the_query(reads_of(app, client, "/mama/associations?q=ａ０９８７６"), "SELECT mama_associations.id, ", "LIMIT")
    if dialect_of(app) == "sqlite":
        assert f"SCAN {fts_table('mama_associations')} VIRTUAL TABLE" in plan_of(app, rare)
