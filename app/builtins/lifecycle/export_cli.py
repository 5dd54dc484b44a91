"""``flask tenant export | export-requests | export-reject``: parse arguments, call ``export``, print in Japanese."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.cli import operator_name, tenant_or_fail
from app.models import Tenant
from app.operator import operator_command
from app.timeutil import format_jst

from . import export


@click.command("export")
@click.argument("code")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="書き出す zip ファイル（既存のファイルは上書きしません）")
@click.option("--request", "request_id", type=int, default=None, help="対応済みにする書き出し申請の番号")
@click.option("--note", default=None, help="申請者への引き渡し方法などの連絡（--request のとき、メールに載ります）")
@operator_command
@with_appcontext
def export_command(code, out, request_id, note, reason, operator):
    """テナント CODE のデータすべて（テーブルごとの CSV と JSON、復号済み、目録付き）を権限 0600 の zip に書き出します。"""
    tenant = tenant_or_fail(code)
    operator = operator_name(operator)
    if request_id is not None:
        try:
            status, owner = export.find_request(request_id)
        except export.ExportError as exc:
            raise click.UsageError(str(exc)) from None
        if owner.id != tenant.id:
            raise click.UsageError(f"書き出し申請 {request_id} はテナント {code} の申請ではありません。")
        if status != export.STATUS_OPEN:
            raise click.UsageError(f"書き出し申請 {request_id} は既に{export.STATUS_LABELS.get(status, status)}です。")
    if out.exists():
        raise click.UsageError(f"{out} は既に存在します。上書きはしません。")
    bar = None
    try:
        def totals(n):
            nonlocal bar
            bar = click.progressbar(length=max(n, 1), label=f"{code} を書き出し中", show_pos=True)
            bar.__enter__()

        result = export.export_tenant(tenant, out, totals=totals, progress=lambda k: bar.update(k))
    except export.ExportError as exc:
        click.echo(f"NG: {exc}", err=True)
        raise SystemExit(1) from None
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    tenant = Tenant.by_code(code)  # the export emptied the session
    try:
        export.record_export(tenant, result, reason=reason, request_id=request_id, operator=operator, note=note)
    except export.ExportError as exc:
        click.echo(f"NG: {exc}（ファイルは書き出し済みです: {out}）", err=True)
        raise SystemExit(1) from None
    click.echo(f"OK: {out} に {len(result.counts)} テーブル {result.total} 行を書き出しました（権限 0600）。")
    for name, count in result.counts.items():
        click.echo(f"  {name}: {count}")
    if request_id is not None:
        click.echo(f"書き出し申請 {request_id} を対応済みにし、管理者にメールを送りました。")


@click.command("export-requests")
@operator_command
@with_appcontext
def export_requests_command(reason, operator):
    """全テナントの未対応の書き出し申請を古い順に表示します（表示したテナントの操作ログに記録されます）。"""
    rows = export.open_requests_all_tenants(reason, operator_name(operator))
    if not rows:
        click.echo("（申請中のデータ書き出しはありません）")
        return
    click.echo("番号".ljust(8) + "会社コード".ljust(16) + "申請日時（JST）".ljust(24) + "申請者")
    for row in rows:
        click.echo(f"{str(row['id']).ljust(8)}{row['tenant'].ljust(16)}{format_jst(row['created_at']).ljust(24)}"
                   f"{row['requested_login']}")
        if row["note"]:
            click.echo(f"        連絡事項: {' '.join(row['note'].split())}")
    click.echo(f"対応: flask tenant export CODE --out FILE.zip --request 番号 --reason 理由 / 却下: "
               f"flask tenant export-reject 番号 --reason 理由（{len(rows)} 件）")


@click.command("export-reject")
@click.argument("request_id", type=int)
@operator_command
@with_appcontext
def export_reject_command(request_id, reason, operator):
    """未対応の書き出し申請を却下し、テナントの管理者に理由をメールします（操作ログにも残ります）。"""
    try:
        export.reject_request(request_id, reason, operator_name(operator))
    except export.ExportError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"OK: 書き出し申請 {request_id} を却下し、管理者にメールを送りました。")


def register(cli) -> None:
    """Add the commands to the core's ``flask tenant`` group."""
    group = cli.commands["tenant"]
    for command in (export_command, export_requests_command, export_reject_command):
        group.add_command(command)
