"""Maintenance windows: flask maintenance on/off/schedule/cancel/status, the 503 screen, the banner, audit."""
from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from app.extensions import db
from app.models import AuditEvent
from app.timeutil import JST, utcnow
from tests.conftest import cli_output, login

PAGES = ["/", "/login", "/account/sessions", "/account/login-history"]


def _jst(delta: timedelta) -> str:
    return (utcnow() + delta).astimezone(JST).strftime("%Y-%m-%d %H:%M")


def _run(runner, *args):
    return runner.invoke(args=["maintenance", *args, *(["--operator", "ops-taro"] if args[0] != "status" else [])])


def _actions(app) -> list[tuple[str, int, str]]:
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.id).execution_options(all_tenants=True)).scalars().all()
        return [(row.action, row.chain_id, row.actor_login) for row in rows if row.action.startswith("maintenance.")]


def _windows(app) -> int:
    with app.app_context():
        return db.session.execute(sa.text("SELECT count(*) FROM maintenance_windows")).scalar_one()


def _assert_maintenance(response, *texts):
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "ただいまメンテナンス中です" in body
    assert response.headers["Cache-Control"] == "no-store"
    for text in texts:
        assert text in body
    return body


def test_on_and_off_for_anonymous_and_logged_in_users(app, runner, make_tenant):
    tenant = make_tenant()
    user = app.test_client()
    login(user, tenant.code, tenant.admin_login)
    assert user.get("/").status_code == 200
    until = _jst(timedelta(hours=2))

    result = _run(runner, "on", "--message", "サーバー更新のため停止しています <b>", "--until", until)
    assert result.exit_code == 0, cli_output(result)
    assert "メンテナンスを開始しました" in cli_output(result)

    anonymous = app.test_client()
    for client in (anonymous, user):
        for page in PAGES:
            response = client.get(page)
            body = _assert_maintenance(response, "サーバー更新のため停止しています &lt;b&gt;", f"{until} JST")
            assert "<b>" not in body.split("maintenance-message")[1][:80]
            assert 0 < int(response.headers["Retry-After"]) <= 2 * 3600

    health = anonymous.get("/healthz")
    assert health.status_code == 200
    assert health.get_json() == {"status": "ok", "maintenance": True}
    assert anonymous.get("/static/kanri.css").status_code == 200

    status = _run(runner, "status")
    assert status.exit_code == 0 and "[実施中]" in cli_output(status)
    assert _run(runner, "on", "--message", "二重").exit_code == 1

    result = _run(runner, "off")
    assert result.exit_code == 0, cli_output(result)
    assert user.get("/").status_code == 200
    assert anonymous.get("/login").status_code == 200
    assert anonymous.get("/healthz").get_json() == {"status": "ok", "maintenance": False}
    assert _run(runner, "off").exit_code == 1
    assert "予定はありません" in cli_output(_run(runner, "status"))
    assert _actions(app) == [("maintenance.on", 0, "operator:ops-taro"), ("maintenance.off", 0, "operator:ops-taro")]


def test_on_without_end_uses_default_retry_after(app, runner):
    assert _run(runner, "on", "--message", "緊急メンテナンス").exit_code == 0
    response = app.test_client().get("/login")
    _assert_maintenance(response, "緊急メンテナンス", "終了時刻は未定です")
    assert response.headers["Retry-After"] == "600"


def test_schedule_banner_within_lead_then_on_and_off_by_itself(app, runner, make_tenant):
    tenant = make_tenant()
    start, end = _jst(timedelta(hours=100)), _jst(timedelta(hours=102))
    result = _run(runner, "schedule", "--start", start, "--end", end, "--message", "DB更新")
    assert result.exit_code == 0, cli_output(result)
    client = app.test_client()

    body = client.get("/login").get_data(as_text=True)          # 100 h ahead: outside the 72 h lead
    assert "メンテナンスのお知らせ" not in body

    start_at = (utcnow() + timedelta(hours=100)).replace(second=0, microsecond=0) - timedelta(minutes=1)
    with time_machine.travel(start_at - timedelta(hours=24), tick=False):
        page = client.get("/login")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert f"メンテナンスのお知らせ: {start} JST から {end} JST まで（約2時間）" in body and "DB更新" in body
        login(client, tenant.code, tenant.admin_login)
        assert "メンテナンスのお知らせ" in client.get("/").get_data(as_text=True)
    with time_machine.travel(start_at + timedelta(minutes=2), tick=False):
        response = client.get("/")
        _assert_maintenance(response, "DB更新", f"{end} JST")
        assert int(response.headers["Retry-After"]) <= 2 * 3600
        assert client.get("/healthz").get_json()["maintenance"] is True
    with time_machine.travel(start_at + timedelta(hours=2, minutes=2), tick=False):
        assert client.get("/login").status_code == 200
        assert "メンテナンスのお知らせ" not in client.get("/login").get_data(as_text=True)
        assert client.get("/healthz").get_json()["maintenance"] is False


