"""The crawler: finds registered images on other websites, politely, and keeps evidence.

    fetcher = Fetcher(FetchPolicy(...))                   # polite, SSRF-safe fetching (reused by enforcement)
    crawler = Crawler(db, store, matcher, fetcher, CrawlConfig(...), worker="host-1")
    crawler.seed(["https://example.org/"]); crawler.run(stop)

Knows nothing of Flask; `backend.services.Services.crawler()` builds one from the settings.
See docs/crawler.md for the design.
"""

from .crawler import CrawlConfig, Crawler
from .fetch import Fetcher, FetchFailed, FetchPolicy, FetchRefused, FetchResult, system_resolver
from .frontier import Budget

__all__ = ["Budget", "CrawlConfig", "Crawler", "FetchFailed", "FetchPolicy", "FetchRefused", "FetchResult",
           "Fetcher", "system_resolver"]
