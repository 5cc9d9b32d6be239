"""Uploads, collections and categories, and what a rights-holder needs to register an image.

Nothing here knows HTTP. An upload is stored (IPFS and database) before the chain is asked
anything, so a chain node that is down costs nothing: the registration can be fetched and sent
later.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Type

from eth_utils import is_hex, to_checksum_address
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.chain.register import Item, RegisterContract, registration_id
from backend.errors import ChainRejected, ChainUnavailable, Conflict, Forbidden, InvalidInput, NotFound
from backend.models import Category, Collection, Image, Registration, Verification
from backend.registry.images import inspect_image
from backend.matching import Fingerprint
from backend.registry.matcher import Hit, RegisteredImages

NAME_LIMIT = 200
TITLE_LIMIT = 300
MIN_RELAY_TIME = 60  # seconds a signed message must stay valid for the commit and the reveal
SECP256K1_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
STATUSES = ("uploaded", "committed", "submitted", "registered", "conflict")

Grouping = Type[Collection] | Type[Category]


# -- collections and categories ---------------------------------------------------------------
def _clean_name(kind: str, name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"a {kind} needs a non-empty 'name'")
    name = name.strip()
    if len(name) > NAME_LIMIT:
        raise InvalidInput(f"a {kind} name has at most {NAME_LIMIT} characters, this one has {len(name)}")
    return name


def _kind(model: Grouping) -> str:
    return "collection" if model is Collection else "category"


def create_group(db: Session, model: Grouping, owner: str, name) -> Collection | Category:
    name = _clean_name(_kind(model), name)
    if db.scalar(select(model).where(model.owner == owner, model.name == name)):
        raise Conflict(f"you already have a {_kind(model)} named {name!r}")
    group = model(owner=owner, name=name)
    db.add(group)
    db.flush()
    return group


def rename_group(db: Session, model: Grouping, owner: str, group_id: int, name) -> Collection | Category:
    group = get_group(db, model, owner, group_id)
    name = _clean_name(_kind(model), name)
    clash = db.scalar(select(model).where(model.owner == owner, model.name == name, model.id != group.id))
    if clash:
        raise Conflict(f"you already have a {_kind(model)} named {name!r}")
    group.name = name
    return group


def get_group(db: Session, model: Grouping, owner: str, group_id: int) -> Collection | Category:
    group = db.get(model, group_id)
    if group is None or group.owner != owner:
        raise NotFound(f"no {_kind(model)} {group_id} of yours")
    return group


def list_groups(db: Session, model: Grouping, owner: str) -> list:
    return list(db.scalars(select(model).where(model.owner == owner).order_by(model.name)))


def group_by_name(db: Session, model: Grouping, owner: str, name: str | None):
    """The owner's collection/category called `name`; an unknown name is an error, not a surprise."""
    if name is None or name == "":
        return None
    name = _clean_name(_kind(model), name)
    group = db.scalar(select(model).where(model.owner == owner, model.name == name))
    if group is None:
        raise NotFound(f"you have no {_kind(model)} named {name!r}; create it first", name=name)
    return group


# -- uploads ----------------------------------------------------------------------------------
@dataclass
class Upload:
    image: Image
    created: bool  # False when the owner had uploaded the same bytes before


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
    max_bytes: int,
    max_pixels: int,
) -> Upload:
    if title is not None and len(title) > TITLE_LIMIT:
        raise InvalidInput(f"'title' has at most {TITLE_LIMIT} characters")
    # Resolve names before storing anything: an unknown collection must not leave a stored file.
    collection_row = group_by_name(db, Collection, owner, collection)
    category_row = group_by_name(db, Category, owner, category)
    facts = inspect_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    existing = db.scalar(select(Image).where(Image.owner == owner, Image.sha256 == facts.sha256))
    if existing is not None:
        return Upload(existing, created=False)
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
        status="uploaded",
    )
    db.add(image)
    db.flush()
    _refresh_status(db, image)
    return Upload(image, created=True)


def _refresh_status(db: Session, image: Image) -> None:
    registration = db.get(Registration, image.sha256)
    if registration is not None:
        image.status = "registered" if registration.owner == image.owner else "conflict"
        if registration.owner == image.owner:
            image.tx_hash = registration.tx_hash


def get_image(db: Session, owner: str, image_id: int) -> Image:
    image = db.get(Image, image_id)
    if image is None:
        raise NotFound(f"no image {image_id}")
    if image.owner != owner:
        raise Forbidden(f"image {image_id} belongs to another account")
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
        title = changes["title"]
        if title is not None and (not isinstance(title, str) or len(title) > TITLE_LIMIT):
            raise InvalidInput(f"'title' must be text of at most {TITLE_LIMIT} characters")
        image.title = title or None
    if "collection" in changes:
        image.collection = group_by_name(db, Collection, owner, changes["collection"])
    if "category" in changes:
        image.category = group_by_name(db, Category, owner, changes["category"])
    return image


