"""Values as a 重要事項調査報告書 prints them: 「15,000円」「1998年4月」「2019年3月15日」, and 「—」 for unknown."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

UNKNOWN = "—"


def yen(value) -> str:
    """15000 → 「15,000円」; None → 「—」."""
    if value is None or value == "":
        return UNKNOWN
    return f"{int(value):,}円"


def yen_range(low, high) -> str:
    """A monthly fee as a range: 「10,000円〜15,000円」, one amount when both ends are equal or one is missing."""
    if low is None and high is None:
        return UNKNOWN
    if low is None or high is None or low == high:
        return yen(low if low is not None else high)
    return f"{yen(low)}〜{yen(high)}"


def count(value, unit: str) -> str:
    """12, 「台」 → 「12台」; None → 「—」."""
    return UNKNOWN if value is None else f"{value:,}{unit}"


def month(value) -> str:
    """4 → 「4月」."""
    return UNKNOWN if value is None else f"{value}月"


def year_month(year, month_=None) -> str:
    """(1998, 4) → 「1998年4月」, (2030, None) → 「2030年」."""
    if year is None:
        return UNKNOWN
    return f"{year}年{month_}月" if month_ else f"{year}年"


def day(value: date | None) -> str:
    """date(2019, 3, 15) → 「2019年3月15日」."""
    return UNKNOWN if value is None else f"{value.year}年{value.month}月{value.day}日"


def area(value) -> str:
    """Decimal('72.5') → 「72.50㎡」."""
    return UNKNOWN if value is None else f"{Decimal(value):,.2f}㎡"


def text(value) -> str:
    """Stored text, 「—」 when empty."""
    return value.strip() if isinstance(value, str) and value.strip() else UNKNOWN


def label(options: dict, value) -> str:
    """The Japanese label of a stored choice, 「—」 when not chosen."""
    return options.get(value, UNKNOWN) if value else UNKNOWN


def with_detail(main: str, detail: str | None) -> str:
    """「有」 + 「2019年3月実施」 → 「有（2019年3月実施）」 (the main value alone when there is no detail)."""
    if detail and detail != UNKNOWN and main != UNKNOWN:
        return f"{main}（{detail}）"
    return main
