"""The persistent frontier: hosts leased to one worker at a time, and their URLs due for a fetch.

A worker takes a host with `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serialises
writers anyway) and a lease that expires, so a worker killed mid-host hands its host to another
once the lease runs out. The conditional UPDATE that sets the lease is what decides: of two
workers that saw the same free host, only one changes the row.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.crawler.models import CrawlHost, CrawlUrl
from backend.crawler.urls import BadUrl, normalise, origin, shape, url_hash


def now() -> datetime:
    return datetime.now(timezone.utc)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite gives datetimes back without their zone; they were written in UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


@dataclass(frozen=True)
class Budget:
    max_depth: int = 5
    max_urls_per_host: int = 10_000
    max_urls_per_shape: int = 50  # URLs of one host that differ only in numbers (calendars, paging)


@dataclass
class Lease:
    host_id: int
    origin: str
    worker: str


def update_rows(model):
    """An UPDATE of `model`'s rows that does not look for the session's loaded objects to change
    them too (none are loaded where it is used): the ORM's bookkeeping is left out of the crawl
    loop's hottest statements."""
    return update(model).execution_options(synchronize_session=False)


def insert_ignore(db: Session, model, values: dict, conflict: list[str]) -> bool:
    """INSERT unless a row with the same `conflict` columns exists; True if inserted."""
    return db.execute(insert_into(db, model).values(**values).on_conflict_do_nothing(index_elements=conflict)).rowcount == 1


