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

Never name an encrypted column (``EncryptedText``) in ``__search_fields__``: ``search_text`` is stored in
clear, so it would leak the personal data the encryption protects. The mapper refuses it at start-up.
"""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from .kana import search_key

SEPARATOR = "\n"  # never inside a search word (words are split on white space)
MAX_WORDS = 5


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


def matching(query, model: type, words: str, max_words: int = MAX_WORDS):
    """Keep the rows of ``model`` in which every search word (up to ``max_words``, split on spaces) appears,
    compared through :func:`app.kana.search_key`; ``%`` and ``_`` are literal."""
    for word in (words or "").split()[:max_words]:
        key = search_key(word)
        if key:
            query = query.where(model.search_text.contains(key, autoescape=True))
    return query


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
