"""The chain side of a registration: what the owner's wallet sends or signs, and the gasless
relay by commit and reveal (the relayer pays, the owner owns, nobody can take the priority).

Two gasless paths: one image per signature (`relay_registration`, sequential nonces), and up to
100 images per signature (`relay_batch`, unordered nonces), whose every relayer transaction is
recorded before it is sent and finished from the chain's state after a crash (`advance_batches`).
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import time
from pathlib import Path

from eth_utils import is_hex, to_checksum_address
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3.exceptions import TransactionNotFound

from backend.chain.client import operator, send_signed, sign_call, wait_for
from backend.chain.eip712 import json_safe
from backend.chain.register import Item, RegisterContract, registration_id
from backend.errors import ChainRejected, ChainUnavailable, Conflict, DomainError, Forbidden, InvalidInput, NotFound
from backend.models import Image
from backend.processes import SharedLock
from backend.registry.models import RelayBatch
from backend.registry.uploads import get_image

log = logging.getLogger(__name__)

MIN_RELAY_TIME = 60  # seconds a signed message must stay valid for the commit and the reveal
MAX_BATCH = 100  # the register's largest batch
MAX_ID = 2**63  # database ids are signed 64-bit integers
NONCE_BITS = 53  # drafted batch nonces stay exact in JavaScript; the contract takes any uint256
RECEIPT_TIMEOUT = 30.0  # seconds to wait for a relayer transaction; after that the chain job finishes it
MAX_COMMITMENT_AGE = 86_400  # seconds: the register's MAX_COMMITMENT_AGE, a commitment's reveal window
SETTLE_WAIT = 2.0  # seconds a batch's step waits for a pending transaction before the next round looks again
# Seconds (a few block times) a reveal must have before the signed deadline to be sent at all.
REVEAL_MARGIN = 36
# Gas of `reveal_batch_by_sig`, bounded from above (bench/gas_register.py: 29,340 per image for 100,
# about 95,000 for one): the relayer must afford the reveal before it commits, or the commit is wasted.
REVEAL_GAS_BASE = 80_000
REVEAL_GAS_PER_ITEM = 35_000
# The relayer's transactions are signed with consecutive account nonces: one at a time in the
# stack (requests are served by other processes than the chain job's: `use_lock_directory`).
_relayer_lock = SharedLock("relayer")
# One batch step at a time: a request that just committed and the chain job never both act on
# one batch (both would sign a transaction for the same step).
_advance_lock = SharedLock("relay-advance")


def use_lock_directory(directory: Path) -> None:
    """Make the relayer's locks hold across the processes that share `directory`."""
    _relayer_lock.use_directory(directory)
    _advance_lock.use_directory(directory)
SECP256K1_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def item_for(image: Image) -> Item:
    return Item(content_hash=image.sha256, phash=image.phash, cid=image.cid, parent=image.parent)


def next_nonce(db: Session, register: RegisterContract, owner: str) -> int:
    """The nonce the owner's next signature must carry: the chain's, plus the relays still to reveal."""
    pending = db.scalar(select(func.count()).select_from(Image).where(
        Image.owner == owner, Image.status == "committed", Image.relay_salt.is_not(None)))  # not batches' images
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


def _check_deadline(deadline, deadline_seconds: int) -> None:
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
    _check_deadline(deadline, deadline_seconds)
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
    # No content hash goes to the node before the commitment: registrations by others are known
    # from the indexer (the image is `conflict`); one not yet indexed is refused at the reveal.
    commitment = RegisterContract.commitment(owner, image.sha256, salt)
    _claim(db, owner, [image.id])
    with _relayer_lock:
        try:
            signed = sign_call(register.w3, operator(relayer_key), register.commit_call(commitment))
        except ChainRejected:
            if register.commitment_time(commitment) == 0:
                raise
            signed = None  # someone copied the commitment into the chain first: theirs serves as well
        image.relay_salt, image.relay_signature = salt, signature
        image.relay_deadline, image.relay_nonce = deadline, nonce
        image.relay_commit_block = register.w3.eth.block_number
        image.last_error = None
        # The intent is on disk before the commit leaves: after a crash `complete_reveals` reveals
        # the commitment, or commits again when it never reached the chain.
        db.commit()
        if signed is not None:
            _send(register, signed.raw_transaction)
            _crash_point("relay-single-commit-sent")
    if signed is not None:
        try:
            image.relay_commit_block = wait_for(register.w3, bytes(signed.hash), timeout=RECEIPT_TIMEOUT)["blockNumber"]
        except (ChainRejected, ChainUnavailable) as exc:
            log.warning("relay: image %d's commit is recorded; the chain job finishes it (%s)", image.id, exc.message)
    return image


