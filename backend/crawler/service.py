"""What rights-holders ask of the crawler: their hits, pages and domains to watch, their portfolio."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.crawler import frontier
from backend.crawler.fetch import FetchFailed, FetchRefused
from backend.crawler.frontier import Budget, aware, now, update_rows
from backend.crawler.models import (
    CrawlEmbed, CrawlHost, CrawlImage, CrawlPrint, CrawlUrl, Hit, OwnDomain, WatchTarget,
)
from backend.crawler.urls import domain, normalise, on_domain
from backend.errors import Conflict, DomainError, InvalidInput, NotFound
from backend.matching import Fingerprint
from backend.models import Collection, Image, Registration
from backend.registry.lookup import find_registrations

HIT_STATUSES = ("active", "gone")
VERDICTS = ("legal", "illegal", "unsure", "not_a_match")
VERDICT_FILTERS = ("new", *VERDICTS)
GROUPS = ("registration", "domain")
MAX_IMPORT = 20  # images of an own site added in one request: each waits crawler_delay (2 s) for the site
# ccTLDs whose ISO 3166 alpha-2 code differs from the TLD
_TLD_OF_COUNTRY = {"GB": "uk"}


def _iso(moment: datetime | None) -> str | None:
    return aware(moment).isoformat() if moment is not None else None


def hit_view(hit: Hit, *, full: bool = False, registered_cid: str | None = None) -> dict:
    view = {
        "id": hit.id, "registration_id": hit.registration_id, "owner": hit.owner, "page_url": hit.page_url,
        "image_url": hit.image_url, "domain": hit.domain, "image_sha256": hit.image_sha256, "match": hit.match,
        "kind": hit.kind, "score": hit.score, "status": hit.status, "found_at": _iso(hit.found_at),
        "last_seen_at": _iso(hit.last_seen_at), "gone_at": _iso(hit.gone_at),
        "verdict": hit.verdict, "verdict_by": hit.verdict_by, "verdict_at": _iso(hit.verdict_at),
        "copy_url": f"/ipfs/{hit.copy_cid}" if hit.copy_cid else None,
        "registered_image_url": f"/ipfs/{registered_cid}" if registered_cid else None,
    }
    if full:
        view.update(http_status=hit.http_status, headers=hit.headers, evidence={
            "warc": {"cid": hit.evidence_cid, "sha256": hit.evidence_sha256, "url": f"/ipfs/{hit.evidence_cid}"}
            if hit.evidence_cid else None,
            "screenshot": {"cid": hit.screenshot_cid, "url": f"/ipfs/{hit.screenshot_cid}"}
            if hit.screenshot_cid else None,
        })
    return view


def hits_query(db: Session, owner: str, *, domain_: str | None = None, registration: str | None = None,
               collection: str | None = None, since: datetime | None = None, until: datetime | None = None,
               min_score: float | None = None, status: str | None = None, verdict: str | None = None,
               country: str | None = None):
    """The SELECT of the owner's hits the filters keep. Without a `verdict` filter, hits the owner
    said are not a match are left out."""
    query = select(Hit).where(Hit.owner == owner)
    if domain_:
        query = query.where((Hit.domain == domain_.lower()) | Hit.domain.endswith("." + domain_.lower()))
    if registration:
        query = query.where(Hit.registration_id == registration.lower())
    if collection:
        group = db.scalar(select(Collection.id).where(Collection.owner == owner, Collection.name == collection))
        if group is None:
            raise NotFound(f"you have no collection named {collection!r}")
        query = query.where(Hit.registration_id.in_(select(Image.sha256).where(Image.collection_id == group)))
    if since:
        query = query.where(Hit.found_at >= since)
    if until:
        query = query.where(Hit.found_at < until)
    if min_score is not None:
        query = query.where(Hit.score >= min_score)
    if status:
        if status not in HIT_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(HIT_STATUSES)}, got {status!r}")
        query = query.where(Hit.status == status)
    if verdict is None:
        query = query.where((Hit.verdict.is_(None)) | (Hit.verdict != "not_a_match"))
    elif verdict == "new":
        query = query.where(Hit.verdict.is_(None))
    elif verdict in VERDICTS:
        query = query.where(Hit.verdict == verdict)
    else:
        raise InvalidInput(f"verdict must be one of {', '.join(VERDICT_FILTERS)}, got {verdict!r}")
    if country:
        if not (isinstance(country, str) and len(country) == 2 and country.isascii() and country.isalpha()):
            raise InvalidInput(f"country must be an ISO 3166 alpha-2 code such as DE, got {country!r}")
        # The country of a hit is its domain's ccTLD: a suffix test, no lookup per hit.
        query = query.where(Hit.domain.endswith("." + _TLD_OF_COUNTRY.get(country.upper(), country.lower())))
    return query


def list_hits(db: Session, owner: str, *, limit: int = 50, offset: int = 0, **filters) -> dict:
    """The owner's hits, newest first, filtered; `total` counts every hit the filters keep."""
    query = hits_query(db, owner, **filters)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = list(db.scalars(query.order_by(Hit.found_at.desc(), Hit.id.desc()).limit(limit).offset(offset)))
    cids = dict(db.execute(select(Registration.id, Registration.cid)
                           .where(Registration.id.in_({h.registration_id for h in rows}))).all())
    return {"hits": [hit_view(h, registered_cid=cids.get(h.registration_id)) for h in rows], "total": total,
            "limit": limit, "offset": offset}


