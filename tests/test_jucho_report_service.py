"""報告書 service: draft, overrides, notes, issue (snapshot + PDF + sha256), correction versions, permissions."""
from __future__ import annotations

import hashlib
import io
import json

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app.extensions import db
from app.models import AuditEvent, User
from tests.jucho_request_helpers import FORM, add_building, in_tenant, requests_of, submit


@pytest.fixture
def filed(app, make_tenant, add_user, outbox):
    """Tenant 'repco' with a building, a unit 305 with arrears, one request with the seller's consent."""
    from plugins.jucho.models_units import JuchoUnit

    make_tenant("repco", product="jucho")
    add_user("repco", "staff1")
    building = add_building(app, "repco")
    with in_tenant(app, "repco"):
        db.session.add(JuchoUnit(building_id=building, number="305", floor=3, area=72.5, management_fee=15000,
                                 repair_reserve=12000, arrears_management="30000"))
        db.session.commit()
    assert submit(app.test_client(), "repco", {**FORM, "building": str(building)}).status_code == 302
    [request] = requests_of(app, "repco")
    return request.id


def _user(login_id):
    return db.session.execute(sa.select(User).where(User.login_id == login_id)).scalar_one()


def _request(request_id):
    from plugins.jucho.requests import JuchoRequest

    return db.session.get(JuchoRequest, request_id)


def test_draft_assembles_the_unit_and_marks_overrides(app, filed):
    from plugins.jucho import reports

    with in_tenant(app, "repco"):
        staff = _user("staff1")
        report = reports.start_draft(_request(filed), staff)
        assert report.version == 1 and report.is_draft
        assert _request(filed).status == "drafting"
        items = {item.key: item for item in reports.document(report).items()}
        assert items["unit.number"].value == "305"
        assert items["unit.arrears.management"].value == "30,000円"
        reports.set_override(report, "parking.spaces", "20台（うち機械式10台）", staff)
        reports.set_notes(report, "駐車場は令和9年に機械式を撤去予定。", staff)
        db.session.commit()
        document = reports.document(report)
        item = {item.key: item for item in document.items()}["parking.spaces"]
        assert item.overridden and item.value == "20台（うち機械式10台）"
        assert document.notes.startswith("駐車場")
        assert reports.start_draft(_request(filed), staff).id == report.id  # one draft at a time
        with pytest.raises(reports.TransitionError):
            reports.set_override(report, "no.such.key", "x", staff)


def test_issue_freezes_snapshot_pdf_and_hash(app, filed):
    from plugins.jucho import reports
    from plugins.jucho.requests import REVIEW, set_status

    with in_tenant(app, "repco"):
        admin, staff = _user("admin"), _user("staff1")
        report = reports.start_draft(_request(filed), staff)
        with pytest.raises(reports.TransitionError, match="確認待ち"):
            reports.issue(report, admin)
        set_status(_request(filed), REVIEW, staff)
        with pytest.raises(reports.TransitionError, match="権限"):
            reports.issue(report, staff)
        reports.issue(report, admin)
        db.session.commit()
        report_id = report.id
    with in_tenant(app, "repco"):
        from plugins.jucho.reports import JuchoReport

        report = db.session.get(JuchoReport, report_id)
        data = report.pdf_bytes()
        assert hashlib.sha256(data).hexdigest() == report.pdf_sha256
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
        assert "重要事項調査報告書" in text and "グランドメゾン青葉" in text and "30,000円" in text
        assert "下書き" not in text
        snapshot = json.loads(report.snapshot)
        assert snapshot["issued"] is True and snapshot["request_number"] == _request(filed).number
        assert _request(filed).status == "issued"
        with pytest.raises(reports.TransitionError):
            reports.set_notes(report, "changed", admin)
        # The frozen snapshot stays what was issued even when the masters change.
        report.request.building.name = "改名後マンション"
        db.session.flush()
        assert reports.document(report).building_name == "グランドメゾン青葉"
        raw = db.session.execute(sa.text("SELECT snapshot, pdf_data FROM jucho_reports")).one()
        assert "30,000" not in raw[0] and "グランドメゾン" not in raw[0]  # encrypted at rest
        actions = db.session.execute(sa.select(AuditEvent.action).where(
            AuditEvent.target == f"request:{filed}").order_by(AuditEvent.seq)).scalars().all()
        assert "jucho.report.draft" in actions and actions[-1] == "jucho.report.issue"


def test_a_correction_is_a_new_version_referencing_the_old(app, filed):
    from plugins.jucho import reports
    from plugins.jucho.requests import REVIEW, set_status

    with in_tenant(app, "repco"):
        admin = _user("admin")
        first = reports.start_draft(_request(filed), admin)
        set_status(_request(filed), REVIEW, admin)
        reports.issue(first, admin)
        second = reports.start_draft(_request(filed), admin)
        assert second.version == 2 and second.supersedes_id == first.id
        reports.issue(second, admin)
        db.session.commit()
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(second.pdf_bytes())).pages)
        assert "第1版を訂正" in text
        assert [report.version for report in reports.versions(_request(filed))] == [2, 1]


def test_without_consent_no_arrears_even_by_override(app, make_tenant, outbox):
    from plugins.jucho import reports

    make_tenant("nocon", product="jucho")
    building = add_building(app, "nocon")
    data = {key: value for key, value in FORM.items() if key != "seller_consent"}
    assert submit(app.test_client(), "nocon", {**data, "building": str(building)}).status_code == 302
    [request] = requests_of(app, "nocon")
    with in_tenant(app, "nocon"):
        admin = _user("admin")
        report = reports.start_draft(_request(request.id), admin)
        item = {item.key: item for item in reports.document(report).items()}["unit.arrears.management"]
        assert item.value == "売主の同意がないため記載しません"
        with pytest.raises(reports.TransitionError, match="同意"):
            reports.set_override(report, "unit.arrears.management", "10,000円", admin)


def test_the_tenant_may_let_general_users_issue(app, filed):
    from plugins.jucho import reports
    from plugins.jucho.requests import settings

    with in_tenant(app, "repco"):
        staff = _user("staff1")
        assert not reports.can_issue(staff)
        settings().staff_may_issue = True
        assert reports.can_issue(staff)


def test_draft_pdf_carries_the_watermark(app, filed):
    from plugins.jucho import reports
    from plugins.jucho.report_pdf import render_report

    with in_tenant(app, "repco"):
        report = reports.start_draft(_request(filed), _user("admin"))
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(
            render_report(reports.document(report)))).pages)
        assert "下書き" in text
