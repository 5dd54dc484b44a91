"""A session keeps the user's previous login (time, IP, browser), read once when it opens, so ホーム's
「前回ログイン」 needs no query of the audit log on every visit

Sessions opened before this revision have previous_login_read false; ホーム reads the audit log for them.

Revision ID: 0034_session_previous_login
Revises: 0033_sort_indexes_with_id
"""
import sqlalchemy as sa
from alembic import op

revision = "0034_session_previous_login"
down_revision = "0033_sort_indexes_with_id"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_login_read", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column("previous_login_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("previous_login_ip", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("previous_login_agent", sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_column("previous_login_agent")
        batch_op.drop_column("previous_login_ip")
        batch_op.drop_column("previous_login_at")
        batch_op.drop_column("previous_login_read")
