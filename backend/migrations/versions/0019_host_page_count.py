"""each crawled host counts its page URLs, so the per-host budget is one read, not a count

Revision ID: 0019_host_page_count
Revises: 0018_account_emails
Create Date: 2026-12-05 14:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0019_host_page_count'
down_revision = '0018_account_emails'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # `pages_fetched` was never written: the new column takes its place
    with op.batch_alter_table('crawl_hosts') as batch:
        batch.add_column(sa.Column('page_urls', sa.Integer(), nullable=False, server_default='0'))
        batch.drop_column('pages_fetched')
    op.execute("UPDATE crawl_hosts SET page_urls = (SELECT count(*) FROM crawl_urls "
               "WHERE crawl_urls.host_id = crawl_hosts.id AND crawl_urls.kind = 'page')")


def downgrade() -> None:
    with op.batch_alter_table('crawl_hosts') as batch:
        batch.add_column(sa.Column('pages_fetched', sa.Integer(), nullable=False, server_default='0'))
        batch.drop_column('page_urls')
