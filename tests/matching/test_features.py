import numpy as np
import pytest

from backend.matching import features
from backend.matching.features import (
    MAX_DESCRIPTOR_DISTANCE,
    MAX_HITS_PER_ROW,
    TABLES,
    FeatureIndex,
    words,
)


def _distances(stored: np.ndarray, query: np.ndarray) -> np.ndarray:
    return np.unpackbits(query[:, None, :] ^ stored[None, :, :], axis=2).sum(axis=2)


def _brute_force(stored: np.ndarray, query: np.ndarray) -> set[tuple[int, int]]:
    """Per query row, the nearest MAX_HITS_PER_ROW stored descriptors (ties: lower id) that
    share a word (same substring, same table) and are within the distance limit."""
    shared = (words(query)[:, None, :] == words(stored)[None, :, :]).any(axis=2)
    distances = _distances(stored, query)
    pairs = set()
    for row in range(len(query)):
        near = np.flatnonzero(shared[row] & (distances[row] <= MAX_DESCRIPTOR_DISTANCE))
        nearest = sorted(near.tolist(), key=lambda i: (distances[row, i], i))[:MAX_HITS_PER_ROW]
        pairs |= {(row, i) for i in nearest}
    return pairs


def _noisy_copies(rng: np.random.Generator, descriptors: np.ndarray, share: float) -> np.ndarray:
    flips = rng.random((len(descriptors), 256)) < share
    return descriptors ^ np.packbits(flips, axis=1)


@pytest.mark.parametrize("tables", ["sorted words", "direct offsets"])
def test_hits__across_segments_and_buffer__equal_brute_force(tables, monkeypatch, tmp_path):
    monkeypatch.setattr(features, "BUFFER_LIMIT", 64 * TABLES)
    if tables == "direct offsets":
        # One large segment (900 descriptors) gets the direct table; later ones stay small.
        monkeypatch.setattr(features, "DIRECT_TABLE_MIN", 900 * TABLES)
    rng = np.random.default_rng(7)
    stored = rng.integers(0, 256, (1000, 32), dtype=np.uint8)
    index = FeatureIndex()
    index.add(np.arange(900), stored[:900])
    for start in range(900, 1000, 37):  # uneven batches: several merged segments and a buffer
        index.add(np.arange(start, min(start + 37, 1000)), stored[start: start + 37])
    # Near copies at 2-20% of bits flipped (some share a word, some are too far), plus noise.
    query = np.concatenate([_noisy_copies(rng, stored[::7], share)
                            for share in (0.02, 0.06, 0.1, 0.2)]
                           + [rng.integers(0, 256, (50, 32), dtype=np.uint8)])

    rows, ids = index.hits(query, stored)

    direct = [segment.offsets is not None for segment in index._segments]
    assert any(direct) == (tables == "direct offsets")
    expected = _brute_force(stored, query)
    assert len(expected) > 100
    assert set(zip(rows.tolist(), ids.tolist())) == expected
    assert len(rows) == len(expected)  # each pair once
    found_distances = _distances(stored, query)[rows, ids]
    assert (np.diff(found_distances) >= 0).all()  # nearest first
    index.save(tmp_path / "features")
    reopened = FeatureIndex.open(tmp_path / "features")
    rows, ids = reopened.hits(query, stored)
    assert set(zip(rows.tolist(), ids.tolist())) == expected


def test_add__wrong_shape__raises_value_error():
    with pytest.raises(ValueError, match=r"descriptors must have shape \(2, 32\)"):
        FeatureIndex().add(np.arange(2), np.zeros((2, 16), np.uint8))


def test_open__other_format__raises_value_error(tmp_path):
    FeatureIndex().save(tmp_path / "features")
    meta = tmp_path / "features" / "meta.json"
    meta.write_text(meta.read_text().replace('"format": 1', '"format": 0'))

    with pytest.raises(ValueError, match="has format 0, expected 1; rebuild it"):
        FeatureIndex.open(tmp_path / "features")


def test_hits__stop_word__is_skipped(monkeypatch):
    monkeypatch.setattr(features, "MAX_POSTINGS", 50)
    rng = np.random.default_rng(1)
    common = rng.integers(0, 256, 32, dtype=np.uint8)
    stored = np.repeat(common[None], 51, axis=0)  # one pattern everywhere: a stop word
    stored = np.concatenate([stored, rng.integers(0, 256, (5, 32), dtype=np.uint8)])
    index = FeatureIndex()
    index.add(np.arange(len(stored)), stored)

    rows, ids = index.hits(np.stack([common, stored[-1]]), stored)

    assert list(zip(rows.tolist(), ids.tolist())) == [(1, len(stored) - 1)]


def test_add__feature_id_beyond_uint32__raises_value_error():
    with pytest.raises(ValueError, match="shard the registered images"):
        FeatureIndex().add(np.array([1 << 32]), np.zeros((1, 32), np.uint8))


def test_hits__stop_word_spread_over_segments__is_skipped(monkeypatch):
    monkeypatch.setattr(features, "MAX_POSTINGS", 50)
    monkeypatch.setattr(features, "BUFFER_LIMIT", 40 * TABLES)
    common = np.random.default_rng(2).integers(0, 256, 32, dtype=np.uint8)
    index = FeatureIndex()
    index.add(np.arange(40), np.repeat(common[None], 40, axis=0))  # a segment: 40 per word
    index.add(np.arange(40, 60), np.repeat(common[None], 20, axis=0))  # the buffer: 20 more

    rows, _ = index.hits(common[None], np.repeat(common[None], 60, axis=0))

    assert len(index._segments) == 1 and len(rows) == 0


def test_hits__per_query_descriptor__keeps_the_nearest(monkeypatch):
    rng = np.random.default_rng(4)
    query = rng.integers(0, 256, (1, 32), dtype=np.uint8)
    # 40 stored copies at growing distances, all sharing the query's first word.
    stored = np.repeat(query, 40, axis=0)
    flips = np.zeros((40, 256), bool)
    for i in range(40):
        flips[i, 24 + rng.choice(232, i, replace=False)] = True
    stored ^= np.packbits(flips, axis=1)
    index = FeatureIndex()
    index.add(np.arange(40), stored)

    rows, ids = index.hits(query, stored)

    assert ids.tolist() == list(range(features.MAX_HITS_PER_ROW))
