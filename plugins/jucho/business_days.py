"""営業日: the days a management company's office counts for a request's due date.

A business day is a weekday (Monday–Friday) that is not a national holiday (祝日, including 振替休日 and 国民の休日,
from the ``jpholiday`` package, which computes them from the 祝日法 for any year) and not in the year-end break
12月29日〜1月3日, which Japanese offices close for. The rule is the same for every tenant."""
from __future__ import annotations

from datetime import date, timedelta

import jpholiday

# (month, day) of the year-end and new-year break: 12/29, 12/30, 12/31, 1/1, 1/2, 1/3.
YEAR_END_BREAK = frozenset({(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)})


def is_business_day(day: date) -> bool:
    """True for a weekday that is neither a 祝日 / 振替休日 nor in the 年末年始 break (12/29–1/3)."""
    if day.weekday() >= 5 or (day.month, day.day) in YEAR_END_BREAK:
        return False
    return not jpholiday.is_holiday(day)


def add_business_days(start: date, days: int) -> date:
    """The date ``days`` business days after ``start`` (``start`` itself is not counted, whatever day it is)."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if is_business_day(current):
            left -= 1
    return current
