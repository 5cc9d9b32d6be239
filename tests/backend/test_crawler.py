"""The crawler against a real multi-host website on loopback addresses: what it fetches and what
it refuses, the hits it finds with their evidence, and its politeness as the servers logged it."""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
import sys
import threading
from itertools import count
from urllib.parse import urlsplit

import pytest
from PIL import Image, ImageOps
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from backend.crawler.models import CrawlImage, CrawlPrint, CrawlUrl, Hit, OwnDomain
from backend.matching import fingerprint
from backend.models import ChainEvent, Registration
from tests.backend.crawl_site import Response, Site
from tests.images import encode, picture

OWNER = "0x" + "11" * 20
_blocks = count(1)

connections: list[tuple] = []


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect":
        connections.append(args[1])


sys.addaudithook(_audit)  # every connection this process opens, whoever opens it


@functools.cache
def photo(seed: int) -> Image.Image:
    return picture(seed, (640, 480))


def original(seed: int) -> bytes:
    return encode(photo(seed), "JPEG")


def add_registration(services, seed: int, owner: str = OWNER) -> str:
    """What the indexer writes for a final `Registered` event (file in our IPFS store)."""
    data = original(seed)
    reg_id = "0x" + hashlib.sha256(data).hexdigest()
    phash = fingerprint(data).phash64
    block = next(_blocks)
    block_hash = "0x" + os.urandom(32).hex()
    with services.db.session() as db:
        db.add(ChainEvent(name="Registered", registration_id=reg_id, args={"phash": str(phash)},
                          block_number=block, block_hash=block_hash, tx_hash=block_hash, log_index=0))
        db.merge(Registration(id=reg_id, owner=owner, phash=f"{phash:016x}", cid=services.store.add(data),
                              registered_at=block, tx_hash=block_hash, block_number=block))
    return reg_id


def html(body: str) -> Response:
    return Response(f"<!doctype html><html><head><title>t</title></head><body>{body}</body></html>".encode(),
                    headers={"Content-Type": "text/html; charset=utf-8"})


def image(data: bytes, content_type: str = "application/octet-stream") -> Response:
    # A wrong content type on purpose: images are recognised by their bytes.
    return Response(data, headers={"Content-Type": content_type})


def calendar(handler) -> Response:
    year, month = (int(x) for x in handler.path.split("/")[2:4])
    nxt = (year + (month == 12), month % 12 + 1)
    return html(f'<a href="/calendar/{nxt[0]}/{nxt[1]:02d}">next month</a>')


CRAWL_SETTINGS = {
    "crawler_allow_networks": "127.0.0.0/8",
    "crawler_delay": 0.2,
    "crawler_screenshots": "off",
    "crawler_max_urls_per_shape": 3,
    "crawler_max_image_bytes": 2 * 1024 * 1024,
    "crawler_retries": 2,
    "crawler_contact_url": "https://copytrack.test/crawler",
    "crawler_idle_wait": 0.1,
}


@pytest.fixture
def site():
    site = Site()
    yield site
    site.stop()


