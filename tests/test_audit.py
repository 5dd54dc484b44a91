"""The audit log: what a record holds, the per-tenant hash chain, tamper detection, no secrets, JST logs."""
from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app import audit
from app.extensions import db
from app.models import AuditEvent, Tenant
from app.security import JSTJsonFormatter
from app.tenancy import tenant_scope
from tests.conftest import PASSWORD, cli_output, login, password_step, post_form

RAW_ROWS = "SELECT * FROM audit_events ORDER BY chain_id, seq"


def _rows(app, where: str = "", **params) -> list[dict]:
    with app.app_context():
        sql = "SELECT * FROM audit_events " + (f"WHERE {where} " if where else "") + "ORDER BY chain_id, seq"
        return [dict(r) for r in db.session.execute(sa.text(sql), params).mappings()]




def test_record_holds_who_what_where_when(app, client, make_tenant):
    tenant = make_tenant("audit-a")
    before = datetime.now(UTC)
    response = password_step(client, "audit-a", "admin", PASSWORD)
    assert response.status_code == 302
    [row] = _rows(app, "action = 'login.password_ok'")
    assert row["tenant_id"] == tenant.id and row["chain_id"] == tenant.id
    assert row["actor_login"] == "admin" and row["actor_id"] is not None
    assert row["target"] == "user:admin"
    assert row["outcome"] == "success"
    assert row["ip"] == "127.0.0.1"
    assert row["user_agent"].startswith("Werkzeug/")
    assert row["request_id"] == response.headers["X-Request-ID"] and len(row["request_id"]) == 32
    assert json.loads(row["details"]) == {"factor": "sample-confirm"}
    with app.app_context():
        event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.id == row["id"])
                                   .execution_options(all_tenants=True)).scalar_one()
        assert event.occurred_at.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=1) <= event.occurred_at <= datetime.now(UTC)


def test_record_outside_a_request_and_custom_user_agent(app, client, make_tenant):
    tenant = make_tenant("audit-b")
    with app.app_context():
        t = db.session.get(Tenant, tenant.id)
        with tenant_scope(t):
            audit.record("test.action", actor_login="operator", target="thing:1", count=3, note="メモ")
            db.session.commit()
    [row] = _rows(app, "action = 'test.action'")
    assert row["tenant_id"] == tenant.id and row["actor_login"] == "operator" and row["user_agent"] == "cli"
    assert row["ip"] is None
    assert json.loads(row["details"]) == {"count": 3, "note": "メモ"}

    post_form(client, "/login", {"company_code": "audit-b", "login_id": "nobody", "password": "x" * 12},
              headers={"User-Agent": "Mozilla/5.0 test", "X-Forwarded-For": "198.51.100.7"})
    [row] = _rows(app, "action = 'login.failure'")
    assert row["user_agent"] == "Mozilla/5.0 test"
    assert row["ip"] == "127.0.0.1"  # no ProxyFix configured: a forged X-Forwarded-For is not believed
    assert json.loads(row["details"])["reason"] == "unknown_user"


def test_chains_are_per_tenant_and_linked(app, client, make_tenant):
    a = make_tenant("chain-a")
    b = make_tenant("chain-b")
    for company in ("chain-a", "chain-b", "chain-a", "no-such-co"):
        password_step(client, company, "admin", "wrong password " * 2)
    rows = _rows(app)
    chains: dict[int, list[dict]] = {}
    for row in rows:
        chains.setdefault(row["chain_id"], []).append(row)
    assert set(chains) == {0, a.id, b.id}  # chain 0: the unknown company, no tenant
    assert chains[0][0]["tenant_id"] is None
    assert len(chains[a.id]) > len(chains[b.id])
    for chain_id, chain in chains.items():
        assert [r["seq"] for r in chain] == list(range(1, len(chain) + 1))
        assert chain[0]["prev_hash"] == audit.GENESIS
        for previous, row in zip(chain, chain[1:], strict=False):
            assert row["prev_hash"] == previous["hash"]
        assert all(r["tenant_id"] in (chain_id, None) for r in chain)
    hashes = [r["hash"] for r in rows]
    assert len(set(hashes)) == len(hashes)


