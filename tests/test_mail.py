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


def test_mail_is_sent_only_after_the_response_went_out(app, client, outbox):
    """The SMTP round trip must not lengthen the answer (reset requests must not reveal accounts)."""
    user, tenant = _user()

    @app.route("/_test/deferred")
    def deferred():
        from app.timeutil import utcnow

        send_mail_after_response("yamada@example.jp", "件名", "password_changed", user=user, tenant=tenant,
                                 changed_at=utcnow())
        return "ok"

    response = client.get("/_test/deferred")
    assert response.status_code == 200
    assert outbox == []  # the body is complete and nothing was sent yet
    response.close()  # a WSGI server closes the response after writing it
    assert [m.recipients for m in outbox] == [["yamada@example.jp"]]


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
