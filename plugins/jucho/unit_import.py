"""住戸 CSV import: read an upload (UTF-8 with or without BOM, Shift_JIS/cp932), check every row, keep the result
server-side as a pending import bound to the user and building, and apply it once, all or nothing.

Nothing is written to the units at upload; the pending import holds the parsed rows encrypted (they may carry
arrears), expires after ``IMPORT_TTL`` and is marked applied in the same transaction that writes the units."""
from __future__ import annotations

import csv
import io
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from app.crypto import bind_rows
from app.extensions import db
from app.softdelete import PurgedRows
from app.timeutil import utcnow

from .models_units import JuchoUnit, JuchoUnitImport
from .units import COLUMNS_BY_HEADER, LABELS, ValueRefused, number_error, store_personal, units_by_number

MAX_BYTES = 1_000_000
MAX_ROWS = 2_000
IMPORT_TTL = timedelta(minutes=30)
ENCODINGS = (("utf-8-sig", "UTF-8"), ("cp932", "Shift_JIS"))


class ImportRefused(ValueError):
    """The file as a whole cannot be imported (encoding, size, header); the message is Japanese."""


@dataclass
class Plan:
    """What an upload would do: every row with its action (new / update / error) and errors, plus notices."""

    columns: list[str]
    rows: list[dict] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    encoding: str = ""

    @property
    def error_count(self) -> int:
        """Rows with at least one error."""
        return sum(1 for row in self.rows if row["errors"])

    def count(self, action: str) -> int:
        """Rows that would be created ('new') or updated ('update')."""
        return sum(1 for row in self.rows if row["action"] == action)


def decode(data: bytes) -> tuple[str, str]:
    """The text of an upload and the name of its encoding (UTF-8 tried first, then cp932)."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(f"ファイルが大きすぎます（{MAX_BYTES // 1000:,}KBまで）。ファイルを分けて取り込んでください。")
    if not data.strip():
        raise ImportRefused("ファイルが空です。")
    for encoding, name in ENCODINGS:
        try:
            return data.decode(encoding), name
        except UnicodeDecodeError:
            continue
    raise ImportRefused("文字コードを判別できません。CSVを UTF-8 または Shift_JIS で保存してください。")


def _header(cell: str) -> str:
    return unicodedata.normalize("NFKC", cell or "").strip()


def plan(data: bytes, building_id: int, *, include_personal: bool) -> Plan:
    """Check an upload against the building's units; nothing is written."""
    text, encoding = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise ImportRefused("1行目に見出し（住戸番号 など）がありません。") from exc
    by_header = {unicodedata.normalize("NFKC", h).strip(): h for h in COLUMNS_BY_HEADER}
    positions, notices, unknown = {}, [], []
    for index, cell in enumerate(header):
        key = _header(cell)
        column = COLUMNS_BY_HEADER.get(by_header.get(key, ""))
        if column is None:
            if key:
                unknown.append(key)
            continue
        if column.personal and not include_personal:
            notices.append(f"「{column.header}」の列は管理者のみ取り込めます。この列は読み込みません。")
            continue
        if column.name in positions:
            raise ImportRefused(f"見出し「{column.header}」が2回あります。")
        positions[column.name] = index
    if "number" not in positions:
        raise ImportRefused("1行目に「住戸番号」の列がありません。テンプレートCSVの見出しを使ってください。")
    if unknown:
        notices.append(f"次の列は読み込みません: {'、'.join(unknown)}")
    result = Plan(columns=list(positions), notices=notices, encoding=encoding)
    existing = set(units_by_number(building_id))
    seen: dict[str, int] = {}
    try:
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(result.rows) >= MAX_ROWS:
                raise ImportRefused(f"行数が多すぎます（{MAX_ROWS:,}行まで）。ファイルを分けて取り込んでください。")
            result.rows.append(_row(line, cells, positions, existing, seen))
    except csv.Error as exc:
        raise ImportRefused("CSVの形式が正しくありません（引用符 \" の対応などをご確認ください）。") from exc
    if not result.rows:
        raise ImportRefused("取り込む行がありません（見出しの行だけです）。")
    return result


def _row(line: int, cells: list[str], positions: dict[str, int], existing: set[str], seen: dict[str, int]) -> dict:
    values, errors = {}, []
    for name, index in positions.items():
        raw = cells[index] if index < len(cells) else ""
        try:
            value = COLUMNS_BY_HEADER[LABELS[name]].parse(raw)
        except ValueRefused as exc:
            errors.append([LABELS[name], str(exc)])
            continue
        values[name] = str(value) if isinstance(value, Decimal) else value
    number = values.get("number", "")
    problem = number_error(number)
    if problem:
        errors.insert(0, [LABELS["number"], problem])
    elif number in seen:
        errors.insert(0, [LABELS["number"], f"住戸番号「{number}」がファイル内で重複しています（{seen[number]}行目）。"])
    else:
        seen[number] = line
    action = "error" if errors else ("update" if number in existing else "new")
    return {"line": line, "number": number, "values": values, "errors": errors, "action": action}


