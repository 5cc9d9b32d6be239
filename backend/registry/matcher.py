"""Which registrations is an image a copy of? The matching index over final registrations.

The index (`backend.matching.MatchIndex`) holds the fingerprints of registered images, keyed by
registration id. It follows the indexer's `Registered` events: a registration whose bytes we
hold (an upload through this backend, or a file in our IPFS store) is fingerprinted and added.
Registrations made elsewhere whose file we cannot read are compared by their on-chain 64-bit
pHash instead. Results are checked against the registrations table (and a pHash match against
the registration's pHash there), so a registration dropped by a reorg is never reported.

The index is kept in a snapshot directory so that a restart does not fingerprint every
registration again: the start opens the last snapshot (its large arrays memory-mapped) and
follows only the events after it. A snapshot records where it stopped as checkpoints (chain
event id, block hash, log index); if the indexer has since rolled those events back (a reorg
deeper than its confirmations, a chain reset, another database), the matcher goes back to the
newest checkpoint still in the database and reads the registrations after it again, or rebuilds
from nothing when none is. A snapshot of another fingerprint format, or a damaged or half-written
one, is set aside with a log line and the index is rebuilt from the database.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from hashlib import sha256
from itertools import islice
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.matching import Fingerprint, InvalidImage, MatchIndex, fingerprint
from backend.matching.fingerprints import FORMAT_VERSION
from backend.models import ChainEvent, Image, Registration
from backend.registry.images import FingerprintSlots
from backend.registry.similarity import hamming

log = logging.getLogger(__name__)

SNAPSHOT_LAYOUT = 1  # the layout of a snapshot directory written by this module
SYNC_BATCH = 64  # events read per step; the index lock is released between steps
CHECKPOINTS = 64  # sync steps a rollback can undo before the matcher has to rebuild from nothing


@dataclass(frozen=True)
class Hit:
    registration: Registration
    match: str  # "exact"; what the matcher recognised: "whole", "flip", "rotation", "region"; or "phash"
    score: float
    distance: int  # pHash distance, for people who compare by eye


@dataclass(frozen=True)
class Checkpoint:
    """A `Registered` event the matcher has followed, as the database had it."""

    event_id: int
    block_hash: str
    log_index: int


class RegisteredImages:
    def __init__(self, store, *, max_bytes: int, phash_distance: int, snapshot_dir: Path | None = None,
                 slots: FingerprintSlots | None = None):
        self.store = store
        # Registrations are fingerprinted in the same slots as requests: together they stay in the bound
        self.slots = slots or FingerprintSlots(1, math.inf)
        self.max_bytes = max_bytes
        self.phash_distance = phash_distance
        self.snapshot_dir = snapshot_dir
        # `lock` guards the index and by_phash (MatchIndex is not thread-safe) and is held briefly.
        # `sync_lock` lets one thread at a time follow events or write a snapshot; it guards the
        # rest of the state, which only that thread changes.
        self.lock = threading.Lock()
        self.sync_lock = threading.Lock()
        self._start_empty()
        if snapshot_dir is not None:
            self._open_snapshot(Path(snapshot_dir))

    def _start_empty(self) -> None:
        self.index = MatchIndex()
        self.by_phash: dict[str, int] = {}  # registrations we could not fingerprint
        self.checkpoints: list[Checkpoint] = []
        self.unreadable: set[str] = set()  # pHash only because the IPFS store failed: retried at start
        self.retry: set[str] = set()
        self.verified = False  # the checkpoints were checked against the database since the start
        self.unsaved_since: float | None = None  # time.monotonic() of the oldest change not in a snapshot

    @property
    def synced_event(self) -> int:
        """The id of the last `Registered` chain event followed (0: none)."""
        return self.checkpoints[-1].event_id if self.checkpoints else 0

    # -- following the indexer ------------------------------------------------------------
    def sync(self, db: Session, *, max_events: int | None = None, wait: bool = True) -> int:
        """Add the registrations the indexer has made final since the last sync.

        Reads at most `max_events` events (all when None); with `wait=False` returns at once if
        another thread is syncing. Returns the number of events read.
        """
        if not self.sync_lock.acquire(blocking=wait):
            return 0
        try:
            self._check_checkpoints(db)
            if self.retry:
                self._retry_unreadable(db)
            read = 0
            while max_events is None or read < max_events:
                step = SYNC_BATCH if max_events is None else min(SYNC_BATCH, max_events - read)
                events = db.scalars(
                    select(ChainEvent)
                    .where(ChainEvent.id > self.synced_event, ChainEvent.name == "Registered")
                    .order_by(ChainEvent.id)
                    .limit(step)
                ).all()
                if not events:
                    break
                self._follow(db, events)
                read += len(events)
            return read
        finally:
            self.sync_lock.release()

    def _follow(self, db: Session, events: list[ChainEvent]) -> None:
        # Every event is read once, unless a rollback sends the matcher back. A registration id
        # already indexed is resolved again: after a reorg the same id can name another file or
        # pHash. Fingerprints are read or computed without the index lock: lookups go on meanwhile.
        latest = {event.registration_id: event for event in events}
        resolved = {reg_id: (self._fingerprint_of(db, reg_id), int(event.args["phash"]))
                    for reg_id, event in latest.items()}
        last = events[-1]
        with self.lock:
            for reg_id, (print_, phash) in resolved.items():
                self._put(reg_id, print_, phash)
            self.checkpoints = [*self.checkpoints, Checkpoint(last.id, last.block_hash, last.log_index)][-CHECKPOINTS:]
        self._changed()

    def _put(self, reg_id: str, print_: Fingerprint | None, phash: int) -> None:
        """Index `reg_id` by its fingerprint, or by its pHash alone (the index lock is held)."""
        if print_ is not None:
            try:
                self.index.add(reg_id, print_)  # replaces what the key had
                self.by_phash.pop(reg_id, None)
                return
            except ValueError as exc:  # refused (the index unchanged): compare by pHash
                log.error("registration %s: the matching index refused it (%s); "
                          "it is compared by its pHash only", reg_id, exc)
        if reg_id in self.index:
            self.index.remove(reg_id)
        self.by_phash[reg_id] = phash

    def _check_checkpoints(self, db: Session) -> None:
        """Go back to the newest checkpoint the database still has, if the indexer rolled back."""
        if not self.checkpoints or self._still_there(db, self.checkpoints[-1]):
            self.verified = True
            return
        # The indexer deleted events the matcher followed (SQLite may even give their ids to the
        # new branch's events). The indexer only ever deletes the newest events, so every event
        # up to the newest checkpoint still there is unchanged: follow again from that one.
        dropped = self.checkpoints[-1].event_id
        while self.checkpoints and not self._still_there(db, self.checkpoints[-1]):
            self.checkpoints.pop()
        if self.checkpoints:
            log.warning("matcher: chain event %d it followed was rolled back; reading the registrations "
                        "after event %d again", dropped, self.synced_event)
        else:
            log.warning("matcher: none of the chain events it followed (up to %d) are in the database "
                        "any more (a deep reorg, a chain reset or another database); rebuilding the index", dropped)
            with self.lock:
                self._start_empty()
        self.verified = True
        self._changed()

    @staticmethod
    def _still_there(db: Session, checkpoint: Checkpoint) -> bool:
        row = db.execute(
            select(ChainEvent.block_hash, ChainEvent.log_index).where(ChainEvent.id == checkpoint.event_id)
        ).first()
        return row is not None and (row.block_hash, row.log_index) == (checkpoint.block_hash, checkpoint.log_index)

    def _retry_unreadable(self, db: Session) -> None:
        """Fingerprint again, a step at a time, what the IPFS store failed to give before the start."""
        for reg_id in list(islice(self.retry, SYNC_BATCH)):
            self.retry.discard(reg_id)
            if reg_id in self.by_phash and (print_ := self._fingerprint_of(db, reg_id)) is not None:
                with self.lock:
                    self._put(reg_id, print_, self.by_phash[reg_id])
                self._changed()

    def _changed(self) -> None:
        if self.unsaved_since is None:
            self.unsaved_since = time.monotonic()

    def _fingerprint_of(self, db: Session, reg_id: str) -> Fingerprint | None:
        self.unreadable.discard(reg_id)
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
            if len(data) > self.max_bytes:
                return None
            with self.slots.hold(wait=math.inf):
                return fingerprint(data)
        except InvalidImage as exc:
            log.info("registration %s: its file is not an image we can fingerprint (%s)", reg_id, exc)
        except Exception as exc:  # the IPFS store is down or the content is damaged: pHash only
            log.warning("registration %s: cannot read %s from IPFS (%s)", reg_id, registration.cid, exc)
            self.unreadable.add(reg_id)
        return None

    # -- lookups --------------------------------------------------------------------------
    def find(self, db: Session, sha256: str, print_: Fingerprint, *, exclude_owner: str | None = None,
             limit: int = 20) -> list[Hit]:
        """Registrations of the same bytes, then registered images this one is a copy of."""
        return self.find_many(db, [(sha256, print_)], exclude_owner=exclude_owner, limit=limit)[0]

    def find_many(self, db: Session, images: list[tuple[str, Fingerprint]], *, exclude_owner: str | None = None,
                  limit: int = 20) -> list[list[Hit]]:
        """`find` for several images (sha256, fingerprint) at once, in their order: the index is
        brought up to date once, and the registrations are read in two queries, not per image
        (the crawler looks up every image of a page together)."""
        # A request reads at most one step of new events, and none while the scheduler's job is
        # reading them (it catches up in the background); but it waits for the first check of a
        # snapshot's checkpoints against the database.
        self.sync(db, max_events=SYNC_BATCH, wait=not self.verified)
        with self.lock:
            found = [(self.index.search(print_, limit=limit + 1),
                      [reg_id for reg_id, phash in self.by_phash.items()
                       if hamming(print_.phash64, phash) <= self.phash_distance]) for _, print_ in images]
        wanted = {sha256 for sha256, _ in images}
        wanted.update(m.key for matches, _ in found for m in matches)
        wanted.update(reg_id for _, near in found for reg_id in near)
        registrations = {r.id: r for r in db.scalars(select(Registration).where(Registration.id.in_(wanted)))} \
            if wanted else {}
        answers = []
        for (sha256, print_), (matches, near) in zip(images, found):
            hits: dict[str, Hit] = {}
            exact = registrations.get(sha256)
            if exact is not None:
                hits[sha256] = Hit(exact, "exact", 1.0, 0)
            for match in matches:
                registration = registrations.get(match.key)
                if registration is not None and match.key not in hits:
                    hits[match.key] = Hit(registration, match.kind, match.score,
                                          hamming(print_.phash64, int(registration.phash, 16)))
            for reg_id in near:
                registration = registrations.get(reg_id)
                if registration is None or reg_id in hits:
                    continue
                distance = hamming(print_.phash64, int(registration.phash, 16))  # its pHash now, not when synced
                if distance <= self.phash_distance:
                    hits[reg_id] = Hit(registration, "phash", 1 - distance / 64, distance)
            ordered = sorted(hits.values(), key=lambda h: (h.match != "exact", -h.score))
            answers.append([h for h in ordered if h.registration.owner != exclude_owner][:limit])
        return answers

    # -- snapshots ------------------------------------------------------------------------
    def unsaved_for(self) -> float | None:
        """Seconds since the oldest change that no snapshot holds yet; None if there is none."""
        since = self.unsaved_since
        return None if since is None else time.monotonic() - since

    def save_snapshot(self) -> bool:
        """Write the index and where it stands to the snapshot directory, if anything changed.

        Returns whether a snapshot was written. The previous snapshot stays the current one
        until the new one is complete on disk; on an error the new one is removed and the error
        raised. Lookups wait while the index itself is written.
        """
        if self.snapshot_dir is None:
            return False
        with self.sync_lock:
            if self.unsaved_since is None:
                return False
            state = {
                "layout": SNAPSHOT_LAYOUT,
                "fingerprint_format": FORMAT_VERSION,
                "checkpoints": [[c.event_id, c.block_hash, c.log_index] for c in self.checkpoints],
                "unreadable": sorted(self.unreadable & set(self.by_phash)),
                "images": len(self.index),
                "phash_only": len(self.by_phash),
            }
            started = time.monotonic()

            def save_index(directory: Path) -> None:
                with self.lock:
                    self.index.save(directory)

            written = _write_snapshot(Path(self.snapshot_dir), save_index, dict(self.by_phash), state)
            if written:
                self.unsaved_since = None
                log.info("matcher: snapshot of %d images (%d by pHash only) up to chain event %d written in %.1f s",
                         state["images"], state["phash_only"], self.synced_event, time.monotonic() - started)
            return written

    def _open_snapshot(self, root: Path) -> None:
        loaded = _read_snapshot(root)
        if loaded is None:
            return
        self.index, self.by_phash, state = loaded
        self.checkpoints = [Checkpoint(*c) for c in state["checkpoints"]]
        self.unreadable = set(state["unreadable"])
        self.retry = set(self.unreadable)
        log.info("matcher: opened the snapshot of %d images (%d by pHash only) up to chain event %d",
                 len(self.index), len(self.by_phash), self.synced_event)


# -- the snapshot directory -------------------------------------------------------------------
#
#   CURRENT              {"snapshot": "snapshot-<hex>", "state_sha256": ...}, replaced atomically
#   snapshot-<hex>/      index/ (MatchIndex.save), by_phash_ids.npy, by_phash_values.npy,
#                        state.json (where it stands; the size of every file above, and the
#                        SHA-256 of those that are not memory-mapped arrays)
#   .tmp-<hex>/          a snapshot being written (renamed to snapshot-<hex> once complete)
#   .lock                flock: shared to open a snapshot, exclusive to switch CURRENT and clean up
#   .write-lock          flock: one writer at a time (across processes)

_SNAPSHOT_NAME = re.compile(r"snapshot-[0-9a-f]{32}")


class DamagedSnapshot(ValueError):
    """A snapshot directory is incomplete or does not hold what its state says."""


@contextmanager
def _flock(path: Path, mode: int) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _describe(path: Path) -> list:
    """[size, SHA-256 or None]: arrays, which are memory-mapped, are checked by their size only
    (hashing them would read them all at start); the other files are read whole anyway."""
    digest = None if path.suffix == ".npy" else sha256(path.read_bytes()).hexdigest()
    return [path.stat().st_size, digest]


def _files(directory: Path) -> dict[str, list]:
    return {p.relative_to(directory).as_posix(): _describe(p) for p in sorted(directory.rglob("*")) if p.is_file()}


def _write_snapshot(root: Path, save_index, by_phash: dict[str, int], state: dict) -> bool:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".write-lock", "a") as writer:  # closing it releases the lock
        try:
            fcntl.flock(writer, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("matcher: another process is writing a snapshot to %s; not writing one now", root)
            return False
        for leftover in root.glob(".tmp-*"):  # from a writer that died (we hold the write lock)
            shutil.rmtree(leftover, ignore_errors=True)
        name = uuid.uuid4().hex
        temporary, final = root / f".tmp-{name}", root / f"snapshot-{name}"
        published = False
        try:
            temporary.mkdir()
            save_index(temporary / "index")
            keys = list(by_phash)
            np.save(temporary / "by_phash_ids.npy", np.array([k.encode() for k in keys], dtype=bytes))
            np.save(temporary / "by_phash_values.npy", np.array([by_phash[k] for k in keys], dtype=np.uint64))
            state = {**state, "files": _files(temporary)}
            (temporary / "state.json").write_text(json.dumps(state))
            for path in sorted(temporary.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                _fsync(path)  # files, then their directories, deepest first
            _fsync(temporary)
            temporary.rename(final)
            _fsync(root)
            current = json.dumps({"snapshot": final.name,
                                  "state_sha256": sha256((final / "state.json").read_bytes()).hexdigest()})
            with _flock(root / ".lock", fcntl.LOCK_EX):
                (root / "CURRENT.tmp").write_text(current)
                _fsync(root / "CURRENT.tmp")
                os.replace(root / "CURRENT.tmp", root / "CURRENT")
                published = True
                _fsync(root)
                for old in root.glob("snapshot-*"):
                    if old != final:
                        shutil.rmtree(old, ignore_errors=True)
        finally:
            if not published:  # the previous snapshot stays the current one
                (root / "CURRENT.tmp").unlink(missing_ok=True)
                shutil.rmtree(temporary, ignore_errors=True)
                shutil.rmtree(final, ignore_errors=True)
    return True


def _read_snapshot(root: Path) -> tuple[MatchIndex, dict[str, int], dict] | None:
    """The index, the pHash-only registrations and the state of the current snapshot, or None
    (logged) when there is none or it cannot be used."""
    if not (root / "CURRENT").exists():
        if root.exists() and any(root.glob("snapshot-*")):
            log.warning("matcher: %s has snapshots but no CURRENT record; rebuilding the index from the database", root)
        else:
            log.info("matcher: no snapshot in %s yet; building the index from the database", root)
        return None
    try:
        with _flock(root / ".lock", fcntl.LOCK_SH):
            return _open_current(root)
    except Exception as exc:  # whatever is wrong with it, the database can rebuild the index
        log.warning("matcher: the snapshot in %s cannot be used (%s); rebuilding the index from the database",
                    root, exc)
        return None


def _open_current(root: Path) -> tuple[MatchIndex, dict[str, int], dict]:
    current = json.loads((root / "CURRENT").read_text())
    name = current["snapshot"]
    if not isinstance(name, str) or not _SNAPSHOT_NAME.fullmatch(name):
        raise DamagedSnapshot(f"CURRENT names {name!r}, not a snapshot")
    directory = root / name
    raw_state = (directory / "state.json").read_bytes()
    if sha256(raw_state).hexdigest() != current["state_sha256"]:
        raise DamagedSnapshot(f"{name}/state.json is not the one CURRENT recorded")
    state = json.loads(raw_state)
    if state["layout"] != SNAPSHOT_LAYOUT:
        raise DamagedSnapshot(f"snapshot layout {state['layout']}, this version reads {SNAPSHOT_LAYOUT}")
    if state["fingerprint_format"] != FORMAT_VERSION:
        raise DamagedSnapshot(f"written with fingerprint format {state['fingerprint_format']}, "
                              f"this version computes format {FORMAT_VERSION}")
    for file, written in state["files"].items():
        if not (directory / file).is_file():
            raise DamagedSnapshot(f"{name}/{file} is missing")
        if _describe(directory / file) != written:
            raise DamagedSnapshot(f"{name}/{file} is not the file that was written ({written[0]} bytes)")
    index = MatchIndex.open(directory / "index")
    ids = np.load(directory / "by_phash_ids.npy")
    values = np.load(directory / "by_phash_values.npy")
    if len(index) != state["images"] or len(ids) != len(values) or len(ids) != state["phash_only"]:
        raise DamagedSnapshot(f"{name} holds {len(index)} images and {len(ids)} pHashes, "
                              f"its state says {state['images']} and {state['phash_only']}")
    by_phash = {key.decode(): int(value) for key, value in zip(ids, values)}
    for event_id, block_hash, log_index in state["checkpoints"]:
        if not (isinstance(event_id, int) and isinstance(block_hash, str) and isinstance(log_index, int)):
            raise DamagedSnapshot(f"{name}/state.json has a malformed checkpoint")
    if not all(isinstance(reg_id, str) for reg_id in state["unreadable"]):
        raise DamagedSnapshot(f"{name}/state.json is malformed")
    return index, by_phash, state
