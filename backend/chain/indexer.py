"""Follows the contracts' events into the database, only from final blocks, and survives reorgs.

One indexer follows every contract of the deployment (the register, the licence market, the
settlement escrow): one `get_logs` over all their addresses per batch, each event decoded through
its contract's ABI from the build artifacts and handed to that contract's `EventSource`, which
applies it to its tables and can rebuild them from the events that remain after a rollback.

The indexer consumes blocks up to `head - confirmations`. It remembers the hash of every block
it consumed that carried an event, and of the last block of every batch (its cursor). Before
each poll it checks that the chain still has the cursor block; if not (a reorg deeper than the
confirmations, or a chain reset), it walks back to the newest remembered block the chain still
has, deletes every event above it, lets each source rebuild what those events touched, and
consumes the new branch. When the set of followed contracts changes (a contract added or
redeployed), everything is indexed again from the earliest deployment block.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from web3 import Web3
from web3._utils.events import get_event_data

from backend.chain.register import cid_string, id_hex
from backend.db import Database
from backend.errors import ChainUnavailable
from backend.models import ChainEvent, Image, IndexedBlock, KeyValue, Registration, Verification

log = logging.getLogger(__name__)

CURSOR_KEY = "indexer:cursor"
SOURCES_KEY = "indexer:sources"


def _hex(value) -> str:
    return value.to_0x_hex() if hasattr(value, "to_0x_hex") else Web3.to_hex(value)


def _jsonable(value):
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 2**53:
        return str(value)
    return value


class EventSource:
    """One followed contract: which of its events matter, and how they change the tables.

    `apply` is called for every new event in chain order; `rebuild` after a rollback deleted
    `stale` events of this contract (the remaining ones are still in `chain_events`).
    """

    contract_name: str
    events: tuple[str, ...]

    def __init__(self, address: str, abi: list[dict]):
        self.address = Web3.to_checksum_address(address)
        self.abis = {e["name"]: e for e in abi if e.get("type") == "event" and e["name"] in self.events}
        missing = set(self.events) - set(self.abis)
        if missing:
            raise RuntimeError(f"{self.contract_name}'s ABI lacks the events {sorted(missing)}; run `ape compile`")

    def registration_id(self, args: dict) -> str | None:
        return None

    def apply(self, db: Session, event: ChainEvent) -> None:
        raise NotImplementedError

    def rebuild(self, db: Session, stale: list[ChainEvent]) -> None:
        raise NotImplementedError

    def remaining_events(self, db: Session) -> list[ChainEvent]:
        return list(db.scalars(
            select(ChainEvent).where(ChainEvent.contract == self.contract_name)
            .order_by(ChainEvent.block_number, ChainEvent.log_index)
        ))


class RegisterEvents(EventSource):
    """The register: registrations, their owners, and the attestors' verification levels."""

    contract_name = "CopyrightRegister"
    events = ("Registered", "Transferred", "PriorityClaimed", "VerificationSet")

    def registration_id(self, args: dict) -> str | None:
        return id_hex(args["id"]) if "id" in args else None

    def apply(self, db: Session, event: ChainEvent) -> None:
        _apply(db, event)

    def rebuild(self, db: Session, stale: list[ChainEvent]) -> None:
        registrations = {e.registration_id for e in stale if e.registration_id}
        accounts = {e.args["account"] for e in stale if e.name == "VerificationSet"}
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


@dataclass
class PollResult:
    events: int
    cursor: int
    rolled_back_to: int | None = None


