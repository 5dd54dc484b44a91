"""パスワードのリセット依頼 (MAMA): one neutral answer, admins mailed and listed, 対応 / 却下, no enumeration."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.timeutil import utcnow
from plugins.mama.models import MamaResetRequest
from tests.conftest import csrf_from, post_form
from tests.mama_helpers import (
    admin_client,
    audit_actions,
    get_user,
    in_tenant,
    login_with_code,
    password_step,
)

REQUEST = "/mama/password/reset-request"


def ask(client, company: str, login_id: str):
    """Submit the request form; returns the (unfollowed) response."""
    return post_form(client, REQUEST, {"company_code": company, "login_id": login_id})


def _answer(client, response) -> tuple:
    page = client.get(response.headers["Location"])
    return response.status_code, response.headers["Location"], re.sub(r'value="[^"]+"', "", page.get_data(as_text=True))


def _requests(app, code: str = "mama1") -> list[tuple[str, str]]:
    with in_tenant(app, code):
        return [(r.user.login_id, r.status) for r in db.session.execute(
            sa.select(MamaResetRequest).order_by(MamaResetRequest.id)).scalars()]


def test_login_page_links_to_the_request_form(client):
    page = client.get("/login").get_data(as_text=True)
    assert "パスワードのリセットを依頼" in page and REQUEST in page
    form = client.get(REQUEST).get_data(as_text=True)
    assert "貴社の管理者" in form and "会社コード" in form and "ログインID" in form


def test_same_answer_whatever_is_typed_and_only_a_real_account_reaches_the_admins(
        app, make_tenant, add_user, outbox):
    admin_client(app, make_tenant)
    add_user("mama1", "staff")
    add_user("mama1", "boss2", role="admin")
    make_tenant("juchoco", product="jucho")
    outbox.clear()
    client = app.test_client()
    answers = [_answer(client, ask(client, company, login_id)) for company, login_id in [
        ("mama1", "staff"), ("mama1", "nobody"), ("nosuchco", "staff"), ("juchoco", "admin"), ("mama1", "staff")]]
    assert len(set(answers)) == 1 and answers[0][0] == 302
    assert "該当するMAMAシステムのアカウントがある場合" in answers[0][2]
    assert "管理 太郎" not in answers[0][2] and "boss2" not in answers[0][2]  # no admin names to a stranger
    assert sorted(r for m in outbox for r in m.recipients) == ["admin@mama1.example.jp", "boss2@mama1.example.jp"]
    assert all("MAMAシステム" in m.subject and "mama1 株式会社" in m.subject and "staff" in m.body and m.html
               for m in outbox)
    assert _requests(app) == [("staff", "open")]  # the second request of the same account adds nothing
    outcomes = [(a, o) for a, o, _ in audit_actions(app, "mama1") if a == "mama.reset.request"]
    assert outcomes == [("mama.reset.request", "success"), ("mama.reset.request", "failure"),
                        ("mama.reset.request", "failure")]


def test_admin_sees_the_request_and_handles_it_with_the_existing_reset(app, make_tenant, add_user, outbox):
    _, admin = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    ask(app.test_client(), "mama1", "staff")
    users = admin.get("/mama/users").get_data(as_text=True)
    assert 'data-testid="reset-requests"' in users and "staff" in users.split('data-testid="reset-requests"')[1]
    with in_tenant(app, "mama1"):
        staff_id = get_user("staff").id
    assert f"/mama/users/{staff_id}/reset-password" in users
    page = admin.get(f"/mama/users/{staff_id}/reset-password")
    response = admin.post(f"/mama/users/{staff_id}/reset-password", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "confirmed": "yes"})
    assert response.status_code == 200 and "仮パスワード" in response.get_data(as_text=True)
    assert _requests(app) == [("staff", "done")]
    assert 'data-testid="reset-requests"' not in admin.get("/mama/users").get_data(as_text=True)
    assert ("mama.reset.done", "success", "user:staff") in audit_actions(app, "mama1")


def test_admin_rejects_a_request(app, make_tenant, add_user):
    _, admin = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    ask(app.test_client(), "mama1", "staff")
    with in_tenant(app, "mama1"):
        request_id = db.session.execute(sa.select(MamaResetRequest.id)).scalar_one()
        password_hash = get_user("staff").password_hash
    response = post_form(admin, "/mama/users", {}, action=f"/mama/users/reset-requests/{request_id}/reject")
    assert response.status_code == 302
    assert _requests(app) == [("staff", "rejected")]
    with in_tenant(app, "mama1"):
        assert get_user("staff").password_hash == password_hash
    assert ("mama.reset.reject", "success", "user:staff") in audit_actions(app, "mama1")
    # a new request can be made once the old one is closed
    ask(app.test_client(), "mama1", "staff")
    assert _requests(app) == [("staff", "rejected"), ("staff", "open")]


def test_a_request_left_open_for_seven_days_goes_stale_and_the_user_can_ask_again(
        app, make_tenant, add_user, outbox):
    _, admin = admin_client(app, make_tenant)
    add_user("mama1", "staff")
    ask(app.test_client(), "mama1", "staff")
    with in_tenant(app, "mama1"):
        stale = db.session.execute(sa.select(MamaResetRequest)).scalar_one()
        stale.requested_at = utcnow() - timedelta(days=7, minutes=1)
        db.session.commit()
        stale_id = stale.id
    assert 'data-testid="reset-requests"' not in admin.get("/mama/users").get_data(as_text=True)
    response = post_form(admin, "/mama/users", {}, action=f"/mama/users/reset-requests/{stale_id}/reject")
    assert response.status_code == 302 and _requests(app) == [("staff", "open")]  # nothing to reject any more
    outbox.clear()
    ask(app.test_client(), "mama1", "staff")
    assert _requests(app) == [("staff", "open"), ("staff", "open")]
    assert [r for m in outbox for r in m.recipients] == ["admin@mama1.example.jp"]  # the admins hear of it again
    users = admin.get("/mama/users").get_data(as_text=True)
    assert "staff" in users.split('data-testid="reset-requests"')[1] and "（1件）" in users


def test_another_tenant_and_a_user_without_the_level_cannot_reject(app, make_tenant, add_user):
    admin_client(app, make_tenant, "mama1")
    add_user("mama1", "staff")
    ask(app.test_client(), "mama1", "staff")
    with in_tenant(app, "mama1"):
        request_id = db.session.execute(sa.select(MamaResetRequest.id)).scalar_one()
    _, foreign = admin_client(app, make_tenant, "mama2")
    assert "staff" not in foreign.get("/mama/users").get_data(as_text=True).split("user-table")[0]
    assert post_form(foreign, "/mama/users", {}, action=f"/mama/users/reset-requests/{request_id}/reject"
                     ).status_code == 404
    general = app.test_client()
    add_user("mama1", "clerk")
    login_with_code(general, app, "mama1", "clerk")
    assert post_form(general, "/", {}, action=f"/mama/users/reset-requests/{request_id}/reject").status_code == 403
    assert _requests(app) == [("staff", "open")]


def test_wrong_password_on_a_mama_tenant_says_whom_to_ask(app, make_tenant, add_user):
    admin_client(app, make_tenant)
    make_tenant("juchoco", product="jucho")
    messages = []
    for company, login_id in (("mama1", "admin"), ("mama1", "nobody")):
        page = password_step(app.test_client(), company, login_id, "wrong password 123").get_data(as_text=True)
        messages.append(page.count("貴社の管理者にリセットを依頼してください"))
    assert messages == [1, 1]  # the same for a known and an unknown login id
    jucho = password_step(app.test_client(), "juchoco", "admin", "wrong password 123").get_data(as_text=True)
    assert "正しくありません" in jucho and "貴社の管理者にリセットを依頼" not in jucho


def test_jucho_forgot_form_with_a_mama_company_code_mails_nothing_and_answers_the_same(
        app, client, make_tenant, add_user, outbox):
    admin_client(app, make_tenant)
    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "hanako", email="hanako@example.co.jp")
    outbox.clear()
    answers = []
    for company, identifier in (("mama1", "admin"), ("mama1", "admin@mama1.example.jp"), ("nosuchco", "admin")):
        response = post_form(client, "/jucho/password/forgot", {"company_code": company, "identifier": identifier})
        answers.append(_answer(client, response))
    assert len(set(answers)) == 1 and len(outbox) == 0
    assert "MAMAシステムをご利用の方は" in answers[0][2]
    assert "MAMAシステムをご利用の方は" in client.get("/jucho/password/forgot").get_data(as_text=True)
    assert _requests(app) == []


def test_bad_input_gets_a_message_not_a_500(client):
    response = post_form(client, REQUEST, {"company_code": "", "login_id": "x" * 500})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "入力してください" in html


@pytest.mark.config(RATELIMIT_ENABLED=True, KANRI_LOGIN_RATE_LIMIT="3 per minute")
def test_the_request_form_is_rate_limited(client, make_tenant):
    make_tenant("mama1", product="mama")
    statuses = [ask(client, "mama1", "admin").status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    assert client.get(REQUEST).status_code == 200
