"""A third product built only from the core toolkit (tests/plugins/repairs, 修繕記録) works end to end.

Its own second factor (暗証番号), one list with search/sort/pages, one form, one confirm-delete, tenant
isolation, admin-only screens and menus that only its tenants see — through the real interface.
"""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from app.auth.factors import REPLAYED
from app.extensions import db
from app.models import AuditEvent, Tenant, User
from app.products import plugin_manager
from app.tenancy import all_tenants, tenant_scope
from tests.conftest import PASSWORD, csrf_from, login, password_step, post_form
from tests.plugins.repairs.models import RepairRecord, RepairsPin

pytestmark = pytest.mark.config(
    KANRI_PLUGINS="mama,jucho,tests.plugins.sample_product,tests.plugins.repairs")

PIN_PAGE = "/repairs/pin"
RECORDS = "/repairs/records"
NEW = "/repairs/records/new"


@pytest.fixture(autouse=True)
def _repairs_tables(app):
    """The session schema is built from the metadata at start; this plugin is not in TEST_PLUGINS (its demo
    tenant and menus would change other tests), so make sure its tables exist."""
    with app.app_context():
        db.metadata.create_all(db.engine, tables=[RepairRecord.__table__, RepairsPin.__table__], checkfirst=True)


def repairs_tenant(app, code: str) -> str:
    """Create a 修繕記録 tenant as the operator does; returns the admin's 暗証番号 printed by tenant_created."""
    from app.tenants import create_tenant

    with app.app_context():
        _, _, _, lines = create_tenant(code=code, name=f"{code} 株式会社", product="repairs", contract_end="2099-12-31",
                                       admin_login="admin", admin_email=f"admin@{code}.example.jp",
                                       admin_name="管理 太郎", admin_password=PASSWORD)
    return re.search(r"暗証番号（管理者 admin 用）: (\d{6})", "\n".join(lines)).group(1)


def pin_login(client, company: str, login_id: str, pin: str):
    """Password step, then the 暗証番号."""
    response = password_step(client, company, login_id, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith(PIN_PAGE)
    return post_form(client, PIN_PAGE, {"pin": pin})


def logout(client):
    return client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})


def audit_actions(app, prefix: str) -> list[tuple[str, str]]:
    with app.app_context(), all_tenants():
        rows = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action.startswith(prefix))
                                  .order_by(AuditEvent.id)).scalars()
        return [(row.action, row.outcome) for row in rows]


def record_form(**overrides) -> dict:
    return {"title": "外壁塗装", "contractor": "山田建装", "contractor_kana": "ヤマダケンソウ",
            "contact_name": "山田 一郎", "contact_phone": "03-1234-5678", "cost": "1200000", **overrides}


def rows(html: str) -> list[str]:
    """The titles of the list's rows, in order."""
    return re.findall(r'<td><a href="/repairs/records/\d+/edit">([^<]+)</a></td>', html)


def test_the_pin_factor_logs_in_once_and_a_replay_is_refused(app, client):
    pin = repairs_tenant(app, "rep-a")
    response = password_step(client, "rep-a", "admin", PASSWORD)
    assert response.headers["Location"].endswith(PIN_PAGE)
    saved = client.get_cookie("session").value
    wrong = post_form(client, PIN_PAGE, {"pin": "000000" if pin != "000000" else "111111"})
    assert wrong.status_code == 422 and "暗証番号が正しくありません。" in wrong.get_data(as_text=True)
    assert client.get(RECORDS).status_code == 302  # not logged in yet

    assert post_form(client, PIN_PAGE, {"pin": pin}).status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert 'href="/repairs/records"' in home and "暗証番号の発行" in home
    logout(client)

    client.set_cookie("session", saved)  # the copied pending-login cookie, with the right PIN
    token = csrf_from(client.get("/login").get_data(as_text=True))
    replay = client.post(PIN_PAGE, data={"csrf_token": token, "pin": pin})
    assert replay.status_code == 302 and replay.headers["Location"].endswith("/login")
    assert REPLAYED in client.get("/login").get_data(as_text=True)
    assert client.get(RECORDS).status_code == 302
    actions = audit_actions(app, "login.") + audit_actions(app, "repairs.")
    assert ("login.success", "success") in actions and ("login.pending_replayed", "failure") in actions
    assert actions.count(("login.success", "success")) == 1 and ("repairs.pin.failed", "failure") in actions