def _transact(register: RegisterContract, relayer_key: str, call) -> dict:
    """Sign and send under the relayer's lock (consecutive account nonces), wait outside it."""
    with _relayer_lock:
        signed = sign_call(register.w3, operator(relayer_key), call)
        send_signed(register.w3, signed.raw_transaction)
    return wait_for(register.w3, bytes(signed.hash), timeout=RECEIPT_TIMEOUT)


def _commit(register: RegisterContract, relayer_key: str, commitment: bytes) -> dict | None:
    """Send the commitment; if someone copied it into the chain first, theirs serves as well."""
    try:
        return _transact(register, relayer_key, register.commit_call(commitment))
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
            select(Image).where(Image.status == "committed", Image.relay_salt.is_not(None))
            .order_by(Image.owner, Image.relay_nonce))]
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
                receipt = _transact(register, relayer_key, register.reveal_call(
                    owner, item_for(image), image.relay_salt, image.relay_deadline, image.relay_signature))
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


# -- many images under one signature ----------------------------------------------------------
def _batch_images(db: Session, owner: str, image_ids) -> list[Image]:
    """The owner's images, in the given order, all still to be registered."""
    if (not isinstance(image_ids, list) or not image_ids
            or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < MAX_ID for i in image_ids)):
        raise InvalidInput("'image_ids' must be a non-empty list of image ids")
    if len(image_ids) > MAX_BATCH:
        raise InvalidInput(f"a batch holds at most {MAX_BATCH} images ({len(image_ids)} given); split it")
    if len(set(image_ids)) != len(image_ids):
        raise InvalidInput("'image_ids' names an image twice")
    images = [get_image(db, owner, image_id) for image_id in image_ids]
    busy = [f"{i.id} ({i.status})" for i in images if i.status != "uploaded"]
    if busy:
        raise Conflict(f"only images still 'uploaded' can be registered; not: {', '.join(busy)}")
    return images


def draft_batch(db: Session, register: RegisterContract, owner: str, image_ids, *, deadline_seconds: int) -> dict:
    """The EIP-712 `RevealBatch` message over the images, for the owner's wallet to sign once.

    The nonce is unordered (any unused number; a random one here), so drafts signed at the same
    time stay valid whatever order they are relayed in. The salt is fresh, unless a failed batch
    over exactly these images left a commitment young enough to reveal: then its salt, so the
    owner signs again (new nonce and deadline) and keeps the commit time, and the relayer does
    not commit again.
    """
    images = _batch_images(db, owner, image_ids)
    nonce = secrets.randbits(NONCE_BITS)
    deadline = int(time.time()) + deadline_seconds
    salt = _earlier_salt(db, owner, [i.id for i in images], deadline) or "0x" + secrets.token_hex(32)
    return {
        "image_ids": [i.id for i in images],
        "salt": salt,
        "nonce": str(nonce),
        "deadline": str(deadline),
        "typed_data": json_safe(
            register.reveal_batch_typed_data(owner, [item_for(i) for i in images], salt, nonce, deadline)
        ),
    }


def _earlier_salt(db: Session, owner: str, image_ids: list[int], deadline: int) -> str | None:
    """The salt of the owner's latest failed batch over these images in this order whose commitment
    can still be revealed by `deadline` (the register's MAX_COMMITMENT_AGE)."""
    failed = db.scalars(select(RelayBatch).where(
        RelayBatch.owner == owner, RelayBatch.status == "failed",
        RelayBatch.commit_time > deadline + REVEAL_MARGIN - MAX_COMMITMENT_AGE).order_by(RelayBatch.id.desc()))
    return next((batch.salt for batch in failed if batch.image_ids == image_ids), None)


