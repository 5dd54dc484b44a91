"""export requests: a tenant admin asks for a data export, an operator fulfils or rejects it

Revision ID: 0008_export_requests
Revises: 0007_purge
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_export_requests"
down_revision = "0007_purge"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('requested_login', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_operator', sa.String(length=64), nullable=True),
    sa.Column('handover_note', sa.Text(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('row_key', sa.String(length=22), nullable=False),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_export_requests_requested_by_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_export_requests_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_requests')),
    sa.UniqueConstraint('row_key', name=op.f('uq_export_requests_row_key'))
    )
    with op.batch_alter_table('export_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_requests_requested_by'), ['requested_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_requests_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('export_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_requests_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_export_requests_requested_by'))
    op.drop_table('export_requests')
