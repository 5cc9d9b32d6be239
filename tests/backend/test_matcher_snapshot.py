"""The matching index survives a restart through its snapshot: a restart answers the same lookups
without fingerprinting anything again, follows only the events after the snapshot, rebuilds from
the database when the snapshot cannot be trusted, and never reports what a reorg dropped."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import threading
from itertools import count

import pytest
from PIL import ImageOps
from eth_account import Account
from sqlalchemy import delete, select

from backend.chain.register import Item
from backend.jobs import follow_registrations
from backend.matching import MatchIndex, fingerprint
from backend.matching.fingerprints import FORMAT_VERSION
from backend.models import ChainEvent, Registration
from backend.registry.matcher import SYNC_BATCH, RegisteredImages
from backend.services import Services
from ipfs import compute_cid
from tests.images import encode, picture

OWNER = "0x" + "11" * 20
_blocks = count(1)


@functools.cache
def photo(seed: int) -> bytes:
    return encode(picture(seed, (640, 480)), "JPEG")


@functools.cache
def print_of(data: bytes):
    return fingerprint(data)


def resized_copy(seed: int) -> bytes:
    """An edited copy the matcher recognises from the fingerprint ("whole"), not from the pHash."""
    return encode(picture(seed, (640, 480)).resize((320, 240)), "PNG")


def flipped_copy(seed: int) -> bytes:
    """A copy only the fingerprint recognises: a mirror image's pHash is far from the original's."""
    return encode(ImageOps.mirror(picture(seed, (640, 480))), "JPEG")


def recompressed_copy(seed: int) -> bytes:
    """A copy close enough in pHash for a registration known by its pHash only."""
    return encode(picture(seed, (640, 480)), "JPEG", quality=50)


def sha(data: bytes) -> str:
    return "0x" + hashlib.sha256(data).hexdigest()


def add_registration(services, seed: int, *, in_store: bool = True, reg_id: str | None = None,
                     phash: int | None = None) -> str:
    """What the indexer writes for a final `Registered` event: the event and the registration.
    `in_store`: the file is in our IPFS store (fingerprinted), else only its pHash is known."""
    data = photo(seed)
    reg_id = reg_id or sha(data)
    phash = print_of(data).phash64 if phash is None else phash
    cid = services.store.add(data) if in_store else compute_cid(data)
    block = next(_blocks)
    block_hash = "0x" + os.urandom(32).hex()
    with services.db.session() as db:
        db.add(ChainEvent(name="Registered", registration_id=reg_id, args={"phash": str(phash)},
                          block_number=block, block_hash=block_hash, tx_hash=block_hash, log_index=0))
        db.merge(Registration(id=reg_id, owner=OWNER, phash=f"{phash:016x}", cid=cid, registered_at=block,
                              tx_hash=block_hash, block_number=block))
    return reg_id


def found(services, matcher: RegisteredImages, data: bytes) -> list[tuple[str, str]]:
    with services.db.session() as db:
        return [(h.registration.id, h.match) for h in matcher.find(db, sha(data), print_of(data))]


def sync(services, matcher: RegisteredImages) -> None:
    with services.db.session() as db:
        matcher.sync(db)


class UnreadableStore:
    """An IPFS store that fails on every call: nothing can be fingerprinted from it."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("the IPFS store is down")
        return fail


@pytest.fixture
def services(settings):
    services = Services(settings)
    services.db.migrate()
    yield services
    services.close()


@pytest.fixture
def fingerprinted(monkeypatch) -> list[str]:
    """The registrations whose fingerprint the matcher looks up or computes, in order."""
    calls = []
    original = RegisteredImages._fingerprint_of

    def counting(self, db, reg_id):
        calls.append(reg_id)
        return original(self, db, reg_id)

    monkeypatch.setattr(RegisteredImages, "_fingerprint_of", counting)
    return calls


@pytest.fixture
def restart(settings):
    """A new backend process on the same data directory and database."""
    started = []

    def start(*, store=None) -> Services:
        services = Services(settings)
        if store is not None:
            services.store = store
        started.append(services)
        return services

    yield start
    for services in started:
        services.close()


def snapshot_root(services):
    return services.settings.resolved_matcher_snapshot_dir


def current_snapshot(services):
    return snapshot_root(services) / json.loads((snapshot_root(services) / "CURRENT").read_text())["snapshot"]


def test_restart__opens_the_snapshot_and_answers_without_fingerprinting_again(services, restart, fingerprinted):
    first, second = add_registration(services, 101), add_registration(services, 102)
    elsewhere = add_registration(services, 103, in_store=False)
    queries = [resized_copy(101), resized_copy(102), recompressed_copy(103)]
    before = [found(services, services.matcher, q) for q in queries]
    assert before == [[(first, "whole")], [(second, "whole")], [(elsewhere, "phash")]]
    assert services.matcher.save_snapshot()
    fingerprinted.clear()

    restarted = restart(store=UnreadableStore())
    assert [found(restarted, restarted.matcher, q) for q in queries] == before
    assert fingerprinted == []
    assert restarted.matcher.synced_event == services.matcher.synced_event


