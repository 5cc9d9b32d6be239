import io
import os
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipfs import BlockNotFound, CorruptBlock, LocalStore, NotPinned, compute_cid
from ipfs.cids import RAW, cid_text, digest_of, make_cid, parse_cid
from ipfs.importer import CHUNK_SIZE, iter_blocks


def _blocks(data: bytes) -> list[str]:
    return [cid_text(block.cid) for block in iter_blocks(data)]


def _block_file(store: LocalStore, cid: str):
    path = store.block_path(cid)
    assert path.parent.parent == store.root / "blocks" and path.name.startswith("CIQ")  # Kubo's flatfs naming
    return path


def _as_raw(cids) -> set[str]:
    return {cid_text(make_cid(RAW, digest_of(parse_cid(cid)))) for cid in cids}


def test_add__bytes__returns_reference_cid_and_pins(store):
    data = os.urandom(3 * CHUNK_SIZE + 10)
    cid = store.add(data)
    assert cid == compute_cid(data)
    assert store.pins() == {cid}
    assert store.cat(cid) == data


def test_add__stream__stores_every_block_in_sharded_layout(store):
    data = os.urandom(2 * CHUNK_SIZE + 1)
    cid = store.add(io.BytesIO(data))
    for block in _blocks(data):
        assert _block_file(store, block).is_file()
        assert store.has(block)
    assert cid == _blocks(data)[-1]


def test_open__multi_block_file__yields_verified_chunks_in_order(store):
    data = os.urandom(5 * CHUNK_SIZE)
    chunks = list(store.open(store.add(data)))
    assert [len(chunk) for chunk in chunks] == [CHUNK_SIZE] * 5
    assert b"".join(chunks) == data


def test_cat__unknown_cid__raises_block_not_found(store):
    cid = compute_cid(b"never added")
    with pytest.raises(BlockNotFound, match=f"block {cid} is not in the local store") as info:
        store.cat(cid)
    assert info.value.cid == cid
    assert not store.has(cid)


def test_cat__corrupted_leaf_on_disk__raises_corrupt_block_naming_the_file(store):
    data = os.urandom(2 * CHUNK_SIZE)
    cid = store.add(data)
    leaf = _blocks(data)[1]
    path = _block_file(store, leaf)
    damaged = bytearray(path.read_bytes())
    damaged[100] ^= 0xFF
    path.write_bytes(bytes(damaged))
    with pytest.raises(CorruptBlock, match=f"block {leaf} from {path} is corrupted") as info:
        store.cat(cid)
    assert info.value.cid == leaf


def test_cat__corrupted_root_node__raises_before_any_byte_is_returned(store):
    data = os.urandom(2 * CHUNK_SIZE)
    cid = store.add(data)
    _block_file(store, cid).write_bytes(b"\x12\x00garbage")
    chunks = store.open(cid)
    with pytest.raises(CorruptBlock, match=f"block {cid} from .* is corrupted"):
        next(chunks)


def test_open__leaf_deleted__raises_block_not_found_for_that_leaf(store):
    data = os.urandom(3 * CHUNK_SIZE)
    cid = store.add(data)
    missing = _blocks(data)[2]
    _block_file(store, missing).unlink()
    with pytest.raises(BlockNotFound, match=missing):
        b"".join(store.open(cid))


def test_add__again_after_corruption__repairs_the_block(store):
    data = os.urandom(CHUNK_SIZE + 1)
    cid = store.add(data)
    leaf = _blocks(data)[0]
    _block_file(store, leaf).write_bytes(b"bit rot")
    assert store.add(data) == cid
    assert store.cat(cid) == data


def test_add__crash_while_renaming__leaves_no_block_under_its_name(store, monkeypatch):
    def crash(*args):
        raise OSError("disk unplugged")

    monkeypatch.setattr(os, "replace", crash)
    data = b"half written"
    with pytest.raises(OSError, match="disk unplugged"):
        store.add(data)
    monkeypatch.undo()
    assert not store.has(compute_cid(data))
    assert list((store.root / "tmp").iterdir()) == []


