"""Helpers for the 重調@CITY 依頼 tests: a tenant with buildings, the public form's data, rows as stored."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant
from app.tenancy import tenant_scope
from tests.conftest import csrf_from

FORM = {"unit_number": "３０５", "broker_company": "みなと不動産株式会社", "license_number": "東京都知事（５）第６７８９０号",
        "contact_name": "仲介 花子", "phone": "03-1234-5678", "email": "hanako@minato-fudosan.example.jp",
        "purpose": "sale", "delivery": "electronic", "seller_consent": "y"}


@contextmanager
def in_tenant(app, code: str):
    """Run a block inside tenant ``code``."""
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
        with tenant_scope(tenant):
            yield tenant


def add_building(app, code: str, name: str = "グランドメゾン青葉", address: str = "東京都新宿区西新宿3-2-1") -> int:
    """A 管理組合 and one 物件 in tenant ``code``; returns the building id."""
    from plugins.jucho.models import JuchoAssociation, JuchoBuilding

    with in_tenant(app, code):
        association = JuchoAssociation(name=f"{name}管理組合", kana="カンリクミアイ", management_form="full")
        db.session.add(association)
        db.session.flush()
        building = JuchoBuilding(association_id=association.id, name=name, kana="タテモノ", address=address,
                                 structure="RC", floors_above=10, total_units=50, completion_date=date(2005, 3, 31),
                                 management_fee_basis="unit", management_fee=Decimal(15000),
                                 repair_reserve_basis="unit", repair_reserve=Decimal(12000))
        db.session.add(building)
        db.session.commit()
        return building.id


def fee_ids(app, code: str) -> dict[str, int]:
    """The tenant's fee items by code."""
    from plugins.jucho.fees import JuchoFeeItem

    with in_tenant(app, code):
        return {item.code: item.id for item in db.session.execute(sa.select(JuchoFeeItem)).scalars()}


def submit(client, code: str, data: dict, **kwargs):
    """Open the public form and POST it with the page's CSRF token (not followed)."""
    page = client.get(f"/jucho/{code}/request")
    assert page.status_code == 200, page.status_code
    token = csrf_from(page.get_data(as_text=True))
    return client.post(f"/jucho/{code}/request", data={"csrf_token": token, **data}, **kwargs)


def requests_of(app, code: str) -> list:
    """The tenant's requests (detached, personal fields decrypted), oldest first."""
    from plugins.jucho.requests import JuchoRequest

    with in_tenant(app, code):
        rows = db.session.execute(sa.select(JuchoRequest).order_by(JuchoRequest.id)).scalars().all()
        for row in rows:
            _ = (row.contact_name, row.phone, row.email, row.postal_address, list(row.lines))
            db.session.expunge(row)
        return rows


def request_count(app) -> int:
    """Requests in all tenants."""
    from plugins.jucho.requests import JuchoRequest

    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(JuchoRequest)
                                  .execution_options(all_tenants=True)).scalar_one()
