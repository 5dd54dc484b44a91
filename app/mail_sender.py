"""The outbox sender: claims due ``mail_outbox`` rows, delivers them, retries with exponential backoff.

Several senders may run at once (web-process threads, ``flask mail worker`` processes on several
hosts) without sending a row twice: a row is claimed before it is sent — ``SELECT … FOR UPDATE SKIP
LOCKED`` on PostgreSQL, a conditional ``UPDATE … WHERE id = ? AND <still due>`` with a row-count
check elsewhere — and the claim carries a lease (``claimed_until``). A row whose sender died keeps
its claim until the lease runs out; then any sender takes it over. Delivery is at least once: a
sender killed after the SMTP server accepted a message but before it recorded that resends it after
the lease (with the same Message-ID header, so the receiving side can recognise it).
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import smtplib
import socket
import threading
import weakref
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context
from sqlalchemy.orm import Session

from .crypto import DecryptionError
from .extensions import db, mail
from .mailer import (
    ERASED,
    STATUS_FAILED,
    STATUS_QUEUED,
    STATUS_SENDING,
    STATUS_SENT,
    MailAttempt,
    MailOutbox,
    build_message,
    open_row,
)
from .timeutil import utcnow

log = logging.getLogger("kanri.mail")

BATCH_SIZE = 20
_ADDRESS = re.compile(r"[^\s<>\"',;:]+@[^\s<>\"',;:]+")
_outbox = MailOutbox.__table__
_senders: weakref.WeakSet = weakref.WeakSet()


def new_worker_id(kind: str) -> str:
    """A name for one sender: host, process id and a random suffix (two senders never share one)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{kind}:{secrets.token_hex(3)}"


