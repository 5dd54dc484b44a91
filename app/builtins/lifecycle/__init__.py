"""Built-in plugin: the data lifecycle of the platform — backups (``flask backup …``), the restore flag and
the contract-end purge (``flask tenant purge-expired``, its ``purge_receipts`` table) and tenant export
(``flask tenant export …`` and the admins' 「データ書き出し」 request screen).

Registered like any product (``app.plugins.BUILTIN_PLUGINS``). Its blueprint carries the module's
templates (the backup-failure mail, the 503 page) and one request check: while a restore runs, the
maintenance flag (``KANRI_MAINTENANCE_FLAG``) makes every instance answer 503 with ``Retry-After``.
"""
from __future__ import annotations

import os

from flask import Blueprint, current_app, request

from app.errors import maintenance_response
from app.hookspecs import hookimpl
from app.products import MenuLink, admin_links

from . import purge  # noqa: F401 - maps the purge_receipts table

RETRY_AFTER_SECONDS = 300
RESTORE_MESSAGE = "データの復元作業を行っています。"

bp = Blueprint("lifecycle", __name__, template_folder="templates")


def _refuse_during_restore():
    flag = current_app.config.get("KANRI_MAINTENANCE_FLAG") or os.path.join(current_app.instance_path,
                                                                           "maintenance.flag")
    if not os.path.exists(flag) or request.endpoint == "static":
        return None
    return maintenance_response(RESTORE_MESSAGE, RETRY_AFTER_SECONDS)


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
    """``flask backup run | list | verify | restore``; ``flask tenant purge-expired | export | export-requests |
    export-reject``."""
    from . import export_cli
    from .cli import backup_cli, purge_expired_cmd

    cli.add_command(backup_cli)
    cli.commands["tenant"].add_command(purge_expired_cmd)
    export_cli.register(cli)


@hookimpl
def menu_links(tenant, user):
    """「データ書き出し」 in the account menu, for a tenant's 管理者 only."""
    link = MenuLink("データ書き出し", "lifecycle.export_requests", menu_id="lifecycle.export", section="account",
                    description="このテナントのデータを書き出す申請", order=80)
    return admin_links(tenant, user, link)


@hookimpl
def audit_action_labels():
    """Japanese labels of the export's audit actions."""
    return {"tenant.export": "データ書き出し", "export.request": "データ書き出し申請",
            "export.fulfil": "データ書き出し申請に対応", "export.reject": "データ書き出し申請を却下"}


from . import export, export_views  # noqa: E402,F401  (the export_requests table; routes register on bp)

