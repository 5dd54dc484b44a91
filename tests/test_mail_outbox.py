"""Mail is never lost: a transactional outbox delivered over real SMTP (aiosmtpd) with retries.

A rolled-back change sends nothing and a committed one always sends; mail queued while SMTP is down
goes out when it is back; a sender killed mid-send loses nothing and nothing is sent twice; secret
bodies are stored encrypted and erased after delivery; operators see and requeue mail from the CLI.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine

from app import mail_sender
from app.extensions import db
from app.mailer import ERASED, MailAttempt, MailOutbox, deliver_pending, send_mail
from app.timeutil import utcnow
from tests.conftest import PASSWORD, cli_output, login, post_form
from tests.jucho_helpers import audit_rows, start_login, submit_code
from tests.smtp_helpers import SmtpServer, SmtpSink, free_port, point_mail_at

ROOT = Path(__file__).resolve().parents[1]
NEW = "an entirely new passphrase for kanri"
FAST_RETRY = {"KANRI_MAIL_RETRY_SECONDS": 0.2, "KANRI_MAIL_POLL_SECONDS": 0.2}



def _rows(app) -> list[MailOutbox]:
    with app.app_context():
        rows = db.session.execute(sa.select(MailOutbox).order_by(MailOutbox.id)).scalars().all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _change_password(client):
    return post_form(client, "/account/password", {
        "current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW})


def _queue_one(app, subject: str = "件名", to: str = "yamada@example.jp") -> None:
    class _User:
        name = "山田 太郎"
        login_id = "yamada"

    class _Tenant:
        name = "テスト管理株式会社"

    with app.test_request_context():
        send_mail(to, subject, "password_changed", user=_User(), tenant=_Tenant(), changed_at=utcnow())
        db.session.commit()


def test_a_rolled_back_change_sends_nothing(app, client, smtp):
    @app.route("/_test/mail-then-fail")
    def mail_then_fail():
        _queue_one_in_request()
        raise RuntimeError("the change fails after the mail was asked for")

    @app.route("/_test/mail-then-rollback")
    def mail_then_rollback():
        _queue_one_in_request()
        db.session.rollback()
        return "rolled back", 409

    def _queue_one_in_request():
        class _User:
            name, login_id = "山田 太郎", "yamada"

        class _Tenant:
            name = "テスト管理株式会社"

        send_mail("yamada@example.jp", "件名", "password_changed", user=_User(), tenant=_Tenant(), changed_at=utcnow())

    with pytest.raises(RuntimeError):  # the request's transaction is rolled back when its session is removed
        client.get("/_test/mail-then-fail")
    assert client.get("/_test/mail-then-rollback").status_code == 409
    deliver_pending(app)
    time.sleep(0.5)  # a background sender has had every chance to send something
    assert smtp.sink.messages == []
    assert _rows(app) == []


@pytest.mark.config(KANRI_MAIL_POLL_SECONDS=3600)  # no poll comes during the test: only the commit's wake-up sends
def test_a_committed_change_wakes_the_sender_without_help(app, client, make_tenant, smtp):
    make_tenant("acme")
    login(client, "acme", "admin")
    assert _change_password(client).status_code == 302
    message = smtp.sink.wait_for(1, timeout=10)[0]  # the background sender, woken by the commit
    assert message["To"] == "admin@acme.example.jp" and "パスワード変更のお知らせ" in message["Subject"]
    # The sink has the message a moment before the sender records it as sent.
    deadline = time.monotonic() + 5
    while (row := _rows(app)[0]).status == "sending" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert message["Message-ID"] == f"<outbox.{row.row_key}@kanri>"


@pytest.mark.config(**FAST_RETRY)
def test_mail_queued_while_smtp_is_down_goes_out_when_it_is_back(app, client, make_tenant, smtp):
    make_tenant("acme")
    login(client, "acme", "admin")
    smtp.stop()
    assert _change_password(client).status_code == 302  # the change does not depend on SMTP
    deadline = time.monotonic() + 10
    while not (_rows(app) and _rows(app)[0].attempts >= 2):  # the sender keeps trying
        assert time.monotonic() < deadline
        time.sleep(0.1)
    [row] = _rows(app)
    assert row.status in ("queued", "sending") and row.last_error.startswith("ConnectionRefusedError")
    assert smtp.sink.messages == []
    smtp.start()  # the same port again
    message = smtp.sink.wait_for(1)[0]
    assert message["To"] == "admin@acme.example.jp"
    time.sleep(0.5)
    assert len(smtp.sink.messages) == 1
    [row] = _rows(app)
    assert row.status == "sent"
    with app.app_context():
        outcomes = db.session.execute(sa.select(MailAttempt.outcome).order_by(MailAttempt.id)).scalars().all()
    assert outcomes[-1] == "sent" and set(outcomes[:-1]) == {"error"} and len(outcomes) == row.attempts


@pytest.mark.config(KANRI_MAIL_THREAD=False, KANRI_MAIL_MAX_ATTEMPTS=3, KANRI_MAIL_RETRY_SECONDS=60)
def test_retries_back_off_exponentially_and_fail_after_the_last_attempt(app):
    point_mail_at(app, "127.0.0.1", free_port())  # nothing listens there
    _queue_one(app)
    start = utcnow()
    with time_machine.travel(start, tick=False):
        deliver_pending(app)
    [row] = _rows(app)
    assert (row.status, row.attempts, row.next_attempt_at) == ("queued", 1, start + timedelta(minutes=1))
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        deliver_pending(app)  # not due yet
    assert _rows(app)[0].attempts == 1
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        deliver_pending(app)
    [row] = _rows(app)
    assert (row.attempts, row.next_attempt_at) == (2, start + timedelta(seconds=61 + 120))
    with time_machine.travel(start + timedelta(seconds=61 + 121), tick=False):
        deliver_pending(app)
    [row] = _rows(app)
    assert (row.status, row.attempts) == ("failed", 3)
    with app.app_context():
        errors = db.session.execute(sa.select(MailAttempt.error)).scalars().all()
    assert len(errors) == 3 and all(e.startswith("ConnectionRefusedError") for e in errors)


@pytest.mark.config(KANRI_MAIL_THREAD=False, KANRI_MAIL_CLAIM_SECONDS=60)
def test_a_row_claimed_by_a_sender_that_died_is_taken_over_after_its_lease_and_sent_once(app, smtp):
    _queue_one(app)
    with app.app_context():
        session = sa.orm.Session(bind=db.engine)
        assert len(mail_sender.claim(session, "dead-sender")) == 1  # …and it never finishes
        assert mail_sender.claim(session, "another-sender") == []  # a live claim is not taken
        session.close()
    assert deliver_pending(app) == 0
    with time_machine.travel(utcnow() + timedelta(seconds=61)):
        assert deliver_pending(app) == 1
        assert deliver_pending(app) == 0
    assert len(smtp.sink.messages) == 1
    [row] = _rows(app)
    assert (row.status, row.attempts) == ("sent", 2)


@pytest.mark.config(KANRI_MAIL_THREAD=False)
def test_a_row_deleted_while_smtp_talks_is_not_an_error(app, smtp, monkeypatch):
    """A tenant purge can delete an outbox row while a sender is mid-send: the sender records nothing and goes on."""
    _queue_one(app)
    real_send = mail_sender.mail.send

    def send_then_purge(message):
        real_send(message)
        with db.engine.begin() as connection:  # another process deletes the row meanwhile
            connection.execute(sa.delete(MailOutbox.__table__))

    monkeypatch.setattr(mail_sender.mail, "send", send_then_purge)
    assert deliver_pending(app) == 1  # SMTP took it; there is no row left to mark
    assert len(smtp.sink.messages) == 1
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(MailAttempt)).scalar_one() == 0
    _queue_one(app, subject="次のメール")
    monkeypatch.setattr(mail_sender.mail, "send", real_send)
    assert deliver_pending(app) == 1  # the sender is still healthy


def _worker_env(app, port: int, instance: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "KANRI_ENV": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "KANRI_KEYSET_FILE": app.config["KANRI_KEYSET_FILE"],
        "KANRI_KEYSET": "",
        "SECRET_KEY": app.config["SECRET_KEY"],
        "KANRI_PLUGINS": "mama,jucho",
        "KANRI_INSTANCE_PATH": str(instance),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(port),
        "KANRI_MAIL_CLAIM_SECONDS": "2",
        "KANRI_MAIL_POLL_SECONDS": "0.2",
    })
    return env


def _start_worker(app, port: int, tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker", *args],  # noqa: S603
                            cwd=ROOT, env=_worker_env(app, port, tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


@pytest.mark.config(KANRI_MAIL_THREAD=False)  # production shape: only `flask mail worker` sends
def test_a_worker_process_killed_mid_send_loses_nothing_and_sends_once(app, client, make_tenant, smtp, tmp_path):
    make_tenant("acme")
    login(client, "acme", "admin")
    smtp.sink.stall(refuse_when_released=True)  # the first worker gets stuck in DATA…
    assert _change_password(client).status_code == 302
    first = _start_worker(app, smtp.port, tmp_path)
    try:
        assert smtp.sink.in_data.wait(30), first.stderr.read1().decode() if first.poll() is not None else "no DATA"
        [row] = _rows(app)
        assert (row.status, row.attempts) == ("sending", 1) and ":worker:" in row.claimed_by
        first.send_signal(signal.SIGKILL)  # …and dies there
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    smtp.sink.release()  # the held message was never accepted
    time.sleep(0.2)
    assert smtp.sink.messages == []
    assert _rows(app)[0].status == "sending"  # still claimed by the dead worker, until its lease ends
    second = _start_worker(app, smtp.port, tmp_path)
    try:
        message = smtp.sink.wait_for(1, timeout=30)[0]
        assert message["To"] == "admin@acme.example.jp"
        deadline = time.monotonic() + 10
        while _rows(app)[0].status != "sent":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(0.6)  # a few more polls: nothing is sent twice
    finally:
        second.send_signal(signal.SIGTERM)  # a clean stop after the current message
        out, err = second.communicate(timeout=20)
    assert second.returncode == 0, err.decode()
    assert "終了します" in err.decode()
    assert len(smtp.sink.messages) == 1
    [row] = _rows(app)
    assert (row.status, row.attempts) == ("sent", 2)


def _is_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgresql")


@pytest.mark.postgres_only
@pytest.mark.skipif(not _is_postgres(), reason="needs DATABASE_URL pointing at PostgreSQL (SKIP LOCKED claims)")
@pytest.mark.config(KANRI_MAIL_THREAD=False)
def test_concurrent_senders_never_send_a_row_twice_on_postgresql(app, smtp):
    count = 60
    with app.test_request_context():
        class _User:
            name, login_id = "山田 太郎", "yamada"

        class _Tenant:
            name = "テスト管理株式会社"

        for number in range(count):
            send_mail(f"user{number}@example.jp", f"mail {number}", "password_changed", user=_User(), tenant=_Tenant(),
                      changed_at=utcnow())
        db.session.commit()
    gate = threading.Barrier(4)
    sent, errors = [], []

    def sender(name):
        try:
            with app.app_context():
                gate.wait(10)
                sent.append(mail_sender.deliver_due(mail_sender.new_worker_id(name)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(sent) == count
    subjects = sorted(m["Subject"] for m in smtp.sink.wait_for(count))
    assert len(subjects) == count and len(set(subjects)) == count  # every row exactly once
    rows = _rows(app)
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
    assert {r.claimed_by for r in rows} == {None}  # claims are released after delivery
    with app.app_context():
        workers = db.session.execute(sa.select(sa.func.count(sa.distinct(MailAttempt.worker)))).scalar_one()
        attempts = db.session.execute(sa.select(sa.func.count()).select_from(MailAttempt)).scalar_one()
    assert attempts == count and workers >= 2  # several senders really shared the work


@pytest.mark.config(KANRI_MAIL_THREAD=False)
def test_secret_bodies_are_stored_encrypted_and_erased_after_delivery(app, client, outbox, make_tenant):
    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    start_login(client, "juchoco", "admin")  # queues the login code (a secret mail)
    with app.app_context(), db.engine.connect() as connection:
        stored = " ".join(map(str, connection.execute(sa.text("SELECT * FROM mail_outbox")).one()))
    message = outbox[-1]  # reading the outbox delivers it
    code = re.search(r"認証コード: (\d{6})", message.body).group(1)
    assert code not in stored and "taro@example.co.jp" not in stored and "様" not in stored
    with app.app_context(), db.engine.connect() as connection:
        body_text, body_html, secret, status = connection.execute(
            sa.text("SELECT body_text, body_html, secret, status FROM mail_outbox")).one()
    assert (body_text, body_html, bool(secret), status) == (ERASED, ERASED, True, "sent")
    assert submit_code(client, code).status_code == 302  # what was mailed still works
    # A notice without a secret keeps its (encrypted) body.
    post_form(client, "/account/password", {"current_password": PASSWORD, "new_password": NEW,
                                            "confirm_password": NEW})
    assert "パスワード変更のお知らせ" in outbox[-1].subject
    notice = _rows(app)[-1]
    assert (notice.secret, notice.status) == (False, "sent") and notice.body_text not in (ERASED, "")
    assert "パスワード" not in notice.body_text


@pytest.mark.config(KANRI_MAIL_THREAD=False)
def test_a_ciphertext_moved_to_another_row_is_not_sent(app, smtp):
    _queue_one(app, subject="one", to="one@example.jp")
    _queue_one(app, subject="two", to="two@example.jp")
    with app.app_context():
        first, second = db.session.execute(sa.select(MailOutbox).order_by(MailOutbox.id)).scalars().all()
        second.body_text = first.body_text
        db.session.commit()
    deliver_pending(app)
    subjects = [str(make_header(decode_header(m["Subject"]))) for m in smtp.sink.messages]
    assert subjects == ["【マンション管理クラウド】one（テスト管理株式会社）"]
    failed = _rows(app)[1]
    assert (failed.status, failed.last_error) == ("failed", "DecryptionError")


@pytest.mark.config(KANRI_MAIL_THREAD=False, KANRI_MAIL_MAX_ATTEMPTS=1)
def test_mail_status_and_retry_commands(app, runner):
    port = free_port()
    point_mail_at(app, "127.0.0.1", port)
    _queue_one(app, to="hidden@example.jp")
    deliver_pending(app)
    result = runner.invoke(args=["mail", "status"])
    text = cli_output(result)
    assert result.exit_code == 0, text
    assert "queued: 0" in text and "sent: 0" in text and "failed: 1" in text
    assert "ConnectionRefusedError" in text and "hidden@example.jp" not in text
    mail_id = _rows(app)[0].id
    assert runner.invoke(args=["mail", "retry"]).exit_code == 2
    assert runner.invoke(args=["mail", "retry", "999999"]).exit_code == 2
    server = SmtpServer(port).start()
    try:
        result = runner.invoke(args=["mail", "retry", "--failed"])
        assert result.exit_code == 0 and "1 件" in cli_output(result)
        assert _rows(app)[0].status == "queued"
        assert deliver_pending(app) == 1
        assert [m["To"] for m in server.sink.messages] == ["hidden@example.jp"]
        result = runner.invoke(args=["mail", "retry", str(mail_id)])
        assert result.exit_code == 2 and "送信済み" in cli_output(result)
        assert "sent: 1" in cli_output(runner.invoke(args=["mail", "status"]))
    finally:
        server.stop()


@pytest.mark.config(KANRI_MAIL_THREAD=False)
def test_retry_one_mail_by_id(app, runner):
    port = free_port()
    point_mail_at(app, "127.0.0.1", port)
    _queue_one(app)
    deliver_pending(app)  # refused: waits a minute before the next try
    mail_id = _rows(app)[0].id
    server = SmtpServer(port).start()
    try:
        assert deliver_pending(app) == 0  # not due yet
        result = runner.invoke(args=["mail", "retry", str(mail_id)])
        assert result.exit_code == 0, cli_output(result)
        assert deliver_pending(app) == 1
        assert len(server.sink.messages) == 1
    finally:
        server.stop()


def test_the_reset_request_answers_while_smtp_is_stuck(app, client, make_tenant, add_user, smtp):
    """The forgot-password answer must not wait for SMTP (its timing would tell who has an account)."""
    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "hanako", email="hanako@example.co.jp")
    smtp.sink.stall()
    answered = []

    def ask():
        answered.append(post_form(client, "/jucho/password/forgot",
                                  {"company_code": "juchoco", "identifier": "hanako"}).status_code)

    request = threading.Thread(target=ask)
    request.start()
    request.join(timeout=20)
    assert answered == [302]
    assert smtp.sink.in_data.wait(10) and smtp.sink.messages == []  # the sender is still stuck in DATA
    smtp.sink.release()
    message = smtp.sink.wait_for(1)[0]
    assert "/jucho/password/reset/" in SmtpSink.text(message)
    assert [o for a, o, _, _ in audit_rows(app) if a == "jucho.reset.request"] == ["success"]



@pytest.mark.config(KANRI_MAIL_THREAD=False, KANRI_MAIL_KEEP_DAYS=30)
def test_prune_deletes_finished_mail_past_the_keep_days_and_keeps_the_rest(app, runner):
    names = ("古い送信済み", "新しい送信済み", "古い失敗", "送信待ち")
    for subject in names:
        _queue_one(app, subject=subject)
    with app.app_context():
        rows = dict(zip(names, db.session.execute(sa.select(MailOutbox).order_by(MailOutbox.id)).scalars(), strict=True))
        long_ago = utcnow() - timedelta(days=31)
        for subject, status in (("古い送信済み", "sent"), ("新しい送信済み", "sent"), ("古い失敗", "failed")):
            rows[subject].status = status
            rows[subject].sent_at = long_ago if subject == "古い送信済み" else utcnow()
        rows["古い失敗"].next_attempt_at = long_ago
        rows["送信待ち"].created_at = long_ago  # waiting mail is never pruned, however old
        db.session.add(MailAttempt(mail_id=rows["古い送信済み"].id, worker="test", outcome="sent"))
        db.session.commit()
        mail_ids = {name: row.id for name, row in rows.items()}

    dry = runner.invoke(args=["mail", "prune", "--dry-run"])
    assert dry.exit_code == 0 and "2 件" in cli_output(dry)
    assert len(_rows(app)) == 4

    result = runner.invoke(args=["mail", "prune"])
    assert result.exit_code == 0, cli_output(result)
    assert "2 件を削除しました" in cli_output(result)
    kept = [row.id for row in _rows(app)]
    assert kept == [mail_ids["新しい送信済み"], mail_ids["送信待ち"]]
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(MailAttempt)).scalar_one() == 0
    assert runner.invoke(args=["mail", "prune", "--days", "0"]).exit_code == 2
