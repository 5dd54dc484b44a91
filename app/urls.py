"""Absolute links for mail and other out-of-band messages, built from KANRI_BASE_URL, never from the request.

A link built with url_for(..., _external=True) takes its host from the request's Host (or, behind ProxyFix,
X-Forwarded-Host) header, which the client chooses: a password-reset mail could then point anywhere.
"""
from __future__ import annotations

import importlib.metadata
import re
from urllib.parse import quote, urlsplit

from flask import Flask, abort, current_app, request
from werkzeug.exceptions import SecurityError
from werkzeug.sansio.utils import host_is_trusted


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of endpoint (its full name, e.g. 'auth.login') under KANRI_BASE_URL.

    Works inside a request (the request's host is ignored) and outside one (CLI, a mail worker) as long as
    an application context is pushed.
    """
    app = current_app
    base = urlsplit(app.config["KANRI_BASE_URL"])
    anchor = values.pop("_anchor", None)
    app.inject_url_defaults(endpoint, values)
    adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{quote(anchor, safe='')}" if anchor else url


def _flask_checks_trusted_hosts() -> bool:
    """Flask applies the TRUSTED_HOSTS setting itself from version 3.1 on."""
    match = re.match(r"(\d+)\.(\d+)", importlib.metadata.version("flask"))
    return bool(match) and (int(match.group(1)), int(match.group(2))) >= (3, 1)


def _check_host() -> None:
    # Flask (3.1+) found the Host untrusted while routing but raises that only when the view is
    # dispatched, after every before_request function: stop here, before any of them builds a URL.
    if isinstance(request.routing_exception, SecurityError):
        abort(400)
    hosts = current_app.extensions.get("kanri_trusted_hosts")
    if hosts and not host_is_trusted(request.host, hosts):
        abort(400)


def init_app(app: Flask) -> None:
    """Refuse requests for a Host outside TRUSTED_HOSTS (400), also on a Flask that does not do it itself."""
    if app.config.get("TRUSTED_HOSTS") and not _flask_checks_trusted_hosts():
        app.extensions["kanri_trusted_hosts"] = list(app.config["TRUSTED_HOSTS"])
    app.before_request(_check_host)