@pytest.fixture
def audited(app, client, make_tenant):
    """Two tenants with a few audit rows each."""
    make_tenant("verify-a")
    make_tenant("verify-b")
    for _ in range(3):
        password_step(client, "verify-b", "admin", "wrong password " * 2)
    password_step(client, "verify-a", "admin", "wrong password " * 2)
    return app


def test_verify_ok(audited, runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, cli_output(result)
    assert result.output.startswith("OK")
    result = runner.invoke(args=["audit", "verify", "--tenant", "verify-b", "--reason", "テスト"])
    assert result.exit_code == 0 and result.output.startswith("OK")
    result = runner.invoke(args=["audit", "verify", "--tenant", "nope-co", "--reason", "テスト"])
    assert result.exit_code == 2


def _seq_ids(app, code: str) -> dict[int, int]:
    rows = _rows(app, "chain_id = (SELECT id FROM tenants WHERE code = :c)", c=code)
    return {r["seq"]: r["id"] for r in rows}


def test_verify_detects_edited_row(audited, runner):
    app = audited
    ids = _seq_ids(app, "verify-b")
    assert len(ids) >= 4
    with app.app_context():
        db.session.execute(sa.text("UPDATE audit_events SET details = :d WHERE id = :id"),
                           {"d": '{"reason": "nothing happened"}', "id": ids[3]})
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    text = cli_output(result)
    assert result.exit_code != 0
    assert "verify-b" in text and "seq 3" in text
    assert "OK" not in result.output
    result = runner.invoke(args=["audit", "verify", "--tenant", "verify-b", "--reason", "テスト"])
    assert result.exit_code != 0 and "seq 3" in cli_output(result)
    # the other tenant's chain is untouched and still verifies
    result = runner.invoke(args=["audit", "verify", "--tenant", "verify-a", "--reason", "テスト"])
    assert result.exit_code == 0 and result.output.startswith("OK")


def test_rewriting_the_last_row_with_a_recomputed_plain_hash_is_detected(audited, runner):
    """The chain is an HMAC with a key outside the database: editing a row and recomputing
    an unkeyed SHA-256 (all that database access alone allows) does not verify."""
    import hashlib
    import json

    app = audited
    ids = _seq_ids(app, "verify-a")
    last_seq = max(ids)
    row = _rows(app, "id = :i", i=ids[last_seq])[0]
    row["details"] = '{"reason": "nothing happened"}'
    fields = {k: row[k] for k in sorted(row) if k not in {"id", "hash"}}
    fields["occurred_at"] = str(fields["occurred_at"])
    forged = hashlib.sha256(json.dumps(fields, ensure_ascii=False, sort_keys=True,
                                       separators=(",", ":")).encode()).hexdigest()
    with app.app_context():
        db.session.execute(sa.text("UPDATE audit_events SET details = :d, hash = :h WHERE id = :id"),
                           {"d": row["details"], "h": forged, "id": row["id"]})
        db.session.commit()
    result = runner.invoke(args=["audit", "verify", "--tenant", "verify-a", "--reason", "テスト"])
    assert result.exit_code != 0 and f"seq {last_seq}" in cli_output(result)


def test_verify_detects_deleted_middle_row(audited, runner):
    app = audited
    ids = _seq_ids(app, "verify-b")
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[2]})
        db.session.commit()
    result = runner.invoke(args=["audit", "verify", "--tenant", "verify-b", "--reason", "テスト"])
    text = cli_output(result)
    assert result.exit_code != 0
    assert "verify-b" in text
    assert "seq 3" in text and "expected seq 2" in text  # the first row whose link is broken, and the gap


def test_verify_detects_rewritten_hash_link(audited, runner):
    app = audited
    ids = _seq_ids(app, "verify-b")
    with app.app_context():
        db.session.execute(sa.text("UPDATE audit_events SET prev_hash = :h WHERE id = :id"),
                           {"h": "f" * 64, "id": ids[2]})
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0 and "verify-b" in cli_output(result) and "seq 2" in cli_output(result)


