"""operator access: the operator's reason on purge receipts, a partial index for the operator-events filter

Revision ID: 0013_operator_access
Revises: 0009_maintenance
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_operator_access"
down_revision = "0011_manuals"
branch_labels = None
depends_on = None

OPERATOR_EVENTS_PREDICATE = "actor_id IS NULL AND (actor_login = 'operator' OR actor_login LIKE 'operator:%')"


def upgrade():
    with op.batch_alter_table('purge_receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=200), nullable=True))
    op.create_index('ix_audit_events_operator', 'audit_events', ['chain_id', 'seq'], unique=False,
                    postgresql_where=sa.text(OPERATOR_EVENTS_PREDICATE),
                    sqlite_where=sa.text(OPERATOR_EVENTS_PREDICATE))


def downgrade():
    op.drop_index('ix_audit_events_operator', table_name='audit_events',
                  postgresql_where=sa.text(OPERATOR_EVENTS_PREDICATE),
                  sqlite_where=sa.text(OPERATOR_EVENTS_PREDICATE))
    with op.batch_alter_table('purge_receipts', schema=None) as batch_op:
        batch_op.drop_column('reason')
