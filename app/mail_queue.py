"""Operator views of the mail outbox: counts and latest errors, and putting mail back in the queue."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from .extensions import db
from .mailer import MailAttempt, MailOutbox
from .timeutil import utcnow

STATUSES = ("queued", "sending", "sent", "failed")


class MailQueueError(ValueError):
    """The mail cannot be requeued; the message is Japanese and safe to show."""


@dataclass
class QueueStatus:
    """Counts per status, the oldest mail still waiting, and the newest rows with an error."""

    counts: dict[str, int]
    oldest_waiting: datetime | None
    errors: list[MailOutbox]


def queue_status(error_count: int = 10) -> QueueStatus:
    """Return the outbox's counts and latest errors (rows carry no address or body in clear)."""
    counts = dict(db.session.execute(sa.select(MailOutbox.status, sa.func.count()).group_by(MailOutbox.status)).all())
    oldest = db.session.execute(sa.select(sa.func.min(MailOutbox.created_at))
                                .where(MailOutbox.status.in_(("queued", "sending")))).scalar_one()
    errors = db.session.execute(
        sa.select(MailOutbox).where(MailOutbox.last_error.is_not(None), MailOutbox.status != "sent")
        .order_by(MailOutbox.id.desc()).limit(error_count)).scalars().all()
    return QueueStatus({status: counts.get(status, 0) for status in STATUSES}, oldest, errors)


def requeue(mail_id: int | None = None, all_failed: bool = False) -> int:
    """Put one mail (not sent, not being sent) or every failed mail back in the queue, due now; commits."""
    now = utcnow()
    if all_failed:
        rows = db.session.execute(sa.select(MailOutbox).where(MailOutbox.status == "failed")).scalars().all()
    else:
        row = db.session.get(MailOutbox, mail_id)
        if row is None:
            raise MailQueueError(f"メール #{mail_id} はありません。")
        if row.status == "sent":
            raise MailQueueError(f"メール #{mail_id} は送信済みです。")
        if row.status == "sending" and row.claimed_until and row.claimed_until > now:
            raise MailQueueError(f"メール #{mail_id} は送信処理中です。")
        rows = [row]
    for row in rows:
        row.status, row.attempts, row.next_attempt_at = "queued", 0, now
        row.claimed_by = row.claimed_until = None
    db.session.commit()  # a running sender (thread or `flask mail worker`) picks them up at its next poll
    return len(rows)


def prune(keep_days: int, dry_run: bool = False) -> int:
    """Delete sent and failed mail finished more than ``keep_days`` ago, with its attempts; commits.

    Mail still waiting or being sent is never touched. Returns how many mails were (or would be) deleted.
    """
    cutoff = utcnow() - timedelta(days=keep_days)
    finished = sa.or_(
        sa.and_(MailOutbox.status == "sent", MailOutbox.sent_at < cutoff),
        sa.and_(MailOutbox.status == "failed", MailOutbox.next_attempt_at < cutoff),
    )
    ids = sa.select(MailOutbox.id).where(finished)
    count = db.session.execute(sa.select(sa.func.count()).select_from(ids.subquery())).scalar_one()
    if dry_run or not count:
        return count
    # Attempts first: SQLite does not enforce the ON DELETE CASCADE of mail_attempts.mail_id.
    db.session.execute(sa.delete(MailAttempt).where(MailAttempt.mail_id.in_(ids)))
    db.session.execute(sa.delete(MailOutbox).where(finished))
    db.session.commit()
    return count
