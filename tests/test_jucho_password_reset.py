"""パスワードをお忘れの方: same answer for every account, a 30-minute single-use link, sessions end, a notice."""
from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app.accounts import set_status
from app.extensions import db
from app.mailer import deliver_pending
from app.models import Tenant, User
from app.tenancy import tenant_scope
from app.timeutil import utcnow
from tests.conftest import PASSWORD, csrf_from, password_step, post_form
from tests.jucho_helpers import audit_rows, jucho_login

NEW_PASSWORD = "violet kettle marching quietly 88"
FORGOT = "/jucho/password/forgot"
_LINK = re.compile(r"(http://localhost/jucho/password/reset/\S+)")


@pytest.fixture
def jucho(make_tenant, add_user):
    """A 重調@CITY tenant with an admin and the employee hanako."""
    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "hanako", email="hanako@example.co.jp")


def ask(client, company: str, identifier: str):
    """Ask for a link, then deliver the outbox (the response does not wait for SMTP)."""
    response = post_form(client, FORGOT, {"company_code": company, "identifier": identifier})
    deliver_pending(client.application)
    return response


def link_from(message) -> str:
    match = _LINK.search(message.body)
    assert match, message.body
    return match.group(1).replace("http://localhost", "")


def set_new_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, "new_password": password,
                                   "confirm_password": password if confirm is None else confirm})


def test_login_page_links_to_the_reset_form(client):
    html = client.get("/login").get_data(as_text=True)
    assert "パスワードをお忘れの方" in html and FORGOT in html
    assert client.get(FORGOT).status_code == 200


def test_same_answer_for_existing_and_unknown_accounts(app, client, outbox, jucho, make_tenant):
    make_tenant("sampleco", product="sample")
    answers = []
    for company, identifier in [("juchoco", "hanako"), ("juchoco", "nobody"), ("nosuchco", "hanako"),
                                ("juchoco", "hanako@example.co.jp"), ("juchoco", "ghost@example.co.jp"),
                                ("sampleco", "admin")]:
        with time_machine.travel(utcnow() + timedelta(seconds=61 * len(answers)), tick=False):
            response = ask(client, company, identifier)  # a minute apart: one link a minute per account
            page = client.get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"],
                        re.sub(r'value="[^"]+"', "", page.get_data(as_text=True))))
    assert len(set(answers)) == 1
    assert answers[0][0] == 302
    assert "該当するアカウントがある場合" in answers[0][2]
    assert [m.recipients for m in outbox] == [["hanako@example.co.jp"], ["hanako@example.co.jp"]]
    outcomes = [o for a, o, _, _ in audit_rows(app) if a == "jucho.reset.request"]
    assert outcomes.count("success") == 2 and outcomes.count("failure") == 4


def test_reset_sets_the_password_ends_sessions_and_mails_a_notice(app, client, outbox, jucho, caplog):
    caplog.set_level(logging.DEBUG)
    logged_in = app.test_client()
    jucho_login(logged_in, outbox, "juchoco", "hanako")
    assert logged_in.get("/jucho/buildings").status_code == 200
    outbox.clear()
    ask(client, "juchoco", "hanako@example.co.jp")
    mail = outbox[0]
    assert "30分" in mail.body and "パスワード再設定" in mail.subject
    path = link_from(mail)
    assert path.split("/")[-1] in mail.html
    response = set_new_password(client, path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert outbox[-1].recipients == ["hanako@example.co.jp"] and "再設定のお知らせ" in outbox[-1].subject
    assert logged_in.get("/jucho/buildings").status_code == 302  # the live session ended
    fresh = app.test_client()
    assert password_step(fresh, "juchoco", "hanako", PASSWORD).status_code == 200  # old password refused
    jucho_login(fresh, outbox, "juchoco", "hanako", NEW_PASSWORD)
    assert fresh.get("/").status_code == 200
    token = path.split("/")[-1]
    assert token not in caplog.text
    assert all(token not in details and token not in (target or "") for _, _, target, details in audit_rows(app, ""))
    assert ("jucho.reset.complete", "success") in [(a, o) for a, o, _, _ in audit_rows(app)]


def test_a_used_link_is_refused(client, outbox, jucho):
    ask(client, "juchoco", "hanako")
    path = link_from(outbox[0])
    assert set_new_password(client, path).status_code == 302
    response = client.get(path)
    assert response.status_code == 410
    assert "既に使用されたか" in response.get_data(as_text=True)


def test_an_expired_link_is_refused(client, outbox, jucho):
    ask(client, "juchoco", "hanako")
    path = link_from(outbox[0])
    with time_machine.travel(utcnow() + timedelta(minutes=29), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(utcnow() + timedelta(minutes=31), tick=False):
        response = client.get(path)
        assert response.status_code == 410
        assert "有効期限（30分）が切れています" in response.get_data(as_text=True)


def test_a_newer_password_change_voids_older_links(client, outbox, jucho):
    ask(client, "juchoco", "hanako")
    first = link_from(outbox[-1])
    ask(client, "juchoco", "hanako")
    second = link_from(outbox[-1])
    assert set_new_password(client, second).status_code == 302
    assert client.get(first).status_code == 410


def test_an_e_mail_address_change_voids_older_links(app, client, outbox, jucho):
    # A link mailed to an address the admin has since replaced (say, a lost mailbox) must not work.
    ask(client, "juchoco", "hanako")
    path = link_from(outbox[-1])
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "juchoco")).scalar_one()
        with tenant_scope(tenant):
            from app.accounts import set_email

            user = db.session.execute(sa.select(User).where(User.login_id == "hanako")).scalar_one()
            set_email(user, "hanako.new@example.co.jp")
            db.session.commit()
    response = client.get(path)
    assert response.status_code == 410 and "既に使用されたか" in response.get_data(as_text=True)


