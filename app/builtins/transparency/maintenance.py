"""Maintenance windows: ``flask maintenance on | off | schedule | cancel | status`` and the per-request decision.

A window is a row of ``maintenance_windows`` (start, optional end, message, who created it, when it was
ended early). Whether a request is refused with the 503 maintenance screen, or shows the advance-notice
banner, is decided per request from the stored windows — no cron: at ``starts_at`` the screen turns on by
itself and at ``ends_at`` (or when ``ended_at`` is set by ``off``) it turns off.

Cost per request: the open windows (not ended, not past, starting within the notice lead time) are read
with one indexed query and kept per process for ``KANRI_MAINTENANCE_CACHE_SECONDS`` (5 by default, 0 in
tests); the times are compared with the clock on every request, so only a *new or changed* window takes
up to that long to reach every instance.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from sqlalchemy.orm import Mapped, mapped_column

from app import audit
from app.extensions import db
from app.timeutil import JST, UTCDateTime, format_jst, utcnow

from . import notices

DEFAULT_RETRY_AFTER = 600
MESSAGE_MAX = 500
INPUT_FORMAT = "%Y-%m-%d %H:%M"


class MaintenanceError(RuntimeError):
    """A maintenance command cannot be done (message in Japanese); ``bad_input`` for unusable arguments."""

    def __init__(self, message: str, bad_input: bool = False):
        super().__init__(message)
        self.bad_input = bad_input


class MaintenanceWindow(db.Model):
    """A period in which every page answers 503 (platform-wide, not tenant-owned)."""

    __tablename__ = "maintenance_windows"
    __table_args__ = (sa.Index("ix_maintenance_windows_open", "ended_at", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(sa.String(64))


@dataclass(frozen=True)
class Window:
    """A plain copy of a row, safe to keep in the per-process cache."""

    id: int
    starts_at: datetime
    ends_at: datetime | None
    message: str

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)

    @property
    def starts_jst(self) -> str:
        return format_jst(self.starts_at)

    @property
    def ends_jst(self) -> str:
        return format_jst(self.ends_at) if self.ends_at else ""

    @property
    def duration_label(self) -> str:
        if self.ends_at is None:
            return "終了時刻未定"
        minutes = math.ceil((self.ends_at - self.starts_at).total_seconds() / 60)
        hours, rest = divmod(minutes, 60)
        if hours and rest:
            return f"約{hours}時間{rest}分"
        return f"約{hours}時間" if hours else f"約{rest}分"

    def retry_after(self, now: datetime) -> int:
        if self.ends_at is None:
            return DEFAULT_RETRY_AFTER
        return max(1, math.ceil((self.ends_at - now).total_seconds()))


def _copy(row: MaintenanceWindow) -> Window:
    return Window(row.id, row.starts_at, row.ends_at, row.message or "")


def parse_jst(text: str, name: str) -> datetime:
    """Parse 'YYYY-MM-DD HH:MM' typed in Japan time into an aware UTC datetime."""
    try:
        local = datetime.strptime((text or "").strip(), INPUT_FORMAT).replace(tzinfo=JST)
    except ValueError:
        raise MaintenanceError(f"{name}は「YYYY-MM-DD HH:MM」（日本時間）の形で指定してください: {text}",
                               bad_input=True) from None
    return local.astimezone(UTC)


def _clean_message(message: str) -> str:
    message = (message or "").strip()
    if not message:
        raise MaintenanceError("お知らせの文（--message）を指定してください。", bad_input=True)
    if len(message) > MESSAGE_MAX:
        raise MaintenanceError(f"お知らせの文は{MESSAGE_MAX}文字以内にしてください。", bad_input=True)
    return message


def _open_rows(now: datetime, horizon: datetime | None = None):
    query = sa.select(MaintenanceWindow).where(
        MaintenanceWindow.ended_at.is_(None),
        sa.or_(MaintenanceWindow.ends_at.is_(None), MaintenanceWindow.ends_at > now))
    if horizon is not None:
        query = query.where(MaintenanceWindow.starts_at <= horizon)
    return db.session.scalars(query.order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)).all()


def _overlapping(start: datetime, end: datetime | None, now: datetime):
    for row in _open_rows(now):
        if (end is None or row.starts_at < end) and (row.ends_at is None or start < row.ends_at):
            return row
    return None


def _changed(action: str, window: MaintenanceWindow, operator: str) -> None:
    audit.record(action, tenant=None, actor_login=operator, target=f"maintenance:{window.id}",
                 starts_at=window.starts_at.isoformat(), ends_at=window.ends_at.isoformat() if window.ends_at else None,
                 message=window.message)
    forget_cache()


def turn_on(message: str, until: str | None, operator: str) -> MaintenanceWindow:
    """Start maintenance now (until the given JST time, or until ``off``)."""
    message = _clean_message(message)
    now = utcnow()
    end = parse_jst(until, "--until") if until else None
    if end is not None and end <= now:
        raise MaintenanceError(f"--until が過去の日時です: {format_jst(end)}", bad_input=True)
    current = next((row for row in _open_rows(now) if row.starts_at <= now), None)
    if current is not None:
        raise MaintenanceError(f"既にメンテナンス中です（番号 {current.id}）。先に flask maintenance off を実行してください。")
    window = MaintenanceWindow(starts_at=now, ends_at=end, message=message, created_by=operator)
    db.session.add(window)
    db.session.flush()
    _changed("maintenance.on", window, operator)
    db.session.commit()
    return window


def schedule(start: str, end: str, message: str, operator: str) -> MaintenanceWindow:
    """Announce a window in advance; it turns on at ``start`` and off at ``end`` by itself."""
    starts_at = parse_jst(start, "--start")
    ends_at = parse_jst(end, "--end")
    message = _clean_message(message)
    now = utcnow()
    if starts_at <= now:
        raise MaintenanceError(f"--start が過去の日時です: {format_jst(starts_at)}", bad_input=True)
    if ends_at <= starts_at:
        raise MaintenanceError("--end は --start より後の日時にしてください。", bad_input=True)
    other = _overlapping(starts_at, ends_at, now)
    if other is not None:
        raise MaintenanceError(f"番号 {other.id} のメンテナンス（{format_jst(other.starts_at)} から）と重なっています。",
                               bad_input=True)
    window = MaintenanceWindow(starts_at=starts_at, ends_at=ends_at, message=message, created_by=operator)
    db.session.add(window)
    db.session.flush()
    _changed("maintenance.schedule", window, operator)
    notice = _announce(window, operator)
    db.session.commit()
    if notice is not None:
        notices.deliver_due(notice_id=notice.id)  # products that mail (deliver_notice) do it now; failures are retried by the worker
    return window


def notice_title(window: MaintenanceWindow) -> str:
    """「メンテナンスのお知らせ（YYYY-MM-DD HH:MM〜HH:MM）」 in Japan time (the end with its date when it differs)."""
    start, end = window.starts_at.astimezone(JST), window.ends_at.astimezone(JST)
    until = end.strftime("%H:%M") if end.date() == start.date() else end.strftime("%Y-%m-%d %H:%M")
    return f"メンテナンスのお知らせ（{start.strftime('%Y-%m-%d %H:%M')}〜{until}）"


def notice_source(window: MaintenanceWindow) -> str:
    """What a window's notice records as its source (the start time too: SQLite may reuse a deleted row's id)."""
    return f"maintenance:{window.id}:{window.starts_at.astimezone(UTC):%Y%m%d%H%M}"


def _announce(window: MaintenanceWindow, operator: str):
    """Post the window as a notice to every active tenant of every product (none when there is no tenant)."""
    tenants = notices.target_tenants(None)
    if not tenants:
        return None
    copy = _copy(window)
    body = (f"メンテナンスのため、次の日時にサービスを停止します。\n\n"
            f"- 開始: {copy.starts_jst}\n- 終了: {copy.ends_jst}（{copy.duration_label}）\n\n"
            f"{window.message}\n\nメンテナンス中は画面にメンテナンス中である旨が表示されます。")
    return notices.create_notice(title=notice_title(window), body=body, product=None, tenants=tenants,
                                 operator=operator, source=notice_source(window))


def turn_off(operator: str) -> MaintenanceWindow:
    """End the current window now."""
    now = utcnow()
    current = next((row for row in _open_rows(now) if row.starts_at <= now), None)
    if current is None:
        raise MaintenanceError("現在メンテナンス中ではありません。")
    current.ended_at = now
    _changed("maintenance.off", current, operator)
    db.session.commit()
    return current


def cancel(window_id: int, operator: str) -> list[int]:
    """Remove an upcoming (not yet started) window and withdraw its notice; returns the withdrawn notices' ids."""
    now = utcnow()
    row = db.session.get(MaintenanceWindow, window_id)
    if row is None or row.ended_at is not None or (row.ends_at is not None and row.ends_at <= now):
        raise MaintenanceError(f"予定されているメンテナンス番号 {window_id} はありません。", bad_input=True)
    if row.starts_at <= now:
        raise MaintenanceError(f"番号 {window_id} は既に始まっています。終えるには flask maintenance off を使ってください。")
    _changed("maintenance.cancel", row, operator)
    withdrawn = [notice.id for notice in notices.by_source(notice_source(row)) if notice.withdrawn_at is None]
    for notice_id in withdrawn:
        notices.withdraw(notice_id, operator, None)
    db.session.delete(row)
    db.session.commit()
    return withdrawn