def test_five_wrong_pins_lock_it_until_an_admin_issues_a_new_one(app, client):
    pin = repairs_tenant(app, "rep-a")
    password_step(client, "rep-a", "admin", PASSWORD)
    wrong = "000000" if pin != "000000" else "111111"
    for _ in range(4):
        assert post_form(client, PIN_PAGE, {"pin": wrong}).status_code == 422
    locked = post_form(client, PIN_PAGE, {"pin": wrong})
    assert locked.headers["Location"].endswith("/login")
    assert "ロックされている" in client.get("/login").get_data(as_text=True)
    again = pin_login(client, "rep-a", "admin", pin)  # even the right PIN: locked
    assert again.headers["Location"].endswith("/login") and client.get(RECORDS).status_code == 302


def test_records_form_list_search_sort_pages_and_confirm_delete(app, client):
    pin = repairs_tenant(app, "rep-a")
    assert pin_login(client, "rep-a", "admin", pin).status_code == 302

    bad = post_form(client, NEW, record_form(title="", contractor_kana="yamada", contact_phone="電話なし"))
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "入力してください。" in html
    assert "フリガナにアルファベットや数字は使えません。" in html and "電話番号は数字とハイフンで" in html
    assert 'value="山田建装"' in html and 'value="山田 一郎"' in html  # what was typed is kept
    with app.app_context(), all_tenants():
        assert db.session.execute(sa.select(sa.func.count()).select_from(RepairRecord)).scalar() == 0

    for n in range(1, 26):
        kana = "やまだけんそう" if n % 5 == 0 else "サトウボウスイ"  # hiragana typed, katakana stored
        response = post_form(client, NEW, record_form(title=f"工事{n:02d}", contractor=f"業者{n}",
                                                      contractor_kana=kana, cost=str(n * 1000)))
        assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context(), all_tenants():
        kanas = db.session.execute(sa.select(RepairRecord.contractor_kana)).scalars().all()
        assert kanas.count("ヤマダケンソウ") == 5 and "やまだけんそう" not in kanas
        raw = db.session.execute(sa.text("SELECT contact_name FROM repairs_records")).scalars().all()
        assert raw and all("山田" not in value for value in raw)  # personal data is encrypted at rest

    found = client.get(RECORDS, query_string={"q": "やまだ"}).get_data(as_text=True)
    assert rows(found) == ["工事05", "工事10", "工事15", "工事20", "工事25"]
    assert rows(client.get(RECORDS, query_string={"q": "ﾔﾏﾀﾞ 工事1"}).get_data(as_text=True)) == ["工事10", "工事15"]
    by_cost = client.get(RECORDS, query_string={"sort": "cost", "dir": "desc"}).get_data(as_text=True)
    assert rows(by_cost)[:3] == ["工事25", "工事24", "工事23"] and "費用 ▼" in by_cost
    first = client.get(RECORDS).get_data(as_text=True)
    assert len(rows(first)) == 20 and "1 / 2 ページ（全25件）" in first
    second = client.get(RECORDS, query_string={"page": "2", "sort": "cost", "dir": "desc"}).get_data(as_text=True)
    assert rows(second) == ["工事05", "工事04", "工事03", "工事02", "工事01"] and "2 / 2 ページ（全25件）" in second

    with app.app_context(), all_tenants():
        target = db.session.execute(sa.select(RepairRecord.id).where(RepairRecord.title == "工事07")).scalar_one()
    edit = f"/repairs/records/{target}/edit"
    assert 'value="工事07"' in client.get(edit).get_data(as_text=True)
    assert post_form(client, edit, record_form(title="工事07（改）")).status_code == 302

    page = client.get(f"/repairs/records/{target}/delete")
    assert page.status_code == 200 and "修繕記録を削除しますか？" in page.get_data(as_text=True)
    assert "工事07（改）" in page.get_data(as_text=True)
    assert client.post(f"/repairs/records/{target}/delete", data={"confirmed": "yes"}).status_code == 400  # no CSRF
    one_click = post_form(client, f"/repairs/records/{target}/delete", {})  # no confirmation step: the page again
    assert one_click.status_code == 200 and "修繕記録を削除しますか？" in one_click.get_data(as_text=True)
    assert client.get(edit).status_code == 200
    assert post_form(client, f"/repairs/records/{target}/delete", {"confirmed": "yes"}).status_code == 302
    assert client.get(edit).status_code == 404
    assert "工事07" not in client.get(RECORDS).get_data(as_text=True)
    actions = [action for action, _ in audit_actions(app, "repairs.record.")]
    assert actions.count("repairs.record.create") == 25
    assert actions[-2:] == ["repairs.record.update", "repairs.record.delete"]
    with app.app_context(), all_tenants():
        details = [json.loads(event.details) for event in db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action.startswith("repairs.record.")).order_by(AuditEvent.id)).scalars()]
    assert details[0]["changed_personal_fields"] == ["contact_name", "contact_phone"]
    assert details[-2]["changed_personal_fields"] == [] and details[-2]["after"]["title"] == "工事07（改）"
    assert "山田 一郎" not in json.dumps(details, ensure_ascii=False)  # personal data never reaches the log


