"""削除済み (soft delete) and kana-insensitive search: deleted_at / deleted_by and search_text on MAMA's
管理組合 and 重調's 管理組合 and 物件; a MAMA 組合コード is unique among live associations only

Revision ID: 0014_trash_and_search
Revises: 0009_maintenance

search_text is backfilled for the rows that exist, on SQLite and PostgreSQL alike, with the same normaliser the
application uses (app.searchtext.search_text_of). The field lists are written out here, as they were at this
revision, so a later change of a model does not change what this migration does.
"""
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

revision = "0014_trash_and_search"
down_revision = "0013_operator_access"
branch_labels = None
depends_on = None

# Encrypted columns (contact person, phone, e-mail) are never here: search_text is stored in clear.
SEARCH_FIELDS = {
    "mama_associations": ("code", "name", "name_kana", "postal_code", ("prefecture", "city", "address_line"),
                          "building_name"),
    "jucho_associations": ("name", "kana"),
    "jucho_buildings": ("name", "kana", "address"),
}
BATCH = 1000


def _backfill(table_name: str, fields: tuple) -> None:
    from app.searchtext import search_text_of

    bind = op.get_bind()
    names = sorted({name for field in fields for name in (field if isinstance(field, tuple) else (field,))})
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column("search_text", sa.Text),
                     *[sa.column(name) for name in names])
    shape = SimpleNamespace(__search_fields__=fields)
    last = 0
    while True:
        rows = bind.execute(sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(BATCH)).mappings().all()
        if not rows:
            return
        for row in rows:
            bind.execute(table.update().where(table.c.id == row["id"])
                         .values(search_text=search_text_of(shape, row.get)))
        last = rows[-1]["id"]


def upgrade():
    for table_name, fields in SEARCH_FIELDS.items():
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column("deleted_by", sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=True))
        _backfill(table_name, fields)
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column("search_text", existing_type=sa.Text(), nullable=False)
    with op.batch_alter_table("mama_associations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_mama_associations_tenant_id_code", type_="unique")
        batch_op.create_index("uq_mama_associations_tenant_live_code", ["tenant_id", "code"], unique=True,
                              sqlite_where=sa.text("deleted_at IS NULL"),
                              postgresql_where=sa.text("deleted_at IS NULL"))


def downgrade():
    # Rows still in 削除済み would break the old unique code and reappear as live: remove them first.
    op.execute(sa.text("DELETE FROM mama_user_associations WHERE association_id IN "
                       "(SELECT id FROM mama_associations WHERE deleted_at IS NOT NULL)"))
    for table_name in ("jucho_buildings", "jucho_associations", "mama_associations"):
        op.execute(sa.text(f"DELETE FROM {table_name} WHERE deleted_at IS NOT NULL"))  # noqa: S608 - fixed names
    with op.batch_alter_table("mama_associations", schema=None) as batch_op:
        batch_op.drop_index("uq_mama_associations_tenant_live_code")
        batch_op.create_unique_constraint("uq_mama_associations_tenant_id_code", ["tenant_id", "code"])
    for table_name in SEARCH_FIELDS:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_column("search_text")
            batch_op.drop_column("deleted_by")
            batch_op.drop_column("deleted_at")
