"""Follows the register's events into the database, only from final blocks, and survives reorgs.

The indexer consumes blocks up to `head - confirmations`. It remembers the hash of every block
it consumed that carried an event, and of the last block of every batch (its cursor). Before
each poll it checks that the chain still has the cursor block; if not (a reorg deeper than the
confirmations, or a chain reset), it walks back to the newest remembered block the chain still
has, deletes every event above it, rebuilds the affected registrations from the events that
remain, and consumes the new branch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from web3 import Web3
from web3._utils.events import get_event_data

from backend.chain.register import RegisterContract, cid_string, id_hex
from backend.db import Database
from backend.errors import ChainUnavailable
from backend.models import ChainEvent, Image, IndexedBlock, KeyValue, Registration, Verification

log = logging.getLogger(__name__)

EVENTS = ("Registered", "Transferred", "PriorityClaimed", "VerificationSet")


def _hex(value) -> str:
    return value.to_0x_hex() if hasattr(value, "to_0x_hex") else Web3.to_hex(value)


def _jsonable(value):
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, int) and value >= 2**53:
        return str(value)
    return value


@dataclass
class PollResult:
    events: int
    cursor: int
    rolled_back_to: int | None = None


class RegisterIndexer:
    def __init__(
        self,
        db: Database,
        register: RegisterContract,
        *,
        start_block: int,
        confirmations: int,
        batch_blocks: int = 2000,
    ):
        self.db = db
        self.register = register
        self.w3 = register.w3
        self.start_block = start_block
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        self.cursor_key = f"indexer:{register.address}:cursor"
        abi = register.contract.abi
        self._abis = {e["name"]: e for e in abi if e.get("type") == "event" and e["name"] in EVENTS}
        self._by_topic = {
            Web3.keccak(text=f"{e['name']}({','.join(i['type'] for i in e['inputs'])})"): e
            for e in self._abis.values()
        }

    # -- cursor ---------------------------------------------------------------------------
    def cursor(self, db: Session) -> int:
        row = db.get(KeyValue, self.cursor_key)
        return int(row.value) if row else self.start_block - 1

    def _set_cursor(self, db: Session, block: int) -> None:
        db.merge(KeyValue(key=self.cursor_key, value=str(block)))

    # -- polling --------------------------------------------------------------------------
    def poll(self) -> PollResult:
        """Consume every final block not yet consumed (in batches); returns what changed."""
        rolled_back_to = self._detect_reorg()
        head = self.w3.eth.block_number
        safe = head - self.confirmations
        applied = 0
        with self.db.session() as db:
            cursor = self.cursor(db)
        while cursor < safe:
            upto = min(safe, cursor + self.batch_blocks)
            applied += self._consume(cursor + 1, upto)
            cursor = upto
        return PollResult(events=applied, cursor=cursor, rolled_back_to=rolled_back_to)

    def _consume(self, first: int, last: int) -> int:
        # The logs and the block hashes come from separate calls. The last block's hash is read
        # before and after the logs, and every block the logs name must still be canonical: a
        # reorg in between neither leaves events of a dead branch behind nor skips the new one's.
        last_hash = _hex(self.w3.eth.get_block(last)["hash"])
        logs = self.w3.eth.get_logs(
            {"address": self.register.address, "fromBlock": first, "toBlock": last,
             "topics": [list(self._by_topic)]}
        )
        for number, block_hash in {(e["blockNumber"], _hex(e["blockHash"])) for e in logs}:
            if self._chain_hash(number) != block_hash:
                raise ChainUnavailable(f"block {number} changed while it was being read; retrying next poll")
        if self._chain_hash(last) != last_hash:
            raise ChainUnavailable(f"block {last} changed while it was being read; retrying next poll")
        with self.db.session() as db:
            for entry in sorted(logs, key=lambda e: (e["blockNumber"], e["logIndex"])):
                abi = self._by_topic.get(bytes(entry["topics"][0]))
                if abi is None:
                    continue
                decoded = get_event_data(self.w3.codec, abi, entry)
                event = ChainEvent(
                    name=decoded["event"],
                    registration_id=id_hex(decoded["args"]["id"]) if "id" in decoded["args"] else None,
                    args={k: _jsonable(v) for k, v in decoded["args"].items()},
                    block_number=entry["blockNumber"],
                    block_hash=_hex(entry["blockHash"]),
                    tx_hash=_hex(entry["transactionHash"]),
                    log_index=entry["logIndex"],
                )
                db.add(event)
                db.merge(IndexedBlock(number=event.block_number, hash=event.block_hash))
                _apply(db, event)
            db.merge(IndexedBlock(number=last, hash=last_hash))
            self._set_cursor(db, last)
        return len(logs)

    # -- reorgs ---------------------------------------------------------------------------
    def _chain_hash(self, number: int) -> str | None:
        try:
            return _hex(self.w3.eth.get_block(number)["hash"])
        except Exception:  # the block does not exist (any more)
            return None

    def _detect_reorg(self) -> int | None:
        newest_first = select(IndexedBlock).order_by(IndexedBlock.number.desc())
        with self.db.session() as db:
            newest = db.scalars(newest_first.limit(1)).first()
            if newest is None or self._chain_hash(newest.number) == newest.hash:
                return None
            fork_point = self.start_block - 1
            for block in db.scalars(newest_first.offset(1).execution_options(yield_per=100)):
                if self._chain_hash(block.number) == block.hash:
                    fork_point = block.number
                    break
        log.warning("chain reorganised below block %s; rolling back to block %s", newest.number, fork_point)
        self.rollback_to(fork_point)
        return fork_point

    def rollback_to(self, block: int) -> None:
        with self.db.session() as db:
            stale = list(db.scalars(select(ChainEvent).where(ChainEvent.block_number > block)))
            registrations = {e.registration_id for e in stale if e.registration_id}
            accounts = {e.args["account"] for e in stale if e.name == "VerificationSet"}
            db.execute(delete(ChainEvent).where(ChainEvent.block_number > block))
            db.execute(delete(IndexedBlock).where(IndexedBlock.number > block))
            for reg_id in registrations:
                row = db.get(Registration, reg_id)
                if row is not None:
                    db.delete(row)
            for account in accounts:
                row = db.get(Verification, account)
                if row is not None:
                    db.delete(row)
            db.flush()
            replay = select(ChainEvent).order_by(ChainEvent.block_number, ChainEvent.log_index)
            for event in db.scalars(replay.where(ChainEvent.registration_id.in_(registrations))):
                _apply(db, event)
            for event in db.scalars(replay.where(ChainEvent.name == "VerificationSet")):
                if event.args["account"] in accounts:
                    _apply(db, event)
            for reg_id in registrations:
                _refresh_images(db, reg_id)
            self._set_cursor(db, block)


def _apply(db: Session, event: ChainEvent) -> None:
    args = event.args
    if event.name == "Registered":
        parent = int(args["parent"])
        db.merge(
            Registration(
                id=event.registration_id,
                owner=args["owner"],
                parent=id_hex(parent) if parent else None,
                phash=f"{int(args['phash']):016x}",
                cid=cid_string(int(args["cid_codec"]), bytes.fromhex(args["cid_digest"][2:])),
                registered_at=int(args["registered_at"]),
                tx_hash=event.tx_hash,
                block_number=event.block_number,
            )
        )
    elif event.name in ("Transferred", "PriorityClaimed"):
        row = db.get(Registration, event.registration_id)
        if row is not None:
            row.owner = args["new_owner"]
            if event.name == "PriorityClaimed":
                row.registered_at = int(args["commit_time"])
                row.tx_hash = event.tx_hash
                row.block_number = event.block_number
    elif event.name == "VerificationSet":
        db.merge(Verification(address=args["account"], level=int(args["level"])))
    db.flush()
    if event.registration_id:
        _refresh_images(db, event.registration_id)


def _refresh_images(db: Session, reg_id: str) -> None:
    """Bring the status of every upload of these bytes in line with the indexed registration."""
    registration = db.get(Registration, reg_id)
    for image in db.scalars(select(Image).where(Image.sha256 == reg_id)):
        if registration is None:
            image.status = "committed" if image.relay_salt else "submitted" if image.tx_hash else "uploaded"
        elif registration.owner == image.owner:
            image.status = "registered"
            image.tx_hash = registration.tx_hash
            image.last_error = None
        else:
            image.status = "conflict"
