"""Sending e-mail from .txt + .html template pairs; printed to the console in development."""
from __future__ import annotations

import logging
import sys

from flask import render_template
from flask_mail import Message, email_dispatched

from .extensions import mail

log = logging.getLogger("kanri.mail")


class MailError(RuntimeError):
    """The message could not be handed to the mail server."""


def send_mail(to: str | list[str], subject: str, template: str, **context) -> Message:
    """Render templates/email/<template>.txt and .html and send them as one message."""
    recipients = [to] if isinstance(to, str) else list(to)
    message = Message(
        subject=f"[kanri] {subject}",
        recipients=recipients,
        body=render_template(f"email/{template}.txt", **context),
        html=render_template(f"email/{template}.html", **context),
    )
    try:
        mail.send(message)
    except Exception as exc:  # smtplib and socket errors: the caller shows a clear message
        log.warning('{"event": "mail.failed", "error": "%s"}', type(exc).__name__)
        raise MailError(str(type(exc).__name__)) from exc
    return message


def _print_to_console(app, message: Message, **_extra) -> None:
    if not app.config.get("KANRI_MAIL_CONSOLE") or not app.config.get("MAIL_SUPPRESS_SEND"):
        return
    print("-" * 60, file=sys.stderr)
    print(f"To: {', '.join(message.recipients)}\nSubject: {message.subject}\n\n{message.body}", file=sys.stderr)
    print("-" * 60, file=sys.stderr, flush=True)


def init_console_mail() -> None:
    """Print every suppressed message to the console (development without an SMTP server)."""
    email_dispatched.connect(_print_to_console)
