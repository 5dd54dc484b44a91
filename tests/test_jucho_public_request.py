"""The broker's public request form: success and receipt mail, hostile input, honeypot, CSRF, rate limits, 404s."""
from __future__ import annotations

import os
import re
import uuid

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from tests.jucho_helpers import audit_rows
from tests.jucho_request_helpers import (
    FORM,
    add_building,
    fee_ids,
    in_tenant,
    request_count,
    requests_of,
    submit,
)

REDIS_URL = os.environ.get("KANRI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def juchoco(app, make_tenant, add_user):
    """重調@CITY tenant 'juchoco' (admin + a second admin) with one building; returns the building id."""
    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "boss", role="admin", email="boss@juchoco.example.jp")
    return add_building(app, "juchoco")


def _data(building_id, **fields):
    return {**FORM, "building": str(building_id), **fields}


def test_form_shows_buildings_by_city_only_and_the_fee_table(client, juchoco):
    page = client.get("/jucho/juchoco/request")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "グランドメゾン青葉（新宿区）" in html and "西新宿3-2-1" not in html   # 市区町村 only, never the street
    assert "一覧にない" in html
    assert "重要事項調査報告書" in html and "11,000円" in html and "管理規約の写し" in html
    assert "滞納額" in html and "同意" in html                                     # the consent is explained
    assert 'name="website"' in html and "jucho-hp" in html                       # the honeypot is in the form


def test_a_request_is_stored_numbered_and_receipted(app, client, outbox, juchoco):
    fees = fee_ids(app, "juchoco")
    response = submit(client, "juchoco", _data(juchoco, documents=[str(fees["rules"])]))
    assert response.status_code == 302
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    [stored] = requests_of(app, "juchoco")
    assert stored.number.startswith("R20") and len(stored.number) == 12 and stored.number in done
    assert stored.unit_number == "305"                                           # width normalised
    assert stored.license_number == "東京都知事（5）第67890号"
    assert stored.status == "received" and stored.channel == "web"
    assert stored.seller_consent and stored.consent_at is not None
    assert [(line.name, line.amount) for line in stored.lines] == [("重要事項調査報告書", 11000), ("管理規約の写し", 3300)]
    assert stored.total_amount == 14300 and stored.total_tax == 1000 + 300
    assert stored.due_date > stored.received_on and stored.due_date.weekday() < 5
    # Personal data is encrypted at rest; the company name is not personal.
    with app.app_context():
        raw = db.session.execute(sa.text("SELECT contact_name, phone, email, broker_company FROM jucho_requests")).one()
    assert all(value.startswith("k1$") for value in raw[:3]) and raw[3] == "みなと不動産株式会社"

    receipt = next(mail for mail in outbox if mail.recipients == ["hanako@minato-fudosan.example.jp"])
    assert "重調@CITY" in receipt.subject and "juchoco 株式会社" in receipt.subject and stored.number in receipt.subject
    for text in (stored.number, "グランドメゾン青葉", "305", "売買", "14,300円", "管理規約の写し", "3,300円"):
        assert text in receipt.body and text in receipt.html
    staff = next(mail for mail in outbox if mail.recipients != ["hanako@minato-fudosan.example.jp"])
    assert sorted(staff.recipients) == ["admin@juchoco.example.jp", "boss@juchoco.example.jp"]
    assert stored.number in staff.body and f"http://localhost/jucho/requests/{stored.id}" in staff.body
    assert "03-1234-5678" not in staff.body                                       # no broker phone in staff mail
    [(action, outcome, target, details)] = [row for row in audit_rows(app, "jucho.request.") if row[0].endswith("create")]
    assert outcome == "success" and target == f"request:{stored.id}" and "仲介 花子" not in details


def test_second_request_gets_the_next_number(app, client, juchoco):
    assert submit(client, "juchoco", _data(juchoco)).status_code == 302
    assert submit(client, "juchoco", _data(juchoco, unit_number="1201")).status_code == 302
    first, second = requests_of(app, "juchoco")
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_unlisted_building_postal_delivery_and_express(app, client, juchoco):
    response = submit(client, "juchoco", _data("other", building_other="サンハイツ目黒 東京都目黒区1-1", delivery="post",
                                                email="", postal_code="１５３−００６１", postal_address="東京都目黒区中目黒1-1-1",
                                                express="y", seller_consent=""))
    assert response.status_code == 302, response.get_data(as_text=True)
    [stored] = requests_of(app, "juchoco")
    assert stored.building_id is None and stored.building_unlisted and stored.building_name.startswith("サンハイツ目黒")
    assert stored.postal_address == "〒153-0061 東京都目黒区中目黒1-1-1" and stored.express
    assert [line.name for line in stored.lines] == ["重要事項調査報告書", "速達"]
    assert not stored.seller_consent and stored.consent_at is None


