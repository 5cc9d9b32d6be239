"""Opening a case from the rights-holder's hits: one case per domain and registration, from the
hits they marked illegal there, after a viability check that says everything that failed.

What the check reads, all of it now and none of it from the caller:
- the hits (`Hit.verdict == "illegal"`, the caller's own: another owner's hits are not found);
- the site, with the crawler's `Fetcher` (same SSRF rules, robots.txt and politeness): its
  imprint, contact pages, `mailto:` links and security.txt for the address to write to and the
  country it answers to (`contacts.py`, `country.py`), and the copy itself, re-fetched: its
  bytes must still be a copy of the registered image (same bytes, or the matcher recognises it);
- the mandate the owner signed, as the chain indexer recorded it (`Mandate`), with its
  signature read back from the transaction that submitted it;
- the owner's price for the use (`pricing.owner_price`), priced for the site's jurisdiction;
- and every check of `cases.viability_failures` (registration final and out of its claim
  window, verification level, jurisdiction, contact, no case yet, licence, whitelist).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.crawler import Fetcher, FetchResult
from backend.crawler.models import Hit
from backend.enforcement.cases import (
    CaseNotViable,
    Enforcement,
    FoundCopy,
    OpenedCase,
    Recipient,
    open_case,
    viability_failures,
)
from backend.enforcement.contacts import FetchedPage, discover_contacts
from backend.enforcement.country import detect_country
from backend.enforcement.owner import _as_json
from backend.enforcement.pricing import Claim, owner_price, price_claim
from backend.errors import DomainError, InvalidInput, NotFound
from backend.marketplace.models import Mandate
from backend.marketplace.typed_data import LICENCE_TYPES, MANDATE_FIELDS, mandate_typed_data, normalise_domain
from backend.matching import InvalidImage, fingerprint
from backend.registry.lookup import find_registrations


@dataclass(frozen=True)
class Terms:
    """What the owner asks for, beyond the registration and domain (all optional)."""

    licence_type: str = "standard"
    damages_factor: Decimal | str = Decimal(1)
    minimum: int | None = None
    notify_email: str | None = None


class SiteReader:
    """The fetcher case openings read infringers' sites with, shared by every request of the
    process (one robots.txt cache, one delay per site however many people check at once), and
    what each site answered in the last `remember` seconds: opening a case right after checking
    it reads nothing again, where it used to fetch the copy, the contact pages and robots.txt a
    second time (at the default 2 s delay, about as long again). Network errors and refusals
    are not remembered: the next check tries again. At most `max_bytes` of bodies are kept (a
    copy may be an image of many megabytes), the oldest answers dropped first."""

    def __init__(self, fetcher: Fetcher, remember: float = 600.0, clock=time.monotonic,
                 max_bytes: int = 64 * 1024 * 1024):
        self.fetcher = fetcher
        self.remember = remember
        self.clock = clock
        self.max_bytes = max_bytes
        self.answers: OrderedDict[str, tuple[float, FetchResult]] = OrderedDict()
        self.kept_bytes = 0
        self.lock = threading.Lock()

    def fetch(self, url: str) -> FetchResult:
        with self.lock:
            kept = self.answers.get(url)
            if kept is not None and self.clock() - kept[0] < self.remember:
                return kept[1]
        result = self.fetcher.fetch(url)  # refused or failed: raised, not remembered
        with self.lock:
            self._forget(url)
            self.answers[url] = (self.clock(), result)
            self.kept_bytes += len(result.body)
            while self.kept_bytes > self.max_bytes:
                self._forget(next(iter(self.answers)))
        return result

    def _forget(self, url: str) -> None:
        kept = self.answers.pop(url, None)
        if kept is not None:
            self.kept_bytes -= len(kept[1].body)

    def close(self) -> None:
        self.fetcher.close()


@dataclass
class Opening:
    """What opening a case from hits needs (`Services.case_opening()`)."""

    env: Enforcement
    reader: SiteReader
    matcher: object  # backend.registry.matcher.RegisteredImages
    store: object  # the IPFS store: the re-fetched copy is kept as the case's evidence


@dataclass
class Assessment:
    registration_id: str
    domain: str
    failures: list[str]
    copy: FoundCopy
    country: dict
    contacts: list[dict]
    recipient: Recipient
    claim: Claim | None
    mandate: dict | None
    copy_bytes: bytes | None = field(default=None, repr=False)

    def as_dict(self) -> dict:
        return {
            "registration_id": self.registration_id, "domain": self.domain, "viable": not self.failures,
            "failures": self.failures, "country": self.country, "contacts": self.contacts,
            "recipient": {"name": self.recipient.name, "email": self.recipient.email or None},
            "claim": self.claim.as_dict() if self.claim else None,
            "copy": {"hit_ids": list(self.copy.hit_ids), "page_url": self.copy.page_url,
                     "image_url": self.copy.image_url, "found_at": self.copy.found_at.isoformat(),
                     "still_online": self.copy_bytes is not None},
        }


def _fetch(reader: SiteReader, url: str) -> FetchResult | None:
    try:
        result = reader.fetch(url)
    except DomainError:  # refused (address, robots.txt) or failed: as good as not there
        return None
    return result if result.status == 200 and not result.truncated else None


def _page(reader: SiteReader, url: str) -> FetchedPage | None:
    result = _fetch(reader, url)
    if result is None:
        return None
    charset = (result.header("content-type") or "").partition("charset=")[2].split(";")[0].strip() or "utf-8"
    try:
        return FetchedPage(result.url, result.body.decode(charset, errors="replace"))
    except LookupError:  # a charset Python does not know
        return FetchedPage(result.url, result.body.decode("utf-8", errors="replace"))


def _resolver(fetcher: Fetcher):
    def resolve(host: str) -> list[str]:
        try:
            return fetcher.transport.resolver(host)
        except DomainError:
            return []
    return resolve


def illegal_hits(db: Session, owner: str, registration_id: str, domain: str) -> list[Hit]:
    """The owner's hits marked illegal for the registration on `domain`, newest first."""
    hits = db.scalars(select(Hit).where(Hit.owner == owner, Hit.registration_id == registration_id,
                                        Hit.domain == domain, Hit.verdict == "illegal")
                      .order_by(Hit.last_seen_at.desc(), Hit.id.desc())).all()
    if not hits:
        raise NotFound(f"you have no hit marked illegal for registration {registration_id} on {domain}; "
                       "mark the hits there illegal first (triage)")
    return hits


