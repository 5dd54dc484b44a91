"""The mailer: template pairs, console output in development, the response never waits for SMTP."""
import threading

import sqlalchemy as sa

from app.extensions import db
from app.mailer import MailOutbox, deliver_pending, send_mail
from app.timeutil import utcnow
from tests.smtp_helpers import SmtpServer, free_port, point_mail_at


def _user():
    class _User:
        name = "山田 太郎"
        login_id = "yamada"

    class _Tenant:
        name = "テスト管理株式会社"

    return _User(), _Tenant()


def test_send_mail_renders_text_and_html(app, outbox):
    user, tenant = _user()
    with app.test_request_context():
        send_mail("yamada@example.jp", "パスワード変更のお知らせ", "password_changed", user=user, tenant=tenant,
                  changed_at=utcnow())
        db.session.commit()
    assert len(outbox) == 1
    message = outbox[0]
    assert message.subject == "【マンション管理クラウド】パスワード変更のお知らせ（テスト管理株式会社）"
    assert "山田 太郎 様" in message.body and "<p>山田 太郎 様</p>" in message.html
    assert "JST" in message.body


def test_the_response_does_not_wait_for_smtp(app, client):
    """The SMTP round trip must not lengthen the answer (reset requests must not reveal accounts):
    with the mail server stuck, the response still arrives; the mail follows once it answers."""
    server = SmtpServer().start()
    server.sink.stall()
    try:
        point_mail_at(app, "127.0.0.1", server.port)
        user, tenant = _user()

        @app.route("/_test/deferred")
        def deferred():
            send_mail("yamada@example.jp", "件名", "password_changed", user=user, tenant=tenant, changed_at=utcnow())
            db.session.commit()
            return "ok"

        answered = []
        request = threading.Thread(target=lambda: answered.append(client.get("/_test/deferred").status_code))
        request.start()
        request.join(timeout=20)
        assert answered == [200]  # answered while the mail server still holds the message
        assert server.sink.in_data.wait(10)  # the background sender is talking to it
        assert server.sink.messages == []
        server.sink.release()
        deliver_pending(app)  # waits for the background sender's pass
        assert [m["To"] for m in server.sink.messages] == ["yamada@example.jp"]
    finally:
        server.stop()


def test_an_unreachable_smtp_server_leaves_the_mail_queued_with_the_error(app, outbox):
    point_mail_at(app, "127.0.0.1", free_port())  # nothing listens there
    user, tenant = _user()
    with app.test_request_context():
        send_mail("yamada@example.jp", "件名", "password_changed", user=user, tenant=tenant, changed_at=utcnow())
        db.session.commit()  # nothing raised: the change stands, the mail waits for the server
    assert outbox == []
    with app.app_context():
        row = db.session.execute(sa.select(MailOutbox)).scalar_one()
        assert (row.status, row.attempts) == ("queued", 1)
        assert row.last_error.startswith("ConnectionRefusedError")
        assert "yamada" not in row.last_error


def test_development_prints_mail_to_the_console(app, capsys):
    app.config.update(KANRI_MAIL_CONSOLE=True, MAIL_SUPPRESS_SEND=True)
    user, tenant = _user()
    with app.test_request_context():
        send_mail("yamada@example.jp", "パスワード変更のお知らせ", "password_changed", user=user, tenant=tenant,
                  changed_at=utcnow())
        db.session.commit()
    deliver_pending(app)
    err = capsys.readouterr().err
    assert "To: yamada@example.jp" in err and "山田 太郎 様" in err
