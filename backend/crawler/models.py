"""The crawler's tables: the frontier (hosts and URLs), the images seen, hits and the owners'
watch lists, portfolios and own domains.

A host row is the unit a worker leases: one worker at a time crawls a host, which is how
politeness per host holds across processes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Float, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models import ADDRESS, HASH, Base, utcnow

URL = String(2048)


class CrawlHost(Base):
    """One origin (scheme://host:port): its queue's lease, politeness clock and budget."""

    __tablename__ = "crawl_hosts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(300), unique=True)
    next_fetch_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    page_urls: Mapped[int] = mapped_column(Integer, default=0)  # its `page` URLs in the frontier (the budget)
    sitemaps_read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CrawlUrl(Base):
    """A frontier entry. status: `queued` (due at `next_crawl_at`), `done` (fetched; due again at
    `next_crawl_at` for the recrawl), `skipped` (robots, budget, trap, refused address; `error` says
    why), `failed` (gave up after retries)."""

    __tablename__ = "crawl_urls"
    __table_args__ = (
        Index("ix_crawl_urls_due", "host_id", "next_crawl_at"),
        Index("ix_crawl_urls_shape", "host_id", "shape"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the normalised URL
    url: Mapped[str] = mapped_column(Text)
    host_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(10), default="page")  # page | sitemap
    depth: Mapped[int] = mapped_column(Integer, default=0)
    shape: Mapped[str] = mapped_column(String(16))  # urls.shape hashed: the trap rule counts these
    status: Mapped[str] = mapped_column(String(10), default="queued")
    next_crawl_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    http_status: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    seed_owner: Mapped[str | None] = mapped_column(ADDRESS)  # who asked for it (watch or portfolio)


class CrawlImage(Base):
    """An image URL and the bytes it had when last checked (fingerprinted once per recrawl interval)."""

    __tablename__ = "crawl_images"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url_hash: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(HASH, index=True)  # None: not an image (or too small)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(String(200))
    # The response as a WARC, kept once the image is part of a hit: another page's hit on the
    # same image takes its evidence from it instead of fetching the image again.
    warc_cid: Mapped[str | None] = mapped_column(String(100))


class CrawlPrint(Base):
    """The fingerprint of image bytes the crawler has seen, once per content hash. `id` grows, so
    the index of crawled images (`backend.crawler.seen`) follows new rows by it."""

    __tablename__ = "crawl_prints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(HASH, unique=True)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)


class CrawlEmbed(Base):
    """A page embeds (or links to) an image URL, as of the page's last fetch."""

    __tablename__ = "crawl_embeds"
    __table_args__ = (UniqueConstraint("page_url_id", "image_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_url_id: Mapped[int] = mapped_column(Integer, index=True)
    image_id: Mapped[int] = mapped_column(Integer, index=True)


class Hit(Base):
    """A registered image found on a page. Recorded once per (registration, page, image); re-seeing
    it moves `last_seen_at`; a page that no longer shows it marks it `gone`."""

    __tablename__ = "hits"
    __table_args__ = (UniqueConstraint("registration_id", "page_url", "image_url"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[str] = mapped_column(HASH, index=True)
    owner: Mapped[str] = mapped_column(ADDRESS, index=True)
    page_url: Mapped[str] = mapped_column(String(2048))
    image_url: Mapped[str] = mapped_column(String(2048))
    domain: Mapped[str] = mapped_column(String(255), index=True)
    image_sha256: Mapped[str] = mapped_column(HASH)
    match: Mapped[str] = mapped_column(String(20))  # exact | perceptual, as the lookup says
    kind: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)  # active | gone
    http_status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict | None] = mapped_column(JSON)
    evidence_cid: Mapped[str | None] = mapped_column(String(100))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    screenshot_cid: Mapped[str | None] = mapped_column(String(100))
    copy_cid: Mapped[str | None] = mapped_column(String(100))  # the copy's bytes as fetched, in the IPFS store
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    gone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # triage: None (not yet looked at) | legal | illegal | unsure | not_a_match; `verdict_by` says
    # who decided: the owner, or one of the automatic rules (whitelist, own_domain, licence)
    verdict: Mapped[str | None] = mapped_column(String(20), index=True)
    verdict_by: Mapped[str | None] = mapped_column(String(20))
    verdict_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NegativePair(Base):
    """An owner said "not a match": this registration and these copy bytes are never a hit again.
    Only the owner's own pair is suppressed; the matcher's decision stays as it is for others."""

    __tablename__ = "negative_pairs"
    __table_args__ = (UniqueConstraint("registration_id", "image_sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[str] = mapped_column(HASH, index=True)
    image_sha256: Mapped[str] = mapped_column(HASH)
    owner: Mapped[str] = mapped_column(ADDRESS, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WhitelistedDomain(Base):
    """A domain an owner allows to use their images: its hits are legal and never become a case."""

    __tablename__ = "whitelisted_domains"
    __table_args__ = (UniqueConstraint("owner", "domain"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(ADDRESS, index=True)
    domain: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WatchTarget(Base):
    """A page or a whole domain a rights-holder asked the crawler to watch."""

    __tablename__ = "watch_targets"
    __table_args__ = (UniqueConstraint("owner", "url"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(ADDRESS, index=True)
    url: Mapped[str] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(String(10))  # page | domain
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OwnDomain(Base):
    """A domain a rights-holder publishes on themselves: copies of their images there are no hits."""

    __tablename__ = "own_domains"
    __table_args__ = (UniqueConstraint("owner", "domain"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(ADDRESS, index=True)
    domain: Mapped[str] = mapped_column(String(255), index=True)
    portfolio_url: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CrawlState(Base):
    """Counters the crawler keeps across restarts (e.g. the last registration event searched)."""

    __tablename__ = "crawl_state"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
