"""重調@CITY product tables: e-mailed login codes, 管理組合 (associations) and 物件 (buildings)

Revision ID: 0003_jucho
Revises: 0002_mama
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_jucho"
down_revision = "0002_mama"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jucho_associations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kana', sa.String(length=200), nullable=False),
    sa.Column('management_form', sa.String(length=16), nullable=False),
    sa.Column('contact_person', sa.Text(), nullable=True),
    sa.Column('contact_phone', sa.Text(), nullable=True),
    sa.Column('contact_email', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_jucho_associations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jucho_associations'))
    )
    with op.batch_alter_table('jucho_associations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jucho_associations_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_jucho_associations_tenant_kana', ['tenant_id', 'kana'], unique=False)
        batch_op.create_index('ix_jucho_associations_tenant_name', ['tenant_id', 'name'], unique=False)
        batch_op.create_index('ix_jucho_associations_tenant_updated', ['tenant_id', 'updated_at'], unique=False)

    op.create_table('jucho_buildings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kana', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('structure', sa.String(length=16), nullable=False),
    sa.Column('floors_above', sa.Integer(), nullable=False),
    sa.Column('floors_below', sa.Integer(), nullable=False),
    sa.Column('total_units', sa.Integer(), nullable=False),
    sa.Column('completion_date', sa.Date(), nullable=True),
    sa.Column('management_fee_basis', sa.String(length=8), nullable=False),
    sa.Column('management_fee', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('repair_reserve_basis', sa.String(length=8), nullable=False),
    sa.Column('repair_reserve', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('parking_fee', sa.Integer(), nullable=True),
    sa.Column('other_fees', sa.Text(), nullable=False),
    sa.Column('planned_repair_year', sa.Integer(), nullable=True),
    sa.Column('planned_repair', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['jucho_associations.id'], name=op.f('fk_jucho_buildings_association_id_jucho_associations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_jucho_buildings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jucho_buildings'))
    )
    with op.batch_alter_table('jucho_buildings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jucho_buildings_association_id'), ['association_id'], unique=False)
        batch_op.create_index('ix_jucho_buildings_tenant_completed', ['tenant_id', 'completion_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_jucho_buildings_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_jucho_buildings_tenant_kana', ['tenant_id', 'kana'], unique=False)
        batch_op.create_index('ix_jucho_buildings_tenant_name', ['tenant_id', 'name'], unique=False)
        batch_op.create_index('ix_jucho_buildings_tenant_units', ['tenant_id', 'total_units'], unique=False)
        batch_op.create_index('ix_jucho_buildings_tenant_updated', ['tenant_id', 'updated_at'], unique=False)

    op.create_table('jucho_login_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('nonce_hash', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('void_reason', sa.String(length=32), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_jucho_login_codes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_jucho_login_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jucho_login_codes'))
    )
    with op.batch_alter_table('jucho_login_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jucho_login_codes_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_jucho_login_codes_user_nonce', ['user_id', 'nonce_hash'], unique=False)



def downgrade():
    with op.batch_alter_table('jucho_login_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_jucho_login_codes_user_nonce')
        batch_op.drop_index(batch_op.f('ix_jucho_login_codes_tenant_id'))

    op.drop_table('jucho_login_codes')
    with op.batch_alter_table('jucho_buildings', schema=None) as batch_op:
        batch_op.drop_index('ix_jucho_buildings_tenant_updated')
        batch_op.drop_index('ix_jucho_buildings_tenant_units')
        batch_op.drop_index('ix_jucho_buildings_tenant_name')
        batch_op.drop_index('ix_jucho_buildings_tenant_kana')
        batch_op.drop_index(batch_op.f('ix_jucho_buildings_tenant_id'))
        batch_op.drop_index('ix_jucho_buildings_tenant_completed')
        batch_op.drop_index(batch_op.f('ix_jucho_buildings_association_id'))

    op.drop_table('jucho_buildings')
    with op.batch_alter_table('jucho_associations', schema=None) as batch_op:
        batch_op.drop_index('ix_jucho_associations_tenant_updated')
        batch_op.drop_index('ix_jucho_associations_tenant_name')
        batch_op.drop_index('ix_jucho_associations_tenant_kana')
        batch_op.drop_index(batch_op.f('ix_jucho_associations_tenant_id'))

    op.drop_table('jucho_associations')
