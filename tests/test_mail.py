"""The mailer: template pairs, console output in development, sending after the response."""
import pytest

from app.mailer import MailError, send_mail, send_mail_after_response


def _user():
    class _User:
        name = "山田 太郎"
        login_id = "yamada"

    class _Tenant:
        name = "テスト管理株式会社"

    return _User(), _Tenant()


def test_send_mail_renders_text_and_html(app, outbox):
    user, tenant = _user()
    from app.timeutil import utcnow

    with app.test_request_context():
        send_mail("yamada@example.jp", "パスワード変更のお知らせ", "password_changed", user=user, tenant=tenant,
                  changed_at=utcnow())
    assert len(outbox) == 1
    message = outbox[0]
    assert message.subject == "[kanri] パスワード変更のお知らせ"
    assert "山田 太郎 様" in message.body and "<p>山田 太郎 様</p>" in message.html
    assert "JST" in message.body


def test_the_response_does_not_wait_for_a_deferred_mail(app, client):
    """The SMTP round trip must not lengthen the answer (reset requests must not reveal accounts):
    with the mail server stuck, the response still arrives; the mail follows once it answers."""
    import threading

    from aiosmtpd.controller import Controller

    from app.extensions import mail
    from app.mailer import wait_for_outgoing_mail

    release, received = threading.Event(), []

    class StuckServer:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            release.wait(timeout=30)
            received.append(envelope.rcpt_tos)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(StuckServer(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
        mail.init_app(app)
        user, tenant = _user()

        @app.route("/_test/deferred")
        def deferred():
            from app.timeutil import utcnow

            send_mail_after_response("yamada@example.jp", "件名", "password_changed", user=user, tenant=tenant,
                                     changed_at=utcnow())
            return "ok"

        answered = []
        request = threading.Thread(target=lambda: answered.append(client.get("/_test/deferred").status_code))
        request.start()
        request.join(timeout=20)
        assert answered == [200]  # answered while the mail server still holds the message
        assert received == []
        release.set()
        wait_for_outgoing_mail()
        assert received == [["yamada@example.jp"]]
    finally:
        release.set()
        controller.stop()


def test_unreachable_smtp_server_raises_a_mail_error(app):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe closes
    from app.extensions import mail

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
    mail.init_app(app)
    user, tenant = _user()
    from app.timeutil import utcnow

    with app.test_request_context(), pytest.raises(MailError):
        send_mail("yamada@example.jp", "件名", "password_changed", user=user, tenant=tenant, changed_at=utcnow())


def test_development_prints_mail_to_the_console(app, capsys):
    app.config.update(KANRI_MAIL_CONSOLE=True, MAIL_SUPPRESS_SEND=True)
    user, tenant = _user()
    from app.timeutil import utcnow

    with app.test_request_context():
        send_mail("yamada@example.jp", "パスワード変更のお知らせ", "password_changed", user=user, tenant=tenant,
                  changed_at=utcnow())
    err = capsys.readouterr().err
    assert "To: yamada@example.jp" in err and "山田 太郎 様" in err