@pytest.mark.parametrize("fields, field_message", [
    ({"unit_number": "1" * 33}, "32文字以内で入力してください。"),
    ({"broker_company": "あ" * 201}, "200文字以内で入力してください。"),
    ({"contact_name": "仲介\x00花子"}, "使用できない文字（制御文字）が含まれています。"),
    ({"broker_company": "みなと\u202e不動産\x1b"}, "使用できない文字（制御文字）が含まれています。"),
    ({"unit_number": "305\n306"}, "使用できない文字（制御文字）が含まれています。"),
    ({"license_number": "東京都知事第67890号"}, "宅建業免許番号は「国土交通大臣（3）第12345号」"),
    ({"license_number": "ニューヨーク州知事（1）第1号"}, "宅建業免許番号は"),
    ({"phone": "call me"}, "電話番号は数字とハイフンで入力してください"),
    ({"email": "not-an-address"}, "メールアドレスの形式が正しくありません"),
    ({"email": ""}, "電子で受け取る場合はメールアドレスを入力してください。"),
    ({"delivery": "post", "postal_code": "", "postal_address": ""}, "郵便番号を「123-4567」の形で入力してください。"),
    ({"delivery": "carrier-pigeon"}, "一覧から選択してください。"),
    ({"purpose": "x" * 5000}, "一覧から選択してください。"),
    ({"documents": "abc"}, "一覧から選択してください。"),
    ({"documents": "999999"}, "一覧から選択してください。"),
    ({"express": "y"}, "速達は郵送の場合のみ選べます。"),
    ({"building": "other"}, "一覧にない場合は物件名と所在地を入力してください。"),
    ({"building": ""}, "物件を選択してください。"),
    ({"building": "１"}, "一覧から選択してください。"),
])
def test_bad_input_gets_a_japanese_message_and_the_input_is_kept(app, client, juchoco, fields, field_message):
    response = submit(client, "juchoco", _data(juchoco, **fields))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_message in html and "入力内容に誤りがあります" in html
    assert "みなと不動産株式会社" in html or "broker_company" in fields                    # input kept
    assert request_count(app) == 0


def test_forged_building_of_another_tenant_is_refused(app, client, juchoco, make_tenant):
    make_tenant("otherco", product="jucho")
    foreign = add_building(app, "otherco", name="他社マンション", address="大阪府大阪市北区梅田1-1")
    assert "他社マンション" not in client.get("/jucho/juchoco/request").get_data(as_text=True)
    response = submit(client, "juchoco", _data(foreign))
    assert response.status_code == 422 and "一覧から選択してください。" in response.get_data(as_text=True)
    assert request_count(app) == 0


def test_document_of_another_tenant_is_refused(app, client, juchoco, make_tenant):
    make_tenant("otherco", product="jucho")
    foreign = fee_ids(app, "otherco")["rules"]
    response = submit(client, "juchoco", _data(juchoco, documents=[str(foreign)]))
    assert response.status_code == 422 and request_count(app) == 0


def test_missing_or_wrong_csrf_is_a_400_and_stores_nothing(app, client, juchoco):
    assert client.post("/jucho/juchoco/request", data=_data(juchoco)).status_code == 400
    client.get("/jucho/juchoco/request")
    assert client.post("/jucho/juchoco/request", data={**_data(juchoco), "csrf_token": "forged"}).status_code == 400
    assert request_count(app) == 0


def test_honeypot_pretends_success_stores_nothing_and_is_audited(app, client, outbox, juchoco):
    response = submit(client, "juchoco", _data(juchoco, website="http://spam.example"))
    assert response.status_code == 302
    done = client.get(response.headers["Location"])
    assert done.status_code == 200 and "ご依頼を受け付けました" in done.get_data(as_text=True)
    assert request_count(app) == 0 and len(outbox) == 0
    assert [(a, o) for a, o, *_ in audit_rows(app, "jucho.request.")] == [("jucho.request.honeypot", "failure")]


def test_oversized_body_is_refused(app, client, juchoco):
    response = submit(client, "juchoco", _data(juchoco, broker_company="あ" * 40_000))
    assert response.status_code == 413 and "送信内容が大きすぎます" in response.get_data(as_text=True)
    assert request_count(app) == 0


