"""Kana-, width- and case-insensitive search: a ``search_text`` column the core keeps up to date, and the one
query function every list uses (:func:`matching`; issue 13 gives it a trigram index, so keep searching here).

A model mixes in :class:`Searchable` and names its searchable fields::

    class Thing(TenantScoped, Searchable, db.Model):
        __search_fields__ = ("code", "name", "kana", ("prefecture", "city", "address_line"))

A tuple is one piece written without separators (an address typed as 「新宿区西新宿」 spans its columns).
On every ORM insert and update — and on a bulk ``session.execute(insert(Thing), rows)`` — the core writes
``search_text``: each piece through :func:`app.kana.search_key` (NFKC, hiragana → katakana, case folded),
one piece per line. A search word goes through the same function, so 「しんじゅく」「ｼﾝｼﾞｭｸ」「シンジュク」 find
the same rows and 「Ａ００１」 finds A001.

Each searchable table carries a trigram index on ``search_text`` so a substring search stays fast at 100,000
rows, with the same results on both databases:

* PostgreSQL: a ``pg_trgm`` GIN index ``ix_<table>_search_trgm``; ``LIKE '%word%'`` is served by it.
* SQLite: an FTS5 table ``<table>_fts`` (``trigram`` tokenizer, case-sensitive because ``search_text`` is
  already folded) with external content ``<table>`` and rowid = ``id``, kept in sync by triggers on insert,
  update and delete (so bulk and raw SQL changes are covered too). A word of three or more characters is
  looked up with ``MATCH`` on the quoted word, which narrows the rows through the index; one- and two-
  character words have no trigram and fall back to ``LIKE``. A list's count starts from the FTS table (joined), so
  it stops at its cap; a word common enough to reach it is checked with ``LIKE`` row by row in the list's order
  (:func:`matching` ``common``), since its first page is near the start of any order.

Either way the meaning is "substring of the normalised ``search_text``": the ``LIKE`` is kept next to the
``MATCH`` (checked only on the rows the index returned), so FTS query syntax, quotes and ``%`` ``_`` are plain
characters. Tenant scoping stays with the caller's query (``TenantScoped``). ``create_all`` builds the index
and the FTS table with its triggers; migration ``0025_search_trigram`` does it for an existing database.

Never name an encrypted column (``EncryptedText``) in ``__search_fields__``: ``search_text`` is stored in
clear, so it would leak the personal data the encryption protects. The mapper refuses it at start-up.
"""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from .kana import search_key

SEPARATOR = "\n"  # never inside a search word (words are split on white space)
MAX_WORDS = 5
TRIGRAM = 3  # the shortest word a trigram index can look up


class Searchable:
    """Mixin: a normalised ``search_text`` column kept by the core from ``__search_fields__``."""

    __search_fields__: tuple = ()

    search_text: Mapped[str] = mapped_column(sa.Text, default="")


def _pieces(fields: tuple) -> list[tuple[str, ...]]:
    return [field if isinstance(field, tuple) else (field,) for field in fields]


def search_text_of(model: type, value_of: Callable[[str], object]) -> str:
    """The ``search_text`` of one row, reading each field through ``value_of(name)`` (an object or a dict)."""
    parts = []
    for piece in _pieces(model.__search_fields__):
        text = search_key("".join(str(value) for value in (value_of(name) for name in piece) if value is not None))
        if text:
            parts.append(text)
    return SEPARATOR.join(parts)


def matching(query, model: type, words: str, max_words: int = MAX_WORDS, *, common: bool = False,
             from_index: bool = False):
    """Keep the rows of ``model`` in which every search word (up to ``max_words``, split on spaces) appears,
    compared through :func:`app.kana.search_key`; ``%`` and ``_`` are literal.

    ``common=True`` (the words match many rows, e.g. a capped count reached its cap): on SQLite the rows are
    read in the query's order and each is checked, instead of starting from every row the trigram index finds —
    a page of 50 is then found after a few hundred rows rather than after sorting all the matches.

    ``from_index=True`` (SQLite only; for a capped count, in no order): the select starts from the first long
    word's FTS table joined to ``model``, so it stops after the rows it needs instead of first listing every
    match (an ``IN`` list is built whole: 16,000 ids for a common word at 100,000 rows)."""
    for word in (words or "").split()[:max_words]:
        key = search_key(word)
        if not key:
            continue
        if from_index and len(key) >= TRIGRAM:
            fts = sa.table(fts_table(model.__table__.name), sa.column("rowid"))
            query = query.join(fts, fts.c.rowid == model.id).where(_fts_match(fts, key))
            query, from_index = query.where(SubstringOf(model, key, indexed=False)), False
        else:
            query = query.where(SubstringOf(model, key, indexed=not common))
    return query


def fts_table(table_name: str) -> str:
    """The name of the SQLite FTS5 trigram table that indexes ``table_name.search_text``."""
    return f"{table_name}_fts"


def trigram_index(table_name: str) -> str:
    """The name of the PostgreSQL ``pg_trgm`` GIN index on ``table_name.search_text``."""
    return f"ix_{table_name}_search_trgm"


