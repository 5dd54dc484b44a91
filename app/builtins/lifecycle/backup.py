"""Encrypted, checksummed backups of the whole database at several sites, and their restore.

``run()`` takes a consistent snapshot while the application keeps serving (SQLite's online backup
API; ``pg_dump --format=custom`` on PostgreSQL, inside the same exported snapshot the manifest's
row counts are read from), compresses and encrypts it with the backup key (``stream``), and writes
the file and its manifest to every site in ``KANRI_BACKUP_SITES``. A site keeps
``KANRI_BACKUP_GENERATIONS`` generations; the oldest goes only after the new one has been read back
from that site and its checksum matched. One failing site never stops the others.

``verify()`` downloads a generation, checks the manifest's MAC, size and SHA-256, decrypts it,
restores it into a scratch database (a temporary SQLite file, or a scratch PostgreSQL database),
runs the integrity checks and compares row counts and audit chain heads with the manifest.
``restore()`` verifies first, then replaces the live database while the maintenance flag makes
every instance answer 503; ``record_restored()`` then writes the operator's access (who, why, which
generation) into every live tenant's chain of the restored database.
"""
from __future__ import annotations

import glob
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import shutil
import sqlite3
import subprocess  # nosec B404  # pg_dump and pg_restore with argument lists, never a shell
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import Tenant
from app.operator import record_access
from app.tenancy import tenant_scope
from app.timeutil import to_jst, utcnow

from . import stream
from .sites import SiteError, parse_sites, scratch_dir

log = logging.getLogger("kanri.backup")
MANIFEST_VERSION = 1
_ID = re.compile(r"^kanri-(\d{8}-\d{6}-\d{6})\.(kbk|json)$")
_ID_ONLY = re.compile(r"^\d{8}-\d{6}-\d{6}$")


class BackupError(RuntimeError):
    """The backup, verification or restore cannot go on; the message says why (no secrets)."""


# --- settings --------------------------------------------------------------------------------


def backup_key() -> bytes:
    """The backup key: KANRI_BACKUP_KEY, or the key file (generated once outside production)."""
    config = current_app.config
    if config.get("KANRI_BACKUP_KEY"):
        try:
            return stream.decode_key(config["KANRI_BACKUP_KEY"])
        except ValueError as exc:
            raise BackupError(f"KANRI_BACKUP_KEY が正しくありません ({exc})") from exc
    path = Path(config.get("KANRI_BACKUP_KEY_FILE") or Path(current_app.instance_path) / "backup.key")
    if not path.exists():
        if config.get("KANRI_ENV") == "production":
            raise BackupError("バックアップ鍵がありません (set KANRI_BACKUP_KEY or KANRI_BACKUP_KEY_FILE)")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(stream.encode_key(stream.generate_key()) + "\n")
    try:
        return stream.decode_key(path.read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"バックアップ鍵ファイル {path} を読めません ({exc})") from exc


def sites() -> list:
    """The configured sites, numbered from 1."""
    config = current_app.config
    found = parse_sites(config.get("KANRI_BACKUP_SITES") or "", current_app.instance_path,
                        config.get("KANRI_BACKUP_S3_ENDPOINT"))
    if not found:
        raise BackupError("バックアップ先がありません (KANRI_BACKUP_SITES is empty)")
    return found


def _site(number: int | None) -> list:
    every = sites()
    if number is None:
        return every
    if not 1 <= number <= len(every):
        raise BackupError(f"バックアップ先 {number} はありません（1〜{len(every)}）")
    return [every[number - 1]]


def generations_to_keep() -> int:
    """How many generations each site keeps (at least 1)."""
    return max(int(current_app.config.get("KANRI_BACKUP_GENERATIONS") or 7), 1)


