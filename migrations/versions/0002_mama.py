"""MAMA product tables: registered devices, registration codes, permission sets, user settings, associations

Revision ID: 0002_mama
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_mama"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mama_associations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_kana', sa.String(length=200), nullable=False),
    sa.Column('postal_code', sa.String(length=8), nullable=False),
    sa.Column('prefecture', sa.String(length=8), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('address_line', sa.String(length=200), nullable=False),
    sa.Column('building_name', sa.String(length=200), nullable=True),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('building_year', sa.Integer(), nullable=False),
    sa.Column('fiscal_start_month', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.Text(), nullable=True),
    sa.Column('contact_phone', sa.Text(), nullable=True),
    sa.Column('contact_email', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_mama_associations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mama_associations')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_mama_associations_tenant_id_code'))
    )
    with op.batch_alter_table('mama_associations', schema=None) as batch_op:
        batch_op.create_index('ix_mama_associations_tenant_area', ['tenant_id', 'prefecture', 'city'], unique=False)
        batch_op.create_index(batch_op.f('ix_mama_associations_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_mama_associations_tenant_kana', ['tenant_id', 'name_kana'], unique=False)
        batch_op.create_index('ix_mama_associations_tenant_name', ['tenant_id', 'name'], unique=False)
        batch_op.create_index('ix_mama_associations_tenant_units', ['tenant_id', 'units'], unique=False)
        batch_op.create_index('ix_mama_associations_tenant_updated', ['tenant_id', 'updated_at'], unique=False)
        batch_op.create_index('ix_mama_associations_tenant_year', ['tenant_id', 'building_year'], unique=False)

    op.create_table('mama_permission_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('menus_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_mama_permission_sets_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mama_permission_sets')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_mama_permission_sets_tenant_id_name'))
    )
    with op.batch_alter_table('mama_permission_sets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mama_permission_sets_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('mama_devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('requested_ip', sa.String(length=64), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_ip', sa.String(length=64), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_mama_devices_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mama_devices_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mama_devices')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_mama_devices_token_hash'))
    )
    with op.batch_alter_table('mama_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mama_devices_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_mama_devices_tenant_status', ['tenant_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_mama_devices_user_id'), ['user_id'], unique=False)

    op.create_table('mama_registration_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_mama_registration_codes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mama_registration_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mama_registration_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_mama_registration_codes_code_hash'))
    )
    with op.batch_alter_table('mama_registration_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mama_registration_codes_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mama_registration_codes_user_id'), ['user_id'], unique=False)

    op.create_table('mama_user_associations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['mama_associations.id'], name=op.f('fk_mama_user_associations_association_id_mama_associations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_mama_user_associations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mama_user_associations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mama_user_associations')),
    sa.UniqueConstraint('user_id', 'association_id', name=op.f('uq_mama_user_associations_user_id_association_id'))
    )
    with op.batch_alter_table('mama_user_associations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mama_user_associations_association_id'), ['association_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mama_user_associations_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mama_user_associations_user_id'), ['user_id'], unique=False)

    op.create_table('mama_user_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('permission_set_id', sa.Integer(), nullable=True),
    sa.Column('scope_all', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['permission_set_id'], ['mama_permission_sets.id'], name=op.f('fk_mama_user_settings_permission_set_id_mama_permission_sets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_mama_user_settings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mama_user_settings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mama_user_settings')),
    sa.UniqueConstraint('user_id', name=op.f('uq_mama_user_settings_user_id'))
    )
    with op.batch_alter_table('mama_user_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mama_user_settings_permission_set_id'), ['permission_set_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mama_user_settings_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    # Indexes go with their tables; children before parents.
    op.drop_table('mama_user_settings')
    op.drop_table('mama_user_associations')
    op.drop_table('mama_registration_codes')
    op.drop_table('mama_devices')
    op.drop_table('mama_permission_sets')
    op.drop_table('mama_associations')