def describe_error(exc: BaseException) -> str:
    """The error class and SMTP code/reply of a failed attempt, with any e-mail address masked."""
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        detail = f"{len(exc.recipients)} recipient(s) refused"
    elif isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        detail = f"{exc.smtp_code} {reply}"
    elif isinstance(exc, OSError):
        detail = exc.strerror or ""
    else:
        detail = ""
    detail = _ADDRESS.sub("<address>", " ".join(detail.split()))
    return f"{name}: {detail}"[:300] if detail else name[:300]


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` tries: base, 2×base, 4×base … capped."""
    config = current_app.config
    seconds = float(config["KANRI_MAIL_RETRY_SECONDS"]) * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, float(config["KANRI_MAIL_RETRY_MAX_SECONDS"])))


def _due(now):
    return sa.or_(
        # A row never tried is due whatever the clocks say (a web host's clock may run ahead of the worker's).
        sa.and_(_outbox.c.status == STATUS_QUEUED, sa.or_(_outbox.c.attempts == 0, _outbox.c.next_attempt_at <= now)),
        sa.and_(_outbox.c.status == STATUS_SENDING, _outbox.c.claimed_until < now),  # its sender died
    )


def claim(session, worker: str, limit: int = BATCH_SIZE, exclude: set[int] | frozenset = frozenset()) -> list[int]:
    """Claim up to `limit` due rows for `worker` and commit the claim; returns their ids."""
    now = utcnow()
    lease = now + timedelta(seconds=float(current_app.config["KANRI_MAIL_CLAIM_SECONDS"]))
    query = sa.select(_outbox.c.id).where(_due(now)).order_by(_outbox.c.next_attempt_at, _outbox.c.id).limit(limit)
    if exclude:
        query = query.where(_outbox.c.id.not_in(sorted(exclude)))
    values = {"status": STATUS_SENDING, "claimed_by": worker, "claimed_until": lease,
              "attempts": _outbox.c.attempts + 1}
    claimed: list[int] = []
    try:
        if session.get_bind().dialect.name == "postgresql":
            # Rows another sender has locked are skipped, not waited for; the claim commits at once.
            ids = session.execute(query.with_for_update(skip_locked=True)).scalars().all()
            if ids:
                session.execute(sa.update(_outbox).where(_outbox.c.id.in_(ids)).values(**values))
            claimed = list(ids)
        else:
            for row_id in session.execute(query).scalars().all():
                result = session.execute(sa.update(_outbox).where(_outbox.c.id == row_id, _due(now)).values(**values))
                if result.rowcount == 1:  # 0: another sender claimed it between our read and our write
                    claimed.append(row_id)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return claimed


def _finish(session, row_id: int, worker: str, attempts: int, secret: bool, error: str | None) -> str:
    now = utcnow()
    if error is None:
        values = {"status": STATUS_SENT, "sent_at": now, "last_error": None}
        if secret:
            values.update(body_text=ERASED, body_html=ERASED)
        outcome = STATUS_SENT
    elif attempts >= int(current_app.config["KANRI_MAIL_MAX_ATTEMPTS"]):
        values = {"status": STATUS_FAILED, "last_error": error}
        outcome = STATUS_FAILED
    else:
        values = {"status": STATUS_QUEUED, "last_error": error, "next_attempt_at": now + backoff(attempts)}
        outcome = STATUS_QUEUED
    values.update(claimed_by=None, claimed_until=None)
    result = session.execute(sa.update(_outbox).where(_outbox.c.id == row_id, _outbox.c.claimed_by == worker)
                             .values(**values))
    # The row may be gone while SMTP talked (its tenant was purged): then there is nothing to record it on.
    still_there = result.rowcount == 1 or session.execute(
        sa.select(_outbox.c.id).where(_outbox.c.id == row_id)).first() is not None
    if still_there:
        session.add(MailAttempt(mail_id=row_id, attempted_at=now, worker=worker,
                                outcome="sent" if error is None else "error", error=error))
    session.commit()
    if result.rowcount != 1:
        log.warning('{"event": "mail.lease_lost", "mail_id": %d, "row_gone": %s}', row_id,
                    "false" if still_there else "true")
    log.info('{"event": "mail.%s", "mail_id": %d, "attempts": %d, "error": "%s"}', outcome, row_id, attempts,
             (error or "").split(":")[0])
    return outcome


def deliver_one(session, row_id: int, worker: str) -> bool:
    """Send one row this worker has claimed and record the outcome; True when it was sent."""
    row = session.get(MailOutbox, row_id)
    if row is None or row.status != STATUS_SENDING or row.claimed_by != worker:
        session.rollback()
        return False
    attempts, secret = row.attempts, row.secret
    max_attempts = int(current_app.config["KANRI_MAIL_MAX_ATTEMPTS"])
    try:
        outgoing = open_row(row) if attempts <= max_attempts else None
    except (DecryptionError, ValueError) as exc:
        session.rollback()
        _finish(session, row_id, worker, max_attempts, secret, describe_error(exc))
        return False
    session.expunge(row)
    session.rollback()  # no transaction stays open while SMTP talks
    if outgoing is None:  # a sender died during the last allowed attempt
        _finish(session, row_id, worker, attempts, secret, "SenderStopped: the sender stopped during the last attempt")
        return False
    try:
        mail.send(build_message(outgoing))
        error = None
    except Exception as exc:  # noqa: BLE001 - smtplib, socket and TLS errors alike become a retry
        error = describe_error(exc)
    return _finish(session, row_id, worker, attempts, secret, error) == STATUS_SENT


def deliver_due(worker: str, stop: threading.Event | None = None) -> int:
    """Claim and send due rows until none is left (each row at most once per call); returns how many were sent."""
    sent = 0
    tried: set[int] = set()
    session = Session(bind=db.engine)  # its own connection: the caller's transaction is left alone
    try:
        while not (stop and stop.is_set()):
            ids = claim(session, worker, exclude=tried)
            if not ids:
                break
            for row_id in ids:
                tried.add(row_id)
                if deliver_one(session, row_id, worker):
                    sent += 1
    finally:
        session.close()
    return sent


def worker_cycle() -> None:
    """The plugins' per-cycle work (``worker_cycle`` hook), e.g. publishing notices whose time has come."""
    from .products import plugin_manager

    plugin_manager().hook.worker_cycle()


def _run_cycle(each_cycle: Callable[[], object] | None) -> None:
    """Run a cycle's other due work before delivering; its failure is logged and must not stop the mail."""
    if each_cycle is None:
        return
    try:
        each_cycle()
    except Exception:  # noqa: BLE001 - other work failing must not stop the mail
        log.exception('{"event": "mail.worker_cycle_error"}')
        db.session.rollback()


class Sender:
    """The sender of one application in this process: an optional background thread and a flush for tests.

    The thread runs the same cycle as ``flask mail worker`` (``worker_cycle``, then the outbox), so under
    ``make run`` scheduled notices publish and their mail goes out without a separate worker."""

    def __init__(self, app: Flask):
        self.app = app
        self._pass_lock = threading.Lock()  # one delivery pass at a time in this process
        self._start_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._worker: tuple[int, str] | None = None
        _senders.add(self)

    @property
    def worker_id(self) -> str:
        """This process's sender name (a forked process gets a new one)."""
        if self._worker is None or self._worker[0] != os.getpid():
            self._worker = (os.getpid(), new_worker_id("thread"))
        return self._worker[1]

    def deliver_now(self) -> int:
        """Run one delivery pass in the calling thread (after any pass the thread is running)."""
        with self._pass_lock, self.app.app_context():
            return deliver_due(self.worker_id)

    def ensure_thread(self) -> None:
        """Start the background thread unless it runs (in this process) or is switched off."""
        if not self.app.config.get("KANRI_MAIL_THREAD") or self._stop.is_set():
            return
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()  # a forked worker process starts its own thread
            self._thread = threading.Thread(target=self._run, name="kanri-mail-sender", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Deliver soon: a transaction with mail just committed.

        Only a request starts the thread: a short-lived CLI process would end it mid-send (the
        row would then wait for its lease to run out); there the web process's sender polls it up.
        """
        if has_request_context():
            self.ensure_thread()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the background thread after its current message."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        poll = float(self.app.config["KANRI_MAIL_POLL_SECONDS"])
        while not self._stop.is_set():
            self._wake.clear()
            try:
                with self._pass_lock, self.app.app_context():
                    if not self._stop.is_set():
                        _run_cycle(worker_cycle)
                        deliver_due(self.worker_id, self._stop)
            except Exception:  # noqa: BLE001 - e.g. the database is briefly away: try again at the next poll
                log.exception('{"event": "mail.sender_error"}')
            self._wake.wait(poll)


def sender_for(app: Flask) -> Sender:
    """The sender of this application."""
    return app.extensions["kanri_mail_sender"]


def wake(app: Flask) -> None:
    """Tell this application's sender that mail was committed."""
    sender = app.extensions.get("kanri_mail_sender")
    if sender is not None:
        sender.wake()


def stop(app: Flask) -> None:
    """Stop this application's background sender (tests call it before disposing of the engine)."""
    sender = app.extensions.get("kanri_mail_sender")
    if sender is not None:
        sender.stop()


def stop_all() -> None:
    """Stop the background sender of every application in this process (tests, after each test)."""
    for sender in list(_senders):
        sender.stop()


def run_worker(worker: str, poll: float, once: bool, stop_event: threading.Event,
               each_cycle: Callable[[], object] | None = None) -> int:
    """The loop of `flask mail worker`: `each_cycle()` (other due work, which may queue mail), deliver, wait `poll`
    seconds, again until stopped; returns mails sent."""
    sent = 0
    while not stop_event.is_set():
        _run_cycle(each_cycle)
        try:
            sent += deliver_due(worker, stop_event)
        except Exception:  # noqa: BLE001 - a database restart must not end the worker
            log.exception('{"event": "mail.worker_error"}')
            if once:
                raise
        if once:
            break
        stop_event.wait(poll)
    return sent


def init_app(app: Flask) -> None:
    """Give the application its sender; in development and tests the thread starts with the first request."""
    app.extensions["kanri_mail_sender"] = Sender(app)

    if app.config.get("KANRI_MAIL_THREAD"):
        @app.before_request
        def _start_mail_sender():
            sender_for(app).ensure_thread()
