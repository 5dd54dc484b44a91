"""``flask maintenance on | off | schedule | cancel | status``: parse arguments, call ``maintenance``, print in Japanese.

Times are typed and shown in Japan time. Unusable input exits 2 and writes nothing; a command that does not
fit the current state (``off`` with no maintenance running) exits 1.
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.cli import operator_name, run_or_fail
from app.timeutil import format_jst, utcnow

from . import maintenance, notices


def _run(action, *args):
    return run_or_fail(maintenance.MaintenanceError, action, *args)


def _describe(window) -> str:
    end = format_jst(window.ends_at) if window.ends_at else "未定（flask maintenance off で終了）"
    return f"番号 {window.id}: {format_jst(window.starts_at)} から {end} まで — {window.message}"


_OPERATOR = click.option("--operator", default=None, help="記録に残す担当者名（省略時は OS のユーザー名）")


@click.group("maintenance")
def maintenance_cli():
    """メンテナンス: 実施中はすべての画面が 503（メンテナンス中）を返します"""


@maintenance_cli.command("on")
@click.option("--message", required=True, help="メンテナンス画面に表示する文")
@click.option("--until", default=None, help="終了予定（日本時間 YYYY-MM-DD HH:MM、省略時は off まで）")
@_OPERATOR
@with_appcontext
def on_command(message, until, operator):
    """今すぐメンテナンスを開始します。"""
    window = _run(maintenance.turn_on, message, until, operator_name(operator))
    click.echo(f"メンテナンスを開始しました。{_describe(window)}")


@maintenance_cli.command("off")
@_OPERATOR
@with_appcontext
def off_command(operator):
    """実施中のメンテナンスを今すぐ終了します。"""
    window = _run(maintenance.turn_off, operator_name(operator))
    click.echo(f"メンテナンスを終了しました（番号 {window.id}）。")


@maintenance_cli.command("schedule")
@click.option("--start", required=True, help="開始（日本時間 YYYY-MM-DD HH:MM）")
@click.option("--end", required=True, help="終了（日本時間 YYYY-MM-DD HH:MM）")
@click.option("--message", required=True, help="お知らせとメンテナンス画面に表示する文")
@_OPERATOR
@with_appcontext
def schedule_command(start, end, message, operator):
    """メンテナンスを予定します（時刻になると自動で開始・終了します）。"""
    window = _run(maintenance.schedule, start, end, message, operator_name(operator))
    click.echo(f"メンテナンスを予定しました。{_describe(window)}")
    for notice in notices.by_source(maintenance.notice_source(window)):
        click.echo(f"お知らせ番号 {notice.id}「{notice.title}」を全製品のテナントに掲載しました。")


@maintenance_cli.command("cancel")
@click.argument("window_id", type=int)
@_OPERATOR
@with_appcontext
def cancel_command(window_id, operator):
    """予定中のメンテナンスを取り消します。"""
    withdrawn = _run(maintenance.cancel, window_id, operator_name(operator))
    click.echo(f"メンテナンス予定 番号 {window_id} を取り消しました。")
    for notice_id in withdrawn:
        click.echo(f"お知らせ番号 {notice_id} を取り下げました。")


@maintenance_cli.command("status")
@with_appcontext
def status_command():
    """実施中と予定中のメンテナンスを一覧表示します。"""
    now = utcnow()
    windows = maintenance.open_windows()
    if not windows:
        click.echo("メンテナンスの予定はありません（現在は通常稼働中です）。")
        return
    for window in windows:
        state = "実施中" if window.starts_at <= now else "予定"
        click.echo(f"[{state}] {_describe(window)}")
