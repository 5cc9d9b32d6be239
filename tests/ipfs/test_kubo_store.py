import io
import os

import pytest

from ipfs import BlockNotFound, CorruptBlock, InvalidCar, IpfsError, KuboStore, NodeMismatch, NotPinned, compute_cid, open_store
from ipfs.importer import CHUNK_SIZE


def test_version__returns_kubo_version(kubo_store):
    assert kubo_store.version() == "0.32.1"


def test_add__sends_kubo_flags_and_checks_the_cid(kubo, kubo_store):
    data = os.urandom(2 * CHUNK_SIZE + 3)
    cid = kubo_store.add(data)
    assert cid == compute_cid(data)
    command, params = kubo.calls[-1]
    assert command == "add"
    assert params["cid-version"] == "1" and params["raw-leaves"] == "true"
    assert params["chunker"] == "size-262144" and params["pin"] == "true"
    assert kubo.repo.pins() == {cid}


def test_add__stream_not_at_start__uploads_from_the_current_position(kubo_store):
    stream = io.BytesIO(b"header" + b"payload")
    stream.seek(6)
    assert kubo_store.add(stream) == compute_cid(b"payload")


def test_add__unseekable_stream__is_spooled_and_uploaded(kubo_store):
    read_end, write_end = os.pipe()
    os.write(write_end, b"from a pipe")
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        assert kubo_store.add(pipe) == compute_cid(b"from a pipe")


def test_add__node_answers_another_cid__raises_node_mismatch(kubo, kubo_store):
    kubo.lie_on_add = True
    with pytest.raises(NodeMismatch, match="answered add with CID .* but the bytes hash to") as info:
        kubo_store.add(b"image bytes")
    assert info.value.expected == compute_cid(b"image bytes")
    assert info.value.actual == compute_cid(b"image bytes!")


def test_cat__returns_verified_content(kubo_store):
    data = os.urandom(3 * CHUNK_SIZE)
    assert kubo_store.cat(kubo_store.add(data)) == data


def test_cat__node_returns_tampered_bytes__raises_node_mismatch_without_returning_them(kubo, kubo_store):
    cid = kubo_store.add(b"original")
    kubo.corrupt_content = True
    with pytest.raises(NodeMismatch, match=f"returned content for {cid} that hashes to"):
        kubo_store.cat(cid)


def test_cat__unknown_cid__raises_block_not_found(kubo_store):
    cid = compute_cid(b"never added")
    with pytest.raises(BlockNotFound, match=f"does not have {cid}"):
        kubo_store.cat(cid)


def test_get_block__tampered__raises_corrupt_block(kubo, kubo_store):
    cid = kubo_store.add(b"block")
    kubo.corrupt_content = True
    with pytest.raises(CorruptBlock, match="from Kubo at http://127.0.0.1:5001 is corrupted"):
        kubo_store.get_block(cid)


def test_has__asks_offline_and_answers_both_ways(kubo, kubo_store):
    cid = kubo_store.add(b"present")
    assert kubo_store.has(cid)
    assert not kubo_store.has(compute_cid(b"absent"))
    assert kubo.calls[-1] == ("block/stat", {"arg": compute_cid(b"absent"), "offline": "true"})


def test_pin_unpin_pins__round_trip(kubo_store):
    cid = kubo_store.add(b"pinned")
    kubo_store.unpin(cid)
    assert kubo_store.pins() == set()
    kubo_store.pin(cid)
    assert kubo_store.pins() == {cid}


def test_unpin__not_pinned__raises_not_pinned(kubo_store):
    with pytest.raises(NotPinned, match="not pinned or pinned indirectly"):
        kubo_store.unpin(compute_cid(b"x"))


def test_gc__returns_removed_blocks(kubo_store):
    cid = kubo_store.add(b"garbage soon")
    kubo_store.unpin(cid)
    assert kubo_store.gc() == [cid]


def test_export_car__verified_copy_of_the_dag(kubo_store, store):
    data = os.urandom(2 * CHUNK_SIZE)
    cid = kubo_store.add(data)
    out = io.BytesIO()
    kubo_store.export_car(cid, out)
    out.seek(0)
    assert store.import_car(out) == [cid]
    assert store.cat(cid) == data


def test_export_car__tampered_by_node__raises_invalid_car(kubo, kubo_store):
    cid = kubo_store.add(os.urandom(CHUNK_SIZE + 1))
    kubo.corrupt_content = True
    with pytest.raises(InvalidCar, match="does not match its hash"):
        kubo_store.export_car(cid, io.BytesIO())


def test_export_car__wrong_root__raises_node_mismatch(kubo, kubo_store):
    cid = kubo_store.add(b"asked for")
    kubo.export_extra_root = True
    with pytest.raises(NodeMismatch, match=f"asked for {cid}"):
        kubo_store.export_car(cid, io.BytesIO())


def test_import_car__verifies_then_uploads_and_pins(kubo, kubo_store, store):
    data = os.urandom(CHUNK_SIZE + 9)
    cid = store.add(data)
    car = io.BytesIO()
    store.export_car(cid, car)
    car.seek(0)
    assert kubo_store.import_car(car) == [cid]
    assert kubo.repo.cat(cid) == data and kubo.repo.pins() == {cid}


def test_import_car__tampered__rejected_before_upload(kubo, kubo_store, store):
    car = io.BytesIO()
    store.export_car(store.add(b"content"), car)
    tampered = bytearray(car.getvalue())
    tampered[-1] ^= 1
    with pytest.raises(InvalidCar):
        kubo_store.import_car(io.BytesIO(bytes(tampered)))
    assert all(command != "dag/import" for command, _ in kubo.calls)


def test_node_unreachable__raises_ipfs_error_naming_the_api(kubo, kubo_store):
    kubo.down = True
    with pytest.raises(IpfsError, match=r"cannot reach the Kubo RPC API at http://127.0.0.1:5001 \(version\)"):
        kubo_store.version()


def test_not_kubo__http_error_surfaces_with_status(kubo_store, kubo):
    kubo._version = lambda request, params: __import__("httpx").Response(404, text="404 page not found")
    with pytest.raises(IpfsError, match="Kubo version failed: HTTP 404: 404 page not found"):
        kubo_store.version()


def test_kubo_store__bad_url__raises_value_error():
    with pytest.raises(ValueError, match="must start with http:// or https://"):
        KuboStore("127.0.0.1:5001")


def test_open_store__picks_kubo_when_api_given(tmp_path):
    assert isinstance(open_store(tmp_path, "http://127.0.0.1:5001"), KuboStore)
    assert type(open_store(tmp_path, None)).__name__ == "LocalStore"


def test_add__text_stream__raises_type_error_before_contacting_the_node(kubo, kubo_store):
    with pytest.raises(TypeError, match="open it with 'rb'"):
        kubo_store.add(io.StringIO("text"))
    assert kubo.calls == []


def test_get_block__unknown__raises_block_not_found(kubo_store):
    cid = compute_cid(b"nowhere")
    with pytest.raises(BlockNotFound, match=f"does not have {cid}"):
        kubo_store.get_block(cid)


def test_get_block__node_down__raises_ipfs_error_not_block_not_found(kubo, kubo_store):
    kubo.down = True
    with pytest.raises(IpfsError, match="cannot reach") as info:
        kubo_store.get_block(compute_cid(b"x"))
    assert not isinstance(info.value, BlockNotFound)
