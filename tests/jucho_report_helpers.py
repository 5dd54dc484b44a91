"""Helpers for the 重調@CITY 報告書 screen tests: a tenant with a building, unit 305 and one request, clients of its
管理者 and of a 一般 社員, and the rows as stored."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from tests.conftest import csrf_from, post_form
from tests.jucho_helpers import jucho_login
from tests.jucho_request_helpers import FORM, add_building, in_tenant, requests_of, submit


def file_request(app, code: str, *, consent: bool = True, unit: str = "３０５", building: int | None = None) -> int:
    """A web request of tenant ``code`` for ``building`` (a 物件 of the master unless given); returns its id."""
    data = {**FORM, "unit_number": unit}
    if not consent:
        data.pop("seller_consent")
    if building is None:
        data.update(building="other", building_other="一覧外マンション", postal_code="160-0023",
                    postal_address="東京都新宿区西新宿1-1-1")
    else:
        data["building"] = str(building)
    before = len(requests_of(app, code))
    response = submit(app.test_client(), code, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return requests_of(app, code)[before].id


def setup_desk(app, outbox, code: str = "repco", consent: bool = True) -> dict:
    """Tenant ``code`` (already made) gets a building with unit 305 (arrears 30,000円) and one request; returns the
    ids and logged-in clients of its 管理者 ('admin') and 一般 ('staff1')."""
    from plugins.jucho.models_units import JuchoUnit

    building = add_building(app, code)
    with in_tenant(app, code):
        db.session.add(JuchoUnit(building_id=building, number="305", floor=3, area=72.5, management_fee=15000,
                                 repair_reserve=12000, arrears_management="30000"))
        db.session.commit()
    request_id = file_request(app, code, consent=consent, building=building)
    admin, staff = app.test_client(), app.test_client()
    jucho_login(admin, outbox, code, "admin")
    jucho_login(staff, outbox, code, "staff1")
    return {"admin": admin, "staff": staff, "id": request_id, "building": building,
            "number": requests_of(app, code)[-1].number, "base": f"/jucho/requests/{request_id}"}


def press(client, page_url: str, action: str, data: dict | None = None, **kwargs):
    """POST ``action`` with the CSRF token of ``page_url`` (a button or form on that page)."""
    return post_form(client, page_url, data or {}, action=action, **kwargs)


def confirm(client, url: str, data: dict | None = None):
    """Open a confirmation page and press its button (the ``confirmed`` marker and the page's token)."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    token = csrf_from(page.get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "confirmed": "yes", **(data or {})})


def reports_of(app, code: str, request_id: int) -> list:
    """The request's report rows (detached, snapshot loaded), oldest version first."""
    from plugins.jucho.reports import JuchoReport

    with in_tenant(app, code):
        rows = db.session.execute(sa.select(JuchoReport).where(JuchoReport.request_id == request_id)
                                  .order_by(JuchoReport.version)).scalars().all()
        for row in rows:
            _ = (row.snapshot, row.pdf_data, row.notes, list(row.overrides), [o.value for o in row.overrides])
            db.session.expunge(row)
        return rows


def actions_of(app, code: str, request_id: int) -> list[str]:
    """The audit actions of one request, oldest first."""
    from app.models import AuditEvent

    with in_tenant(app, code):
        return list(db.session.execute(sa.select(AuditEvent.action).where(
            AuditEvent.target == f"request:{request_id}").order_by(AuditEvent.seq)).scalars())
