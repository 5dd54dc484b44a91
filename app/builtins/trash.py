"""Built-in plugin: 削除済み (soft delete) — ``flask trash purge`` (the daily job that removes for good what was
deleted more than ``KANRI_TRASH_DAYS`` days ago, for every soft-deletable model of every plugin, and the plugins'
expired working rows through ``purge_expired``) and the audit labels of the purge."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.hookspecs import hookimpl

trash_cli = AppGroup("trash", help="削除済み（ごみ箱）のデータ: 保存期間を過ぎたものの完全削除")


@trash_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="削除せず、削除される件数（テナント・テーブルごと）だけを表示します")
def trash_purge(dry_run):
    """削除から KANRI_TRASH_DAYS（30）日を過ぎたデータと、有効期限切れの一時データを完全に削除します（毎日実行・何度実行しても同じ結果）。"""
    from app.extensions import db
    from app.models import Tenant
    from app.products import plugin_manager
    from app.softdelete import purge_expired, trash_days
    from app.timeutil import utcnow

    results = purge_expired(dry_run=dry_run)
    expired = [item for batch in plugin_manager().hook.purge_expired(now=utcnow(), dry_run=dry_run)
               for item in (batch or ())]
    codes = {t.id: t.code for t in db.session.execute(db.select(Tenant)).scalars()}
    if not dry_run:
        db.session.commit()
    prefix = "[dry-run] " if dry_run else ""
    verb = "削除します（まだ何も変更していません）" if dry_run else "完全に削除しました"
    if not results:
        click.echo(f"削除から{trash_days()}日を過ぎた削除済みデータはありません。")
    for item in results:
        click.echo(f"{prefix}{codes.get(item.tenant_id, item.tenant_id)}: {item.table} {item.count} 行を{verb}")
    for item in expired:
        click.echo(f"{prefix}{codes.get(item.tenant_id, item.tenant_id)}: {item.table} {item.count} 行"
                   f"（有効期限切れの一時データ）を{verb}")


@hookimpl
def register_commands(cli):
    """``flask trash purge [--dry-run]``."""
    cli.add_command(trash_cli)


@hookimpl
def audit_action_labels():
    """Japanese label of the daily purge of 削除済み rows."""
    return {"trash.purge": "削除済みデータの完全削除（保存期間終了）"}
