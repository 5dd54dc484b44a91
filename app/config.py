"""Configuration read from the environment, with strict checks for production."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

INSECURE_SECRET_KEYS = {"dev", "development", "secret", "changeme", "change-me", "secret-key", "test"}
MIN_SECRET_KEY_LENGTH = 32
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"
DEVELOPMENT_SUPPORT_CONTACT = "support@example.invalid"
# Outside production a developer's browser may say localhost or 127.0.0.1 whatever the base URL says.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


class ConfigError(RuntimeError):
    """Raised when the application must not start with the given settings."""


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from exc


def _number(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {value!r}") from exc


DEFAULT_SERVICE_NAME = "マンション管理クラウド"


def from_environment(instance_path: str) -> dict:
    """Build the settings dictionary from environment variables."""
    env = os.environ.get("KANRI_ENV", "development").strip().lower()
    production = env == "production"
    instance = Path(instance_path)
    mail_server = os.environ.get("MAIL_SERVER", "")
    return {
        "KANRI_ENV": env,
        "DEBUG": _flag("FLASK_DEBUG", False),
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'kanri.db'}",
        "KANRI_KEYSET": os.environ.get("KANRI_KEYSET"),
        "KANRI_KEYSET_FILE": os.environ.get("KANRI_KEYSET_FILE") or str(instance / "keyset.json"),
        # Append-only file of audit chain heads; keep it on other storage than the database.
        "KANRI_AUDIT_ANCHOR_DIR": os.environ.get("KANRI_AUDIT_ANCHOR_DIR") or str(instance / "audit-anchors"),
        # Backups: a key of their own (never the keyset), sites (directories or s3:// URLs), generations.
        "KANRI_BACKUP_KEY": os.environ.get("KANRI_BACKUP_KEY"),
        "KANRI_BACKUP_KEY_FILE": os.environ.get("KANRI_BACKUP_KEY_FILE") or str(instance / "backup.key"),
        "KANRI_BACKUP_SITES": os.environ.get("KANRI_BACKUP_SITES")
        or f"{instance / 'backups' / 'tokyo'},{instance / 'backups' / 'osaka'}",
        "KANRI_BACKUP_GENERATIONS": _int("KANRI_BACKUP_GENERATIONS", 7),
        "KANRI_TRASH_DAYS": _int("KANRI_TRASH_DAYS", 30),  # 削除済み rows stay restorable this long
        "KANRI_BACKUP_S3_ENDPOINT": os.environ.get("KANRI_BACKUP_S3_ENDPOINT") or None,
        "KANRI_PG_BIN": os.environ.get("KANRI_PG_BIN") or None,
        # While this file exists every instance answers 503 (flask backup restore); on storage all instances see.
        "KANRI_MAINTENANCE_FLAG": os.environ.get("KANRI_MAINTENANCE_FLAG") or str(instance / "maintenance.flag"),
        # Maintenance windows (flask maintenance): banner lead time; per-process cache of the open windows.
        "KANRI_MAINTENANCE_NOTICE_HOURS": _int("KANRI_MAINTENANCE_NOTICE_HOURS", 72),
        "KANRI_MAINTENANCE_CACHE_SECONDS": _int("KANRI_MAINTENANCE_CACHE_SECONDS", 5),
        "KANRI_OPS_EMAIL": os.environ.get("KANRI_OPS_EMAIL", ""),
        # Unset: every installed plugin (entry points in the "kanri" group).
        "KANRI_PLUGINS": os.environ.get("KANRI_PLUGINS"),
        "BCRYPT_ROUNDS": _int("BCRYPT_ROUNDS", 12),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "KANRI_LOGIN_RATE_LIMIT": os.environ.get("KANRI_LOGIN_RATE_LIMIT", "30 per minute;300 per hour"),
        # 郵便番号 → 住所 look-ups (app.postcode), per logged-in user.
        "KANRI_POSTCODE_RATE_LIMIT": os.environ.get("KANRI_POSTCODE_RATE_LIMIT", "60 per minute;600 per hour"),
        "SESSION_COOKIE_SECURE": _flag("KANRI_COOKIE_SECURE", production),
        "KANRI_PROXY_FIX": _int("KANRI_PROXY_FIX", 0),
        "MAIL_SERVER": mail_server or "localhost",
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _flag("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "kanri <no-reply@kanri.example>"),
        # Without an SMTP server the mail is printed to the console instead of sent.
        "MAIL_SUPPRESS_SEND": not mail_server,
        "KANRI_MAIL_CONSOLE": _flag("KANRI_MAIL_CONSOLE", not mail_server),
        # The outbox sender: a thread of the web process in development, `flask mail worker` in production.
        "KANRI_MAIL_THREAD": _flag("KANRI_MAIL_THREAD", not production),
        "KANRI_MAIL_MAX_ATTEMPTS": _int("KANRI_MAIL_MAX_ATTEMPTS", 10),
        "KANRI_MAIL_RETRY_SECONDS": _number("KANRI_MAIL_RETRY_SECONDS", 60),
        "KANRI_MAIL_RETRY_MAX_SECONDS": _number("KANRI_MAIL_RETRY_MAX_SECONDS", 3600),
        "KANRI_MAIL_CLAIM_SECONDS": _number("KANRI_MAIL_CLAIM_SECONDS", 600),
        "KANRI_MAIL_POLL_SECONDS": _number("KANRI_MAIL_POLL_SECONDS", 1),
        # Sent and failed mail (addresses and bodies, encrypted) is deleted by `flask mail prune` after this.
        "KANRI_MAIL_KEEP_DAYS": _int("KANRI_MAIL_KEEP_DAYS", 30),
        # The service desk shown on the お問い合わせ page (several lines: e-mail, phone); required in production.
        "KANRI_SUPPORT_CONTACT": os.environ.get("KANRI_SUPPORT_CONTACT") or ("" if production else DEVELOPMENT_SUPPORT_CONTACT),
        # A TrueType Japanese font to embed in PDFs (manuals); unset: IPAex Gothic when installed, else a CID font.
        "KANRI_PDF_FONT": os.environ.get("KANRI_PDF_FONT") or None,
        "KANRI_MANUAL_MAX_BYTES": _int("KANRI_MANUAL_MAX_BYTES", 50 * 1024 * 1024),
        "KANRI_BASE_URL": os.environ.get("KANRI_BASE_URL", "").strip(),
        # The name shown where no tenant (so no product) is known yet: the login page, operators' mail.
        "KANRI_SERVICE_NAME": os.environ.get("KANRI_SERVICE_NAME", "").strip() or DEFAULT_SERVICE_NAME,
        # /_dev/mail (the last mails this process sent, with their text): on by itself only when KANRI_ENV is
        # development; KANRI_DEV_MAIL=1 turns it on elsewhere except production, where it never exists.
        "KANRI_DEV_MAIL": _flag("KANRI_DEV_MAIL", False),
        "KANRI_EXTRA_HOSTS": os.environ.get("KANRI_EXTRA_HOSTS", ""),
        # Prometheus /metrics (app.metrics): off unless asked for; answered only to these addresses or networks.
        "KANRI_METRICS": _flag("KANRI_METRICS", False),
        "KANRI_METRICS_ALLOW": os.environ.get("KANRI_METRICS_ALLOW") or None,
    }


BASE_SETTINGS = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DURATION": 0,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "WTF_CSRF_TIME_LIMIT": None,
    "RATELIMIT_HEADERS_ENABLED": True,
    # Redis away: count in this process's memory instead of answering every limited form with a 500.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_STRATEGY": "fixed-window",
    "KANRI_IDLE_TIMEOUT_MINUTES": 30,
    "KANRI_ABSOLUTE_TIMEOUT_HOURS": 12,
    "KANRI_PENDING_LOGIN_MINUTES": 5,
    "KANRI_LOCKOUT_THRESHOLD": 10,
    "KANRI_LOCKOUT_MINUTES": 15,
    "KANRI_TEMP_PASSWORD_HOURS": 72,
    "JSON_AS_ASCII": False,
}


def ensure_development_secret(instance_path: str) -> str:
    """Return the development secret key, generating it once into the instance folder."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def apply_base_url(config: dict) -> None:
    """Check and normalise KANRI_BASE_URL (every link in mail is built from it) and derive TRUSTED_HOSTS.

    Production requires an https base URL; elsewhere it defaults to the development server's address.
    TRUSTED_HOSTS (unless set explicitly) is the base URL's host, the hosts in KANRI_EXTRA_HOSTS and,
    outside production, localhost and 127.0.0.1: a request for any other Host answers 400.
    """
    production = config.get("KANRI_ENV") == "production"
    base = (config.get("KANRI_BASE_URL") or "").strip()
    if not base:
        if production:
            raise ConfigError("KANRI_BASE_URL が設定されていません。例: https://kanri.example.jp "
                              "(KANRI_BASE_URL is missing: links in mail are built from it)")
        base = DEVELOPMENT_BASE_URL
    try:
        parts = urlsplit(base)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ConfigError(f"KANRI_BASE_URL が URL として正しくありません (KANRI_BASE_URL is not a URL: {base!r})") from exc
    if parts.scheme not in ("http", "https") or not hostname or parts.username or parts.password \
            or parts.query or parts.fragment or not base.isascii():
        raise ConfigError(f"KANRI_BASE_URL は http(s)://ホスト[:ポート][/パス] の形で指定してください "
                          f"(KANRI_BASE_URL must look like https://host[:port][/path], got {base!r})")
    if production and parts.scheme != "https":
        raise ConfigError(f"本番環境の KANRI_BASE_URL は https でなければなりません "
                          f"(KANRI_BASE_URL must be https in production, got {base!r})")
    config["KANRI_BASE_URL"] = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    if config.get("TRUSTED_HOSTS") is None:
        extra = [host.strip() for host in (config.get("KANRI_EXTRA_HOSTS") or "").split(",") if host.strip()]
        hosts = [hostname, *extra, *([] if production else LOOPBACK_HOSTS)]
        config["TRUSTED_HOSTS"] = list(dict.fromkeys(hosts))


