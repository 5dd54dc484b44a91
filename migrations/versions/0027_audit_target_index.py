"""Index the audit log by (chain, target, seq): a record's history (e.g. a 依頼's page) seeks its own events

Revision ID: 0027_audit_target_index
Revises: 0026_audit_actor_index
"""
from alembic import op

revision = "0027_audit_target_index"
down_revision = "0026_audit_actor_index"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_target", ["chain_id", "target", "seq"], unique=False)


def downgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_target")
