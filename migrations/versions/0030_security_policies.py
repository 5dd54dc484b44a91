"""セキュリティ設定: a tenant's own password and session policy (tenant_security_policies) and each user's
password history (bcrypt hashes of the last N passwords)

Revision ID: 0030_security_policies
Revises: 0027_audit_target_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0030_security_policies"
down_revision = "0027_audit_target_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tenant_security_policies",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("password_min_length", sa.Integer(), nullable=False),
        sa.Column("password_history", sa.Integer(), nullable=False),
        sa.Column("idle_timeout_minutes", sa.Integer(), nullable=False),
        sa.Column("absolute_timeout_hours", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_tenant_security_policies_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_security_policies")),
    )
    op.create_table(
        "password_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_password_history_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_password_history_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_history")),
    )
    with op.batch_alter_table("password_history", schema=None) as batch_op:
        batch_op.create_index("ix_password_history_user_id", ["user_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_password_history_tenant_id"), ["tenant_id"], unique=False)


def downgrade():
    with op.batch_alter_table("password_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_history_tenant_id"))
        batch_op.drop_index("ix_password_history_user_id")
    op.drop_table("password_history")
    op.drop_table("tenant_security_policies")
