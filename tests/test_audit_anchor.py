"""Audit chain anchors outside the database: `flask audit anchor` / `flask audit verify` through the real CLI.

Deleting the newest events of a chain leaves a chain that still verifies by itself; only the
anchor file (chain heads written outside the database) shows that events are missing.
"""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import audit
from app.audit_anchor import ANCHOR_FILE
from app.config import from_environment
from app.extensions import db
from app.models import Tenant
from app.tenancy import tenant_scope
from tests.conftest import cli_output, password_step


def _anchor_file(app) -> Path:
    return Path(app.config["KANRI_AUDIT_ANCHOR_DIR"]) / ANCHOR_FILE


def _lines(app) -> list[str]:
    return _anchor_file(app).read_text(encoding="utf-8").splitlines(keepends=True)


def _write_lines(app, lines: list[str]) -> None:
    _anchor_file(app).write_text("".join(lines), encoding="utf-8")


def _last_seq(app, code: str) -> int:
    with app.app_context():
        return db.session.execute(sa.text(
            "SELECT max(seq) FROM audit_events WHERE chain_id = (SELECT id FROM tenants WHERE code = :c)"),
            {"c": code}).scalar_one() or 0


def _delete_newest(app, code: str, count: int) -> None:
    """What someone with write access to the database alone can do: cut the chain's end off."""
    last = _last_seq(app, code)
    with app.app_context():
        db.session.execute(sa.text(
            "DELETE FROM audit_events WHERE chain_id = (SELECT id FROM tenants WHERE code = :c) AND seq > :s"),
            {"c": code, "s": last - count})
        db.session.commit()


def _record(app, code: str, times: int = 1) -> None:
    with app.app_context():
        tenant = Tenant.by_code(code)
        with tenant_scope(tenant):
            for _ in range(times):
                audit.record("test.after_anchor", actor_login="operator", target="thing:1")
            db.session.commit()


def _invoke(runner, *args):
    result = runner.invoke(args=["audit", *args])
    return result, cli_output(result)


@pytest.fixture
def audited(app, client, make_tenant):
    """Two tenants with real login failures in their chains, plus the system chain (unknown company)."""
    make_tenant("anchor-a")
    make_tenant("anchor-b")
    for company in ("anchor-a", "anchor-b", "anchor-b", "anchor-b", "anchor-b", "anchor-b", "no-such-co"):
        password_step(client, company, "admin", "wrong password " * 2)
    return app


def test_truncating_a_tenant_chain_is_reported_with_the_number_of_missing_events(audited, runner):
    app = audited
    result, text = _invoke(runner, "anchor")
    assert result.exit_code == 0, text
    assert "OK" in result.output
    before = _last_seq(app, "anchor-b")
    _delete_newest(app, "anchor-b", 3)
    assert _last_seq(app, "anchor-b") == before - 3

    result, text = _invoke(runner, "verify")
    assert result.exit_code == 1, text
    assert "anchor-b" in text and "3 件が失われています" in text and "3 events missing" in text
    assert f"seq {before}" in text and f"seq {before - 3}" in text
    assert "anchor-a" not in text  # the intact tenant is not blamed
    # the chain alone still verifies: the truncation is only visible through the anchor
    assert "OK: 監査ログ" in result.output

    result, text = _invoke(runner, "verify", "--tenant", "anchor-b", "--reason", "テスト")
    assert result.exit_code == 1 and "3 events missing" in text
    result, text = _invoke(runner, "verify", "--tenant", "anchor-a", "--reason", "テスト")
    assert result.exit_code == 0, text


def test_deleting_all_events_of_a_tenant_is_truncation_too(audited, runner):
    app = audited
    assert _invoke(runner, "anchor")[0].exit_code == 0
    count = _last_seq(app, "anchor-a")
    _delete_newest(app, "anchor-a", count)
    result, text = _invoke(runner, "verify")
    assert result.exit_code == 1
    assert "anchor-a" in text and f"{count} events missing" in text


def test_truncation_then_new_events_is_detected_as_a_rewritten_chain(audited, runner):
    """Cut 2 events, let 3 new ones arrive: the chain is longer than the anchor again, and valid,
    but the row at the anchored seq is not the anchored one."""
    app = audited
    assert _invoke(runner, "anchor")[0].exit_code == 0
    _delete_newest(app, "anchor-b", 2)
    _record(app, "anchor-b", times=3)
    result, text = _invoke(runner, "verify")
    assert result.exit_code == 1, text
    assert "OK: 監査ログ" in result.output  # the chain by itself is consistent
    assert "anchor-b" in text and "rewritten after the anchor" in text


def test_events_added_after_an_anchor_are_fine(audited, client, runner):
    app = audited
    assert _invoke(runner, "anchor")[0].exit_code == 0
    _record(app, "anchor-a", times=2)
    password_step(client, "anchor-b", "admin", "wrong password " * 2)
    result, text = _invoke(runner, "verify")
    assert result.exit_code == 0, text
    assert "本のチェーンが最新のアンカー" in result.output
    assert "NG" not in text and "警告" not in text


