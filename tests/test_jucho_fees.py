"""手数料: the default fee table of a new tenant, admins edit it, old requests keep their amounts, 入金状況, the
monthly CSV for accounting, and the demo's waiting request."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.conftest import cli_output, post_form
from tests.jucho_helpers import audit_rows, jucho_login
from tests.jucho_request_helpers import FORM, add_building, fee_ids, in_tenant, requests_of, submit


@pytest.fixture
def admin(app, client, outbox, make_tenant):
    """Tenant 'juchoco' with a building; its admin logged in on client."""
    make_tenant("juchoco", product="jucho")
    add_building(app, "juchoco")
    jucho_login(client, outbox, "juchoco", "admin")
    return client


def _web_request(app, **fields):
    from plugins.jucho.models import JuchoBuilding

    with in_tenant(app, "juchoco"):
        building = db.session.execute(sa.select(JuchoBuilding.id)).scalars().first()
    assert submit(app.test_client(), "juchoco", {**FORM, "building": str(building), **fields}).status_code == 302
    return requests_of(app, "juchoco")[-1]


def test_a_new_tenant_gets_the_default_fee_table(app, runner):
    result = runner.invoke(args=["tenant", "create", "--code", "newco", "--name", "新会社", "--product", "jucho",
                                 "--contract-end", "2099-12-31", "--admin-login", "admin", "--admin-email",
                                 "admin@newco.example.jp"])
    assert result.exit_code == 0, cli_output(result)
    assert "手数料表の初期値を6件登録しました" in result.output
    with in_tenant(app, "newco"):
        from plugins.jucho.fees import JuchoFeeItem

        items = {item.code: item for item in db.session.execute(sa.select(JuchoFeeItem)).scalars()}
    assert items["report"].amount == 11000 and items["report"].tax_rate == 10 and items["report"].tax == 1000
    assert {"rules", "repair_plan", "minutes", "express"} <= set(items)


def test_a_mama_tenant_gets_no_fee_table(app, make_tenant):
    make_tenant("mamaco", product="mama")
    with app.app_context():
        from plugins.jucho.fees import JuchoFeeItem

        assert db.session.execute(sa.select(sa.func.count()).select_from(JuchoFeeItem)
                                  .execution_options(all_tenants=True)).scalar_one() == 0


def test_fee_edit_changes_new_requests_only(app, admin):
    old = _web_request(app)
    assert old.total_amount == 11000
    report = fee_ids(app, "juchoco")["report"]
    page = admin.get(f"/jucho/fees/{report}/edit")
    assert page.status_code == 200
    response = post_form(admin, f"/jucho/fees/{report}/edit", {"name": "重要事項調査報告書", "kind": "report",
                                                              "amount": "16500", "tax_rate": "10", "sort_order": "10",
                                                              "active": "y"})
    assert response.status_code == 302
    assert "16,500円" in admin.get("/jucho/fees").get_data(as_text=True)
    new = _web_request(app, unit_number="502")
    old_again = requests_of(app, "juchoco")[0]
    assert old_again.total_amount == 11000 and [line.amount for line in old_again.lines] == [11000]
    assert new.total_amount == 16500 and new.total_tax == 1500
    assert "11,000円" in admin.get(f"/jucho/requests/{old.id}").get_data(as_text=True)
    [(_, _, target, details)] = [row for row in audit_rows(app, "jucho.fee.update")]
    assert target == f"fee:{report}" and "16500" in details and "11000" in details


@pytest.mark.parametrize("fields, message", [
    ({"amount": "-1"}, "0〜1,000,000円の範囲で入力してください。"),
    ({"amount": "abc"}, "半角数字（整数）で入力してください。"),
    ({"amount": "9" * 30}, "0〜1,000,000円の範囲で入力してください。"),
    ({"tax_rate": "200"}, "0〜30%の範囲で入力してください。"),
    ({"name": ""}, "入力してください。"),
    ({"name": "コピー\x07代"}, "使用できない文字（制御文字）が含まれています。"),
    ({"kind": "free-money"}, "一覧から選択してください。"),
])
def test_bad_fee_input_is_refused_in_japanese(app, admin, fields, message):
    data = {"name": "駐車場図面の写し", "kind": "document", "amount": "1100", "tax_rate": "10", "sort_order": "70",
            "active": "y", **fields}
    response = post_form(admin, "/jucho/fees/new", data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_admin_adds_a_document_that_brokers_can_then_choose(app, admin):
    response = post_form(admin, "/jucho/fees/new", {"name": "駐車場図面の写し", "kind": "document", "amount": "1100",
                                                    "tax_rate": "10", "sort_order": "70", "active": "y"})
    assert response.status_code == 302
    assert "駐車場図面の写し（1,100円）" in app.test_client().get("/jucho/juchoco/request").get_data(as_text=True)
    new_id = max(fee_ids(app, "juchoco").values())
    request = _web_request(app, documents=[str(new_id)])
    assert [line.name for line in request.lines] == ["重要事項調査報告書", "駐車場図面の写し"]
    assert request.total_amount == 12100 and request.total_tax == 1100


def test_general_users_cannot_edit_fees(app, admin, add_user, outbox):
    add_user("juchoco", "staff1")
    staff = app.test_client()
    jucho_login(staff, outbox, "juchoco", "staff1")
    report = fee_ids(app, "juchoco")["report"]
    assert staff.get("/jucho/fees").status_code == 403
    assert staff.get(f"/jucho/fees/{report}/edit").status_code == 403
    assert staff.get("/jucho/fees/monthly.csv?month=2026-11").status_code == 403


def test_another_tenants_fee_item_is_a_404(app, admin, make_tenant):
    make_tenant("otherco", product="jucho")
    foreign = fee_ids(app, "otherco")["report"]
    assert admin.get(f"/jucho/fees/{foreign}/edit").status_code == 404


def test_payment_status_is_changed_by_admins_and_audited(app, admin):
    request = _web_request(app)
    assert request.payment_status == "unbilled"
    for status, label in (("billed", "請求済み"), ("paid", "入金済み")):
        response = post_form(admin, f"/jucho/requests/{request.id}", {"payment_status": status},
                             action=f"/jucho/requests/{request.id}/payment")
        assert response.status_code == 302
        assert label in admin.get(f"/jucho/requests/{request.id}").get_data(as_text=True)
    assert requests_of(app, "juchoco")[0].payment_status == "paid"
    bad = post_form(admin, f"/jucho/requests/{request.id}", {"payment_status": "stolen"},
                    action=f"/jucho/requests/{request.id}/payment")
    assert bad.status_code == 422 and requests_of(app, "juchoco")[0].payment_status == "paid"
    assert len(audit_rows(app, "jucho.request.payment")) == 2


def test_monthly_csv_lists_the_months_requests_for_accounting(app, admin):
    from plugins.jucho.requests import JuchoRequest

    november = _web_request(app, broker_company="=HYPERLINK(\"x\")")
    december = _web_request(app, unit_number="702")
    cancelled = _web_request(app, unit_number="808")
    with in_tenant(app, "juchoco"):
        for request_id, received in ((november.id, date(2026, 11, 30)), (december.id, date(2026, 12, 1)),
                                     (cancelled.id, date(2026, 11, 15))):
            db.session.get(JuchoRequest, request_id).received_on = received
        db.session.get(JuchoRequest, cancelled.id).status = "cancelled"
        db.session.get(JuchoRequest, november.id).payment_status = "billed"
        db.session.commit()
    response = admin.get("/jucho/fees/monthly.csv?month=2026-11")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "fees_2026-11" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["受付番号", "受付日", "仲介業者"] and "消費税（円）" in rows[0]
    assert len(rows) == 2                                             # December and the cancelled one are left out
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["受付番号"] == november.number and row["受付日"] == "2026-11-30"
    assert row["金額（税込・円）"] == "11000" and row["消費税（円）"] == "1000" and row["税抜金額（円）"] == "10000"
    assert row["入金状況"] == "請求済み" and row["税率"] == "10%" and "重要事項調査報告書" in row["明細"]
    assert row["仲介業者"].startswith("'=")                              # formula-safe cell
    december_rows = list(csv.reader(io.StringIO(admin.get("/jucho/fees/monthly.csv?month=2026-12")
                                                .get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[0] for r in december_rows[1:]] == [december.number]
    bad = admin.get("/jucho/fees/monthly.csv?month=2026-13")
    assert bad.status_code == 302
    assert "月を「2026-11」の形で指定してください。" in admin.get("/jucho/fees").get_data(as_text=True)
    assert admin.get("/jucho/fees/monthly.csv?month=%00%ff").status_code == 302


def test_settings_change_the_due_days_and_the_notification_address(app, admin, outbox):
    bad = post_form(admin, "/jucho/fees", {"due_business_days": "0", "notify_email": "x"})
    assert bad.status_code == 422 and "1〜30営業日の範囲" in bad.get_data(as_text=True)
    assert post_form(admin, "/jucho/fees", {"due_business_days": "5", "notify_email": "desk@juchoco.example.jp",
                                            "delivery_valid_days": "14", "delivery_max_downloads": "5"}
                     ).status_code == 302
    outbox.clear()
    request = _web_request(app)
    assert request.due_date > request.received_on
    assert [mail.recipients for mail in outbox if "新しい依頼" in mail.subject] == [["desk@juchoco.example.jp"]]
    from plugins.jucho.requests import add_business_days

    assert request.due_date == add_business_days(request.received_on, 5)


def test_business_days_skip_weekends():
    from plugins.jucho.requests import add_business_days

    assert add_business_days(date(2026, 11, 27), 1) == date(2026, 11, 30)   # Fri → Mon
    assert add_business_days(date(2026, 11, 28), 3) == date(2026, 12, 2)    # Sat → Wed
    assert add_business_days(date(2026, 11, 23), 5) == date(2026, 11, 30)   # Mon → next Mon


def test_the_demo_has_a_waiting_request_with_a_fee(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, cli_output(result)
    assert "受付中の依頼 R" in result.output
    [request] = [r for r in requests_of(app, "demo-jucho") if r.status == "received"]  # the other one is sent
    assert request.total_amount == 11000 and request.lines
