"""Contract-end purge: delete every row of each tenant whose contract has ended (no request code).

``purge_expired()`` (``flask tenant purge-expired``, run daily) finds the tenants with
``jst_today() > contract_end`` that are not purged yet and, one transaction per tenant, deletes
every row that carries the tenant's ``tenant_id`` — every ``TenantScoped`` model
(``app.tenancy.tenant_models()``) and every other table with a ``tenant_id`` column (the audit log,
the mail outbox, whatever a plugin adds) — plus the rows of tables that hang below those by a
foreign key without a ``tenant_id`` of their own (mail attempts), children first so that the counts
are exact. Plugins delete what they keep outside the database (``purge_tenant`` hook). The tenant
row stays as a tombstone (status ``purged``, ``purged_at``) so its code is never reused.

A receipt (code, product, rows per table, time, operator and the operator's reason; no personal data) is kept in
``purge_receipts``, recorded as a ``tenant.purge`` event of the system audit chain and mailed to the
tenant's active admins, whose addresses are read before their rows go.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app import audit
from app.extensions import db
from app.mailer import send_mail
from app.models import ROLE_ADMIN, STATUS_ACTIVE, STATUS_PURGED, Tenant, User
from app.products import plugin_manager
from app.tenancy import tenant_models, tenant_scope
from app.timeutil import UTCDateTime, format_jst, jst_today, utcnow

log = logging.getLogger("kanri.purge")
RECEIPT_TEMPLATE = "purge_receipt"


class PurgeReceipt(db.Model):
    """What one purge deleted: counts only, never personal data. Not tenant-scoped and never purged."""

    __tablename__ = "purge_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.Integer, index=True)  # the tombstone's id; no FK, no cascade
    tenant_code: Mapped[str] = mapped_column(sa.String(32))
    product: Mapped[str] = mapped_column(sa.String(32))
    contract_end: Mapped[date] = mapped_column(sa.Date)
    purged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operator: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)  # the operator's --reason
    rows: Mapped[str] = mapped_column(sa.Text)  # JSON {table: count}
    total: Mapped[int] = mapped_column(sa.Integer)
    mailed_to: Mapped[int] = mapped_column(sa.Integer, default=0)  # how many admin addresses (not which)

    @property
    def counts(self) -> dict[str, int]:
        """Rows deleted per table."""
        return json.loads(self.rows)


@dataclass
class PurgeResult:
    """One tenant's purge (or dry run): rows per table, the receipt, or the error that rolled it back."""

    code: str
    product: str
    counts: dict[str, int] = field(default_factory=dict)
    receipt: PurgeReceipt | None = None
    error: str | None = None

    @property
    def total(self) -> int:
        """All rows deleted (or that would be)."""
        return sum(self.counts.values())


# --- which rows belong to a tenant ------------------------------------------------------------

_NEVER = ("tenants", PurgeReceipt.__tablename__)


def tenant_tables() -> list[tuple[sa.Table, sa.Column | None, sa.Table | None]]:
    """Every table holding a tenant's rows, children before parents, as (table, fk column, parent).

    A table with a ``tenant_id`` column gives (table, None, None); a table without one that refers
    by a foreign key to such a table (the mail attempts of an outbox row) gives (table, its column,
    the parent). The scoped models of ``tenant_models()`` are all among them.
    """
    owning = {table for table in db.metadata.sorted_tables if "tenant_id" in table.c and table.name not in _NEVER}
    scoped = {model.__table__ for model in tenant_models()}
    assert scoped <= owning, "every TenantScoped model has a tenant_id column"
    result = []
    for table in reversed(db.metadata.sorted_tables):
        if table.name in _NEVER:
            continue
        if table in owning:
            result.append((table, None, None))
            continue
        for fk in table.foreign_keys:
            if fk.column.table in owning:
                result.append((table, fk.parent, fk.column.table))
                break
    return result


def _condition(table, column, parent, tenant_id: int):
    if column is None:
        return table.c.tenant_id == tenant_id
    key = next(iter(parent.primary_key.columns))
    return column.in_(sa.select(key).where(parent.c.tenant_id == tenant_id))


def count_rows(tenant: Tenant) -> dict[str, int]:
    """Rows per table that a purge of the tenant would delete (tables with none left out)."""
    counts = {}
    for table, column, parent in tenant_tables():
        number = db.session.execute(
            sa.select(sa.func.count()).select_from(table).where(_condition(table, column, parent, tenant.id))
            .execution_options(all_tenants=True)).scalar_one()
        if number:
            counts[table.name] = number
    return counts


