"""重調@CITY: the 別表第5 profile of a building (jucho_building_profiles), its 大規模修繕 rows (jucho_repair_records),
住戸 (jucho_units, arrears encrypted) and pending 住戸 CSV imports (jucho_unit_imports)

Revision ID: 0015_jucho_profile_units
Revises: 0014_trash_and_search
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_jucho_profile_units'
down_revision = '0014_trash_and_search'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jucho_building_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('officers_count', sa.Integer(), nullable=True),
    sa.Column('officer_selection', sa.String(length=200), nullable=True),
    sa.Column('general_meeting_month', sa.SmallInteger(), nullable=True),
    sa.Column('fiscal_month', sa.SmallInteger(), nullable=True),
    sa.Column('insurance_type', sa.String(length=200), nullable=True),
    sa.Column('insurance_company', sa.String(length=200), nullable=True),
    sa.Column('rules_names', sa.Text(), nullable=True),
    sa.Column('parking_spaces', sa.Integer(), nullable=True),
    sa.Column('parking_vacant', sa.Integer(), nullable=True),
    sa.Column('parking_fee_min', sa.Integer(), nullable=True),
    sa.Column('parking_fee_max', sa.Integer(), nullable=True),
    sa.Column('parking_fee_note', sa.String(length=200), nullable=True),
    sa.Column('parking_succession', sa.String(length=16), nullable=True),
    sa.Column('bicycle_spaces', sa.Integer(), nullable=True),
    sa.Column('bicycle_fee', sa.Integer(), nullable=True),
    sa.Column('motorcycle_spaces', sa.Integer(), nullable=True),
    sa.Column('motorcycle_fee', sa.Integer(), nullable=True),
    sa.Column('storage_spaces', sa.Integer(), nullable=True),
    sa.Column('storage_fee', sa.Integer(), nullable=True),
    sa.Column('balcony_use', sa.String(length=200), nullable=True),
    sa.Column('garden_use', sa.String(length=200), nullable=True),
    sa.Column('unit_use', sa.String(length=16), nullable=True),
    sa.Column('minpaku', sa.String(length=16), nullable=True),
    sa.Column('pets', sa.String(length=16), nullable=True),
    sa.Column('pets_note', sa.String(length=200), nullable=True),
    sa.Column('instruments', sa.String(length=16), nullable=True),
    sa.Column('instruments_note', sa.String(length=200), nullable=True),
    sa.Column('reform_limits', sa.Text(), nullable=True),
    sa.Column('other_restrictions', sa.Text(), nullable=True),
    sa.Column('finance_as_of', sa.Date(), nullable=True),
    sa.Column('management_income', sa.BigInteger(), nullable=True),
    sa.Column('management_expense', sa.BigInteger(), nullable=True),
    sa.Column('management_carryover', sa.BigInteger(), nullable=True),
    sa.Column('reserve_income', sa.BigInteger(), nullable=True),
    sa.Column('reserve_expense', sa.BigInteger(), nullable=True),
    sa.Column('reserve_carryover', sa.BigInteger(), nullable=True),
    sa.Column('reserve_balance', sa.BigInteger(), nullable=True),
    sa.Column('loan_balance', sa.BigInteger(), nullable=True),
    sa.Column('arrears_total', sa.BigInteger(), nullable=True),
    sa.Column('fee_revision', sa.String(length=16), nullable=True),
    sa.Column('fee_revision_note', sa.String(length=200), nullable=True),
    sa.Column('reserve_revision', sa.String(length=16), nullable=True),
    sa.Column('reserve_revision_note', sa.String(length=200), nullable=True),
    sa.Column('long_term_plan', sa.String(length=16), nullable=True),
    sa.Column('long_term_plan_made_on', sa.Date(), nullable=True),
    sa.Column('long_term_plan_start_year', sa.Integer(), nullable=True),
    sa.Column('long_term_plan_years', sa.Integer(), nullable=True),
    sa.Column('asbestos_survey', sa.String(length=16), nullable=True),
    sa.Column('asbestos_surveyed_on', sa.Date(), nullable=True),
    sa.Column('asbestos_result', sa.String(length=500), nullable=True),
    sa.Column('construction_started_on', sa.Date(), nullable=True),
    sa.Column('seismic_diagnosis', sa.String(length=16), nullable=True),
    sa.Column('seismic_diagnosed_on', sa.Date(), nullable=True),
    sa.Column('seismic_result', sa.String(length=500), nullable=True),
    sa.Column('rebuild_resolution', sa.String(length=16), nullable=True),
    sa.Column('site_sale_resolution', sa.String(length=16), nullable=True),
    sa.Column('rebuild_note', sa.String(length=500), nullable=True),
    sa.Column('company_name', sa.String(length=200), nullable=True),
    sa.Column('company_registration', sa.String(length=100), nullable=True),
    sa.Column('company_address', sa.String(length=300), nullable=True),
    sa.Column('consignment', sa.String(length=16), nullable=True),
    sa.Column('management_duties', sa.Text(), nullable=True),
    sa.Column('caretaker_form', sa.String(length=16), nullable=True),
    sa.Column('caretaker_hours', sa.String(length=200), nullable=True),
    sa.Column('office_contact', sa.String(length=100), nullable=True),
    sa.Column('plan_certified', sa.String(length=16), nullable=True),
    sa.Column('plan_certified_on', sa.Date(), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['jucho_buildings.id'], name=op.f('fk_jucho_building_profiles_building_id_jucho_buildings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_jucho_building_profiles_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jucho_building_profiles')),
    sa.UniqueConstraint('building_id', name=op.f('uq_jucho_building_profiles_building_id'))
    )
    with op.batch_alter_table('jucho_building_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jucho_building_profiles_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('jucho_repair_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.SmallInteger(), nullable=True),
    sa.Column('content', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['jucho_buildings.id'], name=op.f('fk_jucho_repair_records_building_id_jucho_buildings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_jucho_repair_records_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jucho_repair_records'))
    )
    with op.batch_alter_table('jucho_repair_records', schema=None) as batch_op:
        batch_op.create_index('ix_jucho_repair_records_building_kind', ['building_id', 'kind', 'year'], unique=False)
        batch_op.create_index(batch_op.f('ix_jucho_repair_records_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('jucho_unit_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('row_key', sa.String(length=22), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['jucho_buildings.id'], name=op.f('fk_jucho_unit_imports_building_id_jucho_buildings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_jucho_unit_imports_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_jucho_unit_imports_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jucho_unit_imports')),
    sa.UniqueConstraint('row_key', name=op.f('uq_jucho_unit_imports_row_key'))
    )
    with op.batch_alter_table('jucho_unit_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jucho_unit_imports_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jucho_unit_imports_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jucho_unit_imports_user_id'), ['user_id'], unique=False)

    op.create_table('jucho_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('floor', sa.Integer(), nullable=True),
    sa.Column('area', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('layout', sa.String(length=20), nullable=False),
    sa.Column('management_fee', sa.Integer(), nullable=True),
    sa.Column('repair_reserve', sa.Integer(), nullable=True),
    sa.Column('repair_lump_sum', sa.Integer(), nullable=True),
    sa.Column('usage_fee', sa.Integer(), nullable=True),
    sa.Column('usage_fee_detail', sa.String(length=200), nullable=False),
    sa.Column('community_fee', sa.Integer(), nullable=True),
    sa.Column('payment_method', sa.String(length=16), nullable=True),
    sa.Column('arrears_management', sa.Text(), nullable=True),
    sa.Column('arrears_reserve', sa.Text(), nullable=True),
    sa.Column('arrears_usage', sa.Text(), nullable=True),
    sa.Column('late_charge', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('row_key', sa.String(length=22), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['jucho_buildings.id'], name=op.f('fk_jucho_units_building_id_jucho_buildings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_jucho_units_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jucho_units')),
    sa.UniqueConstraint('building_id', 'number', name='uq_jucho_units_building_number'),
    sa.UniqueConstraint('row_key', name=op.f('uq_jucho_units_row_key'))
    )
    with op.batch_alter_table('jucho_units', schema=None) as batch_op:
        batch_op.create_index('ix_jucho_units_tenant_building', ['tenant_id', 'building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jucho_units_tenant_id'), ['tenant_id'], unique=False)



def downgrade():
    with op.batch_alter_table('jucho_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jucho_units_tenant_id'))
        batch_op.drop_index('ix_jucho_units_tenant_building')

    op.drop_table('jucho_units')
    with op.batch_alter_table('jucho_unit_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jucho_unit_imports_user_id'))
        batch_op.drop_index(batch_op.f('ix_jucho_unit_imports_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_jucho_unit_imports_building_id'))

    op.drop_table('jucho_unit_imports')
    with op.batch_alter_table('jucho_repair_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jucho_repair_records_tenant_id'))
        batch_op.drop_index('ix_jucho_repair_records_building_kind')

    op.drop_table('jucho_repair_records')
    with op.batch_alter_table('jucho_building_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jucho_building_profiles_tenant_id'))

    op.drop_table('jucho_building_profiles')
