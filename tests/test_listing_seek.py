"""Large lists page by seeking (app.listing): 次へ/前へ links, typed deep pages, the capped count, and their plans."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.listing import capped_count
from app.models import Tenant
from app.tenancy import tenant_scope
from plugins.mama.models import MamaAssociation
from tests.mama_helpers import admin_client, in_tenant
from tests.plugins.sample_product import SampleNote
from tests.query_helpers import analyze, dialect_of, plan_of, reads_of, still_at, stopped_clock, the_query
from tests.test_mama_associations import _bulk_seed

CODE = re.compile(r'<a href="/mama/associations/\d+">(A\d{5})</a>')
NEXT = re.compile(r'href="([^"]+)" rel="next">次へ')
PREV = re.compile(r'href="([^"]+)" rel="prev">前へ')


def _page(client, url: str) -> tuple[list[str], str | None, str | None, str]:
    html = client.get(url).get_data(as_text=True)
    found = [match.group(1).replace("&amp;", "&") if match else None for match in (NEXT.search(html), PREV.search(html))]
    return CODE.findall(html), found[0], found[1], html


def test_next_links_walk_every_row_once_even_while_rows_are_added(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    _bulk_seed(app, "mama1", 1, 130)
    seen, url, pages = [], "/mama/associations?sort=name&dir=desc", 0
    while url:
        codes, url, _, html = _page(client, url)
        seen += codes
        pages += 1
        if pages == 2:  # rows added before and after the reader's position shift no row onto two pages
            _bulk_seed(app, "mama1", 500, 5)
            assert "after=" in url and "page=3" in url
    assert pages == 3 and "3 / 3 ページ（全135件）" in html
    original = [f"A{n:05d}" for n in range(1, 131)]
    assert len(seen) == len(set(seen)) and set(original) <= set(seen)


def test_prev_links_walk_back_to_the_first_page(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    _bulk_seed(app, "mama1", 1, 120)
    first, url, _, _ = _page(client, "/mama/associations")
    second, url, _, _ = _page(client, url)
    third, _, url, html = _page(client, url)
    assert third == [f"A{n:05d}" for n in range(101, 121)] and "3 / 3 ページ" in html
    back, _, url, html = _page(client, url)
    assert back == second == [f"A{n:05d}" for n in range(51, 101)] and "2 / 3 ページ" in html
    assert url.endswith("page=1") or "page=1&" in url
    assert _page(client, url)[0] == first == [f"A{n:05d}" for n in range(1, 51)]


def test_a_typed_deep_page_matches_offset_and_odd_cursors_show_page_one(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    make_tenant("mama2", product="mama")
    _bulk_seed(app, "mama1", 1, 120)
    _bulk_seed(app, "mama2", 1, 3)
    with in_tenant(app, "mama2"):
        foreign = db.session.execute(sa.select(MamaAssociation.id)).scalars().first()
    for sort in ("code", "name", "units", "updated"):  # units may be NULL: plain OFFSET there
        typed = _page(client, f"/mama/associations?sort={sort}&page=2")[0]
        walked = _page(client, _page(client, f"/mama/associations?sort={sort}")[1])[0]
        assert typed == walked and len(typed) == 50, sort
    assert _page(client, "/mama/associations?page=4")[0] == []
    first, third = _page(client, "/mama/associations")[0], _page(client, "/mama/associations?page=3")[0]
    for odd in (f"after={foreign}", f"before={foreign}", "after=999999", "before=2147483647"):  # no row of this list
        assert _page(client, f"/mama/associations?page=3&{odd}")[0] == first, odd
    for odd in ("after=abc", "before=-1", "after=99999999999", "after=%00"):  # not an id: the page number counts
        assert _page(client, f"/mama/associations?page=3&{odd}")[0] == third, odd


def test_the_count_stops_at_the_cap(app, make_tenant):
    info = make_tenant("acme")
    with app.app_context(), tenant_scope(db.session.get(Tenant, info.id)):
        db.session.add_all(SampleNote(title=f"メモ{n}", body="") for n in range(7))
        db.session.commit()
        assert capped_count(sa.select(SampleNote), cap=10) == (7, False)
        assert capped_count(sa.select(SampleNote), cap=7) == (7, False)
        assert capped_count(sa.select(SampleNote), cap=5) == (5, True)
    with app.test_request_context("/"):
        from flask import render_template_string

        from app.listing import Page

        html = render_template_string('{% from "_macros.html" import pagination %}{{ pagination(page, "main.dashboard", {}) }}',
                                      page=Page([], 1, 50, 10_000, True, True, {"page": 2, "after": 9}))
    assert "1 / 200+ ページ（全10000件以上）" in html and 'href="/?page=2&amp;after=9" rel="next"' in html


# Page 1, a typed deep page (the default sort, on a unique index), 次へ pages (cursors) of two sorts: each page
# query from the sort's index. (A typed deep page of a non-unique sort finds its boundary by (column, id); an index
# on the column alone leaves that to the planner on PostgreSQL, so its 次へ links are what must seek.)
def _plan_urls(client) -> list[tuple[str, str]]:
    after = _page(client, "/mama/associations?page=20")[1]
    by_name = _page(client, "/mama/associations?sort=name&dir=desc&page=25")[1]
    return [("/mama/associations", "uq_mama_associations_tenant_live_code"),
            ("/mama/associations?page=30", "uq_mama_associations_tenant_live_code"),
            (after, "uq_mama_associations_tenant_live_code"),
            (by_name, "ix_mama_associations_tenant_kana")]


def test_first_deep_cursor_and_search_pages_use_indexes(app, make_tenant):
    _, client = admin_client(app, make_tenant)
    _bulk_seed(app, "mama1", 1, 2_000)
    analyze(app)
    now = stopped_clock()
    with still_at(now):
        counts = {url: len(reads_of(app, client, url)) for url, _ in _plan_urls(client)}
    assert len(set(counts.values())) == 1, counts  # a deep or cursor page costs what page 1 costs
    postgres = dialect_of(app) == "postgresql"
    for url, index in _plan_urls(client):
        statements = reads_of(app, client, url)
        count = the_query(statements, "count(*)", "mama_associations")
        assert "LIMIT" in count.sql  # counting stops at the cap
        # PostgreSQL may read a table of 2,000 rows whole for a count up to 10,001; SQLite counts from the index.
        for statement in (the_query(statements, "SELECT mama_associations.id, "), *(() if postgres else (count,))):
            plan = plan_of(app, statement)
            if postgres:
                assert "Seq Scan" not in plan and "Index" in plan, (url, plan)
            else:
                assert "SCAN mama_associations" not in plan and "TEMP B-TREE" not in plan, (url, plan)
        assert index in plan_of(app, the_query(statements, "SELECT mama_associations.id, ")), url
    search = the_query(reads_of(app, client, "/mama/associations?q=だい1234かんり"),
                       "SELECT mama_associations.id, ")  # a rare word (one row): the trigram index pays
    plan = plan_of(app, search)
    assert ("ix_mama_associations_search_trgm" in plan) if postgres else ("mama_associations_fts" in plan), plan
