import json

import numpy as np
import pytest

from backend.matching import hamming
from backend.matching.hamming import BUFFER_LIMIT, CHUNK_WIDTHS, MAX_RADIUS, HammingIndex

_BITS_SET = np.array([bin(value).count("1") for value in range(256)], np.int64)


def _clustered_codes(rng: np.random.Generator, count: int) -> np.ndarray:
    """Codes in tight families (a code and near copies), as fingerprints of edited images are."""
    centres = rng.integers(0, 256, (count // 8 + 1, 32), dtype=np.uint8)
    codes = np.repeat(centres, 8, axis=0)[:count]
    flips = rng.random((count, 256)) < rng.uniform(0, 0.2, (count, 1))
    return codes ^ np.packbits(flips, axis=1)


def _near(rng: np.random.Generator, codes: np.ndarray, count: int) -> np.ndarray:
    """`count` queries: stored codes with 8% of their bits flipped."""
    return codes[rng.choice(len(codes), count)] ^ np.packbits(rng.random((count, 256)) < 0.08,
                                                              axis=1)


def _brute_force(codes: np.ndarray, alive: np.ndarray, query: np.ndarray, radius: int):
    distances = _BITS_SET[codes ^ query].sum(axis=1)
    hits = np.flatnonzero((distances <= radius) & alive)
    return set(zip(hits.tolist(), distances[hits].tolist()))


def _grown_index(rng: np.random.Generator, codes: np.ndarray) -> HammingIndex:
    """`codes` added in batches that leave two segments of different sizes and a buffer."""
    index = HammingIndex()
    for batch in np.array_split(codes, [5, 2000, 2001, 40000, 44096]):
        index.add(batch)
    assert len(index._segments) == 2 and index._buffered > 0
    return index


@pytest.mark.parametrize("radius", [0, 11, 15, 31, MAX_RADIUS])
def test_search__after_adds_and_removes__equals_brute_force(radius, tmp_path):
    rng = np.random.default_rng(radius)
    codes = _clustered_codes(rng, 44096 + 123)
    index = _grown_index(rng, codes)
    removed = rng.choice(len(codes), 500, replace=False)
    alive = np.ones(len(codes), bool)
    alive[removed] = False
    # Half are removed before saving merges the segments (which drops them), half after.
    index.remove(removed[:250])
    index.save(tmp_path / "codes")
    index.remove(removed[250:])
    reopened = HammingIndex.open(tmp_path / "codes")
    reopened.remove(removed[250:])
    reopened.add(codes[:10])

    # Near copies of stored codes, and removed codes themselves (which must not be found).
    for query in np.concatenate([_near(rng, codes, 30), codes[removed[:3]], codes[removed[-3:]]]):
        ids, distances = index.search(query, radius)
        expected = _brute_force(codes, alive, query, radius)
        assert len(set(ids.tolist())) == len(ids), "a code was reported twice"
        assert set(zip(ids.tolist(), distances.tolist())) == expected
        assert list(zip(distances, ids)) == sorted(zip(distances, ids))
        reopened_ids, _ = reopened.search(query, radius)
        extra = {len(codes) + i for i, _ in _brute_force(codes[:10], np.ones(10, bool), query, radius)}
        assert set(reopened_ids.tolist()) == {i for i, _ in expected} | extra

    assert len(index) == len(codes) - 500 and len(reopened) == len(codes) - 490


_sized_tables = hamming._table_bits


def _full_width_tables(count: int) -> np.ndarray:
    """One bucket per value for a 24-bit and a 23-bit substring (as in segments of millions of
    codes), tables sized for `count` for the others."""
    bits = _sized_tables(count)
    bits[[0, 3]] = CHUNK_WIDTHS[0], CHUNK_WIDTHS[3]
    return bits


def test_search__full_width_bucket_tables__equals_brute_force(monkeypatch):
    monkeypatch.setattr(hamming, "_table_bits", _full_width_tables)
    rng = np.random.default_rng(5)
    codes = _clustered_codes(rng, 2 * BUFFER_LIMIT)
    index = HammingIndex()
    index.add(codes)
    removed = rng.choice(len(codes), 100, replace=False)
    index.remove(removed)
    alive = np.ones(len(codes), bool)
    alive[removed] = False

    for query in _near(rng, codes, 30):
        ids, distances = index.search(query, 31)
        assert len(set(ids.tolist())) == len(ids), "a code was reported twice"
        expected = _brute_force(codes, alive, query, 31)
        assert set(zip(ids.tolist(), distances.tolist())) == expected


@pytest.mark.parametrize("radius", [3, 20, 31, 40])
def test_search__uniform_random_codes_and_exact_copies__equals_brute_force(radius):
    rng = np.random.default_rng(100 + radius)
    codes = rng.integers(0, 256, (3 * BUFFER_LIMIT, 32), dtype=np.uint8)
    codes[BUFFER_LIMIT: BUFFER_LIMIT + 50] = codes[0]  # a code stored 51 times
    index = HammingIndex()
    index.add(codes)
    alive = np.ones(len(codes), bool)

    for query in np.concatenate([codes[:1], _near(rng, codes, 20)]):
        ids, distances = index.search(query, radius)
        expected = _brute_force(codes, alive, query, radius)
        assert len(set(ids.tolist())) == len(ids)
        assert set(zip(ids.tolist(), distances.tolist())) == expected


def test_search_many__equals_one_search_per_query():
    rng = np.random.default_rng(7)
    codes = _clustered_codes(rng, 44096 + 123)
    index = _grown_index(rng, codes)
    index.remove(rng.choice(len(codes), 300, replace=False))
    queries = _near(rng, codes, 25)

    batched = index.search_many(queries, 31)

    assert len(batched) == len(queries)
    for query, (ids, distances) in zip(queries, batched):
        single_ids, single_distances = index.search(query, 31)
        assert np.array_equal(ids, single_ids) and np.array_equal(distances, single_distances)
    assert sum(len(ids) for ids, _ in batched) > 0
    assert index.search_many(np.zeros((0, 32), np.uint8), 31) == []


def test_search__empty_index__finds_nothing():
    ids, distances = HammingIndex().search(np.zeros(32, np.uint8), 31)
    assert ids.dtype == distances.dtype == np.int64 and len(ids) == len(distances) == 0


def test_open__index_of_an_older_format__raises_value_error(tmp_path):
    index = HammingIndex()
    index.add(np.zeros((BUFFER_LIMIT, 32), np.uint8))
    index.save(tmp_path / "codes")
    meta = json.loads((tmp_path / "codes" / "meta.json").read_text())
    del meta["format"]  # format 1 wrote no version
    (tmp_path / "codes" / "meta.json").write_text(json.dumps(meta))

    with pytest.raises(ValueError, match="has format 1, this version reads format 2: rebuild it"):
        HammingIndex.open(tmp_path / "codes")


def test_search__radius_too_large__raises_value_error():
    with pytest.raises(ValueError, match="radius must be in"):
        HammingIndex().search(np.zeros(32, np.uint8), MAX_RADIUS + 1)


def test_add__more_codes_than_a_segment_holds__raises_value_error(monkeypatch):
    monkeypatch.setattr(hamming, "MAX_SEGMENT", BUFFER_LIMIT)
    with pytest.raises(ValueError, match="a segment holds at most 4,096 codes, got 4,097"):
        HammingIndex().add(np.zeros((BUFFER_LIMIT + 1, 32), np.uint8))


def test_add__wrong_shape__raises_value_error():
    with pytest.raises(ValueError, match=r"codes must have shape \(n, 32\)"):
        HammingIndex().add(np.zeros((3, 8), np.uint8))