def hit_groups(db: Session, owner: str, by: str, **filters) -> dict:
    """The owner's hits the filters keep, counted per registration or per domain, the group with
    the latest find first."""
    if by not in GROUPS:
        raise InvalidInput(f"by must be one of {', '.join(GROUPS)}, got {by!r}")
    hits = hits_query(db, owner, **filters).subquery()
    key = hits.c.registration_id if by == "registration" else hits.c.domain
    rows = db.execute(select(key, func.count(), func.count().filter(hits.c.verdict.is_(None)),
                             func.max(hits.c.found_at)).group_by(key)
                      .order_by(func.max(hits.c.found_at).desc(), key)).all()
    return {"by": by, "groups": [{"key": k, "count": n, "new": fresh, "latest_found_at": _iso(latest)}
                                 for k, n, fresh, latest in rows]}


def get_hit(db: Session, owner: str, hit_id: int) -> dict:
    hit = db.get(Hit, hit_id)
    if hit is None or hit.owner != owner:  # another owner's hit is none of your business: not found
        raise NotFound(f"you have no hit {hit_id}")
    return hit_view(hit, full=True, registered_cid=db.scalar(select(Registration.cid).where(
        Registration.id == hit.registration_id)))


def _url(raw) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("send 'url': the address of a page or site, e.g. https://example.org/")
    return normalise(raw if "://" in raw else "https://" + raw)


def add_watch(db: Session, owner: str, raw_url, scope, *, limit: int, budget: Budget) -> dict:
    """Watch one page (`page`: it alone) or a site (`domain`: crawled from that page on)."""
    scope = scope or "domain"
    if scope not in ("page", "domain"):
        raise InvalidInput(f"scope must be 'page' or 'domain', got {scope!r}")
    url = _url(raw_url)
    if db.scalar(select(WatchTarget.id).where(WatchTarget.owner == owner, WatchTarget.url == url)) is not None:
        raise Conflict(f"you already watch {url}")
    count = db.scalar(select(func.count()).select_from(WatchTarget).where(WatchTarget.owner == owner))
    if count >= limit:
        raise Conflict(f"you watch {count} pages and domains already, the limit per rights-holder; "
                       "remove one or ask the operator to raise crawler_watch_limit", limit=limit)
    target = WatchTarget(owner=owner, url=url, scope=scope)
    db.add(target)
    # A watched page is crawled at the deepest level, so its links are not followed.
    frontier.add_url(db, url, budget, depth=0 if scope == "domain" else budget.max_depth, owner=owner)
    db.flush()
    return _watch_view(target)


