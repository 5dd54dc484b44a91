"""Operator commands that read or change a tenant's data: who ran them and why, in the tenant's own log.

The white paper promises that customer data is reached only by a few people of the service team; the
customer can check it. Every such command takes ``--reason`` (required) and records one
``operator.access`` event (label 運用担当者による操作) with the operator's name and the reason in the
chain of each tenant it touches. Everything else the command records for that tenant carries the same
``actor_login`` (always ``operator:<name>``), so the 操作ログ can filter to operator events alone.
"""
from __future__ import annotations

import getpass
import os

import click

from . import audit
from .audit import clean

OPERATOR_ACTION = "operator.access"
OPERATOR_PREFIX = "operator:"
REASON_MAX = 200


def operator_name(given: str | None = None) -> str:
    """Who runs an operator command: ``--operator``, else ``KANRI_OPERATOR``, else the OS user, as ``operator:<name>``."""
    name = (given or "").strip() or os.environ.get("KANRI_OPERATOR", "").strip()
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no name for this uid (a container)
            name = ""
    name = clean(name, 64 - len(OPERATOR_PREFIX)) or ""
    if name.startswith(OPERATOR_PREFIX):
        name = name[len(OPERATOR_PREFIX):]
    return f"{OPERATOR_PREFIX}{name}" if name else OPERATOR_PREFIX.rstrip(":")


def is_operator_login(actor_login: str | None) -> bool:
    """True when an audit record's ``actor_login`` names an operator (not a user of the tenant)."""
    return bool(actor_login) and (actor_login == "operator" or actor_login.startswith(OPERATOR_PREFIX))


def _check_reason(_ctx, _param, value):
    text = (value or "").strip()
    if not text:
        raise click.BadParameter("理由を入力してください（例: --reason \"問い合わせ #123 の調査\"）。")
    if len(text) > REASON_MAX:
        raise click.BadParameter(f"理由は{REASON_MAX}文字以内にしてください。")
    if any(ord(ch) < 32 or 0x7f <= ord(ch) <= 0x9f for ch in text):
        raise click.BadParameter("理由に制御文字は使えません。")
    return text


reason_option = click.option(
    "--reason", required=True, callback=_check_reason,
    help="この操作の理由（必須。対象テナントの操作ログに「運用担当者による操作」として残ります）")
operator_option = click.option(
    "--operator", default=None,
    help="記録に残す担当者名（省略時は環境変数 KANRI_OPERATOR、なければ OS のユーザー名）")


def record_access(tenant, command: str, reason: str, operator: str, **details) -> None:
    """Record in ``tenant``'s log that an operator ran ``command`` on its data, and why (caller commits)."""
    audit.record(OPERATOR_ACTION, tenant=tenant, actor_login=operator, target=f"tenant:{tenant.code}",
                 command=command, reason=reason, **details)
