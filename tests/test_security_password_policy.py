"""セキュリティ設定 — password policy: a tenant admin raises the minimum length (never below the baseline's 12, at
most 64) and forbids the last N passwords (0–24); every place a password is set obeys it, in both products."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant, User
from app.tenancy import tenant_scope
from tests.conftest import PASSWORD, csrf_from, login, post_form
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import admin_client, login_with_code
from tests.security_helpers import *  # noqa: F403  (the shared fixture: acme)
from tests.security_helpers import PASSWORD_PAGE, audit_details, set_password_policy, stored_policy

LONG_A = "tangerine harbour lanterns drift 41"
LONG_B = "copper violin orchard sleeps 5822"
LONG_C = "marble falcon quietly hums 90317"
LONG_D = "saffron glacier tiptoes north 6684"
SHORT_OK_FOR_12 = "kxq7 vorn plaz"  # 14 characters: fine under the baseline, too short for 20
MEDIUM = "kxq7 vorn plaz wub trel"  # 23 characters


def change(client, current, new):
    """Submit /account/password; returns the response."""
    return post_form(client, "/account/password",
                     {"current_password": current, "new_password": new, "confirm_password": new})


def history_hashes(app, code, login_id):
    from app.builtins.security_center.models import PasswordHistory

    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
        with tenant_scope(tenant):
            user = db.session.execute(sa.select(User).where(User.login_id == login_id)).scalar_one()
            return list(db.session.execute(sa.select(PasswordHistory.password_hash)
                                           .where(PasswordHistory.user_id == user.id)).scalars())



def test_index_shows_the_baseline_and_is_in_the_admin_menu(acme):
    home = acme.get("/").get_data(as_text=True)
    assert "セキュリティ設定" in home and "/admin/security" in home
    html = acme.get("/admin/security").get_data(as_text=True)
    assert "12文字以上" in html and "現在のパスワード以外は確認しません" in html
    assert "/admin/security/overview" in html and "/admin/security/password" in html


def test_index_links_exactly_the_other_security_pages_that_are_installed(app, make_tenant):
    make_tenant("acme")
    client = app.test_client()
    login(client, "acme", "admin")
    html = client.get("/admin/security").get_data(as_text=True)
    for endpoint, href, label in (("ip_restriction.settings", "/admin/security/ip", "IP制限の設定"),
                                  ("strong_factors.policy", "/admin/security/factors", "認証要素の設定")):
        installed = endpoint in app.view_functions
        assert (f'href="{href}"' in html) is installed and (label in html) is installed, endpoint


def test_index_leaves_out_the_links_of_parts_that_are_not_installed(app, make_tenant, monkeypatch):
    for endpoint in ("ip_restriction.settings", "strong_factors.policy"):
        monkeypatch.delitem(app.view_functions, endpoint, raising=False)
    make_tenant("acme")
    client = app.test_client()
    login(client, "acme", "admin")
    html = client.get("/admin/security").get_data(as_text=True)
    assert "IP制限の設定" not in html and "認証要素の設定" not in html


def test_admin_raises_the_minimum_and_a_short_new_password_is_refused(app, acme):
    response = set_password_policy(acme, 20, 3)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/security")
    assert stored_policy(app, "acme")[:2] == (20, 3)
    assert "20文字以上" in acme.get("/admin/security").get_data(as_text=True)
    details = audit_details(app, "acme", "security.password_policy.update")
    assert details[-1]["before"] == {"min_length": 12, "history_count": 0}
    assert details[-1]["after"] == {"min_length": 20, "history_count": 3} and details[-1]["_actor"] == "admin"

    staff = app.test_client()
    login(staff, "acme", "staff")
    form = staff.get("/account/password").get_data(as_text=True)
    assert "20〜128文字" in form and "過去3回分" in form
    response = change(staff, PASSWORD, SHORT_OK_FOR_12)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "パスワードは20文字以上にしてください（現在14文字）。" in html
    assert change(staff, PASSWORD, LONG_A).status_code == 302


def test_the_minimum_cannot_go_below_the_baseline_or_above_64(app, acme):
    for value in ("11", "0", "-5", "65", "9" * 400):
        response = set_password_policy(acme, value, 0)
        html = response.get_data(as_text=True)
        assert response.status_code == 400, value
        assert "12〜64の整数で入力してください（12文字未満にはできません）。" in html
    assert stored_policy(app, "acme") is None
    assert audit_details(app, "acme", "security.password_policy.update") == []


@pytest.mark.parametrize("field,value,message", [
    ("min_length", "abc", "半角数字（整数）で入力してください。"),
    ("min_length", "16.5", "半角数字（整数）で入力してください。"),
    ("min_length", "16\x00", "半角数字（整数）で入力してください。"),
    ("min_length", "", "入力してください。"),
    ("history", "25", "0〜24の整数で入力してください"),
    ("history", "-1", "0〜24の整数で入力してください"),
    ("history", "1e3", "半角数字（整数）で入力してください。"),
    ("history", "<script>alert(1)</script>", "半角数字（整数）で入力してください。"),
])
def test_hostile_input_gets_a_japanese_message_and_saves_nothing(app, acme, field, value, message):
    data = {"min_length": "16", "history": "2", field: value}
    response = post_form(acme, PASSWORD_PAGE, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html and "<script>alert(1)</script>" not in html
    assert stored_policy(app, "acme") is None


def test_history_refuses_the_last_n_passwords_and_keeps_only_n_hashes(app, acme):
    assert set_password_policy(acme, 12, 2).status_code == 302
    staff = app.test_client()
    login(staff, "acme", "staff")
    assert change(staff, PASSWORD, LONG_A).status_code == 302
    assert change(staff, LONG_A, LONG_B).status_code == 302
    response = change(staff, LONG_B, LONG_A)  # one of the last two
    assert response.status_code == 200
    assert "過去2回分のパスワードと同じものは使えません。" in response.get_data(as_text=True)
    response = change(staff, LONG_B, LONG_B)  # the current one, as always
    assert "現在のパスワードと異なるパスワードにしてください。" in response.get_data(as_text=True)
    assert change(staff, LONG_B, LONG_C).status_code == 302
    assert change(staff, LONG_C, LONG_A).status_code == 302  # A is three passwords back now
    hashes = history_hashes(app, "acme", "staff")
    assert len(hashes) == 2 and all(value.startswith("$2") for value in hashes)
    assert all(LONG_A not in value and LONG_C not in value for value in hashes)


def test_lowering_the_history_to_zero_drops_the_stored_hashes(app, acme):
    set_password_policy(acme, 12, 5)
    staff = app.test_client()
    login(staff, "acme", "staff")
    change(staff, PASSWORD, LONG_A)
    change(staff, LONG_A, LONG_B)
    assert len(history_hashes(app, "acme", "staff")) == 2
    set_password_policy(acme, 12, 1)
    assert len(history_hashes(app, "acme", "staff")) == 1
    set_password_policy(acme, 12, 0)
    assert history_hashes(app, "acme", "staff") == []
    assert audit_details(app, "acme", "security.password_policy.update")[-1]["history_rows_dropped"] == 1


def test_general_users_are_refused_and_audited(app, acme):
    staff = app.test_client()
    login(staff, "acme", "staff")
    assert staff.get("/admin/security").status_code == 403
    assert staff.get(PASSWORD_PAGE).status_code == 403
    response = staff.post(PASSWORD_PAGE, data={"csrf_token": csrf_from(staff.get("/").get_data(as_text=True)),
                                               "min_length": "12", "history": "0"})
    assert response.status_code == 403
    assert "セキュリティ設定" not in staff.get("/").get_data(as_text=True)
    denied = audit_details(app, "acme", "access.denied")
    assert denied and all(row["_actor"] == "staff" for row in denied)
    assert stored_policy(app, "acme") is None


def test_one_tenants_policy_never_touches_another(app, acme, make_tenant, add_user):
    make_tenant("other")
    add_user("other", "staff")
    other_admin = app.test_client()
    login(other_admin, "other", "admin")
    set_password_policy(acme, 24, 4)
    assert "12文字以上" in other_admin.get("/admin/security").get_data(as_text=True)
    set_password_policy(other_admin, 14, 0)
    assert stored_policy(app, "acme")[:2] == (24, 4) and stored_policy(app, "other")[:2] == (14, 0)
    other_staff = app.test_client()
    login(other_staff, "other", "staff")
    assert change(other_staff, PASSWORD, "vorn plaz kxq7 !").status_code == 302  # 16 characters: enough in other
    assert audit_details(app, "other", "security.password_policy.update")[-1]["after"]["min_length"] == 14


def test_mama_admin_reset_and_initial_passwords_follow_the_minimum(app, make_tenant, add_user):
    _, admin = admin_client(app, make_tenant)
    assert "セキュリティ設定" in admin.get("/").get_data(as_text=True)
    assert set_password_policy(admin, 30, 2).status_code == 302
    add_user("mama1", "staff")
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "mama1")).scalar_one()
        with tenant_scope(tenant):
            uid = db.session.execute(sa.select(User.id).where(User.login_id == "staff")).scalar_one()
    html = post_form(admin, f"/mama/users/{uid}/reset-password", {"confirmed": "yes"}).get_data(as_text=True)
    temporary = html.split('data-testid="temporary-password">')[1].split("<")[0]
    assert len(temporary) == 30
    form = admin.get("/mama/users/new").get_data(as_text=True)
    assert "30〜128文字" in form
    response = post_form(admin, "/mama/users/new", {"login_id": "sato", "name": "佐藤", "email": "", "role": "general",
                                                    "permission_set": "0", "password_mode": "manual",
                                                    "password": MEDIUM})
    assert "パスワードは30文字以上にしてください（現在23文字）" in response.get_data(as_text=True)
    typed = LONG_A + " again"
    response = post_form(admin, "/mama/users/new", {"login_id": "sato", "name": "佐藤", "email": "", "role": "general",
                                                    "permission_set": "0", "password_mode": "manual", "password": typed})
    assert response.status_code == 200 and typed in response.get_data(as_text=True)
    assert len(history_hashes(app, "mama1", "sato")) == 1  # a typed initial password is remembered too
    response = post_form(admin, "/mama/users/new", {"login_id": "suzuki", "name": "鈴木", "email": "",
                                                    "role": "general", "permission_set": "0",
                                                    "password_mode": "generate"})
    generated = response.get_data(as_text=True).split('data-testid="initial-password">')[1].split("<")[0]
    assert len(generated) == 30
    staff = app.test_client()
    login_with_code(staff, app, "mama1", "staff", temporary)
    response = change(staff, temporary, MEDIUM)
    assert "パスワードは30文字以上にしてください" in response.get_data(as_text=True)


def test_jucho_registration_and_self_service_reset_follow_the_minimum(app, client, outbox, make_tenant, add_user):
    from app.mailer import deliver_pending

    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "hanako", email="hanako@example.co.jp")
    jucho_login(client, outbox, "juchoco", "admin")
    assert set_password_policy(client, 26, 1).status_code == 302
    outbox.clear()
    response = post_form(client, "/jucho/staff/new", {"name": "鈴木 一郎", "email": "ichiro@example.co.jp",
                                                      "login_id": "ichiro", "role": "general"})
    assert response.status_code == 302
    temporary = re.search(r"仮パスワード: (\S+)", outbox[-1].body).group(1)
    assert len(temporary) == 26

    visitor = app.test_client()
    post_form(visitor, "/jucho/password/forgot", {"company_code": "juchoco", "identifier": "hanako"})
    deliver_pending(app)
    link = re.search(r"http://localhost(/jucho/password/reset/\S+)", outbox[-1].body).group(1)
    page = visitor.get(link).get_data(as_text=True)
    assert "26〜128文字" in page and "過去1回分" in page
    response = post_form(visitor, link, {"new_password": MEDIUM, "confirm_password": MEDIUM})
    assert response.status_code == 200
    assert "パスワードは26文字以上にしてください（現在" in response.get_data(as_text=True)
    longer = LONG_A + " and more words"
    response = post_form(visitor, link, {"new_password": longer, "confirm_password": longer})
    assert response.status_code == 302
    assert len(history_hashes(app, "juchoco", "hanako")) == 1