def test_links_to_one_account_are_limited_whoever_asks(app, outbox, jucho):
    # Many clients (the per-client limit does not help) ask for hanako: once a minute, 5 an hour, same answer.
    answers = []
    with time_machine.travel(utcnow(), tick=False) as traveller:
        for _ in range(3):
            answers.append(ask(app.test_client(), "juchoco", "hanako"))
        assert len(outbox) == 1
        for _ in range(6):
            traveller.shift(timedelta(seconds=61))
            answers.append(ask(app.test_client(), "juchoco", "hanako"))
        assert len(outbox) == 5
        unknown = ask(app.test_client(), "juchoco", "nobody")
    assert {(r.status_code, r.headers["Location"]) for r in answers + [unknown]} == {
        (302, unknown.headers["Location"])}
    reasons = [d for a, o, _, d in audit_rows(app) if a == "jucho.reset.request" and o == "failure"]
    assert sum("too_many_requests" in d for d in reasons) == 4
    with time_machine.travel(utcnow() + timedelta(minutes=70), tick=False):
        ask(app.test_client(), "juchoco", "hanako")
    assert len(outbox) == 6


def test_a_tampered_link_is_refused(client, outbox, jucho):
    ask(client, "juchoco", "hanako")
    path = link_from(outbox[0])
    assert client.get(path[:-3] + "AAA").status_code == 410
    assert client.get("/jucho/password/reset/" + "x" * 600).status_code == 404


@pytest.mark.parametrize("password, confirm, message", [
    ("short", None, "12文字以上"),
    ("password1234", None, "よく使われる"),
    ("hanako-is-my-name-2026", None, "推測されやすい語"),
    (NEW_PASSWORD, "something else entirely", "一致しません"),
    ("", None, "入力してください"),
])
def test_the_new_password_follows_the_policy(client, outbox, jucho, password, confirm, message):
    ask(client, "juchoco", "hanako")
    path = link_from(outbox[0])
    response = set_new_password(client, path, password, confirm)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert client.get(path).status_code == 200  # a refused password does not use up the link


def test_bad_request_input_gets_japanese_messages(client, outbox, jucho):
    response = post_form(client, FORGOT, {"company_code": "", "identifier": "x" * 300})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "入力してください" in html and "254文字以内" in html
    assert outbox == []


def test_suspended_accounts_get_no_mail(app, client, outbox, jucho):
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "juchoco")).scalar_one()
        with tenant_scope(tenant):
            user = db.session.execute(sa.select(User).where(User.login_id == "hanako")).scalar_one()
            set_status(user, "suspended")
            db.session.commit()
    response = ask(client, "juchoco", "hanako")
    assert response.status_code == 302 and outbox == []


@pytest.mark.config(RATELIMIT_ENABLED=True, KANRI_LOGIN_RATE_LIMIT="3 per minute")
def test_reset_requests_are_rate_limited(client, outbox, jucho):
    codes = [ask(client, "juchoco", "nobody").status_code for _ in range(4)]
    assert codes[:3] == [302, 302, 302] and codes[3] == 429


def test_a_reset_link_is_not_used_while_logged_in(app, client, outbox, jucho):
    ask(client, "juchoco", "hanako")
    path = link_from(outbox[-1])
    jucho_login(client, outbox, "juchoco", "admin")
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert client.application.test_client().get(path).status_code == 200  # still valid for hanako
