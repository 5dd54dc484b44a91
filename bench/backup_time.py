"""Backup time: kanri's daily backup (``backup.run``: consistent snapshot, encryption, two sites written and read
back) against the raw snapshot alone (SQLite's online backup API, or ``pg_dump --format=custom``) of the same
database in the same run. Nothing here asserts a time."""
from __future__ import annotations

import sqlite3
import subprocess  # nosec B404
import tempfile
import time
from pathlib import Path

from flask import Flask


def _raw_snapshot(app: Flask, target: Path) -> None:
    from app.builtins.lifecycle.backup import _pg_args, _pg_tool
    from app.extensions import db

    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        source, copy = sqlite3.connect(url.database, timeout=60), sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return
    args, env = _pg_args(url)
    subprocess.run([_pg_tool("pg_dump"), *args, "--format=custom", f"--file={target}",  # noqa: S603
                    "--dbname", url.database], env=env, check=True, capture_output=True)  # nosec B603


def backup_timings(app: Flask) -> dict:
    """Seconds for the raw snapshot and for kanri's backup run (2 sites), the backup's size, and their ratio."""
    from app.builtins.lifecycle import backup

    with tempfile.TemporaryDirectory(prefix="kanri-bench-backup-") as tmp:
        app.config["KANRI_BACKUP_SITES"] = f"{tmp}/site-1,{tmp}/site-2"
        with app.app_context():
            started = time.perf_counter()
            _raw_snapshot(app, Path(tmp) / "raw.snapshot")
            raw_s = time.perf_counter() - started
            raw_bytes = (Path(tmp) / "raw.snapshot").stat().st_size
            started = time.perf_counter()
            result = backup.run()
            kanri_s = time.perf_counter() - started
            assert not result.failed, [outcome.error for outcome in result.failed]
    return {"raw_snapshot_s": round(raw_s, 2), "raw_bytes": raw_bytes, "backup_s": round(kanri_s, 2),
            "backup_bytes": result.manifest["size"], "sites": len(result.outcomes),
            "ratio": round(kanri_s / raw_s, 2) if raw_s else None}
