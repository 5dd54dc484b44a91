"""MAMA: permission levels (閲覧 / 編集 / 削除) per permission set and menu, the device request's status token,
and password reset requests to the tenant's admins

Revision ID: 0017_mama_permission_levels
Revises: 0014_trash_and_search

Every menu an existing permission set listed becomes a grant at the highest level (削除), so nobody loses access
at the upgrade; the downgrade turns the grants back into the menu list.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0017_mama_permission_levels"
down_revision = '0015_jucho_profile_units'
branch_labels = None
depends_on = None

# The full level of each MAMA menu as it was at this revision (物件参照権限 has no 削除).
FULL_LEVEL = {"mama.scopes": "edit"}
SETS = sa.table("mama_permission_sets", sa.column("id", sa.Integer), sa.column("tenant_id", sa.Integer),
                sa.column("menus_json", sa.Text))
GRANTS = sa.table("mama_permission_grants", sa.column("permission_set_id", sa.Integer),
                  sa.column("tenant_id", sa.Integer), sa.column("menu_id", sa.String),
                  sa.column("level", sa.String))


def upgrade():
    op.create_table('mama_permission_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permission_set_id', sa.Integer(), nullable=False),
    sa.Column('menu_id', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['permission_set_id'], ['mama_permission_sets.id'], name=op.f('fk_mama_permission_grants_permission_set_id_mama_permission_sets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_mama_permission_grants_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mama_permission_grants')),
    sa.UniqueConstraint('permission_set_id', 'menu_id', name=op.f('uq_mama_permission_grants_permission_set_id_menu_id'))
    )
    with op.batch_alter_table('mama_permission_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mama_permission_grants_permission_set_id'), ['permission_set_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mama_permission_grants_tenant_id'), ['tenant_id'], unique=False)

    bind = op.get_bind()
    rows = []
    for set_id, tenant_id, menus_json in bind.execute(sa.select(SETS.c.id, SETS.c.tenant_id, SETS.c.menus_json)):
        for menu_id in sorted(set(json.loads(menus_json or "[]"))):
            rows.append({"permission_set_id": set_id, "tenant_id": tenant_id, "menu_id": menu_id,
                         "level": FULL_LEVEL.get(menu_id, "delete")})
    if rows:
        bind.execute(GRANTS.insert(), rows)
    with op.batch_alter_table('mama_permission_sets', schema=None) as batch_op:
        batch_op.drop_column('menus_json')

    with op.batch_alter_table('mama_devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('status_token_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_mama_devices_status_token_hash'), ['status_token_hash'])

    op.create_table('mama_reset_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_ip', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_mama_reset_requests_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mama_reset_requests_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mama_reset_requests'))
    )
    with op.batch_alter_table('mama_reset_requests', schema=None) as batch_op:
        batch_op.create_index('ix_mama_reset_requests_tenant_status', ['tenant_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_mama_reset_requests_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mama_reset_requests_user_id'), ['user_id'], unique=False)


def downgrade():
    op.drop_table('mama_reset_requests')
    with op.batch_alter_table('mama_devices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_mama_devices_status_token_hash'), type_='unique')
        batch_op.drop_column('status_token_expires_at')
        batch_op.drop_column('status_token_hash')
    with op.batch_alter_table('mama_permission_sets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('menus_json', sa.Text(), nullable=False, server_default="[]"))
    bind = op.get_bind()
    menus: dict[int, list[str]] = {}
    for set_id, menu_id in bind.execute(sa.select(GRANTS.c.permission_set_id, GRANTS.c.menu_id)):
        menus.setdefault(set_id, []).append(menu_id)
    for set_id, menu_ids in menus.items():
        bind.execute(SETS.update().where(SETS.c.id == set_id).values(menus_json=json.dumps(sorted(menu_ids))))
    with op.batch_alter_table('mama_permission_sets', schema=None) as batch_op:
        batch_op.alter_column('menus_json', server_default=None)
    op.drop_table('mama_permission_grants')