def _check_nonce(nonce) -> int:
    if isinstance(nonce, str) and nonce.isascii() and nonce.isdigit() and len(nonce) <= 78:
        nonce = int(nonce)
    if not isinstance(nonce, int) or isinstance(nonce, bool) or not 0 <= nonce < 2**256:
        raise InvalidInput("'nonce' must be the nonce from the signed message (a decimal string)")
    return nonce


def relay_batch(database, register: RegisterContract, relayer_key: str, owner: str, image_ids, *,
                signature, salt, nonce, deadline, deadline_seconds: int) -> int:
    """Accept the owner's signed `RevealBatch` and commit to the whole batch from the relayer.

    Everything the contract would refuse is refused here first. Registrations by others are known
    from the indexer (their images are `conflict`): no content hash goes to the node before the
    commitment; one registered but not yet indexed fails the batch at its reveal's estimate. The
    images are claimed atomically (`_claim`), and the relayer must afford the reveal too. The
    commit transaction is signed and recorded (with the images marked `committed`) before it is
    sent: a crash after that point loses nothing, `advance_batches` finishes from the chain.
    Answers the batch's id.
    """
    _check_signature_shape(signature)
    salt = _check_hex32("salt", salt)
    nonce = _check_nonce(nonce)
    _check_deadline(deadline, deadline_seconds)
    with database.session() as db:
        images = _batch_images(db, owner, image_ids)
        items = [item_for(i) for i in images]
        typed = register.reveal_batch_typed_data(owner, items, salt, nonce, deadline)
        try:
            signer = RegisterContract.signer_of(typed, signature)
        except Exception:
            raise InvalidInput("the signature is malformed") from None
        if signer != to_checksum_address(owner):
            raise Forbidden("the signature is not the owner's for this batch (wrong key, or the images, their "
                            "order, salt, nonce or deadline differ from the signed message)")
        taken = db.scalar(select(RelayBatch.id).where(RelayBatch.owner == owner, RelayBatch.nonce == str(nonce)))
        if taken is not None or register.nonce_used(owner, nonce):
            raise Conflict("this batch's nonce was already used; draft the batch again and sign the new message")
        commitment = RegisterContract.batch_commitment(owner, items, salt)
        batch = RelayBatch(owner=owner, image_ids=[i.id for i in images], salt=salt, signature=signature,
                           nonce=str(nonce), deadline=deadline)
        _claim(db, owner, batch.image_ids)
        with _relayer_lock:
            signed = _sign_commit(register, relayer_key, commitment, batch,
                                  then_gas=_reveal_gas(len(items)))
            db.add(batch)
            try:
                db.commit()  # the intent (and the signed commit's hash) is on disk before the commit leaves
            except IntegrityError:
                raise Conflict("this batch's nonce was already used; draft the batch again and sign the "
                               "new message") from None
            batch_id = batch.id
            if signed is not None:
                _crash_point("relay-commit-recorded")
                _send(register, signed.raw_transaction)
                _crash_point("relay-commit-sent")
    try:
        _advance(database, register, relayer_key, batch_id)
    except DomainError as exc:  # the batch is recorded: the answer is 202 whatever its next step met
        log.warning("relay: batch %d is recorded; the chain job finishes it (%s)", batch_id, exc.message)
    return batch_id


def _claim(db: Session, owner: str, image_ids: list[int]) -> None:
    """Mark the images `committed` in one UPDATE that matches only images still `uploaded`.

    The database decides, so of two requests relaying the same image (from any process, through
    any path) exactly one claims it and the other pays for nothing. The claim commits with the
    request's record; a refusal after it rolls it back."""
    claimed = db.execute(
        update(Image).where(Image.id.in_(image_ids), Image.owner == owner, Image.status == "uploaded")
        .values(status="committed", last_error=None)
    ).rowcount
    if claimed != len(image_ids):
        db.rollback()
        raise Conflict("another request is registering some of these images already; see their status")