def open_windows() -> list[MaintenanceWindow]:
    """Current and upcoming windows (for ``status``)."""
    return list(_open_rows(utcnow()))


# --- the per-request decision ------------------------------------------------------------------

def _lead() -> timedelta:
    return timedelta(hours=float(current_app.config.get("KANRI_MAINTENANCE_NOTICE_HOURS", 72)))


def forget_cache() -> None:
    """Drop this process's cached windows (after a change made in this process)."""
    current_app.extensions.pop("kanri_maintenance_cache", None)
    g.pop("kanri_maintenance_windows", None)


def _cached_windows(now: datetime) -> list[Window]:
    ttl = float(current_app.config.get("KANRI_MAINTENANCE_CACHE_SECONDS", 5))
    if ttl <= 0 and has_request_context():
        # Without the process cache, still one read per request (the 503 check and base.html's banner both ask).
        if "kanri_maintenance_windows" not in g:
            g.kanri_maintenance_windows = _read_windows(now, ttl)
        return g.kanri_maintenance_windows
    cached = current_app.extensions.get("kanri_maintenance_cache")
    tick = time.monotonic()
    if ttl > 0 and cached is not None and tick - cached[0] < ttl and now <= cached[2]:
        return cached[1]
    windows = _read_windows(now, ttl)
    current_app.extensions["kanri_maintenance_cache"] = (tick, windows, now + timedelta(seconds=max(ttl, 0)))
    return windows


def _read_windows(now: datetime, ttl: float) -> list[Window]:
    # Read a little beyond the lead so a window entering the notice period while cached is not missed.
    horizon = now + _lead() + timedelta(seconds=max(ttl, 0) + 60)
    return [_copy(row) for row in _open_rows(now, horizon)]


def active_window(now: datetime | None = None) -> Window | None:
    """The window in force now, if any."""
    now = now or utcnow()
    return next((w for w in _cached_windows(now) if w.active(now)), None)


def upcoming_notices(now: datetime | None = None) -> list[Window]:
    """Windows not started yet whose start lies within the notice lead time."""
    now = now or utcnow()
    lead = _lead()
    return [w for w in _cached_windows(now) if now < w.starts_at <= now + lead]
