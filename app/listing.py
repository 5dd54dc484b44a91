"""List screens: search over given columns, a whitelisted sort from the query string, pagination.

A product's list view builds its select, hands it to :func:`listing` with the columns that may be
searched and sorted, and renders ``sort_link`` / ``pagination`` from ``_macros.html`` with the
returned :class:`Listing`.

Paging stays cheap on large tables (issue 13):

* 次へ / 前へ links seek from the last / first row shown (``after=`` / ``before=`` its id, keyset paging), when
  every sort column is NOT NULL: the database starts at that row in the sort's index instead of skipping the
  rows before it, and rows inserted meanwhile never shift a row onto two pages or off both.
* A page typed by number (``page=N`` alone) first finds the row just before it with an id-only query over the
  index (no table row read for the skipped rows), then seeks from it the same way; with a nullable sort column
  it is plain OFFSET.
* The count stops at :data:`COUNT_CAP` rows (「1000 件以上」), so a large result is not counted to its end.
* A search (``searchable``) is counted first, in no order, from the trigram index; a word that reaches the cap is
  common, and its page is read in the sort's order checking each row (``app.searchtext.matching(common=True)``),
  instead of sorting every match.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import url_for
from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup, escape

from .extensions import db
from .forms import normalize_kana
from .queryargs import choice_arg, int_arg, text_arg
from .routing import MAX_ROW_ID
from .searchtext import matching

PER_PAGE = 50
MAX_WORDS = 5
COUNT_CAP = 1_000  # a result is counted up to here; beyond it the page says 「1000 件以上」
DIRECTIONS = ("asc", "desc")


def _columns(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def search(query, words: str, columns: Iterable = (), *, kana: Iterable = (), prefix: Iterable = (),
           max_words: int = MAX_WORDS):
    """Keep the rows where every word (up to ``max_words``, split on spaces) is found in one column.

    ``columns`` match anywhere in the text, ``prefix`` columns at the start (codes), ``kana`` columns
    anywhere after the word went through ``normalize_kana`` (so ｾﾀｶﾞﾔ and せたがや find セタガヤ).
    The user's ``%`` and ``_`` are literal (``autoescape``); encrypted columns cannot be searched.
    """
    columns, kana, prefix = tuple(columns), tuple(kana), tuple(prefix)
    for word in words.split()[:max_words]:
        kana_word = normalize_kana(word)
        conditions = [column.startswith(word, autoescape=True) for column in prefix]
        conditions += [column.contains(word, autoescape=True) for column in columns]
        conditions += [column.contains(kana_word, autoescape=True) for column in kana]
        if conditions:
            query = query.where(sa.or_(*conditions))
    return query


@dataclass(frozen=True)
class Sort:
    """The chosen sort key and direction."""

    key: str
    descending: bool = False

    @property
    def dir(self) -> str:
        """'asc' or 'desc', as the query string spells it."""
        return "desc" if self.descending else "asc"


def sort_arg(sorts: Mapping, default: str) -> Sort:
    """Read ``sort=`` and ``dir=`` against the whitelist ``sorts`` (unknown values give the default)."""
    return Sort(choice_arg("sort", sorts, default), choice_arg("dir", DIRECTIONS, "asc") == "desc")


def order(query, sorts: Mapping, sort: Sort, tiebreak=None):
    """ORDER BY the chosen key's column(s) (a column or a tuple), then ``tiebreak`` for stable pages."""
    columns = _columns(sorts[sort.key]) + ((tiebreak,) if tiebreak is not None else ())
    return query.order_by(*[column.desc() if sort.descending else column.asc() for column in columns])


def paginate(query, per_page: int = PER_PAGE) -> Pagination:
    """One page of query from ``page=`` by OFFSET (short lists such as the trash; bad numbers give page 1)."""
    return db.paginate(query, page=int_arg("page"), per_page=per_page, error_out=False)


