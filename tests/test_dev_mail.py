"""/_dev/mail: the mails the app sent, with their text, in development only — 404 in production and tests."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app import create_app
from app.devmail import enabled
from tests.jucho_helpers import start_login

PRODUCTION = {"KANRI_ENV": "production", "DEBUG": False, "KANRI_BASE_URL": "https://kanri.example.jp",
              "SECRET_KEY": "p" * 12 + "-a-long-random-production-secret-value"}


def test_tests_do_not_have_the_page(client):
    assert client.get("/_dev/mail").status_code == 404


@pytest.mark.parametrize("explicit", [False, True])
def test_production_answers_404_even_when_asked_for(base_config, explicit):
    app = create_app({**base_config, **PRODUCTION, "KANRI_DEV_MAIL": explicit})
    response = app.test_client().get("/_dev/mail", base_url="https://kanri.example.jp")
    assert response.status_code == 404
    assert "devmail.mail_list" not in {rule.endpoint for rule in app.url_map.iter_rules()}


def test_development_has_the_page_by_itself():
    assert enabled({"KANRI_ENV": "development"})
    assert not enabled({"KANRI_ENV": "testing"}) and enabled({"KANRI_ENV": "testing", "KANRI_DEV_MAIL": True})
    assert not enabled({"KANRI_ENV": "production", "KANRI_DEV_MAIL": True})


@pytest.mark.config(KANRI_DEV_MAIL=True)
def test_the_emailed_login_code_is_on_the_page(app, make_tenant, outbox):
    make_tenant("juchoco", product="jucho")
    client = app.test_client()
    assert "送信したメールはありません" in client.get("/_dev/mail").get_data(as_text=True)

    start_login(client, "juchoco", "admin")
    [mail] = outbox
    page = app.test_client().get("/_dev/mail")  # another browser, not logged in: development only
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "【重調@CITY】ログイン認証コード（juchoco 株式会社）" in html
    assert "admin@juchoco.example.jp" in html
    code = next(line.split(":")[1].strip() for line in mail.body.splitlines() if "認証コード:" in line)
    assert code in html


def test_demo_reset_passwords_prints_new_logins_for_the_demo_tenants_only(app, runner, make_tenant):
    import re

    import sqlalchemy as sa

    from app.extensions import db
    from app.models import User
    from app.passwords import verify_password
    from tests.conftest import PASSWORD
    from tests.mama_helpers import in_tenant

    make_tenant("other", product="jucho")
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0
    again = runner.invoke(args=["demo"])
    assert "flask demo --reset-passwords" in again.output and "パスワード:" not in again.output

    reset = runner.invoke(args=["demo", "--reset-passwords"])
    assert reset.exit_code == 0, reset.output
    printed = re.findall(r"ログインID: (\w+)  パスワード: (\S+)", reset.output)
    assert [login for login, _ in printed] == ["admin", "staff", "admin", "staff"]
    old = dict(re.findall(r"ログインID: (\w+)  パスワード: (\S+)", first.output.split("=" * 64)[1]))
    new = dict(printed[:2])
    with in_tenant(app, "demo-mama"):
        users = {user.login_id: user for user in db.session.execute(sa.select(User)).scalars()}
        for login_id, password in new.items():
            assert verify_password(password, users[login_id].password_hash)
            assert not verify_password(old[login_id], users[login_id].password_hash)
    with in_tenant(app, "other"):
        admin = db.session.execute(sa.select(User).where(User.login_id == "admin")).scalar_one()
        assert verify_password(PASSWORD, admin.password_hash)  # a customer's tenant is never touched


def _thread_outcome(app) -> tuple[list, int]:
    """(the notice's delivery times per tenant, how many mails are marked sent), read without delivering anything."""
    from app.builtins.transparency.notices import NoticeTarget
    from app.extensions import db
    from app.mailer import STATUS_SENT, MailOutbox

    with app.app_context():
        delivered = db.session.execute(sa.select(NoticeTarget.delivered_at)
                                       .execution_options(all_tenants=True)).scalars().all()
        sent = db.session.execute(sa.select(sa.func.count()).select_from(MailOutbox)
                                  .where(MailOutbox.status == STATUS_SENT)).scalar_one()
        db.session.remove()
    return delivered, sent


def test_the_development_mail_thread_publishes_scheduled_notices_and_sends_their_mail(app, runner, make_tenant,
                                                                                      tmp_path):
    """``make run`` has no ``flask mail worker``: the web process's thread runs the worker's cycle itself."""
    from app.mail_sender import sender_for
    from app.timeutil import JST, utcnow

    assert app.config["KANRI_MAIL_THREAD"]
    make_tenant("mama1", product="mama")
    body = tmp_path / "notice.md"
    body.write_text("# メンテナンスのお知らせ\n\n夜間に停止します。\n", encoding="utf-8")
    publish_at = (utcnow() + timedelta(hours=1)).astimezone(JST).strftime("%Y-%m-%d %H:%M")
    posted = runner.invoke(args=["notice", "post", "--body-file", str(body), "--reason", "予定の案内",
                                 "--operator", "ops", "--product", "mama", "--title", "予約のお知らせ",
                                 "--publish-at", publish_at])
    assert posted.exit_code == 0, posted.output
    assert app.test_client().get("/login").status_code == 200  # a request starts the thread, as under make run
    assert _thread_outcome(app) == ([None], 0)

    with time_machine.travel(utcnow() + timedelta(hours=1, minutes=1), tick=True):
        sender_for(app).wake()
        waited = threading.Event()
        for _ in range(200):  # wait for the thread's next cycle (nothing in this test delivers by itself)
            delivered, sent = _thread_outcome(app)
            if delivered[0] is not None and sent:
                break
            waited.wait(0.05)
    delivered, sent = _thread_outcome(app)
    assert delivered[0] is not None, "the thread did not publish the scheduled notice"
    assert sent == 1  # the tenant's admin was mailed by the same thread
