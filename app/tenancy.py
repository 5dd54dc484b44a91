"""Current tenant and fail-closed tenant scoping of every ORM query."""
from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
from flask import g
from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria
from sqlalchemy.sql import visitors


class TenantScopeError(RuntimeError):
    """A tenant-owned table was touched without a current tenant."""


class TenantScoped:
    """Mixin for every tenant-owned table: adds tenant_id (and row_key where a column is encrypted)
    and puts the table under scoping."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False)

    @declared_attr
    def row_key(cls):  # noqa: N805 - declared_attr receives the class
        """A random, immutable key per row that encrypted values are bound to; only on tables with an
        EncryptedText column (elsewhere the attribute is None and no column is made)."""
        from .crypto import row_key_column  # crypto imports this module

        return row_key_column(cls)


def tenant_models() -> list[type]:
    """Every tenant-owned model class (core and plugins), children before parents, for export and purge."""
    from .extensions import db  # extensions imports nothing of ours, but keep tenancy import-light

    by_table = {mapper.local_table: mapper.class_ for mapper in db.Model.registry.mappers
                if issubclass(mapper.class_, TenantScoped)}
    return [by_table[table] for table in reversed(db.metadata.sorted_tables) if table in by_table]


def current_tenant_id() -> int | None:
    """Return the id of the tenant this request or command works for, if any."""
    return g.get("kanri_tenant_id")


def current_tenant():
    """Return the Tenant this request or command works for, if any."""
    return g.get("kanri_tenant")


def set_current_tenant(tenant) -> None:
    """Make tenant (or None) the current tenant for the rest of this app context."""
    g.kanri_tenant = tenant
    g.kanri_tenant_id = tenant.id if tenant is not None else None


@contextmanager
def tenant_scope(tenant):
    """Run the block as tenant, restoring the previous tenant afterwards."""
    previous = (g.get("kanri_tenant"), g.get("kanri_tenant_id"))
    set_current_tenant(tenant)
    try:
        yield tenant
    finally:
        g.kanri_tenant, g.kanri_tenant_id = previous


@contextmanager
def all_tenants():
    """Let operator code read across tenants inside the block (an explicit opt-out)."""
    previous = g.get("kanri_all_tenants", False)
    g.kanri_all_tenants = True
    try:
        yield
    finally:
        g.kanri_all_tenants = previous


def _crosses_tenants(state) -> bool:
    return bool(state.execution_options.get("all_tenants") or g.get("kanri_all_tenants", False))


def _is_scoped_entity(element) -> bool:
    entity = getattr(element, "_annotations", {}).get("parententity")
    return entity is not None and issubclass(getattr(entity, "class_", object), TenantScoped)


def _touches_scoped_table(state) -> bool:
    if any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers):
        return True
    # all_mappers sees only the selected entities: select(func.count()).select_from(Model) and
    # select(Tenant).join(User) name a scoped entity only in FROM / JOIN, so look there too.
    return any(_is_scoped_entity(element) for element in visitors.iterate(state.statement))


def _sets_tenant_id(state) -> bool:
    statement = state.statement
    keys = [getattr(key, "key", key) for key in dict(getattr(statement, "_values", None) or {})]
    keys += [getattr(key, "key", key) for key, _ in (getattr(statement, "_ordered_values", None) or ())]
    parameters = state.parameters
    for params in parameters if isinstance(parameters, list) else [parameters or {}]:
        keys += list(params)
    return "tenant_id" in keys


@event.listens_for(Session, "do_orm_execute")
def _scope_to_current_tenant(state) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # criteria already travel with the parent load
    if state.is_select and _crosses_tenants(state):
        return  # an explicit opt-out (operator code, the session lookup): nothing to add or to check
    tenant_id = current_tenant_id()
    if state.is_select and tenant_id is not None:
        # Every query of a logged-in request: add the criteria without first walking the statement for a
        # scoped table (a walk per query was a large part of a page's cost). They narrow TenantScoped entities
        # only, and no unscoped model relates to a scoped one (tests/test_request_cost.py), so what lazy loads
        # reach through them is unchanged.
        state.statement = state.statement.options(_tenant_criteria(tenant_id))
        return
    if not _touches_scoped_table(state):
        return
    if state.is_update and _sets_tenant_id(state):
        raise TenantScopeError("tenant_id of a stored row cannot change")
    if _crosses_tenants(state):
        return
    if tenant_id is None:
        raise TenantScopeError("tenant-scoped query without a current tenant")
    state.statement = state.statement.options(_tenant_criteria(tenant_id))


# tenant id → its criteria option, built once: a new option per query cost more than the query's own compile
# lookup (its lambda is analysed and its cache key generated each time). Options are immutable.
_CRITERIA: dict[int, object] = {}
_CRITERIA_MAX = 4096


def _tenant_criteria(tenant_id: int):
    found = _CRITERIA.get(tenant_id)
    if found is None:
        if len(_CRITERIA) >= _CRITERIA_MAX:
            _CRITERIA.clear()
        found = _CRITERIA[tenant_id] = with_loader_criteria(
            TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
    return found


@event.listens_for(Session, "before_flush")
def _stamp_and_guard_tenant(session, flush_context, instances) -> None:
    tenant_id = current_tenant_id()
    crossing = g.get("kanri_all_tenants", False)
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise TenantScopeError(f"new {type(obj).__name__} without a current tenant")
            obj.tenant_id = tenant_id
        elif tenant_id is not None and obj.tenant_id != tenant_id and not crossing:
            raise TenantScopeError(f"new {type(obj).__name__} for another tenant")
    for obj in session.dirty:
        if isinstance(obj, TenantScoped) and inspect(obj).attrs.tenant_id.history.deleted:
            raise TenantScopeError("tenant_id of a stored row cannot change")
