"""The audit log is read by seeks, however long a tenant's chain is (no timing: the query plan): 前回ログイン (read once, when a
session opens) and ログイン履歴 on ix_audit_events_actor_action, a 依頼's history on ix_audit_events_target."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Tenant
from app.tenancy import tenant_scope
from tests.conftest import login
from tests.query_helpers import (
    analyze,
    dialect_of,
    plan_of,
    reads_of,
    recorded_queries,
    still_at,
    stopped_clock,
    the_query,
)

EVENTS = 20_000


def _seed_other_users_events(app, code: str) -> None:
    """Many events of other users in the tenant's chain (the digests are not checked by this test)."""
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
        scope = tenant_scope(tenant)
        scope.__enter__()
        first = (db.session.execute(sa.select(sa.func.max(AuditEvent.seq)).where(
            AuditEvent.chain_id == tenant.id)).scalar() or 0) + 1
        start = datetime(2026, 1, 1, tzinfo=UTC)
        rows = [{"tenant_id": tenant.id, "chain_id": tenant.id, "seq": first + n,
                 "occurred_at": start + timedelta(seconds=n), "actor_id": 10_000 + n % 50,
                 "actor_login": f"user{n % 50}", "action": ("login.success", "mama.association.update")[n % 2],
                 "outcome": "success", "details": "{}", "prev_hash": "0" * 64, "hash": "0" * 64}
                for n in range(EVENTS)]
        db.session.execute(sa.insert(AuditEvent.__table__), rows)
        db.session.commit()
        scope.__exit__(None, None, None)


def test_previous_login_and_login_history_use_the_actor_index(app, client, make_tenant):
    make_tenant("acme")
    login(client, "acme", "admin")
    _seed_other_users_events(app, "acme")
    analyze(app)
    browser = app.test_client()
    with recorded_queries(app) as at_login:
        login(browser, "acme", "admin")  # the new session copies the previous login from the audit log, once
    with still_at(stopped_clock()):
        dashboard = reads_of(app, browser, "/")
        history = reads_of(app, browser, "/account/login-history")
    assert not [s for s in dashboard if "FROM audit_events" in s.sql and "audit_events.actor_id =" in s.sql]
    index = "ix_audit_events_actor_action"
    for statements in (at_login, history):
        plan = plan_of(app, the_query(statements, "FROM audit_events", "audit_events.actor_id ="))
        assert index in plan, plan
        if dialect_of(app) == "sqlite":
            assert "SCAN audit_events" not in plan, plan
        else:
            assert "Seq Scan on audit_events" not in plan, plan


def test_a_request_history_seeks_its_target(app, make_tenant, add_user, client, outbox):
    from tests.jucho_helpers import jucho_login
    from tests.jucho_request_helpers import FORM, add_building, requests_of, submit

    make_tenant("juchoco", product="jucho")
    building = add_building(app, "juchoco")
    assert submit(app.test_client(), "juchoco", {**FORM, "building": str(building)}).status_code == 302
    jucho_login(client, outbox, "juchoco", "admin")
    _seed_other_users_events(app, "juchoco")
    analyze(app)
    [request] = requests_of(app, "juchoco")
    with still_at(stopped_clock()):
        statements = reads_of(app, client, f"/jucho/requests/{request.id}")
    plan = plan_of(app, the_query(statements, "FROM audit_events", "audit_events.target ="))
    assert "ix_audit_events_target" in plan, plan
