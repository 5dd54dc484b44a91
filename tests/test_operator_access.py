"""Operator access made visible: every command that reads or changes a tenant's data needs ``--reason`` and leaves
「運用担当者による操作」 (operator name, reason) in that tenant's 操作ログ, which its admins can filter to."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.builtins.lifecycle import export
from app.builtins.lifecycle.purge import PurgeReceipt
from app.extensions import db
from app.models import AuditEvent, Tenant, User
from app.tenancy import tenant_scope
from app.timeutil import jst_today, utcnow
from tests.conftest import cli_output, login, password_step

REASON = "問い合わせ #123 の調査"
ROW = re.compile(r'<tr data-seq="(\d+)"( class="operator-row" data-operator="1")?>')


@pytest.fixture
def world(app, make_tenant, add_user, monkeypatch):
    """Two sample tenants (acme with a locked user and an open export request), a MAMA tenant and an expired one."""
    monkeypatch.setenv("KANRI_OPERATOR", "ops-tanaka")
    make_tenant("acme")
    make_tenant("other")
    make_tenant("mama1", product="mama")
    make_tenant("old-co")
    add_user("acme", "staff")
    with app.app_context():
        acme = Tenant.by_code("acme")
        with tenant_scope(acme):
            staff = db.session.execute(sa.select(User).where(User.login_id == "staff")).scalar_one()
            staff.failed_logins, staff.locked_until = 10, utcnow() + timedelta(minutes=15)
            admin = db.session.execute(sa.select(User).where(User.login_id == "admin")).scalar_one()
            request_id = export.request_export(acme, admin, "監査用").id
            db.session.commit()
        db.session.execute(sa.update(Tenant).where(Tenant.code == "old-co")
                           .values(contract_start=jst_today() - timedelta(days=30),
                                   contract_end=jst_today() - timedelta(days=1)))
        db.session.commit()
    return {"request": request_id}


def _state(app) -> dict:
    """What a refused command must leave alone: every audit row, tenant, user lock, receipt, request and MAMA row."""
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as connection:
            return {table: sorted(tuple(map(repr, row)) for row in connection.execute(sa.text(f"SELECT * FROM {table}")))
                    for table in ("audit_events", "tenants", "users", "purge_receipts", "export_requests",
                                  "mama_registration_codes", "mama_associations")}


def _commands(world, tmp_path) -> dict[str, list[str]]:
    return {
        "user unlock": ["user", "unlock", "--tenant", "acme", "--login", "staff"],
        "user device-code": ["user", "device-code", "--tenant", "mama1", "--login", "admin"],
        "mama seed": ["mama", "seed", "--tenant", "mama1", "--count", "2"],
        "tenant export": ["tenant", "export", "acme", "--out", str(tmp_path / "acme.zip")],
        "tenant export-requests": ["tenant", "export-requests"],
        "tenant export-reject": ["tenant", "export-reject", str(world["request"])],
        "tenant suspend": ["tenant", "suspend", "acme"],
        "tenant resume": ["tenant", "resume", "acme"],
        "tenant terminate": ["tenant", "terminate", "acme", "--on", "2099-06-30", "--yes"],
        "tenant purge-expired": ["tenant", "purge-expired"],
        "backup restore": ["backup", "restore", "20990101-000000-000000", "--yes"],
        "keys reencrypt": ["keys", "reencrypt"],
        "keys rotate": ["keys", "rotate"],
        "audit verify": ["audit", "verify", "--tenant", "acme"],
    }


COMMANDS = ["user unlock", "user device-code", "mama seed", "tenant export", "tenant export-requests",
            "tenant export-reject", "tenant suspend", "tenant resume", "tenant terminate", "tenant purge-expired",
            "backup restore", "keys reencrypt", "keys rotate", "audit verify"]


CASES = ([(command, reason) for command in COMMANDS for reason in (None, "   ")]
         + [(command, reason) for command in ("user unlock", "audit verify")
            for reason in ("理由\x1b[31m赤", "改行\nあり", "長" * 201)])


@pytest.mark.parametrize("command, reason", CASES)
def test_a_command_without_a_proper_reason_exits_2_and_changes_nothing(app, runner, world, tmp_path, command,
                                                                      reason):
    args = _commands(world, tmp_path)[command] + ([] if reason is None else ["--reason", reason])
    before = _state(app)
    result = runner.invoke(args=args)
    assert result.exit_code == 2, cli_output(result)
    text = cli_output(result)
    if reason is None or not reason.strip():
        assert "理由（--reason）を入力してください" in text
    elif len(reason) > 200:
        assert "200文字以内" in text
    else:
        assert "制御文字は使えません" in text
    assert _state(app) == before
    assert not (tmp_path / "acme.zip").exists()


def _heads(app) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(sa.text(
            "SELECT t.code, max(e.seq) FROM tenants t JOIN audit_events e ON e.chain_id = t.id GROUP BY t.code")).all())


def _new_events(app, heads: dict[str, int]) -> dict[str, list[AuditEvent]]:
    """Events written since ``heads``, per tenant code."""
    found = {}
    with app.app_context():
        db.session.remove()
        for code, seq in heads.items():
            tenant = Tenant.by_code(code)
            rows = db.session.execute(sa.select(AuditEvent).where(AuditEvent.chain_id == tenant.id, AuditEvent.seq > seq)
                                      .order_by(AuditEvent.seq).execution_options(all_tenants=True)).scalars().all()
            if rows:
                found[code] = [(row.action, row.actor_login, json.loads(row.details)) for row in rows]
    return found


@pytest.mark.parametrize("command, touched, extra", [
    ("user unlock", {"acme"}, {"login_id": "staff"}),
    ("user device-code", {"mama1"}, {"login_id": "admin", "valid_hours": 24}),
    ("mama seed", {"mama1"}, {"added": 2}),
    ("tenant export", {"acme"}, {}),
    ("tenant export-requests", {"acme"}, {}),
    ("tenant export-reject", {"acme"}, {}),
    ("tenant suspend", {"acme"}, {}),
    ("tenant terminate", {"acme"}, {"contract_end": "2099-06-30"}),
    ("keys reencrypt", {"acme", "other", "mama1", "old-co"}, {}),
    ("audit verify", {"acme"}, {"result": "正常"}),
])
def test_with_a_reason_each_touched_tenant_records_who_and_why(app, runner, world, tmp_path, command, touched,
                                                              extra):
    heads = _heads(app)
    result = runner.invoke(args=_commands(world, tmp_path)[command] + ["--reason", REASON])
    assert result.exit_code == 0, cli_output(result)
    written = _new_events(app, heads)
    assert set(written) == touched  # and nothing in any other tenant's log
    for code in touched:
        events = written[code]
        assert {actor for _, actor, _ in events} == {"operator:ops-tanaka"}  # every event of the command
        accesses = [details for action, _, details in events if action == "operator.access"]
        assert len(accesses) == 1
        assert accesses[0]["command"] == command and accesses[0]["reason"] == REASON
        assert extra.items() <= accesses[0].items()
    if command == "tenant export":
        access = next(d for a, _, d in written["acme"] if a == "operator.access")
        assert access["file_bytes"] == (tmp_path / "acme.zip").stat().st_size > 0
        assert "secret" not in json.dumps(access)
    if command == "user device-code":  # the code itself is never in the log
        code = result.output.strip().rsplit(": ", 1)[1]
        assert code not in json.dumps(written) and code.replace("-", "") not in json.dumps(written)


def _table(html: str) -> str:
    return html[html.index('data-testid="oplog"'):]


def _oplog(client, query: str = "") -> str:
    response = client.get("/admin/oplog" + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_tenant_admin_sees_the_operator_event_and_can_filter_to_it_another_tenant_cannot(app, runner, world):
    result = runner.invoke(args=["user", "unlock", "--tenant", "acme", "--login", "staff", "--reason", REASON])
    assert result.exit_code == 0, cli_output(result)
    assert "ロックを解除しました" in result.output

    acme = app.test_client()
    login(acme, "acme", "admin")
    acme.get("/")  # a tenant user's own events, which the operator filter leaves out
    html = _oplog(acme)
    assert "運用担当者による操作" in html and "ops-tanaka" in html and REASON in html
    assert '<span class="badge operator">運用担当者</span>' in html and "コマンド: flask user unlock" in html

    only = _oplog(acme, "?operators=y")
    rows = ROW.findall(only)
    assert rows and all(marked for _, marked in rows)  # every row shown is an operator's
    assert "運用担当者による操作" in only and REASON in only and "ロック解除" in only
    assert "ログイン成功" not in _table(only) and "ログイン成功" in _table(html)
    assert re.search(r'<input [^>]*checked id="operators" name="operators" type="checkbox"', only)  # stays ticked

    combined = _oplog(acme, "?operators=y&action=account.unlock")
    assert [marked for _, marked in ROW.findall(combined)] == [" class=\"operator-row\" data-operator=\"1\""]

    response = acme.get("/admin/oplog.csv?operators=y")
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert table[0][-2:] == ["運用担当者", "理由"]
    access = next(row for row in table[1:] if row[3] == "operator.access")
    assert access[1] == "operator:ops-tanaka" and access[8] == "ops-tanaka" and access[9] == REASON
    assert {row[1].split(":")[0] for row in table[1:]} == {"operator"}

    other = app.test_client()
    login(other, "other", "admin")
    for page in (_oplog(other), _oplog(other, "?operators=y"), other.get("/admin/oplog.csv?operators=y").get_data(
            as_text=True)):
        assert REASON not in page and "ops-tanaka" not in page and "user:staff" not in page


def test_operator_option_overrides_kanri_operator_and_the_os_user_is_the_fallback(app, runner, world, monkeypatch):
    heads = _heads(app)
    assert runner.invoke(args=["tenant", "suspend", "acme", "--reason", REASON, "--operator", "ops-sato"]).exit_code == 0
    assert {actor for _, actor, _ in _new_events(app, heads)["acme"]} == {"operator:ops-sato"}
    monkeypatch.delenv("KANRI_OPERATOR")
    monkeypatch.setattr("getpass.getuser", lambda: "deploy")
    heads = _heads(app)
    assert runner.invoke(args=["tenant", "resume", "acme", "--reason", REASON]).exit_code == 0
    assert {actor for _, actor, _ in _new_events(app, heads)["acme"]} == {"operator:deploy"}


def test_audit_verify_of_every_chain_needs_no_reason_and_writes_nothing(app, runner, world):
    heads = _heads(app)
    result = runner.invoke(args=["audit", "verify"])
    assert result.output.startswith("OK"), cli_output(result)
    assert _new_events(app, heads) == {}


def test_purge_keeps_the_reason_in_the_receipt_the_system_event_and_the_mail(app, runner, world, outbox):
    dry = runner.invoke(args=["tenant", "purge-expired", "--dry-run", "--reason", "契約終了による定期削除"])
    assert dry.exit_code == 0 and "[dry-run] old-co" in dry.output
    result = runner.invoke(args=["tenant", "purge-expired", "--reason", "契約終了による定期削除"])
    assert result.exit_code == 0, cli_output(result)
    assert "実行者 operator:ops-tanaka / 理由 契約終了による定期削除" in result.output
    with app.app_context():
        receipt = db.session.execute(sa.select(PurgeReceipt)).scalar_one()
        assert (receipt.tenant_code, receipt.operator, receipt.reason) == (
            "old-co", "operator:ops-tanaka", "契約終了による定期削除")
        event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "tenant.purge")
                                   .execution_options(all_tenants=True)).scalar_one()
        assert event.chain_id == 0 and event.actor_login == "operator:ops-tanaka"
        assert json.loads(event.details)["reason"] == "契約終了による定期削除"
    [mail] = [m for m in outbox if "データ削除" in m.subject]
    assert "理由: 契約終了による定期削除" in mail.body and "ops-tanaka" in mail.body


def test_nobody_can_pass_for_an_operator_in_the_log(app, runner, world, add_user):
    """A stranger typing an operator's name at the login form, or a tenant user whose login id is "operator",
    never shows up as the service team: no badge, and not under 運用担当者による操作のみ."""
    add_user("acme", "operator")
    stranger = app.test_client()
    for typed in ("operator:ops-tanaka", "OPERATOR:ops-tanaka", "operator"):
        password_step(stranger, "acme", typed, "wrong password " * 2)
    login(app.test_client(), "acme", "operator")  # a real user called "operator" logs in
    admin = app.test_client()
    login(admin, "acme", "admin")
    html = _table(_oplog(admin))
    assert "user:operator:ops-tanaka" in html and "user:OPERATOR:ops-tanaka" in html  # the attempts are logged
    for row in re.findall(r"<tr data-seq=.*?</tr>", html, re.S):
        if "ログイン" in row:
            assert "badge operator" not in row
    only = _table(_oplog(admin, "?operators=y"))
    assert "ログイン" not in only and "ops-tanaka" not in only
    assert [label for label in re.findall(r'<td data-label="操作">([^<]+)</td>', only) if label in ("テナント作成",)] == ["テナント作成"]