@__import__("pytest").mark.config(KANRI_MAINTENANCE_NOTICE_HOURS=1)
def test_lead_time_is_a_setting(app, runner):
    assert _run(runner, "schedule", "--start", _jst(timedelta(hours=3)), "--end", _jst(timedelta(hours=4)),
                "--message", "短い予告").exit_code == 0
    assert "メンテナンスのお知らせ" not in app.test_client().get("/login").get_data(as_text=True)


def test_status_and_cancel(app, runner):
    assert _run(runner, "schedule", "--start", _jst(timedelta(hours=5)), "--end", _jst(timedelta(hours=6)),
                "--message", "予定その1").exit_code == 0
    status = cli_output(_run(runner, "status"))
    assert "[予定] 番号" in status and "予定その1" in status and "JST" in status
    with app.app_context():
        window_id = db.session.execute(sa.text("SELECT id FROM maintenance_windows")).scalar_one()
    result = _run(runner, "cancel", str(window_id))
    assert result.exit_code == 0, cli_output(result)
    assert _windows(app) == 0
    assert "メンテナンスのお知らせ" not in app.test_client().get("/login").get_data(as_text=True)
    assert _run(runner, "cancel", str(window_id)).exit_code == 2
    assert [a for a, _, _ in _actions(app)] == ["maintenance.schedule", "maintenance.cancel"]


def test_bad_input_writes_nothing(app, runner):
    cases = [
        ("on", "--message", "x", "--until", "明日"),
        ("on", "--message", "x", "--until", _jst(-timedelta(hours=1))),
        ("on", "--message", "   "),
        ("schedule", "--start", "2026/12/01 01:00", "--end", _jst(timedelta(hours=3)), "--message", "x"),
        ("schedule", "--start", _jst(-timedelta(hours=1)), "--end", _jst(timedelta(hours=3)), "--message", "x"),
        ("schedule", "--start", _jst(timedelta(hours=3)), "--end", _jst(timedelta(hours=2)), "--message", "x"),
        ("schedule", "--start", _jst(timedelta(hours=3)), "--end", _jst(timedelta(hours=3)), "--message", "x"),
        ("schedule", "--start", "2026-13-01 00:00", "--end", "2026-13-01 01:00", "--message", "x"),
    ]
    for args in cases:
        result = _run(runner, *args)
        assert result.exit_code == 2, (args, cli_output(result))
        assert "エラー:" in cli_output(result)
    assert _windows(app) == 0
    assert _actions(app) == []


def test_overlapping_schedule_is_refused(app, runner):
    assert _run(runner, "schedule", "--start", _jst(timedelta(hours=5)), "--end", _jst(timedelta(hours=7)),
                "--message", "a").exit_code == 0
    result = _run(runner, "schedule", "--start", _jst(timedelta(hours=6)), "--end", _jst(timedelta(hours=8)),
                  "--message", "b")
    assert result.exit_code == 2 and "重なっています" in cli_output(result)
    assert _windows(app) == 1


def test_audit_details_name_the_window(app, runner):
    assert _run(runner, "on", "--message", "理由つき").exit_code == 0
    with app.app_context():
        event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "maintenance.on")
                                       .execution_options(all_tenants=True)).scalar_one()
        assert event.tenant_id is None and event.target.startswith("maintenance:")
        assert json.loads(event.details)["message"] == "理由つき"


def test_restore_flag_still_answers_503_without_reading_windows(app, monkeypatch):
    """During a restore the database is being replaced: the flag's 503 wins and no window is read."""
    from app.builtins.transparency import maintenance

    def _no_query(*_args, **_kwargs):
        raise AssertionError("maintenance windows read during a restore")

    flag = app.config["KANRI_MAINTENANCE_FLAG"]
    open(flag, "w").close()
    try:
        with monkeypatch.context() as patch:
            patch.setattr(maintenance, "_open_rows", _no_query)
            response = app.test_client().get("/login")
        assert response.status_code == 503 and "データの復元作業" in response.get_data(as_text=True)
    finally:
        import os
        os.remove(flag)
    assert app.test_client().get("/login").status_code == 200


@__import__("pytest").mark.config(KANRI_MAINTENANCE_CACHE_SECONDS=30)
def test_cache_keeps_the_answer_for_its_ttl_in_another_process(app):
    from app.builtins.transparency import maintenance

    with app.app_context():
        assert maintenance.active_window() is None
        db.session.add(maintenance.MaintenanceWindow(starts_at=utcnow() - timedelta(minutes=1), ends_at=None,
                                                     message="他のインスタンスから", created_by="ops"))
        db.session.commit()
        assert maintenance.active_window() is None       # cached: another instance's change shows within the TTL
        maintenance.forget_cache()
        assert maintenance.active_window().message == "他のインスタンスから"