def build_site(site: Site, busy_state: dict) -> None:
    greyed = encode(ImageOps.grayscale(photo(2)), "JPEG")
    resized = encode(photo(1).resize((320, 240)), "PNG")
    cropped = encode(photo(3).crop((60, 40, 600, 440)), "JPEG")
    recompressed = encode(photo(4), "JPEG", quality=40)
    unrelated = encode(picture(99, (640, 480)), "JPEG")
    tiny = encode(photo(1).resize((16, 16)), "PNG")
    huge = b"\xff\xd8\xff\xe0" + b"\0" * (50 * 1024 * 1024)

    def busy(handler) -> Response:
        busy_state["calls"] += 1
        if busy_state["calls"] == 1:
            return Response(b"slow down", 429, {"Retry-After": "1"})
        return html(f'<img src="{site.url("busy.test", "/copy.jpg")}">')

    sitemap_pages = gzip.compress(
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{site.url("a.test", "/only-in-sitemap")}'
        "</loc></url></urlset>".encode())
    site.host("a.test", "127.0.0.2", {
        "/robots.txt": Response(
            f"User-agent: *\nDisallow: /private/\nSitemap: {site.url('a.test', '/sitemap.xml')}\n".encode()),
        "/sitemap.xml": Response(
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>'
            f'{site.url("a.test", "/sitemap-pages.xml.gz")}</loc></sitemap></sitemapindex>'.encode()),
        "/sitemap-pages.xml.gz": Response(sitemap_pages),
        "/": html(
            '<a href="/gallery">gallery</a> <a href="/private/secret">secret</a> <a href="/calendar/2026/01">cal</a>'
            '<a href="/broken">broken</a> <a href="/loop1">loop</a> <a href="/gallery#top">again</a>'
            f'<a href="{site.url("b.test")}">b</a> <a href="{site.url("slow.test")}">slow</a>'
            f'<a href="{site.url("busy.test")}">busy</a> <a href="{site.url("intranet.test")}">intranet</a>'
            f'<a href="{site.url("metadata.test", "/latest/meta-data/")}">metadata</a>'),
        "/gallery": html(
            '<img src="/img/resized" alt="a">'
            '<img srcset="/img/unrelated 200w, /img/greyed 800w" src="/img/tiny">'
            '<noscript><img src="/img/unrelated2"></noscript>'
            '<div style="background-image: url(\'/img/bg\')">x</div>'
            '<a href="/files/huge.jpg">download</a>'
            f'<img src="{site.url("intranet.test", "/internal.jpg")}">'),
        "/only-in-sitemap": html(
            '<meta property="og:image" content="/img/recompressed">'
            '<picture><source srcset="/img/cropped 1x"><img src="/img/tiny"></picture>'),
        "/broken": html('<div><p><span><img data-src="/img/resized-lazy"</span></td></table>'),
        "/private/secret": html('<img src="/img/secret">'),
        "/img/resized": image(resized, "text/plain"),
        "/img/resized-lazy": image(resized),
        "/img/greyed": image(greyed),
        "/img/unrelated": image(unrelated, "image/jpeg"),
        "/img/unrelated2": image(encode(picture(98, (640, 480)), "JPEG")),
        "/img/bg": image(encode(picture(97, (640, 480)), "PNG")),
        "/img/tiny": image(tiny),
        "/img/recompressed": image(recompressed),
        "/img/cropped": image(cropped),
        "/img/secret": image(original(1)),
        "/files/huge.jpg": Response(huge, headers={"Content-Type": "image/jpeg"}, chunks=50),
        "/loop1": Response(status=302, headers={"Location": "/loop2"}),
        "/loop2": Response(status=302, headers={"Location": "/loop1"}),
        "/calendar/2026/01": calendar,
        **{f"/calendar/{y}/{m:02d}": calendar for y in range(2026, 2030) for m in range(1, 13)},
    })
    site.host("b.test", "127.0.0.3", {
        "/": html('<img data-srcset="/small.jpg 1x, /big.jpg 2x"> <a href="/page?sid=123">p</a> '
                  '<a href="/page?sid=456">p</a> <a href="/page">p</a>'),
        "/page": html("<p>nothing here</p>"),
        "/big.jpg": image(greyed),
        "/small.jpg": image(tiny),
    })
    site.host("slow.test", "127.0.0.4", {
        "/": Response(html('<a href="/next">next</a>').body, delay=0.5, headers={"Content-Type": "text/html"}),
        "/next": Response(html('<img src="/copy.png">').body, delay=0.5, headers={"Content-Type": "text/html"}),
        "/copy.png": image(resized),
    })
    site.host("busy.test", "127.0.0.5", {"/": busy, "/copy.jpg": image(recompressed)})
    site.host("intranet.test", "10.0.0.1", {})
    site.host("metadata.test", "169.254.169.254", {})
    site.start()


