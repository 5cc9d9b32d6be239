"""an account's confirmed e-mail address and its digest of new hits

Revision ID: 0018_account_emails
Revises: 0017_cases
Create Date: 2026-12-05 04:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0018_account_emails'
down_revision = '0017_cases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'account_emails',
        sa.Column('address', sa.String(length=42), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('token_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('hits_digest', sa.Boolean(), nullable=False),
        sa.Column('digest_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('address'),
        sa.UniqueConstraint('token_hash'),
    )


def downgrade() -> None:
    op.drop_table('account_emails')
