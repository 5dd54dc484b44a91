"""Tenant export: everything a tenant owns as CSV + JSON per table in one zip, decrypted, with a manifest.

Tables are found, not listed: every ``TenantScoped`` model (``app.tenancy.tenant_models()``, core and
plugins, the operation log ``audit_events`` included). Secrets never leave:

* a whole table is left out when its model sets ``__export_exclude__ = True`` (sessions, pending logins,
  login and registration codes: secrets or short-lived noise);
* a column is left out when its name is ``row_key`` or ``hash`` or ends with ``_hash`` / ``_bidx`` or
  starts with ``password`` / ``nonce`` / ``token``, or when the model names it in
  ``__export_exclude__ = ("column", …)``.

Rows are read in keyset batches by primary key inside the tenant's scope (the ORM decrypts), the
session is emptied after every batch, CSV goes straight into its zip entry and JSON into a temporary
file that is then copied into the zip, so memory stays flat whatever the row count. Operators'
requests for an export (``export_requests``) are kept and decided here too.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, lazyload, mapped_column

from app import audit
from app.crypto import EncryptedText
from app.csv_export import csv_lines
from app.extensions import db
from app.mailer import send_mail
from app.models import ROLE_ADMIN, STATUS_ACTIVE, Tenant, User
from app.operator import record_access
from app.products import product_name
from app.tenancy import TenantScoped, tenant_models, tenant_scope
from app.timeutil import UTCDateTime, format_jst, to_jst, utcnow

log = logging.getLogger("kanri.export")

FORMAT = "kanri-export/1"
BATCH = 500
_COPY = 256 * 1024

# Rows that are not tenant-owned tables but a reader of the manifest may look for.
NOT_EXPORTED_ELSEWHERE = {
    "mail_outbox": "送信待ち・送信済みメール（宛先と本文は一時的な送信用データ）",
    "mail_attempts": "メール送信の試行記録",
}
EXCLUDED_COLUMN_RULE = ("row_key, hash, *_hash, *_bidx, password*, nonce*, token*, "
                      "and the columns a model names in __export_exclude__")

STATUS_OPEN = "open"
STATUS_FULFILLED = "fulfilled"
STATUS_REJECTED = "rejected"
STATUS_LABELS = {STATUS_OPEN: "申請中", STATUS_FULFILLED: "対応済み", STATUS_REJECTED: "却下"}
NOTE_MAX = 1000


class ExportError(RuntimeError):
    """The export or a decision on a request cannot be made (message in Japanese)."""


class ExportRequest(TenantScoped, db.Model):
    """A tenant admin's request for a data export, decided by an operator (fulfilled or rejected)."""

    __tablename__ = "export_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"),
                                                     index=True, nullable=True)
    requested_login: Mapped[str] = mapped_column(sa.String(64))
    note: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=STATUS_OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_operator: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    handover_note: Mapped[str | None] = mapped_column(EncryptedText(), nullable=True)

    @property
    def status_label(self) -> str:
        """Japanese label of the state."""
        return STATUS_LABELS.get(self.status, self.status)


# --- which tables and columns ----------------------------------------------------------------------

def is_secret_column(name: str, model=None) -> bool:
    """True for a column that never leaves in an export (see the module docstring for the rule)."""
    opt_out = getattr(model, "__export_exclude__", ()) if model is not None else ()
    if isinstance(opt_out, (tuple, list, set, frozenset)) and name in opt_out:
        return True
    return (name in ("row_key", "hash") or name.endswith(("_hash", "_bidx"))
            or name.startswith(("password", "nonce", "token")))


def table_excluded(model) -> bool:
    """True when the model opts its whole table out (``__export_exclude__ = True``)."""
    return getattr(model, "__export_exclude__", None) is True


@dataclass
class TablePlan:
    """One exported table: its model, the attributes and column names written, the columns left out."""

    model: type
    name: str
    attributes: list[str]
    columns: list[str]
    excluded: list[str]


