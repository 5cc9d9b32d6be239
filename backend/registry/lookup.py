"""Who registered this image? Exact and perceptual matches against final registrations."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend.matching import Fingerprint
from backend.models import Registration, Verification
from backend.registry.images import ImageLimits, inspect_image
from backend.registry.matcher import Hit, RegisteredImages


def registration_view(db: Session, registration: Registration) -> dict:
    verification = db.get(Verification, registration.owner)
    return {
        "id": registration.id,
        "owner": registration.owner,
        "verification_level": verification.level if verification else 0,
        "registered_at": registration.registered_at,
        "tx_hash": registration.tx_hash,
        "block_number": registration.block_number,
        "cid": registration.cid,
        "phash": registration.phash,
        "parent": registration.parent,
    }


def hit_view(db: Session, hit: Hit) -> dict:
    """A registration an image matched: `match` is `exact` (same bytes) or `perceptual`; `kind`
    says what the matcher recognised (whole image, flip, rotation, region, or pHash only)."""
    return {
        **registration_view(db, hit.registration),
        "match": "exact" if hit.match == "exact" else "perceptual",
        "kind": "whole" if hit.match == "exact" else hit.match,
        "score": round(hit.score, 4),
        "distance": hit.distance,
    }


def find_registrations(db: Session, matcher: RegisteredImages, sha256: str, print_: Fingerprint, *,
                       exclude_owner: str | None = None, limit: int = 20) -> list[dict]:
    """Registrations of the same bytes or of an image this one is a copy of, best first."""
    return find_registrations_of_many(db, matcher, [(sha256, print_)], exclude_owner=exclude_owner, limit=limit)[0]


def find_registrations_of_many(db: Session, matcher: RegisteredImages, images: list[tuple[str, Fingerprint]], *,
                               exclude_owner: str | None = None, limit: int = 20) -> list[list[dict]]:
    """`find_registrations` for several images (sha256, fingerprint) at once, in their order."""
    return [[hit_view(db, h) for h in hits]
            for hits in matcher.find_many(db, images, exclude_owner=exclude_owner, limit=limit)]


def lookup(db: Session, matcher: RegisteredImages, data: bytes, limits: ImageLimits) -> dict:
    facts = inspect_image(data, limits)
    return {
        "sha256": facts.sha256,
        "phash": facts.phash,
        "matches": find_registrations(db, matcher, facts.sha256, facts.fingerprint),
    }
