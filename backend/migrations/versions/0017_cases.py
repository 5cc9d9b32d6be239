"""cases opened from hits: the address where the owner hears of their case

Revision ID: 0017_cases
Revises: 0016_triage
Create Date: 2026-12-05 00:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0017_cases'
down_revision = '0016_triage'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enforcement_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_email', sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('enforcement_cases', schema=None) as batch_op:
        batch_op.drop_column('owner_email')
