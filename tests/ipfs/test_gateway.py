"""The trustless gateway answers: what a client fetching /ipfs/{cid} receives and can verify."""

import io
import os

import cbor2
import pytest
from multiformats import CID
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
    assert headers["Content-Type"] == "application/vnd.ipld.car; version=1; order=dfs; dups=n"
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
        (compute_cid(b"x"), None, "application/vnd.ipld.car; version=2", "CAR version=2 is not served"),
        (compute_cid(b"x"), None, "application/vnd.ipld.car; order=dfs; dups=y", "CAR dups=y is not served"),
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
    assert b"".join(body).decode() == f"{cid} is not stored on this gateway\n"
    assert headers["Cache-Control"] == "no-store"


def test_respond__corrupted_root_on_disk__502_and_no_content(store):
    cid = store.add(b"will rot")
    store.block_path(cid).write_bytes(b"rotten")
    status, _, body = respond(store, f"/ipfs/{cid}", None, None)
    assert status == 502
    message = b"".join(body).decode()
    assert "failed verification" in message and str(store.root) not in message


def test_respond__ipfs_prefix_in_path__accepted(store):
    cid = store.add(b"prefixed")
    assert _body(respond(store, f"/ipfs/{cid}", None, None)) == b"prefixed"


def test_respond__accept_only__names_the_format_url_in_content_location(store):
    cid = store.add(b"x")
    assert respond(store, cid, None, "application/vnd.ipld.raw")[1]["Content-Location"] == f"/ipfs/{cid}?format=raw"
    assert "Content-Location" not in respond(store, cid, "raw", None)[1]


def test_respond__accept_with_q_zero__not_chosen(store):
    cid = store.add(b"x")
    status, headers, _ = respond(store, cid, None, "application/vnd.ipld.car;q=0, application/vnd.ipld.raw")
    assert headers["Content-Type"] == "application/vnd.ipld.raw"


def test_respond__probe_cid_raw__empty_block(store):
    status, headers, body = respond(store, "bafkqaaa", "raw", None)
    assert (status, b"".join(body), headers["Content-Type"]) == (200, b"", "application/vnd.ipld.raw")


def test_respond__probe_cid_car__header_only_car_rooted_at_probe_cid(store):
    status, headers, body = respond(store, "bafkqaaa", None, "application/vnd.ipld.car")
    assert status == 200
    header = cbor2.loads(b"".join(body)[1:])
    assert header["version"] == 1
    assert CID.decode(header["roots"][0].value[1:]).encode("base32") == "bafkqaaa"


def test_respond__kubo_returns_tampered_content__502(kubo, kubo_store):
    cid = kubo_store.add(b"served through kubo")
    kubo.corrupt_content = True
    status, _, body = respond(kubo_store, cid, None, None)
    assert status == 502 and b"failed verification" in b"".join(body)


def test_respond__kubo_down__502_without_the_node_url(kubo, kubo_store):
    cid = compute_cid(b"x")
    kubo.down = True
    status, _, body = respond(kubo_store, cid, "raw", None)
    assert status == 502 and b"127.0.0.1:5001" not in b"".join(body)


def test_respond__through_kubo_store__file_served(kubo_store):
    cid = kubo_store.add(b"via kubo")
    assert _body(respond(kubo_store, cid, None, None)) == b"via kubo"
