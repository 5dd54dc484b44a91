"""``flask incident notify | status | list``: parse arguments, call ``incidents``, print in Japanese.

Addresses are never printed: a recipient is its company code and login id.
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.cli import fail
from app.operator import operator_name, operator_option, reason_option

from . import incidents, notices


@click.group("incident")
def incident_cli():
    """セキュリティインシデント: 対象テナントの管理者への通知と配信状況の確認"""


@incident_cli.command("notify")
@click.option("--subject", required=True, help=f"件名（{incidents.SUBJECT_MAX}文字以内。お知らせのタイトルにもなります）")
@click.option("--body-file", required=True, help="本文の Markdown ファイル（UTF-8）")
@click.option("--tenant", "tenant_codes", multiple=True, help="対象の会社コード（複数指定可）")
@click.option("--product", default=None, help="対象の製品コード（その製品の全テナント）")
@click.option("--all", "everyone", is_flag=True, help="全製品の全テナント")
@reason_option
@operator_option
@with_appcontext
def notify_command(subject, body_file, tenant_codes, product, everyone, reason, operator):
    """対象テナントの有効な管理者全員にメールで通知し、お知らせとしても表示します。"""
    try:
        body = notices.read_body_file(body_file)
        incident, queued, tenants = incidents.notify(subject=subject, body=body, tenant_codes=tenant_codes,
                                                     product=product, everyone=everyone,
                                                     operator=operator_name(operator), reason=reason)
    except notices.NoticeError as exc:
        fail(exc)
    click.echo(f"インシデント番号 {incident.id} を記録しました（{len(tenants)} テナント）。")
    click.echo(f"メール {queued} 通を送信キューに入れました。送信状況: flask incident status {incident.id}")


@incident_cli.command("status")
@click.argument("incident_id", type=int)
@with_appcontext
def status_command(incident_id):
    """インシデント通知メールの送信待ち・送信済み・失敗の件数と、失敗した宛先の利用者を表示します。"""
    try:
        result = incidents.status(incident_id)
    except notices.NoticeError as exc:
        fail(exc)
    incident = result.incident
    click.echo(f"インシデント番号 {incident.id}: {incident.subject}（{incidents.format_jst(incident.created_at)}、"
               f"{incident.created_by}）")
    click.echo(f"対象テナント: {result.tenants}")
    click.echo(f"送信待ち: {result.queued}  送信済み: {result.delivered}  失敗: {result.failed}")
    if result.failures:
        click.echo("送信できなかった宛先（会社コード ログインID: 理由）:")
        for code, login_id, why in result.failures:
            click.echo(f"  {code} {login_id}: {why}")
        click.echo("再送するには flask mail retry --failed（宛先を直した後）")


@incident_cli.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="表示する件数")
@with_appcontext
def list_command(limit):
    """新しいインシデントを日時・テナント・宛先数・件名とともに表示します。"""
    rows = incidents.list_incidents(limit)
    if not rows:
        click.echo("インシデントの記録はありません。")
        return
    for row in rows:
        click.echo(f"番号 {row.incident.id} {row.created_jst} {row.tenants} テナント 宛先 {row.recipients} 名 "
                   f"{row.incident.created_by}: {row.incident.subject}")
