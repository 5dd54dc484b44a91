"""A session (and a pending login) keeps which credential of the stronger factor its login passed (a passkey's
id), so removing that passkey ends exactly the sessions opened with it

Sessions opened before this revision have no credential id: removing any passkey of the user ends their
passkey sessions (one cannot tell which key opened them).

Revision ID: 0036_session_stronger_credential
Revises: 0034_session_previous_login
"""
import sqlalchemy as sa
from alembic import op

revision = "0036_session_stronger_credential"
down_revision = "0034_session_previous_login"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("user_sessions", "pending_logins"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("stronger_credential_id", sa.Integer(), nullable=True))


def downgrade():
    for table in ("user_sessions", "pending_logins"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("stronger_credential_id")
