"""Showing technical values the way an office reads them: browsers, amounts, years, counts, error references.

One set of Jinja filters for every product (``init_app`` registers them): ``browser`` (「Chrome 131 / Windows」),
``yen`` (「15,000円」), ``year`` (「1998年」), ``count_unit`` (「48戸」). ``error_reference`` turns a request id
into the 8 characters an error page shows; the request log carries both so support finds the request.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache

from flask import Flask

UNKNOWN_BROWSER = "不明なブラウザ"
EMPTY = "-"
# Crockford's base32: no I, L, O or U, so nothing reads as another character on the phone.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 8
_UA_LIMIT = 512
# ua-parser's family names that a user would not recognise, shown by their usual name.
_FAMILIES = {"HeadlessChrome": "Chrome", "Chrome Mobile": "Chrome", "Chrome Mobile iOS": "Chrome",
             "Mobile Safari": "Safari", "Firefox Mobile": "Firefox", "Firefox iOS": "Firefox",
             "Edge Mobile": "Edge", "Mac OS X": "macOS", "Other": ""}


@lru_cache(maxsize=512)
def browser_label(user_agent: str | None) -> str:
    """「Chrome 131 / Windows」 for a User-Agent header; 「不明なブラウザ」 when it names no browser."""
    from ua_parser import parse

    text = (user_agent or "").strip()[:_UA_LIMIT]
    if not text:
        return UNKNOWN_BROWSER
    result = parse(text)
    agent = result.user_agent
    family = _FAMILIES.get(agent.family, agent.family) if agent else ""
    if not family:
        return UNKNOWN_BROWSER
    name = f"{family} {agent.major}" if agent.major else family
    system = _FAMILIES.get(result.os.family, result.os.family) if result.os else ""
    return f"{name} / {system}" if system else name


def _number(value) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return None


def yen(value) -> str:
    """「15,000円」 for an amount (thousands separators, no decimals); 「-」 when empty or not a number."""
    number = _number(value)
    if number is None:
        return EMPTY
    return f"{int(number.to_integral_value()):,}円"


def year(value) -> str:
    """「1998年」 for a year: no thousands separator, no space; 「-」 when empty or not a number."""
    number = _number(value)
    return EMPTY if number is None else f"{int(number)}年"


def count_unit(value, unit: str) -> str:
    """A count with its unit and no space: 「48戸」, 「3,200件」; 「-」 when empty or not a number."""
    number = _number(value)
    return EMPTY if number is None else f"{int(number):,}{unit}"


def error_reference(request_id: str | None) -> str:
    """The 8 readable characters (Crockford base32 of the id's first 40 bits) an error page shows."""
    try:
        value = int((request_id or "")[:10], 16)
    except ValueError:
        return "-"
    if len(request_id) < 10:
        return "-"
    chars = []
    for _ in range(REFERENCE_LENGTH):
        value, digit = divmod(value, 32)
        chars.append(REFERENCE_ALPHABET[digit])
    return "".join(reversed(chars))


def init_app(app: Flask) -> None:
    """Register the display filters for every template."""
    app.add_template_filter(browser_label, "browser")
    app.add_template_filter(yen, "yen")
    app.add_template_filter(year, "year")
    app.add_template_filter(count_unit, "count_unit")
