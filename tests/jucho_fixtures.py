"""Fixtures shared by the 重調@CITY building-profile, 住戸, import and report tests (import them by name)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant
from app.tenancy import tenant_scope
from tests.jucho_helpers import jucho_login


@pytest.fixture
def in_tenant(app):
    """Run a block as a tenant: ``with in_tenant("juchoco"): ...``."""

    @contextmanager
    def _scope(code: str):
        with app.app_context():
            tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
            with tenant_scope(tenant):
                yield tenant

    return _scope


@pytest.fixture
def make_building(in_tenant):
    """Add a 管理組合 and a 物件 to a tenant directly; returns the building id."""

    def _make(code: str = "juchoco", name: str = "グランドメゾン青葉") -> int:
        from plugins.jucho.models import JuchoAssociation, JuchoBuilding

        with in_tenant(code):
            association = JuchoAssociation(name=f"{name}管理組合", kana="カンリクミアイ", management_form="full")
            db.session.add(association)
            db.session.flush()
            building = JuchoBuilding(
                association_id=association.id, name=name, kana="グランドメゾンアオバ", address="東京都青葉区1-2-3",
                structure="RC", floors_above=12, floors_below=0, total_units=84, completion_date=date(1980, 3, 31),
                management_fee_basis="unit", management_fee=Decimal(15000), repair_reserve_basis="unit",
                repair_reserve=Decimal(12000))
            db.session.add(building)
            db.session.commit()
            return building.id

    return _make


@pytest.fixture
def jucho(make_tenant, add_user):
    """Two 重調@CITY tenants (juchoco with 一般 user 'emp', and otherco)."""
    make_tenant("juchoco", product="jucho")
    make_tenant("otherco", product="jucho")
    add_user("juchoco", "emp")


@pytest.fixture
def admin(jucho, client, outbox):
    """juchoco's 管理者, logged in."""
    jucho_login(client, outbox, "juchoco", "admin")
    return client


@pytest.fixture
def general(jucho, app, outbox):
    """juchoco's 一般 user 'emp', logged in (a client of its own)."""
    other = app.test_client()
    jucho_login(other, outbox, "juchoco", "emp")
    return other


@pytest.fixture
def outsider(jucho, app, outbox):
    """otherco's 管理者, logged in (another tenant)."""
    other = app.test_client()
    jucho_login(other, outbox, "otherco", "admin")
    return other
