"""IPアドレス制限: the tenant's scope, its allowed networks, the 15-minute undo records and tenants.ip_rules_version

Revision ID: 0031_ip_restriction
Revises: 0030_security_policies
"""
import sqlalchemy as sa
from alembic import op

revision = "0031_ip_restriction"
down_revision = "0030_security_policies"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ip_rules_version", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "ip_restrictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_ip_restrictions_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ip_restrictions")),
        sa.UniqueConstraint("tenant_id", name="uq_ip_restrictions_tenant_id"),
    )
    with op.batch_alter_table("ip_restrictions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ip_restrictions_tenant_id"), ["tenant_id"], unique=False)
    op.create_table(
        "ip_allow_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_ip_allow_entries_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ip_allow_entries")),
    )
    with op.batch_alter_table("ip_allow_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ip_allow_entries_tenant_id"), ["tenant_id"], unique=False)
    op.create_table(
        "ip_restriction_undos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("previous_scope", sa.String(length=16), nullable=False),
        sa.Column("previous_entries", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_reason", sa.String(length=16), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_ip_restriction_undos_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_ip_restriction_undos_user_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ip_restriction_undos")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_ip_restriction_undos_token_hash")),
    )
    with op.batch_alter_table("ip_restriction_undos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ip_restriction_undos_tenant_id"), ["tenant_id"], unique=False)


def downgrade():
    op.drop_table("ip_restriction_undos")
    op.drop_table("ip_allow_entries")
    op.drop_table("ip_restrictions")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("ip_rules_version")
