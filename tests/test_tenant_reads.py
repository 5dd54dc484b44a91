"""Plain tenant reads (app.tenant_reads) fail closed: a statement that leaves a tenant table or a 削除済み-capable
table unnarrowed is refused before it runs, a read without a current tenant raises, and a tenant never reads
another tenant's rows (最近の変更 on ホーム, read through one)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import audit
from app.dashboard import recent_changes
from app.extensions import db
from app.models import AuditEvent, Tenant, User
from app.tenancy import TenantScopeError, set_current_tenant, tenant_scope
from app.tenant_reads import TENANT_PARAM, TenantRead, live, of_tenant
from plugins.mama.models import MamaAssociation

USERS, EVENTS, ASSOCIATIONS = User.__table__, AuditEvent.__table__, MamaAssociation.__table__


def _tenant(code: str) -> Tenant:
    return db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()


@pytest.fixture
def two_tenants(app, make_tenant):
    make_tenant("acme")
    make_tenant("other")
    with app.app_context():
        for code, action in (("acme", "user.create"), ("other", "secret.change")):
            tenant = _tenant(code)
            with tenant_scope(tenant):
                audit.record(action, target=f"marker:{code}", tenant=tenant, actor_login=f"admin-{code}")
        db.session.commit()
    return app


@pytest.mark.parametrize("build, why", [
    (lambda: sa.select(USERS.c.id), "users is not narrowed by of_tenant"),
    (lambda: sa.select(USERS.c.id).where(sa.or_(of_tenant(USERS), USERS.c.id > 0)), "users is not narrowed"),
    (lambda: sa.select(ASSOCIATIONS.c.id).where(of_tenant(ASSOCIATIONS)), "not narrowed by live"),
    (lambda: sa.select(USERS.c.id).where(of_tenant(USERS), USERS.c.tenant_id == 1).where(
        USERS.c.id.in_(sa.select(EVENTS.c.actor_id))), "audit_events is not narrowed"),
    (lambda: sa.select(USERS.c.id).select_from(USERS.join(EVENTS, EVENTS.c.actor_id == USERS.c.id))
     .where(of_tenant(USERS)), "audit_events is not narrowed"),
    (lambda: sa.select(sa.func.count()).select_from(USERS.alias("u")), "unsupported FROM"),
])
def test_an_unnarrowed_statement_is_refused_before_it_runs(app, make_tenant, build, why):
    make_tenant("acme")
    with app.test_request_context():
        set_current_tenant(_tenant("acme"))
        with pytest.raises(TenantScopeError, match=why):
            TenantRead(build).rows()


def test_narrowed_in_where_or_join_on_is_accepted_and_reads_only_the_current_tenant(two_tenants):
    read = TenantRead(lambda: sa.select(EVENTS.c.target)
                      .select_from(USERS.join(EVENTS, sa.and_(EVENTS.c.actor_login.is_not(None), of_tenant(EVENTS))))
                      .where(of_tenant(USERS), EVENTS.c.target.like("marker:%")).distinct())
    live_read = TenantRead(lambda: sa.select(sa.func.count()).select_from(ASSOCIATIONS)
                           .where(of_tenant(ASSOCIATIONS), live(ASSOCIATIONS)))
    with two_tenants.test_request_context():
        set_current_tenant(_tenant("acme"))
        assert [row.target for row in read.rows()] == ["marker:acme"]
        assert [row.target for row in read.rows(**{TENANT_PARAM: _tenant("other").id})] == ["marker:acme"]
        assert live_read.scalar() == 0
        set_current_tenant(_tenant("other"))
        assert [row.target for row in read.rows()] == ["marker:other"]


def test_a_read_without_a_current_tenant_raises(two_tenants):
    read = TenantRead(lambda: sa.select(USERS.c.id).where(of_tenant(USERS)))
    with two_tenants.test_request_context():
        set_current_tenant(None)
        with pytest.raises(TenantScopeError, match="without a current tenant"):
            read.rows()
        # a caller cannot smuggle its own tenant id in: the current tenant's always wins (here: none → refused)
        with pytest.raises(TenantScopeError):
            read.rows(**{TENANT_PARAM: _tenant("other").id})


def test_recent_changes_are_the_current_tenants_only(two_tenants):
    with two_tenants.test_request_context():
        acme, other = _tenant("acme"), _tenant("other")
        set_current_tenant(acme)
        targets = [row.target for row in recent_changes(acme)]
        assert targets[0] == "marker:acme" and "marker:other" not in targets and "tenant:other" not in targets
        with pytest.raises(TenantScopeError):
            recent_changes(other)  # asked for another tenant while acme is current
