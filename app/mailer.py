"""Mail as a transactional outbox: a row written with the change that causes it, delivered by a sender.

``send_mail`` renders a .txt + .html template pair and adds one ``mail_outbox`` row to the
caller's ``db.session``; it never commits and never talks to SMTP. A rolled-back change therefore
sends nothing and a committed one always sends. Recipients and bodies are stored encrypted (AES-GCM,
the associated data binds the row's random key and the column); bodies of mails marked
``secret=True`` (temporary passwords, codes, reset links) are erased once delivered.

The sender (``app.mail_sender``) claims due rows, hands them to Flask-Mail, retries with exponential
backoff and records every attempt. It runs as a background thread of the web process in development
and tests (woken on commit) and as ``flask mail worker`` processes in production.
"""
from __future__ import annotations

import json
import logging
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context, render_template
from flask_mail import Message, email_dispatched
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from .crypto import keyset
from .extensions import db
from .tenancy import current_tenant, current_tenant_id
from .timeutil import UTCDateTime, utcnow

log = logging.getLogger("kanri.mail")

STATUS_QUEUED = "queued"
STATUS_SENDING = "sending"
STATUS_SENT = "sent"
STATUS_FAILED = "failed"
ERASED = "(erased after delivery)"
_QUEUED_FLAG = "kanri_mail_queued"


class MailError(RuntimeError):
    """A message could not be handed to the mail server (raised inside the sender only)."""


class MailOutbox(db.Model):
    """One e-mail to deliver: written in the transaction of the change that causes it."""

    __tablename__ = "mail_outbox"
    __table_args__ = (sa.Index("ix_mail_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not TenantScoped: the sender serves every tenant. Rows go with their tenant when it is deleted.
    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True,
                                                  nullable=True)
    row_key: Mapped[str] = mapped_column(sa.String(32), unique=True)  # random, bound into the ciphertexts
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipients: Mapped[str] = mapped_column(sa.Text)  # encrypted JSON list
    subject: Mapped[str] = mapped_column(sa.String(300))  # never holds a secret
    body_text: Mapped[str] = mapped_column(sa.Text)  # encrypted, or ERASED after delivery of a secret mail
    body_html: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    secret: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(16), default=STATUS_QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MailAttempt(db.Model):
    """One delivery attempt of an outbox row: when, by which sender, and the error class (no secrets)."""

    __tablename__ = "mail_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(sa.ForeignKey("mail_outbox.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    worker: Mapped[str] = mapped_column(sa.String(100))
    outcome: Mapped[str] = mapped_column(sa.String(16))  # sent / error
    error: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)


def _associated_data(row_key: str, column: str) -> str:
    return f"mail_outbox.{column}|row={row_key}"


def _seal(row_key: str, column: str, value: str) -> str:
    return keyset().encrypt(value, _associated_data(row_key, column))


def _open(row_key: str, column: str, value: str) -> str:
    return keyset().decrypt(value, _associated_data(row_key, column))


def reseal_outbox(batch_size: int = 200, progress=None) -> int:
    """Re-encrypt every outbox row's addresses and bodies under the primary key (after a key rotation); commits
    each batch and returns how many rows were done. Bodies erased after delivery stay as they are."""
    columns = ("recipients", "body_text", "body_html")
    done, last_id = 0, 0
    while True:
        rows = db.session.execute(sa.select(MailOutbox.id, MailOutbox.row_key, *(getattr(MailOutbox, c) for c in columns))
                                  .where(MailOutbox.id > last_id).order_by(MailOutbox.id).limit(batch_size)).all()
        if not rows:
            return done
        for row_id, row_key, *values in rows:
            for column, value in zip(columns, values, strict=True):
                if not value or value == ERASED:
                    continue
                # Conditional on the value read: a sender that erased the body meanwhile keeps it erased.
                db.session.execute(sa.update(MailOutbox).where(MailOutbox.id == row_id,
                                                               getattr(MailOutbox, column) == value)
                                   .values({column: _seal(row_key, column, _open(row_key, column, value))}))
        db.session.commit()
        last_id, done = rows[-1][0], done + len(rows)
        if progress is not None:
            progress(len(rows))


