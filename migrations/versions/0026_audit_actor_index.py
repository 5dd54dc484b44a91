"""Index the audit log by (chain, actor, action, seq): 前回ログイン and ログイン履歴 seek a user's own events instead of
walking the tenant's whole chain

Revision ID: 0026_audit_actor_index
Revises: 0025_search_trigram
"""
from alembic import op

revision = "0026_audit_actor_index"
down_revision = "0025_search_trigram"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_actor_action", ["chain_id", "actor_id", "action", "seq"], unique=False)


def downgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_actor_action")
