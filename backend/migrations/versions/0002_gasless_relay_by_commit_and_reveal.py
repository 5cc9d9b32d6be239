"""gasless relay by commit and reveal; derivative works name their parent

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 03:38:36.720868
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent', sa.String(length=66), nullable=True))
        batch_op.add_column(sa.Column('relay_salt', sa.String(length=66), nullable=True))
        batch_op.add_column(sa.Column('relay_signature', sa.String(length=132), nullable=True))
        batch_op.add_column(sa.Column('relay_deadline', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('relay_nonce', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('relay_commit_block', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_column('relay_commit_block')
        batch_op.drop_column('relay_nonce')
        batch_op.drop_column('relay_deadline')
        batch_op.drop_column('relay_signature')
        batch_op.drop_column('relay_salt')
        batch_op.drop_column('parent')

