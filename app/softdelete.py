"""削除済み (soft delete): a ``SoftDeletable`` row is marked deleted instead of removed, hidden from every normal
query, restorable for ``KANRI_TRASH_DAYS`` (30) days and then purged for good by ``flask trash purge``.

Hiding is done the way tenancy is (``app.tenancy``): a ``do_orm_execute`` listener adds ``deleted_at IS NULL``
to every ORM SELECT that touches a soft-deletable model — lists, searches, counts, CSV, detail pages, scope
screens — so a product cannot forget it. The 削除済み list, the tenant export and the purge opt in with
``execution_options(include_deleted=True)`` or ``with including_deleted():``.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, with_loader_criteria

from .timeutil import UTCDateTime, utcnow

DEFAULT_TRASH_DAYS = 30


class SoftDeletable:
    """Mixin: rows go to 削除済み (``deleted_at``, ``deleted_by`` = login id) and normal queries never see them."""

    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)

    @property
    def is_deleted(self) -> bool:
        """True while the row sits in 削除済み."""
        return self.deleted_at is not None

    @property
    def purge_at(self) -> datetime | None:
        """When ``flask trash purge`` may remove the row for good."""
        return self.deleted_at + timedelta(days=trash_days()) if self.deleted_at is not None else None


def trash_days() -> int:
    """How many days a deleted row stays restorable (``KANRI_TRASH_DAYS``, default 30)."""
    return int(current_app.config.get("KANRI_TRASH_DAYS", DEFAULT_TRASH_DAYS))


def soft_deletable_models() -> list[type]:
    """Every soft-deletable model of the core and of every plugin, children before parents (the purge order)."""
    from .extensions import db

    by_table = {mapper.local_table: mapper.class_ for mapper in db.Model.registry.mappers
                if issubclass(mapper.class_, SoftDeletable)}
    return [by_table[table] for table in reversed(db.metadata.sorted_tables) if table in by_table]


def soft_delete(row: SoftDeletable, actor_login: str | None) -> None:
    """Move a row to 削除済み (the caller audits and commits)."""
    row.deleted_at = utcnow()
    row.deleted_by = actor_login


def restore(row: SoftDeletable) -> None:
    """Bring a row back from 削除済み (the caller checks clashes, audits and commits)."""
    row.deleted_at = None
    row.deleted_by = None


@contextmanager
def including_deleted():
    """Let the block's queries see deleted rows too (the 削除済み list, its counts and pages)."""
    previous = g.get("kanri_include_deleted", False)
    g.kanri_include_deleted = True
    try:
        yield
    finally:
        g.kanri_include_deleted = previous


# Added to every ORM SELECT rather than only to those that name a soft-deletable model: it narrows
# SoftDeletable entities only, so elsewhere it changes nothing, and walking each statement to decide cost more
# than the criteria do. Built once: it closes over nothing, so its cache key is memoised with it.
_NOT_DELETED = with_loader_criteria(SoftDeletable, lambda cls: cls.deleted_at.is_(None), include_aliases=True)


@event.listens_for(Session, "do_orm_execute")
def _hide_deleted_rows(state) -> None:
    if not state.is_select or state.is_column_load or state.is_relationship_load:
        return  # a relationship load follows its parent (a 削除済み 物件 still shows its 管理組合)
    if state.execution_options.get("include_deleted") or g.get("kanri_include_deleted", False):
        return
    state.statement = state.statement.options(_NOT_DELETED)


# --- purge ------------------------------------------------------------------------------------------

@dataclass
class PurgedRows:
    """What ``purge_expired`` removed (or would remove) for one tenant and table."""

    tenant_id: int
    table: str
    count: int


def _referencing(table: sa.Table) -> list[tuple[sa.Table, sa.Column, str | None]]:
    """(child table, its column, ON DELETE) for every foreign key that points at ``table``."""
    from .extensions import db

    found = []
    for child in db.metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table:
                found.append((child, fk.parent, (fk.ondelete or "").upper() or None))
    return found


def _purge_ids(table: sa.Table, ids: list[int]) -> int:
    """Delete the rows ``ids`` of ``table`` with what depends on them, as the foreign keys say — CASCADE rows go,
    SET NULL columns are cleared (SQLite does neither by itself) — and keep a row still referenced by a RESTRICT
    key (it is retried the next day). Returns how many rows of ``table`` went."""
    from .extensions import db

    session = db.session
    for child, column, ondelete in _referencing(table):
        if ondelete == "CASCADE":
            session.execute(child.delete().where(column.in_(ids)).execution_options(all_tenants=True))
        elif ondelete == "SET NULL":
            session.execute(child.update().where(column.in_(ids)).values({column.name: None})
                            .execution_options(all_tenants=True))
        else:
            held = set(session.execute(sa.select(column).where(column.in_(ids))
                                       .execution_options(all_tenants=True)).scalars())
            ids = [i for i in ids if i not in held]
    if not ids:
        return 0
    return session.execute(table.delete().where(table.c.id.in_(ids)).execution_options(all_tenants=True)).rowcount


def purge_expired(now: datetime | None = None, dry_run: bool = False) -> list[PurgedRows]:
    """Remove for good every row of every soft-deletable model deleted more than ``trash_days()`` ago, across
    tenants, children before parents; one audit event (counts only) per tenant. The caller commits."""
    from . import audit
    from .extensions import db
    from .models import Tenant

    cutoff = (now or utcnow()) - timedelta(days=trash_days())
    results: list[PurgedRows] = []
    for model in soft_deletable_models():
        table = model.__table__
        rows = db.session.execute(sa.select(table.c.tenant_id, table.c.id).where(table.c.deleted_at < cutoff)
                                  .order_by(table.c.tenant_id, table.c.id).execution_options(all_tenants=True)).all()
        by_tenant: dict[int, list[int]] = {}
        for tenant_id, row_id in rows:
            by_tenant.setdefault(tenant_id, []).append(row_id)
        for tenant_id, ids in by_tenant.items():
            count = len(ids) if dry_run else _purge_ids(table, ids)
            if count:
                results.append(PurgedRows(tenant_id, table.name, count))
    if not dry_run:
        per_tenant: dict[int, dict[str, int]] = {}
        for item in results:
            per_tenant.setdefault(item.tenant_id, {})[item.table] = item.count
        for tenant_id, counts in per_tenant.items():
            tenant = db.session.get(Tenant, tenant_id)
            audit.record("trash.purge", tenant=tenant, actor_login="system", target=f"tenant:{tenant.code}",
                         days=trash_days(), counts=counts)
    return results
