"""Stronger factors: the tenant's factor policy, TOTP (secret encrypted), recovery codes (keyed hashes), passkeys,
wrong-code counts, and which stronger factor a pending login / session passed

Revision ID: 0032_strong_factors
Revises: 0031_ip_restriction
Create Date: 2026-11-30 12:30:03.149957

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0032_strong_factors'
down_revision = '0031_ip_restriction'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('strong_factor_gate', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('strong_factor_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('admins_required', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_strong_factor_policies_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strong_factor_policies')),
    sa.UniqueConstraint('tenant_id', name='uq_strong_factor_policies_tenant')
    )
    with op.batch_alter_table('strong_factor_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_strong_factor_policies_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('strong_factor_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('pending_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_strong_factor_failures_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_strong_factor_failures_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strong_factor_failures'))
    )
    with op.batch_alter_table('strong_factor_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_strong_factor_failures_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_strong_factor_failures_user_at', ['user_id', 'created_at'], unique=False)

    op.create_table('strong_factor_passkeys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('credential_id', sa.String(length=1400), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('sign_count', sa.BigInteger(), nullable=False),
    sa.Column('transports', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_strong_factor_passkeys_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_strong_factor_passkeys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strong_factor_passkeys')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_strong_factor_passkeys_credential_id'))
    )
    with op.batch_alter_table('strong_factor_passkeys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_strong_factor_passkeys_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_strong_factor_passkeys_user_id'), ['user_id'], unique=False)

    op.create_table('strong_factor_recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_strong_factor_recovery_codes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_strong_factor_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strong_factor_recovery_codes'))
    )
    with op.batch_alter_table('strong_factor_recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_strong_factor_recovery_codes_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_strong_factor_recovery_codes_user_id'), ['user_id'], unique=False)

    op.create_table('strong_factor_totp',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_step', sa.BigInteger(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('row_key', sa.String(length=22), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_strong_factor_totp_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_strong_factor_totp_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strong_factor_totp')),
    sa.UniqueConstraint('row_key', name=op.f('uq_strong_factor_totp_row_key')),
    sa.UniqueConstraint('user_id', name=op.f('uq_strong_factor_totp_user_id'))
    )
    with op.batch_alter_table('strong_factor_totp', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_strong_factor_totp_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('pending_logins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stronger_factor', sa.String(length=32), nullable=True))

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stronger_factor', sa.String(length=32), nullable=True))



def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('strong_factor_gate')

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('stronger_factor')

    with op.batch_alter_table('pending_logins', schema=None) as batch_op:
        batch_op.drop_column('stronger_factor')

    with op.batch_alter_table('strong_factor_totp', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_strong_factor_totp_tenant_id'))

    op.drop_table('strong_factor_totp')
    with op.batch_alter_table('strong_factor_recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_strong_factor_recovery_codes_user_id'))
        batch_op.drop_index(batch_op.f('ix_strong_factor_recovery_codes_tenant_id'))

    op.drop_table('strong_factor_recovery_codes')
    with op.batch_alter_table('strong_factor_passkeys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_strong_factor_passkeys_user_id'))
        batch_op.drop_index(batch_op.f('ix_strong_factor_passkeys_tenant_id'))

    op.drop_table('strong_factor_passkeys')
    with op.batch_alter_table('strong_factor_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_strong_factor_failures_user_at')
        batch_op.drop_index(batch_op.f('ix_strong_factor_failures_tenant_id'))

    op.drop_table('strong_factor_failures')
    with op.batch_alter_table('strong_factor_policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_strong_factor_policies_tenant_id'))

    op.drop_table('strong_factor_policies')
