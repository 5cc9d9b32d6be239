"""Large files are streamed: memory stays at a few chunks whatever the file size."""

import os
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipfs import LocalStore, compute_cid
from ipfs.dagpb import Link, decode_node, encode_node

MiB = 1024 * 1024


def _peak_bytes(work) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "big.bin"
    with open(path, "wb") as out:
        for _ in range(4):
            out.write(os.urandom(8 * MiB))
    yield path
    path.unlink()  # pytest keeps old temp dirs


def test_compute_cid__32_mib_file__peak_memory_a_few_chunks(big_file):
    with open(big_file, "rb") as handle:
        peak = _peak_bytes(lambda: compute_cid(handle))
    assert peak < 2 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_local_store_add_and_open__32_mib_file__peak_memory_a_few_chunks(big_file, tmp_path):
    store = LocalStore(tmp_path / "store")
    with open(big_file, "rb") as handle:
        cids = []
        assert _peak_bytes(lambda: cids.append(store.add(handle))) < 2 * MiB

    def read_all():
        for _ in store.open(cids[0]):
            pass

    assert _peak_bytes(read_all) < 2 * MiB


links = st.lists(
    st.builds(Link, cid=st.binary(min_size=1, max_size=40), tsize=st.integers(0, 2**63 - 1),
              name=st.text(max_size=8)),
    max_size=5,
)


@settings(max_examples=50, deadline=None)
@given(links=links, data=st.one_of(st.none(), st.binary(max_size=64)))
def test_dag_pb__encode_then_decode__round_trips(links, data):
    node = decode_node(encode_node(links, data))
    assert node.links == links
    assert node.data == data