def check_id(backup_id: str) -> str:
    """Refuse anything but an id ``run`` makes (YYYYMMDD-HHMMSS-ffffff): it becomes a file name."""
    if not _ID_ONLY.fullmatch(backup_id or ""):
        raise BackupError(f"バックアップ ID の形式が正しくありません（例: 20261130-030000-123456）: {backup_id[:40]!r}")
    return backup_id


def data_name(backup_id: str) -> str:
    """File name of a generation's encrypted database."""
    return f"kanri-{backup_id}.kbk"


def manifest_name(backup_id: str) -> str:
    """File name of a generation's manifest."""
    return f"kanri-{backup_id}.json"


# --- the database ----------------------------------------------------------------------------


def _kind() -> str:
    name = db.engine.url.get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"{name} のバックアップには対応していません")
    return name


def _pg_tool(name: str) -> str:
    configured = current_app.config.get("KANRI_PG_BIN")
    candidates = [os.path.join(configured, name)] if configured else []
    found = shutil.which(name)
    if found:
        candidates.append(found)
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(f"{name} が見つかりません (install the PostgreSQL client or set KANRI_PG_BIN)")


def _pg_args(url: sa.engine.URL) -> tuple[list[str], dict]:
    """Connection arguments for the PostgreSQL tools; the password goes in the environment, not argv."""
    args = []
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run_tool(command: list[str], env: dict, what: str) -> None:
    # An argument list (no shell); the program is pg_dump/pg_restore, the arguments come from settings.
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
    if result.returncode != 0:
        lines = [line for line in (result.stderr or "").strip().splitlines() if line.strip()]
        raise BackupError(f"{what} が失敗しました: {(lines[-1] if lines else result.returncode)}")


def database_facts(connection) -> dict:
    """Schema revision, row count of every table and every audit chain's head, read on ``connection``."""
    tables = sorted(sa.inspect(connection).get_table_names())
    counts = {name: connection.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
              for name in tables}
    revision = None
    if "alembic_version" in tables:
        revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    chains = []
    if "audit_events" in tables:
        events = sa.table("audit_events", sa.column("chain_id"), sa.column("seq"), sa.column("hash"))
        tails = (sa.select(events.c.chain_id, sa.func.max(events.c.seq).label("seq"))
                 .group_by(events.c.chain_id).subquery())
        rows = connection.execute(
            sa.select(events.c.chain_id, events.c.seq, events.c.hash)
            .join(tails, sa.and_(events.c.chain_id == tails.c.chain_id, events.c.seq == tails.c.seq))
            .order_by(events.c.chain_id)).all()
        codes = {}
        if "tenants" in tables:
            tenants = sa.table("tenants", sa.column("id"), sa.column("code"))
            codes = dict(connection.execute(sa.select(tenants.c.id, tenants.c.code)).all())
        chains = [{"chain": row.chain_id, "tenant": "system" if row.chain_id == 0 else codes.get(row.chain_id),
                   "seq": row.seq, "hash": row.hash} for row in rows]
    return {"revision": revision, "tables": counts, "chains": chains}


def _sqlite_facts(path: Path) -> dict:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return database_facts(connection)
    finally:
        engine.dispose()


def _snapshot(target: Path) -> dict:
    """Write a consistent snapshot of the live database to ``target``; return its facts."""
    if _kind() == "sqlite":
        source = sqlite3.connect(db.engine.url.database, timeout=60)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # one step: a consistent copy even while requests write
        finally:
            copy.close()
            source.close()
        return _sqlite_facts(target)
    url = db.engine.url
    args, env = _pg_args(url)
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        with connection.begin():
            snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            facts = database_facts(connection)  # the very snapshot pg_dump reads
            _run_tool([_pg_tool("pg_dump"), *args, "--format=custom", f"--snapshot={snapshot}",
                       f"--file={target}", "--dbname", url.database], env, "pg_dump")
    return facts


# --- manifests -------------------------------------------------------------------------------