def check_production(config: dict) -> None:
    """Refuse to start in production with unsafe settings; one line says why."""
    if config.get("KANRI_ENV") != "production":
        return
    if config.get("DEBUG"):
        raise ConfigError("KANRI_ENV=production では FLASK_DEBUG を有効にできません (DEBUG is on)")
    key = config.get("SECRET_KEY") or ""
    if not key:
        raise ConfigError("SECRET_KEY が設定されていません (SECRET_KEY is missing)")
    if key.lower() in INSECURE_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY が既定値または短すぎます ({MIN_SECRET_KEY_LENGTH} 文字以上) (SECRET_KEY is default or short)"
        )
    if not config.get("KANRI_KEYSET") and not Path(config.get("KANRI_KEYSET_FILE") or "").is_file():
        raise ConfigError("暗号鍵セットがありません (keysets are missing: set KANRI_KEYSET or KANRI_KEYSET_FILE)")
    backup_file = config.get("KANRI_BACKUP_KEY_FILE") or ""
    if not config.get("KANRI_BACKUP_KEY") and not Path(backup_file).is_file():
        raise ConfigError("バックアップ鍵がありません (backup key is missing: set KANRI_BACKUP_KEY or "
                          "KANRI_BACKUP_KEY_FILE)")
    if not config.get("KANRI_BACKUP_KEY") and backup_file and config.get("KANRI_KEYSET_FILE") \
            and Path(backup_file).resolve() == Path(config["KANRI_KEYSET_FILE"]).resolve():
        raise ConfigError("バックアップ鍵は鍵セットとは別のファイルにしてください "
                          "(KANRI_BACKUP_KEY_FILE must not be the keyset file)")
    contact = (config.get("KANRI_SUPPORT_CONTACT") or "").strip()
    if not contact or contact == DEVELOPMENT_SUPPORT_CONTACT:
        raise ConfigError("KANRI_SUPPORT_CONTACT（お問い合わせ窓口: メールアドレス・電話番号）が設定されていません "
                          "(KANRI_SUPPORT_CONTACT is missing: the お問い合わせ page shows it)")
    if config.get("KANRI_COOKIE_NAME_PREFIX", True):
        config["SESSION_COOKIE_NAME"] = "__Host-kanri"
        config["SESSION_COOKIE_SECURE"] = True
        config["SESSION_COOKIE_PATH"] = "/"
