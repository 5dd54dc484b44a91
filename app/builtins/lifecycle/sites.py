"""Backup sites: a directory or an S3 bucket prefix, with one small interface.

``KANRI_BACKUP_SITES`` lists them, comma-separated: a directory path (relative paths are taken
from the instance folder) or ``s3://bucket/prefix?region=ap-northeast-1``. S3 credentials come
from boto3's usual chain (environment, shared config, instance role), never from kanri's settings;
``KANRI_BACKUP_S3_ENDPOINT`` overrides the endpoint (tests, S3-compatible storage).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


class SiteError(RuntimeError):
    """A site could not be read or written; the message names the site, never a secret."""


class DirectorySite:
    """A directory on a local or mounted file system (another disk, NFS, …)."""

    def __init__(self, index: int, path: Path):
        self.index = index
        self.path = path
        self.name = str(path)

    def _ensure(self) -> None:
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise SiteError(f"{self.name}: ディレクトリを作成できません ({exc.strerror})") from exc

    def put(self, name: str, local: Path) -> None:
        """Copy a local file into the site under ``name`` (written to a temporary name, then renamed)."""
        self._ensure()
        target = self.path / name
        partial = self.path / f".{name}.partial"
        try:
            with open(local, "rb") as src, open(partial, "wb") as out:
                shutil.copyfileobj(src, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(partial, 0o600)
            os.replace(partial, target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise SiteError(f"{self.name}: {name} を書き込めません ({exc.strerror})") from exc

    def get(self, name: str, local: Path) -> None:
        """Copy ``name`` from the site to a local file."""
        try:
            shutil.copyfile(self.path / name, local)
        except OSError as exc:
            raise SiteError(f"{self.name}: {name} を読めません ({exc.strerror})") from exc

    def names(self) -> list[str]:
        """Every file name at the site (not the partial ones)."""
        if not self.path.is_dir():
            raise SiteError(f"{self.name}: ディレクトリがありません")
        try:
            return sorted(entry.name for entry in self.path.iterdir()
                          if entry.is_file() and not entry.name.startswith("."))
        except OSError as exc:
            raise SiteError(f"{self.name}: 一覧を読めません ({exc.strerror})") from exc

    def delete(self, name: str) -> None:
        """Remove ``name`` (no error when it is already gone)."""
        try:
            (self.path / name).unlink(missing_ok=True)
        except OSError as exc:
            raise SiteError(f"{self.name}: {name} を削除できません ({exc.strerror})") from exc


class S3Site:
    """A prefix in an S3 bucket (``s3://bucket/prefix?region=…``)."""

    def __init__(self, index: int, url: str, endpoint: str | None):
        parts = urlsplit(url)
        if not parts.netloc:
            raise SiteError(f"S3 のバケット名がありません: {url}")
        self.index = index
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.region = (parse_qs(parts.query).get("region") or [None])[0]
        self.endpoint = endpoint or None
        self.name = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import boto3

            self._client = boto3.client("s3", region_name=self.region, endpoint_url=self.endpoint)
        return self._client

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _fail(self, action: str, name: str, exc: Exception) -> SiteError:
        code = None
        for candidate in (exc, exc.__cause__, exc.__context__):  # boto3 wraps the ClientError on upload
            response = getattr(candidate, "response", None)
            if isinstance(response, dict) and response.get("Error", {}).get("Code"):
                code = response["Error"]["Code"]
                break
        return SiteError(f"{self.name}: {name} を{action} ({code or type(exc).__name__})")

    def put(self, name: str, local: Path) -> None:
        """Upload a local file (multipart for large files, by boto3)."""
        try:
            self.client.upload_file(str(local), self.bucket, self._key(name))
        except Exception as exc:  # noqa: BLE001 - botocore raises many classes; the site just failed
            raise self._fail("書き込めません", name, exc) from exc

    def get(self, name: str, local: Path) -> None:
        """Download ``name`` to a local file."""
        try:
            self.client.download_file(self.bucket, self._key(name), str(local))
        except Exception as exc:  # noqa: BLE001
            raise self._fail("読めません", name, exc) from exc

    def names(self) -> list[str]:
        """Every object name directly under the prefix."""
        start = f"{self.prefix}/" if self.prefix else ""
        found = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
                for item in page.get("Contents", []):
                    rest = item["Key"][len(start):]
                    if rest and "/" not in rest:
                        found.append(rest)
        except Exception as exc:  # noqa: BLE001
            raise self._fail("一覧できません", "(list)", exc) from exc
        return sorted(found)

    def delete(self, name: str) -> None:
        """Remove ``name``."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(name))
        except Exception as exc:  # noqa: BLE001
            raise self._fail("削除できません", name, exc) from exc


def parse_sites(setting: str, instance_path: str, s3_endpoint: str | None = None) -> list:
    """The sites named in ``KANRI_BACKUP_SITES``, numbered from 1 in the order given."""
    sites = []
    for item in (part.strip() for part in (setting or "").split(",")):
        if not item:
            continue
        if item.startswith("s3://"):
            sites.append(S3Site(len(sites) + 1, item, s3_endpoint))
        else:
            path = Path(item)
            if not path.is_absolute():
                path = Path(instance_path) / path
            sites.append(DirectorySite(len(sites) + 1, path))
    return sites


def scratch_dir() -> tempfile.TemporaryDirectory:
    """A private temporary directory for plaintext snapshots (0700, removed afterwards)."""
    return tempfile.TemporaryDirectory(prefix="kanri-backup-")