def _manifest_mac(manifest: dict, key: bytes) -> str:
    body = {k: v for k, v in manifest.items() if k != "mac"}
    payload = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hmac.new(hmac.new(key, b"kanri-backup-manifest-v1", hashlib.sha256).digest(), payload,
                    hashlib.sha256).hexdigest()


def _new_id() -> tuple[str, str]:
    now = to_jst(utcnow())
    return f"{now:%Y%m%d-%H%M%S}-{now.microsecond:06d}", now.isoformat(timespec="seconds")


# --- run -------------------------------------------------------------------------------------


@dataclass
class SiteOutcome:
    """What happened at one site during a run."""

    site: str
    number: int
    ok: bool
    error: str | None = None
    removed: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """A backup run: the manifest and each site's outcome."""

    manifest: dict
    outcomes: list[SiteOutcome]

    @property
    def failed(self) -> list[SiteOutcome]:
        """Sites that did not get the backup."""
        return [outcome for outcome in self.outcomes if not outcome.ok]


def _complete_ids(names: list[str]) -> tuple[list[str], list[str]]:
    """(ids with data and manifest, ids with only one of them), both oldest first."""
    kinds: dict[str, set] = {}
    for name in names:
        match = _ID.fullmatch(name)
        if match:
            kinds.setdefault(match.group(1), set()).add(match.group(2))
    complete = sorted(i for i, k in kinds.items() if k == {"kbk", "json"})
    partial = sorted(i for i, k in kinds.items() if k != {"kbk", "json"})
    return complete, partial


def _prune(site, keep: int, newest: str) -> list[str]:
    """Remove the oldest complete generations beyond ``keep`` (and stray halves older than the kept ones)."""
    complete, partial = _complete_ids(site.names())
    removed = []
    doomed = complete[:-keep] if len(complete) > keep else []
    kept = complete[-keep:] or [newest]
    oldest_kept = kept[0]
    doomed += [i for i in partial if i < oldest_kept]
    for backup_id in sorted(doomed):
        if backup_id == newest:
            continue
        site.delete(data_name(backup_id))
        site.delete(manifest_name(backup_id))
        removed.append(backup_id)
    return removed


def run() -> RunResult:
    """Back up the database to every site; raises BackupError only when no snapshot could be made."""
    key = backup_key()
    targets = sites()
    keep = generations_to_keep()
    backup_id, created_at = _new_id()
    with scratch_dir() as tmp:
        plain = Path(tmp) / "snapshot.db"
        sealed = Path(tmp) / data_name(backup_id)
        facts = _snapshot(plain)
        stream.encrypt_file(plain, sealed, key)
        plain.unlink()
        manifest = {
            "format": MANIFEST_VERSION, "id": backup_id, "created_at": created_at, "database": _kind(),
            "file": data_name(backup_id), "size": sealed.stat().st_size, "sha256": stream.sha256_of(sealed),
            "key_id": stream.key_id(key), "compression": "zlib", "cipher": "AES-256-GCM chunked",
            **facts,
        }
        manifest["mac"] = _manifest_mac(manifest, key)
        manifest_file = Path(tmp) / manifest_name(backup_id)
        manifest_file.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        outcomes = []
        for site in targets:
            outcome = SiteOutcome(site.name, site.index, ok=False)
            try:
                site.put(data_name(backup_id), sealed)
                site.put(manifest_name(backup_id), manifest_file)
                check = Path(tmp) / f"check-{site.index}"
                site.get(data_name(backup_id), check)
                if stream.sha256_of(check) != manifest["sha256"]:
                    raise SiteError(f"{site.name}: 書き込んだファイルのチェックサムが一致しません")
                check.unlink()
                outcome.ok = True
                outcome.removed = _prune(site, keep, backup_id)
            except SiteError as exc:
                outcome.error = str(exc)
            outcomes.append(outcome)
    return RunResult(manifest, outcomes)


# --- list ------------------------------------------------------------------------------------


