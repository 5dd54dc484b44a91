"""セキュリティ状況: admins, locked and suspended users, last sign-in (JST, IP), failed logins of the last 30 days by
IP, the settings, each product's per-user facts (user_security_facts; MAMA: registered devices), and the CSV."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant, User
from app.products import plugin_manager
from app.tenancy import tenant_scope
from app.timeutil import utcnow
from tests.conftest import PASSWORD, login, password_step
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import admin_client, login_with_code
from tests.security_helpers import audit_details, set_password_policy

OVERVIEW = "/admin/security/overview"
ATTACKER = "203.0.113.77"
OFFICE = "198.51.100.10"


def _edit_user(app, code, login_id, **values):
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
        with tenant_scope(tenant):
            user = db.session.execute(sa.select(User).where(User.login_id == login_id)).scalar_one()
            for key, value in values.items():
                setattr(user, key, value)
            db.session.commit()


def _csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff") and "\r\n" in text
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.fixture
def acme(app, make_tenant, add_user):
    """acme with admin, staff (logged in from the office), locked 'locked', suspended 'gone', a formula-named user."""
    make_tenant("acme")
    for login_id in ("staff", "locked", "gone", "calc"):
        add_user("acme", login_id)
    _edit_user(app, "acme", "locked", locked_until=utcnow() + timedelta(minutes=10), failed_logins=10)
    _edit_user(app, "acme", "gone", status="suspended")
    _edit_user(app, "acme", "calc", name="=HYPERLINK(\"http://evil\")")
    staff = app.test_client()
    staff.environ_base["REMOTE_ADDR"] = OFFICE
    login(staff, "acme", "staff")
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = ATTACKER
    for _ in range(3):
        assert password_step(attacker, "acme", "staff", "wrong password entirely").status_code == 200
    assert password_step(attacker, "acme", "nobody-here", "wrong password entirely").status_code == 200
    client = app.test_client()
    login(client, "acme", "admin")
    return client


def test_overview_shows_admins_locks_suspensions_last_logins_and_failures(app, acme):
    response = acme.get(OVERVIEW)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    summary = html.split('data-testid="overview-admins">')[1].split("</dd>")[0]
    assert "admin" in summary and "staff" not in summary
    assert "locked" in html.split('data-testid="overview-locked">')[1].split("</dd>")[0]
    assert "gone" in html.split('data-testid="overview-suspended">')[1].split("</dd>")[0]
    users = html.split('data-testid="security-users"')[1].split("</table>")[0]
    staff_row = users.split("staff</td>")[1].split("</tr>")[0]
    assert OFFICE in staff_row and "JST" in staff_row
    assert "ロック中" in users and "停止" in users
    failures = html.split('data-testid="security-failures"')[1].split("</table>")[0]
    assert ATTACKER in failures and ">4<" in failures.replace(" ", "")
    assert "=HYPERLINK" in html and "<script" not in users
    assert "12文字" in html.split('data-testid="overview-settings"')[1]


def test_failures_older_than_30_days_are_left_out(app, acme):
    import time_machine

    old = app.test_client()
    old.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    with time_machine.travel(utcnow() - timedelta(days=31), tick=False):
        assert password_step(old, "acme", "staff", "wrong password entirely").status_code == 200
    html = acme.get(OVERVIEW).get_data(as_text=True)
    assert ATTACKER in html and "192.0.2.99" not in html


def test_csv_is_excel_friendly_formula_safe_and_audited(app, acme):
    set_password_policy(acme, 16, 2)
    response = acme.get("/admin/security/overview.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows[0][:6] == ["ログインID", "氏名", "権限", "状態", "最終ログイン", "最終ログインIP"]
    by_login = {row[0]: row for row in rows[1:] if row}
    assert by_login["staff"][5] == OFFICE and by_login["staff"][4].endswith("JST")
    assert by_login["locked"][3] == "ロック中" and by_login["gone"][3] == "停止" and by_login["admin"][2] == "管理者"
    assert by_login["calc"][1].startswith("'=")
    assert [ATTACKER, "4"] == by_login[ATTACKER][:2]
    assert by_login["パスワードの最小文字数"][1] == "16"
    assert by_login["過去のパスワードの再使用禁止（回数）"][1] == "2"
    assert PASSWORD not in response.get_data(as_text=True)
    assert audit_details(app, "acme", "security.overview.export")[-1]["users"] == 5


def test_general_users_and_other_tenants_see_nothing_of_acme(app, acme, make_tenant, add_user):
    staff = app.test_client()
    login(staff, "acme", "staff")
    assert staff.get(OVERVIEW).status_code == 403
    assert staff.get("/admin/security/overview.csv").status_code == 403
    make_tenant("other")
    other = app.test_client()
    login(other, "other", "admin")
    html = other.get(OVERVIEW).get_data(as_text=True)
    assert ">staff<" not in html and ">locked<" not in html and ATTACKER not in html and OFFICE not in html
    rows = _csv(other.get("/admin/security/overview.csv"))
    assert [row[0] for row in rows[1:rows.index([])]] == ["admin"]
    assert ATTACKER not in str(rows) and "staff" not in str(rows)
    assert len(audit_details(app, "acme", "access.denied")) == 2


def test_mama_shows_registered_devices_per_user_through_the_hook(app, make_tenant, add_user):
    _, admin = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    add_user("mama1", "nodevice")
    staff = app.test_client()
    login_with_code(staff, app, "mama1", "staff")
    waiting = app.test_client()
    from tests.mama_helpers import password_step as mama_password_step
    from tests.mama_helpers import send_request

    mama_password_step(waiting, "mama1", "nodevice", PASSWORD)
    send_request(waiting, "自宅のPC")
    html = admin.get(OVERVIEW).get_data(as_text=True)
    assert "登録端末（利用可）" in html and "登録端末（承認待ち）" in html and "ユーザーごとの状況" in html
    rows = {row[0]: row for row in _csv(admin.get("/admin/security/overview.csv"))[1:] if row}
    header = _csv(admin.get("/admin/security/overview.csv"))[0]
    usable, pending = header.index("登録端末（利用可）"), header.index("登録端末（承認待ち）")
    assert (rows["admin"][usable], rows["admin"][pending]) == ("1", "0")
    assert (rows["staff"][usable], rows["staff"][pending]) == ("1", "0")
    assert (rows["nodevice"][usable], rows["nodevice"][pending]) == ("0", "1")


def test_user_security_facts_answers_only_for_its_own_product(app, make_tenant, add_user):
    make_tenant("mama1", product="mama")
    make_tenant("juchoco", product="jucho")
    with app.app_context():
        for code, expected in (("mama1", True), ("juchoco", False)):
            tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
            with tenant_scope(tenant):
                users = list(db.session.execute(sa.select(User)).scalars())
                answers = [a for a in plugin_manager().hook.user_security_facts(tenant=tenant, users=users) if a]
                # The built-in 強い認証要素 answers for every tenant; MAMA's devices only for MAMA's.
                devices = [a for a in answers if any("登録端末" in label for facts in a.values() for label in facts)]
                if expected:
                    assert devices == [{users[0].id: {"登録端末（利用可）": 0, "登録端末（承認待ち）": 0}}]
                else:
                    assert devices == []
                assert {label for a in answers for facts in a.values() for label in facts} >= {"パスキー", "認証アプリ"}


def test_jucho_overview_speaks_of_employees(app, client, outbox, make_tenant, add_user):
    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "hanako")
    jucho_login(client, outbox, "juchoco", "admin")
    html = client.get(OVERVIEW).get_data(as_text=True)
    assert "社員ごとの状況" in html and "hanako" in html and "登録端末" not in html