def record_submission(db: Session, owner: str, image_id: int, tx_hash) -> Image:
    """The owner's wallet sent the register transaction; remember it until the indexer sees it."""
    image = get_image(db, owner, image_id)
    if not (isinstance(tx_hash, str) and is_hex(tx_hash) and len(tx_hash) == 66):
        raise InvalidInput("'tx_hash' must be a 0x-prefixed 32-byte transaction hash")
    if image.status in ("uploaded", "submitted"):
        image.status = "submitted"
        image.tx_hash = tx_hash.lower()
    return image


# -- the chain side of a registration ---------------------------------------------------------
def item_for(image: Image, parent: str | None = None) -> Item:
    return Item(content_hash=image.sha256, phash=image.phash, cid=image.cid, parent=parent)


def next_nonce(db: Session, register: RegisterContract, owner: str) -> int:
    """The nonce the owner's next signature must carry: the chain's, plus the relays still to reveal."""
    pending = db.scalar(select(func.count()).select_from(Image).where(Image.owner == owner, Image.status == "committed"))
    return register.nonce(owner) + pending


def registration_request(db: Session, register: RegisterContract, image: Image, *, deadline_seconds: int) -> dict:
    """The transaction for the owner's wallet, and the EIP-712 `Reveal` message for the gasless path.

    The message carries a fresh random salt: the relayer commits to (owner, content hash, salt)
    first and reveals a block later, so the content hash is never public before the commitment.
    """
    item = item_for(image)
    deadline = int(time.time()) + deadline_seconds
    nonce = next_nonce(db, register, image.owner)
    salt = "0x" + secrets.token_hex(32)
    return {
        "contract": register.address,
        "transaction": register.register_transaction(image.owner, item),
        "typed_data": register.reveal_typed_data(image.owner, item, salt, nonce, deadline),
    }


def _check_signature_shape(signature) -> None:
    """The forms the contract would refuse, refused before the relayer pays for anything."""
    if not isinstance(signature, str) or not is_hex(signature) or len(signature.removeprefix("0x")) != 130:
        raise InvalidInput("'signature' must be the 65-byte EIP-712 signature as 0x-prefixed hex")
    raw = bytes.fromhex(signature.removeprefix("0x"))
    if raw[64] not in (27, 28):
        raise InvalidInput("the signature's recovery byte must be 27 or 28")
    if int.from_bytes(raw[32:64], "big") > SECP256K1_HALF_ORDER:
        raise InvalidInput("the signature is not in canonical low-s form; sign with a standard wallet")


def _check_hex32(name: str, value) -> str:
    if not (isinstance(value, str) and is_hex(value) and len(value.removeprefix("0x")) == 64):
        raise InvalidInput(f"'{name}' must be the 32-byte 0x-prefixed hex value from the signed message")
    return "0x" + value.removeprefix("0x").lower()


def relay_registration(db: Session, register: RegisterContract, relayer_key: str, owner: str, image_id: int,
                       *, signature, deadline, salt, deadline_seconds: int) -> Image:
    """Accept the owner's signed reveal and commit to it from the relayer.

    The relayer pays the gas and owns nothing. It never sends the registration in the clear: a
    mempool watcher could copy the content hash and register it first. It commits to a hash of
    (owner, content hash, salt) now and reveals a block later (`complete_reveals`); a copycat who
    registers in between loses the priority to the earlier commitment. Everything the contract
    would refuse is refused here first, so nobody can make the relayer pay for nothing.
    """
    image = get_image(db, owner, image_id)
    if image.status in ("registered", "committed", "submitted"):
        raise Conflict(f"image {image_id} is already {image.status}", tx_hash=image.tx_hash)
    if image.status == "conflict":
        raise Conflict("these bytes were registered by another account first; see /api/v1/lookup")
    _check_signature_shape(signature)
    salt = _check_hex32("salt", salt)
    now = int(time.time())
    if not isinstance(deadline, int) or isinstance(deadline, bool):
        raise InvalidInput("'deadline' must be the integer deadline from the signed message")
    if deadline < now + MIN_RELAY_TIME:
        raise InvalidInput(
            "the signed message's deadline has passed or is too close to reveal in time; fetch a new one and sign again"
        )
    if deadline > now + deadline_seconds + MIN_RELAY_TIME:
        raise InvalidInput(f"the deadline is further ahead than the {deadline_seconds} s this server hands out")
    nonce = next_nonce(db, register, owner)
    typed = register.reveal_typed_data(owner, item_for(image), salt, nonce, deadline)
    try:
        signer = RegisterContract.signer_of(typed, signature)
    except Exception:
        raise InvalidInput("the signature is malformed") from None
    if signer != to_checksum_address(owner):
        raise Forbidden(
            "the signature is not the owner's for this registration (wrong key, altered message or an old nonce)"
        )
    holder = register.registration(registration_id(image.sha256))["owner"]
    if int(holder, 16) != 0:
        raise Conflict(f"these bytes are already registered on-chain by {holder}")
    commitment = RegisterContract.commitment(owner, image.sha256, salt)
    receipt = _commit(register, relayer_key, commitment)
    image.status = "committed"
    image.relay_salt, image.relay_signature = salt, signature
    image.relay_deadline, image.relay_nonce = deadline, nonce
    image.relay_commit_block = receipt["blockNumber"] if receipt else register.w3.eth.block_number
    image.last_error = None
    return image


