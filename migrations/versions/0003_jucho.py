"""重調@CITY product tables

Revision ID: 0003_jucho
Revises: 0002_mama
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0003_jucho"
down_revision = "0002_mama"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
