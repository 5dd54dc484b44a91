"""Security incidents: flask incident notify/status/list — admins mailed through the outbox, the incident
recorded in each tenant's log and shown to its admins as a notice, delivery counts over real SMTP."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from app.builtins.transparency.incidents import Incident, IncidentRecipient
from app.builtins.transparency.notices import Notice
from app.extensions import db
from app.mailer import MailOutbox, deliver_pending
from app.models import AuditEvent, Tenant
from tests import mama_helpers
from tests.conftest import cli_output
from tests.jucho_helpers import jucho_login
from tests.smtp_helpers import SmtpServer, SmtpSink, point_mail_at

BODY = "本日 10:00 頃、**不正アクセス**を検知しました。\n\n- 影響: ログイン履歴の閲覧\n- 対応: 遮断済み\n"
SUBJECT = "不正アクセスの検知について"


@pytest.fixture
def body_path(tmp_path):
    path = tmp_path / "incident.md"
    path.write_text(BODY, encoding="utf-8")
    return str(path)


def _notify(runner, body_path: str, *target: str, subject: str = SUBJECT):
    return runner.invoke(args=["incident", "notify", "--subject", subject, "--body-file", body_path, *target,
                               "--reason", "インシデント #7 の通知", "--operator", "ops-kato"])


def _incident_id(result) -> int:
    assert result.exit_code == 0, cli_output(result)
    return int(re.search(r"インシデント番号 (\d+)", result.output).group(1))


def _world(app, make_tenant, add_user):
    """Two MAMA tenants and one 重調 tenant: two active admins, a suspended admin and a general user each."""
    for code, product in (("mama1", "mama"), ("mama2", "mama"), ("juchoco", "jucho")):
        make_tenant(code, product=product)
        add_user(code, "boss", role="admin")
        add_user(code, "quiet", role="admin")
        add_user(code, "staff")
        with mama_helpers.in_tenant(app, code):
            mama_helpers.get_user("quiet").status = "suspended"
            db.session.commit()


def _incident_mails(outbox) -> list:
    return [m for m in outbox if "セキュリティインシデント" in m.subject]


def _count(app, model) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(model)
                                  .execution_options(all_tenants=True)).scalar_one()


def _chain_actions(app, code: str) -> list[tuple[str, str]]:
    with app.app_context():
        tenant = Tenant.by_code(code)
        rows = db.session.execute(sa.select(AuditEvent.action, AuditEvent.details).where(
            AuditEvent.chain_id == tenant.id, AuditEvent.action.in_(("incident.notify", "operator.access")))
            .order_by(AuditEvent.seq).execution_options(all_tenants=True)).all()
        return [(action, json.loads(details)) for action, details in rows]


def test_notify_a_product_mails_every_active_admin_and_shows_a_notice_to_admins_only(app, runner, make_tenant,
                                                                                    add_user, body_path, outbox):
    _world(app, make_tenant, add_user)
    result = _notify(runner, body_path, "--product", "mama")
    incident_id = _incident_id(result)
    assert "2 テナント" in result.output and "メール 4 通を送信キューに入れました" in result.output

    mails = _incident_mails(outbox)
    assert sorted(m.recipients[0] for m in mails) == [
        "admin@mama1.example.jp", "admin@mama2.example.jp", "boss@mama1.example.jp", "boss@mama2.example.jp"]
    for mail in mails:
        code = mail.recipients[0].split("@")[1].split(".")[0]
        assert mail.subject == f"【MAMAシステム】【重要】セキュリティインシデントのお知らせ（{code} 株式会社）"
        assert SUBJECT in mail.body and "不正アクセス" in mail.body and "<strong>不正アクセス</strong>" in mail.html
        assert "/notices/" in mail.body
    assert [m for m in outbox if "お知らせ:" in m.subject] == []   # the incident mail is the delivery: not twice
    assert "配信: 0 テナント" in runner.invoke(args=["notice", "deliver-due"]).output

    for code in ("mama1", "mama2"):
        actions = _chain_actions(app, code)
        assert [a for a, _ in actions] == ["incident.notify", "operator.access"]
        assert actions[0][1]["mails"] == 2 and actions[0][1]["subject"] == SUBJECT
        assert actions[1][1]["reason"] == "インシデント #7 の通知" and actions[1][1]["command"] == "incident notify"
    assert _chain_actions(app, "juchoco") == []
    with app.app_context():
        events = db.session.execute(sa.select(AuditEvent.details).where(AuditEvent.action == "incident.notify")
                                    .execution_options(all_tenants=True)).scalars().all()
    assert not any("@" in details for details in events)  # no address in any log

    admin, staff = app.test_client(), app.test_client()
    mama_helpers.login_with_code(admin, app, "mama1", "boss")
    mama_helpers.login_with_code(staff, app, "mama1", "staff")
    with app.app_context():
        notice_id = db.session.get(Incident, incident_id).notice_id
    page = admin.get(f"/notices/{notice_id}")
    assert page.status_code == 200 and SUBJECT in page.get_data(as_text=True)
    assert staff.get(f"/notices/{notice_id}").status_code == 404
    assert SUBJECT not in staff.get("/notices").get_data(as_text=True)
    jucho = app.test_client()
    jucho_login(jucho, outbox, "juchoco", "admin")
    assert jucho.get(f"/notices/{notice_id}").status_code == 404


def test_notify_listed_tenants_and_all(app, runner, make_tenant, add_user, body_path, outbox):
    _world(app, make_tenant, add_user)
    _incident_id(_notify(runner, body_path, "--tenant", "mama2", "--tenant", "juchoco"))
    assert sorted(m.recipients[0] for m in _incident_mails(outbox)) == [
        "admin@juchoco.example.jp", "admin@mama2.example.jp", "boss@juchoco.example.jp", "boss@mama2.example.jp"]
    assert any(m.subject.startswith("【重調@CITY】") and "（juchoco 株式会社）" in m.subject for m in _incident_mails(outbox))
    outbox.clear()
    result = _notify(runner, body_path, "--all", subject="全体への通知")
    assert "3 テナント" in result.output and "メール 6 通" in result.output
    assert len(_incident_mails(outbox)) == 6
    listed = runner.invoke(args=["incident", "list"])
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert "3 テナント 宛先 6 名 operator:ops-kato: 全体への通知" in lines[0]
    assert f"2 テナント 宛先 4 名 operator:ops-kato: {SUBJECT}" in lines[1]

    jucho = app.test_client()
    jucho_login(jucho, outbox, "juchoco", "admin")
    panel = jucho.get("/").get_data(as_text=True)
    assert "全体への通知" in panel and SUBJECT in panel  # the admins' dashboard shows both, 未読


@pytest.mark.config(KANRI_MAIL_THREAD=False, KANRI_MAIL_MAX_ATTEMPTS=1)
def test_status_counts_queued_delivered_and_failed_over_real_smtp(app, runner, make_tenant, add_user, body_path):
    _world(app, make_tenant, add_user)
    incident_id = _incident_id(_notify(runner, body_path, "--product", "mama"))
    status = runner.invoke(args=["incident", "status", str(incident_id)])
    assert status.exit_code == 0, cli_output(status)
    assert "対象テナント: 2" in status.output and "送信待ち: 4  送信済み: 0  失敗: 0" in status.output

    class RefusingSink(SmtpSink):
        """Accepts every recipient but one mailbox, as a real server with an unknown user does."""

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            if address == "boss@mama2.example.jp":
                return "550 5.1.1 mailbox unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    server = SmtpServer()
    server.sink = RefusingSink()
    server.start()
    try:
        point_mail_at(app, "127.0.0.1", server.port)
        deliver_pending(app)
        assert sorted(m["To"] for m in server.sink.messages) == [
            "admin@mama1.example.jp", "admin@mama2.example.jp", "boss@mama1.example.jp"]
    finally:
        server.stop()

    status = runner.invoke(args=["incident", "status", str(incident_id)])
    text = cli_output(status)
    assert status.exit_code == 0, text
    assert "送信待ち: 0  送信済み: 3  失敗: 1" in text
    assert "  mama2 boss: SMTPRecipientsRefused" in text
    assert "@" not in text.replace("operator:ops-kato", "")  # never an address


@pytest.mark.config(KANRI_MAIL_THREAD=False)
def test_an_admin_without_an_address_is_reported(app, runner, make_tenant, add_user, body_path):
    make_tenant("mama1", product="mama")
    with mama_helpers.in_tenant(app, "mama1"):
        mama_helpers.get_user("admin").email = None
        db.session.commit()
    add_user("mama1", "boss", role="admin")
    incident_id = _incident_id(_notify(runner, body_path, "--tenant", "mama1"))
    text = runner.invoke(args=["incident", "status", str(incident_id)]).output
    assert "送信待ち: 1  送信済み: 0  失敗: 1" in text and "mama1 admin: メールアドレス未登録" in text


def test_bad_input_is_refused_in_japanese_and_writes_nothing(app, runner, make_tenant, add_user, body_path,
                                                             tmp_path):
    _world(app, make_tenant, add_user)
    make_tenant("sampleco")
    cases = [
        ([], "どれか一つ"),
        (["--all", "--product", "mama"], "どれか一つ"),
        (["--tenant", "mama1", "--all"], "どれか一つ"),
        (["--product", "all"], "--all を指定"),
        (["--product", "nosuch"], "製品コード 'nosuch' はありません"),
        (["--tenant", "nosuch"], "会社コード 'nosuch' のテナントはありません"),
    ]
    before = _count(app, AuditEvent)
    for target, message in cases:
        result = _notify(runner, body_path, *target)
        assert result.exit_code == 2 and message in cli_output(result), (target, cli_output(result))
    for subject, message in (("  ", "件名を指定"), ("x" * 101, "100文字以内"), ("改行\n入り", "制御文字")):
        result = _notify(runner, body_path, "--all", subject=subject)
        assert result.exit_code == 2 and message in cli_output(result), cli_output(result)
    missing = _notify(runner, str(tmp_path / "none.md"), "--all")
    assert missing.exit_code == 2 and "見つかりません" in cli_output(missing)
    no_reason = runner.invoke(args=["incident", "notify", "--subject", "s", "--body-file", body_path, "--all"])
    assert no_reason.exit_code == 2 and "--reason" in cli_output(no_reason)
    for model in (Incident, IncidentRecipient, Notice, MailOutbox):
        assert _count(app, model) == 0, model
    assert _count(app, AuditEvent) == before
    unknown = runner.invoke(args=["incident", "status", "999"])
    assert unknown.exit_code == 2 and "インシデント番号 999 はありません" in cli_output(unknown)
    assert "インシデントの記録はありません" in runner.invoke(args=["incident", "list"]).output
