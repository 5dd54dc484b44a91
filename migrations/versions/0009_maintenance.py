"""maintenance windows: planned or immediate periods in which every page answers 503

Revision ID: 0009_maintenance
Revises: 0008_export_requests
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_maintenance"
down_revision = "0008_export_requests"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('maintenance_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_windows'))
    )
    with op.batch_alter_table('maintenance_windows', schema=None) as batch_op:
        batch_op.create_index('ix_maintenance_windows_open', ['ended_at', 'starts_at'], unique=False)


def downgrade():
    with op.batch_alter_table('maintenance_windows', schema=None) as batch_op:
        batch_op.drop_index('ix_maintenance_windows_open')
    op.drop_table('maintenance_windows')
