import numpy as np
import pytest

from backend.matching import hamming
from backend.matching.hamming import BUFFER_LIMIT, MAX_RADIUS, HammingIndex


def _clustered_codes(rng: np.random.Generator, count: int) -> np.ndarray:
    """Codes in tight families (a code and near copies), as fingerprints of edited images are."""
    centres = rng.integers(0, 256, (count // 8 + 1, 32), dtype=np.uint8)
    codes = np.repeat(centres, 8, axis=0)[:count]
    flips = rng.random((count, 256)) < rng.uniform(0, 0.2, (count, 1))
    return codes ^ np.packbits(flips, axis=1)


def _brute_force(codes: np.ndarray, alive: np.ndarray, query: np.ndarray, radius: int):
    distances = np.unpackbits(codes ^ query, axis=1).sum(axis=1)
    hits = np.flatnonzero((distances <= radius) & alive)
    return set(zip(hits.tolist(), distances[hits].tolist()))


@pytest.mark.parametrize(
    ("radius", "tables"),
    [(0, "sorted"), (11, "sorted"), (15, "sorted"), (31, "sorted"), (MAX_RADIUS, "sorted"),
     (31, "direct")],
)
def test_search__after_adds_and_removes__equals_brute_force(radius, tables, tmp_path, monkeypatch):
    if tables == "direct":
        monkeypatch.setattr(hamming, "DIRECT_TABLE_MIN", BUFFER_LIMIT)
    rng = np.random.default_rng(radius)
    codes = _clustered_codes(rng, 3 * BUFFER_LIMIT + 123)
    index = HammingIndex()
    for batch in np.array_split(codes, [5, 2000, 2001, 9000]):
        index.add(batch)
    removed = rng.choice(len(codes), 500, replace=False)
    index.remove(removed)
    alive = np.ones(len(codes), bool)
    alive[removed] = False
    index.save(tmp_path / "codes")
    reopened = HammingIndex.open(tmp_path / "codes")
    reopened.add(codes[:10])
    queries = codes[rng.choice(len(codes), 30)] ^ np.packbits(rng.random((30, 256)) < 0.08, axis=1)

    for query in queries:
        ids, distances = index.search(query, radius)
        expected = _brute_force(codes, alive, query, radius)
        assert set(zip(ids.tolist(), distances.tolist())) == expected
        assert list(distances) == sorted(distances)
        reopened_ids, _ = reopened.search(query, radius)
        extra = {len(codes) + i for i, _ in _brute_force(codes[:10], np.ones(10, bool), query, radius)}
        assert set(reopened_ids.tolist()) == {i for i, _ in expected} | extra

    assert len(index) == len(codes) - 500 and len(reopened) == len(codes) - 490


def test_search__radius_too_large__raises_value_error():
    with pytest.raises(ValueError, match="radius must be in"):
        HammingIndex().search(np.zeros(32, np.uint8), MAX_RADIUS + 1)


def test_add__wrong_shape__raises_value_error():
    with pytest.raises(ValueError, match=r"codes must have shape \(n, 32\)"):
        HammingIndex().add(np.zeros((3, 8), np.uint8))
