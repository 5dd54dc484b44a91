"""/_dev/mail: the last mails this process sent, with their text — for development only.

In development the mail goes to the console (no SMTP server), and the e-mailed login codes and temporary
passwords are easy to miss there. This page keeps the newest ``KEEP`` messages in memory (never in the
database, never written to disk) and lists them. It exists only when ``KANRI_ENV`` is ``development``, or
when ``KANRI_DEV_MAIL`` is set outside production; in production the route is never registered (404).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Flask, current_app, render_template
from flask_mail import email_dispatched

from .timeutil import utcnow

KEEP = 50
bp = Blueprint("devmail", __name__)


@dataclass(frozen=True)
class SentMail:
    """One message as the app handed it to the mailer."""

    sent_at: datetime
    recipients: tuple[str, ...]
    subject: str
    body: str


def enabled(config) -> bool:
    """True when /_dev/mail may exist: development, or KANRI_DEV_MAIL outside production."""
    env = config.get("KANRI_ENV")
    return env != "production" and (env == "development" or bool(config.get("KANRI_DEV_MAIL")))


def _remember(app, message, **_extra) -> None:
    kept = app.extensions.get("kanri_dev_mail")
    if kept is not None:
        kept.appendleft(SentMail(utcnow(), tuple(message.recipients or ()), message.subject or "", message.body or ""))


@bp.route("/_dev/mail")
def mail_list():
    """The newest mails sent by this process, newest first, with their text (development only)."""
    return render_template("devmail.html", mails=list(current_app.extensions["kanri_dev_mail"]), keep=KEEP)


def init_app(app: Flask) -> None:
    """Register /_dev/mail and start keeping sent mail, when ``enabled``; otherwise do nothing."""
    if not enabled(app.config):
        return
    app.extensions["kanri_dev_mail"] = deque(maxlen=KEEP)
    email_dispatched.connect(_remember, sender=app)
    app.register_blueprint(bp)