def get_batch(db: Session, batch_id: int, owner: str) -> RelayBatch:
    """A batch of the owner's (someone else's is as unknown as a missing one)."""
    batch = db.get(RelayBatch, batch_id) if 0 < batch_id < MAX_ID else None
    if batch is None or batch.owner != owner:
        raise NotFound(f"no relay batch {batch_id} of yours")
    return batch


def advance_batches(database, register: RegisterContract, relayer_key: str) -> int:
    """Move every unfinished batch on by what the chain says; the chain job and start-up run it.

    Answers how many batches were revealed. A batch that meets a node that is down or a relayer
    without funds waits for the next round with the reason in `last_error`, and the others go
    on; a batch the chain refuses fails with the reason on each of its images.
    """
    # A revealed batch stays in view until the indexer saw its registrations in final blocks (its
    # images leave `submitted`): a reorg that drops the reveal sends it again.
    unconfirmed = select(Image.id).where(Image.tx_hash == RelayBatch.reveal_tx_hash, Image.status == "submitted")
    with database.session() as db:
        open_batches = db.execute(select(RelayBatch.id, RelayBatch.status).where(
            RelayBatch.status.in_(("committing", "committed", "revealing"))
            | ((RelayBatch.status == "revealed") & unconfirmed.exists())).order_by(RelayBatch.id)).all()
    revealed = 0
    for batch_id, status in open_batches:
        try:
            now = _advance(database, register, relayer_key, batch_id)
            revealed += status != "revealed" and now == "revealed"
        except DomainError as exc:  # one batch's trouble (the relayer's funds, the node) never stops the others
            log.warning("relay: batch %d waits for the next round: %s", batch_id, exc.message)
            with database.session() as db:
                db.get(RelayBatch, batch_id).last_error = exc.message
                db.commit()
    return revealed


def _advance(database, register: RegisterContract, relayer_key: str, batch_id: int) -> str:
    """One batch, one step at a time, each recorded before its transaction leaves."""
    with _advance_lock, database.session() as db:
        batch = db.get(RelayBatch, batch_id)
        items = _batch_items(db, batch)
        commitment = RegisterContract.batch_commitment(batch.owner, items, batch.salt)
        if batch.status == "revealed":
            if batch.reveal_tx_hash is None or _tx_state(register, batch.reveal_tx_hash) in ("mined", "pending"):
                return batch.status  # the indexer confirms it when final (or someone else revealed it)
            batch.status = "revealing"  # a reorg dropped the reveal (or mined it again, reverting): settled anew
            log.warning("relay: batch %d's reveal %s is no longer on the chain", batch.id, batch.reveal_tx_hash)
        if batch.status == "committed" and register.commitment_time(commitment) == 0:
            batch.status = "committing"  # the chain lost the commitment (a reorg, a node restarted without it)
        if batch.status == "revealing":
            _settle_reveal(register, batch, items, db)
        latest = register.latest_timestamp()
        if batch.status in ("committing", "committed") and latest + REVEAL_MARGIN >= batch.deadline:
            # A reveal mined after the deadline reverts having published every content hash: never sent.
            _fail(register, db, batch, "the signed message expired (or is too close to its deadline) before the "
                                       "reveal; register the images again (one new signature)")
        elif batch.status == "committed" and latest + REVEAL_MARGIN >= batch.commit_time + MAX_COMMITMENT_AGE:
            _fail(register, db, batch, "the commitment is too old to reveal (the register accepts a day); "
                                       "register the images again (one new signature)")
        if batch.status == "committing":
            _settle_commit(register, relayer_key, batch, commitment, db)
        if batch.status == "committed" and latest > batch.commit_time:
            _reveal(register, relayer_key, batch, items, db)
        return batch.status


def _batch_items(db: Session, batch: RelayBatch) -> list[Item]:
    images = {i.id: i for i in db.scalars(select(Image).where(Image.id.in_(batch.image_ids)))}
    return [item_for(images[image_id]) for image_id in batch.image_ids]