def _commit(register: RegisterContract, relayer_key: str, commitment: bytes) -> dict | None:
    """Send the commitment; if someone copied it into the chain first, theirs serves as well."""
    try:
        return register.commit(relayer_key, commitment)
    except ChainRejected:
        if register.commitment_time(commitment) == 0:
            raise
        return None


def complete_reveals(database, register: RegisterContract, relayer_key: str, *, lost_after_blocks: int = 20) -> int:
    """Reveal every committed registration whose commitment is at least one block old.

    Each reveal is its own database transaction. Per owner, reveals go in nonce order and stop at
    the first one that is not ready. A commitment the chain lost (a reorg) is sent again with the
    same salt. A refused reveal is checked against the chain before it counts as failed: if the
    owner holds the registration anyway (someone else submitted the signed reveal), it worked.
    """
    with database.session() as db:
        pending = [(i.id, i.owner) for i in db.scalars(
            select(Image).where(Image.status == "committed").order_by(Image.owner, Image.relay_nonce))]
    latest = register.latest_timestamp()
    head = register.w3.eth.block_number
    revealed = 0
    waiting: set[str] = set()  # owners whose next nonce is not ready: their later ones wait
    refused: set[str] = set()  # owners whose next nonce was refused: their later ones can never pass
    for image_id, owner in pending:
        with database.session() as db:
            image = db.get(Image, image_id)
            if owner in refused:
                _reset_relay(image, "an earlier gasless registration failed; sign this one again")
                continue
            if owner in waiting:
                continue
            commitment = RegisterContract.commitment(owner, image.sha256, image.relay_salt)
            committed_at = register.commitment_time(commitment)
            if committed_at == 0:
                if head - (image.relay_commit_block or head) > lost_after_blocks:
                    receipt = _commit(register, relayer_key, commitment)
                    image.relay_commit_block = receipt["blockNumber"] if receipt else head
                waiting.add(owner)
                continue
            if latest <= committed_at:
                waiting.add(owner)  # not a block old yet
                continue
            try:
                receipt = register.reveal_by_sig(
                    relayer_key, owner, item_for(image), image.relay_salt, image.relay_deadline, image.relay_signature
                )
            except ChainUnavailable:
                return revealed  # the node or the relayer's funds; everything stays for the next round
            except ChainRejected as exc:
                if register.registration(registration_id(image.sha256))["owner"] == owner:
                    image.status, image.last_error = "submitted", None
                else:
                    _reset_relay(image, exc.message)
                    refused.add(owner)
                    continue
            else:
                image.status, image.tx_hash, image.last_error = "submitted", receipt["transactionHash"].to_0x_hex(), None
                revealed += 1
            image.relay_salt = image.relay_signature = image.relay_deadline = image.relay_nonce = None
            image.relay_commit_block = None
    return revealed


def _reset_relay(image: Image, reason: str) -> None:
    image.status, image.last_error = "uploaded", reason
    image.relay_salt = image.relay_signature = image.relay_deadline = image.relay_nonce = None
    image.relay_commit_block = None


# -- who registered this? ---------------------------------------------------------------------
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
    return [hit_view(db, h) for h in matcher.find(db, sha256, print_, exclude_owner=exclude_owner, limit=limit)]


def lookup(db: Session, matcher: RegisteredImages, data: bytes, *, max_bytes: int, max_pixels: int) -> dict:
    facts = inspect_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    return {
        "sha256": facts.sha256,
        "phash": facts.phash,
        "matches": find_registrations(db, matcher, facts.sha256, facts.fingerprint),
    }
