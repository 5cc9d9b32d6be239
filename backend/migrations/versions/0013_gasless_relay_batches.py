"""gasless relay batches: one signature for up to 100 images, every relayer transaction recorded before it is sent

Revision ID: 0013_gasless
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = '0013_gasless'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'relay_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner', sa.String(length=42), nullable=False),
        sa.Column('image_ids', sa.JSON(), nullable=False),
        sa.Column('salt', sa.String(length=66), nullable=False),
        sa.Column('signature', sa.String(length=132), nullable=False),
        sa.Column('nonce', sa.String(length=78), nullable=False),
        sa.Column('deadline', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('commit_tx_hash', sa.String(length=66), nullable=True),
        sa.Column('commit_tx', sa.Text(), nullable=True),
        sa.Column('commit_time', sa.BigInteger(), nullable=True),
        sa.Column('reveal_tx_hash', sa.String(length=66), nullable=True),
        sa.Column('reveal_tx', sa.Text(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('owner', 'nonce'),
    )
    with op.batch_alter_table('relay_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relay_batches_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_relay_batches_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('relay_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relay_batches_status'))
        batch_op.drop_index(batch_op.f('ix_relay_batches_owner'))
    op.drop_table('relay_batches')
