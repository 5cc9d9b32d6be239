"""Uploads: an image is checked, fingerprinted and stored (IPFS and database) before the chain
is asked anything, so a chain node that is down costs nothing; the registration can be sent later.
"""

from __future__ import annotations

from dataclasses import dataclass

import re

from eth_utils import is_hex
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import InvalidInput, NotFound
from backend.matching import Fingerprint
from backend.models import Category, Collection, Image, Registration
from backend.registry.groups import group_by_name
from backend.registry.images import ImageLimits, inspect_image
from backend.text import check_text

TITLE_LIMIT = 300
STATUSES = ("uploaded", "committed", "submitted", "registered", "conflict")
TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


@dataclass
class Upload:
    image: Image
    created: bool  # False when the owner had uploaded the same bytes before
    fingerprint: Fingerprint


def upload_image(
    db: Session,
    store,
    owner: str,
    data: bytes,
    *,
    filename: str | None,
    title: str | None,
    collection: str | None,
    category: str | None,
    parent: str | None = None,
    limits: ImageLimits,
) -> Upload:
    title = _clean_title(title)
    # Resolve names before storing anything: an unknown collection must not leave a stored file.
    parent = final_registration_id(db, parent) if parent else None
    collection_row = group_by_name(db, Collection, owner, collection)
    category_row = group_by_name(db, Category, owner, category)
    facts = inspect_image(data, limits)
    existing = db.scalar(select(Image).where(Image.owner == owner, Image.sha256 == facts.sha256))
    if existing is not None:
        existing.fingerprint = facts.fingerprint.to_bytes()  # refreshed in case its format changed
        return Upload(existing, created=False, fingerprint=facts.fingerprint)
    cid = store.add(data)
    image = Image(
        owner=owner,
        sha256=facts.sha256,
        phash=facts.phash,
        fingerprint=facts.fingerprint.to_bytes(),
        cid=cid,
        title=(title or None),
        filename=(filename or None),
        mime=facts.mime,
        width=facts.width,
        height=facts.height,
        size=facts.size,
        collection=collection_row,
        category=category_row,
        parent=parent,
        status="uploaded",
    )
    try:
        with db.begin_nested():
            db.add(image)
    except IntegrityError:
        # The same owner uploaded the same bytes at the same moment and the other request won:
        # answer as a sequential duplicate would (the stored file is the same content either way).
        existing = db.scalar(select(Image).where(Image.owner == owner, Image.sha256 == facts.sha256))
        if existing is None:
            raise
        return Upload(existing, created=False, fingerprint=facts.fingerprint)
    _refresh_status(db, image)
    return Upload(image, created=True, fingerprint=facts.fingerprint)


def _clean_title(title) -> str | None:
    if title is None:
        return None
    if not isinstance(title, str) or len(title) > TITLE_LIMIT:
        raise InvalidInput(f"'title' must be text of at most {TITLE_LIMIT} characters")
    return check_text(title, "'title'") or None


def final_registration_id(db: Session, value) -> str:
    """A registration id given by a user: well-formed, and final on the chain."""
    if not (isinstance(value, str) and is_hex(value) and len(value.removeprefix("0x")) == 64):
        raise InvalidInput("a registration id is the 0x-prefixed SHA-256 of the file (64 hex digits)")
    reg_id = "0x" + value.removeprefix("0x").lower()
    if db.get(Registration, reg_id) is None:
        raise NotFound(f"no final registration {reg_id} (it may still be waiting for confirmations)")
    return reg_id


def _refresh_status(db: Session, image: Image) -> None:
    registration = db.get(Registration, image.sha256)
    if registration is not None:
        image.status = "registered" if registration.owner == image.owner else "conflict"
        if registration.owner == image.owner:
            image.tx_hash = registration.tx_hash


def get_image(db: Session, owner: str, image_id: int) -> Image:
    image = db.get(Image, image_id)
    # Someone else's image is "not found" too: nobody learns which ids exist.
    if image is None or image.owner != owner:
        raise NotFound(f"no image {image_id} of yours")
    return image


def list_images(db: Session, owner: str, *, collection: str | None = None, category: str | None = None,
                status: str | None = None, limit: int = 100, offset: int = 0) -> list[Image]:
    query = select(Image).where(Image.owner == owner)
    if collection:
        query = query.where(Image.collection_id == group_by_name(db, Collection, owner, collection).id)
    if category:
        query = query.where(Image.category_id == group_by_name(db, Category, owner, category).id)
    if status:
        if status not in STATUSES:
            raise InvalidInput(f"'status' must be one of {', '.join(STATUSES)}")
        query = query.where(Image.status == status)
    return list(db.scalars(query.order_by(Image.id).limit(limit).offset(offset)))


def update_image(db: Session, owner: str, image_id: int, changes: dict) -> Image:
    """Retitle an image or move it between collections/categories (null/empty removes it)."""
    unknown = set(changes) - {"title", "collection", "category"}
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}; changeable: title, collection, category")
    image = get_image(db, owner, image_id)
    if "title" in changes:
        image.title = _clean_title(changes["title"])
    if "collection" in changes:
        image.collection = group_by_name(db, Collection, owner, changes["collection"])
    if "category" in changes:
        image.category = group_by_name(db, Category, owner, changes["category"])
    return image


def record_submission(db: Session, register, owner: str, image_id: int, tx_hash) -> Image:
    """The owner's wallet sent the register transaction; remember it until the indexer sees it.

    Only a transaction the chain knows, sent by the owner to the register and registering this
    image's bytes, moves the image to `submitted`."""
    image = get_image(db, owner, image_id)
    if not (isinstance(tx_hash, str) and TX_HASH.match(tx_hash)):
        raise InvalidInput("'tx_hash' must be a 0x-prefixed 32-byte transaction hash (64 hex digits)")
    if image.status in ("uploaded", "submitted"):
        register().check_register_transaction(tx_hash, owner, image.sha256)
        image.status = "submitted"
        image.tx_hash = tx_hash.lower()
    return image
