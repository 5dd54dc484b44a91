"""Row keys: every encrypted value is bound to its row as well as its table, column and tenant

Adds a random, immutable ``row_key`` (16 bytes, url-safe base64) to every table with encrypted
columns, gives each existing row its own key and re-encrypts the row's values from the old
associated data ``table.column|tenant=<id>`` to ``table.column|tenant=<id>|row=<row_key>``
(under the keyset's primary key). Needs the application's keyset and the data: run it with
``flask db upgrade`` (not in --sql mode). Every value is decrypted before anything changes, so one
that does not decrypt stops the upgrade naming its row and leaves the database as it was. SQLite
runs DDL outside a transaction: an interruption during the conversion itself (a crash) can leave
it part-done there, so back up first; PostgreSQL converts in one transaction.

Revision ID: 0005_row_keys
Revises: 0004_pending_logins
"""
import secrets

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "0005_row_keys"
down_revision = "0004_pending_logins"
branch_labels = None
depends_on = None

# Frozen at this revision (never read from the models): the encrypted columns of each table.
ENCRYPTED = {
    "users": ("name", "email"),
    "mama_associations": ("contact_name", "contact_phone", "contact_email"),
    "jucho_associations": ("contact_person", "contact_phone", "contact_email"),
}
ROW_KEY = sa.String(length=22)
BATCH = 500


def _old_ad(table, column, tenant_id, row_key):
    return f"{table}.{column}|tenant={tenant_id}"


def _new_ad(table, column, tenant_id, row_key):
    return f"{table}.{column}|tenant={tenant_id}|row={row_key}"


def _keyset():
    if op.get_context().as_sql:
        raise RuntimeError("0005_row_keys re-encrypts stored data and cannot run in offline (--sql) mode")
    keyset = current_app.extensions.get("kanri_keyset")
    if keyset is None:
        raise RuntimeError("0005_row_keys re-encrypts data and needs the keyset: run it with `flask db upgrade`")
    return keyset


def _batches(table):
    """Every row of table, BATCH rows per query, by ascending id."""
    bind = op.get_bind()
    last_id = 0
    while True:
        rows = bind.execute(sa.select(table).where(table.c.id > last_id).order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1].id


def _table(table_name, columns, with_row_key):
    extra = (sa.column("row_key"),) if with_row_key else ()
    return sa.table(table_name, sa.column("id"), sa.column("tenant_id"), *extra, *(sa.column(n) for n in columns))


def _check(tables, decrypt_ad, with_row_key):
    """Decrypt every value before anything changes (SQLite runs DDL outside a transaction), naming the
    first row that does not decrypt."""
    keyset = _keyset()
    for table_name, columns in tables:
        for rows in _batches(_table(table_name, columns, with_row_key)):
            for row in rows:
                for name in columns:
                    token = getattr(row, name)
                    if token is None:
                        continue
                    try:
                        keyset.decrypt(token, decrypt_ad(table_name, name, row.tenant_id,
                                                          getattr(row, "row_key", None)))
                    except Exception as exc:
                        raise RuntimeError(
                            f"0005_row_keys: {table_name}.{name} of row id={row.id} does not decrypt (tampered, "
                            "moved, or made with a key missing from the keyset); nothing was changed") from exc


def _rewrap(table_name, columns, decrypt_ad, encrypt_ad, new_keys):
    """Re-encrypt every row's values from decrypt_ad to encrypt_ad, in batches by id.

    With new_keys each row first gets a fresh random row_key (stored in the same UPDATE)."""
    keyset = _keyset()
    table = _table(table_name, columns, with_row_key=True)
    update = (table.update().where(table.c.id == sa.bindparam("_id"))
              .values(row_key=sa.bindparam("_row_key"), **{name: sa.bindparam(f"_{name}") for name in columns}))
    for rows in _batches(table):
        params = []
        for row in rows:
            row_key = secrets.token_urlsafe(16) if new_keys else row.row_key
            values = {"_id": row.id, "_row_key": row_key}
            for name in columns:
                token = getattr(row, name)
                values[f"_{name}"] = None if token is None else keyset.encrypt(
                    keyset.decrypt(token, decrypt_ad(table_name, name, row.tenant_id, row.row_key)),
                    encrypt_ad(table_name, name, row.tenant_id, row_key))
            params.append(values)
        op.get_bind().execute(update, params)


def _tables():
    present = set(sa.inspect(op.get_bind()).get_table_names())
    return [(name, columns) for name, columns in ENCRYPTED.items() if name in present]


def upgrade():
    _check(_tables(), _old_ad, with_row_key=False)
    for table_name, columns in _tables():
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("row_key", ROW_KEY, nullable=True))
        _rewrap(table_name, columns, _old_ad, _new_ad, new_keys=True)
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column("row_key", existing_type=ROW_KEY, nullable=False)
            batch_op.create_unique_constraint(batch_op.f(f"uq_{table_name}_row_key"), ["row_key"])


def downgrade():
    _check(_tables(), _new_ad, with_row_key=True)
    for table_name, columns in _tables():
        _rewrap(table_name, columns, _new_ad, _old_ad, new_keys=False)
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"uq_{table_name}_row_key"), type_="unique")
            batch_op.drop_column("row_key")