def test_other_tenants_general_users_and_other_products(app, client, add_user, make_tenant):
    pin_a = repairs_tenant(app, "rep-a")
    pin_b = repairs_tenant(app, "rep-b")
    add_user("rep-a", "worker")
    make_tenant("sampleco", product="sample")
    with app.app_context():
        tenant_a = db.session.execute(sa.select(Tenant).where(Tenant.code == "rep-a")).scalar_one()
        with tenant_scope(tenant_a):
            record = RepairRecord(title="給水管更生", contractor="鈴木設備", contractor_kana="スズキセツビ")
            db.session.add(record)
            db.session.commit()
            record_id = record.id

    # Another tenant of the same product: the id does not exist for it.
    pin_login(client, "rep-b", "admin", pin_b)
    assert client.get(f"/repairs/records/{record_id}/edit").status_code == 404
    assert client.get(f"/repairs/records/{record_id}/delete").status_code == 404
    assert post_form(client, RECORDS, {"confirmed": "yes"}, action=f"/repairs/records/{record_id}/delete").status_code == 404
    logout(client)

    # The admin issues the general user's 暗証番号 on the admin screen.
    pin_login(client, "rep-a", "admin", pin_a)
    issued = post_form(client, "/repairs/pins", {"login": "worker"}).get_data(as_text=True)
    worker_pin = re.search(r'data-testid="pin">(\d{6})<', issued).group(1)
    logout(client)

    assert pin_login(client, "rep-a", "worker", worker_pin).status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert 'href="/repairs/records"' in home and "暗証番号の発行" not in home
    assert client.get(RECORDS).status_code == 200 and "削除</a>" not in client.get(RECORDS).get_data(as_text=True)
    assert client.get(f"/repairs/records/{record_id}/delete").status_code == 403
    assert post_form(client, RECORDS, {"confirmed": "yes"}, action=f"/repairs/records/{record_id}/delete").status_code == 403
    assert client.get("/repairs/pins").status_code == 403
    assert ("access.denied", "failure") in audit_actions(app, "access.")
    logout(client)

    # Another product's tenant: no menu, and the pages do not exist for it.
    login(client, "sampleco", "admin")
    home = client.get("/").get_data(as_text=True)
    assert "修繕記録" not in home and "/repairs/" not in home
    assert client.get(RECORDS).status_code == 404 and client.get("/repairs/pins").status_code == 404
    with app.app_context():
        for tenant in db.session.execute(sa.select(Tenant)).scalars():
            with tenant_scope(tenant):
                admin = db.session.execute(sa.select(User).where(User.login_id == "admin")).scalar_one()
                endpoints = {link.endpoint for batch in plugin_manager().hook.menu_links(tenant=tenant, user=admin)
                             for link in batch}
                assert any(e.startswith("repairs.") for e in endpoints) == (tenant.product == "repairs")


def test_demo_tenant_is_seeded_and_audit_labels_are_japanese(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "demo-repairs" in result.output and "サンプルの修繕記録を30件登録しました。" in result.output
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "demo-repairs")).scalar_one()
        with tenant_scope(tenant):
            assert db.session.execute(sa.select(sa.func.count()).select_from(RepairRecord)).scalar() == 30
        labels = {k: v for batch in plugin_manager().hook.audit_action_labels() for k, v in batch.items()}
    assert labels["repairs.record.delete"] == "修繕記録削除" and labels["repairs.pin.issue"] == "暗証番号発行"
