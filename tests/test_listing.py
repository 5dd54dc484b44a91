"""The core's list toolkit (app.listing) and its macros (sort_link, pagination, post_button, confirm_page)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import render_template_string

from app.extensions import db
from app.forms import ConfirmForm
from app.listing import Listing, Sort, listing, order, search, sort_arg
from app.models import Tenant
from app.tenancy import tenant_scope
from tests.plugins.sample_product import SampleNote

TITLES = ["セタガヤ ハイツ", "シンジュク タワー", "100% コーポ", "A_1 レジデンス", "AB1 レジデンス"]
SORTS = {"title": SampleNote.title, "id": SampleNote.id}


def _tenant_with_notes(app, make_tenant, titles=TITLES) -> int:
    info = make_tenant("acme")
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, info.id)):
            db.session.add_all(SampleNote(title=title, body="本文") for title in titles)
            db.session.commit()
    return info.id


def _titles(app, tenant_id: int, url: str, query=None, **options) -> list[str]:
    with app.test_request_context(url):
        with tenant_scope(db.session.get(Tenant, tenant_id)):
            options = {"sorts": SORTS, "per_page": 3} if query is not None and not options else options
            result = listing(query if query is not None else sa.select(SampleNote), **options)
            return [note.title for note in result.page.items]


def test_search_is_kana_insensitive_on_kana_columns(app, make_tenant):
    tenant = _tenant_with_notes(app, make_tenant)
    for typed in ("セタガヤ", "せたがや", "ｾﾀｶﾞﾔ", "ｾﾀ ﾊｲﾂ"):
        assert _titles(app, tenant, f"/?q={typed}", kana=[SampleNote.title]) == ["セタガヤ ハイツ"], typed
    # a plain column gets the word as typed
    assert _titles(app, tenant, "/?q=せたがや", columns=[SampleNote.title]) == []


def test_search_words_are_literal_and_all_must_match(app, make_tenant):
    tenant = _tenant_with_notes(app, make_tenant)
    assert _titles(app, tenant, "/?q=%25", columns=[SampleNote.title]) == ["100% コーポ"]
    assert _titles(app, tenant, "/?q=A_1", columns=[SampleNote.title]) == ["A_1 レジデンス"]
    assert _titles(app, tenant, "/?q=レジデンス AB", columns=[SampleNote.title]) == ["AB1 レジデンス"]
    assert _titles(app, tenant, "/?q=1", prefix=[SampleNote.title], sorts=SORTS) == ["100% コーポ"]
    assert len(_titles(app, tenant, "/?q=", columns=[SampleNote.title])) == len(TITLES)


def test_search_without_columns_changes_nothing():
    query = sa.select(SampleNote)
    assert str(search(query, "abc")) == str(query)


def test_sort_is_whitelisted(app, make_tenant):
    tenant = _tenant_with_notes(app, make_tenant)
    by_title = sorted(TITLES)
    assert _titles(app, tenant, "/?sort=title", sorts=SORTS) == by_title
    assert _titles(app, tenant, "/?sort=title&dir=desc", sorts=SORTS) == by_title[::-1]
    in_order = _titles(app, tenant, "/", sorts=SORTS, default_sort="id")
    assert in_order == TITLES
    for bad in ("/?sort=body", "/?sort=tenant_id&dir=sideways", "/?sort=%00"):
        assert _titles(app, tenant, bad, sorts=SORTS, default_sort="id") == TITLES, bad
    with app.test_request_context("/?sort=title&dir=desc"):
        assert sort_arg(SORTS, "id") == Sort("title", True)
        statement = str(order(sa.select(SampleNote), {"t": (SampleNote.title, SampleNote.body)}, Sort("t", True),
                              tiebreak=SampleNote.id))
        assert "ORDER BY sample_notes.title DESC, sample_notes.body DESC, sample_notes.id DESC" in statement


def test_pagination_by_offset_never_fails(app, make_tenant):
    tenant = _tenant_with_notes(app, make_tenant, [f"メモ{n:02d}" for n in range(7)])
    assert _titles(app, tenant, "/?page=2", sorts=SORTS, per_page=3) == ["メモ03", "メモ04", "メモ05"]
    assert _titles(app, tenant, "/?page=99", sorts=SORTS, per_page=3) == []
    for bad in ("abc", "-1", "0", "1e9", "９"):
        assert _titles(app, tenant, f"/?page={bad}", sorts=SORTS, per_page=3) == ["メモ00", "メモ01", "メモ02"], bad


def test_listing_arguments_keep_search_filters_and_sort():
    result = Listing(page=None, q="さくら", sort=Sort("title", False), filters={"area": "東京都"})
    assert result.args == {"q": "さくら", "area": "東京都", "sort": "title", "dir": "asc"}
    assert result.sort_args("title")["dir"] == "desc"          # the active column flips
    assert result.sort_args("id") == {**result.args, "sort": "id", "dir": "asc"}
    assert Listing(page=None, sort=Sort("title", True)).sort_args("title")["dir"] == "asc"
    assert Listing(page=None).args == {}


MACROS = """{% from "_macros.html" import sort_link, pagination, post_button, confirm_page %}
<th>{{ sort_link(listing, "main.dashboard", "title", "題名") }}</th><th>{{ sort_link(listing, "main.dashboard", "id", "番号") }}</th>
{{ pagination(listing.page, "main.dashboard", listing.args) }}
{{ post_button("/things/1/delete", "削除", form, "danger small", testid="delete-1") }}
{% call confirm_page("削除しますか？", form, "/things", error="最後の管理者です。") %}<p>本当に？</p>{% endcall %}"""


def test_macros_render_links_buttons_and_confirm_page(app, make_tenant):
    tenant = _tenant_with_notes(app, make_tenant, [f"メモ{n:02d}" for n in range(7)])
    with app.test_request_context("/?q=メモ&sort=title&dir=desc&page=2"):
        with tenant_scope(db.session.get(Tenant, tenant)):
            result = listing(sa.select(SampleNote), sorts=SORTS, columns=[SampleNote.title], per_page=3)
            html = render_template_string(MACROS, listing=result, form=ConfirmForm())
    assert 'class="sort active" href="/?q=%E3%83%A1%E3%83%A2&amp;sort=title&amp;dir=asc">題名 ▼</a>' in html
    assert 'class="sort" href="/?q=%E3%83%A1%E3%83%A2&amp;sort=id&amp;dir=asc">番号</a>' in html
    assert "2 / 3 ページ（全7件）" in html
    assert 'href="/?q=%E3%83%A1%E3%83%A2&amp;sort=title&amp;dir=desc&amp;page=1" rel="prev">前へ' in html
    # 次へ seeks from the last row shown (descending: メモ01): after= its id
    with app.app_context():
        last = db.session.execute(sa.select(SampleNote.id).where(SampleNote.title == "メモ01")
                                  .execution_options(all_tenants=True)).scalar_one()
    assert f'href="/?q=%E3%83%A1%E3%83%A2&amp;sort=title&amp;dir=desc&amp;page=3&amp;after={last}" rel="next">次へ' in html
    assert '<form method="post" action="/things/1/delete" class="inline">' in html
    assert '<button type="submit" class="danger small" data-testid="delete-1">削除</button>' in html
    assert html.count('name="csrf_token"') == 2
    assert "<h1>削除しますか？</h1>" in html and "最後の管理者です。" in html and "<p>本当に？</p>" in html
    assert '<a class="button" href="/things">キャンセル</a>' in html


TABLES = """{% from "_macros.html" import data_table %}
{% set columns = [("title", "題名", "title", "long"), ("body", "本文"), ("id", "番号", none, "num")] %}
{% call(note, key) data_table(notes, columns, testid="t") %}{% if key == "title" %}<b>{{ note.title }}</b>{% elif key == "body" %}{{ note.body }}{% else %}{{ note.id }}{% endif %}{% endcall %}
|{% call(note) data_table(notes, columns, testid="t", whole_rows=true) %}<td><b>{{ note.title }}</b></td><td>{{ note.body }}</td><td>{{ note.id }}</td>{% endcall %}"""


def test_data_table_whole_rows_renders_the_same_cells_as_one_call_per_cell(app):
    from types import SimpleNamespace

    notes = [SimpleNamespace(id=1, title="<b>危険</b> & 題名", body="<td>本文</td>"), SimpleNamespace(id=2, title="二", body="")]
    with app.test_request_context("/"):
        per_cell, whole = render_template_string(TABLES, notes=notes).split("|")
    assert "".join(per_cell.split()) == "".join(whole.split())
    assert '<td data-label="題名" class="long"><b>&lt;b&gt;危険&lt;/b&gt; &amp; 題名</b></td>' in whole
    # A user's "<td>" is text (escaped), never one of the cells the table fills with a column's label.
    assert '<td data-label="本文">&lt;td&gt;本文&lt;/td&gt;</td>' in whole
    assert '<td data-label="番号" class="num">2</td>' in whole
    assert "<td>" not in whole and whole.count("<td data-label=") == 6


def test_data_table_refuses_a_row_with_a_cell_missing(app):
    """A whole-row caller writing fewer plain <td> than columns would shift every later label: it fails loudly."""
    from types import SimpleNamespace

    broken = TABLES.replace("<td>{{ note.id }}</td>{% endcall %}", "{% endcall %}")
    with app.test_request_context("/"), pytest.raises(ValueError, match="3 columns"):
        render_template_string(broken, notes=[SimpleNamespace(id=1, title="a", body="b")])


def test_a_cursor_outside_the_list_gives_page_one(app, make_tenant):
    """after=/before= naming a row the list leaves out (another scope or filter) reveal nothing of its place."""
    tenant = _tenant_with_notes(app, make_tenant, [f"メモ{n:02d}" for n in range(7)] + ["ZZZ 別"])
    with app.app_context():
        ids = dict(db.session.execute(sa.select(SampleNote.title, SampleNote.id)
                                      .execution_options(all_tenants=True)).all())
    mine = sa.select(SampleNote).where(SampleNote.title.startswith("メモ"))
    first = ["メモ00", "メモ01", "メモ02"]
    assert _titles(app, tenant, f"/?sort=title&after={ids['メモ02']}", query=mine) == ["メモ03", "メモ04", "メモ05"]
    for cursor in (f"after={ids['ZZZ 別']}", f"before={ids['ZZZ 別']}"):
        assert _titles(app, tenant, f"/?sort=title&page=2&{cursor}", query=mine) == first, cursor