@dataclass
class Listing:
    """Every generation at every site: ``table[id][site number]`` is 'ok', 'partial' or None."""

    sites: list
    table: dict[str, dict[int, str | None]]
    errors: dict[int, str]
    manifests: dict[str, dict]

    def missing(self, backup_id: str) -> list[int]:
        """Readable sites that lack a complete copy of this generation."""
        return [site.index for site in self.sites
                if site.index not in self.errors and self.table[backup_id].get(site.index) != "ok"]


def list_generations() -> Listing:
    """Read every site's generations (and one manifest per generation for its time and size)."""
    targets = sites()
    table: dict[str, dict[int, str | None]] = {}
    errors = {}
    manifests: dict[str, dict] = {}
    found_at: dict[str, object] = {}
    for site in targets:
        try:
            complete, partial = _complete_ids(site.names())
        except SiteError as exc:
            errors[site.index] = str(exc)
            continue
        for backup_id in complete:
            table.setdefault(backup_id, {})[site.index] = "ok"
            found_at.setdefault(backup_id, site)
        for backup_id in partial:
            table.setdefault(backup_id, {})[site.index] = "partial"
    with scratch_dir() as tmp:
        for backup_id, site in found_at.items():
            try:
                manifests[backup_id] = _read_manifest(site, backup_id, Path(tmp))
            except (SiteError, ValueError):
                pass
    return Listing(targets, dict(sorted(table.items())), errors, manifests)


def _read_manifest(site, backup_id: str, tmp: Path) -> dict:
    local = tmp / f"{site.index}-{manifest_name(backup_id)}"
    site.get(manifest_name(backup_id), local)
    return json.loads(local.read_text(encoding="utf-8"))


# --- verify ----------------------------------------------------------------------------------


@dataclass
class Verification:
    """The result of verifying one copy of a generation; ``problems`` empty means sound."""

    backup_id: str
    site: str
    number: int
    problems: list[str] = field(default_factory=list)
    manifest: dict | None = None
    facts: dict | None = None

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.problems


def latest_id() -> str:
    """The newest generation held by any site."""
    listing = list_generations()
    complete = [i for i, where in listing.table.items() if "ok" in where.values()]
    if not complete:
        raise BackupError("バックアップがありません")
    return complete[-1]


def _compare(manifest: dict, facts: dict) -> list[str]:
    problems = []
    if manifest.get("revision") != facts["revision"]:
        problems.append(f"スキーマのリビジョンが違います（manifest {manifest.get('revision')}、復元 {facts['revision']}）")
    expected, actual = manifest.get("tables") or {}, facts["tables"]
    for name in sorted(set(expected) | set(actual)):
        if expected.get(name) != actual.get(name):
            problems.append(f"テーブル {name} の行数が違います（manifest {expected.get(name)}、復元 {actual.get(name)}）")
    heads = {c["chain"]: c for c in manifest.get("chains") or []}
    restored = {c["chain"]: c for c in facts["chains"]}
    for chain in sorted(set(heads) | set(restored)):
        want, got = heads.get(chain), restored.get(chain)
        if want is None or got is None or (want["seq"], want["hash"]) != (got["seq"], got["hash"]):
            name = (want or got)["tenant"] or chain
            problems.append(f"監査チェーン {name} の先頭が違います（manifest seq {want and want['seq']}、"
                            f"復元 seq {got and got['seq']}）")
    return problems