def _sign_commit(register: RegisterContract, relayer_key: str, commitment: bytes, batch: RelayBatch,
                 then_gas: int = 0):
    """Sign the batch's commit and record it on `batch`; None if the commitment is on-chain already
    (someone copied it from the mempool: theirs serves as well)."""
    try:
        signed = sign_call(register.w3, operator(relayer_key), register.commit_call(commitment), then_gas=then_gas)
    except ChainRejected:
        committed_at = register.commitment_time(commitment)
        if committed_at == 0:
            raise
        batch.status, batch.commit_time = "committed", committed_at
        return None
    batch.status = "committing"
    batch.commit_tx_hash, batch.commit_tx = signed.hash.to_0x_hex(), signed.raw_transaction.to_0x_hex()
    return signed


def _send(register: RegisterContract, raw: bytes) -> None:
    """Send a recorded transaction; a refusal or a node that is down leaves it to the chain job."""
    try:
        send_signed(register.w3, raw)
    except (ChainRejected, ChainUnavailable) as exc:
        log.warning("relay: a recorded transaction was not sent (%s); the chain job retries", exc.message)


def _rebroadcast(register: RegisterContract, raw: str) -> bool:
    """Send a recorded transaction again, as it was signed (same hash); False if the node refuses it
    (its account nonce went to another transaction): then it is signed anew."""
    try:
        send_signed(register.w3, bytes.fromhex(raw.removeprefix("0x")))
    except ChainRejected:
        return False
    return True


def _settled_state(register: RegisterContract, tx_hash: str) -> str:
    """`_tx_state`, after waiting at most SETTLE_WAIT seconds for a pending transaction: a batch's
    step never holds the batches' lock long (the next round looks again)."""
    state = _tx_state(register, tx_hash)
    if state != "pending":
        return state
    try:
        wait_for(register.w3, bytes.fromhex(tx_hash[2:]), timeout=SETTLE_WAIT)
    except ChainRejected:
        return "reverted"
    except ChainUnavailable:
        return _tx_state(register, tx_hash)
    return "mined"


def _tx_state(register: RegisterContract, tx_hash: str) -> str:
    """'mined', 'reverted', 'pending' or 'unknown' (the node never got it, or dropped it)."""
    try:
        try:
            receipt = register.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            try:
                register.w3.eth.get_transaction(tx_hash)
            except TransactionNotFound:
                return "unknown"
            return "pending"
    except Exception as exc:
        raise ChainUnavailable(f"the chain node does not answer ({type(exc).__name__}); retry later") from None
    return "mined" if receipt["status"] == 1 else "reverted"


def _settle_commit(register: RegisterContract, relayer_key: str, batch: RelayBatch, commitment: bytes,
                   db: Session) -> None:
    """`committing`: done when the commitment is on-chain. A commit still pending is looked at again
    next round (no lock waits for a receipt). A commit the node never got (a crash before the send,
    a restarted node) or refused (its account nonce went to another transaction) is signed,
    recorded and sent again."""
    if batch.commit_tx_hash:
        _settled_state(register, batch.commit_tx_hash)
    if _note_commitment(register, batch, commitment, db):
        return
    with _relayer_lock:
        if register.commitment_time(commitment) or (
                batch.commit_tx_hash and _tx_state(register, batch.commit_tx_hash) == "pending"):
            return  # pending, or sent meanwhile by the request that recorded it: the next round settles it
        # The recorded commit is sent again as it was signed; signed anew only if the node refuses it.
        if not (batch.commit_tx and _rebroadcast(register, batch.commit_tx)):
            lost = batch.commit_tx_hash
            signed = _sign_commit(register, relayer_key, commitment, batch,
                                  then_gas=_reveal_gas(len(batch.image_ids)))
            db.commit()
            if signed is not None:
                _send(register, signed.raw_transaction)
            log.info("relay: batch %d's commit %s was refused; signed again as %s", batch.id, lost,
                     batch.commit_tx_hash)
    _note_commitment(register, batch, commitment, db)


