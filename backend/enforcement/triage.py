"""Triage of hits: the owner's verdict on each (legal, illegal, unsure, not a match), in bulk over
ids or a filter, and the domains they allow (the whitelist).

`illegal` is refused for hits that are automatically legal: on a whitelisted domain, on the
owner's own domain, or on a domain holding a valid licence for the image on the marketplace (asked
on-chain at triage time). `not_a_match` records a negative pair, so the crawler never records that
registration and those copy bytes as a hit again.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.crawler.crawler import own_domain, whitelisted
from backend.crawler.frontier import insert_ignore, now
from backend.crawler.models import Hit, NegativePair, WhitelistedDomain
from backend.crawler.service import VERDICTS, hits_query
from backend.crawler.urls import normalise
from backend.crawler.urls import domain as host_of
from backend.errors import InvalidInput, NotFound

MAX_BULK = 1000  # hits one triage request may change
MAX_IDS = 1000
MAX_WHITELIST = 1000  # domains per owner


def triage(db: Session, owner: str, verdict, *, hit_ids=None, filters: dict | None = None,
           is_licensed: Callable[[str, str], bool] | None = None) -> dict:
    """Give `verdict` to the owner's hits named by `hit_ids` or kept by `filters` (at most
    MAX_BULK); {"updated": n, "skipped": [{"id", "reason"}]}. Another owner's hit is "not found"."""
    if verdict not in VERDICTS:
        raise InvalidInput(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    if (hit_ids is None) == (filters is None):
        raise InvalidInput("send either 'hit_ids' (a list of hit ids) or 'filter' (the filters of GET /api/v1/hits)")
    skipped = []
    if hit_ids is not None:
        wanted = _ids(hit_ids)
        found = {h.id: h for h in db.scalars(select(Hit).where(Hit.id.in_(wanted), Hit.owner == owner))}
        hits = [found[i] for i in wanted if i in found]
        skipped += [{"id": i, "reason": "not found: you have no such hit"} for i in wanted if i not in found]
    else:
        query = hits_query(db, owner, **filters).order_by(Hit.id)
        hits = list(db.scalars(query.limit(MAX_BULK + 1)))
        if len(hits) > MAX_BULK:
            raise InvalidInput(f"the filter keeps more than {MAX_BULK} hits; narrow it (e.g. by domain or "
                               "registration) and triage them in parts")
    updated = 0
    for hit in hits:
        if verdict == "illegal":
            reason = automatically_legal(db, hit, is_licensed)
            if reason is not None:
                skipped.append({"id": hit.id, "reason": reason})
                continue
        hit.verdict, hit.verdict_by, hit.verdict_at = verdict, "owner", now()
        if verdict == "not_a_match":
            insert_ignore(db, NegativePair, {"registration_id": hit.registration_id,
                                             "image_sha256": hit.image_sha256, "owner": owner},
                          ["registration_id", "image_sha256"])
        updated += 1
    db.flush()
    return {"updated": updated, "skipped": skipped}


def _ids(raw) -> list[int]:
    """The distinct hit ids of a request, in its order (JSON's 7.0 is the integer 7)."""
    def whole(i) -> bool:
        return (isinstance(i, int) and not isinstance(i, bool)) or (isinstance(i, float) and i.is_integer())

    if (not isinstance(raw, list) or not raw or len(raw) > MAX_IDS
            or not all(whole(i) and 0 < i < 2**31 for i in raw)):
        raise InvalidInput(f"'hit_ids' must be a list of 1 to {MAX_IDS} hit ids (positive integers)")
    return list(dict.fromkeys(int(i) for i in raw))


def automatically_legal(db: Session, hit: Hit, is_licensed: Callable[[str, str], bool] | None) -> str | None:
    """Why `hit` is legal whatever the owner says, or None."""
    if whitelisted(db, hit.owner, hit.domain):
        return f"{hit.domain} is on your whitelist"
    if own_domain(db, hit.owner, hit.domain):
        return f"{hit.domain} is your own site"
    if is_licensed is not None and is_licensed(hit.registration_id, hit.domain):
        return f"{hit.domain} holds a valid licence for this image on the marketplace"
    return None


def _domain(raw) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 253:
        raise InvalidInput("send 'domain': a host name such as example.org (at most 253 characters)")
    try:
        host = host_of(normalise(raw if "://" in raw else "https://" + raw.strip()))
    except InvalidInput:
        host = ""
    if not host or "." not in host:
        raise InvalidInput(f"{raw!r} is not a host name such as example.org")
    return host


def add_whitelist(db: Session, owner: str, raw) -> dict:
    """Allow a domain: the owner's hits on it (and its subdomains) become legal, now and when found later."""
    host = _domain(raw)
    count = len(list_whitelist(db, owner))
    if count >= MAX_WHITELIST:
        raise InvalidInput(f"you have {count} whitelisted domains, the limit; remove one first")
    insert_ignore(db, WhitelistedDomain, {"owner": owner, "domain": host}, ["owner", "domain"])
    moved = db.execute(update(Hit).where(
        Hit.owner == owner, (Hit.domain == host) | Hit.domain.endswith("." + host),
        (Hit.verdict.is_(None)) | (Hit.verdict.in_(("illegal", "unsure"))))
        .values(verdict="legal", verdict_by="whitelist", verdict_at=now())).rowcount
    return {"domain": host, "hits_made_legal": moved}


def list_whitelist(db: Session, owner: str) -> list[str]:
    return list(db.scalars(select(WhitelistedDomain.domain).where(WhitelistedDomain.owner == owner)
                           .order_by(WhitelistedDomain.domain)))


def remove_whitelist(db: Session, owner: str, raw) -> str:
    """Stop allowing a domain; hits already judged legal by it keep their verdict."""
    host = _domain(raw)
    entry = db.scalar(select(WhitelistedDomain).where(WhitelistedDomain.owner == owner,
                                                      WhitelistedDomain.domain == host))
    if entry is None:
        raise NotFound(f"{host} is not on your whitelist")
    db.delete(entry)
    return host
