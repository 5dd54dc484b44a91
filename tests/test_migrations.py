"""`flask db upgrade` on an empty database builds exactly the schema the production models describe."""
from __future__ import annotations

import os
import uuid

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app import create_app
from app.crypto import EncryptedText
from app.extensions import db
from app.timeutil import UTCDateTime

PRODUCTION_PLUGINS = "mama,jucho"


def _render_item(type_, obj, autogen_context):
    """The same rendering as migrations/env.py: kanri's column types as their storage types."""
    if type_ == "type" and isinstance(obj, EncryptedText):
        return "sa.Text()"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _test_only_tables() -> set[str]:
    """Tables mapped by test-only plugins (tests.plugins.*): not part of the production schema."""
    return {mapper.local_table.name for mapper in db.Model.registry.mappers
            if mapper.class_.__module__.startswith("tests.")}


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_url(request, tmp_path):
    """A brand-new empty database: a SQLite file, or a PostgreSQL database created and dropped here."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    server_url = _postgres_url()
    if server_url is None:
        pytest.skip("DATABASE_URL is not a PostgreSQL URL")
    name = f"kanri_migrations_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def test_upgrade_builds_schema_matching_production_models(base_config, scratch_url):
    application = create_app({**base_config, "SQLALCHEMY_DATABASE_URI": scratch_url,
                              "KANRI_PLUGINS": PRODUCTION_PLUGINS})
    try:
        with application.app_context():
            assert sa.inspect(db.engine).get_table_names() == []
            flask_migrate.upgrade()

            tables = set(sa.inspect(db.engine).get_table_names())
            assert {"tenants", "users", "user_sessions", "audit_events", "alembic_version"} <= tables
            stored = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            script = ScriptDirectory.from_config(application.extensions["migrate"].migrate.get_config())
            assert stored == list(script.get_heads()) and len(stored) == 1  # one history, at its head

            skip = _test_only_tables()
            assert not skip & tables  # the sample product's tables are never migrated

            def include_object(obj, name, type_, reflected, compare_to):
                table = obj if type_ == "table" else getattr(obj, "table", None)
                return not (table is not None and table.name in skip)

            configure_args = dict(application.extensions["migrate"].configure_args)
            assert configure_args.get("compare_type") is True
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={
                    **configure_args,
                    "compare_type": True,
                    "target_metadata": db.metadata,
                    "include_object": include_object,
                    "render_item": _render_item,
                    "render_as_batch": True,
                })
                differences = compare_metadata(context, db.metadata)
            assert differences == [], "migrations and models differ:\n" + "\n".join(map(repr, differences))
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
