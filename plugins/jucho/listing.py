"""List-screen helpers: whitelisted sorting and a keyword filter (sort=, dir=, page and q are read in the views)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa


@dataclass
class Sorting:
    """The chosen sort key and direction (unknown values fall back to the default)."""

    key: str
    descending: bool

    def args(self) -> dict:
        """Query-string arguments that keep this sorting on other links."""
        return {"sort": self.key, "dir": "desc" if self.descending else "asc"}

    def toggle(self, key: str) -> dict:
        """Arguments for a column header link: same key flips direction, a new key sorts ascending."""
        descending = not self.descending if key == self.key else False
        return {"sort": key, "dir": "desc" if descending else "asc"}

    def mark(self, key: str) -> str:
        """An arrow for the column currently sorted."""
        if key != self.key:
            return ""
        return "▼" if self.descending else "▲"


def apply_sorting(query, columns: dict, chosen: Sorting, tiebreak):
    """Order query by the chosen column (then by id so pages are stable)."""
    column = columns[chosen.key]
    order = column.desc() if chosen.descending else column.asc()
    return query.order_by(order, tiebreak.desc() if chosen.descending else tiebreak.asc())


def apply_keyword(query, words: str, *columns):
    """Keep rows where every word appears in one of the (plain-text) columns."""
    for word in words.split():
        query = query.where(sa.or_(*(column.contains(word, autoescape=True) for column in columns)))
    return query
