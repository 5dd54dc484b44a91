"""`flask db upgrade` on an empty database builds exactly the schema the production models describe."""
from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime

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

            configure_args = dict(application.extensions["migrate"].configure_args)
            by_hand = configure_args["include_object"]  # the trigram indexes and FTS tables

            def include_object(obj, name, type_, reflected, compare_to):
                table = obj if type_ == "table" else getattr(obj, "table", None)
                return not (table is not None and table.name in skip) and by_hand(obj, name, type_, reflected,
                                                                                   compare_to)

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


PREVIOUS_HEAD = "0004_pending_logins"  # the revision before row keys: values encrypted as table.column|tenant=<id>
ROW_KEYS = "0005_row_keys"


def _insert_old_style_rows(application) -> dict:
    """Write rows the way revision 0003 stored them; returns {(table, id): {column: plaintext}}."""
    keyset = application.extensions["kanri_keyset"]
    now = datetime.now(UTC)
    expected = {}
    with db.engine.begin() as connection:
        meta = sa.MetaData()
        tables = {name: sa.Table(name, meta, autoload_with=connection)
                  for name in ("tenants", "users", "mama_associations", "jucho_associations")}
        assert "row_key" not in tables["users"].c

        def add(table: str, plain: dict, **fields) -> None:
            tenant_id = fields["tenant_id"]
            sealed = {column: keyset.encrypt(value, f"{table}.{column}|tenant={tenant_id}")
                      for column, value in plain.items() if value is not None}
            row_id = connection.execute(tables[table].insert().values(**fields, **sealed)).inserted_primary_key[0]
            expected[(table, row_id)] = plain

        for code, product in (("mig-mama", "mama"), ("mig-jucho", "jucho")):
            tenant_id = connection.execute(tables["tenants"].insert().values(
                code=code, name=f"{code} 株式会社", product=product, contract_start=date(2026, 1, 1),
                contract_end=date(2099, 12, 31), status="active", created_at=now)).inserted_primary_key[0]
            for n, email in enumerate((f"hanako@{code}.example.jp", None, f"taro@{code}.example.jp")):
                add("users", {"name": f"利用者 {n}", "email": email}, tenant_id=tenant_id, login_id=f"user{n}",
                    role="general", status="active", must_change_password=False, failed_logins=0,
                    created_at=now, updated_at=now)
            if product == "mama":
                for n in range(3):
                    add("mama_associations", {"contact_name": f"理事長 {n}", "contact_phone": "03-1234-5678",
                                              "contact_email": None if n == 1 else f"rijicho{n}@example.jp"},
                        tenant_id=tenant_id, code=f"A{n:05d}", name=f"管理組合{n}", name_kana=f"カンリクミアイ{n}",
                        postal_code="160-0023", prefecture="東京都", city="新宿区", address_line="1-2-3",
                        units=30, building_year=2001, fiscal_start_month=4, created_at=now, updated_at=now)
            else:
                for n in range(2):
                    add("jucho_associations", {"contact_person": f"担当 {n}", "contact_phone": None,
                                               "contact_email": f"tanto{n}@example.jp"},
                        tenant_id=tenant_id, name=f"管理組合{n}", kana=f"カンリクミアイ{n}", management_form="full",
                        notes="", created_at=now, updated_at=now)
    return expected


def _read_through_orm(expected: dict) -> dict:
    """Load every expected row through the ORM as its tenant; returns the same shape."""
    from app.models import Tenant, User
    from app.tenancy import tenant_scope
    from plugins.jucho.models import JuchoAssociation
    from plugins.mama.models import MamaAssociation

    models = {"users": User, "mama_associations": MamaAssociation, "jucho_associations": JuchoAssociation}
    seen = {}
    for (table, row_id), plain in expected.items():
        tenant_id = db.session.execute(
            sa.text(f"SELECT tenant_id FROM {table} WHERE id = :id"), {"id": row_id}).scalar_one()  # noqa: S608
        with tenant_scope(db.session.get(Tenant, tenant_id)):
            row = db.session.get(models[table], row_id)
            seen[(table, row_id)] = {column: getattr(row, column) for column in plain}
        db.session.expunge_all()
    return seen