def test_nothing_changed__no_snapshot_is_written(services):
    add_registration(services, 104)
    sync(services, services.matcher)
    assert services.matcher.save_snapshot()
    written = current_snapshot(services)
    sync(services, services.matcher)
    assert not services.matcher.save_snapshot()
    assert current_snapshot(services) == written


def test_events_after_the_snapshot__are_picked_up(services, restart, fingerprinted):
    first = add_registration(services, 105)
    sync(services, services.matcher)
    services.matcher.save_snapshot()
    later = add_registration(services, 106)
    fingerprinted.clear()

    restarted = restart()
    assert found(restarted, restarted.matcher, resized_copy(106)) == [(later, "whole")]
    assert found(restarted, restarted.matcher, resized_copy(105)) == [(first, "whole")]
    assert fingerprinted == [later]


def test_snapshot_of_another_fingerprint_format__is_rebuilt(services, restart, fingerprinted, monkeypatch, caplog):
    registered = add_registration(services, 107)
    sync(services, services.matcher)
    services.matcher.save_snapshot()
    fingerprinted.clear()
    # A new version of the backend computes another fingerprint format.
    monkeypatch.setattr("backend.registry.matcher.FORMAT_VERSION", FORMAT_VERSION + 1)

    with caplog.at_level(logging.WARNING, "backend.registry.matcher"):
        restarted = restart()
        assert found(restarted, restarted.matcher, resized_copy(107)) == [(registered, "whole")]
    assert f"written with fingerprint format {FORMAT_VERSION}" in caplog.text and "rebuilding" in caplog.text
    assert fingerprinted == [registered]
    assert restarted.matcher.save_snapshot()
    assert json.loads((current_snapshot(restarted) / "state.json").read_text())["fingerprint_format"] == FORMAT_VERSION + 1