def test_gc__stale_temporary_file__is_removed_and_never_read_as_a_block(store):
    (store.root / "tmp" / "abc.partial").write_bytes(b"half a block")
    assert store.gc() == []
    assert list((store.root / "tmp").iterdir()) == []


def test_gc__unpinned_file__removes_only_blocks_no_pin_needs(store):
    shared = os.urandom(CHUNK_SIZE)
    kept_data = shared + os.urandom(CHUNK_SIZE)
    dropped_data = shared + os.urandom(CHUNK_SIZE)
    kept = store.add(kept_data)
    dropped = store.add(dropped_data)
    store.unpin(dropped)
    removed = store.gc()
    assert set(removed) == _as_raw(set(_blocks(dropped_data)) - set(_blocks(kept_data)))
    assert len(removed) == 2  # the dropped file's own leaf and its root node
    assert store.cat(kept) == kept_data
    with pytest.raises(BlockNotFound):
        store.cat(dropped)
    assert store.gc() == []


def test_gc__waits_for_a_running_add(store):
    adding = store._lock(exclusive=False)
    adding.__enter__()
    finished = threading.Event()
    worker = threading.Thread(target=lambda: (store.gc(), finished.set()))
    worker.start()
    assert not finished.wait(0.3), "gc must not sweep while a writer holds the lock"
    adding.__exit__(None, None, None)
    worker.join(5)
    assert finished.is_set()


def test_pin__missing_block__raises_and_does_not_pin(store):
    data = os.urandom(2 * CHUNK_SIZE)
    cid = store.add(data)
    store.unpin(cid)
    _block_file(store, _blocks(data)[0]).unlink()
    with pytest.raises(BlockNotFound, match=f"under {cid} is not in the local store"):
        store.pin(cid)
    assert store.pins() == set()


def test_pin__unknown_cid__raises_block_not_found(store):
    with pytest.raises(BlockNotFound):
        store.pin(compute_cid(b"nothing"))


def test_unpin__not_pinned__raises_not_pinned(store):
    cid = compute_cid(b"x")
    with pytest.raises(NotPinned, match=f"{cid} is not pinned"):
        store.unpin(cid)


def test_add__text_mode_file__raises_type_error(store, tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("hello")
    with open(path) as text, pytest.raises(TypeError, match="open it with 'rb'"):
        store.add(text)


def test_add__path_string__raises_type_error(store):
    with pytest.raises(TypeError, match=r"open a path with open\(path, 'rb'\)"):
        store.add("/etc/passwd")


class _ShortReads(io.RawIOBase):
    """A pipe-like stream that returns at most ``step`` bytes per read."""

    def __init__(self, data: bytes, step: int):
        self._data, self._pos, self._step = data, 0, step

    def readable(self):
        return True

    def read(self, size=-1):
        size = self._step if size < 0 else min(size, self._step)
        piece = self._data[self._pos : self._pos + size]
        self._pos += len(piece)
        return piece


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(0, 3 * CHUNK_SIZE + 7),
    step=st.integers(1, 2 * CHUNK_SIZE),
)
def test_add_then_cat__any_size_any_read_pattern__roundtrips(store, size, step):
    data = os.urandom(size)
    cid = store.add(_ShortReads(data, step))
    assert cid == compute_cid(data)
    assert store.cat(cid) == data


def test_gc__foreign_files_under_blocks__left_alone(store):
    (store.root / "blocks" / "README").write_text("operator notes")
    (store.root / "blocks" / "AB").mkdir(exist_ok=True)
    (store.root / "blocks" / "AB" / "notes.txt").write_text("keep")
    assert store.gc() == []
    assert (store.root / "blocks" / "README").exists() and (store.root / "blocks" / "AB" / "notes.txt").exists()
