"""UTC storage and JST display of times."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

JST = ZoneInfo("Asia/Tokyo")


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def to_jst(value: datetime | None) -> datetime | None:
    """Convert an aware datetime to Asia/Tokyo."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(JST)


def format_jst(value: datetime | None, seconds: bool = False) -> str:
    """Format a datetime for screens, e-mail and CSV: '2026-11-29 09:30 JST'."""
    local = to_jst(value)
    if local is None:
        return ""
    return local.strftime("%Y-%m-%d %H:%M:%S JST" if seconds else "%Y-%m-%d %H:%M JST")


def jst_day_end_utc(day: date) -> datetime:
    """Return the UTC instant at which the given JST calendar day ends."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=JST).astimezone(UTC)


def jst_today() -> date:
    """Return today's date in Japan."""
    return utcnow().astimezone(JST).date()


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
