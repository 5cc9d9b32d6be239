"""Local-feature candidates at scale: does the source still come out on top among many images?

    python bench/bench_feature_candidates.py               # 10,000 and 100,000 registered images
    python bench/bench_feature_candidates.py --million     # also 1,000,000 (~40 GB of RAM: not here)

The 20 photographs are registered with their real ORB descriptors, among synthetic registered
images whose descriptors are real ones (of the photographs and their edits) with 1/2 ... 1/32 of
their bits flipped, as in bench_matching_speed.py. The queries are the hard edits under which
the hashes fail (crops at an offset, pasting, overlays). For each query the feature index's
candidates (what MatchIndex checks geometrically: at least FEATURE_VOTES keypoints hit, the
FEATURE_CANDIDATES most-voted) must include the source photograph. The baseline is the
exhaustive search for the same hits: faiss IndexBinaryFlat range search of every query
descriptor over every registered descriptor, on the first queries, in the same run.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import faiss  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from backend.matching import fingerprint  # noqa: E402
from backend.matching.features import (  # noqa: E402
    MAX_DESCRIPTOR_DISTANCE,
    TABLES,
    FeatureIndex,
    vote,
)
from backend.matching.index import FEATURE_CANDIDATES, FEATURE_VOTES  # noqa: E402
from bench_matching_speed import spread  # noqa: E402
from image_edits import EDITS, photographs  # noqa: E402

faiss.omp_set_num_threads(1)
QUERY_EDITS = ("crop 25% offset", "crop 50% offset", "paste on background", "emoji overlay",
               "text overlay", "rotate 15°")
KEYPOINTS_PER_IMAGE = 300
BASELINE_QUERIES = 5


def jpeg(image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def candidates(feature_ids: np.ndarray, firsts: np.ndarray) -> list[int]:
    """What MatchIndex._feature_candidates returns, for images starting at `firsts`."""
    entries, votes = vote(np.searchsorted(firsts, feature_ids, side="right") - 1, feature_ids)
    return entries[votes >= FEATURE_VOTES][:FEATURE_CANDIDATES].tolist()


def run(count: int, sources: list[np.ndarray], queries, centres, rng) -> str:
    synthetic = count - len(sources)
    stored = np.concatenate(sources + [spread(rng, centres, synthetic * KEYPOINTS_PER_IMAGE)])
    firsts = np.concatenate([[0], np.cumsum([len(s) for s in sources])[:-1],
                             sum(len(s) for s in sources)
                             + KEYPOINTS_PER_IMAGE * np.arange(synthetic)]).astype(np.int64)
    started = time.perf_counter()
    index = FeatureIndex()
    for start in range(0, len(stored), 1 << 20):
        index.add(np.arange(start, min(start + (1 << 20), len(stored))), stored[start: start + (1 << 20)])
    build = time.perf_counter() - started
    posting_bytes = sum(array.nbytes for s in index._segments
                        for array in (s.ids, s.words, s.offsets) if array is not None)

    ours_ms, found = [], 0
    for source, query in queries:
        started = time.perf_counter()
        _, feature_ids = index.hits(query, stored)
        chosen = candidates(feature_ids, firsts)
        ours_ms.append((time.perf_counter() - started) * 1000)
        found += source in chosen

    flat = faiss.IndexBinaryFlat(256)
    flat.add(stored)
    flat_ms, flat_found, agree = [], 0, 0
    for source, query in queries[:BASELINE_QUERIES]:
        started = time.perf_counter()
        limits, _, ids = flat.range_search(query, MAX_DESCRIPTOR_DISTANCE + 1)
        chosen = candidates(ids.astype(np.int64), firsts)
        flat_ms.append((time.perf_counter() - started) * 1000)
        flat_found += source in chosen
        _, feature_ids = index.hits(query, stored)
        # The word lookup finds a subset of the exhaustive hits, never anything else.
        assert set(feature_ids.tolist()) <= set(ids.tolist()), "word hits outside the range"
        agree += len(np.unique(feature_ids)) / max(1, len(np.unique(ids)))
    n, m = len(queries), len(queries[:BASELINE_QUERIES])
    return "\n".join([
        f"| {count:,} | word index (Copytrack) | {np.median(ours_ms):.1f} | "
        f"{np.percentile(ours_ms, 99):.1f} | {found}/{n} | "
        f"{posting_bytes / count / 1024:.1f} KiB | {build:.0f} s |",
        f"| {count:,} | faiss IndexBinaryFlat range search | {np.median(flat_ms):.0f} | "
        f"{np.percentile(flat_ms, 99):.0f} | {flat_found}/{m} | – | – |",
        f"<!-- {count:,}: the word index found {100 * agree / m:.0f}% of the exhaustive hits "
        f"on the first {m} queries -->",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--million", action="store_true", help="also 1,000,000 images")
    arguments = parser.parse_args()
    rng = np.random.default_rng(2026)
    photos = photographs()
    sources, queries, centres = [], [], []
    for number, image in enumerate(photos.values()):
        registered = fingerprint(jpeg(image, 90)).descriptors
        sources.append(registered)
        centres.append(registered)
        for edit in QUERY_EDITS:
            query = fingerprint(jpeg(EDITS[edit][1](image), 85)).descriptors
            queries.append((number, query))
            centres.append(query)
    centres = np.unique(np.concatenate(centres), axis=0)
    sizes = [10_000, 100_000] + ([1_000_000] if arguments.million else [])
    print(f"## Local-feature candidates, {TABLES} tables of 24-bit words, one core\n")
    print(f"Registered: the 20 photographs among synthetic images of {KEYPOINTS_PER_IMAGE} "
          f"descriptors spread from {len(centres):,} real ones; queries: {len(queries)} hard edits "
          f"({', '.join(QUERY_EDITS)}). Found: the source is among the "
          f"{FEATURE_CANDIDATES} candidates.\n")
    print("| images | method | median ms | p99 ms | found | index bytes per image | build |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for count in sizes:
        print(run(count, sources, queries, centres, rng), flush=True)


if __name__ == "__main__":
    main()
