"""The site reader of case openings: one fetcher for the process, and what a site answered
remembered for a while, so that opening a case right after checking it reads nothing again."""

from __future__ import annotations

import pytest

from backend.crawler import Fetcher, FetchFailed, FetchPolicy, FetchRefused
from backend.enforcement.opening import SiteReader
from tests.enforcement.sites import Site


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reader_for(clock: Clock, remember: float = 600.0, max_bytes: int = 2**20) -> SiteReader:
    fetcher = Fetcher(FetchPolicy(allow_networks=["127.0.0.0/8"], delay=0, retries=0, timeout=2))
    return SiteReader(fetcher, remember=remember, clock=clock, max_bytes=max_bytes)


def test_site_reader__answers_again_from_memory_until_it_is_too_old():
    clock = Clock()
    with Site({"/robots.txt": ("text/plain", ""), "/imprint": ("text/html", "<p>recht@copier.test</p>")}) as site:
        reader = reader_for(clock)
        requests = []
        site.server.RequestHandlerClass.log_request = lambda handler, *args: requests.append(handler.path)
        first = reader.fetch(site.origin + "/imprint")
        missing = reader.fetch(site.origin + "/contact")  # a 404 is an answer: remembered too
        assert (first.status, missing.status) == (200, 404)
        clock.now += 599
        assert reader.fetch(site.origin + "/imprint") is first
        assert reader.fetch(site.origin + "/contact") is missing
        assert requests.count("/imprint") == 1 and requests.count("/contact") == 1
        clock.now += 2  # 601 s after: read again
        assert reader.fetch(site.origin + "/imprint") is not first
        assert requests.count("/imprint") == 2
        reader.close()


def test_site_reader__a_failure_is_not_remembered():
    clock = Clock()
    with Site({"/robots.txt": ("text/plain", "")}) as site:
        origin = site.origin
    reader = reader_for(clock)
    with pytest.raises((FetchFailed, FetchRefused)):
        reader.fetch(origin + "/page")  # the site is down (its robots.txt too: refused, as RFC 9309 says)
    assert reader.answers == {}
    reader.close()


def test_site_reader__keeps_at_most_max_bytes_of_bodies_the_oldest_dropped_first():
    clock = Clock()
    pages = {"/robots.txt": ("text/plain", "")}
    pages.update({f"/{name}": ("image/jpeg", bytes(400)) for name in "abc"})
    with Site(pages) as site:
        reader = reader_for(clock, max_bytes=1000)
        for path in ("/a", "/b", "/c"):
            reader.fetch(site.origin + path)
        assert list(reader.answers) == [site.origin + "/b", site.origin + "/c"] and reader.kept_bytes == 800
        reader.fetch(site.origin + "/b")  # remembered: nothing counted twice
        assert reader.kept_bytes == 800
        reader.close()
