"""``flask manual publish | list | build``: parse arguments, call ``service``, print in Japanese.

Unusable input (not a PDF, too large, a version already published, an unknown product) exits 2 and
publishes nothing.
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.cli import run_or_fail
from app.operator import operator_name, operator_option

from . import service


def _run_manual(action, *args, **kwargs):
    return run_or_fail(service.ManualError, action, *args, **kwargs)


def _describe(manual) -> str:
    return (f"{manual.product} 版 {manual.version}（{manual.published_jst}、{manual.size_label}、"
            f"{manual.file_name}、sha256 {manual.sha256[:16]}…）")


@click.group("manual")
def manual_cli():
    """マニュアル: 利用者が「マニュアル」画面からダウンロードする PDF の公開・一覧・作成"""


@manual_cli.command("publish")
@click.option("--product", required=True, help="製品コード（有効な製品プラグインのもの。誤っていれば一覧を表示します）")
@click.option("--version", required=True, help="版（英数字と . _ -、例: 1.0）。同じ版は公開し直せません")
@click.option("--title", default=None, help="題名（省略時は「<製品名> 操作マニュアル」）")
@click.argument("file", metavar="FILE.pdf")
@operator_option
@with_appcontext
def publish_command(product, version, title, file, operator):
    """FILE.pdf を製品のマニュアルの新しい版として公開します（過去の版もすべて残ります）。"""
    data = _run_manual(service.read_pdf, file)
    manual = _run_manual(service.publish, product, version, data, operator=operator_name(operator), title=title)
    click.echo(f"マニュアルを公開しました: {_describe(manual)}")


@manual_cli.command("list")
@click.option("--product", default=None, help="この製品の版だけを表示")
@with_appcontext
def list_command(product):
    """公開中のマニュアルを製品ごとに新しい順で表示します。"""
    if product:
        _run_manual(service.product_or_fail, product)
    manuals = service.versions(product)
    if not manuals:
        click.echo("公開されているマニュアルはありません。")
        return
    for manual in manuals:
        click.echo(f"{manual.product:<10}{manual.version:<20}{manual.published_jst}  {manual.size_label:>9}  "
                   f"{manual.file_name}  （公開: {manual.published_by}）")


@manual_cli.command("build")
@click.option("--product", required=True, help="製品コード（有効な製品プラグインのもの。誤っていれば一覧を表示します）")
@click.option("--version", default=None, help="版（省略時は kanri の版と日付、例: 0.1.0-20260512）")
@click.option("--title", default=None, help="題名（省略時は「<製品名> 操作マニュアル」）")
@operator_option
@with_appcontext
def build_command(product, version, title, operator):
    """製品の操作ガイド（Markdown）からマニュアルを作成して公開します。"""
    manual = _run_manual(service.build_and_publish, product, version, operator=operator_name(operator), title=title)
    click.echo(f"操作ガイドからマニュアルを作成して公開しました: {_describe(manual)}")
