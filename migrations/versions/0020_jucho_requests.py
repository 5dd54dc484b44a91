"""重調@CITY 依頼 (broker requests), their fee lines, the per-tenant fee table and request settings; existing
重調@CITY tenants get the default fee table

Revision ID: 0020_jucho_requests
Revises: 0014_trash_and_search
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0020_jucho_requests"
down_revision = '0019_jucho_building_address'
branch_labels = None
depends_on = None

# As plugins/jucho/fees.py DEFAULT_FEES was at this revision: (code, name, kind, tax-inclusive yen).
DEFAULT_FEES = (
    ("report", "重要事項調査報告書", "report", 11000),
    ("rules", "管理規約の写し", "document", 3300),
    ("bylaws", "使用細則の写し", "document", 1100),
    ("repair_plan", "長期修繕計画の写し", "document", 3300),
    ("minutes", "総会議事録の写し（直近2期分）", "document", 2200),
    ("express", "速達", "express", 1100),
)


def _seed_fees():
    bind = op.get_bind()
    tenants = bind.execute(sa.text("SELECT id FROM tenants WHERE product = 'jucho' AND purged_at IS NULL")).scalars()
    now = datetime.now(UTC)
    fees = sa.table("jucho_fee_items", *[sa.column(name) for name in (
        "tenant_id", "code", "name", "kind", "amount", "tax_rate", "active", "sort_order", "created_at", "updated_at")])
    rows = [{"tenant_id": tenant_id, "code": code, "name": name, "kind": kind, "amount": amount, "tax_rate": 10,
             "active": True, "sort_order": order * 10, "created_at": now, "updated_at": now}
            for tenant_id in list(tenants) for order, (code, name, kind, amount) in enumerate(DEFAULT_FEES, start=1)]
    if rows:
        op.bulk_insert(fees, rows)


def upgrade():
    op.create_table('jucho_fee_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('tax_rate', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_jucho_fee_items_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jucho_fee_items')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_jucho_fee_items_tenant_id_code'))
    )
    with op.batch_alter_table('jucho_fee_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jucho_fee_items_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_jucho_fee_items_tenant_order', ['tenant_id', 'sort_order'], unique=False)

    op.create_table('jucho_request_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('due_business_days', sa.Integer(), nullable=False),
    sa.Column('notify_email', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('row_key', sa.String(length=22), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_jucho_request_settings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jucho_request_settings')),
    sa.UniqueConstraint('row_key', name=op.f('uq_jucho_request_settings_row_key')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_jucho_request_settings_tenant_id'))
    )
    with op.batch_alter_table('jucho_request_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jucho_request_settings_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('jucho_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('building_name', sa.String(length=200), nullable=False),
    sa.Column('building_unlisted', sa.Boolean(), nullable=False),
    sa.Column('unit_number', sa.String(length=32), nullable=False),
    sa.Column('broker_company', sa.String(length=200), nullable=False),
    sa.Column('license_number', sa.String(length=64), nullable=False),
    sa.Column('contact_name', sa.Text(), nullable=False),
    sa.Column('phone', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('postal_address', sa.Text(), nullable=True),
    sa.Column('purpose', sa.String(length=8), nullable=False),
    sa.Column('delivery', sa.String(length=16), nullable=False),
    sa.Column('express', sa.Boolean(), nullable=False),
    sa.Column('seller_consent', sa.Boolean(), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('cancel_reason', sa.Text(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('payment_status', sa.String(length=16), nullable=False),
    sa.Column('total_amount', sa.Integer(), nullable=False),
    sa.Column('total_tax', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('row_key', sa.String(length=22), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_jucho_requests_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['building_id'], ['jucho_buildings.id'], name=op.f('fk_jucho_requests_building_id_jucho_buildings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_jucho_requests_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jucho_requests')),
    sa.UniqueConstraint('row_key', name=op.f('uq_jucho_requests_row_key')),
    sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_jucho_requests_tenant_id_number'))
    )
    with op.batch_alter_table('jucho_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jucho_requests_building_id'), ['building_id'], unique=False)
        batch_op.create_index('ix_jucho_requests_tenant_assignee', ['tenant_id', 'assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jucho_requests_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_jucho_requests_tenant_received', ['tenant_id', 'received_on'], unique=False)
        batch_op.create_index('ix_jucho_requests_tenant_status_due', ['tenant_id', 'status', 'due_date'], unique=False)

    op.create_table('jucho_request_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('fee_item_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('tax_rate', sa.Integer(), nullable=False),
    sa.Column('tax', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['fee_item_id'], ['jucho_fee_items.id'], name=op.f('fk_jucho_request_lines_fee_item_id_jucho_fee_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['jucho_requests.id'], name=op.f('fk_jucho_request_lines_request_id_jucho_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_jucho_request_lines_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jucho_request_lines'))
    )
    with op.batch_alter_table('jucho_request_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jucho_request_lines_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jucho_request_lines_tenant_id'), ['tenant_id'], unique=False)

    _seed_fees()


def downgrade():
    with op.batch_alter_table('jucho_request_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jucho_request_lines_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_jucho_request_lines_request_id'))

    op.drop_table('jucho_request_lines')
    with op.batch_alter_table('jucho_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_jucho_requests_tenant_status_due')
        batch_op.drop_index('ix_jucho_requests_tenant_received')
        batch_op.drop_index(batch_op.f('ix_jucho_requests_tenant_id'))
        batch_op.drop_index('ix_jucho_requests_tenant_assignee')
        batch_op.drop_index(batch_op.f('ix_jucho_requests_building_id'))

    op.drop_table('jucho_requests')
    with op.batch_alter_table('jucho_request_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jucho_request_settings_tenant_id'))

    op.drop_table('jucho_request_settings')
    with op.batch_alter_table('jucho_fee_items', schema=None) as batch_op:
        batch_op.drop_index('ix_jucho_fee_items_tenant_order')
        batch_op.drop_index(batch_op.f('ix_jucho_fee_items_tenant_id'))

    op.drop_table('jucho_fee_items')
