"""報告書の発行 screens: who may issue (管理者, 一般 only where the tenant allows it), the confirmation page, the
issued panel, the staff download checked against its sha256, 訂正版, an issued version that cannot change, and
tenant / product isolation of every report route."""
from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.conftest import post_form
from tests.jucho_helpers import audit_rows, jucho_login
from tests.jucho_report_helpers import actions_of, confirm, press, reports_of, setup_desk
from tests.jucho_request_helpers import in_tenant, requests_of


@pytest.fixture
def desk(app, outbox, make_tenant, add_user):
    """Tenant 'repco' with a request whose draft staff1 made and moved to 確認待ち (one override)."""
    make_tenant("repco", product="jucho")
    add_user("repco", "staff1")
    desk = setup_desk(app, outbox)
    staff, base = desk["staff"], desk["base"]
    assert press(staff, base, f"{base}/report/new").status_code == 302
    key = f"{base}/report/items/use.pets"
    assert press(staff, key, key, {"value": "小型犬1匹まで可"}).status_code == 302
    assert press(staff, f"{base}/report", f"{base}/report/review").status_code == 302
    return desk


def _issue(client, base):
    return confirm(client, f"{base}/report/issue")


def _denied(app):
    return [row for row in audit_rows(app, "access.denied")]


def test_staff_cannot_issue_and_the_attempt_is_logged(app, desk):
    staff, base = desk["staff"], desk["base"]
    page = staff.get(f"{base}/report").get_data(as_text=True)
    assert "発行は管理者が行います" in page
    assert staff.get(f"{base}/report/issue").status_code == 403
    assert press(staff, f"{base}/report", f"{base}/report/issue", {"confirmed": "yes"}).status_code == 403
    denied = _denied(app)
    assert len(denied) == 2 and denied[-1][2] == f"request:{desk['id']}"
    assert json.loads(denied[-1][3])["reason"] == "report_issue_not_allowed"
    assert reports_of(app, "repco", desk["id"])[0].is_draft
    assert requests_of(app, "repco")[0].status == "review"


