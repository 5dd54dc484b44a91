"""Fixed reads a page runs on every visit, as plain rows: built and checked once per process, run on the
request's connection with the current tenant bound.

An ORM select pays 0.2–0.5 ms of SQLAlchemy work per execution (criteria options, cache key, entity rows); a
prebuilt Core statement pays about 0.1 ms. ホーム's 最近の変更 and お知らせ are such reads. They fail closed as
the ORM path does (``app.tenancy``), by construction instead of by options:

- building checks the statement once: every table it reads that has a ``tenant_id`` column must be narrowed by
  ``of_tenant(table)`` (``tenant_id = :kanri_tenant``) and every table with ``deleted_at`` by ``live(table)``,
  each as an AND-ed condition of the WHERE or JOIN … ON of the SELECT that reads the table; a table alias or a
  text FROM is refused. A statement that fails the check raises when first used, in every test that runs it;
- running binds the current tenant's id; without a current tenant it raises ``TenantScopeError``.
"""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList, ColumnClause, Null
from sqlalchemy.sql.selectable import Join, Select, Subquery

from .extensions import db
from .tenancy import TenantScopeError, current_tenant_id

TENANT_PARAM = "kanri_tenant"


def of_tenant(table) -> sa.ColumnElement[bool]:
    """``table.tenant_id = :kanri_tenant``: the condition a tenant read must put on every tenant table it reads."""
    return _table(table).c.tenant_id == sa.bindparam(TENANT_PARAM, type_=sa.Integer)


def live(table) -> sa.ColumnElement[bool]:
    """``table.deleted_at IS NULL``: the condition on every soft-deletable table (削除済み rows stay hidden)."""
    return _table(table).c.deleted_at.is_(None)


def _table(table) -> sa.Table:
    return getattr(table, "__table__", table)


class TenantRead:
    """One read-only SELECT over tenant tables: ``build`` makes it once per process, ``rows`` runs it."""

    def __init__(self, build: Callable[[], Select]):
        self._build = build
        self._statement: Select | None = None

    @property
    def statement(self) -> Select:
        """The checked statement (built on first use)."""
        if self._statement is None:
            statement = self._build()
            check_scoped(statement)
            self._statement = statement
        return self._statement

    def rows(self, **params) -> list[sa.Row]:
        """The rows for the current tenant, with ``params`` bound; raises without a current tenant."""
        tenant_id = current_tenant_id()
        if tenant_id is None:
            raise TenantScopeError("tenant read without a current tenant")
        return db.session.connection().execute(self.statement, {**params, TENANT_PARAM: tenant_id}).all()

    def scalar(self, **params):
        """The first column of the first row (None when there is no row)."""
        found = self.rows(**params)
        return found[0][0] if found else None


def check_scoped(statement) -> None:
    """Raise ``TenantScopeError`` unless every SELECT in ``statement`` narrows each tenant table it reads to
    the bound tenant (and each soft-deletable table to live rows)."""
    for element in visitors.iterate(statement):
        if isinstance(element, Select):
            _check_select(element)


def _check_select(select: Select) -> None:
    conditions = _conjuncts(select.whereclause)
    tables: list[sa.Table] = []
    for source in select.get_final_froms():
        _collect(source, tables, conditions)
    for table in tables:
        if "tenant_id" in table.c and not any(_narrows_tenant(c, table) for c in conditions):
            raise TenantScopeError(f"tenant read: {table.name} is not narrowed by of_tenant()")
        if "deleted_at" in table.c and not any(_narrows_live(c, table) for c in conditions):
            raise TenantScopeError(f"tenant read: {table.name} is not narrowed by live()")


def _collect(source, tables: list, conditions: list) -> None:
    if isinstance(source, sa.Table):
        tables.append(source)
    elif isinstance(source, Join):
        conditions.extend(_conjuncts(source.onclause))
        _collect(source.left, tables, conditions)
        _collect(source.right, tables, conditions)
    elif isinstance(source, Subquery) and isinstance(source.element, Select):
        return  # its own SELECT is checked on its own
    else:
        raise TenantScopeError(f"tenant read: unsupported FROM {source!r} (alias or text)")


def _conjuncts(clause) -> list:
    if clause is None:
        return []
    if isinstance(clause, BooleanClauseList) and clause.operator is operators.and_:
        return [part for inner in clause.clauses for part in _conjuncts(inner)]
    return [clause]


def _narrows_tenant(condition, table) -> bool:
    return (isinstance(condition, BinaryExpression) and condition.operator is operators.eq
            and _column_of(condition.left, table, "tenant_id")
            and isinstance(condition.right, BindParameter) and condition.right.key == TENANT_PARAM)


def _narrows_live(condition, table) -> bool:
    return (isinstance(condition, BinaryExpression) and condition.operator is operators.is_
            and _column_of(condition.left, table, "deleted_at") and isinstance(condition.right, Null))


def _column_of(column, table, name: str) -> bool:
    return isinstance(column, ColumnClause) and column.name == name and column.table is table
