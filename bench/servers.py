"""kanri and the bare Flask app under gunicorn (2 sync workers), a production configuration with a temporary
keyset, and the RSS of their workers."""
from __future__ import annotations

import os
import secrets
import socket
import subprocess  # nosec B404
import sys
import time
from pathlib import Path

from app.builtins.lifecycle.stream import encode_key, generate_key
from app.crypto import Keyset, save_keyset

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kanri_env(workdir: Path, database_url: str, port: int) -> dict:
    """Production settings for the bench: real keyset and secret, no SMTP (mail goes to the outbox table), the
    login rate limit raised so the logins/s run measures the password step rather than the limiter."""
    keyset, backup = workdir / "keyset.json", workdir / "backup.key"
    if not keyset.exists():
        save_keyset(keyset, Keyset.generate())
        backup.write_text(encode_key(generate_key()))
    secret = workdir / "secret"
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(48))
    return {**os.environ, "PYTHONPATH": str(ROOT), "KANRI_ENV": "production", "SECRET_KEY": secret.read_text(),
            "DATABASE_URL": database_url, "KANRI_INSTANCE_PATH": str(workdir), "KANRI_KEYSET_FILE": str(keyset),
            "KANRI_BACKUP_KEY_FILE": str(backup), "KANRI_PLUGINS": "mama,jucho",
            "KANRI_BASE_URL": f"https://127.0.0.1:{port}", "KANRI_SUPPORT_CONTACT": "bench@example.jp",
            "KANRI_LOGIN_RATE_LIMIT": "100000 per minute", "KANRI_MAIL_THREAD": "0"}


class Server:
    """One gunicorn master with 2 sync workers on a loopback port."""

    def __init__(self, module: str, env: dict, port: int, log: Path):
        self.port, self.log = port, log
        command = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}", module]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("ab"),  # noqa: S603
                                        stderr=subprocess.STDOUT)  # nosec B603
        self._wait()

    @property
    def url(self) -> str:
        """The base URL requests go to."""
        return f"http://127.0.0.1:{self.port}"

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                if len(self.worker_pids()) == 2:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start; see {self.log}")

    def worker_pids(self) -> list[int]:
        """The worker processes of this master."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def worker_rss_kib(self) -> list[int]:
        """VmRSS of each worker in KiB."""
        found = []
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    found.append(int(line.split()[1]))
        return found

    def stop(self) -> None:
        """Stop this gunicorn (and its workers) and wait."""
        self.process.terminate()
        self.process.wait(timeout=30)
