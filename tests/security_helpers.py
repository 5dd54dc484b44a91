"""Helpers for the セキュリティ設定 tests: set a tenant's policy through the admin form, read rows and audit details."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Tenant
from app.tenancy import tenant_scope
from tests.conftest import login, post_form

__all__ = ["acme"]  # what `from tests.security_helpers import *` brings: the shared fixture

PASSWORD_PAGE = "/admin/security/password"
SESSION_PAGE = "/admin/security/session"


def set_password_policy(client, min_length, history=0):
    """Submit the password-policy form as the logged-in admin; returns the response."""
    return post_form(client, PASSWORD_PAGE, {"min_length": str(min_length), "history": str(history)})


def set_session_policy(client, idle, absolute):
    """Submit the session-policy form as the logged-in admin; returns the response."""
    return post_form(client, SESSION_PAGE, {"idle_minutes": str(idle), "absolute_hours": str(absolute)})


def stored_policy(app, code: str):
    """(min length, history, idle, absolute) stored for a tenant, or None when it has no row."""
    from app.builtins.security_center.models import TenantSecurityPolicy

    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
        row = db.session.get(TenantSecurityPolicy, tenant.id)
        if row is None:
            return None
        return (row.password_min_length, row.password_history, row.idle_timeout_minutes, row.absolute_timeout_hours)


def audit_details(app, code: str, action: str) -> list[dict]:
    """Details of a tenant's audit events with this action, oldest first (with actor and outcome)."""
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
        with tenant_scope(tenant):
            rows = db.session.execute(sa.select(AuditEvent).where(AuditEvent.chain_id == tenant.id,
                                                                  AuditEvent.action == action)
                                      .order_by(AuditEvent.seq)).scalars()
            return [{**json.loads(row.details), "_actor": row.actor_login, "_outcome": row.outcome} for row in rows]


@pytest.fixture
def acme(app, make_tenant, add_user):
    """Tenant acme (sample product) with admin and 一般 staff; returns the admin's logged-in client."""
    make_tenant("acme")
    add_user("acme", "staff")
    client = app.test_client()
    login(client, "acme", "admin")
    return client
