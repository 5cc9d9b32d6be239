"""The crawl loop: lease a host, fetch its due URLs politely, find registered images, record hits.

Every outcome of a URL is written in the same transaction as the URLs it discovered, so a worker
killed at any moment loses nothing: the URL it was fetching is still due (its host's lease
expires and a worker takes it up again), and a hit is unique per (registration, page, image).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import zlib
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from backend.crawler import frontier
from backend.crawler.evidence import read_response, store_evidence, warc
from backend.crawler.fetch import FetchFailed, Fetcher, FetchRefused, FetchResult
from backend.crawler.frontier import Budget, Lease, aware, insert_ignore, insert_into, now, update_rows
from backend.crawler.html import extract, sitemap_urls
from backend.crawler.images import dimensions, image_format, too_small
from backend.crawler.models import (
    CrawlEmbed, CrawlHost, CrawlImage, CrawlPrint, CrawlUrl, Hit, NegativePair, OwnDomain, WhitelistedDomain,
)
from backend.crawler.urls import domain, normalise, on_domain, url_hash
from backend.errors import InvalidInput, Unprocessable
from backend.matching import Fingerprint, fingerprint_bytes
from backend.registry.lookup import find_registrations, find_registrations_of_many

log = logging.getLogger(__name__)

SITEMAP_MAX_BYTES = 50 * 1024 * 1024  # the sitemaps protocol's own limit (uncompressed)
WRITE_ATTEMPTS = 5  # a write that meets a lock (SQLite) or a deadlock (PostgreSQL) is run again


@dataclass(frozen=True)
class CrawlConfig:
    budget: Budget = field(default_factory=Budget)
    recrawl_interval: float = 24 * 3600
    lease_seconds: float = 120.0
    page_max_bytes: int = 5 * 1024 * 1024
    image_max_bytes: int = 25 * 1024 * 1024
    min_image_side: int = 100
    max_images_per_page: int = 200
    urls_per_lease: int = 50
    max_attempts: int = 3
    screenshots: bool = False
    software: str = "Copytrack"


@dataclass(frozen=True)
class SeenImage:
    id: int
    url: str
    sha256: str
    print_: Fingerprint
    response: FetchResult | None  # None: known from an earlier fetch in this recrawl interval


@dataclass
class Stats:
    pages: int = 0
    images: int = 0
    fingerprinted: int = 0
    hits: int = 0
    skipped: int = 0
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


class Crawler:
    def __init__(self, db, store, matcher, fetcher: Fetcher, config: CrawlConfig, worker: str, on_hit=None,
                 fingerprints: Executor | None = None, is_licensed=None):
        self.db = db
        self.fingerprints = fingerprints  # a process pool, or None: fingerprinted in the crawling thread
        self.store = store
        self.matcher = matcher
        self.fetcher = fetcher
        self.config = config
        self.worker = worker
        self.on_hit = on_hit  # called with each new Hit (the CLI prints them)
        # (registration id, domain) -> a licence on the marketplace covers it now: such a new hit
        # is legal at once (`verdict_by: licence`); triage asks again before an `illegal` verdict
        self.is_licensed = is_licensed
        self.stats = Stats()

    # -- seeds ----------------------------------------------------------------------------
    def seed(self, urls, *, owner: str | None = None, depth: int = 0, again: bool = True) -> list[str]:
        """Queue `urls` (with `again`, due now even if crawled before); returns the normalised URLs."""
        added = [normalise(url) for url in urls]
        with self.db.session() as db:  # one INSERT: its rows and host counts in one order, no deadlock
            reasons = frontier.add_urls(db, added, self.config.budget, depth=depth, owner=owner)
            known = [url_hash(url) for url, reason in zip(added, reasons) if reason == "duplicate"]
            if known and again:
                db.execute(update_rows(CrawlUrl).where(CrawlUrl.url_hash.in_(known)).values(next_crawl_at=now()))
        return added

    # -- the loop -------------------------------------------------------------------------
    def step(self) -> bool:
        """Crawl one leased host's due URLs (up to `urls_per_lease`); False if no host was due."""
        with self.db.session() as db:
            lease = frontier.take_host(db, self.worker, self.config.lease_seconds)
        if lease is None:
            return False
        try:
            self._crawl_host(lease)
        finally:
            with self.db.session() as db:
                frontier.release(db, lease, now() + timedelta(seconds=self.fetcher.delay_for(lease.origin + "/")))
        return True

    def run(self, stop: threading.Event, *, threads: int = 1, idle_wait: float = 5.0,
            until_done: bool = False) -> None:
        """Crawl with `threads` threads until `stop` is set (or, `until_done`, the frontier has
        nothing due)."""
        # Follow every registration before the first page: a lookup made while another thread is
        # still reading them would find nothing, and the page would be done without its hits.
        with self.db.session() as db:
            self.matcher.sync(db)

        def loop() -> None:
            while not stop.is_set():
                try:
                    worked = self.step()
                except Exception:  # one bad host must not end the worker; the lease expires
                    log.exception("crawler: a host failed")
                    worked = True
                if not worked:
                    if until_done:
                        with self.db.session() as db:
                            if frontier.pending(db) == 0 and not self._leased(db):
                                return
                    stop.wait(idle_wait)

        workers = [threading.Thread(target=loop, name=f"crawler-{i}", daemon=True) for i in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()

    @staticmethod
    def _leased(db: Session) -> bool:
        return db.scalar(select(CrawlHost.id).where(CrawlHost.lease_expires_at >= now()).limit(1)) is not None

    def _crawl_host(self, lease: Lease) -> None:
        self._queue_sitemaps(lease)
        with self.db.session() as db:
            urls = [(u.id, u.url, u.kind, u.depth, u.etag, u.last_modified, u.content_sha256, u.attempts,
                     u.fetched_at is not None)
                    for u in frontier.due_urls(db, lease, self.config.urls_per_lease)]
        renewed = time.monotonic()
        for entry in urls:
            # Renewed once a third of the lease has passed (not per URL: a write less per page).
            if time.monotonic() - renewed > self.config.lease_seconds / 3:
                with self.db.session() as db:
                    if not frontier.renew(db, lease, self.config.lease_seconds):
                        log.warning("crawler: lost the lease on %s; another worker has it", lease.origin)
                        return
                renewed = time.monotonic()
            self._process(*entry)

    def _queue_sitemaps(self, lease: Lease) -> None:
        with self.db.session() as db:
            host = db.get(CrawlHost, lease.host_id)
            if host.sitemaps_read_at and now() - aware(host.sitemaps_read_at) < timedelta(seconds=self.config.recrawl_interval):
                return
        try:
            sitemaps = self.fetcher.sitemaps(lease.origin + "/")
        except FetchRefused:
            sitemaps = []
        with self.db.session() as db:
            for url in sitemaps:
                frontier.add_url(db, url, self.config.budget, kind="sitemap")
            db.execute(update_rows(CrawlHost).where(CrawlHost.id == lease.host_id).values(sitemaps_read_at=now()))

    # -- one URL --------------------------------------------------------------------------
    def _process(self, url_id, url, kind, depth, etag, last_modified, content_sha256, attempts,
                 fetched_before: bool) -> None:
        try:
            result = self.fetcher.fetch(url, etag=etag, last_modified=last_modified,
                                        max_bytes=SITEMAP_MAX_BYTES if kind == "sitemap" else self.config.page_max_bytes)
        except FetchRefused as exc:
            self.stats.add(skipped=1)
            self._finish(url_id, status="skipped", next_at=None, error=exc.message)
            return
        except FetchFailed as exc:
            self.stats.add(failed=1)
            given_up = attempts + 1 >= self.config.max_attempts
            wait = self.config.recrawl_interval if given_up else max(exc.retry_after or 0, 60.0 * 2 ** attempts)
            self._finish(url_id, status="failed" if given_up else "queued", error=exc.message,
                         next_at=now() + timedelta(seconds=wait), attempts=attempts + 1, http_status=exc.status)
            return
        self.stats.add(pages=1)
        digest = hashlib.sha256(result.body).hexdigest()
        unchanged = result.status == 304 or (result.status == 200 and digest == content_sha256)
        links, image_urls, held = [], None, {}
        if not unchanged and result.status < 400 and kind == "page":
            if image_format(result.body):
                image_urls, held = [url], {url: result}
            elif not result.truncated:
                parsed = extract(result.body, result.url)
                links, image_urls = parsed.links, parsed.images[:self.config.max_images_per_page]
        # Images are fetched and matched, and evidence stored, before the transaction that records
        # the page: no write transaction stays open across network requests.
        seen = self._images(image_urls or [], held)
        found = self._hits_of(url, result, seen)

        def record(db: Session) -> list[dict]:
            new_hits = []
            if unchanged:
                db.execute(update_rows(Hit).where(Hit.page_url == url, Hit.status == "active").values(last_seen_at=now()))
            elif result.status >= 400:
                self._mark_gone(db, url, keep=set())
            elif kind == "sitemap":
                self._read_sitemap(db, result)
            elif image_urls is not None:
                frontier.add_urls(db, links, self.config.budget, depth=depth + 1)
                new_hits = self._record_page(db, url_id, url, seen, found, fetched_before=fetched_before)
            self._finish(url_id, status="done", db=db, http_status=result.status,
                         next_at=now() + timedelta(seconds=self.config.recrawl_interval),
                         etag=result.header("etag") or (etag if unchanged else None),
                         last_modified=result.header("last-modified") or (last_modified if unchanged else None),
                         content_sha256=content_sha256 if result.status == 304 else digest)
            return new_hits

        for values in self._write(record):
            self.stats.add(hits=1)
            if self.on_hit is not None:
                self.on_hit(values)

    def _write(self, work):
        """`work(db)` in one transaction. One that fails on a lock (SQLite's busy timeout) or a
        deadlock (PostgreSQL) is run again with the data in hand: giving up would leave the URL due,
        and the site would be asked for the same page again."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.db.session() as db:
                    return work(db)
            except OperationalError as exc:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                log.warning("crawler: a write failed (%s); trying again", str(exc.orig).splitlines()[0])
                time.sleep(0.05 * 2 ** attempt)
        raise AssertionError("unreachable")

    def _finish(self, url_id: int, *, status: str, next_at, db: Session | None = None, **values) -> None:
        values = {"status": status, "next_crawl_at": next_at, "fetched_at": now(), **values}
        if status == "done":
            values.update(attempts=0, error=None)
        statement = update_rows(CrawlUrl).where(CrawlUrl.id == url_id).values(**values)
        if db is not None:
            db.execute(statement)
            return
        with self.db.session() as session:
            session.execute(statement)

    def _read_sitemap(self, db: Session, result: FetchResult) -> None:
        body = result.body
        if body[:2] == b"\x1f\x8b":
            decompressor = zlib.decompressobj(wbits=31)
            body = decompressor.decompress(body, SITEMAP_MAX_BYTES)
        pages, nested = sitemap_urls(body)
        frontier.add_urls(db, nested, self.config.budget, kind="sitemap")
        frontier.add_urls(db, pages, self.config.budget, depth=0)

    # -- images and hits ------------------------------------------------------------------
    def _record_page(self, db: Session, page_id: int, page_url: str, seen: list[SeenImage], found: list, *,
                     fetched_before: bool = True) -> list[dict]:
        """The page's images and hits as of this fetch; returns the hits recorded for the first time.
        Its images from an earlier fetch are dropped first (a page never fetched has none: a
        statement less a new page)."""
        if fetched_before:
            db.execute(delete(CrawlEmbed).where(CrawlEmbed.page_url_id == page_id))
        embeds = sorted({image.id for image in seen})
        if embeds:
            db.execute(insert_into(db, CrawlEmbed).on_conflict_do_nothing(index_elements=["page_url_id", "image_id"]),
                       [{"page_url_id": page_id, "image_id": i} for i in embeds])
        new_hits = []
        for registration_id, image_url, values in found:
            if values is None:
                db.execute(update_rows(Hit).where(Hit.registration_id == registration_id, Hit.page_url == page_url,
                                             Hit.image_url == image_url)
                           .values(last_seen_at=now(), status="active", gone_at=None))
            elif insert_ignore(db, Hit, values, ["registration_id", "page_url", "image_url"]):
                new_hits.append(values)
            else:
                evidence = {k: values[k] for k in ("evidence_cid", "evidence_sha256", "screenshot_cid",
                                                   "http_status", "headers", "last_seen_at", "status")}
                db.execute(update_rows(Hit).where(Hit.registration_id == registration_id, Hit.page_url == page_url,
                                             Hit.image_url == image_url).values(gone_at=None, **evidence))
        self._mark_gone(db, page_url, keep={(r, u) for r, u, _ in found})
        return new_hits

    def _images(self, urls: list[str], held: dict[str, FetchResult]) -> list[SeenImage]:
        """The images at `urls` worth matching, in page order. Each URL is fetched and fingerprinted
        once per recrawl interval and the same bytes once ever; a page's images are looked up in
        one query and recorded in one transaction, and fingerprinted in the pool when there is one."""
        if not urls:
            return []
        digests = {url: url_hash(url) for url in urls}
        with self.db.session() as db:
            known = {row.url_hash: row for row in db.execute(
                select(CrawlImage.url_hash, CrawlImage.id, CrawlImage.sha256, CrawlImage.checked_at,
                       CrawlPrint.fingerprint)
                .outerjoin(CrawlPrint, CrawlPrint.sha256 == CrawlImage.sha256)
                .where(CrawlImage.url_hash.in_(list(digests.values()))))}
        seen: dict[str, SeenImage | None] = {}
        responses: dict[str, FetchResult] = {}
        for url in urls:
            row = known.get(digests[url])
            if url not in held and row is not None and self._fresh(row.checked_at):
                seen[url] = None if row.fingerprint is None else SeenImage(
                    row.id, url, row.sha256, Fingerprint.from_bytes(row.fingerprint), None)
                continue
            response = held.get(url)
            if response is None:
                try:
                    response = self.fetcher.fetch(url, max_bytes=self.config.image_max_bytes)
                except (FetchRefused, FetchFailed) as exc:
                    log.info("crawler: image %s not fetched: %s", url, exc.message)
                    continue
            self.stats.add(images=1)
            responses[url] = response
        if responses:
            recognised = self._recognise(responses)
            ids = self._write(lambda db: self._record_images(db, recognised, digests))
            for url, (sha, print_, _, _) in recognised.items():
                seen[url] = None if sha is None else SeenImage(ids[digests[url]], url, sha, print_, responses[url])
        return [image for url in urls if (image := seen.get(url)) is not None]

    def _fresh(self, checked_at) -> bool:
        return now() - aware(checked_at) < timedelta(seconds=self.config.recrawl_interval)

    def _recognise(self, responses: dict[str, FetchResult]) -> dict[str, tuple]:
        """For each image URL: (0x SHA-256, fingerprint, None, the crawl_prints row to add if the
        bytes are new) for an image worth matching, else (None, None, why not, None)."""
        verdicts: dict[str, tuple] = {}
        sizes: dict[str, tuple[bytes, tuple[int, int]]] = {}  # SHA-256 -> (bytes, size)
        for url, response in responses.items():
            note, size = self._unusable(response)
            if note is not None:
                verdicts[url] = (None, None, note, None)
                continue
            sha = "0x" + hashlib.sha256(response.body).hexdigest()
            sizes.setdefault(sha, (response.body, size))
            verdicts[url] = (sha,)
        with self.db.session() as db:
            stored = dict(db.execute(select(CrawlPrint.sha256, CrawlPrint.fingerprint)
                                     .where(CrawlPrint.sha256.in_(list(sizes)))).all()) if sizes else {}
        new = [sha for sha in sizes if sha not in stored]
        bodies = [sizes[sha][0] for sha in new]
        computed = dict(zip(new, self.fingerprints.map(fingerprint_bytes, bodies) if self.fingerprints
                            else map(fingerprint_bytes, bodies)))
        self.stats.add(fingerprinted=sum(isinstance(value, bytes) for value in computed.values()))
        for url, verdict in verdicts.items():
            if verdict[0] is None:
                continue
            sha = verdict[0]
            if sha in stored:
                verdicts[url] = (sha, Fingerprint.from_bytes(stored[sha]), None, None)
            elif isinstance(computed[sha], str):
                verdicts[url] = (None, None, computed[sha], None)
            else:
                (width, height) = sizes[sha][1]
                verdicts[url] = (sha, Fingerprint.from_bytes(computed[sha]), None,
                                 {"sha256": sha, "fingerprint": computed[sha], "width": width, "height": height})
        return verdicts

    def _unusable(self, response: FetchResult) -> tuple[str | None, tuple[int, int] | None]:
        """(why this response is no image worth matching, or None; its size)."""
        if response.status != 200:
            return f"HTTP {response.status}", None
        if response.truncated:
            return f"larger than {self.config.image_max_bytes} bytes", None
        if image_format(response.body) is None:
            return "not an image", None
        size = dimensions(response.body)
        if size is None:
            return "unreadable image", None
        if too_small(size, self.config.min_image_side):
            return f"tiny ({size[0]}×{size[1]})", None
        return None, size

    @staticmethod
    def _record_images(db: Session, recognised: dict[str, tuple], digests: dict[str, str]) -> dict[str, int]:
        """Store the new fingerprints and each image URL's check (one statement each); returns the
        image rows' ids by URL hash. An image whose bytes changed drops the response kept for
        hits (it showed the old bytes)."""
        prints = sorted({p["sha256"]: p for _, _, _, p in recognised.values() if p is not None}.values(),
                        key=lambda p: p["sha256"])
        if prints:
            db.execute(insert_into(db, CrawlPrint).on_conflict_do_nothing(index_elements=["sha256"]), prints)
        checked = now()
        rows = sorted(({"url_hash": digests[url], "url": url, "sha256": sha, "checked_at": checked, "note": note}
                       for url, (sha, _, note, _) in recognised.items()), key=lambda row: row["url_hash"])
        table = CrawlImage.__table__
        statement = insert_into(db, CrawlImage)
        statement = statement.on_conflict_do_update(index_elements=["url_hash"], set_={
            "url": statement.excluded.url, "sha256": statement.excluded.sha256, "note": statement.excluded.note,
            "checked_at": statement.excluded.checked_at,
            "warc_cid": case((table.c.sha256 == statement.excluded.sha256, table.c.warc_cid), else_=None),
        }).returning(table.c.url_hash, table.c.id)
        return dict(db.execute(statement, rows).all())

    def _hits_of(self, page_url: str, page: FetchResult, seen: list[SeenImage]) -> list[tuple]:
        """(registration id, image URL, the new hit's row or None if recorded before) for every
        registration an image on the page is a copy of, by the lookup's own rules; no hits on
        the registration owner's own domains, nor for copies its owner said are not a match."""
        if not seen:
            return []
        host, found, new = domain(page_url), [], []
        with self.db.session() as db:
            # one look-up for the page's images (the index synced once, registrations read together)
            matched = find_registrations_of_many(db, self.matcher, [(image.sha256, image.print_) for image in seen])
            for image, matches in zip(seen, matched):
                for match in matches:
                    if own_domain(db, match["owner"], host) or negative_pair(db, match["id"], image.sha256):
                        continue
                    known = db.execute(select(Hit.id, Hit.evidence_cid).where(
                        Hit.registration_id == match["id"], Hit.page_url == page_url,
                        Hit.image_url == image.url)).first()
                    # A hit found by searching a new registration among crawled images has no
                    # evidence yet: this fetch of the page provides it.
                    (found if known and known.evidence_cid else new).append((image, match))
        found = [(match["id"], image.url, None) for image, match in found]
        for image, match in new:
            values = self.new_hit(page_url, page, image, match)
            if values is not None:
                found.append((match["id"], image.url, values))
        return found

    def new_hit(self, page_url: str, page: FetchResult, image: SeenImage, match: dict) -> dict | None:
        """The row of a new hit of `image` on `page_url`: WARC evidence of the page and the image,
        the copy's bytes in the store, and the whitelist's verdict; None if the image is gone."""
        kept = None if image.response is not None else self._kept_response(image.id)
        response = image.response or kept
        if response is None:  # matched from an earlier fetch: evidence needs the response itself
            try:
                response = self.fetcher.fetch(image.url, max_bytes=self.config.image_max_bytes)
            except (FetchRefused, FetchFailed) as exc:
                log.info("crawler: hit on %s not recorded, image gone: %s", page_url, exc.message)
                return None
            if hashlib.sha256(response.body).hexdigest() != image.sha256[2:]:
                return None  # the image changed since it was matched: its next check decides
        if kept is None:
            self._keep_response(image.id, response)
        evidence = store_evidence(self.store, page, response, software=self.config.software,
                                  with_screenshot=self.config.screenshots)
        with self.db.session() as db:
            by = "whitelist" if whitelisted(db, match["owner"], domain(page_url)) else None
        if by is None and self._licensed(match["id"], domain(page_url)):
            by = "licence"
        return dict(
            registration_id=match["id"], owner=match["owner"], page_url=page_url, image_url=image.url,
            domain=domain(page_url), image_sha256=image.sha256, match=match["match"], kind=match["kind"],
            score=match["score"], status="active", http_status=response.status,
            headers={"page": dict(page.headers), "image": dict(response.headers)},
            evidence_cid=evidence.cid, evidence_sha256=evidence.sha256, screenshot_cid=evidence.screenshot_cid,
            found_at=now(), last_seen_at=now(), copy_cid=self.store.add(response.body),
            **({"verdict": "legal", "verdict_by": by, "verdict_at": now()} if by else {}),
        )

    # -- a manual report ------------------------------------------------------------------
    def report(self, owner: str, page_url, image_url) -> int:
        """Record the image at `image_url` on `page_url` as a hit of `owner`'s registration it is a
        copy of (fetched, matched and evidenced as the crawl does); the hit's id."""
        for name, raw in (("page_url", page_url), ("image_url", image_url)):
            if not isinstance(raw, str) or not raw.strip():
                raise InvalidInput(f"send {name!r}: an http(s) URL")
        page_url, image_url = normalise(page_url), normalise(image_url)
        try:
            page = self.fetcher.fetch(page_url, max_bytes=self.config.page_max_bytes)
        except (FetchRefused, FetchFailed) as exc:
            raise Unprocessable(f"the page {page_url} could not be fetched: {exc.message}") from None
        if page.status >= 400:
            raise Unprocessable(f"the page {page_url} answered HTTP {page.status}")
        try:
            response = self.fetcher.fetch(image_url, max_bytes=self.config.image_max_bytes)
        except (FetchRefused, FetchFailed) as exc:
            raise Unprocessable(f"the image {image_url} could not be fetched: {exc.message}") from None
        images = self._images([image_url], {image_url: response})
        if not images:
            raise Unprocessable(f"{image_url} is no image the crawler can match (too small, too large or "
                                "not an image)")
        image, host = images[0], domain(page_url)
        with self.db.session() as db:
            self.matcher.sync(db)
            matches = [m for m in find_registrations(db, self.matcher, image.sha256, image.print_)
                       if m["owner"] == owner and not own_domain(db, owner, host)
                       and not negative_pair(db, m["id"], image.sha256)]
            for match in matches:
                known = db.scalar(select(Hit.id).where(Hit.registration_id == match["id"],
                                                       Hit.page_url == page_url, Hit.image_url == image_url))
                if known is not None:
                    return known
        if not matches:
            raise Unprocessable(f"{image_url} is not a copy of one of your registrations (or it is on your "
                                "own site, or you said it is not a match)")
        values = self.new_hit(page_url, page, image, matches[0])
        if values is None:
            raise Unprocessable(f"the image {image_url} changed while it was fetched; report it again")
        with self.db.session() as db:
            insert_ignore(db, Hit, values, ["registration_id", "page_url", "image_url"])
            return db.scalar(select(Hit.id).where(Hit.registration_id == values["registration_id"],
                                                  Hit.page_url == page_url, Hit.image_url == image_url))

    def _licensed(self, registration_id: str, host: str) -> bool:
        if self.is_licensed is None:
            return False
        try:
            return self.is_licensed(registration_id, host)
        except Exception as exc:  # noqa: BLE001 - the chain down must not lose the hit; triage asks again
            log.info("crawler: licence of %s for %s not checked: %s", registration_id, host, exc)
            return False

    def _kept_response(self, image_id: int) -> FetchResult | None:
        with self.db.session() as db:
            cid = db.scalar(select(CrawlImage.warc_cid).where(CrawlImage.id == image_id))
        return read_response(self.store.cat(cid)) if cid else None

    def _keep_response(self, image_id: int, response: FetchResult) -> None:
        cid = self.store.add(warc([response], self.config.software))
        with self.db.session() as db:
            db.execute(update_rows(CrawlImage).where(CrawlImage.id == image_id, CrawlImage.warc_cid.is_(None))
                       .values(warc_cid=cid))

    @staticmethod
    def _mark_gone(db: Session, page_url: str, keep: set[tuple[str, str]]) -> None:
        for hit in db.scalars(select(Hit).where(Hit.page_url == page_url, Hit.status == "active")):
            if (hit.registration_id, hit.image_url) not in keep:
                hit.status, hit.gone_at = "gone", now()


def own_domain(db: Session, owner: str, host: str) -> bool:
    """`host` is on a domain `owner` publishes on (a portfolio): their images there are no hits."""
    return any(on_domain(host, d) for d in db.scalars(select(OwnDomain.domain).where(OwnDomain.owner == owner)))



def whitelisted(db: Session, owner: str, host: str) -> bool:
    """`owner` allows `host` (or a domain it is under) to use their images: its hits are legal."""
    return any(on_domain(host, d) for d in db.scalars(
        select(WhitelistedDomain.domain).where(WhitelistedDomain.owner == owner)))


def negative_pair(db: Session, registration_id: str, image_sha256: str) -> bool:
    """The registration's owner said these copy bytes are not a match for it."""
    return db.scalar(select(NegativePair.id).where(NegativePair.registration_id == registration_id,
                                                   NegativePair.image_sha256 == image_sha256)) is not None
