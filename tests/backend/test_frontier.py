"""The frontier's budgets: a host takes at most `max_urls_per_host` page URLs, counted on its own
row (one read per page, whatever the host's size), and the count survives the migration that
introduced it."""

from __future__ import annotations

from alembic import command
from sqlalchemy import func, select, text

from backend.crawler import frontier
from backend.crawler.frontier import Budget
from backend.crawler.models import CrawlHost, CrawlUrl
from backend.db import Database


def pages_of(db, origin: str) -> tuple[int, int]:
    """(the host row's count, the page URLs actually in the frontier) of `origin`."""
    host = db.execute(select(CrawlHost.id, CrawlHost.page_urls).where(CrawlHost.origin == origin)).one()
    rows = db.scalar(select(func.count()).select_from(CrawlUrl).where(CrawlUrl.host_id == host.id, CrawlUrl.kind == "page"))
    return host.page_urls, rows


def test_host_budget__pages_beyond_it_are_refused__sitemaps_duplicates_and_other_hosts_not_counted(database_url):
    db = Database(database_url)
    db.migrate()
    budget = Budget(max_depth=5, max_urls_per_host=5, max_urls_per_shape=100)
    try:
        with db.session() as session:
            assert frontier.add_urls(session, ["https://a.example/one", "https://a.example/two", "https://a.example/one"],
                                     budget) == [None, None, "duplicate"]
            assert frontier.add_url(session, "https://a.example/sitemap.xml", budget, kind="sitemap") is None
        with db.session() as session:
            answers = frontier.add_urls(session, [f"https://a.example/page-{name}" for name in "abcde"]
                                        + ["https://b.example/", "https://a.example/two"], budget)
        assert answers == [None, None, None, "host-budget", "host-budget", None, "duplicate"]
        with db.session() as session:
            assert pages_of(session, "https://a.example") == (5, 5)
            assert pages_of(session, "https://b.example") == (1, 1)
            assert frontier.add_url(session, "https://a.example/page-f", budget) == "host-budget"
            assert frontier.add_url(session, "https://a.example/sitemap-2.xml", budget, kind="sitemap") is None
    finally:
        db.dispose()


def test_migration__counts_the_page_urls_a_host_already_has(database_url):
    db = Database(database_url)
    config = db.alembic_config()
    command.upgrade(config, "head")  # the migration's way down, then up again with rows to count
    command.downgrade(config, "0018_account_emails")
    try:
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO crawl_hosts (id, origin, next_fetch_at, pages_fetched) "
                              "VALUES (1, 'https://a.example', CURRENT_TIMESTAMP, 0), "
                              "(2, 'https://b.example', CURRENT_TIMESTAMP, 0)"))
            for number, (host, kind) in enumerate([(1, "page"), (1, "page"), (1, "sitemap"), (2, "sitemap")]):
                conn.execute(text(
                    "INSERT INTO crawl_urls (url_hash, url, host_id, kind, depth, shape, status, next_crawl_at, attempts) "
                    "VALUES (:hash, :url, :host, :kind, 0, 's', 'queued', CURRENT_TIMESTAMP, 0)"),
                    {"hash": f"{number:064x}", "url": f"https://x.example/{number}", "host": host, "kind": kind})
        command.upgrade(config, "head")
        with db.session() as session:
            assert dict(session.execute(select(CrawlHost.origin, CrawlHost.page_urls)).all()) == {
                "https://a.example": 2, "https://b.example": 0}
    finally:
        db.dispose()
