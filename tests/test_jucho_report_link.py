"""電子交付 (the broker's side): the landing page and its headers, the POST download, the download limit, expiry with
a moved clock, 停止, forged and foreign links, GET never counting, racing downloads, rate limits, no secret in logs."""
from __future__ import annotations

import hashlib
import logging
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import User
from app.timeutil import utcnow
from tests.conftest import csrf_from
from tests.jucho_delivery_helpers import BROKER_EMAIL, deliveries, download, filed_request, issue, link_in
from tests.jucho_request_helpers import in_tenant

CODE = "linkco"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


def _deliver(app, outbox, code: str, request_id: int, **settings) -> str:
    """Send the latest issued version of the request through the service as 'admin'; returns the link's path."""
    from plugins.jucho import deliveries as service
    from plugins.jucho.reports import latest_issued
    from plugins.jucho.requests import JuchoRequest
    from plugins.jucho.requests import settings as request_settings

    with in_tenant(app, code):
        for name, value in settings.items():
            setattr(request_settings(), name, value)
        admin = db.session.execute(sa.select(User).where(User.login_id == "admin")).scalar_one()
        service.create_delivery(latest_issued(db.session.get(JuchoRequest, request_id)), BROKER_EMAIL, admin)
        db.session.commit()
    return link_in(outbox[-1])


@pytest.fixture
def linked(app, outbox, make_tenant):
    """Tenant 'linkco' with an issued report mailed as a link (limit 2 downloads); returns (request id, path)."""
    make_tenant(CODE, product="jucho")
    request_id = filed_request(app, CODE)
    issue(app, CODE, request_id)
    return request_id, _deliver(app, outbox, CODE, request_id, delivery_max_downloads=2)


def _count(app, code=CODE):
    return deliveries(app, code)[-1].download_count


def _pdf(app, version=1):
    from plugins.jucho.reports import JuchoReport

    with in_tenant(app, CODE):
        return db.session.execute(sa.select(JuchoReport).where(JuchoReport.version == version)).scalar_one().pdf_bytes()


def test_the_landing_page_shows_the_report_and_is_private(app, linked):
    _, path = linked
    page = app.test_client().get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in page.headers["X-Robots-Tag"] and '<meta name="robots" content="noindex, nofollow">' in html
    for text in ("グランドメゾン青葉 305", "第1版", "発行日", "linkco 株式会社", "有効期限", "2回（全2回）", "PDFをダウンロード"):
        assert text in html, text
    assert 'method="post"' in html and 'name="csrf_token"' in html
    assert "30,000" not in html and BROKER_EMAIL not in html


def test_a_get_never_counts(app, linked):
    _, path = linked
    client = app.test_client()
    for _ in range(5):
        assert client.get(path).status_code == 200
    assert _count(app) == 0 and deliveries(app, CODE)[-1].downloads == []


