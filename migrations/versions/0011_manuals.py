"""manuals: every published version of each product's 操作マニュアル, the PDF bytes included

Revision ID: 0011_manuals
Revises: 0009_maintenance
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_manuals"
down_revision = "0010_notices"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('manuals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product', sa.String(length=32), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manuals')),
    sa.UniqueConstraint('product', 'version', name='uq_manuals_product_version')
    )
    with op.batch_alter_table('manuals', schema=None) as batch_op:
        batch_op.create_index('ix_manuals_product_published', ['product', 'published_at'], unique=False)


def downgrade():
    with op.batch_alter_table('manuals', schema=None) as batch_op:
        batch_op.drop_index('ix_manuals_product_published')
    op.drop_table('manuals')
