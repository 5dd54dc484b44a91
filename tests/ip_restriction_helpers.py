"""Helpers for the IP address restriction tests: save through the page, peek at rows and audit events."""
from __future__ import annotations

import json

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Tenant, UserSession
from app.tenancy import tenant_scope
from tests.conftest import csrf_from

PAGE = "/admin/security/ip"


def save(client, scope: str, text: str, confirmed: bool = False):
    """POST the settings form as the page's browser would (``confirmed``: as the lock-out confirmation page does)."""
    token = csrf_from(client.get(PAGE).get_data(as_text=True))
    data = {"csrf_token": token, "scope": scope, "entries": text}
    if confirmed:
        data["confirmed"] = "yes"
    return client.post(PAGE, data=data)


def from_address(client, address: str):
    """Make every later request of this test client come from ``address`` (the socket's peer)."""
    client.environ_base["REMOTE_ADDR"] = address
    return client


def stored(app, code: str) -> tuple[str, list[str], int]:
    """(scope, networks, ip_rules_version) as stored for the tenant."""
    from app.builtins.ip_restriction import service

    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
        with tenant_scope(tenant):
            scope, entries = service.stored(tenant)
            return scope, [e.network for e in entries], tenant.ip_rules_version


def events(app, code: str, action: str) -> list[tuple[str, dict]]:
    """(outcome, details) of the tenant's audit events with this action, oldest first."""
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
        rows = db.session.execute(sa.select(AuditEvent.outcome, AuditEvent.details).where(
            AuditEvent.chain_id == tenant.id, AuditEvent.action == action).order_by(AuditEvent.seq)
            .execution_options(all_tenants=True)).all()
        return [(outcome, json.loads(details)) for outcome, details in rows]


def ended_reasons(app, code: str) -> list[str]:
    """end_reason of the tenant's ended sessions."""
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
        with tenant_scope(tenant):
            return list(db.session.execute(sa.select(UserSession.end_reason)
                                           .where(UserSession.ended_at.is_not(None))).scalars())


def textarea(html: str) -> str:
    """The allow list as the settings page shows it in its textarea."""
    import re

    return re.search(r'<textarea[^>]*name="entries"[^>]*>(.*?)</textarea>', html, re.S).group(1).strip()