@dataclass
class Page:
    """One page of a list: its rows, its number, the (capped) count and the arguments of the links next to it."""

    items: list
    page: int
    per_page: int
    total: int
    total_capped: bool = False
    has_next: bool = False
    next_args: dict = field(default_factory=dict)
    prev_args: dict = field(default_factory=dict)

    @property
    def has_prev(self) -> bool:
        """True after the first page."""
        return self.page > 1

    @property
    def pages(self) -> int:
        """How many pages the count makes (at least 1; a lower bound when the count was capped)."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def prev_num(self) -> int:
        """The previous page's number."""
        return self.page - 1

    @property
    def next_num(self) -> int:
        """The next page's number."""
        return self.page + 1


def _entity(query):
    descriptions = query.column_descriptions
    return descriptions[0].get("entity") if len(descriptions) == 1 else None


def _primary_key(query):
    """The ORM attribute of the listed model's single-column primary key, or None (not a one-model select)."""
    entity = _entity(query)
    if entity is None:
        return None
    keys = sa.inspect(entity).primary_key
    return getattr(entity, keys[0].key) if len(keys) == 1 else None


def _narrowed(query, *columns):
    """The same rows' columns only (an index can answer it), or None when the select joins other tables."""
    # The select's own join list and FROM list (cheaper than resolving get_final_froms() on every page).
    if getattr(query, "_setup_joins", True) or getattr(query, "_from_obj", True):
        return None
    narrow = sa.select(*columns)
    return narrow.where(query.whereclause) if query.whereclause is not None else narrow


def capped_count(query, cap: int = COUNT_CAP, columns: tuple = (), descending: bool = False) -> tuple[int, bool]:
    """How many rows query gives, counting at most ``cap`` of them: (count, True when there are more).

    Given the sort's ``columns`` the ids are read in that order, so the sort's index answers the count alone."""
    pk = _primary_key(query)
    ids = _narrowed(query, pk) if pk is not None else None
    rows = query.order_by(None) if ids is None else _ordered(ids, columns, descending) if columns else ids
    found = db.session.execute(sa.select(sa.func.count()).select_from(rows.limit(cap + 1).subquery())).scalar_one()
    return (cap, True) if found > cap else (found, False)


def _unique(query, columns: tuple) -> bool:
    """True when a unique index of the listed table is (tenant_id, *columns): the sort is already total, and
    adding the id would keep PostgreSQL from walking that index in order. (A unique index limited to live rows
    counts: lists show live rows; the trash pages by number.)"""
    names = tuple(getattr(column, "key", None) for column in columns)
    table = getattr(_entity(query), "__table__", None)
    if not names or table is None:
        return False
    keys = {tuple(column.key for column in index.columns) for index in table.indexes if index.unique}
    keys |= {tuple(column.key for column in constraint.columns) for constraint in table.constraints
             if isinstance(constraint, sa.UniqueConstraint)}
    return names in keys or ("tenant_id", *names) in keys


def _seekable(columns: tuple) -> bool:
    """True when every sort column is a NOT NULL column (a NULL compares as unknown, so it cannot be sought)."""
    return all(isinstance(column.expression, sa.Column) and not column.expression.nullable
               for column in columns if hasattr(column, "expression"))


def _seek(query, columns: tuple, boundary, descending: bool, after: bool):
    """Rows after (or before) the boundary row in the order of columns (ending with the primary key), read from
    the sort's index. ``boundary`` selects that row's values of columns inside the same statement (tenant-scoped
    like the list), so an id of another tenant or of no row matches nothing."""
    left, right = sa.tuple_(*columns), boundary.scalar_subquery()
    return query.where(left > right if after != descending else left < right)


def _row(query, columns: tuple, pk, row_id: int):
    """A select of the sort columns of the row ``row_id`` (a cursor) if it is one of query's rows: a row outside
    the list (another scope, filter or tenant) gives nothing, so its place in the order is never revealed."""
    return _narrowed(query, *columns).where(pk == row_id)


def _ordered(query, columns: tuple, descending: bool):
    return query.order_by(None).order_by(*[column.desc() if descending else column.asc() for column in columns])


