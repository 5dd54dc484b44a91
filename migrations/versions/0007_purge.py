"""contract-end purge: the tenant tombstone's purged_at and the purge receipts

Revision ID: 0007_purge
Revises: 0006_mail_outbox
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_purge"
down_revision = "0006_mail_outbox"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('purge_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_code', sa.String(length=32), nullable=False),
    sa.Column('product', sa.String(length=32), nullable=False),
    sa.Column('contract_end', sa.Date(), nullable=False),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('operator', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Text(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('mailed_to', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purge_receipts'))
    )
    with op.batch_alter_table('purge_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purge_receipts_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('purge_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purge_receipts_tenant_id'))
    op.drop_table('purge_receipts')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
