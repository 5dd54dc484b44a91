"""``flask backup run | list | verify | restore`` and ``flask tenant purge-expired``: parse arguments, call
``backup`` / ``purge``, print in Japanese."""
from __future__ import annotations

import json
import logging

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.cli import operator_name
from app.extensions import db
from app.mailer import send_mail
from app.operator import operator_command
from app.timeutil import format_jst, to_jst, utcnow

from . import backup, purge

log = logging.getLogger("kanri.backup")
backup_cli = AppGroup("backup", help="データベースのバックアップ（取得・一覧・検証・復元）")


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)


def _notify_ops(backup_id: str | None, failures: list[str], written: list[str]) -> None:
    """Log the failure as one JSON line and queue a mail to KANRI_OPS_EMAIL (committed here)."""
    log.error(json.dumps({"event": "backup.failed", "backup": backup_id, "failures": failures, "written": written},
                         ensure_ascii=False))
    address = current_app.config.get("KANRI_OPS_EMAIL")
    if not address:
        log.error(json.dumps({"event": "backup.no_ops_email", "message": "KANRI_OPS_EMAIL is not set"}))
        return
    try:
        send_mail(address, "バックアップに失敗しました", "backup_failed", backup_id=backup_id, failures=failures,
                  written=written, at=to_jst(utcnow()).strftime("%Y-%m-%d %H:%M:%S JST"))
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 - the database may be what failed; the log line already says so
        db.session.rollback()
        log.exception(json.dumps({"event": "backup.mail_failed", "error": type(exc).__name__}))


@backup_cli.command("run")
def backup_run():
    """データベースをすべてのバックアップ先（KANRI_BACKUP_SITES）に保存します。失敗した先があれば終了コード 1。"""
    try:
        result = backup.run()
    except backup.BackupError as exc:
        click.echo(f"NG: バックアップを作成できませんでした: {exc}", err=True)
        _notify_ops(None, [str(exc)], [])
        raise SystemExit(1) from None
    manifest = result.manifest
    click.echo(f"バックアップ {manifest['id']}（{manifest['created_at']}、{_size(manifest['size'])}、"
               f"sha256 {manifest['sha256'][:16]}…）")
    for outcome in result.outcomes:
        if outcome.ok:
            removed = f"、古い世代を削除: {', '.join(outcome.removed)}" if outcome.removed else ""
            click.echo(f"  OK [{outcome.number}] {outcome.site}{removed}")
        else:
            click.echo(f"  NG [{outcome.number}] {outcome.error}", err=True)
    if result.failed:
        _notify_ops(manifest["id"], [outcome.error for outcome in result.failed],
                    [outcome.site for outcome in result.outcomes if outcome.ok])
        raise SystemExit(1)
    log.info(json.dumps({"event": "backup.done", "backup": manifest["id"], "size": manifest["size"],
                         "sites": len(result.outcomes)}))


@backup_cli.command("list")
def backup_list():
    """全バックアップ先の世代を並べて表示します。読めない先や欠けた世代があれば終了コード 1。"""
    try:
        listing = backup.list_generations()
    except backup.BackupError as exc:
        click.echo(f"NG: {exc}", err=True)
        raise SystemExit(1) from None
    for site in listing.sites:
        state = f"  読めません: {listing.errors[site.index]}" if site.index in listing.errors else ""
        click.echo(f"[{site.index}] {site.name}{state}")
    header = "ID".ljust(24) + "作成（JST）".ljust(28) + "サイズ".ljust(10) + "".join(
        f"[{site.index}]".ljust(8) for site in listing.sites)
    click.echo(header)
    incomplete = bool(listing.errors)
    labels = {"ok": "○", "partial": "△不完全", None: "×欠落"}
    for backup_id, where in listing.table.items():
        manifest = listing.manifests.get(backup_id, {})
        cells = "".join(("?" if site.index in listing.errors else labels[where.get(site.index)]).ljust(8)
                        for site in listing.sites)
        missing = listing.missing(backup_id)
        flag = f"  ← バックアップ先 {', '.join(map(str, missing))} にありません" if missing else ""
        incomplete = incomplete or bool(missing)
        click.echo(f"{backup_id.ljust(24)}{str(manifest.get('created_at', '-')).ljust(28)}"
                   f"{_size(manifest.get('size')).ljust(10)}{cells}{flag}")
    if not listing.table:
        click.echo("（バックアップはまだありません）")
    if incomplete:
        raise SystemExit(1)