def render_pair(template: str, **context) -> tuple[str, str]:
    """Render <template>.txt and .html: a name with a slash as given (a product's ``<code>/email/<name>``),
    a plain name from the core's templates/email/."""
    path = template if "/" in template else f"email/{template}"
    return (render_template(f"{path}.txt", **context),
            render_template(f"{path}.html", **context))


def send_mail(to: str | list[str], subject: str, template: str, *, secret: bool = False,
              **context) -> MailOutbox:
    """Render a template pair and queue it in the caller's transaction; it goes out once that commits.

    ``subject`` is the topic alone: ``app.branding.mail_subject`` adds 「【製品名】」 and （会社名） of the
    ``tenant`` in the context (else the current tenant), and templates get ``mail_sender_name`` for the signature.
    Mark mails whose body holds a secret (password, code, link, registration code) with
    ``secret=True``: their body is erased from the table after delivery. Nothing is sent and
    nothing is committed here; ``db.session.rollback()`` discards the mail with the change.
    """
    from .branding import mail_subject, product_label

    recipients = [to] if isinstance(to, str) else list(to)
    tenant = context.get("tenant") or current_tenant()
    context.setdefault("mail_sender_name", product_label(tenant))
    text, html = render_pair(template, **context)
    row_key = secrets.token_hex(16)
    row = MailOutbox(
        tenant_id=current_tenant_id(), row_key=row_key, created_at=utcnow(), next_attempt_at=utcnow(),
        recipients=_seal(row_key, "recipients", json.dumps(recipients)),
        subject=mail_subject(subject, tenant)[:300],
        body_text=_seal(row_key, "body_text", text),
        body_html=_seal(row_key, "body_html", html),
        secret=secret, status=STATUS_QUEUED, attempts=0,
    )
    db.session.add(row)
    db.session.info[_QUEUED_FLAG] = True
    return row


@dataclass
class OutgoingMail:
    """A decrypted snapshot of one claimed row, used outside any database transaction."""

    id: int
    row_key: str
    recipients: list[str]
    subject: str
    body_text: str
    body_html: str | None
    secret: bool


def open_row(row: MailOutbox) -> OutgoingMail:
    """Decrypt a row's recipients and bodies."""
    return OutgoingMail(
        id=row.id, row_key=row.row_key, subject=row.subject, secret=row.secret,
        recipients=json.loads(_open(row.row_key, "recipients", row.recipients)),
        body_text=_open(row.row_key, "body_text", row.body_text),
        body_html=_open(row.row_key, "body_html", row.body_html) if row.body_html else None,
    )


def build_message(outgoing: OutgoingMail) -> Message:
    """The Flask-Mail message for a row; its Message-ID is stable, so a resend after a crash can be recognised."""
    message = Message(subject=outgoing.subject, recipients=outgoing.recipients, body=outgoing.body_text,
                      html=outgoing.body_html)
    message.msgId = f"<outbox.{outgoing.row_key}@kanri>"
    return message


def deliver_pending(app=None) -> int:
    """Deliver every due row now, in this thread (tests, ``flask mail worker --once``); returns how many were sent.

    Waits for a delivery pass the background sender of this process may be running, so that
    afterwards every committed, due mail has been tried.
    """
    from . import mail_sender

    app = app or current_app._get_current_object()
    return mail_sender.sender_for(app).deliver_now()


@event.listens_for(Session, "after_commit")
def _wake_sender_after_commit(session) -> None:
    if not session.info.pop(_QUEUED_FLAG, False) or not has_app_context():
        return
    from . import mail_sender

    mail_sender.wake(current_app._get_current_object())


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session) -> None:
    session.info.pop(_QUEUED_FLAG, None)


def _print_to_console(app, message: Message, **_extra) -> None:
    if not app.config.get("KANRI_MAIL_CONSOLE") or not app.config.get("MAIL_SUPPRESS_SEND"):
        return
    print("-" * 60, file=sys.stderr)
    print(f"To: {', '.join(message.recipients)}\nSubject: {message.subject}\n\n{message.body}", file=sys.stderr)
    print("-" * 60, file=sys.stderr, flush=True)


def init_console_mail() -> None:
    """Print every suppressed message to the console (development without an SMTP server)."""
    email_dispatched.connect(_print_to_console)