class ChainIndexer:
    """Follows `sources` (one per contract) from `start_block` on, `confirmations` behind the head."""

    def __init__(
        self,
        db: Database,
        w3: Web3,
        sources: list[EventSource],
        *,
        start_block: int,
        confirmations: int,
        batch_blocks: int = 2000,
    ):
        self.db = db
        self.w3 = w3
        self.sources = sources
        self.start_block = start_block
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        self._by_topic: dict[tuple[str, bytes], tuple[EventSource, dict]] = {}
        for source in sources:
            for abi in source.abis.values():
                topic = Web3.keccak(text=f"{abi['name']}({','.join(i['type'] for i in abi['inputs'])})")
                self._by_topic[(source.address, bytes(topic))] = (source, abi)
        self._topics = sorted({topic for _, topic in self._by_topic})
        self._source_names = ",".join(sorted(f"{s.contract_name}={s.address}" for s in sources))

    # -- cursor ---------------------------------------------------------------------------
    def cursor(self, db: Session) -> int:
        row = db.get(KeyValue, CURSOR_KEY)
        return int(row.value) if row else self.start_block - 1

    def _set_cursor(self, db: Session, block: int) -> None:
        db.merge(KeyValue(key=CURSOR_KEY, value=str(block)))

    # -- polling --------------------------------------------------------------------------
    def poll(self) -> PollResult:
        """Consume every final block not yet consumed (in batches); returns what changed."""
        rolled_back_to = self._follow_new_sources()
        reorg = self._detect_reorg()
        if reorg is not None:
            rolled_back_to = reorg
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

    def _follow_new_sources(self) -> int | None:
        """Index everything again when the followed contracts are not those indexed so far."""
        with self.db.session() as db:
            recorded = db.get(KeyValue, SOURCES_KEY)
            if recorded is not None and recorded.value == self._source_names:
                return None
            db.merge(KeyValue(key=SOURCES_KEY, value=self._source_names))
            if recorded is None and db.scalars(select(ChainEvent.id).limit(1)).first() is None:
                return None
        log.warning("the followed contracts changed; indexing again from block %s", self.start_block)
        self.rollback_to(self.start_block - 1)
        return self.start_block - 1

    def _consume(self, first: int, last: int) -> int:
        # The logs and the block hashes come from separate calls. The last block's hash is read
        # before and after the logs, and every block the logs name must still be canonical: a
        # reorg in between neither leaves events of a dead branch behind nor skips the new one's.
        last_hash = _hex(self.w3.eth.get_block(last)["hash"])
        logs = self.w3.eth.get_logs(
            {"address": [s.address for s in self.sources], "fromBlock": first, "toBlock": last,
             "topics": [self._topics]}
        )
        for number, block_hash in {(e["blockNumber"], _hex(e["blockHash"])) for e in logs}:
            if self._chain_hash(number) != block_hash:
                raise ChainUnavailable(f"block {number} changed while it was being read; retrying next poll")
        if self._chain_hash(last) != last_hash:
            raise ChainUnavailable(f"block {last} changed while it was being read; retrying next poll")
        applied = 0
        with self.db.session() as db:
            for entry in sorted(logs, key=lambda e: (e["blockNumber"], e["logIndex"])):
                found = self._by_topic.get((Web3.to_checksum_address(entry["address"]), bytes(entry["topics"][0])))
                if found is None:
                    continue
                source, abi = found
                decoded = get_event_data(self.w3.codec, abi, entry)
                event = ChainEvent(
                    contract=source.contract_name,
                    name=decoded["event"],
                    registration_id=source.registration_id(decoded["args"]),
                    args={k: _jsonable(v) for k, v in decoded["args"].items()},
                    block_number=entry["blockNumber"],
                    block_hash=_hex(entry["blockHash"]),
                    tx_hash=_hex(entry["transactionHash"]),
                    log_index=entry["logIndex"],
                )
                db.add(event)
                db.merge(IndexedBlock(number=event.block_number, hash=event.block_hash))
                source.apply(db, event)
                applied += 1
            db.merge(IndexedBlock(number=last, hash=last_hash))
            self._set_cursor(db, last)
        return applied

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
        """Forget every event above `block` and let each source rebuild what they had changed."""
        with self.db.session() as db:
            stale = list(db.scalars(select(ChainEvent).where(ChainEvent.block_number > block)))
            db.execute(delete(ChainEvent).where(ChainEvent.block_number > block))
            db.execute(delete(IndexedBlock).where(IndexedBlock.number > block))
            db.flush()
            everything = block < self.start_block  # tables a source once filled may hold rows of no event left
            for source in self.sources:
                own = [e for e in stale if e.contract == source.contract_name]
                if own or everything:
                    source.rebuild(db, own)
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
