"""Fixtures: app, client, runner, a tenant factory, a login helper and the mail outbox.

The database is SQLite in a temporary file, or PostgreSQL when DATABASE_URL is set (CI).
The schema is built once per run; every test starts from empty tables.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask_mail import email_dispatched

from app import create_app, mail_sender
from app.builtins.lifecycle.stream import encode_key, generate_key
from app.crypto import Keyset, save_keyset
from app.extensions import db
from app.mailer import deliver_pending
from tests import route_cache

TEST_PLUGINS = "mama,jucho,tests.plugins.sample_product"
PASSWORD = "correct horse battery staple 2026"


@pytest.fixture(scope="session")
def base_config(tmp_path_factory) -> dict:
    """Settings shared by every test app (one keyset and one database per run)."""
    root = tmp_path_factory.mktemp("kanri")
    keyset_file = root / "keyset.json"
    save_keyset(keyset_file, Keyset.generate())
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{root / 'test.db'}"
    backup_key_file = root / "backup.key"
    backup_key_file.write_text(encode_key(generate_key()))
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": url,
        "KANRI_KEYSET": None,
        "KANRI_KEYSET_FILE": str(keyset_file),
        "KANRI_BACKUP_KEY": None,
        "KANRI_BACKUP_KEY_FILE": str(backup_key_file),
        "KANRI_BACKUP_SITES": f"{root / 'backups' / 'tokyo'},{root / 'backups' / 'osaka'}",
        "KANRI_MAINTENANCE_FLAG": str(root / "maintenance.flag"),
        "KANRI_MAINTENANCE_CACHE_SECONDS": 0,  # every request reads the windows
        "KANRI_PLUGINS": TEST_PLUGINS,
        "BCRYPT_ROUNDS": 4,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_SUPPRESS_SEND": True,
        "KANRI_MAIL_CONSOLE": False,
        "SERVER_NAME": None,
        "KANRI_BASE_URL": "http://localhost",  # the test client's host: links in mail start with it
        "KANRI_ENV": "testing",
        "KANRI_SUPPORT_CONTACT": "kanri サポートデスク\nsupport@kanri-test.example.jp\n03-1234-5678",
    }


@pytest.fixture(scope="session")
def _schema(base_config):
    app = create_app(base_config)
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    yield
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def empty_all_tables() -> None:
    """Delete every row, children first (works on SQLite and PostgreSQL)."""
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # One round trip instead of one per table: this runs before every test.
            quote = connection.dialect.identifier_preparer.format_table
            connection.exec_driver_sql("; ".join(f"DELETE FROM {quote(table)}" for table in tables))
            return
        for table in tables:
            connection.execute(table.delete())


@pytest.fixture
def app(base_config, _schema, request, tmp_path):
    """A fresh application on empty tables; tests may override settings with @pytest.mark.config(...)."""
    overrides = {}
    marker = request.node.get_closest_marker("config")
    if marker:
        overrides = marker.kwargs
    # Each test gets its own audit anchor directory: anchors must not outlive the emptied tables.
    per_test = {"KANRI_AUDIT_ANCHOR_DIR": str(tmp_path / "audit-anchors")}
    application = create_app({**base_config, **per_test, **overrides})
    route_cache.share_templates(application)
    with application.app_context():
        empty_all_tables()
    yield application
    mail_sender.stop(application)  # its background sender must not outlive it (nor touch the next test's rows)
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _no_mail_sender_outlives_its_test():
    """Apps made inside a test (not only the `app` fixture's) must not keep delivering into later tests."""
    yield
    mail_sender.stop_all()


@pytest.fixture
def clock(monkeypatch):
    """Freeze the time the TOTP checks (stronger factors) see; tests move it by hand."""
    from app.builtins.strong_factors import authenticator
    from tests.strong_factor_helpers import Clock

    value = Clock()
    monkeypatch.setattr(authenticator, "utcnow", value)
    return value


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for the flask commands."""
    return app.test_cli_runner()


class RecordedMail(list):
    """The messages Flask-Mail dispatched; reading the list first delivers every committed, due outbox row.

    Mail is a transactional outbox delivered by a background sender, so a test that looks at
    the list right after a request sees what that request committed, as it did when mail was sent
    synchronously.
    """

    def __init__(self, app):
        super().__init__()
        self._app = app

    def record(self, app, message, **_extra) -> None:  # Flask-Mail's email_dispatched.send(app, message=…)
        list.append(self, message)

    def flush(self) -> None:
        """Deliver the outbox now (waits for a pass the background sender is running)."""
        deliver_pending(self._app)

    def __len__(self):
        self.flush()
        return super().__len__()

    def __iter__(self):
        self.flush()
        return super().__iter__()

    def __getitem__(self, index):
        self.flush()
        return super().__getitem__(index)

    def __eq__(self, other):
        self.flush()
        return super().__eq__(other)

    __hash__ = None

    def clear(self) -> None:
        self.flush()
        super().clear()


@pytest.fixture
def outbox(app):
    """Every e-mail the app sends during the test (committed mail is delivered when the list is read)."""
    messages = RecordedMail(app)
    email_dispatched.connect(messages.record)
    try:
        yield messages
    finally:
        email_dispatched.disconnect(messages.record)


def cli_output(result) -> str:
    """Everything a CLI run printed, stdout and stderr together."""
    text = result.output
    try:
        text += result.stderr
    except ValueError:  # stderr not captured separately
        pass
    return text


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """Return the CSRF token of the first form in a page."""
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def post_form(client, page_url: str, data: dict, action: str | None = None, **kwargs):
    """GET a page, then POST its form with the page's CSRF token, as a browser would."""
    page = client.get(page_url)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(action or page_url, data={"csrf_token": token, **data}, **kwargs)


@dataclass
class TenantInfo:
    """What a test needs to know about a tenant it made."""

    code: str
    id: int
    admin_login: str
    password: str


@pytest.fixture
def make_tenant(app):
    """Create a tenant with an admin whose password is PASSWORD (not temporary)."""

    def _make(code: str = "acme", product: str = "sample", admin_login: str = "admin",
              admin_email: str | None = None) -> TenantInfo:
        from app.tenants import create_tenant

        with app.app_context():
            tenant, admin, _, _ = create_tenant(
                code=code, name=f"{code} 株式会社", product=product, contract_end="2099-12-31",
                admin_login=admin_login, admin_email=admin_email or f"{admin_login}@{code}.example.jp",
                admin_name="管理 太郎", admin_password=PASSWORD)
            return TenantInfo(code=tenant.code, id=tenant.id, admin_login=admin.login_id, password=PASSWORD)

    return _make


@pytest.fixture
def add_user(app):
    """Add a user to a tenant; returns the login id."""

    def _add(tenant_code: str, login_id: str, role: str = "general", password: str | None = PASSWORD,
             email: str | None = None) -> str | None:
        from app.accounts import create_user
        from app.models import Tenant
        from app.tenancy import tenant_scope

        with app.app_context():
            tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == tenant_code)).scalar_one()
            with tenant_scope(tenant):
                _, temporary = create_user(tenant, login_id, f"{login_id} さん", email or f"{login_id}@{tenant_code}.example.jp",
                                           role=role, password=password)
                db.session.commit()
        return temporary

    return _add


