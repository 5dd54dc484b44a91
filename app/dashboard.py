"""What the ホーム page reads: the previous login, the tenant's newest changes and the count lists products show.

Every function is one cheap query (an indexed, limited read or one COUNT), so the page stays a handful of
queries however large the tenant grows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from flask import render_template
from markupsafe import Markup

from .display import count_unit
from .extensions import db
from .listing import COUNT_CAP
from .models import STATUS_ACTIVE, STATUS_SUSPENDED, AuditEvent, User
from .tenancy import TenantScopeError, current_tenant_id
from .tenant_reads import TENANT_PARAM, TenantRead, of_tenant
from .timeutil import utcnow

RECENT_CHANGES = 5
# Sign-ins, reads and downloads are not changes: the 最近の変更 list leaves them to the 操作ログ.
_NOT_CHANGE_PREFIXES = ("login.", "session.", "access.", "oplog.")
_NOT_CHANGE_ACTIONS = ("logout", "account.locked")
_NOT_CHANGE_SUFFIXES = (".check", ".export", ".download", ".send", ".resend", ".verify", ".void", ".link")


@dataclass(frozen=True)
class Count:
    """One line of a count list: 「管理組合 12件」, linking to the list it counts when ``url`` is set."""

    label: str
    value: int
    unit: str = "件"
    url: str = ""


@dataclass(frozen=True)
class LastLogin:
    """When, from where and with which browser the user last logged in."""

    occurred_at: datetime
    ip: str | None
    user_agent: str | None


def logged_login(user, before=None) -> AuditEvent | None:
    """The user's newest successful login in the audit log (before ``before`` when given)."""
    query = sa.select(AuditEvent).where(AuditEvent.chain_id == user.tenant_id, AuditEvent.actor_id == user.id,
                                        AuditEvent.action == "login.success", AuditEvent.outcome == "success")
    if before is not None:
        query = query.where(AuditEvent.occurred_at < before)
    return db.session.execute(query.order_by(AuditEvent.seq.desc()).limit(1)).scalars().first()


def previous_login(user, current_session=None) -> LastLogin | AuditEvent | None:
    """The user's last successful login before the current session (time, IP, browser); None for a first login.
    The session copied it when it opened; only sessions older than that copy read the audit log."""
    if current_session is not None and current_session.previous_login_read:
        if current_session.previous_login_at is None:
            return None
        return LastLogin(current_session.previous_login_at, current_session.previous_login_ip,
                         current_session.previous_login_agent)
    return logged_login(user, current_session.created_at if current_session is not None else None)


@cache  # the same clause for every request: built once per process, not on every ホーム
def _is_change():
    column = AuditEvent.__table__.c.action
    clauses = [column.startswith(prefix) for prefix in _NOT_CHANGE_PREFIXES]
    clauses += [column.endswith(suffix) for suffix in _NOT_CHANGE_SUFFIXES]
    clauses.append(column.in_(_NOT_CHANGE_ACTIONS))
    return sa.not_(sa.or_(*clauses))


def _recent_changes_statement():
    events = AuditEvent.__table__
    return (sa.select(events.c.seq, events.c.occurred_at, events.c.actor_id, events.c.actor_login, events.c.action,
                      events.c.target)
            .where(of_tenant(events), events.c.chain_id == sa.bindparam(TENANT_PARAM), events.c.outcome == "success",
                   _is_change())
            .order_by(events.c.seq.desc()).limit(sa.bindparam("limit", type_=sa.Integer)))


_RECENT_CHANGES = TenantRead(_recent_changes_statement)


def recent_changes(tenant, limit: int = RECENT_CHANGES) -> list[sa.Row]:
    """The current tenant's newest successful changes (creations, updates, deletions, approvals), newest first:
    rows of seq, occurred_at, actor_id, actor_login, action, target."""
    if tenant.id != current_tenant_id():
        raise TenantScopeError("最近の変更 is read for the current tenant only")
    return _RECENT_CHANGES.rows(limit=limit)


def count_list(counts: list[Count]) -> Markup:
    """A dashboard panel body listing counts with links (the same look in every product)."""
    return Markup(render_template("dashboard/_counts.html", counts=counts))  # noqa: S704  # nosec B704  # autoescaped


def count_of(query) -> int:
    """One COUNT(*) of a select (live rows only: tenancy and 削除済み filters apply as to any ORM query)."""
    return db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()


def count_all(queries: list) -> list[int]:
    """COUNT(*) of each select, all in ONE query (a scalar subquery each; tenancy and 削除済み filters apply
    inside every one, as to any ORM query): a panel's figures cost one round trip however many there are.

    Each count stops past ``COUNT_CAP`` rows, as the lists' do (a value above it means 「1,000件以上」, see
    :func:`count_text`): ホーム then costs the same with 100,000 管理組合 as with 100."""
    if not queries:
        return []
    columns = [sa.select(sa.func.count()).select_from(query.limit(COUNT_CAP + 1).subquery()).scalar_subquery()
               .label(f"count_{number}") for number, query in enumerate(queries)]
    return list(db.session.execute(sa.select(*columns)).one())


def count_text(value: int, unit: str = "件") -> str:
    """A figure of :func:`count_all` with its unit: 「12件」, or 「1,000件以上」 past the cap."""
    return f"{count_unit(COUNT_CAP, unit)}以上" if value > COUNT_CAP else count_unit(value, unit)


def users_query():
    """A select of the current tenant's users (有効 and 停止), to count."""
    return sa.select(User.id).where(User.status.in_((STATUS_ACTIVE, STATUS_SUSPENDED)))


def locked_users_query():
    """A select of the current tenant's users locked out now (too many failed logins), to count."""
    return sa.select(User.id).where(User.locked_until > utcnow())
