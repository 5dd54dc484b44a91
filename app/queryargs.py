"""Safe reading of what a client sends outside WTForms: query-string arguments, cookies and headers.

Never an exception, never a control character: a value is checked against the alphabet and length the
app itself issues before it is used, and anything else is treated as absent.
"""
from __future__ import annotations

import math
import string
from collections.abc import Collection

from flask import request

from .forms import without_control_characters

# The alphabet of secrets.token_urlsafe (base64url without padding): what the app issues as tokens.
URLSAFE_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_")
MAX_TOKEN_LENGTH = 128


def token_length(nbytes: int) -> int:
    """The length of secrets.token_urlsafe(nbytes) (always the same for a given nbytes)."""
    return math.ceil(nbytes * 4 / 3)


def token_shaped(value, length: int | None = None, max_length: int = MAX_TOKEN_LENGTH,
                 alphabet: Collection[str] = URLSAFE_ALPHABET) -> str | None:
    """value when it is a string of exactly length (or 1..max_length) characters from alphabet, else None."""
    if not isinstance(value, str) or not value:
        return None
    if (length is not None and len(value) != length) or len(value) > max_length:
        return None
    return value if all(ch in alphabet for ch in value) else None


def cookie_token(name: str, **shape) -> str | None:
    """A token-shaped cookie value (see token_shaped for the shape arguments), or None."""
    return token_shaped(request.cookies.get(name), **shape)


def cookie_tokens(name: str, separator: str = ".", limit: int = 5, **shape) -> list[str]:
    """Several token-shaped values joined by separator in one cookie (at most limit; malformed ones dropped)."""
    raw = request.cookies.get(name) or ""
    longest = shape.get("length") or shape.get("max_length") or MAX_TOKEN_LENGTH
    if len(raw) > limit * (longest + len(separator)):
        return []  # not a cookie the app wrote: ignore it whole rather than scan it
    found = []
    for part in raw.split(separator):
        token = token_shaped(part, **shape)
        if token is not None and token not in found:
            found.append(token)
    return found[:limit]


def header_token(name: str, **shape) -> str | None:
    """A token-shaped request header value, or None."""
    return token_shaped(request.headers.get(name), **shape)


def arg_token(name: str, **shape) -> str | None:
    """A token-shaped query-string argument, or None."""
    return token_shaped(request.args.get(name), **shape)


def choice_arg(name: str, choices: Collection[str], default: str) -> str:
    """A query-string argument that must be one of choices (a whitelist); anything else gives default."""
    value = request.args.get(name, default)
    return value if value in choices else default


def parse_int(value, minimum: int = 1, maximum: int = 100_000) -> int | None:
    """value as an integer in minimum..maximum when it is ASCII digits only (no sign, not over-long); else None."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def int_arg(name: str, default: int | None = 1, minimum: int = 1, maximum: int = 100_000) -> int | None:
    """An integer argument (ASCII digits only); anything unparsable or out of range gives the default."""
    number = parse_int(request.args.get(name, ""), minimum, maximum)
    return default if number is None else number


def int_list(name: str, source, limit: int, maximum: int) -> set[int]:
    """The distinct integers 1..maximum among the first limit values of name in source (e.g. request.form)."""
    numbers = (parse_int(value, 1, maximum) for value in source.getlist(name)[:limit])
    return {number for number in numbers if number is not None}


def text_arg(name: str, limit: int = 100, source=None) -> str:
    """A search text from the query (or source): control characters dropped, trimmed, at most limit characters."""
    value = (source if source is not None else request.args).get(name) or ""
    return without_control_characters(value[:limit * 4]).strip()[:limit]
