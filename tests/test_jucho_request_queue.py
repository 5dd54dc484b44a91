"""依頼一覧: staff entry, status transitions, assignee, due date and overdue, 取消 with confirmation, filters, counts,
the detail page's history, the dashboard panel and tenant isolation."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.timeutil import jst_today
from tests.conftest import post_form
from tests.jucho_helpers import audit_rows, jucho_login
from tests.jucho_request_helpers import FORM, add_building, in_tenant, requests_of, submit


@pytest.fixture
def desk(app, client, outbox, make_tenant, add_user):
    """Tenant 'juchoco' with a building, one web request, a general user 'staff1'; the admin logged in on client."""
    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "staff1")
    building = add_building(app, "juchoco")
    assert submit(app.test_client(), "juchoco", {**FORM, "building": str(building)}).status_code == 302
    jucho_login(client, outbox, "juchoco", "admin")
    outbox.clear()
    [request] = requests_of(app, "juchoco")
    return {"client": client, "building": building, "id": request.id, "number": request.number}


def _status(app, code="juchoco", index=0):
    return requests_of(app, code)[index].status


def _move(client, request_id, status):
    return post_form(client, f"/jucho/requests/{request_id}", {"status": status},
                     action=f"/jucho/requests/{request_id}/status")


def test_staff_enter_a_fax_request_with_its_receipt_date(app, desk, outbox):
    client = desk["client"]
    monday = date(2026, 11, 23)
    response = post_form(client, "/jucho/requests/new", {
        **FORM, "building": str(desk["building"]), "received_on": "2026-11-27", "email": "", "delivery": "post",
        "postal_code": "160-0023", "postal_address": "東京都新宿区西新宿1-1-1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    fax = requests_of(app, "juchoco")[-1]
    assert fax.channel == "fax" and fax.received_on == date(2026, 11, 27)
    assert fax.due_date == date(2026, 12, 2)          # Fri + 3 business days: Mon, Tue, Wed (weekend skipped)
    assert monday.weekday() == 0 and len(outbox) == 0  # no address, no receipt
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert fax.number in page and "FAX等" in page and "〒160-0023" in page


def test_staff_entry_refuses_a_future_receipt_date(desk):
    response = post_form(desk["client"], "/jucho/requests/new", {**FORM, "building": str(desk["building"]),
                                                                 "received_on": "2099-01-01"})
    assert response.status_code == 200 and "受付日は今日から1年前までの日付" in response.get_data(as_text=True)


def test_status_moves_along_the_path_only(app, desk):
    client, request_id = desk["client"], desk["id"]
    assert _move(client, request_id, "review").status_code == 302
    assert _status(app) == "received"                                   # 受付 → 確認待ち skips a step: refused
    assert _move(client, request_id, "issued").status_code == 302
    assert _status(app) == "received"                                   # 発行済み never from the queue
    assert "発行済みは報告書の発行で" in client.get(f"/jucho/requests/{request_id}").get_data(as_text=True)
    assert _move(client, request_id, "drafting").status_code == 302 and _status(app) == "drafting"
    assert _move(client, request_id, "review").status_code == 302 and _status(app) == "drafting"  # no draft yet
    assert "報告書の下書きを作成してください" in client.get(f"/jucho/requests/{request_id}").get_data(as_text=True)
    assert post_form(client, f"/jucho/requests/{request_id}", {},
                     action=f"/jucho/requests/{request_id}/report/new").status_code == 302
    assert _move(client, request_id, "review").status_code == 302 and _status(app) == "review"
    assert _move(client, request_id, "drafting").status_code == 302 and _status(app) == "drafting"   # 差し戻し
    assert _move(client, request_id, "nonsense").status_code == 400
    page = client.get(f"/jucho/requests/{request_id}").get_data(as_text=True)
    assert "依頼の状態変更" in page and "受付 → 作成中" in page and "作成中 → 確認待ち" in page


def test_issue_step_service_sets_issued_from_review_only(app, desk):
    from plugins.jucho.requests import ISSUED, JuchoRequest, TransitionError, set_status

    with in_tenant(app, "juchoco"):
        item = db.session.get(JuchoRequest, desk["id"])
        with pytest.raises(TransitionError):
            set_status(item, ISSUED, None)
        item.status = "review"
        set_status(item, ISSUED, None)
        db.session.commit()
    assert _status(app) == "issued"
    assert ("jucho.request.status", "success") in [(a, o) for a, o, *_ in audit_rows(app, "jucho.request.")]


def test_assign_to_myself_and_filter_by_assignee(app, desk, outbox, add_user):
    client, request_id = desk["client"], desk["id"]
    page = client.get(f"/jucho/requests/{request_id}").get_data(as_text=True)
    assert "未割当" in page
    with in_tenant(app, "juchoco"):
        from app.models import User

        admin_id = db.session.execute(sa.select(User.id).where(User.login_id == "admin")).scalar_one()
    response = post_form(client, f"/jucho/requests/{request_id}", {"assignee": str(admin_id)},
                         action=f"/jucho/requests/{request_id}/assign")
    assert response.status_code == 302
    assert requests_of(app, "juchoco")[0].assignee_id == admin_id
    mine = client.get("/jucho/requests?assignee=me").get_data(as_text=True)
    assert desk["number"] in mine
    assert desk["number"] not in client.get("/jucho/requests?assignee=none").get_data(as_text=True)
    dashboard = client.get("/").get_data(as_text=True)
    assert "依頼状況" in dashboard and "自分の担当 1件" in dashboard and "受付 1件" in dashboard


def test_a_user_of_another_tenant_cannot_be_assigned(app, desk, make_tenant):
    make_tenant("otherco", product="jucho")
    with in_tenant(app, "otherco"):
        from app.models import User

        foreign = db.session.execute(sa.select(User.id).where(User.login_id == "admin")).scalar_one()
    response = post_form(desk["client"], f"/jucho/requests/{desk['id']}", {"assignee": str(foreign)},
                         action=f"/jucho/requests/{desk['id']}/assign")
    assert response.status_code == 302
    assert requests_of(app, "juchoco")[0].assignee_id is None


def test_overdue_after_the_due_date(app, desk):
    client = desk["client"]
    assert desk["number"] not in client.get("/jucho/requests?overdue=1").get_data(as_text=True)
    assert "期限超過 0件" in client.get("/").get_data(as_text=True)
    from plugins.jucho.requests import JuchoRequest

    with in_tenant(app, "juchoco"):  # the due date passes (yesterday, JST)
        item = db.session.get(JuchoRequest, desk["id"])
        item.received_on = item.due_date = jst_today() - timedelta(days=1)
        db.session.commit()
    page = client.get("/jucho/requests?overdue=1").get_data(as_text=True)
    assert desk["number"] in page and "（超過）" in page
    assert "期限超過 1件" in client.get("/").get_data(as_text=True)
    # A finished request is not overdue any more.
    _move(client, desk["id"], "drafting")
    post_form(client, f"/jucho/requests/{desk['id']}/cancel", {"confirmed": "yes", "reason": "取り下げ"})
    client.get(f"/jucho/requests/{desk['id']}")  # shows (and so clears) the flashed message
    assert desk["number"] not in client.get("/jucho/requests?overdue=1").get_data(as_text=True)


def test_due_date_change_and_bad_date(app, desk):
    client, request_id = desk["client"], desk["id"]
    received = requests_of(app, "juchoco")[0].received_on
    bad = post_form(client, f"/jucho/requests/{request_id}", {"due_date": (received - timedelta(days=1)).isoformat()},
                    action=f"/jucho/requests/{request_id}/due")
    assert bad.status_code == 422 and "期限は受付日以降の日付にしてください。" in bad.get_data(as_text=True)
    junk = post_form(client, f"/jucho/requests/{request_id}", {"due_date": "not-a-date"},
                     action=f"/jucho/requests/{request_id}/due")
    assert junk.status_code == 422 and "日付を正しく入力してください" in junk.get_data(as_text=True)
    new_due = received + timedelta(days=10)
    assert post_form(client, f"/jucho/requests/{request_id}", {"due_date": new_due.isoformat()},
                     action=f"/jucho/requests/{request_id}/due").status_code == 302
    assert requests_of(app, "juchoco")[0].due_date == new_due


def test_cancel_needs_the_confirmation_page_and_a_reason(app, desk):
    client, request_id = desk["client"], desk["id"]
    url = f"/jucho/requests/{request_id}/cancel"
    page = client.get(url)
    assert page.status_code == 200 and "依頼を取り消しますか？" in page.get_data(as_text=True)
    # A one-click POST without the confirmation marker only shows the page.
    assert post_form(client, url, {"reason": "重複"}).status_code == 200 and _status(app) == "received"
    empty = post_form(client, url, {"confirmed": "yes", "reason": ""})
    assert empty.status_code == 422 and "取消の理由を入力してください。" in empty.get_data(as_text=True)
    assert _status(app) == "received"
    assert post_form(client, url, {"confirmed": "yes", "reason": "売買契約が中止になったため"}).status_code == 302
    stored = requests_of(app, "juchoco")[0]
    assert stored.status == "cancelled" and stored.cancel_reason == "売買契約が中止になったため"
    detail = client.get(f"/jucho/requests/{request_id}").get_data(as_text=True)
    assert "依頼の取消" in detail and "売買契約が中止になったため" in detail
    # Once cancelled nothing moves it again.
    assert _move(client, request_id, "drafting").status_code == 302 and _status(app) == "cancelled"
    assert client.get(url).status_code == 422


def test_filters_counts_search_and_date_range(app, desk):
    client = desk["client"]
    assert submit(app.test_client(), "juchoco", {**FORM, "building": str(desk["building"]), "unit_number": "1201",
                                                  "broker_company": "さくら住宅販売"}).status_code == 302
    _move(client, desk["id"], "drafting")
    page = client.get("/jucho/requests").get_data(as_text=True)
    assert 'data-testid="count-received"' in page and "受付 1" in page and "作成中 1" in page
    drafting = client.get("/jucho/requests?status=drafting").get_data(as_text=True)
    assert desk["number"] in drafting and "さくら住宅販売" not in drafting
    found = client.get("/jucho/requests?q=ｻｸﾗ").get_data(as_text=True) + client.get("/jucho/requests?q=さくら").get_data(as_text=True)
    assert "さくら住宅販売" in found and "みなと不動産" not in client.get("/jucho/requests?q=さくら").get_data(as_text=True)
    assert "依頼はまだ" not in client.get("/jucho/requests?q=").get_data(as_text=True)
    assert "該当する依頼はありません" in client.get("/jucho/requests?from=2000-01-01&to=2000-12-31").get_data(as_text=True)
    for junk in ("?status=<x>", "?assignee=-1", "?from=2026-13-40", "?sort=evil&dir=up", "?page=-3", "?q=%00"):
        assert client.get(f"/jucho/requests{junk}").status_code == 200
    # The personal fields are not searchable (encrypted): a search by the broker's person name finds nothing.
    assert "該当する依頼はありません" in client.get("/jucho/requests?q=仲介 花子").get_data(as_text=True)


def test_a_general_user_works_the_queue_but_not_the_payment(app, desk, client, outbox):
    other = app.test_client()
    jucho_login(other, outbox, "juchoco", "staff1")
    request_id = desk["id"]
    assert other.get("/jucho/requests").status_code == 200
    assert _move(other, request_id, "drafting").status_code == 302 and _status(app) == "drafting"
    refused = post_form(other, f"/jucho/requests/{request_id}", {"payment_status": "paid"},
                        action=f"/jucho/requests/{request_id}/payment")
    assert refused.status_code == 403
    assert requests_of(app, "juchoco")[0].payment_status == "unbilled"
    assert other.get("/jucho/fees").status_code == 403


def test_another_tenants_request_is_a_404(app, desk, make_tenant, outbox):
    make_tenant("otherco", product="jucho")
    other = app.test_client()
    jucho_login(other, outbox, "otherco", "admin")
    request_id = desk["id"]
    assert other.get(f"/jucho/requests/{request_id}").status_code == 404
    assert _move(other, request_id, "drafting").status_code == 404
    assert other.get(f"/jucho/requests/{request_id}/cancel").status_code == 404
    assert desk["number"] not in other.get("/jucho/requests").get_data(as_text=True)
    assert _status(app) == "received"


def test_another_products_tenant_gets_404_on_the_queue(app, make_tenant, client):
    from tests.conftest import login

    make_tenant("sampleco", product="sample")
    login(client, "sampleco", "admin")
    assert client.get("/jucho/requests").status_code == 404


def test_history_labels_every_change(app, desk):
    client, request_id = desk["client"], desk["id"]
    _move(client, request_id, "drafting")
    post_form(client, f"/jucho/requests/{request_id}", {"payment_status": "billed"},
              action=f"/jucho/requests/{request_id}/payment")
    page = client.get(f"/jucho/requests/{request_id}").get_data(as_text=True)
    for label in ("依頼の受付", "仲介業者（Webフォーム）", "依頼の状態変更", "手数料の入金状況変更", "未請求 → 請求済み"):
        assert label in page
    oplog = client.get("/admin/oplog").get_data(as_text=True)
    assert "依頼の状態変更" in oplog and "手数料の入金状況変更" in oplog
    assert "仲介 花子" not in oplog and "hanako@" not in oplog       # no personal data in the audit trail