def sqlite_fts_ddl(table_name: str) -> list[str]:
    """The statements that create the FTS5 table of ``table_name`` and the triggers keeping it in sync."""
    fts = fts_table(table_name)
    # table_name is a model's __tablename__, never user input.
    insert = f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);"  # noqa: S608  # nosec B608
    delete = f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"  # noqa: S608  # nosec B608
    return [
        f"DROP TABLE IF EXISTS {fts}",
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table_name}', content_rowid='id', "
        "tokenize='trigram case_sensitive 1')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table_name} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table_name} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_text ON {table_name} BEGIN {delete} {insert} END",
    ]


def managed_by_hand(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic ``include_object``: False for the trigram indexes and FTS tables, which migrations write by hand
    (autogenerate cannot see dialect-only DDL, and would drop the FTS tables it reflects on SQLite)."""
    if type_ == "table" and name and "_fts" in name:
        return False
    return not (type_ == "index" and name and name.endswith("_search_trgm"))


class SubstringOf(ColumnElement):
    """``key`` is a substring of ``model.search_text``: compiled per database to use its trigram index.

    Both forms are built here, with the word in bound parameters only, so the statement keeps one cache key per
    shape and SQLAlchemy compiles it once (a compile on every search was a third of the search page's cost)."""

    type = sa.Boolean()
    inherit_cache = True
    _traverse_internals = [("like_", InternalTraversal.dp_clauseelement),
                           ("in_index", InternalTraversal.dp_clauseelement)]

    def __init__(self, model: type, key: str, indexed: bool = True):
        self.model = model
        self.key = key
        self.like_ = model.search_text.contains(key, autoescape=True)
        self.in_index = model.id.in_(_fts_ids(model, key)) if indexed and len(key) >= TRIGRAM else None

    def like(self):
        """The plain ``LIKE '%key%'`` form (``%`` ``_`` escaped), which the GIN index serves on PostgreSQL."""
        return self.like_


def _fts_match(fts, key: str):
    """``fts MATCH`` the quoted ``key`` (FTS query syntax in it is plain text)."""
    phrase = '"' + key.replace('"', '""') + '"'
    return sa.literal_column(fts.name).op("MATCH")(sa.bindparam(None, phrase, type_=sa.Text))


def _fts_ids(model: type, key: str):
    """The ids the SQLite FTS5 trigram table finds for ``key``."""
    fts = sa.table(fts_table(model.__table__.name))
    return sa.select(sa.literal_column("rowid")).select_from(fts).where(_fts_match(fts, key))


@compiles(SubstringOf)
def _compile_substring(element, compiler, **kw):
    return compiler.process(element.like_, **kw)


@compiles(SubstringOf, "sqlite")
def _compile_substring_sqlite(element, compiler, **kw):
    if element.in_index is None:
        return compiler.process(element.like_, **kw)
    return compiler.process(sa.and_(element.in_index, element.like_), **kw)


@event.listens_for(Searchable, "instrument_class", propagate=True)
def _add_trigram_index(mapper, cls) -> None:
    table = mapper.local_table
    if table is None or "search_text" not in table.c or table.info.get("search_trigram"):
        return
    table.info["search_trigram"] = True
    sa.Index(trigram_index(table.name), table.c.search_text, postgresql_using="gin",
             postgresql_ops={"search_text": "gin_trgm_ops"}).ddl_if(dialect="postgresql")
    event.listen(table, "before_create",
                 sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))
    for statement in sqlite_fts_ddl(table.name):
        event.listen(table, "after_create", sa.DDL(statement).execute_if(dialect="sqlite"))
    event.listen(table, "after_drop",
                 sa.DDL(f"DROP TABLE IF EXISTS {fts_table(table.name)}").execute_if(dialect="sqlite"))


@event.listens_for(Searchable, "before_insert", propagate=True)
@event.listens_for(Searchable, "before_update", propagate=True)
def _write_search_text(mapper, connection, target) -> None:
    target.search_text = search_text_of(type(target), lambda name: getattr(target, name, None))


@event.listens_for(Searchable, "mapper_configured", propagate=True)
def _refuse_encrypted_fields(mapper, cls) -> None:
    from .crypto import EncryptedText

    for piece in _pieces(getattr(cls, "__search_fields__", ())):
        for name in piece:
            columns = getattr(mapper.attrs.get(name), "columns", ())
            if any(isinstance(column.type, EncryptedText) for column in columns):
                raise TypeError(f"{cls.__name__}.{name} is encrypted and must not be in __search_fields__")


@event.listens_for(Session, "do_orm_execute")
def _fill_bulk_insert(state):
    """A bulk ``insert(Model)`` with a list of rows skips the mapper events: fill ``search_text`` here."""
    if not state.is_insert:
        return None
    mapper = state.bind_mapper
    if mapper is None or not issubclass(mapper.class_, Searchable) or not state.parameters:
        return None
    model = mapper.class_
    if state.is_executemany:
        params = [{"search_text": search_text_of(model, row.get)} for row in state.parameters]
    else:
        params = {"search_text": search_text_of(model, state.parameters.get)}
    return state.invoke_statement(params=params)
