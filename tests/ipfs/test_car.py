import io
import os

import cbor2
import pytest

from ipfs import InvalidCar, LocalStore
from ipfs.car import CarReader, encode_header, encode_section
from ipfs.cids import cid_text, parse_cid
from ipfs.importer import CHUNK_SIZE, iter_blocks


@pytest.fixture
def data():
    return os.urandom(3 * CHUNK_SIZE + 5)


@pytest.fixture
def car(store, data) -> bytes:
    out = io.BytesIO()
    store.export_car(store.add(data), out)
    return out.getvalue()


def test_export_car__header_is_canonical_dag_cbor_with_the_root(store, data, car):
    root = parse_cid(store.add(data))
    length = car[0]
    # {"roots": [CID], "version": 1} with the CID as tag 42 over 0x00 + binary CID, keys sorted
    expected = b"\xa2eroots\x81\xd8\x2a\x58\x25\x00" + root + b"gversion\x01"
    assert car[1 : 1 + length] == expected


def test_export_car__blocks_parents_first_each_once(store, car):
    zeros = bytes(4 * CHUNK_SIZE)  # four identical leaves: one block in the CAR
    out = io.BytesIO()
    store.export_car(store.add(zeros), out)
    out.seek(0)
    blocks = list(CarReader(out))
    assert len(blocks) == 2
    assert cid_text(blocks[0][0]).startswith("bafybei")


def test_import_car__into_empty_store__returns_root_and_content_matches(store, data, car, tmp_path):
    other = LocalStore(tmp_path / "other")
    roots = other.import_car(io.BytesIO(car))
    assert roots == [store.add(data)]
    assert other.cat(roots[0]) == data
    assert other.pins() == set(roots)


@pytest.mark.parametrize("cut", [1, 10, 60, -1, -100])
def test_import_car__truncated__raises_invalid_car(car, cut, tmp_path):
    with pytest.raises(InvalidCar, match="truncated"):
        LocalStore(tmp_path / "other").import_car(io.BytesIO(car[:cut]))


def test_import_car__tampered_block__raises_invalid_car_with_offset(car, tmp_path):
    tampered = bytearray(car)
    tampered[-1000] ^= 0x01
    target = LocalStore(tmp_path / "other")
    with pytest.raises(InvalidCar, match=r"section \d+ at byte \d+: block bafk\w+ does not match its hash"):
        target.import_car(io.BytesIO(bytes(tampered)))
    assert target.pins() == set()


def test_import_car__missing_block__raises_incomplete(store, data, tmp_path):
    root = parse_cid(store.add(data))
    blocks = [(block.cid, bytes(block.data)) for block in iter_blocks(data)]
    partial = encode_header([root]) + b"".join(encode_section(c, d) for c, d in blocks[1:])
    with pytest.raises(InvalidCar, match=f"block {cid_text(blocks[0][0])} of root {cid_text(root)} is neither"):
        LocalStore(tmp_path / "other").import_car(io.BytesIO(partial))


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"roots": [], "version": 1}, "has no roots"),
        ({"version": 2, "roots": []}, "not a CAR v1 file"),
        ({"roots": ["bafy"], "version": 1}, "is not a CID link"),
        ([1, 2], "not a CAR v1 file"),
    ],
)
def test_import_car__bad_header__raises_invalid_car(header, message, tmp_path):
    body = cbor2.dumps(header)
    with pytest.raises(InvalidCar, match=message):
        LocalStore(tmp_path).import_car(io.BytesIO(bytes([len(body)]) + body))


def test_import_car__not_cbor__raises_invalid_car(tmp_path):
    with pytest.raises(InvalidCar, match="not valid CBOR"):
        LocalStore(tmp_path).import_car(io.BytesIO(b"\x02\x1c\x00"))


def test_import_car__header_with_trailing_bytes__raises_invalid_car(tmp_path):
    body = cbor2.dumps({"roots": [], "version": 1}) + b"\x00"
    with pytest.raises(InvalidCar, match="1 bytes after the CBOR value"):
        LocalStore(tmp_path).import_car(io.BytesIO(bytes([len(body)]) + body))


def test_import_car__empty_file__raises_invalid_car(tmp_path):
    with pytest.raises(InvalidCar, match="empty file"):
        LocalStore(tmp_path).import_car(io.BytesIO(b""))


def test_import_car__dag_cbor_block__raises_unsupported_codec(tmp_path):
    cbor_cid = parse_cid("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
    dag_cbor = b"\x01\x71" + cbor_cid[2:]
    car = encode_header([cbor_cid]) + encode_section(dag_cbor, b"\xa0")
    with pytest.raises(InvalidCar, match="unsupported codec 'dag-cbor'"):
        LocalStore(tmp_path).import_car(io.BytesIO(car))


def test_import_car__oversized_section__rejected_before_reading_it(tmp_path):
    root = parse_cid("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
    car = encode_header([root]) + b"\xff\xff\xff\xff\x0f"
    with pytest.raises(InvalidCar, match="outside 1.."):
        LocalStore(tmp_path).import_car(io.BytesIO(car))