def test_admin_issues_after_the_confirmation_and_staff_download_it(app, desk):
    admin, staff, base, number = desk["admin"], desk["staff"], desk["base"], desk["number"]
    page = admin.get(f"{base}/report/issue").get_data(as_text=True)
    for text in ("報告書（第1版）を発行しますか？", "後から変更できません", "「発行済み」になります", "1項目"):
        assert text in page, text
    assert press(admin, f"{base}/report/issue", f"{base}/report/issue").status_code == 200   # not confirmed
    assert reports_of(app, "repco", desk["id"])[0].is_draft
    response = _issue(admin, base)
    assert response.status_code == 302 and response.headers["Location"].endswith(base)
    [report] = reports_of(app, "repco", desk["id"])
    assert not report.is_draft and report.issued_by_id is not None
    assert requests_of(app, "repco")[0].status == "issued"
    panel = admin.get(base).get_data(as_text=True)
    assert "報告書（第1版）を発行しました。" in panel and report.pdf_sha256[:12] in panel
    assert f"{report.pdf_size:,} バイト" in panel and "管理 太郎" in panel and "訂正版を作成" in panel
    assert "報告書の発行" in panel                                  # the history's label
    assert "発行済み 第1版" in admin.get("/jucho/requests").get_data(as_text=True)
    # Staff download it for post or fax: the issued bytes, named in Japanese, never cached.
    download = staff.get(f"{base}/report/1.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert hashlib.sha256(download.data).hexdigest() == report.pdf_sha256
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and quote(f"重要事項調査報告書_{number}_第1版.pdf") in disposition
    assert download.headers["Cache-Control"] == "no-store"
    [row] = [row for row in audit_rows(app, "jucho.report.download")]
    details = json.loads(row[3])
    assert row[1] == "success" and details["version"] == 1 and details["sha256"] == report.pdf_sha256
    assert staff.get(f"{base}/report/2.pdf").status_code == 404
    assert actions_of(app, "repco", desk["id"])[-3:] == ["jucho.request.status", "jucho.report.issue",
                                                          "jucho.report.download"]
    history = staff.get(base).get_data(as_text=True)
    for label in ("報告書の下書き作成", "報告書の項目の個別修正", "報告書の発行", "報告書PDFのダウンロード（社員）"):
        assert label in history, label


def test_a_draft_is_not_downloadable(app, desk):
    assert desk["staff"].get(f"{desk['base']}/report/1.pdf").status_code == 404


def test_the_tenant_may_let_staff_issue(app, desk):
    admin, staff, base = desk["admin"], desk["staff"], desk["base"]
    settings = admin.get("/jucho/fees").get_data(as_text=True)
    assert "一般の社員にも報告書の発行を許可する" in settings
    saved = post_form(admin, "/jucho/fees", {"due_business_days": "3", "notify_email": "", "staff_may_issue": "y",
                                             "delivery_valid_days": "14", "delivery_max_downloads": "5"})
    assert saved.status_code == 302
    [row] = [row for row in audit_rows(app, "jucho.settings.update")]
    details = json.loads(row[3])
    assert details["before"]["issue"] == "管理者のみ発行" and details["after"]["issue"] == "一般も発行できる"
    assert "発行する" in staff.get(f"{base}/report").get_data(as_text=True)
    assert _issue(staff, base).status_code == 302
    assert not reports_of(app, "repco", desk["id"])[0].is_draft
    assert _denied(app) == []


def test_issue_needs_review_first(app, desk):
    admin, base = desk["admin"], desk["base"]
    assert post_form(admin, base, {"status": "drafting"}, action=f"{base}/status").status_code == 302  # 差し戻し
    refused = _issue(admin, base)
    assert refused.status_code == 302
    assert "「確認待ち」にしてから発行してください。" in admin.get(refused.headers["Location"]).get_data(as_text=True)
    assert reports_of(app, "repco", desk["id"])[0].is_draft


def test_an_issued_version_never_changes(app, desk):
    admin, base = desk["admin"], desk["base"]
    _issue(admin, base)
    [before] = reports_of(app, "repco", desk["id"])
    for url, data in ((f"{base}/report/items/use.pets", {"value": "不可"}), (f"{base}/report/notes", {"notes": "後から"}),
                      (f"{base}/report/items/use.pets/clear", {"confirmed": "yes"}),
                      (f"{base}/report/discard", {"confirmed": "yes"}), (f"{base}/report/issue", {"confirmed": "yes"})):
        response = press(admin, base, url, data)
        assert response.status_code == 302, url
        assert "発行済みの報告書は変更できません" in admin.get(response.headers["Location"]).get_data(as_text=True)
    [after] = reports_of(app, "repco", desk["id"])
    assert (after.snapshot, after.pdf_sha256, after.notes, [o.value for o in after.overrides]) == (
        before.snapshot, before.pdf_sha256, before.notes, [o.value for o in before.overrides])
    assert actions_of(app, "repco", desk["id"])[-1] == "jucho.report.issue"


def test_a_correction_is_a_new_version_after_its_own_confirmation(app, desk):
    admin, base = desk["admin"], desk["base"]
    _issue(admin, base)
    page = admin.get(f"{base}/report/new").get_data(as_text=True)
    assert "訂正版を作成しますか？" in page and "発行済みの第1版はそのまま残り、変更されません。" in page
    assert press(admin, f"{base}/report/new", f"{base}/report/new").status_code == 200   # not confirmed: the page
    assert len(reports_of(app, "repco", desk["id"])) == 1
    assert confirm(admin, f"{base}/report/new").status_code == 302
    draft = admin.get(f"{base}/report").get_data(as_text=True)
    assert "報告書 第2版" in draft and "第1版の訂正版" in draft and "確認待ちにする</button>" not in draft
    assert "第1版を訂正する第2版として発行します" in admin.get(f"{base}/report/issue").get_data(as_text=True)
    assert _issue(admin, base).status_code == 302
    first, second = reports_of(app, "repco", desk["id"])
    assert second.version == 2 and second.supersedes_id == first.id and not second.is_draft
    panel = admin.get(base).get_data(as_text=True)
    assert "第2版（第1版の訂正）" in panel and first.pdf_sha256[:12] in panel and second.pdf_sha256[:12] in panel
    assert hashlib.sha256(admin.get(f"{base}/report/1.pdf").data).hexdigest() == first.pdf_sha256


def test_a_pdf_that_does_not_match_its_sha256_is_never_served(app, desk):
    from plugins.jucho.reports import JuchoReport

    admin, base = desk["admin"], desk["base"]
    _issue(admin, base)
    with in_tenant(app, "repco"):
        report = db.session.execute(sa.select(JuchoReport)).scalar_one()
        report.pdf_data = base64.b64encode(base64.b64decode(report.pdf_data) + b"%tampered").decode("ascii")
        db.session.commit()
    response = admin.get(f"{base}/report/1.pdf")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "発行時の記録（sha256）と一致しない" in body and "Content-Disposition" not in response.headers
    [row] = [row for row in audit_rows(app, "jucho.report.download")]
    assert row[1] == "failure" and json.loads(row[3])["reason"] == "sha256_mismatch"


def _routes(base):
    return [("get", f"{base}/report", {}), ("post", f"{base}/report/new", {}),
            ("get", f"{base}/report/items/use.pets", {}), ("post", f"{base}/report/items/use.pets", {"value": "x"}),
            ("post", f"{base}/report/items/use.pets/clear", {"confirmed": "yes"}),
            ("post", f"{base}/report/notes", {"notes": "x"}), ("get", f"{base}/report/preview.pdf", {}),
            ("post", f"{base}/report/review", {}), ("get", f"{base}/report/issue", {}),
            ("post", f"{base}/report/issue", {"confirmed": "yes"}), ("post", f"{base}/report/discard", {"confirmed": "yes"}),
            ("get", f"{base}/report/1.pdf", {}), ("post", f"{base}/building", {"building": "1"})]


def test_another_tenants_request_answers_404_on_every_report_route(app, desk, make_tenant, outbox):
    make_tenant("otherco", product="jucho")
    other = app.test_client()
    jucho_login(other, outbox, "otherco", "admin")
    _issue(desk["admin"], desk["base"])
    for method, url, data in _routes(desk["base"]):
        if method == "get":
            assert other.get(url).status_code == 404, url
        else:
            assert press(other, "/jucho/requests", url, data).status_code == 404, url
    [report] = reports_of(app, "repco", desk["id"])
    assert not report.is_draft and [o.value for o in report.overrides] == ["小型犬1匹まで可"]
    assert [row for row in audit_rows(app, "jucho.report.download")] == []


def test_another_products_tenant_gets_404(app, desk, make_tenant):
    from tests.conftest import login

    make_tenant("sampleco", product="sample")
    sample = app.test_client()
    login(sample, "sampleco", "admin")
    for method, url, data in _routes(desk["base"]):
        if method == "get":
            assert sample.get(url).status_code == 404, url
        else:
            assert press(sample, "/", url, data).status_code == 404, url
