"""Safe reading of query-string arguments on list screens: never an exception, never a control character."""
from __future__ import annotations

from flask import request

from .forms import without_control_characters


def int_arg(name: str, default: int = 1, minimum: int = 1, maximum: int = 100_000) -> int:
    """An integer argument (ASCII digits only); anything unparsable or out of range gives the default."""
    value = request.args.get(name, "")
    if not value.isascii() or not value.isdigit():
        return default
    number = int(value)
    return number if minimum <= number <= maximum else default


def text_arg(name: str, limit: int = 100, source=None) -> str:
    """A search text from the query (or source): control characters dropped, trimmed, at most limit characters."""
    value = (source if source is not None else request.args).get(name) or ""
    return without_control_characters(value).strip()[:limit]
