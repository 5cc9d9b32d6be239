"""New registrations are searched at once among everything already crawled.

`SeenImages` keeps the fingerprints of every image the crawler has seen in a `MatchIndex` of
their own, keyed by the image's SHA-256, persisted in a snapshot directory the same way (and by
the same code) as the matcher's. When the indexer has made a registration final, its
fingerprint is searched in it; each candidate is then confirmed by the lookup's own rule (the
crawled image looked up among the registrations must name this one), and the hit is recorded on
every page that shows it. Those pages are put first in the queue, so that the crawler fetches
them again and adds the evidence.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.crawler.crawler import own_domain
from backend.crawler.frontier import insert_ignore, now
from backend.crawler.models import CrawlEmbed, CrawlImage, CrawlPrint, CrawlState, CrawlUrl, Hit
from backend.crawler.urls import domain
from backend.matching import Fingerprint, MatchIndex
from backend.matching.fingerprints import FORMAT_VERSION
from backend.models import ChainEvent
from backend.registry.lookup import find_registrations
from backend.registry.matcher import SNAPSHOT_LAYOUT, _read_snapshot, _write_snapshot

log = logging.getLogger(__name__)

BATCH = 500
SEARCHED = "seen.searched_event"  # CrawlState: the last Registered event searched


class SeenImages:
    def __init__(self, snapshot_dir: Path | None = None):
        self.snapshot_dir = snapshot_dir
        self.lock = threading.Lock()
        self.index = MatchIndex()
        self.print_cursor = 0  # the last CrawlPrint id in the index
        self.changed = False
        if snapshot_dir is not None:
            loaded = _read_snapshot(Path(snapshot_dir))
            if loaded is not None:
                self.index, _, state = loaded
                self.print_cursor = state["checkpoints"][0][0] if state["checkpoints"] else 0

    def follow_prints(self, db: Session) -> int:
        """Add the fingerprints crawled (by any worker) since the last call; returns how many."""
        added = 0
        with self.lock:
            while True:
                rows = db.execute(select(CrawlPrint.id, CrawlPrint.sha256, CrawlPrint.fingerprint)
                                  .where(CrawlPrint.id > self.print_cursor).order_by(CrawlPrint.id).limit(BATCH)).all()
                for row_id, sha, data in rows:
                    self.index.add(sha, Fingerprint.from_bytes(data))
                    self.print_cursor = row_id
                added += len(rows)
                if len(rows) < BATCH:
                    break
            self.changed = self.changed or added > 0
        return added

    def search_new_registrations(self, db: Session, matcher) -> int:
        """Record the hits of the registrations made final since the last call; returns how many."""
        cursor = db.scalar(select(CrawlState.value).where(CrawlState.key == SEARCHED)) or 0
        events = db.scalars(select(ChainEvent).where(ChainEvent.id > cursor, ChainEvent.name == "Registered")
                            .order_by(ChainEvent.id).limit(BATCH)).all()
        if not events:
            return 0
        matcher.sync(db)
        recorded = 0
        for event in events:
            recorded += self._search(db, matcher, event.registration_id)
        if not insert_ignore(db, CrawlState, {"key": SEARCHED, "value": events[-1].id}, ["key"]):
            db.execute(update(CrawlState).where(CrawlState.key == SEARCHED).values(value=events[-1].id))
        return recorded

    def _search(self, db: Session, matcher, reg_id: str) -> int:
        if len(self.index) == 0:  # nothing crawled yet: no fingerprint to compute
            return 0
        print_ = matcher._fingerprint_of(db, reg_id)  # the matcher's own way to a registration's fingerprint
        if print_ is None:
            return 0
        with self.lock:
            candidates = [m.key for m in self.index.search(print_, limit=100)]
        recorded = 0
        for sha in candidates:
            stored = db.scalar(select(CrawlPrint.fingerprint).where(CrawlPrint.sha256 == sha))
            confirmed = [m for m in find_registrations(db, matcher, sha, Fingerprint.from_bytes(stored))
                         if m["id"] == reg_id]
            if not confirmed:
                continue
            match = confirmed[0]
            pages = db.execute(
                select(CrawlUrl.id, CrawlUrl.url, CrawlImage.url)
                .join(CrawlEmbed, CrawlEmbed.page_url_id == CrawlUrl.id)
                .join(CrawlImage, CrawlImage.id == CrawlEmbed.image_id)
                .where(CrawlImage.sha256 == sha)
            ).all()
            for page_id, page_url, image_url in pages:
                if own_domain(db, match["owner"], domain(page_url)):
                    continue
                if insert_ignore(db, Hit, dict(
                        registration_id=reg_id, owner=match["owner"], page_url=page_url, image_url=image_url,
                        domain=domain(page_url), image_sha256=sha, match=match["match"], kind=match["kind"],
                        score=match["score"], status="active", found_at=now(), last_seen_at=now(),
                ), ["registration_id", "page_url", "image_url"]):
                    recorded += 1
                # Fetch the page again first thing (not as unchanged): the evidence comes with it.
                db.execute(update(CrawlUrl).where(CrawlUrl.id == page_id)
                           .values(next_crawl_at=now(), content_sha256=None, etag=None, last_modified=None))
        return recorded

    def save_snapshot(self) -> bool:
        if self.snapshot_dir is None or not self.changed:
            return False
        with self.lock:
            state = {"layout": SNAPSHOT_LAYOUT, "fingerprint_format": FORMAT_VERSION,
                     "checkpoints": [[self.print_cursor, "", 0]], "unreadable": [],
                     "images": len(self.index), "phash_only": 0}

            def save_index(directory: Path) -> None:
                self.index.save(directory)

            written = _write_snapshot(Path(self.snapshot_dir), save_index, {}, state)
            self.changed = not written
        return written