def _note_commitment(register: RegisterContract, batch: RelayBatch, commitment: bytes, db: Session) -> bool:
    committed_at = register.commitment_time(commitment)
    if committed_at:
        batch.status, batch.commit_time, batch.last_error = "committed", committed_at, None
        db.commit()
    return bool(committed_at)


def _reveal_gas(items: int) -> int:
    return REVEAL_GAS_BASE + REVEAL_GAS_PER_ITEM * items


def _reveal(register: RegisterContract, relayer_key: str, batch: RelayBatch, items: list[Item],
            db: Session) -> None:
    """`committed` and a block old: sign the reveal, record it, send it, settle it."""
    call = register.reveal_batch_call(batch.owner, items, batch.salt, int(batch.nonce), batch.deadline,
                                      batch.signature)
    with _relayer_lock:
        try:
            signed = sign_call(register.w3, operator(relayer_key), call)
        except ChainRejected as exc:
            if not _owned_by(register, batch.owner, items):
                _fail(register, db, batch, exc.message)
                return
            _finish(db, batch, None)  # someone else submitted the signed reveal: it worked all the same
            return
        batch.status = "revealing"
        batch.reveal_tx_hash, batch.reveal_tx = signed.hash.to_0x_hex(), signed.raw_transaction.to_0x_hex()
        db.commit()
        _send(register, signed.raw_transaction)
        _crash_point("relay-reveal-sent")
    _settle_reveal(register, batch, items, db)


def _settle_reveal(register: RegisterContract, batch: RelayBatch, items: list[Item], db: Session) -> None:
    """`revealing`: done when the reveal is mined; one still pending is looked at again next round;
    a reveal that never made it is signed again."""
    state = _settled_state(register, batch.reveal_tx_hash)
    if state == "pending" or (state == "unknown" and _rebroadcast(register, batch.reveal_tx)):
        return
    if state == "mined":
        _finish(db, batch, batch.reveal_tx_hash)
    elif _owned_by(register, batch.owner, items):
        _finish(db, batch, None)
    elif state == "unknown":
        batch.status = "committed"  # the reveal is signed again in this round or the next
        db.commit()
    else:
        _fail(register, db, batch, f"the reveal transaction {batch.reveal_tx_hash} reverted")


def _owned_by(register: RegisterContract, owner: str, items: list[Item]) -> bool:
    return all(register.registration(registration_id(i.content_hash))["owner"] == to_checksum_address(owner)
               for i in items)


def _finish(db: Session, batch: RelayBatch, tx_hash: str | None) -> None:
    batch.status, batch.last_error = "revealed", None
    for image in db.scalars(select(Image).where(Image.id.in_(batch.image_ids))):
        if image.status == "committed":  # the indexer may have seen the registration already
            image.status, image.tx_hash, image.last_error = "submitted", tx_hash, None
    db.commit()


def _fail(register: RegisterContract, db: Session, batch: RelayBatch, reason: str) -> None:
    """The batch cannot complete: every image says why, and goes back to `uploaded` (or `conflict`
    when someone else holds its registration)."""
    batch.status, batch.last_error = "failed", reason
    for image in db.scalars(select(Image).where(Image.id.in_(batch.image_ids))):
        if image.status != "committed":
            continue
        holder = register.registration(registration_id(image.sha256))["owner"]
        if int(holder, 16) not in (0, int(image.owner, 16)):
            image.status, image.last_error = "conflict", f"registered by {holder} before this batch's commitment"
        else:
            image.status = "uploaded"
            image.last_error = f"gasless batch {batch.id} failed: {reason}; register the image again"
    db.commit()
    log.warning("relay: batch %d failed: %s", batch.id, reason)


def _crash_point(name: str) -> None:
    """The crash-safety tests kill the process here, with a real SIGKILL, by naming the point in
    COPYTRACK_TEST_KILL_AT; nothing else sets that variable. In a web server worker of `copytrack
    run` (COPYTRACK_STACK_PID names the `run` process) the whole stack is killed first, as the
    tests expect of a crash."""
    if os.environ.get("COPYTRACK_TEST_KILL_AT") == name:
        if stack := os.environ.get("COPYTRACK_STACK_PID"):
            os.kill(int(stack), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
