"""triage of hits: the owner's verdict, the copy's bytes, negative pairs, whitelisted domains

Revision ID: 0016_triage
Revises: 0015_enforcement
Create Date: 2026-12-04 23:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0016_triage'
down_revision = '0015_enforcement'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('hits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('copy_cid', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('verdict', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('verdict_by', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('verdict_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_hits_verdict'), ['verdict'], unique=False)

    op.create_table('negative_pairs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.String(length=66), nullable=False),
    sa.Column('image_sha256', sa.String(length=66), nullable=False),
    sa.Column('owner', sa.String(length=42), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('registration_id', 'image_sha256')
    )
    with op.batch_alter_table('negative_pairs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_negative_pairs_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_negative_pairs_registration_id'), ['registration_id'], unique=False)

    op.create_table('whitelisted_domains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=42), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('owner', 'domain')
    )
    with op.batch_alter_table('whitelisted_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whitelisted_domains_domain'), ['domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_whitelisted_domains_owner'), ['owner'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('whitelisted_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whitelisted_domains_owner'))
        batch_op.drop_index(batch_op.f('ix_whitelisted_domains_domain'))
    op.drop_table('whitelisted_domains')
    with op.batch_alter_table('negative_pairs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_negative_pairs_registration_id'))
        batch_op.drop_index(batch_op.f('ix_negative_pairs_owner'))
    op.drop_table('negative_pairs')
    with op.batch_alter_table('hits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hits_verdict'))
        batch_op.drop_column('verdict_at')
        batch_op.drop_column('verdict_by')
        batch_op.drop_column('verdict')
        batch_op.drop_column('copy_cid')
