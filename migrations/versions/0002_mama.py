"""MAMA product tables

Revision ID: 0002_mama
Revises: 0001_core
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0002_mama"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