@pytest.mark.parametrize("settings", [CRAWL_SETTINGS], indirect=True)
def test_crawl__finds_edited_copies_politely_and_refuses_what_it_must(app, services, site):
    regs = {seed: add_registration(services, seed) for seed in (1, 2, 3, 4)}
    busy = {"calls": 0}
    build_site(site, busy)
    crawler = services.crawler("test-worker", resolver=site.resolver)
    crawler.seed([site.url("a.test")])
    connections.clear()
    crawler.run(threading.Event(), threads=3, until_done=True, idle_wait=0.1)

    a = site.fetched("a.test")
    assert "/robots.txt" in a and "/sitemap.xml" in a and "/sitemap-pages.xml.gz" in a
    assert "/only-in-sitemap" in a  # reached through the sitemap index only
    assert "/private/secret" not in a and "/img/secret" not in a  # robots.txt
    assert a.count("/gallery") == 1  # the #top link is the same page
    assert len([p for p in a if p.startswith("/calendar/")]) == 3  # the trap is cut off
    assert a.count("/loop1") == 1 and a.count("/loop2") == 1  # loop detected, not followed again
    assert "/img/unrelated" not in a  # the smaller srcset candidate is not fetched
    assert site.fetched("b.test").count("/page") == 1  # session ids removed: one page
    assert "/small.jpg" not in site.fetched("b.test")  # the largest srcset candidate only
    assert busy["calls"] >= 2  # 429, then retried after Retry-After

    # No connection ever went to the private addresses the test resolver gave out.
    assert not [c for c in connections if c[0] in ("10.0.0.1", "169.254.169.254")]
    with services.db.session() as db:
        refused = {u.url: u.error for u in db.scalars(select(CrawlUrl).where(CrawlUrl.status == "skipped"))}
        hits = db.scalars(select(Hit)).all()
        found = {(h.page_url.replace(f":{site.port}", ""), urlsplit(h.image_url).path, h.registration_id, h.kind)
                 for h in hits}
        huge = db.scalar(select(CrawlImage).where(CrawlImage.url.like("%huge.jpg")))
        tiny = db.scalar(select(CrawlImage).where(CrawlImage.url.like("%/img/tiny")))
        prints = db.scalar(select(CrawlPrint).where(CrawlPrint.sha256 == huge.sha256)) if huge.sha256 else None
    assert any("10.0.0.1" in e and "private" in e for e in refused.values())
    assert any("169.254.169.254" in e and "link-local" in e for e in refused.values())
    assert any("redirect loop" in e for e in refused.values())
    assert huge.sha256 is None and "larger than" in huge.note and prints is None
    assert tiny.sha256 is None and tiny.note.startswith("tiny")
    assert found == {
        ("http://a.test/gallery", "/img/resized", regs[1], "whole"),
        ("http://a.test/gallery", "/img/greyed", regs[2], "whole"),
        ("http://a.test/only-in-sitemap", "/img/cropped", regs[3], "region"),
        ("http://a.test/only-in-sitemap", "/img/recompressed", regs[4], "whole"),
        ("http://a.test/broken", "/img/resized-lazy", regs[1], "whole"),
        ("http://b.test/", "/big.jpg", regs[2], "whole"),
        ("http://slow.test/next", "/copy.png", regs[1], "whole"),
        ("http://busy.test/", "/copy.jpg", regs[4], "whole"),
    }

    # Politeness from the servers' own log: one request at a time per host, the delay kept.
    for host in site.addresses:
        requests = sorted((r for r in site.log if r.host == host), key=lambda r: r.started)
        for before, after in zip(requests, requests[1:]):
            assert after.started >= before.ended + 0.19, (host, before.path, after.path)
    assert all("CopytrackBot/" in r.user_agent and "+https://copytrack.test/crawler" in r.user_agent
               for r in site.log)

    # Evidence: a WARC in the IPFS store holding the page and the image as they were served.
    hit = next(h for h in hits if h.image_url.endswith("/img/greyed"))
    data = services.store.cat(hit.evidence_cid)
    assert hashlib.sha256(data).hexdigest() == hit.evidence_sha256
    records = [(r.rec_headers.get_header("WARC-Target-URI"), r.http_headers.get_statuscode(), r.content_stream().read())
               for r in ArchiveIterator(io.BytesIO(data)) if r.rec_type == "response"]
    assert [(uri, status) for uri, status, _ in records] == [(hit.page_url, "200"), (hit.image_url, "200")]
    assert b"/img/greyed" in records[0][2]
    assert records[1][2] == encode(ImageOps.grayscale(photo(2)), "JPEG")