def test_unknown_suspended_and_other_product_codes_are_the_same_404(app, client, juchoco, make_tenant, runner):
    make_tenant("mamaco", product="mama")
    make_tenant("gone", product="jucho")
    assert runner.invoke(args=["tenant", "suspend", "gone", "--reason", "テスト"]).exit_code == 0
    pages = [client.get(f"/jucho/{code}/request") for code in ("nosuch", "mamaco", "gone", "x" * 40, "JUCHOCO%00",
                                                               "<script>")]
    assert [page.status_code for page in pages] == [404] * 6
    bodies = {re.sub(r"<code>[0-9A-Z]+</code>", "", page.get_data(as_text=True)) for page in pages[:3]}
    assert len(bodies) == 1                                   # nothing tells a suspended tenant from an unknown one
    assert client.post("/jucho/gone/request", data=_data(juchoco)).status_code in (400, 404)
    assert request_count(app) == 0


def test_a_logged_in_user_of_another_tenant_gets_the_404(app, client, outbox, juchoco, make_tenant):
    from tests.jucho_helpers import jucho_login

    make_tenant("otherco", product="jucho")
    jucho_login(client, outbox, "otherco", "admin")
    assert client.get("/jucho/juchoco/request").status_code == 404


@pytest.mark.config(RATELIMIT_ENABLED=True, KANRI_JUCHO_REQUEST_IP_LIMIT="3 per minute",
                    KANRI_JUCHO_REQUEST_TENANT_LIMIT="100 per minute")
def test_rate_limit_per_client(app, client, juchoco):
    statuses = [submit(client, "juchoco", _data(juchoco, unit_number=str(n))).status_code for n in range(4)]
    assert statuses == [302, 302, 302, 429]
    assert client.get("/jucho/juchoco/request").status_code == 200             # reading the form stays possible
    assert request_count(app) == 3


@pytest.mark.config(RATELIMIT_ENABLED=True, KANRI_JUCHO_REQUEST_IP_LIMIT="100 per minute",
                    KANRI_JUCHO_REQUEST_TENANT_LIMIT="2 per minute")
def test_rate_limit_per_tenant_across_clients(app, juchoco, make_tenant):
    make_tenant("otherco", product="jucho")
    other_building = add_building(app, "otherco")
    clients = [app.test_client(), app.test_client(), app.test_client()]
    addresses = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    statuses = [submit(c, "juchoco", _data(juchoco), environ_base={"REMOTE_ADDR": ip}).status_code
                for c, ip in zip(clients, addresses, strict=True)]
    assert statuses == [302, 302, 429]
    # Another tenant's form has its own budget.
    assert submit(app.test_client(), "otherco", _data(other_building)).status_code == 302


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
        return True
    except Exception:
        return False


@pytest.mark.skipif(not _redis_available(), reason=f"no Redis at {REDIS_URL} (CI starts one)")
def test_tenant_limit_is_shared_by_two_instances_through_redis(app, base_config, juchoco):
    prefix = f"kanri-test-{uuid.uuid4().hex}"
    config = {**base_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URL,
              "RATELIMIT_KEY_PREFIX": prefix, "KANRI_JUCHO_REQUEST_IP_LIMIT": "100 per minute",
              "KANRI_JUCHO_REQUEST_TENANT_LIMIT": "3 per minute",
              "KANRI_AUDIT_ANCHOR_DIR": app.config["KANRI_AUDIT_ANCHOR_DIR"]}
    first, second = create_app(config), create_app(config)
    try:
        a, b = first.test_client(), second.test_client()
        statuses = [submit(client, "juchoco", _data(juchoco, unit_number=str(n)),
                           environ_base={"REMOTE_ADDR": f"203.0.113.{n}"}).status_code
                    for n, client in enumerate([a, b, a, b])]
        assert statuses == [302, 302, 302, 429]
    finally:
        import redis

        connection = redis.Redis.from_url(REDIS_URL)
        for key in connection.scan_iter(f"*{prefix}*"):
            connection.delete(key)


def test_inactive_fee_items_are_neither_offered_nor_charged(app, client, juchoco):
    from plugins.jucho.fees import JuchoFeeItem

    with in_tenant(app, "juchoco"):
        db.session.execute(sa.update(JuchoFeeItem).where(JuchoFeeItem.code == "rules").values(active=False))
        db.session.commit()
    rules = fee_ids(app, "juchoco")["rules"]
    assert "管理規約の写し" not in client.get("/jucho/juchoco/request").get_data(as_text=True)
    assert submit(client, "juchoco", _data(juchoco, documents=[str(rules)])).status_code == 422