def password_step(client, company: str, login_id: str, password: str, next_url: str = ""):
    """Submit the login form; returns the response (not followed)."""
    return post_form(client, "/login", {"company_code": company, "login_id": login_id, "password": password,
                                        "next": next_url})


def login(client, company: str, login_id: str, password: str = PASSWORD, next_url: str = ""):
    """Log in to a 'sample' tenant through the password step and the sample factor."""
    response = password_step(client, company, login_id, password, next_url)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/sample/confirm")
    return post_form(client, "/sample/confirm", {"answer": "ok"})


@pytest.fixture
def auth():
    """The login helpers as one object: auth.login(client, ...), auth.password_step(...)."""

    class _Auth:
        login = staticmethod(login)
        password_step = staticmethod(password_step)
        post_form = staticmethod(post_form)

    return _Auth()


def pytest_configure(config):
    route_cache.install()  # one app per test stays cheap: URL builders are compiled once per run
    config.addinivalue_line("markers", "config(**settings): override app settings for one test")


@pytest.fixture
def smtp(app):
    """A real SMTP server (aiosmtpd) on a loopback port; the app sends its mail there (``smtp.sink`` holds it)."""
    from tests.smtp_helpers import SmtpServer, point_mail_at

    server = SmtpServer().start()
    point_mail_at(app, "127.0.0.1", server.port)
    try:
        yield server
    finally:
        server.stop()
