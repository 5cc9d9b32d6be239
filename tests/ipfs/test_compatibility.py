"""compute_cid against the reference importer run with Kubo's `ipfs add --cid-version=1` settings."""

import io
import os
import random

import pytest
from PIL import Image

from ipfs import compute_cid
from ipfs.importer import CHUNK_SIZE, MAX_LINKS

MiB = 1024 * 1024

SIZES = {
    "empty": 0,
    "one byte": 1,
    "one chunk minus one byte": CHUNK_SIZE - 1,
    "exactly one chunk": CHUNK_SIZE,
    "one chunk plus one byte": CHUNK_SIZE + 1,
    "174 chunks (one full node)": MAX_LINKS * CHUNK_SIZE,
    "175 chunks (second tree level)": (MAX_LINKS + 1) * CHUNK_SIZE,
    "175 chunks minus one byte": (MAX_LINKS + 1) * CHUNK_SIZE - 1,
    "10 MiB": 10 * MiB,
    "100 MiB": 100 * MiB,
}


@pytest.fixture(scope="module")
def random_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("random")
    paths = {}
    for name, size in SIZES.items():
        path = directory / f"{size}.bin"
        with open(path, "wb") as out:
            remaining = size
            while remaining:
                piece = os.urandom(min(remaining, 8 * MiB))
                out.write(piece)
                remaining -= len(piece)
        paths[name] = path
    yield paths
    for path in paths.values():  # pytest keeps old temp dirs; do not leave 230 MiB behind each run
        path.unlink()


@pytest.fixture(scope="module")
def reference(random_files, reference_cids):
    return dict(zip(random_files, reference_cids(list(random_files.values()))))


@pytest.mark.parametrize("name", list(SIZES))
def test_compute_cid__streamed_file__matches_reference_importer(name, random_files, reference):
    with open(random_files[name], "rb") as handle:
        assert compute_cid(handle) == reference[name]


@pytest.mark.parametrize("name", [name for name, size in SIZES.items() if size <= 10 * MiB])
def test_compute_cid__bytes__matches_reference_importer(name, random_files, reference):
    assert compute_cid(random_files[name].read_bytes()) == reference[name]


def test_compute_cid__small_and_large__use_raw_and_dag_pb_roots(reference):
    assert reference["one chunk minus one byte"].startswith("bafkrei")
    assert reference["exactly one chunk"].startswith("bafkrei")
    assert reference["one chunk plus one byte"].startswith("bafybei")


def _jpeg(width: int, height: int, quality: int, seed: int) -> bytes:
    noise = Image.frombytes("RGB", (width, height), _seeded_bytes(width * height * 3, seed))
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _seeded_bytes(count: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(count)


def test_compute_cid__real_jpegs__match_reference_importer(tmp_path, reference_cids):
    jpegs = [_jpeg(64, 48, 85, 1), _jpeg(640, 480, 90, 2), _jpeg(1600, 1200, 95, 3)]
    assert len(jpegs[0]) < CHUNK_SIZE < len(jpegs[2]), "want single-block and multi-block images"
    paths = []
    for index, data in enumerate(jpegs):
        path = tmp_path / f"{index}.jpg"
        path.write_bytes(data)
        paths.append(path)
    assert [compute_cid(data) for data in jpegs] == reference_cids(paths)


# Vectors any Kubo gives for `ipfs add --cid-version=1`: `hello world` from Kubo's docs, the
# output of `echo hello world | ipfs add --cid-version=1`, and the well-known empty raw block.
KNOWN = {
    b"hello world": "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
    b"hello world\n": "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4",
    b"": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
}


@pytest.mark.parametrize("data", list(KNOWN))
def test_compute_cid__known_vector__matches(data):
    assert compute_cid(data) == KNOWN[data]
    assert compute_cid(io.BytesIO(data)) == KNOWN[data]


def test_balanced_layout__third_level_and_repeated_blocks__match_reference_importer(
    tmp_path, reference_cids, monkeypatch
):
    """Tiny chunks reach the third tree level (174² + 1 leaves) that real files reach at 7 GiB."""
    chunk = 4
    monkeypatch.setattr("ipfs.importer.CHUNK_SIZE", chunk)
    full = MAX_LINKS * MAX_LINKS * chunk
    rng = random.Random(5)
    cases = {
        "two levels full": rng.randbytes(full),
        "third level": rng.randbytes(full + 1),
        "third level, second subtree partly full": rng.randbytes(full + MAX_LINKS * chunk + 3),
        "zeros (every leaf the same block)": bytes(full + 2 * chunk),
    }
    paths = []
    for index, data in enumerate(cases.values()):
        paths.append(tmp_path / f"{index}.bin")
        paths[-1].write_bytes(data)
    expected = reference_cids(paths, chunk_size=chunk)
    assert [compute_cid(io.BytesIO(data)) for data in cases.values()] == expected


def test_balanced_layout__random_sizes_around_boundaries__match_reference_importer(
    tmp_path, reference_cids, monkeypatch
):
    chunk = 16
    monkeypatch.setattr("ipfs.importer.CHUNK_SIZE", chunk)
    rng = random.Random(11)
    boundaries = [chunk, MAX_LINKS * chunk, 2 * MAX_LINKS * chunk, MAX_LINKS * MAX_LINKS * chunk]
    sizes = [max(0, b + rng.randint(-chunk - 1, chunk + 1)) for b in boundaries for _ in range(4)]
    sizes += [rng.randint(0, 3 * MAX_LINKS * chunk) for _ in range(12)]
    paths = []
    for index, size in enumerate(sizes):
        paths.append(tmp_path / f"{index}.bin")
        paths[-1].write_bytes(rng.randbytes(size))
    expected = reference_cids(paths, chunk_size=chunk)
    assert [compute_cid(path.read_bytes()) for path in paths] == expected
