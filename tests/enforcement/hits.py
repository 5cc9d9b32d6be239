"""Copies of a registered image on local sites (127.0.0.x), found by the real crawler and marked
illegal by their owner: where a case from hits starts."""

from __future__ import annotations

import threading
from sqlalchemy import select

from backend.crawler.models import Hit
from backend.enforcement.triage import triage
from tests.backend.crawl_site import Site
from tests.backend.test_crawler import html, image
from tests.images import encode, picture


def mark_illegal(services, owner: str, hit_id: int) -> None:
    """The owner's verdict on a hit, through triage's own rules (whitelist, own site, licence)."""
    with services.db.session() as db:
        answer = triage(db, owner, "illegal", hit_ids=[hit_id], is_licensed=services.licence_check())
    assert answer == {"updated": 1, "skipped": []}, answer


def copy_of(seed: int) -> bytes:
    """The picture `register_image(seed)` registered, resized and re-encoded as sites do."""
    return encode(picture(seed, (320, 240)).resize((200, 150)), "JPEG")


def site_pages(copy: bytes, email: str) -> dict:
    """A German blog showing the copy, with an imprint naming its operator and their address."""
    return {
        "/": html('<h1>Blog</h1><img src="/img/alps.jpg"><a href="/impressum">Impressum</a>'),
        "/impressum": html(f"<p>Beispiel GmbH</p><p>Musterstraße 1, 10115 Berlin, Deutschland</p><p>{email}</p>"),
        "/img/alps.jpg": image(copy),
    }


def crawl_and_mark_illegal(services, site: Site, owner: str, seeds: list[str]) -> dict[str, int]:
    """Crawls `seeds` with the real crawler and marks every hit of `owner` illegal; {domain: hit id}."""
    crawler = services.crawler("cases-test", resolver=site.resolver)
    crawler.seed(seeds)
    crawler.run(threading.Event(), until_done=True, idle_wait=0.1)
    with services.db.session() as db:
        hits = {h.domain: h.id for h in db.scalars(select(Hit).where(Hit.owner == owner))}
    for hit_id in hits.values():
        mark_illegal(services, owner, hit_id)
    return hits