def plan() -> tuple[list[TablePlan], list[dict]]:
    """The tables to export (parents first) and the tables left out with the reason."""
    tables, skipped = [], []
    for model in reversed(tenant_models()):
        table = model.__table__
        if table_excluded(model):
            skipped.append({"table": table.name, "reason": "秘密情報または一時的なデータ（__export_exclude__）"})
            continue
        mapper = sa.inspect(model)
        attributes, columns, excluded = [], [], []
        for column in table.columns:
            if is_secret_column(column.name, model):
                excluded.append(column.name)
                continue
            attributes.append(mapper.get_property_by_column(column).key)
            columns.append(column.name)
        tables.append(TablePlan(model, table.name, attributes, columns, excluded))
    skipped += [{"table": name, "reason": reason} for name, reason in NOT_EXPORTED_ELSEWHERE.items()]
    return tables, skipped


# --- reading ---------------------------------------------------------------------------------------

def count_rows(model) -> int:
    """Rows of the current tenant in the model's table."""
    # 削除済み rows are the tenant's data too: the export holds them (with deleted_at / deleted_by).
    return db.session.execute(sa.select(sa.func.count()).select_from(model)
                              .execution_options(include_deleted=True)).scalar_one()


def iter_rows(table: TablePlan, batch: int = BATCH):
    """Yield each row of the current tenant as a list of values, in primary-key batches (memory stays flat)."""
    key = sa.inspect(table.model).primary_key[0]
    last = None
    while True:
        query = (sa.select(table.model).options(lazyload("*")).order_by(key).limit(batch)
                 .execution_options(include_deleted=True))
        if last is not None:
            query = query.where(key > last)
        objects = db.session.execute(query).scalars().all()
        if not objects:
            return
        last = getattr(objects[-1], sa.inspect(table.model).get_property_by_column(key).key)
        rows = [[getattr(obj, attribute) for attribute in table.attributes] for obj in objects]
        del objects
        db.session.expunge_all()
        yield from rows


