"""a licence keeps the block hash its escrow's terms were hashed with, as its purchase event says

Revision ID: 0020_licence_block_hash
Revises: 0019_host_page_count
Create Date: 2026-12-05 17:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0020_licence_block_hash'
down_revision = '0019_host_page_count'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty for licences indexed before: their market's event did not carry it (escrow_terms then
    # reads the purchase block's parentHash, which is the same on Ethereum and OP chains).
    op.add_column('licences', sa.Column('previous_block_hash', sa.String(length=66), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('licences') as batch:
        batch.drop_column('previous_block_hash')
