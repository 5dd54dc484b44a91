"""core: server-side pending logins (password done, second factor open), used at most once

Revision ID: 0004_pending_logins
Revises: 0003_jucho
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_pending_logins"
down_revision = "0003_jucho"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_logins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('nonce_hash', sa.String(length=64), nullable=False),
    sa.Column('factor', sa.String(length=64), nullable=False),
    sa.Column('next_url', sa.String(length=2048), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consumed_reason', sa.String(length=32), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_pending_logins_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_pending_logins_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_logins'))
    )
    with op.batch_alter_table('pending_logins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_logins_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_pending_logins_user_expires', ['user_id', 'expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('pending_logins', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_logins_user_expires')
        batch_op.drop_index(batch_op.f('ix_pending_logins_tenant_id'))

    op.drop_table('pending_logins')
