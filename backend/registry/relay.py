"""The chain side of a registration: what the owner's wallet sends or signs, and the gasless
relay by commit and reveal (the relayer pays, the owner owns, nobody can take the priority)."""

from __future__ import annotations

import secrets
import time

from eth_utils import is_hex, to_checksum_address
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.chain.eip712 import json_safe
from backend.chain.register import Item, RegisterContract, registration_id
from backend.errors import ChainRejected, ChainUnavailable, Conflict, Forbidden, InvalidInput
from backend.models import Image
from backend.registry.uploads import get_image

MIN_RELAY_TIME = 60  # seconds a signed message must stay valid for the commit and the reveal
SECP256K1_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def item_for(image: Image) -> Item:
    return Item(content_hash=image.sha256, phash=image.phash, cid=image.cid, parent=image.parent)


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
    return json_safe({
        "contract": register.address,
        "transaction": register.register_transaction(image.owner, item),
        "typed_data": register.reveal_typed_data(image.owner, item, salt, nonce, deadline),
    })


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
    # The message carries the deadline as a decimal string (see json_safe); a number is accepted too.
    if isinstance(deadline, str) and deadline.isascii() and deadline.isdigit() and len(deadline) <= 78:
        deadline = int(deadline)
    if not isinstance(deadline, int) or isinstance(deadline, bool):
        raise InvalidInput("'deadline' must be the deadline from the signed message (a decimal string or integer)")
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
