"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 03:29:37.152426
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_address'), ['address'], unique=False)

    op.create_table('auth_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_sessions_address'), ['address'], unique=False)

    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=42), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('owner', 'name')
    )
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_categories_owner'), ['owner'], unique=False)

    op.create_table('chain_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('registration_id', sa.String(length=66), nullable=True),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('block_hash', sa.String(length=66), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('block_hash', 'log_index')
    )
    with op.batch_alter_table('chain_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_events_block_number'), ['block_number'], unique=False)
        batch_op.create_index('ix_chain_events_registration', ['registration_id', 'block_number', 'log_index'], unique=False)

    op.create_table('collections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=42), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('owner', 'name')
    )
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collections_owner'), ['owner'], unique=False)

    op.create_table('indexed_blocks',
    sa.Column('number', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=66), nullable=False),
    sa.PrimaryKeyConstraint('number')
    )
    op.create_table('key_values',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('login_nonces',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('nonce')
    )
    op.create_table('registrations',
    sa.Column('id', sa.String(length=66), nullable=False),
    sa.Column('owner', sa.String(length=42), nullable=False),
    sa.Column('parent', sa.String(length=66), nullable=True),
    sa.Column('phash', sa.String(length=16), nullable=False),
    sa.Column('cid', sa.String(length=100), nullable=False),
    sa.Column('registered_at', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registrations_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_parent'), ['parent'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_phash'), ['phash'], unique=False)

    op.create_table('verifications',
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('address')
    )
    op.create_table('images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=42), nullable=False),
    sa.Column('sha256', sa.String(length=66), nullable=False),
    sa.Column('phash', sa.String(length=16), nullable=False),
    sa.Column('cid', sa.String(length=100), nullable=False),
    sa.Column('fingerprint', sa.LargeBinary(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('filename', sa.String(length=300), nullable=True),
    sa.Column('mime', sa.String(length=50), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('collection_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], ),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('owner', 'sha256')
    )
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_images_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_collection_id'), ['collection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_images_status'))
        batch_op.drop_index(batch_op.f('ix_images_sha256'))
        batch_op.drop_index(batch_op.f('ix_images_owner'))
        batch_op.drop_index(batch_op.f('ix_images_collection_id'))
        batch_op.drop_index(batch_op.f('ix_images_category_id'))

    op.drop_table('images')
    op.drop_table('verifications')
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registrations_phash'))
        batch_op.drop_index(batch_op.f('ix_registrations_parent'))
        batch_op.drop_index(batch_op.f('ix_registrations_owner'))

    op.drop_table('registrations')
    op.drop_table('login_nonces')
    op.drop_table('key_values')
    op.drop_table('indexed_blocks')
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collections_owner'))

    op.drop_table('collections')
    with op.batch_alter_table('chain_events', schema=None) as batch_op:
        batch_op.drop_index('ix_chain_events_registration')
        batch_op.drop_index(batch_op.f('ix_chain_events_block_number'))

    op.drop_table('chain_events')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_categories_owner'))

    op.drop_table('categories')
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_sessions_address'))

    op.drop_table('auth_sessions')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_address'))

    op.drop_table('api_keys')
