"""Reading a tenant's audit log for the 操作ログ screen: filters, keyset pages, CSV rows, display of details."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

import sqlalchemy as sa

from app.audit import details_of
from app.extensions import db
from app.models import AuditEvent
from app.operator import OPERATOR_ACTION, is_operator_event, operator_display_name, operator_event_clause
from app.timeutil import JST, UTC, jst_day_end_utc

PER_PAGE = 50
CSV_BATCH = 500
# Detail keys never shown even if a caller stored them: ciphertexts and blind indexes.
_HIDDEN_KEY_PARTS = ("_enc", "cipher", "blind", "nonce", "hash")


@dataclass
class Filters:
    """What the filter form asked for (empty values filter nothing)."""

    user: str = ""
    operators: bool = False
    action: str = ""
    result: str = ""
    target: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""

    def args(self) -> dict:
        """The query-string arguments that keep these filters (for paging links and the CSV link)."""
        values = {"user": self.user, "operators": "y" if self.operators else "", "action": self.action, "result": self.result, "target": self.target,
                  "date_from": self.date_from.isoformat() if self.date_from else "",
                  "date_to": self.date_to.isoformat() if self.date_to else "", "q": self.q}
        return {key: value for key, value in values.items() if value}


def jst_day_start_utc(day: date) -> datetime:
    """The UTC instant at which the given JST calendar day begins."""
    return datetime.combine(day, time.min, tzinfo=JST).astimezone(UTC)


def filtered(chain_id: int, filters: Filters):
    """The select of the chain's events that match the filters (no order, no limit)."""
    query = sa.select(AuditEvent).where(AuditEvent.chain_id == chain_id)
    if filters.user:
        query = query.where(AuditEvent.actor_login == filters.user)
    if filters.operators:
        query = query.where(operator_event_clause(AuditEvent))
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.result == "success":
        query = query.where(AuditEvent.outcome == "success")
    elif filters.result == "failure":
        query = query.where(AuditEvent.outcome != "success")
    if filters.target:
        query = query.where(AuditEvent.target.startswith(filters.target, autoescape=True))
    if filters.date_from:
        query = query.where(AuditEvent.occurred_at >= jst_day_start_utc(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEvent.occurred_at < jst_day_end_utc(filters.date_to))
    if filters.q:
        query = query.where(sa.or_(AuditEvent.target.contains(filters.q, autoescape=True),
                                   AuditEvent.details.contains(filters.q, autoescape=True)))
    return query


def page_query(chain_id: int, filters: Filters, before: int | None = None, after: int | None = None,
               per_page: int = PER_PAGE):
    """One keyset page: newest first below ``before`` (or oldest first above ``after``), one row extra."""
    query = filtered(chain_id, filters)
    if after is not None:
        return query.where(AuditEvent.seq > after).order_by(AuditEvent.seq.asc()).limit(per_page + 1)
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    return query.order_by(AuditEvent.seq.desc()).limit(per_page + 1)


@dataclass
class Page:
    """A page of events (newest first) and the seqs the 前へ / 次へ links carry (None: no such page)."""

    events: list = field(default_factory=list)
    newer_than: int | None = None   # after=<seq> for 前へ
    older_than: int | None = None   # before=<seq> for 次へ


def page(chain_id: int, filters: Filters, before: int | None = None, after: int | None = None,
         per_page: int = PER_PAGE) -> Page:
    """The events of one page and its links; no count of the whole log."""
    rows = db.session.execute(page_query(chain_id, filters, before, after, per_page)).scalars().all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    if after is not None:
        rows.reverse()
        newer = rows[0].seq if rows and more else None
        older = rows[-1].seq if rows else None
    else:
        newer = rows[0].seq if rows and before is not None else None
        older = rows[-1].seq if rows and more else None
    return Page(rows, newer, older)


def all_rows(chain_id: int, filters: Filters, batch: int = CSV_BATCH) -> Iterator[AuditEvent]:
    """Every matching event, newest first, read in short keyset batches (for the streamed CSV)."""
    before = None
    while True:
        rows = db.session.execute(page_query(chain_id, filters, before, None, batch - 1)).scalars().all()
        if not rows:
            return
        yield from rows
        before = rows[-1].seq


@dataclass
class OperatorInfo:
    """Who of the service team acted (name without prefix), with which command and why (when recorded)."""

    name: str
    command: str = ""
    reason: str = ""


def operator_info(event: AuditEvent) -> OperatorInfo | None:
    """The operator behind an event (None for a tenant user's event); command and reason from its details."""
    if not is_operator_event(event.actor_login, event.actor_id):
        return None
    info = details_of(event)
    command = info.get("command") if event.action == OPERATOR_ACTION else ""
    return OperatorInfo(operator_display_name(event.actor_login), f"flask {command}" if command else "",
                        str(info.get("reason") or ""))


def _hidden(key: str) -> bool:
    return any(part in key.lower() for part in _HIDDEN_KEY_PARTS)


def _show(value) -> str:
    if value is None:
        return "（なし）"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, (list, tuple)):
        return "、".join(str(item) for item in value)
    if isinstance(value, dict):
        return "{…}"
    return str(value)


def changes(event: AuditEvent) -> list[tuple[str, str, str]]:
    """(field, before, after) for every field the event's ``before``/``after`` details name, except the fields an
    update left as they were (a form records all its fields; the reader wants what changed)."""
    info = details_of(event)
    before = info.get("before") if isinstance(info.get("before"), dict) else {}
    after = info.get("after") if isinstance(info.get("after"), dict) else {}
    keys = [key for key in dict.fromkeys([*before, *after]) if not _hidden(key)
            and not (key in before and key in after and before[key] == after[key])]
    return [(key, _show(before.get(key)) if key in before else "-", _show(after.get(key)) if key in after else "-")
            for key in keys]


def other_details(event: AuditEvent) -> list[tuple[str, str]]:
    """The event's other scalar details (key, value), ciphertext-like keys left out (an operator's command and
    reason are shown by ``operator_info``)."""
    info = details_of(event)
    shown_apart = ("command", "reason") if operator_info(event) is not None else ()
    return [(key, _show(value)) for key, value in sorted(info.items())
            if key not in ("before", "after", *shown_apart) and not isinstance(value, dict) and not _hidden(key)]


def details_text(event: AuditEvent) -> str:
    """Changes and other details as one line (the CSV column)."""
    parts = [f"{key}: {old} → {new}" for key, old, new in changes(event)]
    parts += [f"{key}={value}" for key, value in other_details(event)]
    return " / ".join(parts)


_REASONS = (("expected seq", "記録の欠落（連番の飛び）"), ("prev_hash", "直前の記録とのつながりの不一致"),
            ("record content", "記録内容とハッシュの不一致"))


def reason_ja(reason: str) -> str:
    """A Japanese explanation of app.audit.verify's reason."""
    for prefix, label in _REASONS:
        if reason.startswith(prefix):
            return label
    return reason