def _scratch_restore(manifest: dict, dump: Path) -> tuple[dict, list[str]]:
    """Restore ``dump`` into a scratch database; return its facts and integrity problems."""
    if manifest.get("database") == "sqlite":
        connection = sqlite3.connect(dump)
        try:
            result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as exc:
            return {"revision": None, "tables": {}, "chains": []}, [f"SQLite として開けません: {exc}"]
        finally:
            connection.close()
        problems = [] if result == ["ok"] else [f"PRAGMA integrity_check: {'; '.join(result[:5])}"]
        return _sqlite_facts(dump), problems
    if _kind() != "postgresql":
        raise BackupError("PostgreSQL のバックアップは PostgreSQL の上でのみ検証・復元できます")
    url = db.engine.url
    scratch = f"kanri_verify_{secrets.token_hex(6)}"
    args, env = _pg_args(url)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{scratch}"'))  # generated name: kanri_verify_ + hex
    try:
        _run_tool([_pg_tool("pg_restore"), *args, "--no-owner", "--no-privileges", "--exit-on-error",
                   "--single-transaction", "--dbname", scratch, str(dump)], env, "pg_restore（検証用データベース）")
        engine = sa.create_engine(url.set(database=scratch), poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                return database_facts(connection), []
        finally:
            engine.dispose()
    finally:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))


def _verify_into(site, backup_id: str, tmp: Path, key: bytes) -> tuple[Verification, Path | None]:
    """Verify one copy; on success also return the decrypted dump (inside ``tmp``)."""
    result = Verification(backup_id, site.name, site.index)
    try:
        manifest = _read_manifest(site, backup_id, tmp)
    except SiteError as exc:
        result.problems.append(f"マニフェストを読めません: {exc}")
        return result, None
    except ValueError:
        result.problems.append("マニフェストが JSON として壊れています")
        return result, None
    result.manifest = manifest
    if isinstance(manifest, dict) and manifest.get("key_id") not in (None, stream.key_id(key)):
        result.problems.append(f"別のバックアップ鍵で暗号化されています（key id {manifest.get('key_id')}、"
                               f"現在の鍵 {stream.key_id(key)}）")
        return result, None
    if not isinstance(manifest, dict) or not hmac.compare_digest(str(manifest.get("mac", "")),
                                                                   _manifest_mac(manifest, key)):
        result.problems.append("マニフェストの MAC が一致しません（改ざん、または別のバックアップ鍵）")
        return result, None
    sealed = tmp / f"{site.index}-{data_name(backup_id)}"
    try:
        site.get(data_name(backup_id), sealed)
    except SiteError as exc:
        result.problems.append(f"データファイルを読めません: {exc}")
        return result, None
    size = sealed.stat().st_size
    if size != manifest["size"]:
        result.problems.append(f"サイズが違います（manifest {manifest['size']} バイト、実際 {size} バイト）")
    digest = stream.sha256_of(sealed)
    if digest != manifest["sha256"]:
        result.problems.append(f"SHA-256 が一致しません（manifest {manifest['sha256'][:16]}…、実際 {digest[:16]}…）")
    dump = tmp / f"{site.index}-{backup_id}.dump"
    try:
        stream.decrypt_file(sealed, dump, key)
    except stream.BackupCryptoError as exc:
        result.problems.append(f"復号できません: {exc}")
        return result, None
    finally:
        sealed.unlink(missing_ok=True)
    if result.problems:
        return result, None
    try:
        facts, problems = _scratch_restore(manifest, dump)
    except BackupError as exc:
        result.problems.append(str(exc))
        return result, None
    result.facts = facts
    result.problems += problems + _compare(manifest, facts)
    return result, (dump if result.ok else None)


def verify(backup_id: str | None = None, site_number: int | None = None) -> list[Verification]:
    """Verify a generation (the newest by default) at one site or at every site that holds it."""
    key = backup_key()
    backup_id = check_id(backup_id) if backup_id else latest_id()
    chosen = _site(site_number)
    results = []
    with scratch_dir() as tmp:
        for site in chosen:
            try:
                names = site.names()
            except SiteError as exc:
                results.append(Verification(backup_id, site.name, site.index, [f"読めません: {exc}"]))
                continue
            if data_name(backup_id) not in names and manifest_name(backup_id) not in names:
                if site_number is None:
                    continue
                results.append(Verification(backup_id, site.name, site.index, ["この世代がありません"]))
                continue
            result, _ = _verify_into(site, backup_id, Path(tmp), key)
            results.append(result)
    if not results:
        raise BackupError(f"バックアップ {backup_id} はどのバックアップ先にもありません")
    return results


