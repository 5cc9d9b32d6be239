"""The trustless gateway answers: what a client fetching /ipfs/{cid} receives and can verify."""

import io
import os

import pytest
from PIL import Image

from ipfs import LocalStore
from ipfs.car import CarReader
from ipfs.cids import cid_text, parse_cid, verify_block
from ipfs.gateway import respond
from ipfs.importer import CHUNK_SIZE, compute_cid


def _body(response) -> bytes:
    return b"".join(response[2])


@pytest.fixture
def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(out, format="JPEG")
    return out.getvalue()


def test_respond__plain__serves_file_with_sniffed_type_and_immutable_caching(store, jpeg):
    cid = store.add(jpeg)
    status, headers, body = respond(store, cid, None, None)
    assert status == 200
    assert b"".join(body) == jpeg
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["ETag"] == f'"{cid}"'
    assert headers["Cache-Control"] == "public, max-age=29030400, immutable"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Ipfs-Path"] == f"/ipfs/{cid}"


def test_respond__unknown_bytes__served_as_octet_stream(store):
    cid = store.add(b"\x00\x01 not an image")
    assert respond(store, cid, None, None)[1]["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(("fmt", "accept"), [("raw", None), (None, "application/vnd.ipld.raw")])
def test_respond__raw__single_block_that_hashes_to_the_cid(store, fmt, accept):
    data = os.urandom(2 * CHUNK_SIZE)
    cid = store.add(data)
    status, headers, body = respond(store, cid, fmt, accept)
    block = b"".join(body)
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.ipld.raw"
    assert headers["ETag"] == f'"{cid}.raw"'
    assert headers["Content-Length"] == str(len(block))
    verify_block(parse_cid(cid), block, "gateway")


@pytest.mark.parametrize(
    ("fmt", "accept"),
    [("car", None), (None, "application/vnd.ipld.car"), (None, "text/html, application/vnd.ipld.car; version=1")],
)
def test_respond__car__verifiable_dag_rebuilds_the_file(store, tmp_path, fmt, accept):
    data = os.urandom(3 * CHUNK_SIZE + 1)
    cid = store.add(data)
    status, headers, body = respond(store, cid, fmt, accept)
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.ipld.car; version=1"
    assert headers["ETag"] == f'"{cid}.car"'
    car = b"".join(body)
    reader = CarReader(io.BytesIO(car))
    assert [cid_text(root) for root in reader.roots] == [cid]
    client = LocalStore(tmp_path / "client")
    assert client.import_car(io.BytesIO(car)) == [cid]
    assert client.cat(cid) == data


def test_respond__format_param_wins_over_accept(store):
    cid = store.add(b"x")
    assert respond(store, cid, "raw", "application/vnd.ipld.car")[1]["Content-Type"] == "application/vnd.ipld.raw"


@pytest.mark.parametrize(
    ("path", "fmt", "accept", "message"),
    [
        ("not-a-cid", None, None, "invalid CID 'not-a-cid'"),
        ("bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua", None, None, "unsupported codec 'dag-cbor'"),
        (compute_cid(b"x"), "tar", None, "unsupported format 'tar'"),
        (compute_cid(b"x"), None, "application/vnd.ipld.car; version=2", "CAR version 2 is not served"),
        (compute_cid(b"x") + "/photo.jpg", None, None, "paths inside a CID are not supported"),
    ],
)
def test_respond__bad_request__400_with_reason(store, path, fmt, accept, message):
    store.add(b"x")
    status, headers, body = respond(store, path, fmt, accept)
    assert status == 400
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert message in b"".join(body).decode()


@pytest.mark.parametrize("fmt", [None, "raw", "car"])
def test_respond__unknown_content__404(store, fmt):
    cid = compute_cid(b"not here")
    status, headers, body = respond(store, cid, fmt, None)
    assert status == 404
    assert cid in b"".join(body).decode()
    assert headers["Cache-Control"] == "no-store"


def test_respond__corrupted_root_on_disk__502_and_no_content(store):
    cid = store.add(b"will rot")
    store.block_path(cid).write_bytes(b"rotten")
    status, _, body = respond(store, f"/ipfs/{cid}", None, None)
    assert status == 502
    assert b"corrupted" in b"".join(body)


def test_respond__ipfs_prefix_in_path__accepted(store):
    cid = store.add(b"prefixed")
    assert _body(respond(store, f"/ipfs/{cid}", None, None)) == b"prefixed"