@pytest.mark.parametrize("details", [
    {"password": "hunter2hunter2"},
    {"new_password": "x"},
    {"Password_Hash": "x"},
    {"session_token": "x"},
    {"client_secret": "x"},
    {"otp": "123456"},
    {"reset_link": "https://example/reset/abc"},
    {"after": {"password": "nested"}},
])
def test_record_refuses_secret_looking_keys(app, make_tenant, details):
    tenant = make_tenant("secret-co")
    with app.app_context():
        count = len(_rows(app))
        with tenant_scope(db.session.get(Tenant, tenant.id)):
            with pytest.raises(audit.AuditSecretError):
                audit.record("test.secret", target="user:admin", **details)
            db.session.rollback()
    assert len(_rows(app)) == count


CONTROL_VALUES = "a\nFAKE\rLINE\x00\x1b[31m\u2028\u2029\x85\x7f"


def test_control_characters_escaped_in_audit_rows(app, make_tenant):
    tenant = make_tenant("ctrl-co")
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, tenant.id)):
            audit.record("test.ctrl", target=CONTROL_VALUES, actor_login=CONTROL_VALUES,
                         note=CONTROL_VALUES, items=[CONTROL_VALUES], nested={"v": CONTROL_VALUES})
            db.session.commit()
    [row] = _rows(app, "action = 'test.ctrl'")
    stored = json.dumps(row, default=str, ensure_ascii=False)
    details = json.loads(row["details"])
    for value in (row["target"], row["actor_login"], details["note"], details["items"][0], details["nested"]["v"]):
        assert value.startswith("a\\x0aFAKE\\x0dLINE\\x00\\x1b"), value
        assert all(ord(ch) >= 0x20 and not 0x7f <= ord(ch) <= 0x9f and ch not in "\u2028\u2029" for ch in value)
    assert len(stored.splitlines()) == 1


def test_login_id_with_newline_is_refused_before_it_reaches_the_log(app, client, make_tenant):
    make_tenant("inject-co")
    response = password_step(client, "inject-co", "x\nFAKE LINE", PASSWORD)
    assert "使用できない文字（制御文字）が含まれています" in response.get_data(as_text=True)
    assert _rows(app, "action = 'login.failure'") == []


def test_control_characters_that_reach_audit_are_escaped_in_rows_and_log_lines(app, make_tenant, caplog):
    make_tenant("inject-co")
    caplog.set_level(logging.INFO, logger="kanri")
    from app.models import Tenant

    with app.test_request_context(headers={"User-Agent": "agent\x1b[31mred"}):
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "inject-co")).scalar_one()
        audit.record("login.failure", outcome="failure", tenant=tenant, actor_login="x\nFAKE LINE",
                     target="user:x\nFAKE LINE", reason="x\r\nFAKE LINE")
        db.session.commit()
    [row] = _rows(app, "action = 'login.failure'")
    assert row["actor_login"] == "x\\x0aFAKE LINE"
    assert row["target"] == "user:x\\x0aFAKE LINE"
    assert row["user_agent"] == "agent\\x1b[31mred"
    assert "\n" not in row["details"] and "\\\\x0d\\\\x0a" in row["details"]
    formatter = JSTJsonFormatter()
    kanri_records = [r for r in caplog.records if r.name.startswith("kanri")]
    assert {r.name for r in kanri_records} >= {"kanri.audit"}
    for record in kanri_records:
        line = formatter.format(record)
        assert len(line.splitlines()) == 1, line
        json.loads(line)
    for line in caplog.text.splitlines():
        assert not line.startswith("FAKE LINE")


