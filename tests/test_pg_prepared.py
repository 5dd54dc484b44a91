"""A request that only read ends with COMMIT on PostgreSQL, so psycopg keeps its prepared statements (no
planning of the session query on every request); anything that wrote, holds unflushed changes or failed is
still rolled back, on both databases."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.extensions import db
from app.models import Tenant, User
from app.tenancy import tenant_scope
from tests.conftest import login


def _admin_failed_logins(app) -> int:
    with app.app_context():
        return db.session.execute(sa.select(User.failed_logins).execution_options(all_tenants=True)
                                  .where(User.login_id == "admin")).scalar_one()


@contextmanager
def _transaction_ends(app):
    """The engine's commits and rollbacks inside the block, in order."""
    ends = []
    with app.app_context():
        engine = db.engine

    def on_commit(conn):
        ends.append("commit")

    def on_rollback(conn):
        ends.append("rollback")

    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    try:
        yield ends
    finally:
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "rollback", on_rollback)


def _in_tenant(app):
    tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "acme")).scalar_one()
    return tenant_scope(tenant)


def test_a_flushed_but_uncommitted_change_is_rolled_back(app, make_tenant):
    make_tenant("acme")
    with app.app_context(), _in_tenant(app):
        admin = db.session.execute(sa.select(User).where(User.login_id == "admin")).scalar_one()
        admin.failed_logins = 7
        db.session.flush()  # written to the database, never committed
    assert _admin_failed_logins(app) == 0


def test_an_unflushed_change_is_rolled_back(app, make_tenant):
    make_tenant("acme")
    with app.app_context(), _in_tenant(app):
        admin = db.session.execute(sa.select(User).where(User.login_id == "admin")).scalar_one()
        admin.failed_logins = 7
    assert _admin_failed_logins(app) == 0


def test_a_failed_request_is_rolled_back_even_after_reading_only(app, make_tenant):
    make_tenant("acme")
    with _transaction_ends(app) as ends:
        with pytest.raises(RuntimeError), app.app_context(), _in_tenant(app):
            db.session.execute(sa.select(User.id)).all()
            raise RuntimeError("the view failed")
    assert "commit" not in ends and "rollback" in ends


def test_on_postgresql_read_only_requests_commit_and_keep_prepared_statements(app, client, make_tenant):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("psycopg's prepared statements: PostgreSQL only")
    make_tenant("acme")
    login(client, "acme", "admin")
    with _transaction_ends(app) as ends:
        for _ in range(7):  # psycopg prepares a statement on its fifth run on a connection
            assert client.get("/").status_code == 200
    assert ends == ["commit"] * 7, ends
    with app.app_context():
        engine = db.engine
    idle = [engine.raw_connection() for _ in range(engine.pool.checkedin())]  # every pooled connection
    try:
        prepared = [row[0] for connection in idle
                    for row in connection.cursor().execute("SELECT statement FROM pg_prepared_statements")]
    finally:
        for connection in idle:
            connection.close()
    assert any("FROM user_sessions" in statement for statement in prepared), prepared