def test_anchoring_twice_appends_and_keeps_earlier_lines(audited, runner):
    app = audited
    assert _invoke(runner, "anchor")[0].exit_code == 0
    first = _lines(app)
    assert len(first) == 3  # system chain, anchor-a, anchor-b
    entries = [json.loads(line) for line in first]
    assert [e["n"] for e in entries] == [1, 2, 3]
    assert [e["tenant"] for e in entries] == [None, "anchor-a", "anchor-b"]
    assert all(e["at"].endswith("+09:00") for e in entries)
    b = entries[2]
    assert b["seq"] == _last_seq(app, "anchor-b") and len(b["hash"]) == 64 and b["event_id"]
    assert b["chain"] == b["tenant_id"]

    _record(app, "anchor-a")
    result, text = _invoke(runner, "anchor")
    assert result.exit_code == 0, text
    second = _lines(app)
    assert second[:3] == first  # appended, earlier lines byte for byte unchanged
    assert len(second) == 6
    assert json.loads(second[3])["prev"] == entries[2]["mac"]
    assert json.loads(second[4])["seq"] == entries[1]["seq"] + 1
    assert _invoke(runner, "verify")[0].exit_code == 0
    # each run is itself an audit event of the system chain, naming the last line written
    with app.app_context():
        details = db.session.execute(sa.text(
            "SELECT details FROM audit_events WHERE action = 'audit.anchor' ORDER BY seq DESC")).scalars().first()
    assert json.loads(details)["line"] == 6


def test_anchor_file_and_directory_permissions(audited, runner):
    app = audited
    assert _invoke(runner, "anchor")[0].exit_code == 0
    path = _anchor_file(app)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.chmod(0o644)  # loosened by hand: the next run tightens it again
    assert _invoke(runner, "anchor")[0].exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _edit_seq(lines):
    entry = json.loads(lines[1])
    entry["seq"] += 5  # still valid JSON, plausible content, wrong mac
    lines[1] = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
    return lines, 2


def _delete_middle(lines):
    del lines[1]
    return lines, 2


def _swap(lines):
    lines[0], lines[1] = lines[1], lines[0]
    return lines, 1


def _cut_in_half(lines):
    lines[-1] = lines[-1][:40]
    return lines, len(lines)


@pytest.mark.parametrize("tamper", [_edit_seq, _delete_middle, _swap, _cut_in_half],
                         ids=["edited", "deleted", "reordered", "partial"])
def test_a_tampered_anchor_file_is_reported_with_file_and_line(audited, runner, tamper):
    app = audited
    assert _invoke(runner, "anchor")[0].exit_code == 0
    lines, bad_line = tamper(_lines(app))
    _write_lines(app, lines)
    result, text = _invoke(runner, "verify")
    assert result.exit_code == 1, text
    assert str(_anchor_file(app)) in text
    assert f"{bad_line} 行目" in text and f"line {bad_line}" in text
    # anchoring onto a broken file would hide the damage: refused, nothing appended
    result, text = _invoke(runner, "anchor")
    assert result.exit_code == 1 and f"line {bad_line}" in text
    assert _lines(app) == lines


def test_anchor_file_cut_at_its_end_is_reported(audited, runner):
    """Removing the last lines leaves a consistent line chain; the database's record of the run shows it."""
    app = audited
    assert _invoke(runner, "anchor")[0].exit_code == 0
    _write_lines(app, _lines(app)[:1])
    result, text = _invoke(runner, "verify")
    assert result.exit_code == 1, text
    assert str(_anchor_file(app)) in text and "line 3 missing" in text


def test_a_tenant_that_vanished_from_the_database_is_reported(audited, runner):
    app = audited
    assert _invoke(runner, "anchor")[0].exit_code == 0
    tenant_id = _tenant_id(app, "anchor-a")
    count = _last_seq(app, "anchor-a")
    with app.app_context():  # every row of the tenant, children first, then the tenant itself
        for table in reversed(db.metadata.sorted_tables):
            if "tenant_id" in table.c:
                db.session.execute(table.delete().where(table.c.tenant_id == tenant_id))
        db.session.execute(sa.text("DELETE FROM tenants WHERE id = :i"), {"i": tenant_id})
        db.session.commit()
    result, text = _invoke(runner, "verify")
    assert result.exit_code == 1, text
    assert "anchor-a" in text and "vanished" in text and f"{count} events missing" in text


def _tenant_id(app, code: str) -> int:
    with app.app_context():
        return Tenant.by_code(code).id


def test_truncated_chain_is_not_anchored_again(audited, runner):
    """Otherwise the next daily anchor would bless the shortened chain and hide the loss."""
    app = audited
    assert _invoke(runner, "anchor")[0].exit_code == 0
    _delete_newest(app, "anchor-b", 2)
    result, text = _invoke(runner, "anchor")
    assert result.exit_code == 1 and "anchor-b" in text and "2 events missing" in text
    new = [json.loads(line) for line in _lines(app)[3:]]
    assert {e["tenant"] for e in new} == {None, "anchor-a"}
    result, text = _invoke(runner, "verify")
    assert result.exit_code == 1 and "2 events missing" in text


def test_without_an_anchor_verify_checks_the_chains_and_warns(audited, runner):
    result, text = _invoke(runner, "verify")
    assert result.exit_code == 0, text
    assert result.output.startswith("OK")
    assert "監査アンカーがありません" in text and "no audit anchor exists" in text


def test_a_lost_anchor_file_is_not_mistaken_for_no_anchor_yet(audited, runner):
    app = audited
    assert _invoke(runner, "anchor")[0].exit_code == 0
    _anchor_file(app).unlink()
    result, text = _invoke(runner, "verify")
    assert result.exit_code == 1 and "line 3 missing" in text


def test_anchor_dir_setting_defaults_to_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("KANRI_AUDIT_ANCHOR_DIR", raising=False)
    assert from_environment(str(tmp_path))["KANRI_AUDIT_ANCHOR_DIR"] == str(tmp_path / "audit-anchors")
    monkeypatch.setenv("KANRI_AUDIT_ANCHOR_DIR", str(tmp_path / "elsewhere"))
    assert from_environment(str(tmp_path))["KANRI_AUDIT_ANCHOR_DIR"] == str(tmp_path / "elsewhere")