def list_watch(db: Session, owner: str) -> list[dict]:
    return [_watch_view(t) for t in db.scalars(select(WatchTarget).where(WatchTarget.owner == owner)
                                                .order_by(WatchTarget.id))]


def remove_watch(db: Session, owner: str, watch_id: int) -> dict:
    """Stop watching: the place in the owner's limit is free again. The page stays in the frontier
    like any page the crawler found (copies there are still found at its recrawls)."""
    target = db.get(WatchTarget, watch_id)
    if target is None or target.owner != owner:
        raise NotFound(f"you watch nothing with id {watch_id}")
    db.delete(target)
    return {**_watch_view(target), "removed": True}


def _watch_view(target: WatchTarget) -> dict:
    return {"id": target.id, "url": target.url, "scope": target.scope, "created_at": _iso(target.created_at)}


def add_portfolio(db: Session, owner: str, raw_url, *, budget: Budget) -> dict:
    """The owner's own site: crawled to catalogue their images, and never a place for hits."""
    url = _url(raw_url)
    host = domain(url)
    taken = db.scalar(select(OwnDomain).where(OwnDomain.domain == host, OwnDomain.owner != owner))
    if taken is not None:
        raise Conflict(f"{host} is already recorded as another rights-holder's own site")
    existing = db.scalar(select(OwnDomain).where(OwnDomain.owner == owner, OwnDomain.domain == host))
    if existing is None:
        existing = OwnDomain(owner=owner, domain=host, portfolio_url=url)
        db.add(existing)
    frontier.add_url(db, url, budget, owner=owner)
    db.flush()
    return _portfolio_view(existing)


def list_portfolios(db: Session, owner: str) -> list[dict]:
    return [_portfolio_view(own) for own in db.scalars(select(OwnDomain).where(OwnDomain.owner == owner)
                                                       .order_by(OwnDomain.id))]


def remove_portfolio(db: Session, owner: str, portfolio_id: int) -> dict:
    """The domain is no longer the owner's own: copies of their images there become hits. Its pages
    are due again and read as new (no ETag, no content hash), so those hits appear at the next
    pass instead of when a page next changes."""
    own = _own_portfolio(db, owner, portfolio_id)
    db.delete(own)
    hosts = _hosts_on(db, own.domain)
    if hosts:
        db.execute(update_rows(CrawlUrl).where(CrawlUrl.host_id.in_(hosts), CrawlUrl.kind == "page")
                   .values(next_crawl_at=now(), etag=None, last_modified=None, content_sha256=None))
    return {**_portfolio_view(own), "removed": True}


def portfolio(db: Session, matcher, owner: str, portfolio_id: int, *, limit: int = 100, offset: int = 0) -> dict:
    """The images the crawler found on the owner's site so far, in the order it found them, each
    marked `registered` when it is (a copy of) one of the owner's registrations, with the
    registration id; `total` counts them all."""
    own = _own_portfolio(db, owner, portfolio_id)
    hosts = _hosts_on(db, own.domain)
    first_page = (select(CrawlEmbed.image_id, func.min(CrawlUrl.url).label("page_url"))
                  .join(CrawlUrl, CrawlUrl.id == CrawlEmbed.page_url_id)
                  .where(CrawlUrl.host_id.in_(hosts))
                  .group_by(CrawlEmbed.image_id)).subquery()
    found = (select(CrawlImage.id, CrawlImage.url, CrawlImage.sha256, CrawlPrint.fingerprint, CrawlPrint.width,
                    CrawlPrint.height, first_page.c.page_url)
             .join(first_page, first_page.c.image_id == CrawlImage.id)
             .join(CrawlPrint, CrawlPrint.sha256 == CrawlImage.sha256))
    total = db.scalar(select(func.count()).select_from(found.subquery())) if hosts else 0
    images = []
    for _, image_url, sha, print_bytes, width, height, page_url in (
            db.execute(found.order_by(CrawlImage.id).limit(limit).offset(offset)) if hosts else ()):
        mine = [m for m in find_registrations(db, matcher, sha, Fingerprint.from_bytes(print_bytes))
                if m["owner"] == owner]
        images.append({"image_url": image_url, "page_url": page_url, "sha256": sha, "width": width,
                       "height": height, "registered": bool(mine), "registration_id": mine[0]["id"] if mine else None})
    return {**_portfolio_view(own), "images": images, "total": total, "limit": limit, "offset": offset}