def test_the_post_streams_the_pdf_counts_and_logs(app, linked):
    _, path = linked
    response = download(app.test_client(), path, headers={"User-Agent": CHROME},
                        environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.data == _pdf(app)
    from plugins.jucho.reports import JuchoReport

    with in_tenant(app, CODE):
        stored = db.session.execute(sa.select(JuchoReport.pdf_sha256)).scalar_one()
    assert hashlib.sha256(response.data).hexdigest() == stored
    [delivery] = deliveries(app, CODE)
    assert delivery.download_count == 1
    [row] = delivery.downloads
    assert (row.ip, row.browser, row.outcome) == ("203.0.113.9", "Chrome 131 / Windows", "downloaded")


def test_the_limit_is_reached_then_the_link_is_gone(app, linked):
    _, path = linked
    client = app.test_client()
    assert download(client, path).status_code == 200
    page = client.get(path)
    assert "1回（全2回）" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    assert client.post(path, data={"csrf_token": token}).status_code == 200
    third = client.post(path, data={"csrf_token": token})
    assert third.status_code == 410 and "回数を使い切りました" in third.get_data(as_text=True)
    assert client.get(path).status_code == 410
    [delivery] = deliveries(app, CODE)
    assert delivery.download_count == 2
    assert [row.outcome for row in delivery.downloads] == ["downloaded", "downloaded", "used_up"]


def test_an_expired_link_is_gone(app, linked, monkeypatch):
    _, path = linked
    client = app.test_client()
    token = csrf_from(client.get(path).get_data(as_text=True))
    later = utcnow() + timedelta(days=14, seconds=1)
    monkeypatch.setattr("plugins.jucho.deliveries.utcnow", lambda: later)
    page = client.get(path)
    assert page.status_code == 410 and "有効期限が切れたか" in page.get_data(as_text=True)
    assert client.post(path, data={"csrf_token": token}).status_code == 410
    [delivery] = deliveries(app, CODE)
    assert delivery.download_count == 0 and [row.outcome for row in delivery.downloads] == ["expired"]
    just_before = utcnow() + timedelta(days=13, hours=23)
    monkeypatch.setattr("plugins.jucho.deliveries.utcnow", lambda: just_before)
    assert client.post(path, data={"csrf_token": token}).status_code == 200


def test_a_revoked_link_is_gone(app, linked):
    from plugins.jucho import deliveries as service

    _, path = linked
    client = app.test_client()
    token = csrf_from(client.get(path).get_data(as_text=True))
    with in_tenant(app, CODE):
        admin = db.session.execute(sa.select(User).where(User.login_id == "admin")).scalar_one()
        service.revoke(db.session.get(service.JuchoReportDelivery, deliveries(app, CODE)[0].id), admin)
        db.session.commit()
    assert client.get(path).status_code == 410
    refused = client.post(path, data={"csrf_token": token})
    assert refused.status_code == 410 and refused.mimetype == "text/html"
    assert _count(app) == 0


def test_forged_and_garbled_links_are_404_and_name_nothing(app, linked):
    _, path = linked
    client = app.test_client()
    prefix, token = path.rsplit("/", 1)
    payload, signature = token.rsplit(".", 1)
    # The first character: the last one also carries padding bits that base64 decoding ignores.
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    edited = payload[:5] + ("A" if payload[5] != "A" else "B") + payload[6:]      # another id, the old signature
    for bad in (f"{prefix}/{payload}.{flipped}", f"{prefix}/{edited}.{signature}", f"{prefix}/{payload}", f"{prefix}/x", f"{prefix}/{'a' * 300}",
                f"{prefix}/%00%ff", f"{prefix}/{token}%0d%0a", f"/jucho/no-such-co/r/{token}", f"/jucho/LINK%20CO/r/{token}"):
        page = client.get(bad)
        html = page.get_data(as_text=True)
        assert page.status_code == 404, bad
        assert "リンクが正しくありません" in html and "linkco" not in html and "グランドメゾン" not in html
    assert client.post(f"{prefix}/{payload}.{flipped}", data={"csrf_token": csrf_from(
        client.get(path).get_data(as_text=True))}).status_code == 404
    assert _count(app) == 0


def test_a_valid_token_under_another_tenants_code_is_404(app, outbox, linked, make_tenant):
    make_tenant("otherco", product="jucho")
    other_request = filed_request(app, "otherco")
    issue(app, "otherco", other_request)
    other_path = _deliver(app, outbox, "otherco", other_request)
    _, path = linked
    token, other_token = path.rsplit("/", 1)[1], other_path.rsplit("/", 1)[1]
    client = app.test_client()
    assert client.get(f"/jucho/otherco/r/{token}").status_code == 404
    assert client.get(f"/jucho/{CODE}/r/{other_token}").status_code == 404
    assert client.get(other_path).status_code == 200 and client.get(path).status_code == 200
    make_tenant("mamaco", product="mama")
    assert client.get(f"/jucho/mamaco/r/{token}").status_code == 404


def test_a_correction_is_announced_and_the_delivered_version_is_served(app, linked):
    request_id, path = linked
    issue(app, CODE, request_id)                                  # 第2版 (訂正) issued after the link was sent
    client = app.test_client()
    page = client.get(path).get_data(as_text=True)
    assert "この報告書には訂正版があります" in page and "第1版" in page
    assert download(client, path).data == _pdf(app, 1) != _pdf(app, 2)


def test_two_racing_downloads_at_the_limit_never_both_succeed(app, linked):
    _, path = linked
    assert download(app.test_client(), path).status_code == 200          # one of two left
    clients = [app.test_client(), app.test_client()]
    tokens = [csrf_from(c.get(path).get_data(as_text=True)) for c in clients]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def press(client, token):
        start.wait()
        statuses.append(client.post(path, data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=press, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 410]
    [delivery] = deliveries(app, CODE)
    assert delivery.download_count == 2
    assert sorted(row.outcome for row in delivery.downloads) == ["downloaded", "downloaded", "used_up"]


def test_the_counter_is_one_conditional_update_across_two_connections(app, linked):
    """Two sessions that both read the link as usable: the database lets only one of them take the last download."""
    from plugins.jucho import deliveries as service

    _, path = linked
    assert download(app.test_client(), path).status_code == 200
    [row] = deliveries(app, CODE)
    results = []
    start = threading.Barrier(2)

    def take():
        with in_tenant(app, CODE):
            delivery = db.session.get(service.JuchoReportDelivery, row.id)
            assert delivery.state() == service.ACTIVE                  # both see one download left
            start.wait()
            results.append(service.take_download(delivery, "192.0.2.1", CHROME))
            db.session.commit()

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True] and _count(app) == 2


@pytest.mark.config(RATELIMIT_ENABLED=True, KANRI_JUCHO_LINK_IP_LIMIT="3 per minute")
def test_the_link_is_rate_limited_per_client(app, linked):
    _, path = linked
    client = app.test_client()
    assert [client.get(path).status_code for _ in range(4)] == [200, 200, 200, 429]
    other = app.test_client()
    assert other.get(path, environ_base={"REMOTE_ADDR": "198.51.100.20"}).status_code == 200
    assert client.get(f"/jucho/{CODE}/r/guess").status_code == 429      # guessing costs the same budget


def test_no_token_or_address_in_any_log_line_or_audit_row(app, linked, caplog):
    from app.models import AuditEvent

    _, path = linked
    token = path.rsplit("/", 1)[1]
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    assert download(client, path).status_code == 200
    client.get(path.replace(token[-5:], "AAAAA"))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "jucho.report.delivery_download" in logged or "/r/<token>" in logged
    assert token not in logged and token.split(".")[0] not in logged and BROKER_EMAIL not in logged
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEvent).execution_options(all_tenants=True)).scalars().all()
    assert any(row.action == "jucho.report.delivery_download" for row in rows)
    for row in rows:
        text = f"{row.details} {row.target} {row.user_agent}"
        assert token.split(".")[0] not in text and BROKER_EMAIL not in text