def test_no_secret_reaches_audit_log_database_logs_or_mail(app, client, make_tenant, add_user, caplog, outbox):
    """Full login, 10 failures → lockout, a bad and a good password change: no password anywhere."""
    caplog.set_level(logging.INFO, logger="kanri")
    make_tenant("nosecret")
    add_user("nosecret", "staff")
    wrong = [f"wrong guess number {i:02d} zq" for i in range(10)]
    bad_current = "not my current password 99"
    new_password = "violet lantern mosaic harbor 88"
    secrets_used = [PASSWORD, bad_current, new_password, *wrong]

    # a full login, then a refused and an accepted password change
    assert login(client, "nosecret", "admin").status_code == 302
    refused = post_form(client, "/account/password", {"current_password": bad_current, "new_password": new_password,
                                                      "confirm_password": new_password})
    assert "現在のパスワードが正しくありません" in refused.get_data(as_text=True)
    changed = post_form(client, "/account/password", {"current_password": PASSWORD, "new_password": new_password,
                                                      "confirm_password": new_password})
    assert changed.status_code == 302
    # ten failures lock staff; the right password is then refused too
    other = app.test_client()
    for guess in wrong:
        password_step(other, "nosecret", "staff", guess)
    locked = password_step(other, "nosecret", "staff", PASSWORD)
    assert locked.status_code == 200

    actions = [r["action"] for r in _rows(app)]
    for expected in ("login.success", "password.change", "login.failure", "account.locked"):
        assert expected in actions
    reasons = [json.loads(r["details"]).get("reason") for r in _rows(app, "action = 'login.failure'")]
    assert reasons.count("bad_password") == 10 and "locked" in reasons

    # every column of every audit row
    audit_dump = json.dumps(_rows(app), default=str, ensure_ascii=False)
    # every table of the database (password hashes only, never a password)
    with app.app_context():
        tables = {t.name: [list(r) for r in db.session.execute(sa.text(f"SELECT * FROM {t.name}"))]  # noqa: S608
                  for t in db.metadata.sorted_tables}
    database_dump = json.dumps(tables, default=str, ensure_ascii=False)
    # every log line, as captured and as the production JSON formatter writes it
    formatter = JSTJsonFormatter()
    log_lines = caplog.text + "\n".join(formatter.format(r) for r in caplog.records)
    assert '"event": "request"' in log_lines and '"event": "audit"' in log_lines
    mail_dump = "\n".join(f"{m.subject}\n{m.body}\n{m.html}" for m in outbox)

    for secret in secrets_used:
        for where, text in (("audit", audit_dump), ("database", database_dump), ("log", log_lines),
                            ("mail", mail_dump)):
            assert secret not in text, f"a password appears in the {where}"


def _record(message: str, created: float, exc_info=None) -> logging.LogRecord:
    record = logging.LogRecord("kanri.request", logging.INFO, __file__, 1, message, None, exc_info)
    record.created = created
    return record


def test_jst_json_formatter_uses_record_time_in_jst():
    created = datetime(2026, 11, 29, 0, 30, 15, 250000, tzinfo=UTC).timestamp()
    line = JSTJsonFormatter().format(_record(json.dumps({"event": "request", "status": 200}), created))
    data = json.loads(line)
    assert data["time"] == "2026-11-29T09:30:15.250+09:00"
    assert data["level"] == "INFO" and data["logger"] == "kanri.request"
    assert data["event"] == "request" and data["status"] == 200


def test_jst_json_formatter_plain_message_forgery_and_exceptions():
    created = datetime(2026, 1, 1, 15, 0, tzinfo=UTC).timestamp()  # 2026-01-02 00:00 JST: the date turns over
    plain = json.loads(JSTJsonFormatter().format(_record("hello\nFAKE", created)))
    assert plain["message"] == "hello\nFAKE" and plain["time"].startswith("2026-01-02T00:00:00")
    forged = JSTJsonFormatter().format(_record(json.dumps({"time": "1999-01-01T00:00:00+09:00", "level": "DEBUG"}),
                                               created))
    assert json.loads(forged)["time"].startswith("2026-01-02") and json.loads(forged)["level"] == "INFO"
    separators = JSTJsonFormatter().format(_record("a\u2028b\u2029c\x85d", created))
    assert len(separators.splitlines()) == 1 and json.loads(separators)["message"] == "a\u2028b\u2029c\x85d"
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        line = JSTJsonFormatter().format(_record("boom", created, sys.exc_info()))
    assert len(line.splitlines()) == 1 and "ZeroDivisionError" in json.loads(line)["exc"]


def test_request_log_is_one_json_line_per_request(client, caplog):
    caplog.set_level(logging.INFO, logger="kanri")
    client.get("/login")
    client.get("/healthz")
    client.get("/no-such-page")
    records = [r for r in caplog.records if r.name == "kanri.request"]
    assert len(records) == 3
    formatter = JSTJsonFormatter()
    lines = [json.loads(formatter.format(r)) for r in records]
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("GET", "/login", 200), ("GET", "/healthz", 200), ("GET", "(no route)", 404)]
    for line in lines:
        assert line["time"].endswith("+09:00")
        when = datetime.fromisoformat(line["time"])
        assert abs(datetime.now(UTC) - when) < timedelta(minutes=1)
        assert len(line["request_id"]) == 32
