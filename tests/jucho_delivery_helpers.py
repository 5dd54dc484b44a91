"""Helpers for the 電子交付 tests: a tenant with an issued report, sending it through the staff screen, the link."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.models import User
from tests.conftest import csrf_from, post_form
from tests.jucho_request_helpers import FORM, add_building, in_tenant, requests_of, submit

BROKER_EMAIL = FORM["email"]
LINK = re.compile(r"http://localhost(/jucho/[a-z0-9-]+/r/[A-Za-z0-9_.-]+)")


def filed_request(app, code: str, **form) -> int:
    """A building with unit 305 (with arrears) and one web request for it in tenant ``code``; returns its id."""
    from plugins.jucho.models_units import JuchoUnit

    building = add_building(app, code)
    with in_tenant(app, code):
        db.session.add(JuchoUnit(building_id=building, number="305", floor=3, area=72.5, management_fee=15000,
                                 repair_reserve=12000, arrears_management="30000"))
        db.session.commit()
    assert submit(app.test_client(), code, {**FORM, "building": str(building), **form}).status_code == 302
    return requests_of(app, code)[-1].id


def issue(app, code: str, request_id: int) -> int:
    """Draft and issue the request's report as 'admin' (a correction when one was issued); returns the report id."""
    from plugins.jucho import reports
    from plugins.jucho.requests import DRAFTING, REVIEW, JuchoRequest, set_status

    with in_tenant(app, code):
        admin = db.session.execute(sa.select(User).where(User.login_id == "admin")).scalar_one()
        request = db.session.get(JuchoRequest, request_id)
        report = reports.start_draft(request, admin)
        if request.status == DRAFTING:
            set_status(request, REVIEW, admin)
        reports.issue(report, admin)
        db.session.commit()
        return report.id


def send(client, request_id: int, recipient: str = BROKER_EMAIL):
    """Press 電子交付 on the staff screen, then 送付する on the confirmation page; returns the last response."""
    page = f"/jucho/requests/{request_id}/delivery"
    shown = post_form(client, page, {"recipient": recipient}, action=f"{page}/send")
    assert shown.status_code == 200, shown.get_data(as_text=True)
    token = csrf_from(shown.get_data(as_text=True))
    return client.post(f"{page}/send", data={"csrf_token": token, "confirmed": "yes", "recipient": recipient})


def link_in(message) -> str:
    """The path of the download link in a delivery mail (text part)."""
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def download(client, path: str, **kwargs):
    """Open the landing page and press 「PDFをダウンロード」."""
    page = client.get(path, **kwargs)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))}, **kwargs)


def deliveries(app, code: str) -> list:
    """The tenant's deliveries (detached, recipient decrypted), oldest first."""
    from plugins.jucho.deliveries import JuchoReportDelivery

    with in_tenant(app, code):
        rows = db.session.execute(sa.select(JuchoReportDelivery).order_by(JuchoReportDelivery.id)).scalars().all()
        for row in rows:
            _ = (row.recipient, list(row.downloads))
            db.session.expunge(row)
        return rows
