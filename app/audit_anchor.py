"""Anchors of the audit chains outside the database, so that truncating a chain is detectable.

``anchor()`` appends every chain's head (tenant, last seq, event id, hash, JST time) to one
append-only JSON-lines file under ``KANRI_AUDIT_ANCHOR_DIR``. Each line carries the HMAC of the
previous line and of its own content (keyed from the keyset, like the audit chain), so an edited,
deleted or reordered line breaks the file's own chain. Every run also records an ``audit.anchor``
event in the system chain naming the last line it wrote, so a file cut short at its end (which no
line chain can show by itself) is caught too, as long as the database still holds that event.

``check()`` compares the database with the latest anchor line of each chain: a chain whose last
seq is below the anchored one lost events; a row at the anchored seq whose hash differs was
rewritten after the anchor; a tenant named in the anchor that the database no longer has vanished.
A chain anchored before its tenant was purged at contract end (the tombstone's ``purged_at``) is
expected to be gone: it is reported as purged, not as a loss.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from . import audit
from .crypto import keyset
from .extensions import db
from .models import AuditEvent, Tenant
from .timeutil import to_jst, utcnow

ANCHOR_FILE = "audit-anchors.jsonl"
ANCHOR_ACTION = "audit.anchor"
LINE_VERSION = 1
_LINE_FIELDS = ("v", "n", "at", "chain", "tenant", "tenant_id", "seq", "event_id", "hash", "prev")


def anchor_path() -> Path:
    """The anchor file of the running application."""
    return Path(current_app.config["KANRI_AUDIT_ANCHOR_DIR"]) / ANCHOR_FILE


def _anchor_key() -> bytes:
    return hmac.new(keyset().blind_index_key, b"kanri-audit-anchor-v1", hashlib.sha256).digest()


def _line_mac(fields: dict) -> str:
    payload = json.dumps({k: fields[k] for k in _LINE_FIELDS}, ensure_ascii=False, sort_keys=True,
                         separators=(",", ":"))
    return hmac.new(_anchor_key(), payload.encode("utf-8"), hashlib.sha256).hexdigest()


# --- findings --------------------------------------------------------------------------------


@dataclass
class FileBroken:
    """A line of the anchor file was edited, deleted, reordered or cut."""

    path: Path
    line: int
    reason: str


@dataclass
class FileCut:
    """The database records an anchor line the file no longer has (the file lost its end)."""

    path: Path
    line: int
    file_lines: int


@dataclass
class Truncated:
    """A chain's last seq is below its latest anchor: ``missing`` events were deleted."""

    chain_id: int
    code: str
    anchored_seq: int
    current_seq: int
    anchored_at: str

    @property
    def missing(self) -> int:
        """How many events are gone (anchor seq − current last seq)."""
        return self.anchored_seq - self.current_seq


@dataclass
class Rewritten:
    """The row at the anchored seq no longer has the anchored hash (or id)."""

    chain_id: int
    code: str
    seq: int
    event_id: int
    anchored_at: str


@dataclass
class Vanished:
    """A tenant named in the anchor is no longer in the database."""

    chain_id: int
    code: str
    anchored_seq: int
    current_seq: int
    anchored_at: str

    @property
    def missing(self) -> int:
        """How many of the anchored events are gone."""
        return max(self.anchored_seq - self.current_seq, 0)


@dataclass
class Purged:
    """Not a problem: the chain's tenant was purged at contract end after this anchor, so its chain is gone."""

    chain_id: int
    code: str
    anchored_seq: int
    purged_on: date  # JST date of the purge


@dataclass
class AnchorReport:
    """What ``check()`` found; ``problems`` empty means every anchored chain is intact."""

    path: Path
    exists: bool
    lines: int = 0
    chains_checked: int = 0
    latest_at: str | None = None
    problems: list = field(default_factory=list)
    purged: list = field(default_factory=list)  # Purged: chains gone by a legitimate contract-end purge


@dataclass
class AnchorRun:
    """What ``anchor()`` wrote (and which chains it refused to anchor, with why)."""

    path: Path
    at: str
    written: int
    first_line: int
    problems: list = field(default_factory=list)


# --- reading the file ------------------------------------------------------------------------


