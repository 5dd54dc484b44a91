"""List screens: search over given columns, a whitelisted sort from the query string, pagination.

A product's list view builds its select, hands it to :func:`listing` with the columns that may be
searched and sorted, and renders ``sort_link`` / ``pagination`` from ``_macros.html`` with the
returned :class:`Listing`. Paging is by OFFSET (Flask-SQLAlchemy's ``db.paginate``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from .extensions import db
from .forms import normalize_kana
from .queryargs import choice_arg, int_arg, text_arg
from .searchtext import matching

PER_PAGE = 50
MAX_WORDS = 5
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
    """One page of query from ``page=`` (bad or too large numbers give page 1 or an empty page, never an error)."""
    return db.paginate(query, page=int_arg("page"), per_page=per_page, error_out=False)


@dataclass
class Listing:
    """A rendered list: the page of rows, the search words, the sort and the arguments links keep."""

    page: Pagination
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
    """Search (``q=``), sort (``sort=``/``dir=`` from the whitelist) and paginate (``page=``) a select.

    ``searchable`` (a ``app.searchtext.Searchable`` model) searches its ``search_text`` through
    ``app.searchtext.matching``; ``columns``/``kana``/``prefix`` search plain columns (models without it)."""
    q = ""
    if searchable is not None:
        q = text_arg("q")
        query = matching(query, searchable, q)
    elif columns or kana or prefix:
        q = text_arg("q")
        query = search(query, q, columns, kana=kana, prefix=prefix)
    sort = None
    if sorts:
        sort = sort_arg(sorts, default_sort or next(iter(sorts)))
        query = order(query, sorts, sort, tiebreak)
    return Listing(paginate(query, per_page), q, sort, dict(filters or {}))
