"""The list pages' sort indexes end with id: a page typed by number under a non-unique sort seeks on PostgreSQL too

The lists order by (column, id) and seek from a (column, id) cursor. SQLite's indexes hold the rowid (id)
already; PostgreSQL needs it in the index to seek instead of scanning.

Revision ID: 0033_sort_indexes_with_id
Revises: 0032_strong_factors
"""
from alembic import op

revision = "0033_sort_indexes_with_id"
down_revision = "0032_strong_factors"
branch_labels = None
depends_on = None

INDEXES = {
    "mama_associations": {
        "ix_mama_associations_tenant_name": ["tenant_id", "name"],
        "ix_mama_associations_tenant_kana": ["tenant_id", "name_kana"],
        "ix_mama_associations_tenant_area": ["tenant_id", "prefecture", "city"],
        "ix_mama_associations_tenant_units": ["tenant_id", "units"],
        "ix_mama_associations_tenant_year": ["tenant_id", "building_year"],
        "ix_mama_associations_tenant_updated": ["tenant_id", "updated_at"],
    },
    "jucho_associations": {
        "ix_jucho_associations_tenant_name": ["tenant_id", "name"],
        "ix_jucho_associations_tenant_kana": ["tenant_id", "kana"],
        "ix_jucho_associations_tenant_updated": ["tenant_id", "updated_at"],
    },
    "jucho_buildings": {
        "ix_jucho_buildings_tenant_name": ["tenant_id", "name"],
        "ix_jucho_buildings_tenant_kana": ["tenant_id", "kana"],
        "ix_jucho_buildings_tenant_completed": ["tenant_id", "completion_date"],
        "ix_jucho_buildings_tenant_units": ["tenant_id", "total_units"],
        "ix_jucho_buildings_tenant_updated": ["tenant_id", "updated_at"],
    },
}


def _rebuild(with_id: bool) -> None:
    for table, indexes in INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, columns in indexes.items():
                batch_op.drop_index(name)
                batch_op.create_index(name, columns + ["id"] if with_id else columns, unique=False)


def upgrade():
    _rebuild(with_id=True)


def downgrade():
    _rebuild(with_id=False)
