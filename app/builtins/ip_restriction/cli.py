"""``flask ip-restriction status | off``: the operator's view of a tenant's restriction and its rescue switch."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.cli import tenant_or_fail
from app.extensions import db
from app.operator import operator_command, operator_name, record_access
from app.tenancy import tenant_scope

from . import service
from .models import SCOPE_LABELS


@click.group("ip-restriction")
def ip_restriction_cli():
    """IPアドレス制限: テナントの設定の確認と、管理者全員が締め出されたときの解除"""


@ip_restriction_cli.command("status")
@click.argument("code")
@operator_command
@with_appcontext
def status_command(code, reason, operator):
    """テナントの制限の対象と許可リストの件数を表示します（一覧の中身は表示しません）。"""
    tenant = tenant_or_fail(code)
    with tenant_scope(tenant):
        scope, entries = service.stored(tenant)
        record_access(tenant, "ip-restriction status", reason, operator_name(operator))
        db.session.commit()
    click.echo(f"{tenant.code}: 制限の対象 {SCOPE_LABELS.get(scope, scope)}、許可リスト {len(entries)}件")


@ip_restriction_cli.command("off")
@click.argument("code")
@operator_command
@with_appcontext
def off_command(code, reason, operator):
    """制限の対象を「制限しない」にします（許可リストは残ります）。管理者全員が締め出されたときに使います。"""
    tenant = tenant_or_fail(code)
    who = operator_name(operator)
    with tenant_scope(tenant):
        changed = service.switch_off(tenant, who)
        record_access(tenant, "ip-restriction off", reason, who, changed=changed)
        db.session.commit()
    if changed:
        click.echo(f"{tenant.code} のIPアドレス制限を「制限しない」にしました（許可リストは残っています）。")
    else:
        click.echo(f"{tenant.code} のIPアドレス制限はすでに「制限しない」です。")
