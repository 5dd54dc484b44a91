"""電子交付 (staff side): send the issued report as a mailed link after the confirmation page, the mail, the list of
links and downloads, 停止 and 再送, who may deliver, tenant isolation, the settings and the audit trail."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent
from app.timeutil import format_jst, utcnow
from tests.conftest import csrf_from, post_form
from tests.jucho_delivery_helpers import (
    BROKER_EMAIL,
    deliveries,
    download,
    filed_request,
    issue,
    link_in,
    send,
)
from tests.jucho_helpers import audit_rows, jucho_login
from tests.jucho_request_helpers import in_tenant

CODE = "delco"


@pytest.fixture
def issued(app, client, outbox, make_tenant, add_user):
    """Tenant 'delco' with an issued report for one web request; 'staff1' is 一般; the admin is logged in."""
    make_tenant(CODE, product="jucho")
    add_user(CODE, "staff1")
    request_id = filed_request(app, CODE)
    issue(app, CODE, request_id)
    jucho_login(client, outbox, CODE, "admin")
    outbox.clear()
    return request_id


def _page(client, request_id):
    return client.get(f"/jucho/requests/{request_id}/delivery")


def test_sending_mails_a_link_that_downloads_the_issued_pdf(app, client, outbox, issued):
    from plugins.jucho.reports import JuchoReport

    page = _page(client, issued)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "第1版（最新の発行済み）" in html
    assert f'value="{BROKER_EMAIL}"' in html and "必須" in html and 'data-testid="breadcrumbs"' in html
    assert "delivery-link" in client.get(f"/jucho/requests/{issued}").get_data(as_text=True)

    confirm = post_form(client, f"/jucho/requests/{issued}/delivery", {"recipient": BROKER_EMAIL},
                        action=f"/jucho/requests/{issued}/delivery/send")
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "報告書をメールで送付しますか？" in text and BROKER_EMAIL in text
    assert deliveries(app, CODE) == [] and len(outbox) == 0              # the first press only asks

    response = send(client, issued)
    assert response.status_code == 302
    [delivery] = deliveries(app, CODE)
    assert delivery.recipient == BROKER_EMAIL and delivery.max_downloads == 5 and delivery.download_count == 0
    assert delivery.expires_at - delivery.created_at == timedelta(days=14) and delivery.mail_id is not None
    [mail] = outbox
    assert mail.recipients == [BROKER_EMAIL]
    assert mail.subject.startswith("【重調@CITY】重要事項調査報告書のご送付（R") and "delco 株式会社" in mail.subject
    number = json.loads(audit_rows(app, "jucho.report.delivery")[0][3])["number"]
    assert number in mail.subject
    for part in (mail.body, mail.html):
        assert number in part and "グランドメゾン青葉 305" in part and "第1版" in part and "5回" in part
        assert format_jst(delivery.expires_at) in part and "JST" in part
        assert "30,000" not in part                                      # never the arrears
    with in_tenant(app, CODE):
        from app.mailer import ERASED, MailOutbox

        assert db.session.get(MailOutbox, delivery.mail_id).body_text == ERASED   # secret: erased once sent
        pdf = db.session.get(JuchoReport, delivery.report_id).pdf_bytes()

    broker = app.test_client()
    got = download(broker, link_in(mail), headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                                                   "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
                   environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert got.status_code == 200 and got.data == pdf and got.mimetype == "application/pdf"

    listing = _page(client, issued).get_data(as_text=True)
    assert "1／5回" in listing and "198.51.100.7" in listing and "Chrome 131 / Windows" in listing
    assert listing.count('data-testid="download-row"') == 1 and "有効" in listing
    history = client.get(f"/jucho/requests/{issued}").get_data(as_text=True)
    assert "報告書の電子交付（メール送付）" in history and "報告書のダウンロード（電子交付）" in history


def test_the_delivery_audit_names_version_expiry_and_limit_never_address_or_token(app, client, outbox, issued):
    send(client, issued)
    path = link_in(outbox[0])
    token = path.rsplit("/", 1)[1]
    download(app.test_client(), path)
    rows = audit_rows(app, "jucho.report.delivery")
    assert [(action, outcome) for action, outcome, _, _ in rows] == [
        ("jucho.report.delivery", "success"), ("jucho.report.delivery_download", "success")]
    sent = json.loads(rows[0][3])
    assert sent["version"] == 1 and sent["max_downloads"] == 5 and sent["expires"].endswith("JST")
    assert all(target == f"request:{issued}" for _, _, target, _ in rows)
    with app.app_context():
        everything = db.session.execute(sa.select(AuditEvent).execution_options(all_tenants=True)).scalars().all()
        for event in everything:
            for value in (event.details, event.target or "", event.user_agent or ""):
                assert token not in value and token.split(".")[0] not in value
                assert BROKER_EMAIL not in value


def test_a_bad_address_is_refused_on_the_form(app, client, outbox, issued):
    response = post_form(client, f"/jucho/requests/{issued}/delivery", {"recipient": "not an address"},
                         action=f"/jucho/requests/{issued}/delivery/send")
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "入力内容に誤りがあります" in text and "メールアドレス" in text
    assert 'value="not an address"' in text                                 # what was typed stays
    empty = post_form(client, f"/jucho/requests/{issued}/delivery", {"recipient": ""},
                      action=f"/jucho/requests/{issued}/delivery/send")
    assert empty.status_code == 422 and "入力してください" in empty.get_data(as_text=True)
    assert deliveries(app, CODE) == [] and len(outbox) == 0


def test_a_confirmation_with_a_tampered_address_sends_nothing(app, client, outbox, issued):
    page = _page(client, issued)
    token = csrf_from(page.get_data(as_text=True))
    response = client.post(f"/jucho/requests/{issued}/delivery/send",
                           data={"csrf_token": token, "confirmed": "yes", "recipient": "x@@y"})
    assert response.status_code == 422 and deliveries(app, CODE) == [] and len(outbox) == 0
    forged = client.post(f"/jucho/requests/{issued}/delivery/send", data={"confirmed": "yes",
                                                                         "recipient": BROKER_EMAIL})
    assert forged.status_code == 400 and deliveries(app, CODE) == []


def test_revoke_after_confirmation_stops_the_link(app, client, outbox, issued):
    send(client, issued)
    path = link_in(outbox[0])
    [delivery] = deliveries(app, CODE)
    url = f"/jucho/requests/{issued}/delivery/{delivery.id}/revoke"
    shown = client.get(url)
    assert shown.status_code == 200 and "電子交付のリンクを停止しますか？" in shown.get_data(as_text=True)
    one_click = post_form(client, f"/jucho/requests/{issued}/delivery", {}, action=url)
    assert one_click.status_code == 200 and deliveries(app, CODE)[0].revoked_at is None   # only the page again
    assert post_form(client, url, {"confirmed": "yes"}).status_code == 302
    [delivery] = deliveries(app, CODE)
    assert delivery.revoked_at is not None
    assert "停止" in _page(client, issued).get_data(as_text=True)
    assert app.test_client().get(path).status_code == 410
    assert [row[0] for row in audit_rows(app, "jucho.report.delivery_revoke")] == ["jucho.report.delivery_revoke"]
    again = post_form(client, url, {"confirmed": "yes"})
    assert again.status_code == 422 and "既に停止" in again.get_data(as_text=True)


def test_resend_is_a_new_link_and_the_old_stays_valid(app, client, outbox, issued):
    send(client, issued)
    send(client, issued, "other@minato-fudosan.example.jp")
    first, second = outbox
    assert second.recipients == ["other@minato-fudosan.example.jp"]
    assert link_in(first) != link_in(second)
    broker = app.test_client()
    assert broker.get(link_in(first)).status_code == 200 and broker.get(link_in(second)).status_code == 200
    page = _page(client, issued).get_data(as_text=True)
    assert page.count('data-testid="delivery-row"') == 2 and page.count('data-testid="resend"') == 2


def test_general_staff_see_why_and_are_refused(app, outbox, issued, make_tenant):
    send_admin = app.test_client()
    jucho_login(send_admin, outbox, CODE, "admin")
    send(send_admin, issued)
    [delivery] = deliveries(app, CODE)
    staff = app.test_client()
    jucho_login(staff, outbox, CODE, "staff1")
    page = _page(staff, issued)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "delivery-not-allowed" in html and "delivery-form" not in html
    assert "revoke-link" not in html
    before = len(audit_rows(app, "access.denied"))
    refused = post_form(staff, f"/jucho/requests/{issued}", {"recipient": BROKER_EMAIL, "confirmed": "yes"},
                        action=f"/jucho/requests/{issued}/delivery/send")
    assert refused.status_code == 403
    assert staff.get(f"/jucho/requests/{issued}/delivery/{delivery.id}/revoke").status_code == 403
    denied = audit_rows(app, "access.denied")[before:]
    assert [(row[0], row[2]) for row in denied] == [("access.denied", f"request:{issued}")] * 2
    assert len(deliveries(app, CODE)) == 1 and deliveries(app, CODE)[0].revoked_at is None
    # Where the tenant lets 一般 issue, they may deliver too.
    with in_tenant(app, CODE):
        from plugins.jucho.requests import settings

        settings().staff_may_issue = True
        db.session.commit()
    assert send(staff, issued).status_code == 302 and len(deliveries(app, CODE)) == 2


def test_another_tenants_request_and_delivery_answer_404(app, client, outbox, issued, make_tenant):
    make_tenant("otherco", product="jucho")
    other_request = filed_request(app, "otherco")
    issue(app, "otherco", other_request)
    other = app.test_client()
    jucho_login(other, outbox, "otherco", "admin")
    send(other, other_request)
    [foreign] = deliveries(app, "otherco")
    assert _page(client, other_request).status_code == 404
    assert post_form(client, f"/jucho/requests/{issued}/delivery", {"recipient": BROKER_EMAIL},
                     action=f"/jucho/requests/{other_request}/delivery/send").status_code == 404
    assert client.get(f"/jucho/requests/{issued}/delivery/{foreign.id}/revoke").status_code == 404
    assert client.get(f"/jucho/requests/{other_request}/delivery/{foreign.id}/revoke").status_code == 404
    assert deliveries(app, "otherco")[0].revoked_at is None


def test_without_an_issued_report_nothing_can_be_sent(app, client, outbox, issued):
    second = filed_request(app, CODE)
    page = _page(client, second).get_data(as_text=True)
    assert "発行済みの報告書はまだありません" in page and "delivery-form" not in page
    response = post_form(client, f"/jucho/requests/{issued}/delivery", {"recipient": BROKER_EMAIL},
                         action=f"/jucho/requests/{second}/delivery/send")
    assert response.status_code == 302 and len(deliveries(app, CODE)) == 0
    assert "発行済みの報告書がありません" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_postal_request_can_still_be_delivered_to_a_typed_address(app, client, outbox, issued):
    postal = filed_request(app, CODE, delivery="post", email="", postal_code="160-0023",
                           postal_address="東京都新宿区西新宿1-1-1")
    issue(app, CODE, postal)
    outbox.clear()
    page = _page(client, postal).get_data(as_text=True)
    assert "交付方法は郵送です" in page and 'value=""' in page
    assert send(client, postal, "typed@example.jp").status_code == 302
    assert [mail.recipients for mail in outbox] == [["typed@example.jp"]]


def test_the_settings_set_link_days_and_download_limit(app, client, outbox, issued):
    bad = post_form(client, "/jucho/fees", {"due_business_days": "3", "delivery_valid_days": "91",
                                            "delivery_max_downloads": "0"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "1〜90日の範囲" in text and "1〜50回の範囲" in text
    assert post_form(client, "/jucho/fees", {"due_business_days": "3", "delivery_valid_days": "3",
                                             "delivery_max_downloads": "2"}).status_code == 302
    send(client, issued)
    [delivery] = deliveries(app, CODE)
    assert delivery.expires_at - delivery.created_at == timedelta(days=3) and delivery.max_downloads == 2
    assert "2回" in outbox[-1].body
    changed = json.loads(audit_rows(app, "jucho.settings.update")[-1][3])
    assert changed["after"]["link_days"] == 3 and changed["after"]["link_downloads"] == 2


def test_the_list_shows_each_links_state(app, client, outbox, issued, monkeypatch):
    post_form(client, "/jucho/fees", {"due_business_days": "3", "delivery_valid_days": "14",
                                      "delivery_max_downloads": "1"})
    send(client, issued)
    send(client, issued)
    used, fresh = (link_in(mail) for mail in outbox)
    assert download(app.test_client(), used).status_code == 200

    def states():
        html = _page(client, issued).get_data(as_text=True)
        return sorted(re.findall(r'data-testid="delivery-state">([^<]+)<', html))

    assert states() == ["上限到達", "有効"]
    later = utcnow() + timedelta(days=15)
    monkeypatch.setattr("plugins.jucho.deliveries.utcnow", lambda: later)
    assert states() == ["上限到達", "期限切れ"]
    assert app.test_client().get(fresh).status_code == 410
