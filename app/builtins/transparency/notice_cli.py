"""``flask notice post | list | withdraw | deliver-due``: parse arguments, call ``notices``, print in Japanese.

Unusable input (a missing file, an unknown product or company code, a bad date, an empty title, a body too long)
exits 2 and writes nothing.
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.cli import fail
from app.operator import operator_name, operator_option, reason_option
from app.timeutil import utcnow

from . import notices


def _report_delivery(report: notices.DeliveryReport) -> None:
    click.echo(f"配信: {report.tenants} テナント（メール {report.mails} 通を送信キューに入れました）")
    for failure in report.failed:
        click.echo(f"配信できませんでした（次回再試行します）: {failure}", err=True)


@click.group("notice")
def notice_cli():
    """お知らせ: テナントへのお知らせの掲載・一覧・取下げ・配信"""


@notice_cli.command("post")
@click.option("--product", required=True, help="対象の製品コード（登録されている製品のもの）、または all（全製品）")
@click.option("--tenant", "tenant_codes", multiple=True, help="対象の会社コード（複数指定可。省略時は製品の全テナント）")
@click.option("--title", required=True, help=f"タイトル（{notices.TITLE_MAX}文字以内）")
@click.option("--body-file", required=True, help="本文の Markdown ファイル（UTF-8）")
@click.option("--publish-at", default=None, help="掲載日時（日本時間 YYYY-MM-DD HH:MM、省略時はすぐに掲載）")
@click.option("--audience", type=click.Choice([notices.AUDIENCE_ALL, notices.AUDIENCE_ADMINS]),
              default=notices.AUDIENCE_ALL, show_default=True, help="読める人: all（全員）/ admins（管理者のみ）")
@reason_option
@operator_option
@with_appcontext
def post_command(product, tenant_codes, title, body_file, publish_at, audience, reason, operator):
    """製品のすべてのテナント（全製品、または指定したテナント）にお知らせを掲載します。"""
    try:
        body = notices.read_body_file(body_file)
        notice, tenants = notices.post_notice(title=title, body=body, product=product, tenant_codes=tenant_codes,
                                              publish_at=publish_at, audience=audience,
                                              operator=operator_name(operator), reason=reason)
    except notices.NoticeError as exc:
        fail(exc)
    notice_id, scheduled, when = notice.id, notice.publish_at > utcnow(), notice.publish_jst
    click.echo(f"お知らせ番号 {notice_id} を登録しました（{len(tenants)} テナント: "
               f"{', '.join(t.code for t in tenants[:10])}{' ほか' if len(tenants) > 10 else ''}）。")
    if scheduled:
        click.echo(f"{when} に掲載されます（配信は flask notice deliver-due または flask mail worker が行います）。")
        return
    _report_delivery(notices.deliver_due(notice_id=notice_id))


@notice_cli.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="表示する件数")
@with_appcontext
def list_command(limit):
    """新しいお知らせを状態・掲載日時・製品・対象・配信・件名とともに表示します。"""
    rows = notices.list_notices(limit)
    if not rows:
        click.echo("お知らせはありません。")
        return
    now = utcnow()
    for row in rows:
        notice = row.notice
        click.echo(f"番号 {notice.id} [{notice.state(now)}] {notice.publish_jst} {notice.product_label} "
                   f"{notices.AUDIENCE_LABELS.get(notice.audience, notice.audience)} "
                   f"配信 {row.delivered}/{row.targets} テナント: {notice.title}")


@notice_cli.command("withdraw")
@click.argument("notice_id", type=int)
@reason_option
@operator_option
@with_appcontext
def withdraw_command(notice_id, reason, operator):
    """お知らせを取り下げます（一覧から消え、以後は配信されません）。"""
    try:
        notices.withdraw_notice(notice_id, operator_name(operator), reason)
    except notices.NoticeError as exc:
        fail(exc)
    click.echo(f"お知らせ番号 {notice_id} を取り下げました。")


@notice_cli.command("deliver-due")
@with_appcontext
def deliver_due_command():
    """掲載日時になったお知らせを配信します（テナントごとに1回だけ・いつ実行しても安全）。"""
    report = notices.deliver_due()
    _report_delivery(report)
    if report.failed:
        raise SystemExit(1)