def import_images(database, store, fetcher, owner: str, portfolio_id: int, raw_urls, *, limits,
                  max_bytes: int) -> dict:
    """Fetch images the crawler found on the owner's own site and add them to the owner's images,
    ready to register (`upload_image`, as an upload through the API). Only images catalogued on
    that site are fetched, through the crawler's fetcher and its address rules, so this fetches
    nothing a visitor could not have the crawler fetch anyway. One failure skips one image."""
    from backend.registry.uploads import upload_image

    if (not isinstance(raw_urls, list) or not 1 <= len(raw_urls) <= MAX_IMPORT
            or not all(isinstance(u, str) and u.strip() for u in raw_urls)):
        raise InvalidInput(f"send 'image_urls': a list of 1 to {MAX_IMPORT} image addresses from the site's catalogue")
    urls = list(dict.fromkeys(raw_urls))
    with database.session() as db:
        own = _own_portfolio(db, owner, portfolio_id)
        hosts = _hosts_on(db, own.domain)
        found = set(db.scalars(
            select(CrawlImage.url).join(CrawlEmbed, CrawlEmbed.image_id == CrawlImage.id)
            .join(CrawlUrl, CrawlUrl.id == CrawlEmbed.page_url_id)
            .where(CrawlUrl.host_id.in_(hosts), CrawlImage.url.in_(urls)))) if hosts else set()
    skipped = [{"image_url": u, "reason": f"not an image the crawler found on {own.domain}"}
               for u in urls if u not in found]
    fetched = []
    for url in (u for u in urls if u in found):  # no database session is open while fetching
        try:
            response = fetcher.fetch(url, max_bytes=max_bytes)
        except (FetchRefused, FetchFailed) as exc:
            skipped.append({"image_url": url, "reason": exc.message})
            continue
        if response.status != 200 or response.truncated:
            why = f"HTTP {response.status}" if response.status != 200 else f"larger than {max_bytes} bytes"
            skipped.append({"image_url": url, "reason": why})
            continue
        fetched.append((url, response.body))
    imported = []
    for url, body in fetched:
        try:
            with database.session() as db:  # one image a transaction: a bad one leaves the others
                upload = upload_image(db, store, owner, body, filename=url.rsplit("/", 1)[-1][:255] or None,
                                      title=None, collection=None, category=None, limits=limits)
                imported.append({"image_url": url, "image_id": upload.image.id, "created": upload.created})
        except DomainError as exc:
            skipped.append({"image_url": url, "reason": exc.message})
    return {"imported": imported, "skipped": skipped}


def _own_portfolio(db: Session, owner: str, portfolio_id: int) -> OwnDomain:
    own = db.get(OwnDomain, portfolio_id)
    if own is None or own.owner != owner:
        raise NotFound(f"you have no portfolio {portfolio_id}")
    return own


def _portfolio_view(own: OwnDomain) -> dict:
    return {"id": own.id, "domain": own.domain, "url": own.portfolio_url, "created_at": _iso(own.created_at)}


def _hosts_on(db: Session, name: str) -> list[int]:
    """The crawled hosts on domain `name` or under it (any scheme and port)."""
    pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return [host for host, origin in db.execute(select(CrawlHost.id, CrawlHost.origin)
                                                .where(CrawlHost.origin.like(pattern, escape="\\")))
            if on_domain(domain(origin), name)]
