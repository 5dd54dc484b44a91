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
import sqlalchemy as sa

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


def looks_like_operator(login_id: str | None) -> bool:
    """True when a login id typed by anybody (e.g. on the login form) could pass for an operator's name."""
    return is_operator_login((login_id or "").strip().lower())


def is_operator_event(actor_login: str | None, actor_id: int | None) -> bool:
    """True for an audit record an operator wrote: an operator's ``actor_login`` and no user behind it."""
    return actor_id is None and is_operator_login(actor_login)


def operator_event_clause(model):
    """SQL: the audit record is an operator's — the query counterpart of ``is_operator_event``.

    The constants stay literal in the SQL text, and the terms match the partial index
    ``ix_audit_events_operator`` word for word, so SQLite as well as PostgreSQL page on that index.
    """
    return sa.and_(model.actor_id.is_(None),
                   sa.or_(model.actor_login == sa.literal_column("'operator'"),
                          model.actor_login.like(sa.literal_column("'operator:%'"))))


def operator_display_name(actor_login: str | None) -> str:
    """The operator's name without the ``operator:`` prefix (``運用担当者`` when none was recorded)."""
    if not actor_login or actor_login == "operator":
        return "運用担当者"
    return actor_login[len(OPERATOR_PREFIX):] if actor_login.startswith(OPERATOR_PREFIX) else actor_login


def check_reason(value: str | None) -> str:
    """The reason stripped, or click.UsageError (exit 2) when it is missing, empty, too long or has control characters."""
    text = (value or "").strip()
    if not text:
        raise click.UsageError("理由（--reason）を入力してください（例: --reason \"問い合わせ #123 の調査\"）。")
    if len(text) > REASON_MAX:
        raise click.UsageError(f"理由（--reason）は{REASON_MAX}文字以内にしてください。")
    if any(ord(ch) < 32 or 0x7f <= ord(ch) <= 0x9f or ch in "\u2028\u2029" for ch in text):
        raise click.UsageError("理由（--reason）に制御文字は使えません。")
    return text


def _check_reason(_ctx, _param, value):
    return check_reason(value)


def _check_optional_reason(_ctx, _param, value):
    return None if value is None else check_reason(value)


reason_option = click.option(
    "--reason", default=None, callback=_check_reason,
    help="この操作の理由（必須。対象テナントの操作ログに「運用担当者による操作」として残ります）")
operator_option = click.option(
    "--operator", default=None,
    help="記録に残す担当者名（省略時は環境変数 KANRI_OPERATOR、なければ OS のユーザー名）")
optional_reason_option = click.option(
    "--reason", default=None, callback=_check_optional_reason,
    help="この操作の理由（テナントを指定するときは必須。そのテナントの操作ログに残ります）")


def operator_command(function):
    """Decorator: the command takes a required ``--reason`` and an ``--operator`` (both passed on as arguments)."""
    return reason_option(operator_option(function))


def require_reason(reason: str | None, why: str) -> str:
    """``reason`` when given; else stop the command (exit 2) saying why a reason is needed here."""
    if reason is None:
        raise click.UsageError(f"{why}には理由（--reason）を入力してください（対象テナントの操作ログに残ります）。")
    return reason


def record_access(tenant, command: str, reason: str, operator: str, **details) -> None:
    """Record in ``tenant``'s log that an operator ran ``command`` on its data, and why (caller commits)."""
    audit.record(OPERATOR_ACTION, tenant=tenant, actor_login=operator, target=f"tenant:{tenant.code}",
                 command=command, reason=reason, **details)