def test_row_keys_migration_rebinds_old_ciphertexts(base_config, scratch_url):
    from app.crypto import DecryptionError

    application = create_app({**base_config, "SQLALCHEMY_DATABASE_URI": scratch_url,
                              "KANRI_PLUGINS": PRODUCTION_PLUGINS})
    try:
        with application.app_context():
            flask_migrate.upgrade(revision=PREVIOUS_HEAD)
            expected = _insert_old_style_rows(application)
            old_values = {key: db.session.execute(sa.text(f"SELECT * FROM {key[0]} WHERE id = :id"),  # noqa: S608
                                                  {"id": key[1]}).mappings().one() for key in expected}
            db.session.remove()

            flask_migrate.upgrade()  # to the head, through 0005_row_keys

            assert _read_through_orm(expected) == expected
            row_keys = {}
            for (table, row_id), plain in expected.items():
                row = db.session.execute(sa.text(f"SELECT * FROM {table} WHERE id = :id"),  # noqa: S608
                                         {"id": row_id}).mappings().one()
                assert isinstance(row["row_key"], str) and len(row["row_key"]) == 22
                row_keys[(table, row_id)] = row["row_key"]
                for column, value in plain.items():
                    if value is None:
                        assert row[column] is None
                    else:
                        assert row[column] != old_values[(table, row_id)][column]  # re-encrypted
            assert len(set(row_keys.values())) == len(row_keys)

            # the migrated values are bound to their rows: a value moved within a tenant no longer reads
            users = sorted(row_id for (table, row_id) in expected if table == "users")
            source, target = users[0], users[2]
            saved = db.session.execute(sa.text("SELECT name FROM users WHERE id = :id"), {"id": target}).scalar_one()
            db.session.execute(sa.text("UPDATE users SET name = (SELECT name FROM users WHERE id = :src) "
                                       "WHERE id = :dst"), {"src": source, "dst": target})
            db.session.commit()
            with pytest.raises(DecryptionError):
                _read_through_orm({("users", target): expected[("users", target)]})
            db.session.rollback()
            db.session.execute(sa.text("UPDATE users SET name = :v WHERE id = :id"), {"v": saved, "id": target})
            db.session.commit()
            db.session.remove()

            # downgrade puts the old associated data back
            flask_migrate.downgrade(revision=PREVIOUS_HEAD)
            keyset = application.extensions["kanri_keyset"]
            assert "row_key" not in {c["name"] for c in sa.inspect(db.engine).get_columns("users")}
            for (table, row_id), plain in expected.items():
                row = db.session.execute(sa.text(f"SELECT * FROM {table} WHERE id = :id"),  # noqa: S608
                                         {"id": row_id}).mappings().one()
                for column, value in plain.items():
                    token = row[column]
                    assert (value is None and token is None) or keyset.decrypt(
                        token, f"{table}.{column}|tenant={row['tenant_id']}") == value
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def test_row_keys_migration_stops_on_a_value_that_does_not_decrypt(base_config, scratch_url):
    """A tampered old ciphertext stops the upgrade naming its row, and the database stays at the previous revision as it was."""
    application = create_app({**base_config, "SQLALCHEMY_DATABASE_URI": scratch_url,
                              "KANRI_PLUGINS": PRODUCTION_PLUGINS})
    try:
        with application.app_context():
            flask_migrate.upgrade(revision=PREVIOUS_HEAD)
            expected = _insert_old_style_rows(application)
            # users is converted first; a value moved to another column in a later table must undo that too
            victim = max(row_id for (table, row_id) in expected if table == "mama_associations")
            db.session.execute(sa.text("UPDATE mama_associations SET contact_name = contact_phone WHERE id = :id"),
                               {"id": victim})
            db.session.commit()
            before = {table: db.session.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).all()  # noqa: S608
                      for table in ("users", "mama_associations", "jucho_associations")}
            db.session.remove()

            with pytest.raises(SystemExit):  # flask_migrate reports the error and exits 1
                flask_migrate.upgrade()

            db.session.remove()
            assert db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [
                PREVIOUS_HEAD]
            inspector = sa.inspect(db.engine)
            for table, rows in before.items():
                assert "row_key" not in {c["name"] for c in inspector.get_columns(table)}
                assert db.session.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).all() == rows  # noqa: S608
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