def recorded_mandate(env: Enforcement, db: Session, owner: str, registration_id: str) -> dict | None:
    """The owner's newest mandate covering the registration (or all of theirs) as the indexer saw
    it, with the signature read back from the transaction that recorded it; None if there is none
    (or it was submitted through another contract, whose input this cannot read)."""
    now = env.chain_now()
    row = db.scalar(select(Mandate).where(
        Mandate.owner == owner, Mandate.revoked.is_(False), Mandate.expiry > now,
        or_(Mandate.registration_id == registration_id, Mandate.registration_id.is_(None)),
    ).order_by(Mandate.block_number.desc(), Mandate.id.desc()).limit(1))
    if row is None:
        return None
    tx = env.escrow.w3.eth.get_transaction(row.tx_hash)
    try:
        function, arguments = env.escrow.contract.decode_function_input(tx["input"])
    except ValueError:
        return None
    if function.fn_name != "submit_mandate":
        return None
    raw = arguments["mandate"]  # a dict of the struct's fields, or a tuple in their order
    message = dict(raw) if isinstance(raw, dict) else {f["name"]: v for f, v in zip(MANDATE_FIELDS, raw)}
    typed = mandate_typed_data(env.escrow.w3.eth.chain_id, env.escrow.address, message)
    return {"typed_data": _as_json(typed), "signature": "0x" + bytes(arguments["signature"]).hex()}