def page_of(query, columns: tuple = (), descending: bool = False, per_page: int = PER_PAGE,
            count: tuple[int, bool] | None = None) -> Page:
    """One page of query, sorted by columns, from ``after=`` / ``before=`` (a row id) or ``page=`` (a number);
    ``count`` is the query's :func:`capped_count` when the caller has it already."""
    number = int_arg("page")
    after = int_arg("after", default=None, maximum=MAX_ROW_ID)
    before = int_arg("before", default=None, maximum=MAX_ROW_ID)
    pk = _primary_key(query)
    columns = tuple(columns)
    if pk is not None and not any(column is pk for column in columns) and not _unique(query, columns):
        columns += (pk,)
    total, capped = count if count is not None else capped_count(query, COUNT_CAP, columns, descending)
    cursor_given = after is not None or before is not None
    seekable = pk is not None and _seekable(columns) and _narrowed(query, pk) is not None
    if not seekable:
        rows = db.session.execute(_ordered(query, columns, descending).limit(per_page + 1)
                                  .offset((number - 1) * per_page)).scalars().all()
        return Page(rows[:per_page], number, per_page, total, capped, len(rows) > per_page, {"page": number + 1},
                    {"page": number - 1})
    boundary = _row(query, columns, pk, after) if after is not None else None
    if not cursor_given and number > 1:
        # A page typed by number: the row ending the previous page, found in the sort's index alone (no table
        # row read for the rows skipped), inside the same statement; the page then seeks from it.
        boundary = _ordered(_narrowed(query, *columns), columns, descending).limit(1).offset((number - 1) * per_page - 1)
    rows, number, has_next = _seek_page(query, columns, pk, descending, per_page, boundary, before, number)
    if not rows and cursor_given:
        # The row sought from is gone (deleted) or not in this list: show the first page instead.
        rows, number, has_next = _seek_page(query, columns, pk, descending, per_page, None, None, 1)
    next_args = {"page": number + 1, "after": getattr(rows[-1], pk.key)} if rows else {}
    prev_args = {"page": number - 1, "before": getattr(rows[0], pk.key)} if rows and number > 2 else {"page": 1}
    return Page(rows, number, per_page, total, capped, has_next, next_args, prev_args)


def _seek_page(query, columns: tuple, pk, descending: bool, per_page: int, boundary, before: int | None,
               number: int) -> tuple[list, int, bool]:
    """(rows, page number, has a next page) of the page after ``boundary``, before the row ``before`` or the
    first page."""
    if before is not None:
        rows = db.session.execute(_ordered(_seek(query, columns, _row(query, columns, pk, before), descending, after=False),
                                           columns, not descending).limit(per_page + 1)).scalars().all()
        more_before = len(rows) > per_page
        return rows[:per_page][::-1], (max(number, 2) if more_before else 1), bool(rows)
    if boundary is not None:
        query = _seek(query, columns, boundary, descending, after=True)
        number = max(number, 2)
    rows = db.session.execute(_ordered(query, columns, descending).limit(per_page + 1)).scalars().all()
    return rows[:per_page], number, len(rows) > per_page


@dataclass
class Listing:
    """A rendered list: the page of rows, the search words, the sort and the arguments links keep."""

    page: Page | Pagination
    q: str = ""
    sort: Sort | None = None
    filters: dict = field(default_factory=dict)

    @property
    def args(self) -> dict:
        """Query-string arguments that keep this search, filters and sort (for pagination links)."""
        args = {"q": self.q, **self.filters} if self.q else dict(self.filters)
        if self.sort is not None:
            args.update(sort=self.sort.key, dir=self.sort.dir)
        return args

    def sort_args(self, key: str) -> dict:
        """Arguments of a column header link: the same key flips direction, another sorts ascending."""
        descending = self.sort is not None and self.sort.key == key and not self.sort.descending
        return {**self.args, "sort": key, "dir": "desc" if descending else "asc"}