@backup_cli.command("verify")
@click.argument("backup_id", required=False)
@click.option("--site", "site_number", type=int, default=None, help="バックアップ先の番号（flask backup list の [N]）")
def backup_verify(backup_id, site_number):
    """世代をダウンロードして検査・復号し、作業用データベースに復元して確かめます。不一致があれば終了コード 1。"""
    try:
        results = backup.verify(backup_id, site_number)
    except backup.BackupError as exc:
        click.echo(f"NG: {exc}", err=True)
        raise SystemExit(1) from None
    failed = False
    for result in results:
        if result.ok:
            tables = len(result.facts["tables"])
            rows = sum(result.facts["tables"].values())
            click.echo(f"OK: {result.backup_id} [{result.number}] {result.site}: チェックサム・復号・"
                       f"整合性チェック・{tables} テーブル {rows} 行・監査チェーン {len(result.facts['chains'])} 本が"
                       f"マニフェストと一致しました")
        else:
            failed = True
            for problem in result.problems:
                click.echo(f"NG: {result.backup_id} [{result.number}] {result.site}: {problem}", err=True)
    if failed:
        raise SystemExit(1)


@backup_cli.command("restore")
@click.argument("backup_id")
@click.option("--site", "site_number", type=int, default=None, help="バックアップ先の番号（省略時は最初に見つかった所）")
@click.option("--yes", is_flag=True, help="確認せずに実行する")
@operator_command
def backup_restore(backup_id, site_number, yes, reason, operator):
    """検証済みのバックアップでデータベース全体を置き換えます（その間サービスは 503 を返します）。

    復元後、各テナントの操作ログに、誰がどの世代をなぜ復元したかが記録されます。"""
    if not yes:
        click.confirm(f"データベース全体をバックアップ {backup_id} の内容で置き換えます。"
                      "それ以降の変更はすべて失われます。続けますか?", abort=True)
    steps = {"download": "取得", "verify": "検証", "maintenance": "メンテナンス表示", "restore": "復元",
             "done": "完了"}
    try:
        with click.progressbar(length=len(steps), label="復元", show_eta=False,
                               item_show_func=lambda item: item) as bar:
            result = backup.restore(backup_id, site_number, progress=lambda step: (bar.update(1, steps[step])))
    except backup.BackupError as exc:
        click.echo(f"NG: {exc}", err=True)
        log.error(json.dumps({"event": "backup.restore_refused", "backup": backup_id}, ensure_ascii=False))
        raise SystemExit(1) from None
    log.warning(json.dumps({"event": "backup.restored", "backup": backup_id, "site": result.number}))
    recorded = backup.record_restored(result, reason, operator_name(operator))
    click.echo(f"OK: バックアップ {backup_id}（{result.site}）を復元しました。"
               "監査アンカーより後の監査ログは flask audit verify で欠落として報告されます。")
    click.echo(f"{recorded} テナントの操作ログに復元（理由: {reason}）を記録しました。")



@click.command("purge-expired")
@with_appcontext  # a plain click command added to a group gets no app context by itself
@click.option("--dry-run", is_flag=True, help="削除せず、削除される件数（テーブルごと）だけを表示します")
@operator_command
def purge_expired_cmd(dry_run, reason, operator):
    """契約が終了したテナントのデータをすべて削除します（JST・毎日実行）。理由を記した受領記録を残します。"""
    operator = operator_name(operator)
    results = purge.purge_expired(operator, reason, dry_run=dry_run)
    if not results:
        click.echo("契約終了により削除するテナントはありません。")
        return
    failed = False
    for result in results:
        if result.error:
            failed = True
            click.echo(f"NG: {result.code}（{result.product}）の削除に失敗しました。変更は取り消しました: {result.error}",
                       err=True)
            continue
        if dry_run:
            click.echo(f"[dry-run] {result.code}（{result.product}）: {result.total} 行を削除します（まだ何も変更していません）")
        elif result.receipt is None:
            click.echo(f"{result.code}: 他の実行が削除済みです。")
            continue
        else:
            receipt = result.receipt
            click.echo(f"削除受領記録 #{receipt.id}: {receipt.tenant_code}（{receipt.product}）契約終了日 "
                       f"{receipt.contract_end.isoformat()} / 削除 {format_jst(receipt.purged_at, seconds=True)} / "
                       f"実行者 {receipt.operator} / 理由 {receipt.reason} / 合計 {receipt.total} 行 / 通知メール {receipt.mailed_to} 通")
        for table, number in sorted(result.counts.items()):
            click.echo(f"  {table}: {number}")
    if failed:
        raise SystemExit(1)
