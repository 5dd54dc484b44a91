"""Built-in plugin: the data lifecycle of the platform — backups (``flask backup …``), the restore flag and
the contract-end purge (``flask tenant purge-expired``, its ``purge_receipts`` table).

Registered like any product (``app.plugins.BUILTIN_PLUGINS``). Its blueprint carries the module's
templates (the backup-failure mail, the 503 page) and one request check: while a restore runs, the
maintenance flag (``KANRI_MAINTENANCE_FLAG``) makes every instance answer 503 with ``Retry-After``.
"""
from __future__ import annotations

import os

from flask import Blueprint, current_app, render_template, request

from app.hookspecs import hookimpl

from . import purge  # noqa: F401 - maps the purge_receipts table

RETRY_AFTER_SECONDS = 300

bp = Blueprint("lifecycle", __name__, template_folder="templates")


def _refuse_during_restore():
    flag = current_app.config.get("KANRI_MAINTENANCE_FLAG") or os.path.join(current_app.instance_path,
                                                                           "maintenance.flag")
    if not os.path.exists(flag) or request.endpoint == "static":
        return None
    response = current_app.make_response((render_template("lifecycle/maintenance.html"), 503))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


@hookimpl
def register_blueprints(app):
    """The module's templates, and the per-request maintenance check.

    Registered after the request id and Host checks and before the session loader, so a refused
    request never touches the database that is being replaced.
    """
    app.register_blueprint(bp)
    app.before_request(_refuse_during_restore)


@hookimpl
def register_commands(cli):
    """``flask backup run | list | verify | restore`` and ``flask tenant purge-expired``."""
    from .cli import backup_cli, purge_expired_cmd

    cli.add_command(backup_cli)
    cli.commands["tenant"].add_command(purge_expired_cmd)

