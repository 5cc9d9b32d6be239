"""enforcement cases, documents, takedowns and mail outbox

Revision ID: 0015_enforcement
Revises: 0014_crawler
Create Date: 2026-12-04 21:20:02.316309
"""

from alembic import op
import sqlalchemy as sa


revision = '0015_enforcement'
down_revision = '0014_crawler'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('enforcement_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=66), nullable=False),
    sa.Column('public_code', sa.String(length=20), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('registration_id', sa.String(length=66), nullable=False),
    sa.Column('rights_holder', sa.String(length=42), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('hit_ids', sa.JSON(), nullable=False),
    sa.Column('page_url', sa.Text(), nullable=False),
    sa.Column('image_url', sa.Text(), nullable=False),
    sa.Column('warc_cid', sa.String(length=100), nullable=True),
    sa.Column('copy_cid', sa.String(length=100), nullable=True),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recipient_name', sa.String(length=300), nullable=False),
    sa.Column('recipient_email', sa.String(length=320), nullable=False),
    sa.Column('recipient_address', sa.Text(), nullable=False),
    sa.Column('claim', sa.JSON(), nullable=False),
    sa.Column('mandate', sa.JSON(), nullable=False),
    sa.Column('stage', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('pending_step', sa.String(length=30), nullable=True),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('commission_bps', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('public_code'),
    sa.UniqueConstraint('reference'),
    sa.UniqueConstraint('registration_id', 'domain')
    )
    with op.batch_alter_table('enforcement_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enforcement_cases_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_cases_domain'), ['domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_cases_registration_id'), ['registration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_cases_rights_holder'), ['rights_holder'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_cases_stage'), ['stage'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_cases_status'), ['status'], unique=False)

    op.create_table('enforcement_takedowns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.String(length=66), nullable=False),
    sa.Column('rights_holder', sa.String(length=42), nullable=False),
    sa.Column('law', sa.String(length=10), nullable=False),
    sa.Column('page_url', sa.Text(), nullable=False),
    sa.Column('image_url', sa.Text(), nullable=False),
    sa.Column('provider', sa.String(length=253), nullable=False),
    sa.Column('sent_to', sa.String(length=320), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sends', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enforcement_takedowns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enforcement_takedowns_registration_id'), ['registration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_takedowns_rights_holder'), ['rights_holder'], unique=False)

    op.create_table('enforcement_collection_prices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collection_id', sa.Integer(), nullable=False),
    sa.Column('licence_type', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.String(length=80), nullable=False),
    sa.Column('asset', sa.String(length=42), nullable=False),
    sa.Column('minimum', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('collection_id', 'licence_type')
    )
    with op.batch_alter_table('enforcement_collection_prices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enforcement_collection_prices_collection_id'), ['collection_id'], unique=False)

    op.create_table('enforcement_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['enforcement_cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'kind')
    )
    with op.batch_alter_table('enforcement_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enforcement_documents_case_id'), ['case_id'], unique=False)

    op.create_table('enforcement_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author_role', sa.String(length=20), nullable=False),
    sa.Column('author', sa.String(length=320), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['enforcement_cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enforcement_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enforcement_messages_case_id'), ['case_id'], unique=False)

    op.create_table('enforcement_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('message_id', sa.String(length=250), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('leased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['enforcement_cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('enforcement_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enforcement_outbox_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_outbox_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_outbox_status'), ['status'], unique=False)

    op.create_table('enforcement_timeline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('event', sa.String(length=50), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['enforcement_cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enforcement_timeline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enforcement_timeline_case_id'), ['case_id'], unique=False)

    op.create_table('enforcement_outbox_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['enforcement_outbox.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enforcement_outbox_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enforcement_outbox_attachments_message_id'), ['message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('enforcement_outbox_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enforcement_outbox_attachments_message_id'))

    op.drop_table('enforcement_outbox_attachments')
    with op.batch_alter_table('enforcement_timeline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enforcement_timeline_case_id'))

    op.drop_table('enforcement_timeline')
    with op.batch_alter_table('enforcement_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enforcement_outbox_status'))
        batch_op.drop_index(batch_op.f('ix_enforcement_outbox_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_enforcement_outbox_case_id'))

    op.drop_table('enforcement_outbox')
    with op.batch_alter_table('enforcement_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enforcement_messages_case_id'))

    op.drop_table('enforcement_messages')
    with op.batch_alter_table('enforcement_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enforcement_documents_case_id'))

    op.drop_table('enforcement_documents')
    with op.batch_alter_table('enforcement_collection_prices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enforcement_collection_prices_collection_id'))

    op.drop_table('enforcement_collection_prices')
    with op.batch_alter_table('enforcement_takedowns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enforcement_takedowns_rights_holder'))
        batch_op.drop_index(batch_op.f('ix_enforcement_takedowns_registration_id'))

    op.drop_table('enforcement_takedowns')
    with op.batch_alter_table('enforcement_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enforcement_cases_status'))
        batch_op.drop_index(batch_op.f('ix_enforcement_cases_stage'))
        batch_op.drop_index(batch_op.f('ix_enforcement_cases_rights_holder'))
        batch_op.drop_index(batch_op.f('ix_enforcement_cases_registration_id'))
        batch_op.drop_index(batch_op.f('ix_enforcement_cases_domain'))
        batch_op.drop_index(batch_op.f('ix_enforcement_cases_deadline'))

    op.drop_table('enforcement_cases')