@pytest.mark.parametrize("settings", [CRAWL_SETTINGS], indirect=True)
def test_recrawl__hit_recorded_once__unchanged_page_not_sent_again__gone_copy_marked(app, services, site):
    reg = add_registration(services, 1)
    copy = encode(photo(1).resize((320, 240)), "PNG")
    page = html('<img src="/copy.png">')
    page.headers["ETag"] = '"v1"'

    def conditional(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return page

    routes = {"/": conditional, "/copy.png": image(copy)}
    site.host("a.test", "127.0.0.2", routes)
    site.start()
    crawler = services.crawler("w", resolver=site.resolver)
    crawler.seed([site.url("a.test")])
    crawler.run(threading.Event(), until_done=True, idle_wait=0.1)
    with services.db.session() as db:
        first = db.scalar(select(Hit))
    assert first.registration_id == reg and first.status == "active"

    crawler.seed([site.url("a.test")])  # due again: answered 304, the hit is seen again
    crawler.run(threading.Event(), until_done=True, idle_wait=0.1)
    with services.db.session() as db:
        hits = db.scalars(select(Hit)).all()
    assert len(hits) == 1 and hits[0].last_seen_at > first.last_seen_at
    assert site.fetched("a.test").count("/copy.png") == 1  # not fetched again: the page was unchanged

    routes["/"] = html("<p>the picture was taken down</p>")
    crawler.seed([site.url("a.test")])
    crawler.run(threading.Event(), until_done=True, idle_wait=0.1)
    with services.db.session() as db:
        hits = db.scalars(select(Hit)).all()
    assert len(hits) == 1 and hits[0].status == "gone" and hits[0].gone_at is not None


@pytest.mark.parametrize("settings", [CRAWL_SETTINGS], indirect=True)
def test_crawl__owner_s_own_domain__is_never_a_hit(app, services, site):
    add_registration(services, 1)
    site.host("a.test", "127.0.0.2", {"/": html('<img src="/mine.jpg">'), "/mine.jpg": image(original(1))})
    site.start()
    with services.db.session() as db:
        db.add(OwnDomain(owner=OWNER, domain="a.test", portfolio_url=site.url("a.test")))
    crawler = services.crawler("w", resolver=site.resolver)
    crawler.seed([site.url("a.test")])
    crawler.run(threading.Event(), until_done=True, idle_wait=0.1)
    assert "/mine.jpg" in site.fetched("a.test")
    with services.db.session() as db:
        assert db.scalars(select(Hit)).all() == []


@pytest.mark.parametrize("settings", [CRAWL_SETTINGS], indirect=True)
def test_fetch__redirect_to_a_private_address__refused_without_connecting(app, services, site):
    from backend.crawler import FetchRefused

    site.host("a.test", "127.0.0.2", {
        "/go": Response(status=302, headers={"Location": "http://intranet.test/admin"}),
    })
    site.host("intranet.test", "10.0.0.1", {})
    site.start()
    fetcher = services.crawler("w", resolver=site.resolver).fetcher
    connections.clear()
    with pytest.raises(FetchRefused) as refused:
        fetcher.fetch(site.url("a.test", "/go"))
    assert refused.value.reason == "address" and "10.0.0.1" in refused.value.message
    assert "/go" in site.fetched("a.test")
    assert [c[0] for c in connections if c[0] != "127.0.0.2"] == []


@pytest.mark.parametrize("settings", [CRAWL_SETTINGS], indirect=True)
def test_new_registration__found_among_crawled_images_at_once__evidence_on_the_next_fetch(app, services, site):
    from backend.crawler.frontier import aware, now
    from backend.jobs import search_crawled_images

    copy = encode(photo(5).resize((320, 240)), "PNG")
    site.host("a.test", "127.0.0.2", {"/": html('<img src="/later.png">'), "/later.png": image(copy)})
    site.start()
    crawler = services.crawler("w", resolver=site.resolver)
    crawler.seed([site.url("a.test")])
    crawler.run(threading.Event(), until_done=True, idle_wait=0.1)
    search_crawled_images(services)
    with services.db.session() as db:
        assert db.scalars(select(Hit)).all() == []

    reg = add_registration(services, 5)  # registered after the page was crawled
    search_crawled_images(services)
    with services.db.session() as db:
        hit = db.scalar(select(Hit))
        page = db.scalar(select(CrawlUrl).where(CrawlUrl.url == site.url("a.test")))
    assert (hit.registration_id, hit.page_url, hit.evidence_cid) == (reg, site.url("a.test"), None)
    assert site.fetched("a.test").count("/") == 1
    assert aware(page.next_crawl_at) <= now()  # due again now, for the evidence

    crawler.run(threading.Event(), until_done=True, idle_wait=0.1)
    with services.db.session() as db:
        hits = db.scalars(select(Hit)).all()
    assert len(hits) == 1 and hits[0].evidence_cid and hits[0].status == "active"
    assert site.fetched("a.test").count("/") == 2

    reopened = type(services.seen_images)(services.settings.data_dir / "crawled-index")
    assert len(reopened.index) == 1  # the snapshot holds the crawled image


@pytest.mark.parametrize("settings", [{**CRAWL_SETTINGS, "crawler_screenshots": "on"}], indirect=True)
def test_hit_evidence__full_page_screenshot_from_the_held_responses_only(app, services, site):
    add_registration(services, 1)
    site.host("a.test", "127.0.0.2", {
        "/": html('<h1>gallery</h1><img src="/copy.png"><img src="/other.png">'),
        "/copy.png": image(encode(photo(1).resize((320, 240)), "PNG"), "image/png"),
        "/other.png": image(encode(picture(60, (640, 480)), "PNG"), "image/png"),
    })
    site.start()
    crawler = services.crawler("w", resolver=site.resolver)
    crawler.seed([site.url("a.test")])
    crawler.run(threading.Event(), until_done=True, idle_wait=0.1)
    with services.db.session() as db:
        hit = db.scalar(select(Hit))
    shot = Image.open(io.BytesIO(services.store.cat(hit.screenshot_cid)))
    assert shot.format == "PNG" and shot.width >= 320 and shot.height >= 240
    # The browser asked the site for nothing: the page and the image came from the crawler's fetches.
    assert sorted(site.fetched("a.test")) == ["/", "/copy.png", "/other.png", "/robots.txt"]


@pytest.mark.parametrize("settings", [CRAWL_SETTINGS], indirect=True)
def test_page_write_meets_a_lock_once__written_again__page_not_fetched_twice(app, services, site):
    """What fetched 4 of 2,020 pages twice in the SQLite benchmark: a page's write that failed on
    the database's lock left the URL due, so the next lease asked the site for it again."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    site.host("a.test", "127.0.0.2", {"/": html('<a href="/b">b</a><img src="/i.png">'), "/b": html("<p>b</p>"),
                                      "/i.png": image(encode(photo(3).resize((320, 240)), "PNG"))})
    site.start()
    failed = []

    def lock_once(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE crawl_urls SET status") and not failed:
            failed.append(statement)
            raise OperationalError(statement, parameters, Exception("database is locked"))

    event.listen(services.db.engine, "before_cursor_execute", lock_once)
    try:
        crawler = services.crawler("w", resolver=site.resolver)
        crawler.seed([site.url("a.test")])
        crawler.run(threading.Event(), until_done=True, idle_wait=0.1)
    finally:
        event.remove(services.db.engine, "before_cursor_execute", lock_once)
    assert failed  # the lock was met
    assert sorted(p for p in site.fetched("a.test") if p != "/robots.txt") == ["/", "/b", "/i.png"]
    with services.db.session() as db:
        assert {u.url: u.status for u in db.scalars(select(CrawlUrl))} == {
            site.url("a.test"): "done", site.url("a.test", "/b"): "done"}


@pytest.mark.parametrize("settings", [{**CRAWL_SETTINGS, "crawler_fingerprint_processes": 1}], indirect=True)
def test_crawl__fingerprints_in_a_process_pool__same_hit_each_print_once(app, services, site):
    reg = add_registration(services, 4)
    copy = encode(ImageOps.grayscale(photo(4)).resize((320, 240)), "PNG")
    site.host("a.test", "127.0.0.2", {
        "/": html('<img src="/copy.png"><img src="/again.png"><img src="/other.jpg">'),
        "/copy.png": image(copy), "/again.png": image(copy), "/other.jpg": image(original(9)),
    })
    site.start()
    crawler = services.crawler("w", resolver=site.resolver)
    crawler.seed([site.url("a.test")])
    crawler.run(threading.Event(), until_done=True, idle_wait=0.1)
    assert services.fingerprint_pool is not None
    with services.db.session() as db:
        hits = sorted(db.execute(select(Hit.registration_id, Hit.image_url)).all())
        prints = db.scalars(select(CrawlPrint.sha256)).all()
    assert hits == [(reg, site.url("a.test", "/again.png")), (reg, site.url("a.test", "/copy.png"))]
    assert len(prints) == 2 and crawler.stats.fingerprinted == 2  # the same bytes under two URLs: once
