"""Sending e-mail from .txt + .html template pairs; printed to the console in development."""
from __future__ import annotations

import logging
import queue
import sys
import threading

from flask import after_this_request, current_app, render_template
from flask_mail import Message, email_dispatched

from .extensions import mail

log = logging.getLogger("kanri.mail")


class MailError(RuntimeError):
    """The message could not be handed to the mail server."""


def build_message(to: str | list[str], subject: str, template: str, **context) -> Message:
    """Render templates/email/<template>.txt and .html into one message."""
    recipients = [to] if isinstance(to, str) else list(to)
    return Message(
        subject=f"[kanri] {subject}",
        recipients=recipients,
        body=render_template(f"email/{template}.txt", **context),
        html=render_template(f"email/{template}.html", **context),
    )


def deliver(message: Message) -> Message:
    """Hand a message to the mail server; raises MailError when that fails."""
    try:
        mail.send(message)
    except Exception as exc:  # smtplib and socket errors: the caller shows a clear message
        log.warning('{"event": "mail.failed", "error": "%s"}', type(exc).__name__)
        raise MailError(str(type(exc).__name__)) from exc
    return message


def send_mail(to: str | list[str], subject: str, template: str, **context) -> Message:
    """Render a template pair and send it now; raises MailError."""
    return deliver(build_message(to, subject, template, **context))


def send_mail_after_response(to: str | list[str], subject: str, template: str, **context) -> None:
    """Render now; a background sender delivers it, so the response never waits for SMTP.

    For answers that must not differ by whether a mail was sent (password-reset requests): the
    request's timing then carries no SMTP round trip. A failure is logged; nobody is waiting for it.
    """
    message = build_message(to, subject, template, **context)
    app = current_app._get_current_object()

    @after_this_request
    def _enqueue(response):
        _start_sender()
        _outgoing.put((app, message))
        return response


# One sender thread per process (started lazily, so a forked gunicorn worker starts its own).
_outgoing: queue.Queue = queue.Queue()
_sender: threading.Thread | None = None
_sender_lock = threading.Lock()


def _send_forever() -> None:
    while True:
        app, message = _outgoing.get()
        try:
            with app.app_context():
                deliver(message)
        except MailError:
            pass  # already logged by deliver()
        except Exception:  # noqa: BLE001 - the response is gone; the log is the only place left to say it
            log.exception('{"event": "mail.deferred_failed"}')
        finally:
            _outgoing.task_done()


def _start_sender() -> None:
    global _sender
    with _sender_lock:
        if _sender is None or not _sender.is_alive():
            _sender = threading.Thread(target=_send_forever, name="kanri-mail-sender", daemon=True)
            _sender.start()


def wait_for_outgoing_mail() -> None:
    """Block until every message handed to send_mail_after_response was delivered or failed."""
    _outgoing.join()


def _print_to_console(app, message: Message, **_extra) -> None:
    if not app.config.get("KANRI_MAIL_CONSOLE") or not app.config.get("MAIL_SUPPRESS_SEND"):
        return
    print("-" * 60, file=sys.stderr)
    print(f"To: {', '.join(message.recipients)}\nSubject: {message.subject}\n\n{message.body}", file=sys.stderr)
    print("-" * 60, file=sys.stderr, flush=True)


def init_console_mail() -> None:
    """Print every suppressed message to the console (development without an SMTP server)."""
    email_dispatched.connect(_print_to_console)
