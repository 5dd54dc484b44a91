"""セキュリティ状況: who is an admin, who is locked or suspended, last sign-ins, failed logins by IP, settings."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import ROLE_ADMIN, STATUS_ACTIVE, STATUS_SUSPENDED, AuditEvent, User
from app.products import USER_WORD, all_products, plugin_manager
from app.timeutil import utcnow

FAILURE_DAYS = 30
FAILURE_ACTIONS = ("login.failure", "login.refused")


@dataclass
class UserRow:
    """One user's security facts."""

    user: User
    state: str
    last_login_at: datetime | None
    last_login_ip: str | None
    facts: dict = field(default_factory=dict)


@dataclass
class Overview:
    """Everything the page and the CSV show."""

    rows: list[UserRow]
    fact_labels: list[str]
    failures: list[tuple[str, int, datetime]]
    user_word: str = USER_WORD

    @property
    def admins(self) -> list[UserRow]:
        """Active and suspended 管理者."""
        return [row for row in self.rows if row.user.role == ROLE_ADMIN]

    @property
    def locked(self) -> list[UserRow]:
        """Users under a lockout now."""
        return [row for row in self.rows if row.state == "ロック中"]

    @property
    def suspended(self) -> list[UserRow]:
        """Suspended users."""
        return [row for row in self.rows if row.user.status == STATUS_SUSPENDED]


def state_of(user: User, now: datetime) -> str:
    """停止 / ロック中 / 有効."""
    if user.status == STATUS_SUSPENDED:
        return "停止"
    if user.is_locked(now):
        return "ロック中"
    return "有効" if user.status == STATUS_ACTIVE else user.status


def last_logins(tenant_id: int) -> dict[int, tuple[datetime, str | None]]:
    """Each user's newest successful login (time, IP) from the tenant's audit log."""
    newest = (sa.select(sa.func.max(AuditEvent.seq).label("seq"))
              .where(AuditEvent.chain_id == tenant_id, AuditEvent.action == "login.success",
                     AuditEvent.outcome == "success", AuditEvent.actor_id.is_not(None))
              .group_by(AuditEvent.actor_id).subquery())
    rows = db.session.execute(
        sa.select(AuditEvent.actor_id, AuditEvent.occurred_at, AuditEvent.ip)
        .where(AuditEvent.chain_id == tenant_id, AuditEvent.seq.in_(sa.select(newest.c.seq)))).all()
    return {actor_id: (at, ip) for actor_id, at, ip in rows}


def failures_by_ip(tenant_id: int, now: datetime) -> list[tuple[str, int, datetime]]:
    """Failed logins of the last 30 days grouped by IP: (IP, count, newest), most first."""
    rows = db.session.execute(
        sa.select(AuditEvent.ip, sa.func.count(), sa.func.max(AuditEvent.occurred_at))
        .where(AuditEvent.chain_id == tenant_id, AuditEvent.action.in_(FAILURE_ACTIONS),
               AuditEvent.outcome == "failure", AuditEvent.occurred_at >= now - timedelta(days=FAILURE_DAYS))
        .group_by(AuditEvent.ip).order_by(sa.func.count().desc(), AuditEvent.ip)).all()
    return [(ip or "不明", count, newest) for ip, count, newest in rows]


def security_facts(tenant, users: list[User]) -> tuple[list[str], dict[int, dict]]:
    """The plugins' per-user facts (``user_security_facts``) merged per user, with every label in first-seen order."""
    labels: list[str] = []
    merged: dict[int, dict] = {}
    for answer in plugin_manager().hook.user_security_facts(tenant=tenant, users=users):
        for user_id, facts in (answer or {}).items():
            for label, value in (facts or {}).items():
                if label not in labels:
                    labels.append(label)
                merged.setdefault(user_id, {})[label] = value
    return labels, merged


def user_word(tenant) -> str:
    """What the tenant's product calls its users (ユーザー, 社員)."""
    product = all_products().get(tenant.product)
    return product.user_word if product else USER_WORD


def build(tenant) -> Overview:
    """The overview of the current tenant."""
    now = utcnow()
    users = list(db.session.execute(sa.select(User).order_by(User.login_id)).scalars())
    logins = last_logins(tenant.id)
    labels, facts = security_facts(tenant, users)
    rows = []
    for user in users:
        at, ip = logins.get(user.id, (user.last_login_at, None))
        rows.append(UserRow(user, state_of(user, now), at, ip, facts.get(user.id, {})))
    return Overview(rows, labels, failures_by_ip(tenant.id, now), user_word(tenant))
