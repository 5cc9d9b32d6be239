"""Which registrations is an image a copy of? The matching index over final registrations.

The index (`backend.matching.MatchIndex`) holds the fingerprints of registered images, keyed by
registration id. It follows the indexer's `Registered` events: a registration whose bytes we
hold (an upload through this backend, or a file in our IPFS store) is fingerprinted and added.
Registrations made elsewhere whose file we cannot read are compared by their on-chain 64-bit
pHash instead. Results are checked against the registrations table, so a registration dropped
by a reorg is never reported.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.matching import Fingerprint, InvalidImage, MatchIndex, fingerprint
from backend.models import ChainEvent, Image, Registration
from backend.registry.similarity import hamming

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    registration: Registration
    match: str  # "exact"; what the matcher recognised: "whole", "flip", "rotation", "region"; or "phash"
    score: float
    distance: int  # pHash distance, for people who compare by eye


class RegisteredImages:
    def __init__(self, store, *, max_bytes: int, phash_distance: int):
        self.store = store
        self.max_bytes = max_bytes
        self.phash_distance = phash_distance
        self.index = MatchIndex()
        self.by_phash: dict[str, int] = {}  # registrations we could not fingerprint
        self.synced_event = 0
        self.lock = threading.Lock()

    def sync(self, db: Session) -> int:
        """Add the registrations the indexer has made final since the last sync."""
        added = 0
        events = select(ChainEvent).where(ChainEvent.id > self.synced_event, ChainEvent.name == "Registered")
        for event in db.scalars(events.order_by(ChainEvent.id)):
            reg_id = event.registration_id
            if reg_id not in self.index and reg_id not in self.by_phash:
                print_ = self._fingerprint_of(db, reg_id)
                if print_ is not None:
                    self.index.add(reg_id, print_)
                    added += 1
                else:
                    self.by_phash[reg_id] = int(event.args["phash"])
            self.synced_event = event.id
        return added

    def _fingerprint_of(self, db: Session, reg_id: str) -> Fingerprint | None:
        stored = db.scalar(
            select(Image.fingerprint).where(Image.sha256 == reg_id, Image.fingerprint.is_not(None)).limit(1)
        )
        if stored is not None:
            try:
                return Fingerprint.from_bytes(stored)
            except ValueError:
                pass  # written by an older fingerprint format: compute it again from the file
        registration = db.get(Registration, reg_id)
        if registration is None:
            return None
        try:
            if not self.store.has(registration.cid):
                return None
            data = self.store.cat(registration.cid)
            return fingerprint(data) if len(data) <= self.max_bytes else None
        except InvalidImage as exc:
            log.info("registration %s: its file is not an image we can fingerprint (%s)", reg_id, exc)
        except Exception as exc:  # the IPFS store is down or the content is damaged: pHash only
            log.warning("registration %s: cannot read %s from IPFS (%s)", reg_id, registration.cid, exc)
        return None

    def find(self, db: Session, sha256: str, print_: Fingerprint, *, exclude_owner: str | None = None,
             limit: int = 20) -> list[Hit]:
        """Registrations of the same bytes, then registered images this one is a copy of."""
        with self.lock:
            self.sync(db)
            matches = self.index.search(print_, limit=limit + 1)
            near = [(reg_id, hamming(print_.phash64, phash)) for reg_id, phash in self.by_phash.items()
                    if hamming(print_.phash64, phash) <= self.phash_distance]
        hits: dict[str, Hit] = {}
        exact = db.get(Registration, sha256)
        if exact is not None:
            hits[sha256] = Hit(exact, "exact", 1.0, 0)
        for match in matches:
            registration = db.get(Registration, match.key)
            if registration is not None and match.key not in hits:
                hits[match.key] = Hit(registration, match.kind, match.score,
                                      hamming(print_.phash64, int(registration.phash, 16)))
        for reg_id, distance in near:
            registration = db.get(Registration, reg_id)
            if registration is not None and reg_id not in hits:
                hits[reg_id] = Hit(registration, "phash", 1 - distance / 64, distance)
        ordered = sorted(hits.values(), key=lambda h: (h.match != "exact", -h.score))
        return [h for h in ordered if h.registration.owner != exclude_owner][:limit]