def json_value(value):
    """A value as JSON: times in JST (ISO 8601 with +09:00), dates ISO, decimals as text."""
    if isinstance(value, datetime):
        return to_jst(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


# --- writing ---------------------------------------------------------------------------------------

class _Hashing:
    """A write-only wrapper that hashes and counts what passes through."""

    def __init__(self, target):
        self.target = target
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.target.write(data)


@dataclass
class ExportResult:
    """What an export wrote."""

    path: Path
    manifest: dict
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All rows written."""
        return sum(self.counts.values())


def open_exclusive(path: Path):
    """Create path for writing with mode 0600; refuse an existing file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ExportError(f"{path} は既に存在します。上書きはしません。") from None
    except OSError as exc:
        raise ExportError(f"{path} を作成できません: {exc.strerror}") from None
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


def _snapshot() -> None:
    """On PostgreSQL read every table in one REPEATABLE READ transaction (one consistent snapshot)."""
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def export_tenant(tenant: Tenant, out: Path | str, *, progress: Callable[[int], None] | None = None,
                  totals: Callable[[int], None] | None = None) -> ExportResult:
    """Write the tenant's zip to ``out`` (0600, never over an existing file); returns what was written.

    ``totals(n)`` is called once with the number of rows to write, ``progress(k)`` after every ``k``
    rows. Nothing is committed or audited here: the caller records ``tenant.export`` (``record_export``).
    """
    out = Path(out)
    tenant_id, code, name, product = tenant.id, tenant.code, tenant.name, tenant.product
    handle = open_exclusive(out)
    try:
        with handle, zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _snapshot()
            started = utcnow()
            tenant = db.session.get(Tenant, tenant_id)
            with tenant_scope(tenant):
                tables, skipped = plan()
                expected = {table.name: count_rows(table.model) for table in tables}
                if totals:
                    totals(sum(expected.values()))
                hashes, entries, counts = {}, [], {}
                spool_dir = out.parent
                for table in tables:
                    csv_name, json_name = f"csv/{table.name}.csv", f"json/{table.name}.json"
                    count, hashes[csv_name], hashes[json_name] = _write_table(
                        archive, table, csv_name, json_name, spool_dir, progress, started)
                    counts[table.name] = count
                    entries.append({"table": table.name, "rows": count, "columns": table.columns,
                                    "excluded_columns": table.excluded,
                                    "files": {"csv": csv_name, "json": json_name}})
            manifest = {
                "format": FORMAT,
                "tenant": {"code": code, "name": name, "product": product, "product_name": product_name(product)},
                "exported_at": format_jst(started, seconds=True),
                "encoding": {"csv": "UTF-8 (BOM), CRLF, times in JST; cells starting with = + - @ are prefixed with '",
                             "json": "UTF-8, one array of objects per table, times ISO 8601 +09:00"},
                "tables": entries,
                "excluded": {"tables": skipped, "column_rule": EXCLUDED_COLUMN_RULE},
                "sha256": hashes,
            }
            archive.writestr(_entry("manifest.json", started), json.dumps(manifest, ensure_ascii=False, indent=2))
    except BaseException:
        out.unlink(missing_ok=True)
        db.session.rollback()
        raise
    db.session.rollback()  # end the read snapshot; nothing was written
    return ExportResult(out, manifest, counts)


def _entry(name: str, stamp: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=to_jst(stamp).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info


def _write_table(archive, table: TablePlan, csv_name: str, json_name: str, spool_dir: Path,
                 progress, stamp: datetime) -> tuple[int, str, str]:
    count = 0
    with tempfile.TemporaryFile(dir=spool_dir) as spool:  # unlinked at once; removed on close
        spool.write(b"[")

        def rows():
            nonlocal count
            for values in iter_rows(table):
                spool.write((b",\n" if count else b"\n") + json.dumps(
                    dict(zip(table.columns, map(json_value, values), strict=True)),
                    ensure_ascii=False).encode("utf-8"))
                count += 1
                if progress and count % BATCH == 0:
                    progress(BATCH)
                yield values

        with archive.open(_entry(csv_name, stamp), "w", force_zip64=True) as entry:
            target = _Hashing(entry)
            for text in csv_lines(table.columns, rows(), lambda values: values):
                target.write(text.encode("utf-8"))
        spool.write(b"\n]\n" if count else b"]\n")
        if progress and count % BATCH:
            progress(count % BATCH)
        spool.seek(0)
        with archive.open(_entry(json_name, stamp), "w", force_zip64=True) as entry:
            copied = _Hashing(entry)
            for block in iter(lambda: spool.read(_COPY), b""):
                copied.write(block)
    return count, target.digest.hexdigest(), copied.digest.hexdigest()


# --- requests --------------------------------------------------------------------------------------

def open_request() -> ExportRequest | None:
    """The current tenant's open request, if any."""
    return db.session.execute(sa.select(ExportRequest).where(ExportRequest.status == STATUS_OPEN)
                              .order_by(ExportRequest.id).limit(1)).scalar_one_or_none()


def request_export(tenant: Tenant, user: User, note: str | None) -> ExportRequest:
    """An admin's request (audited, not committed); refused while another one is open."""
    db.session.execute(sa.select(Tenant.id).where(Tenant.id == tenant.id).with_for_update())
    if open_request() is not None:
        raise ExportError("申請中のデータ書き出しがあります。対応が終わるまで新しい申請はできません。")
    item = ExportRequest(requested_by=user.id, requested_login=user.login_id, note=(note or None),
                         status=STATUS_OPEN, created_at=utcnow())
    db.session.add(item)
    db.session.flush()
    audit.record("export.request", target=f"export_request:{item.id}", export_request=item.id)
    _tell_operators(tenant, item)
    return item


def _tell_operators(tenant: Tenant, item: ExportRequest) -> None:
    """Queue a mail to KANRI_OPS_EMAIL (in the request's transaction); the admin's note stays out of it: an
    operator reads it with `flask tenant export-requests`, which records that reading in the tenant's log."""
    address = current_app.config.get("KANRI_OPS_EMAIL")
    if not address:
        log.warning(json.dumps({"event": "export.no_ops_email", "tenant": tenant.code, "export_request": item.id}))
        return
    send_mail(address, f"データ書き出しの申請がありました（{tenant.code}）", "export_requested",
              tenant=tenant, item=item, requested=format_jst(item.created_at))


def open_requests_all_tenants(reason: str, operator: str) -> list[dict]:
    """Every tenant's open requests, oldest first: id, created_at, requested_login, tenant code and the
    admin's note (decrypted inside that request's own tenant scope). The operator's reading is recorded in
    each listed tenant's log. Commits."""
    rows = db.session.execute(
        sa.select(ExportRequest.id, ExportRequest.created_at, ExportRequest.requested_login, Tenant)
        .join(Tenant, Tenant.id == ExportRequest.tenant_id)
        .where(ExportRequest.status == STATUS_OPEN).order_by(ExportRequest.created_at, ExportRequest.id)
        .execution_options(all_tenants=True)).all()
    found = []
    for request_id, created_at, login, tenant in rows:
        with tenant_scope(tenant):
            note = db.session.get(ExportRequest, request_id).note
            record_access(tenant, "tenant export-requests", reason, operator[:64], export_request=request_id)
        found.append({"id": request_id, "created_at": created_at, "requested_login": login, "tenant": tenant.code,
                      "note": note})
    db.session.commit()
    return found


def find_request(request_id: int) -> tuple[str, Tenant]:
    """The status of the request with this id in any tenant and its tenant, or ExportError."""
    found = db.session.execute(
        sa.select(ExportRequest.status, Tenant).join(Tenant, Tenant.id == ExportRequest.tenant_id)
        .where(ExportRequest.id == request_id).execution_options(all_tenants=True)).first()
    if found is None:
        raise ExportError(f"書き出し申請 {request_id} はありません。")
    return found[0], found[1]


def _admin_addresses() -> list[str]:
    admins = db.session.execute(sa.select(User).where(User.role == ROLE_ADMIN, User.status == STATUS_ACTIVE)
                                .order_by(User.id)).scalars()
    return [admin.email for admin in admins if admin.email]


def _decide(tenant: Tenant, request_id: int, status: str, operator: str, note: str | None) -> ExportRequest:
    item = db.session.get(ExportRequest, request_id)
    if item is None:
        raise ExportError(f"書き出し申請 {request_id} はテナント {tenant.code} にありません。")
    if item.status != STATUS_OPEN:
        raise ExportError(f"書き出し申請 {request_id} は既に{item.status_label}です。")
    item.status = status
    item.decided_at = utcnow()
    item.decided_by_operator = operator[:64]
    item.handover_note = note or None
    return item


def record_export(tenant: Tenant, result: ExportResult, *, reason: str, request_id: int | None = None,
                  operator: str = "operator", note: str | None = None) -> None:
    """Audit ``tenant.export`` (counts only) and the operator's access with the reason and the file's size in the
    tenant's chain; with request_id mark it fulfilled and mail the tenant's admins. Commits."""
    with tenant_scope(tenant):
        record_access(tenant, "tenant export", reason, operator[:64], rows=result.total,
                      file_bytes=result.path.stat().st_size, export_request=request_id)
        item = None
        if request_id is not None:
            item = _decide(tenant, request_id, STATUS_FULFILLED, operator, note)
        audit.record("tenant.export", tenant=tenant, actor_login=operator[:64], target=f"tenant:{tenant.code}",
                     tables=len(result.counts), rows=result.total,
                     counts=[f"{name}={count}" for name, count in result.counts.items()],
                     export_request=request_id)
        if item is not None:
            audit.record("export.fulfil", tenant=tenant, actor_login=operator[:64],
                         target=f"export_request:{item.id}")
            addresses = _admin_addresses()
            if addresses:
                send_mail(addresses, "データ書き出しの申請に対応しました", "export_fulfilled",
                          tenant=tenant, item=item, decided=format_jst(item.decided_at), note=item.handover_note)
        db.session.commit()


def reject_request(request_id: int, reason: str, operator: str = "operator") -> int:
    """Reject an open request with a reason (audited as the operator's access too, admins mailed). Commits."""
    _status, tenant = find_request(request_id)
    with tenant_scope(tenant):
        item = _decide(tenant, request_id, STATUS_REJECTED, operator, reason)
        record_access(tenant, "tenant export-reject", reason, operator[:64], export_request=request_id)
        audit.record("export.reject", tenant=tenant, actor_login=operator[:64], target=f"export_request:{item.id}")
        addresses = _admin_addresses()
        if addresses:
            send_mail(addresses, "データ書き出しの申請を却下しました", "export_rejected",
                      tenant=tenant, item=item, decided=format_jst(item.decided_at), note=item.handover_note)
        db.session.commit()
    return request_id

