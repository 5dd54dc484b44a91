"""notices and incidents: お知らせ (platform-wide) with per-tenant targets/delivery and per-user read marks;
security incidents with their per-admin recipients and outbox mail ids

Revision ID: 0010_notices
Revises: 0009_maintenance
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_notices"
down_revision = "0009_maintenance"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('product', sa.String(length=32), nullable=True),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('publish_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_publish_at', ['publish_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_source'), ['source'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_incidents_notice_id_notices'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    op.create_table('notice_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mails_queued', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_targets_notice_id_notices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notice_targets_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_targets')),
    sa.UniqueConstraint('notice_id', 'tenant_id', name=op.f('uq_notice_targets_notice_id_tenant_id'))
    )
    with op.batch_alter_table('notice_targets', schema=None) as batch_op:
        batch_op.create_index('ix_notice_targets_pending', ['delivered_at', 'notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_targets_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('incident_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('login_id', sa.String(length=64), nullable=False),
    sa.Column('mail_id', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_recipients_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mail_id'], ['mail_outbox.id'], name=op.f('fk_incident_recipients_mail_id_mail_outbox'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_incident_recipients_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_incident_recipients_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_recipients'))
    )
    with op.batch_alter_table('incident_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_recipients_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_recipients_mail_id'), ['mail_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_recipients_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('notice_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_reads_notice_id_notices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notice_reads_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notice_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_reads')),
    sa.UniqueConstraint('user_id', 'notice_id', name=op.f('uq_notice_reads_user_id_notice_id'))
    )
    with op.batch_alter_table('notice_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_reads_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_reads_tenant_id'), ['tenant_id'], unique=False)



def downgrade():
    with op.batch_alter_table('notice_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_reads_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_notice_reads_notice_id'))

    op.drop_table('notice_reads')
    with op.batch_alter_table('incident_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_recipients_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_incident_recipients_mail_id'))
        batch_op.drop_index(batch_op.f('ix_incident_recipients_incident_id'))

    op.drop_table('incident_recipients')
    with op.batch_alter_table('notice_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_targets_tenant_id'))
        batch_op.drop_index('ix_notice_targets_pending')

    op.drop_table('notice_targets')
    op.drop_table('incidents')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_source'))
        batch_op.drop_index('ix_notices_publish_at')

    op.drop_table('notices')