def _read_lines(path: Path) -> tuple[list[dict], FileBroken | None]:
    """Parse and check the file's own chain; returns the valid lines before the first broken one."""
    lines: list[dict] = []
    previous = audit.GENESIS
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            reason = None
            entry = None
            if not raw.endswith(b"\n"):
                reason = "incomplete last line (no newline)"
            else:
                try:
                    entry = json.loads(raw.decode("utf-8"))
                    if not isinstance(entry, dict) or any(k not in entry for k in (*_LINE_FIELDS, "mac")):
                        reason = "not an anchor line"
                except (UnicodeDecodeError, ValueError):
                    reason = "not valid JSON"
            if reason is None:
                if entry["v"] != LINE_VERSION:
                    reason = f"unknown version {entry['v']!r}"
                elif entry["n"] != number:
                    reason = f"line number {entry['n']!r} where {number} was expected (line deleted or moved)"
                elif entry["prev"] != previous:
                    reason = "prev does not match the previous line (line deleted, moved or edited)"
                elif not hmac.compare_digest(str(entry["mac"]), _line_mac(entry)):
                    reason = "content does not match its mac (line edited)"
            if reason is not None:
                return lines, FileBroken(path, number, reason)
            lines.append(entry)
            previous = entry["mac"]
    return lines, None


def _latest_by_chain(lines: list[dict]) -> dict[int, dict]:
    latest: dict[int, dict] = {}
    for entry in lines:
        latest[entry["chain"]] = entry
    return latest


# --- comparing with the database -------------------------------------------------------------


def _current_tails(chain_id: int | None = None) -> dict[int, int]:
    table = AuditEvent.__table__
    query = sa.select(table.c.chain_id, sa.func.max(table.c.seq)).group_by(table.c.chain_id)
    if chain_id is not None:
        query = query.where(table.c.chain_id == chain_id)
    return {row[0]: row[1] for row in db.session.execute(query)}


def _tenant_codes() -> dict[int, str]:
    return {row.id: row.code for row in db.session.execute(sa.select(Tenant.id, Tenant.code))}


def _purged_tenants() -> dict[int, datetime]:
    return {row.id: row.purged_at for row in db.session.execute(
        sa.select(Tenant.id, Tenant.purged_at).where(Tenant.purged_at.is_not(None)))}


def _chain_problem(entry: dict, tails: dict[int, int], codes: dict[int, str], purged: dict[int, datetime]):
    """The problem of one chain against its latest anchor line (or its Purged note), or None."""
    table = AuditEvent.__table__
    chain_id = entry["chain"]
    code = entry["tenant"] or ("system" if chain_id == audit.SYSTEM_CHAIN else str(chain_id))
    current = tails.get(chain_id, 0)
    purged_at = purged.get(chain_id)
    if purged_at is not None and datetime.fromisoformat(entry["at"]) <= purged_at:
        # Anchored before the purge deleted the chain; events written since (a failed login naming the
        # old code) start a new chain that the next anchor covers.
        return Purged(chain_id, code, entry["seq"], to_jst(purged_at).date())
    if chain_id != audit.SYSTEM_CHAIN and chain_id not in codes:
        return Vanished(chain_id, code, entry["seq"], current, entry["at"])
    if current < entry["seq"]:
        return Truncated(chain_id, code, entry["seq"], current, entry["at"])
    row = db.session.execute(
        sa.select(table.c.id, table.c.hash).where(table.c.chain_id == chain_id, table.c.seq == entry["seq"])
    ).first()
    if row is None or row.hash != entry["hash"] or row.id != entry["event_id"]:
        return Rewritten(chain_id, code, entry["seq"], entry["event_id"], entry["at"])
    return None


def _recorded_anchor_line() -> tuple[int, str] | None:
    """The last anchor line the database says was written: (line number, mac)."""
    table = AuditEvent.__table__
    row = db.session.execute(
        sa.select(table.c.details).where(table.c.chain_id == audit.SYSTEM_CHAIN, table.c.action == ANCHOR_ACTION)
        .order_by(table.c.seq.desc()).limit(1)
    ).first()
    if row is None:
        return None
    try:
        details = json.loads(row.details)
        return int(details["line"]), str(details["mac"])
    except (ValueError, KeyError, TypeError):
        return None  # an edited row: `audit.verify` names it through the chain itself