def _truncate_largest_array(root):
    largest = max((p for p in root.rglob("*.npy")), key=lambda p: p.stat().st_size)
    largest.write_bytes(largest.read_bytes()[: largest.stat().st_size // 2])


def _drop_the_segments_keeping_the_size(root):
    meta = root / "codes" / "meta.json"
    text = meta.read_text()
    assert '"segments": 1' in text
    meta.write_text(text.replace('"segments": 1', '"segments": 0'))  # opens fine, finds nothing


DAMAGE = {
    "truncated array": lambda services: _truncate_largest_array(current_snapshot(services) / "index"),
    "index metadata altered": lambda services: _drop_the_segments_keeping_the_size(current_snapshot(services) / "index"),
    "missing keys": lambda services: (current_snapshot(services) / "index" / "keys.json").unlink(),
    "state edited": lambda services: (current_snapshot(services) / "state.json").write_text('{"layout": 1}'),
    "CURRENT garbage": lambda services: (snapshot_root(services) / "CURRENT").write_text("\x00\x01garbage"),
    "CURRENT names nothing": lambda services: (snapshot_root(services) / "CURRENT").write_text(
        json.dumps({"snapshot": "snapshot-" + "0" * 32, "state_sha256": "0" * 64})),
    "written but never made current": lambda services: (snapshot_root(services) / "CURRENT").unlink(),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_snapshot__is_rebuilt_from_the_database(services, restart, fingerprinted, caplog, damage):
    first, second = add_registration(services, 108), add_registration(services, 109)
    sync(services, services.matcher)
    services.matcher.save_snapshot()
    DAMAGE[damage](services)
    fingerprinted.clear()

    with caplog.at_level(logging.WARNING, "backend.registry.matcher"):
        restarted = restart()
        assert found(restarted, restarted.matcher, resized_copy(108)) == [(first, "whole")]
        assert found(restarted, restarted.matcher, resized_copy(109)) == [(second, "whole")]
    assert "rebuilding the index from the database" in caplog.text
    assert sorted(fingerprinted) == sorted([first, second])


def _fail_halfway_through_the_index(monkeypatch):
    def save(index, directory):
        directory.mkdir(parents=True)
        (directory / "keys.json").write_text('{"entries": ')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(MatchIndex, "save", save)


def _fail_when_switching_current(monkeypatch):
    replace = os.replace

    def failing(source, target, *args, **kwargs):
        if str(target).endswith("CURRENT"):
            raise OSError(5, "Input/output error")
        return replace(source, target, *args, **kwargs)

    monkeypatch.setattr("backend.registry.matcher.os.replace", failing)


@pytest.mark.parametrize("failure", [_fail_halfway_through_the_index, _fail_when_switching_current])
def test_failed_write__keeps_the_previous_snapshot(services, restart, fingerprinted, monkeypatch, failure):
    first = add_registration(services, 110)
    sync(services, services.matcher)
    services.matcher.save_snapshot()
    previous = current_snapshot(services)
    later = add_registration(services, 111)
    sync(services, services.matcher)
    with monkeypatch.context() as patch:
        failure(patch)
        with pytest.raises(OSError):
            services.matcher.save_snapshot()
    assert current_snapshot(services) == previous
    assert sorted(p.name for p in snapshot_root(services).iterdir() if not p.name.startswith(".")) == [
        "CURRENT", previous.name]
    assert services.matcher.unsaved_for() is not None  # the next save tries again
    fingerprinted.clear()

    restarted = restart()
    assert found(restarted, restarted.matcher, resized_copy(110)) == [(first, "whole")]
    assert found(restarted, restarted.matcher, resized_copy(111)) == [(later, "whole")]
    assert fingerprinted == [later]  # the previous snapshot had the first one


def test_snapshot_from_another_database__is_rebuilt_and_its_entries_never_reported(services, restart, caplog):
    gone = add_registration(services, 112)
    sync(services, services.matcher)
    services.matcher.save_snapshot()
    with services.db.session() as db:  # the database is reset; its first event gets id 1 again
        db.execute(delete(ChainEvent))
        db.execute(delete(Registration))
    fresh = add_registration(services, 113)

    with caplog.at_level(logging.WARNING, "backend.registry.matcher"):
        restarted = restart()
        assert found(restarted, restarted.matcher, resized_copy(112)) == []
        assert found(restarted, restarted.matcher, resized_copy(113)) == [(fresh, "whole")]
    assert "rebuilding the index" in caplog.text
    assert gone not in restarted.matcher.index


def test_registration_known_by_phash__reported_only_by_its_phash_in_the_table(services):
    """The pHash the matcher keeps is only a candidate: the registration's pHash decides."""
    reg_id = add_registration(services, 114, in_store=False)
    assert found(services, services.matcher, recompressed_copy(114)) == [(reg_id, "phash")]
    with services.db.session() as db:
        db.get(Registration, reg_id).phash = f"{print_of(photo(115)).phash64:016x}"
    assert found(services, services.matcher, recompressed_copy(114)) == []


def test_ipfs_down_while_syncing__retried_after_a_restart(services, restart):
    reg_id = add_registration(services, 116)
    services.store = UnreadableStore()
    assert found(services, services.matcher, flipped_copy(116)) == []
    services.matcher.save_snapshot()

    restarted = restart()
    assert found(restarted, restarted.matcher, flipped_copy(116)) == [(reg_id, "flip")]


def test_lookup__does_not_wait_while_the_job_is_syncing(services):
    first = add_registration(services, 117)
    assert found(services, services.matcher, resized_copy(117)) == [(first, "whole")]
    later = add_registration(services, 118)
    with services.matcher.sync_lock:  # the scheduler's job is reading events
        answer = []
        lookup = threading.Thread(target=lambda: answer.append(found(services, services.matcher, resized_copy(118))))
        lookup.start()
        lookup.join(timeout=30)
        assert answer == [[]]
    assert found(services, services.matcher, resized_copy(118)) == [(later, "whole")]


# -- the scheduler's job ----------------------------------------------------------------------

def add_phash_only_registrations(services, n: int) -> list[str]:
    """Registrations whose files we do not hold: cheap to follow (nothing to fingerprint)."""
    ids = []
    with services.db.session() as db:
        for i in range(n):
            reg_id, block = "0x" + os.urandom(32).hex(), next(_blocks)
            db.add(ChainEvent(name="Registered", registration_id=reg_id, args={"phash": str(i)},
                              block_number=block, block_hash=reg_id, tx_hash=reg_id, log_index=0))
            db.add(Registration(id=reg_id, owner=OWNER, phash=f"{i:016x}", cid=compute_cid(reg_id.encode()),
                                registered_at=block, tx_hash=reg_id, block_number=block))
            ids.append(reg_id)
    return ids


@pytest.mark.parametrize("settings", [{"matcher_snapshot_interval": 0}], indirect=True)
def test_job__follows_every_event_in_steps_and_writes_a_snapshot(services, restart):
    ids = add_phash_only_registrations(services, 2 * SYNC_BATCH + 5)
    follow_registrations(services)
    assert set(services.matcher.by_phash) == set(ids)
    with services.db.session() as db:
        last = db.scalar(select(ChainEvent.id).order_by(ChainEvent.id.desc()).limit(1))
    state = json.loads((current_snapshot(services) / "state.json").read_text())
    assert state["checkpoints"][-1][0] == last and state["phash_only"] == len(ids)
    assert set(restart().matcher.by_phash) == set(ids)


def test_job__keeps_changes_in_memory_until_they_are_older_than_the_interval(services):
    add_phash_only_registrations(services, 3)
    follow_registrations(services)
    assert len(services.matcher.by_phash) == 3
    assert not (snapshot_root(services) / "CURRENT").exists()


def test_job__stops_at_shutdown(services):
    add_phash_only_registrations(services, 3)
    services.stopping.set()
    follow_registrations(services)
    assert services.matcher.by_phash == {}


# -- reorgs on a real chain -------------------------------------------------------------------

def register_on_chain(services, chain, account, items: list[Item]) -> None:
    chain.fund(account.address)
    services.register().register_with_key(account.key.to_0x_hex(), items)


def item(services, seed: int, *, reg_id: str | None = None, in_store: bool = True, phash_of: int | None = None) -> Item:
    data = photo(seed)
    phash = print_of(photo(phash_of if phash_of is not None else seed)).phash64
    cid = services.store.add(data) if in_store else compute_cid(data)
    return Item(reg_id or sha(data), f"{phash:016x}", cid)


@pytest.mark.parametrize("restart_when", ["after the new branch", "between the rollback and the new branch"])
def test_reorg_after_the_snapshot__dropped_registrations_are_not_reported_and_the_new_branch_is_followed(
        services, restart, chain, fingerprinted, database_kind, caplog, restart_when):
    artist = Account.create()
    indexer = services.indexer()
    kept = item(services, 120)
    register_on_chain(services, chain, artist, [kept])
    indexer.poll()
    sync(services, services.matcher)
    fork = chain.snapshot()
    # On the branch that will be dropped: A (file in our store) and C (known by its pHash).
    dropped_file, dropped_phash = item(services, 121), item(services, 122, in_store=False)
    register_on_chain(services, chain, artist, [dropped_file, dropped_phash])
    indexer.poll()
    with services.db.session() as db:
        dropped_event_ids = set(db.scalars(select(ChainEvent.id).where(
            ChainEvent.registration_id.in_([dropped_file.content_hash, dropped_phash.content_hash]))))
    assert found(services, services.matcher, resized_copy(121)) == [(dropped_file.content_hash, "whole")]
    assert services.matcher.save_snapshot()

    # The chain forgets those blocks; the new branch registers A's id with another file (E),
    # C's id with the pHash of another picture (D), and a new registration B.
    chain.revert(fork)
    chain.mine(6)
    assert indexer.poll().rolled_back_to is not None
    fingerprinted.clear()
    with caplog.at_level(logging.WARNING, "backend.registry.matcher"):
        if restart_when == "between the rollback and the new branch":
            restarted = restart()
            assert found(restarted, restarted.matcher, resized_copy(121)) == []
        reused_file = item(services, 123, reg_id=dropped_file.content_hash)
        reused_phash = item(services, 122, in_store=False, phash_of=124)
        new = item(services, 125)
        register_on_chain(services, chain, artist, [new, reused_file, reused_phash])
        indexer.poll()
        with services.db.session() as db:
            new_event_ids = set(db.scalars(select(ChainEvent.id).where(ChainEvent.name == "Registered")))
        if database_kind == "sqlite":  # SQLite gives the dropped events' ids to the new branch's events
            assert dropped_event_ids <= new_event_ids
        if restart_when == "after the new branch":
            restarted = restart()

        assert found(restarted, restarted.matcher, resized_copy(121)) == []  # A's old file
        assert found(restarted, restarted.matcher, recompressed_copy(122)) == []  # C's old pHash
        assert found(restarted, restarted.matcher, resized_copy(125)) == [(new.content_hash, "whole")]
        assert found(restarted, restarted.matcher, resized_copy(123)) == [(dropped_file.content_hash, "whole")]
        assert found(restarted, restarted.matcher, recompressed_copy(124)) == [(dropped_phash.content_hash, "phash")]
        assert found(restarted, restarted.matcher, resized_copy(120)) == [(kept.content_hash, "whole")]
    assert "was rolled back" in caplog.text
    assert kept.content_hash not in fingerprinted  # the events before the fork were not read again


def test_registration_the_index_refuses__is_compared_by_its_phash(services, monkeypatch, caplog):
    def refuse(self, key, fingerprint):
        raise ValueError("this index can address no more features; shard the registered images")

    monkeypatch.setattr("backend.matching.MatchIndex.add", refuse)
    reg_id = add_registration(services, 118)

    assert found(services, services.matcher, recompressed_copy(118)) == [(reg_id, "phash")]
    assert "the matching index refused it" in caplog.text