def insert_into(db: Session, model):
    """The dialect's INSERT on the model's table (Core: no ORM bookkeeping per statement). Executed
    with a list of rows, SQLAlchemy sends them as multi-row INSERTs of one cached shape."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model.__table__)


def hosts_of(db: Session, origins: set[str]) -> dict[str, tuple[int, int]]:
    """(host id, its page URLs) of each origin, the host row made where missing."""
    found = {key: (host, pages) for key, host, pages in db.execute(
        select(CrawlHost.origin, CrawlHost.id, CrawlHost.page_urls).where(CrawlHost.origin.in_(origins)))}
    for key in sorted(origins - found.keys()):
        insert_ignore(db, CrawlHost, {"origin": key, "next_fetch_at": now(), "page_urls": 0}, ["origin"])
        found[key] = tuple(db.execute(select(CrawlHost.id, CrawlHost.page_urls).where(CrawlHost.origin == key)).one())
    return found


def shape_key(url: str) -> str:
    return hashlib.sha256(shape(url).encode()).hexdigest()[:16]


def add_url(db: Session, url: str, budget: Budget, *, depth: int = 0, kind: str = "page",
            owner: str | None = None, base: str | None = None) -> str | None:
    """Put `url` in the frontier (due now) unless it is there already or over a budget; returns
    why it was not added ("duplicate", "depth", "host-budget", "trap", "url") or None."""
    return add_urls(db, [url], budget, depth=depth, kind=kind, owner=owner, base=base)[0]


def add_urls(db: Session, urls: list[str], budget: Budget, *, depth: int = 0, kind: str = "page",
             owner: str | None = None, base: str | None = None) -> list[str | None]:
    """`add_url` for many URLs in a few statements (a page's links): one look-up of those known,
    one of their hosts (with their page counts), one count of their shapes, one INSERT and one
    count update per host. Returns the reason for each URL, in order."""
    reasons: list[str | None] = []
    wanted: dict[str, tuple[str, str]] = {}  # URL hash -> (normalised URL, its origin)
    for raw in urls:
        try:
            url = normalise(raw, base)
        except BadUrl:
            reasons.append("url")
            continue
        if depth > budget.max_depth:
            reasons.append("depth")
            continue
        digest = url_hash(url)
        reasons.append("duplicate" if digest in wanted else digest)  # the hash stands in until decided
        wanted.setdefault(digest, (url, origin(url)))
    known = set(db.scalars(select(CrawlUrl.url_hash).where(CrawlUrl.url_hash.in_(wanted)))) if wanted else set()
    new = {digest: entry for digest, entry in wanted.items() if digest not in known}
    decided = {digest: "duplicate" for digest in known}
    rows = []
    if new:
        hosts = hosts_of(db, {key for _, key in new.values()})
        counts = {(host, None): pages for host, pages in hosts.values()}
        if kind == "page":
            counts.update(_shape_counts(db, [host for host, _ in hosts.values()],
                                        {shape_key(url) for url, _ in new.values()}))
        for digest, (url, key) in new.items():
            host, shaped = hosts[key][0], shape_key(url)
            if kind == "page":
                if counts.get((host, None), 0) >= budget.max_urls_per_host:
                    decided[digest] = "host-budget"
                    continue
                if counts.get((host, shaped), 0) >= budget.max_urls_per_shape:
                    decided[digest] = "trap"
                    continue
                counts[host, None] = counts.get((host, None), 0) + 1
                counts[host, shaped] = counts.get((host, shaped), 0) + 1
            rows.append({"url_hash": digest, "url": url, "host_id": host, "kind": kind, "depth": depth,
                         "status": "queued", "next_crawl_at": now(), "attempts": 0, "seed_owner": owner,
                         "shape": shaped})
    if rows:
        # In one order everywhere, so two workers inserting overlapping links cannot deadlock.
        rows.sort(key=lambda row: row["url_hash"])
        inserted = set(db.scalars(insert_into(db, CrawlUrl).on_conflict_do_nothing(index_elements=["url_hash"])
                                  .returning(CrawlUrl.__table__.c.url_hash), rows))
        decided.update({row["url_hash"]: None if row["url_hash"] in inserted else "duplicate" for row in rows})
        if kind == "page":
            added = Counter(row["host_id"] for row in rows if row["url_hash"] in inserted)
            for host in sorted(added):  # in one order everywhere: no deadlock between workers
                db.execute(update_rows(CrawlHost).where(CrawlHost.id == host)
                           .values(page_urls=CrawlHost.page_urls + added[host]))
    return [decided[reason] if reason in decided else reason for reason in reasons]


def _shape_counts(db: Session, hosts: list[int], shapes: set[str]) -> dict[tuple[int, str], int]:
    """Page URLs per host and shape, for the trap budget (at most `max_urls_per_shape` rows each)."""
    return {(host, shaped): n for host, shaped, n in db.execute(
        select(CrawlUrl.host_id, CrawlUrl.shape, func.count())
        .where(CrawlUrl.host_id.in_(hosts), CrawlUrl.kind == "page", CrawlUrl.shape.in_(shapes))
        .group_by(CrawlUrl.host_id, CrawlUrl.shape))}


def take_host(db: Session, worker: str, lease_seconds: float) -> Lease | None:
    """Lease a host that is free, polite to contact now, and has a URL due."""
    moment = now()
    free = or_(CrawlHost.lease_expires_at.is_(None), CrawlHost.lease_expires_at < moment)
    due = exists().where(CrawlUrl.host_id == CrawlHost.id, CrawlUrl.next_crawl_at <= moment)
    candidates = db.execute(
        select(CrawlHost.id, CrawlHost.origin)
        .where(free, CrawlHost.next_fetch_at <= moment, due)
        .order_by(CrawlHost.next_fetch_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).all()
    for host, key in candidates:
        taken = db.execute(
            update_rows(CrawlHost)
            .where(CrawlHost.id == host, free)
            .values(lease_owner=worker, lease_expires_at=moment + timedelta(seconds=lease_seconds))
        ).rowcount
        if taken:
            db.commit()
            return Lease(host, key, worker)
    db.commit()
    return None


def renew(db: Session, lease: Lease, lease_seconds: float) -> bool:
    """Extend the lease; False if it expired and another worker took the host."""
    changed = db.execute(
        update_rows(CrawlHost)
        .where(CrawlHost.id == lease.host_id, CrawlHost.lease_owner == lease.worker,
               CrawlHost.lease_expires_at >= now())
        .values(lease_expires_at=now() + timedelta(seconds=lease_seconds))
    ).rowcount
    db.commit()
    return changed == 1


def release(db: Session, lease: Lease, next_fetch_at: datetime) -> None:
    """Give the host back; no worker contacts it before `next_fetch_at` (the politeness delay)."""
    db.execute(
        update_rows(CrawlHost)
        .where(CrawlHost.id == lease.host_id, CrawlHost.lease_owner == lease.worker)
        .values(lease_owner=None, lease_expires_at=None, next_fetch_at=next_fetch_at)
    )
    db.commit()


def due_urls(db: Session, lease: Lease, limit: int) -> list[CrawlUrl]:
    """The host's due URLs, sitemaps first, then the shallowest pages."""
    return list(db.scalars(
        select(CrawlUrl)
        .where(and_(CrawlUrl.host_id == lease.host_id, CrawlUrl.next_crawl_at <= now()))
        .order_by((CrawlUrl.kind == "sitemap").desc(), CrawlUrl.depth, CrawlUrl.id)
        .limit(limit)
    ))


def pending(db: Session) -> int:
    """URLs due now, on every host (0: this pass is complete)."""
    return db.scalar(select(func.count()).select_from(CrawlUrl).where(CrawlUrl.next_crawl_at <= now()))