def admin_addresses(tenant: Tenant) -> list[str]:
    """The decrypted e-mail addresses of the tenant's active admins (read before the purge)."""
    with tenant_scope(tenant):
        admins = db.session.execute(
            sa.select(User).where(User.role == ROLE_ADMIN, User.status == STATUS_ACTIVE).order_by(User.id)
        ).scalars().all()
        return sorted({user.email for user in admins if user.email})


# --- the purge -------------------------------------------------------------------------------


def expired_tenants() -> list[Tenant]:
    """Tenants whose JST contract end has passed and whose rows are not purged yet, by code."""
    return db.session.execute(
        sa.select(Tenant).where(Tenant.contract_end < jst_today(), Tenant.purged_at.is_(None)).order_by(Tenant.code)
    ).scalars().all()


def purge_tenant(tenant: Tenant, operator: str, reason: str) -> PurgeResult:
    """Delete every row of one expired tenant, keep the tombstone, write the receipt; commits.

    Everything happens in one transaction: a failure (in a delete, in a plugin's ``purge_tenant``)
    rolls the tenant back and raises.
    """
    code, tenant_id = tenant.code, tenant.id
    # OF tenants: PostgreSQL cannot lock the nullable side of the outer join that loads Tenant.security_policy.
    locked = db.session.execute(sa.select(Tenant).where(Tenant.id == tenant_id).with_for_update(of=Tenant)
                                .execution_options(populate_existing=True)).scalar_one()
    if locked.purged_at is not None or not locked.contract_over:  # another run got there first
        db.session.rollback()
        return PurgeResult(code, tenant.product)
    addresses = admin_addresses(locked)
    db.session.flush()
    tables = tenant_tables()
    counts = {}
    for table, column, parent in tables:
        deleted = db.session.execute(
            table.delete().where(_condition(table, column, parent, tenant_id)).execution_options(all_tenants=True)
        ).rowcount
        if deleted:
            counts[table.name] = deleted
    gone = {table for table, _, _ in tables}
    for obj in list(db.session.identity_map.values()):  # loaded objects of deleted rows must not linger
        if getattr(obj, "__table__", None) in gone:
            db.session.expunge(obj)
    tenant = locked
    plugin_manager().hook.purge_tenant(tenant=tenant)
    now = utcnow()
    tenant.status = STATUS_PURGED
    tenant.purged_at = now
    total = sum(counts.values())
    receipt = PurgeReceipt(tenant_id=tenant_id, tenant_code=code, product=tenant.product,
                           contract_end=tenant.contract_end, purged_at=now, operator=operator[:64],
                           reason=reason[:200], rows=json.dumps(counts, sort_keys=True), total=total, mailed_to=len(addresses))
    db.session.add(receipt)
    # System chain (no current tenant): the tenant's own chain is gone. Counts as "table=n" strings, so a
    # plugin's table name can never be mistaken for a secret detail key.
    audit.record("tenant.purge", actor_login=operator, target=f"tenant:{code}", product=tenant.product,
                 contract_end=tenant.contract_end.isoformat(), total=total, reason=reason,
                 rows=[f"{name}={number}" for name, number in sorted(counts.items())])
    context = {"code": code, "product": tenant.product, "contract_end": tenant.contract_end.isoformat(),
               "at": format_jst(now, seconds=True), "counts": sorted(counts.items()), "total": total,
               "operator": operator, "reason": reason}
    for address in addresses:  # written with no current tenant: tenant_id NULL, never purged
        send_mail(address, f"ご契約終了に伴うデータ削除のお知らせ（会社コード {code}）", RECEIPT_TEMPLATE,
                  tenant=tenant, **context)
    db.session.commit()
    log.info(json.dumps({"event": "tenant.purge", "tenant": code, "total": total}, ensure_ascii=False))
    return PurgeResult(code, tenant.product, counts, receipt)


def purge_expired(operator: str, reason: str, dry_run: bool = False) -> list[PurgeResult]:
    """Purge every expired tenant, one transaction each; a failing tenant is rolled back and reported,
    the others still go. ``dry_run`` only counts."""
    results = []
    for tenant_id, code, product in [(t.id, t.code, t.product) for t in expired_tenants()]:
        tenant = db.session.get(Tenant, tenant_id)
        if dry_run:
            results.append(PurgeResult(code, product, count_rows(tenant)))
            continue
        try:
            results.append(purge_tenant(tenant, operator, reason))
        except Exception as exc:  # noqa: BLE001 - one tenant's failure must not stop the others
            db.session.rollback()
            log.error(json.dumps({"event": "tenant.purge_failed", "tenant": code, "error": type(exc).__name__},
                                 ensure_ascii=False))
            results.append(PurgeResult(code, product, error=f"{type(exc).__name__}: {exc}"[:300]))
    if dry_run:
        db.session.rollback()
    return results
