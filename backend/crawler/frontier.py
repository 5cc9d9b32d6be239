"""The persistent frontier: hosts leased to one worker at a time, and their URLs due for a fetch.

A worker takes a host with `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serialises
writers anyway) and a lease that expires, so a worker killed mid-host hands its host to another
once the lease runs out. The conditional UPDATE that sets the lease is what decides: of two
workers that saw the same free host, only one changes the row.
"""

from __future__ import annotations

import hashlib
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


def insert_ignore(db: Session, model, values: dict, conflict: list[str]) -> bool:
    """INSERT unless a row with the same `conflict` columns exists; True if inserted."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    return db.execute(statement).rowcount == 1


def host_id(db: Session, key: str) -> int:
    insert_ignore(db, CrawlHost, {"origin": key, "next_fetch_at": now(), "pages_fetched": 0}, ["origin"])
    return db.scalar(select(CrawlHost.id).where(CrawlHost.origin == key))


def shape_key(url: str) -> str:
    return hashlib.sha256(shape(url).encode()).hexdigest()[:16]


def add_url(db: Session, url: str, budget: Budget, *, depth: int = 0, kind: str = "page",
            owner: str | None = None, base: str | None = None) -> str | None:
    """Put `url` in the frontier (due now) unless it is there already or over a budget; returns
    why it was not added ("duplicate", "depth", "host-budget", "trap", "url") or None."""
    try:
        url = normalise(url, base)
    except BadUrl:
        return "url"
    if depth > budget.max_depth:
        return "depth"
    digest = url_hash(url)
    if db.scalar(select(CrawlUrl.id).where(CrawlUrl.url_hash == digest)) is not None:
        return "duplicate"
    host = host_id(db, origin(url))
    if kind == "page":
        counts = db.execute(
            select(func.count(), func.count().filter(CrawlUrl.shape == shape_key(url)))
            .where(CrawlUrl.host_id == host, CrawlUrl.kind == "page")
        ).one()
        if counts[0] >= budget.max_urls_per_host:
            return "host-budget"
        if counts[1] >= budget.max_urls_per_shape:
            return "trap"
    inserted = insert_ignore(db, CrawlUrl, {
        "url_hash": digest, "url": url, "host_id": host, "kind": kind, "depth": depth, "status": "queued",
        "next_crawl_at": now(), "attempts": 0, "seed_owner": owner, "shape": shape_key(url),
    }, ["url_hash"])
    return None if inserted else "duplicate"


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
            update(CrawlHost)
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
        update(CrawlHost)
        .where(CrawlHost.id == lease.host_id, CrawlHost.lease_owner == lease.worker,
               CrawlHost.lease_expires_at >= now())
        .values(lease_expires_at=now() + timedelta(seconds=lease_seconds))
    ).rowcount
    db.commit()
    return changed == 1


def release(db: Session, lease: Lease, next_fetch_at: datetime) -> None:
    """Give the host back; no worker contacts it before `next_fetch_at` (the politeness delay)."""
    db.execute(
        update(CrawlHost)
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