# --- maintenance flag and restore ------------------------------------------------------------


def maintenance_flag() -> Path:
    """The file whose presence makes every instance answer 503 (on storage every instance sees)."""
    return Path(current_app.config.get("KANRI_MAINTENANCE_FLAG")
                or Path(current_app.instance_path) / "maintenance.flag")


def _restore_live(manifest: dict, dump: Path) -> None:
    db.session.remove()
    db.engine.dispose()
    if manifest["database"] == "sqlite":
        source = sqlite3.connect(dump)
        live = sqlite3.connect(db.engine.url.database, timeout=60)
        try:
            source.backup(live)  # replaces every page of the live file in one locked step
        finally:
            live.close()
            source.close()
    else:
        url = db.engine.url
        args, env = _pg_args(url)
        env["PGOPTIONS"] = "-c lock_timeout=60s"
        _run_tool([_pg_tool("pg_restore"), *args, "--clean", "--if-exists", "--no-owner", "--no-privileges",
                   "--exit-on-error", "--single-transaction", "--dbname", url.database, str(dump)], env, "pg_restore")
    db.engine.dispose()


def restore(backup_id: str, site_number: int | None = None, progress=None) -> Verification:
    """Verify a copy of ``backup_id``, then replace the live database with it under the maintenance flag.

    Raises BackupError (naming the problems) when the copy does not verify; the live database is
    then untouched. ``progress(step)`` is called after each of the five steps.
    """
    step = progress or (lambda _label: None)
    check_id(backup_id)
    key = backup_key()
    candidates = _site(site_number)
    with scratch_dir() as tmp:
        site = None
        for candidate in candidates:
            try:
                if manifest_name(backup_id) in candidate.names():
                    site = candidate
                    break
            except SiteError:
                continue
        if site is None:
            raise BackupError(f"バックアップ {backup_id} が見つかりません")
        step("download")
        result, dump = _verify_into(site, backup_id, Path(tmp), key)
        step("verify")
        if not result.ok:
            raise BackupError(f"バックアップ {backup_id}（{site.name}）は検証に失敗したため復元しません: "
                              + " / ".join(result.problems))
        if result.manifest["database"] != _kind():
            raise BackupError(f"{result.manifest['database']} のバックアップは {_kind()} に復元できません")
        flag = maintenance_flag()
        flag.parent.mkdir(parents=True, exist_ok=True)
        flag.write_text(json.dumps({"reason": "restore", "backup": backup_id,
                                    "since": to_jst(utcnow()).isoformat(timespec="seconds")}), encoding="utf-8")
        step("maintenance")
        try:
            _restore_live(result.manifest, dump)
            step("restore")
            with db.engine.connect() as connection:
                facts = database_facts(connection)
            problems = _compare(result.manifest, facts)
            if problems:
                raise BackupError("復元後のデータベースがマニフェストと一致しません: " + " / ".join(problems))
        finally:
            flag.unlink(missing_ok=True)
        step("done")
    return result


def record_restored(result: Verification, reason: str, operator: str) -> int:
    """Record in every live tenant's chain of the restored database that ``operator`` restored ``result``'s
    generation, and why; returns how many tenants. Commits.

    Runs after ``restore()``: the rows written before the restore are gone with the old database, so
    the session starts afresh on the restored one.
    """
    db.session.remove()
    manifest = result.manifest or {}
    tenants = db.session.execute(sa.select(Tenant).where(Tenant.purged_at.is_(None)).order_by(Tenant.id)).scalars().all()
    for tenant in tenants:
        with tenant_scope(tenant):
            record_access(tenant, "backup restore", reason, operator, backup=result.backup_id,
                          backup_created_at=manifest.get("created_at"), site=result.number)
    db.session.commit()
    return len(tenants)