# --- pending imports -----------------------------------------------------------------------------------------

def save_pending(result: Plan, building_id: int, user_id: int, filename: str) -> JuchoUnitImport:
    """Keep a checked upload server-side (encrypted) for this user and building; older ones of theirs go."""
    db.session.execute(sa.delete(JuchoUnitImport).where(JuchoUnitImport.user_id == user_id,
                                                        JuchoUnitImport.expires_at < utcnow()))
    pending = JuchoUnitImport(building_id=building_id, user_id=user_id, filename=filename[:200],
                              payload=json.dumps({"columns": result.columns, "rows": result.rows,
                                                  "notices": result.notices, "encoding": result.encoding},
                                                 ensure_ascii=False),
                              expires_at=utcnow() + IMPORT_TTL)
    db.session.add(pending)
    db.session.flush()
    return pending


def purge_expired(now, dry_run: bool = False) -> list[PurgedRows]:
    """Delete every tenant's pending imports that expired before ``now`` (their encrypted rows may hold arrears);
    the counts per tenant. Without this daily sweep they would stay until the same user uploads again."""
    expired = JuchoUnitImport.expires_at < now
    counts = db.session.execute(sa.select(JuchoUnitImport.tenant_id, sa.func.count(JuchoUnitImport.id))
                                .where(expired).group_by(JuchoUnitImport.tenant_id)
                                .order_by(JuchoUnitImport.tenant_id).execution_options(all_tenants=True)).all()
    if not dry_run and counts:
        db.session.execute(sa.delete(JuchoUnitImport).where(expired)
                           .execution_options(all_tenants=True, synchronize_session=False))
    return [PurgedRows(tenant_id, JuchoUnitImport.__tablename__, count) for tenant_id, count in counts]


def pending_of(import_id: int, building_id: int, user_id: int) -> JuchoUnitImport | None:
    """The user's own pending import of this building (None for another user's, building's or tenant's)."""
    return db.session.execute(sa.select(JuchoUnitImport).where(
        JuchoUnitImport.id == import_id, JuchoUnitImport.building_id == building_id,
        JuchoUnitImport.user_id == user_id)).scalar_one_or_none()


def plan_of(pending: JuchoUnitImport) -> Plan:
    """The checked rows of a pending import."""
    data = json.loads(pending.payload or "{}")
    return Plan(columns=data.get("columns", []), rows=data.get("rows", []), notices=data.get("notices", []),
                encoding=data.get("encoding", ""))


def state_of(pending: JuchoUnitImport) -> str:
    """'applied', 'expired' or 'open'."""
    if pending.applied_at is not None:
        return "applied"
    if pending.expires_at <= utcnow():
        return "expired"
    return "open"


def _unit_values(values: dict) -> dict:
    result = {}
    for name, value in values.items():
        if name == "area" and value is not None:
            value = Decimal(value)
        elif name in ("arrears_management", "arrears_reserve", "arrears_usage", "late_charge"):
            value = store_personal(value)
        result[name] = value
    return result


def apply(pending: JuchoUnitImport) -> tuple[int, int]:
    """Write every row of an open, error-free pending import (the caller commits); returns (created, updated).

    Claims the import first (``applied_at`` set only where it is still NULL), so a second apply — a double click,
    a replayed POST, another process — finds nothing to claim and raises ``ImportRefused``."""
    result = plan_of(pending)
    if result.error_count:
        raise ImportRefused("エラーのある行があるため取り込めません。CSVを修正してもう一度アップロードしてください。")
    now = utcnow()
    claimed = db.session.execute(
        sa.update(JuchoUnitImport).where(JuchoUnitImport.id == pending.id, JuchoUnitImport.applied_at.is_(None),
                                         JuchoUnitImport.expires_at > now)
        .values(applied_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise ImportRefused("この取り込みは既に実行済みか、有効期限が切れています。")
    existing = units_by_number(pending.building_id)
    new_rows, updated = [], 0
    for row in result.rows:
        values = _unit_values(row["values"])
        unit = existing.get(row["number"])
        if unit is None:
            new_rows.append({"building_id": pending.building_id, "layout": "", "usage_fee_detail": "",
                             "created_at": now, "updated_at": now, **values})
        else:
            for name, value in values.items():
                setattr(unit, name, value)
            updated += 1
    if new_rows:
        db.session.execute(sa.insert(JuchoUnit), bind_rows(JuchoUnit, new_rows))
    pending.payload = "{}"  # the parsed rows (and any arrears) are not kept once applied
    return len(new_rows), updated