def listing(query, *, sorts: Mapping | None = None, default_sort: str | None = None, tiebreak=None,
            columns: Iterable = (), kana: Iterable = (), prefix: Iterable = (), searchable: type | None = None,
            filters: dict | None = None, per_page: int = PER_PAGE) -> Listing:
    """Search (``q=``), sort (``sort=``/``dir=`` from the whitelist) and page (``page=``, ``after=``/``before=``:
    see :func:`page_of`) a select; the count is capped at :data:`COUNT_CAP`.

    ``searchable`` (a ``app.searchtext.Searchable`` model) searches its ``search_text`` through
    ``app.searchtext.matching``; ``columns``/``kana``/``prefix`` search plain columns (models without it)."""
    q, count = "", None
    if searchable is not None:
        q = text_arg("q")
        if q.strip():
            # Counted in no order, the count stops at the cap among the trigram index's rows. A word that reaches
            # it is common: the page is then read in the sort's order, checking rows, not by sorting every match.
            ids = _narrowed(query, _primary_key(query))
            count = capped_count(matching(query if ids is None else ids, searchable, q,
                                          from_index=db.engine.dialect.name == "sqlite"))
        query = matching(query, searchable, q, common=count is not None and count[1])
    elif columns or kana or prefix:
        q = text_arg("q")
        query = search(query, q, columns, kana=kana, prefix=prefix)
    sort = sort_arg(sorts, default_sort or next(iter(sorts))) if sorts else None
    columns = _columns(sorts[sort.key]) + ((tiebreak,) if tiebreak is not None else ()) if sort else ()
    return Listing(page_of(query, columns, sort.descending if sort else False, per_page, count), q, sort,
                   dict(filters or {}))


PLAIN_TD = "<td>"


class TableCells:
    """A ``data_table``'s opening ``<td>`` tags (data-label, class), built once per table.

    The rows are rendered with plain ``<td>`` tags, and :meth:`fill` gives each its column's tag in one pass over
    the table: no per-cell output of a tag (each was an ``escape`` of a ``Markup``, a seventh of a list page).
    Escaped text never holds ``<td>`` (its ``<`` became ``&lt;``), so only the template's own tags are filled."""

    __slots__ = ("_tags",)

    def __init__(self, tags: list[str]):
        self._tags = tags

    def fill(self, body: str) -> Markup:
        """``body`` (rendered rows, autoescaped) with its n-th plain ``<td>`` given the tag of column n mod count."""
        parts = str(body).split(PLAIN_TD)
        cells = len(parts) - 1
        if cells % len(self._tags):
            raise ValueError(f"data_table: {cells} plain <td> for {len(self._tags)} columns")
        filled = [""] * (2 * cells + 1)
        filled[::2] = parts
        filled[1::2] = self._tags * (cells // len(self._tags))
        return Markup("".join(filled))  # noqa: S704  # nosec B704  # autoescaped rows, tags escaped in table_cells


def table_cells(columns: Iterable) -> TableCells:
    """The opening ``<td>`` of each ``data_table`` column ``(key, label[, sort key[, class]])``."""
    tags = []
    for column in columns:
        css = column[3] if len(column) > 3 and column[3] else None
        tags.append(str(Markup('<td data-label="{}"{}>').format(
            column[1], Markup(' class="{}"').format(css) if css else "")))
    return TableCells(tags)


_ID_MARK = 987654321987654321  # an id no row has: url_for runs once, each row's id replaces this mark


class RowUrl:
    """``url_for(endpoint, id_arg=row_id, **values)`` of each row, from one url_for call: ``urls[row.id]`` in a
    template (a subscript, cheaper there than a call; the id must be an int)."""

    __slots__ = ("_head", "_tail")

    def __init__(self, head: str, tail: str):
        self._head, self._tail = head, tail

    def __getitem__(self, row_id: int) -> Markup:
        return Markup(self._head + str(int(row_id)) + self._tail)  # noqa: S704  # nosec B704  # escaped, an int


def row_url(endpoint: str, id_arg: str, **values) -> RowUrl:
    """Each row's ``url_for(endpoint, id_arg=row_id, **values)`` (see :class:`RowUrl`), with one url_for call."""
    head, _, tail = url_for(endpoint, **{id_arg: _ID_MARK}, **values).partition(str(_ID_MARK))
    return RowUrl(str(escape(head)), str(escape(tail)))