def _still_a_copy(opening: Opening, db: Session, registration_id: str, hit: Hit) -> bytes | None:
    """The copy's bytes as fetched now, if they are still a copy of the registered image."""
    result = _fetch(opening.reader, hit.image_url)
    if result is None:
        return None
    sha256 = "0x" + hashlib.sha256(result.body).hexdigest()
    if sha256 == hit.image_sha256:
        return result.body
    try:
        print_ = fingerprint(result.body)
    except InvalidImage:
        return None
    matches = find_registrations(db, opening.matcher, sha256, print_)
    return result.body if any(m["id"] == registration_id for m in matches) else None


def assess(opening: Opening, owner: str, registration_id: str, domain: str, terms: Terms = Terms()) -> Assessment:
    """Every check of a case for the owner's illegal hits of `registration_id` on `domain`."""
    env = opening.env
    registration_id, domain = registration_id.lower(), _domain(domain)
    if terms.licence_type not in LICENCE_TYPES:
        raise InvalidInput(f"unknown licence type {terms.licence_type!r}; one of {sorted(LICENCE_TYPES)}")
    with env.database.session() as db:
        hits = illegal_hits(db, owner, registration_id, domain)
        latest = next((h for h in hits if h.status == "active"), hits[0])
        copy = FoundCopy(tuple(sorted(h.id for h in hits)), latest.page_url, latest.image_url,
                         min(h.found_at for h in hits), latest.evidence_cid, latest.copy_cid)
        copy_bytes = _still_a_copy(opening, db, registration_id, latest)
        contacts = discover_contacts(latest.page_url, lambda url: _page(opening.reader, url))
        detection = detect_country(domain, contacts.imprint_text, _resolver(opening.reader.fetcher))
        recipient = Recipient(domain, contacts.best_email or "")
        failures = viability_failures(env, db, registration_id=registration_id, rights_holder=owner, domain=domain,
                                      country=detection.country, recipient_email=recipient.email,
                                      still_online=copy_bytes is not None)
        mandate = recorded_mandate(env, db, owner, registration_id)
        if mandate is None and env.escrow.has_mandate(int(registration_id, 16)):
            failures.append("the mandate is on the escrow but the chain indexer has not recorded it yet; try again "
                            "in a minute")
        claim = None
        jurisdiction = env.jurisdictions.supported(detection.country)
        price = owner_price(db, registration_id, owner, terms.licence_type, env.chain_now())
        if price is None:
            failures.append(f"you have no price for a {terms.licence_type} licence of this image: publish a marketplace "
                            "offer or set a price for its collection")
        elif jurisdiction is not None:
            licence_price, minimum = price
            claim = price_claim(licence_price, jurisdiction, damages_factor=terms.damages_factor,
                                minimum=terms.minimum if terms.minimum is not None else minimum)
    return Assessment(registration_id, domain, failures, copy, detection.as_dict(),
                      [{"address": c.address, "source": c.source, "found_at": c.found_at} for c in contacts.contacts],
                      recipient, claim, mandate, copy_bytes)


def _domain(domain: str) -> str:
    try:
        return normalise_domain(domain)
    except ValueError as error:
        raise InvalidInput(f"domain: {error}; send a host name such as shop.example.de") from None


def open_from_hits(opening: Opening, owner: str, registration_id: str, domain: str, terms: Terms = Terms()) -> OpenedCase:
    """Opens the case if every check passes (then the post-licensing letter goes out), else raises
    `CaseNotViable` listing every failure; nothing is written in that case."""
    assessment = assess(opening, owner, registration_id, domain, terms)
    if assessment.failures:
        raise CaseNotViable("the case cannot be opened: " + "; ".join(assessment.failures),
                            failures=assessment.failures, country=assessment.country)
    copy = assessment.copy
    if copy.copy_cid is None:  # the crawler kept no copy of the bytes: the re-fetch is the evidence
        copy = FoundCopy(copy.hit_ids, copy.page_url, copy.image_url, copy.found_at, copy.warc_cid,
                         opening.store.add(assessment.copy_bytes))
    return open_case(opening.env, registration_id=assessment.registration_id, rights_holder=owner, copy=copy,
                     recipient=assessment.recipient, country=assessment.country["country"], claim=assessment.claim,
                     mandate=assessment.mandate, still_online=True,
                     owner_email=terms.notify_email)
