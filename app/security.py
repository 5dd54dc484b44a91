"""Request ids, security headers, JSON request logs and safe redirects."""
from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from datetime import datetime
from urllib.parse import urlsplit

from flask import Flask, g, request
from flask_login import current_user

from .display import error_reference
from .tenancy import current_tenant_id
from .timeutil import JST

request_log = logging.getLogger("kanri.request")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class JSTJsonFormatter(logging.Formatter):
    """Formats a log record as one JSON line with the time in JST (+09:00)."""

    def format(self, record: logging.LogRecord) -> str:
        # The record's own time (when it was logged), not the time it happens to be formatted.
        when = datetime.fromtimestamp(record.created, JST).isoformat(timespec="milliseconds")
        payload = getattr(record, "kanri_fields", None)  # the request log hands its dict over: no re-parsing
        if not isinstance(payload, dict):
            payload = _parsed(record.getMessage())
        if record.exc_info:
            payload = {**payload, "exc": self.formatException(record.exc_info)}
        line = {"time": when, "level": record.levelname, "logger": record.name}
        line.update((key, value) for key, value in payload.items() if key not in line)  # no overwriting
        # json escapes \n and \r; NEL, U+2028 and U+2029 also end a line for many readers: escape them too.
        text = json.dumps(line, ensure_ascii=False)
        return text.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _parsed(message: str) -> dict:
    try:
        payload = json.loads(message)
    except ValueError:
        return {"message": message}
    return payload if isinstance(payload, dict) else {"message": message}


def configure_logging() -> None:
    """Send kanri's loggers to stderr as JSON lines (once per process)."""
    root = logging.getLogger("kanri")
    if any(isinstance(h.formatter, JSTJsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSTJsonFormatter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = True


MAX_NEXT_LENGTH = 512  # the pending login keeps next= in the session cookie, which must stay small


def is_safe_next(target: str | None) -> bool:
    """True only for a same-site path such as '/account/sessions?page=2' (no control characters, not over-long)."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if len(target) > MAX_NEXT_LENGTH or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _start_request() -> None:
    g.request_id = uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response):
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers.setdefault("Referrer-Policy", "same-origin")  # a page whose URL holds a token may set no-referrer
    headers["X-Frame-Options"] = "DENY"
    headers["X-Request-ID"] = g.get("request_id", "")
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    headers.pop("Server", None)
    _log_request(response)
    return response


def _log_request(response) -> None:
    started = g.get("request_started")
    user_id = None
    try:
        if current_user and current_user.is_authenticated:
            user_id = current_user.id
    except Exception:  # noqa: BLE001 - logging must never break a response
        user_id = None
    # The route pattern, not the path: paths may carry one-time tokens that must never be logged.
    rule = request.url_rule.rule if request.url_rule else "(no route)"
    request_id = g.get("request_id")
    fields = {
        "event": "request",
        "request_id": request_id,
        # the お問い合わせ番号 an error page shows, so support finds this line from what the user reads out
        "ref": error_reference(request_id) if response.status_code >= 400 else None,
        "method": request.method,
        "route": rule,
        "status": response.status_code,
        "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "tenant": current_tenant_id(),
        "user": user_id,
        "ip": (request.remote_addr or "")[:64] or None,  # with ProxyFix: client-chosen text, capped
    }
    request_log.info(json.dumps(fields, ensure_ascii=False), extra={"kanri_fields": fields})


def init_app(app: Flask) -> None:
    """Install request ids, headers and request logging on app."""
    app.before_request(_start_request)
    app.after_request(_finish_request)



def hide_development_server_version() -> None:
    """Make Werkzeug's development server answer 'Server: kanri' instead of its version."""
    from werkzeug.serving import WSGIRequestHandler

    WSGIRequestHandler.version_string = lambda self: "kanri"