def check(chain_id: int | None = None) -> AnchorReport:
    """Check the anchor file and every anchored chain (or one chain) against the database."""
    path = anchor_path()
    recorded = _recorded_anchor_line()
    if not path.is_file():
        report = AnchorReport(path=path, exists=False)
        if recorded is not None:  # anchors were written, the file is gone: that is not "no anchor yet"
            report.problems.append(FileCut(path, recorded[0], 0))
        return report
    lines, broken = _read_lines(path)
    report = AnchorReport(path=path, exists=True, lines=len(lines))
    if broken is not None:
        report.problems.append(broken)
    elif recorded is not None:
        number, mac = recorded
        if number > len(lines) or lines[number - 1]["mac"] != mac:
            report.problems.append(FileCut(path, number, len(lines)))
    if lines:
        report.latest_at = lines[-1]["at"]
    latest = _latest_by_chain(lines)
    if chain_id is not None:
        latest = {k: v for k, v in latest.items() if k == chain_id}
    tails = _current_tails(chain_id)
    codes = _tenant_codes()
    purged = _purged_tenants()
    for cid in sorted(latest):
        problem = _chain_problem(latest[cid], tails, codes, purged)
        if isinstance(problem, Purged):
            report.purged.append(problem)
            continue
        report.chains_checked += 1
        if problem is not None:
            report.problems.append(problem)
    return report


# --- writing ---------------------------------------------------------------------------------


def _heads() -> list[dict]:
    table = AuditEvent.__table__
    tails = sa.select(table.c.chain_id, sa.func.max(table.c.seq).label("seq")).group_by(table.c.chain_id).subquery()
    query = (sa.select(table.c.chain_id, table.c.tenant_id, table.c.seq, table.c.id, table.c.hash)
             .join(tails, sa.and_(table.c.chain_id == tails.c.chain_id, table.c.seq == tails.c.seq))
             .order_by(table.c.chain_id))
    return [dict(row._mapping) for row in db.session.execute(query)]


def _open_for_append(path: Path) -> int:
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True)
        os.chmod(directory, 0o700)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    if created:  # make the new directory entry durable too
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return fd


def anchor() -> AnchorRun:
    """Append the head of every chain to the anchor file (fsynced) and record the run.

    A chain that already disagrees with its latest anchor (truncated, rewritten, vanished) is not
    anchored again, so its old anchor keeps reporting the loss; the run lists it in ``problems``.
    A tenant chain whose tenant row is already gone is not anchored. A broken or cut anchor file
    is not appended to at all (appending would hide the damage): the run reports only that.
    """
    path = anchor_path()
    fd = _open_for_append(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # two runs at once must not interleave their lines
        report = check()
        broken = [p for p in report.problems if isinstance(p, (FileBroken, FileCut))]
        at = to_jst(utcnow()).isoformat(timespec="seconds")
        if broken:
            return AnchorRun(path=path, at=at, written=0, first_line=0, problems=broken)
        lines, _ = _read_lines(path)
        previous = lines[-1]["mac"] if lines else audit.GENESIS
        refused = {p.chain_id for p in report.problems if isinstance(p, (Truncated, Rewritten, Vanished))}
        codes = _tenant_codes()
        number = len(lines)
        first = number + 1
        out = []
        for head in _heads():
            if head["chain_id"] in refused or (head["chain_id"] != audit.SYSTEM_CHAIN
                                               and head["chain_id"] not in codes):
                continue
            number += 1
            entry = {
                "v": LINE_VERSION, "n": number, "at": at, "chain": head["chain_id"],
                "tenant": codes.get(head["chain_id"]) if head["chain_id"] != audit.SYSTEM_CHAIN else None,
                "tenant_id": head["tenant_id"], "seq": head["seq"], "event_id": head["id"],
                "hash": head["hash"], "prev": previous,
            }
            entry["mac"] = previous = _line_mac(entry)
            out.append(json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n")
        if out:
            os.write(fd, "".join(out).encode("utf-8"))
            os.fsync(fd)
            audit.record(ANCHOR_ACTION, actor_login="operator", target=f"anchor:{path.name}",
                         line=number, mac=previous, chains=len(out))
            db.session.commit()
        return AnchorRun(path=path, at=at, written=len(out), first_line=first if out else 0,
                         problems=report.problems)
    finally:
        os.close(fd)
