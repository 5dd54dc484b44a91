"""Built-in plugin: IPアドレス制限 — a tenant's allow list of IPv4/IPv6 addresses and CIDR ranges, whom it applies to,
its enforcement at the password step and on every authenticated request, and the lock-out guard with its 15-minute
undo (a button, and a single-use link that works from a refused address).

Registered like any product (``app.plugins.BUILTIN_PLUGINS``); product-agnostic. Per request it costs nothing for a
tenant that never configured it (``tenants.ip_rules_version`` is 0) and a bisect in a per-process cached matcher
otherwise.
"""
from __future__ import annotations

from flask import Blueprint

from app.hookspecs import hookimpl

from . import enforcement, models  # noqa: F401  (models: maps the tables)

bp = Blueprint("ip_restriction", __name__, template_folder="templates")


@hookimpl(trylast=True)
def register_blueprints(app):
    """The settings page, the undo routes and the per-request check (403 for a refused address).

    trylast, and registered before transparency: the restore and maintenance checks run before this one loads a
    session.
    """
    app.register_blueprint(bp)
    app.before_request(enforcement.refuse_request)


@hookimpl
def register_commands(cli):
    """``flask ip-restriction status | off``."""
    from .cli import ip_restriction_cli

    cli.add_command(ip_restriction_cli)


@hookimpl
def login_refusal(tenant, user):
    """Refuse the login at the password step (before any factor) from a refused address."""
    return enforcement.refusal_for(tenant, user)


@hookimpl
def audit_action_labels():
    """Japanese labels of the restriction's audit actions."""
    return {"ip_restriction.update": "IPアドレス制限の変更", "ip_restriction.undo": "IPアドレス制限の変更の取り消し",
            "ip_restriction.undo_link_sent": "IPアドレス制限の取り消しリンク送信",
            "ip_restriction.refused": "IPアドレス制限による拒否"}


from . import views  # noqa: E402,F401  (routes register on bp)
