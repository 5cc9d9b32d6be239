"""Fingerprinting throughput and Hamming-index search time, each beside its baseline.

    python bench/bench_matching_speed.py              # fingerprints + index at 1M codes
    python bench/bench_matching_speed.py --ten-million  # also at 10M codes (~10 min, ~6 GiB)
    python bench/bench_matching_speed.py --fingerprints-only  # fingerprints alone (~1 min)
    python bench/bench_matching_speed.py --index-only --ten-million  # the index part only

Everything runs on one thread (OpenCV, faiss and BLAS pinned to 1), so the figures are per core.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import cv2  # noqa: E402
import faiss  # noqa: E402
import imagehash  # noqa: E402
import numpy as np  # noqa: E402
import pdqhash  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from backend.matching import fingerprint  # noqa: E402
from backend.matching.hamming import BUFFER_LIMIT, HammingIndex  # noqa: E402
from backend.matching.index import SEARCH_RADIUS  # noqa: E402
from image_edits import EDITS, photographs  # noqa: E402

cv2.setNumThreads(1)
faiss.omp_set_num_threads(1)


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def naive(data: bytes) -> None:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    imagehash.phash(image)
    pdqhash.compute(np.asarray(image))


def per_second(functions, inputs: list[bytes], rounds: int) -> list[float]:
    """Images per second of each function, timed in turns on every input.

    Taking turns image by image means both see the same load from whatever else runs on the
    machine, so their ratio holds even when the absolute figures drift.
    """
    seconds = [0.0] * len(functions)
    for _ in range(rounds):
        for data in inputs:
            for number, function in enumerate(functions):
                started = time.perf_counter()
                function(data)
                seconds[number] += time.perf_counter() - started
    return [rounds * len(inputs) / total for total in seconds]


def fingerprint_throughput() -> None:
    photos = photographs()
    as_shipped = [jpeg(image) for image in photos.values()]
    # Camera-sized: each photograph scaled to 12 megapixels (4000 on the long side) and saved
    # as a JPEG, the size a phone or camera upload has.
    camera = []
    for image in photos.values():
        scale = 4000 / max(image.size)
        camera.append(jpeg(image.resize((round(image.width * scale), round(image.height * scale)),
                                        Image.Resampling.LANCZOS)))
    print("## Fingerprints per second, one core\n")
    print("| JPEGs | Copytrack `fingerprint()` | naive: full decode + imagehash.phash + pdqhash"
          " | speed-up |")
    print("|---|---:|---:|---:|")
    for label, inputs, rounds in (("as shipped (300–1400 px, 20 photos)", as_shipped, 3),
                                  ("camera size (12 MP, 20 photos)", camera, 1)):
        fingerprint(inputs[0])
        ours, theirs = per_second([fingerprint, naive], inputs, rounds)
        print(f"| {label} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.1f}× |")
    print()


CROPS_PER_PHOTO = 200


def real_codes(rng: np.random.Generator) -> np.ndarray:
    """PDQ codes of the photographs, their edits, and random crops of them."""
    codes = []
    for image in photographs().values():
        variants = [image] + [edit(image) for _kind, edit in EDITS.values()]
        for _ in range(CROPS_PER_PHOTO):
            side = rng.uniform(0.3, 0.9)
            w, h = round(image.width * side), round(image.height * side)
            x, y = rng.integers(0, image.width - w + 1), rng.integers(0, image.height - h + 1)
            variants.append(image.crop((x, y, x + w, y + h)))
        for variant in variants:
            bits, _quality = pdqhash.compute(np.asarray(variant.convert("RGB")))
            codes.append(np.packbits(bits.astype(np.uint8)))
    return np.unique(np.stack(codes), axis=0)


# Share of the index whose codes have 1/2, 1/4, 1/8, 1/16, 1/32 of a real code's bits flipped.
FLIP_MIX = (0.5, 0.3, 0.15, 0.04, 0.01)


def spread(rng: np.random.Generator, centres: np.ndarray, count: int) -> np.ndarray:
    """`count` codes, each a real code with a random share of its bits flipped (FLIP_MIX).

    Flipping half the bits makes an unrelated code with a real code's bit statistics; fewer
    flips make families of related codes and near copies (5% of the index is within about 16
    bits of a real code), which is what a register of real images and re-uploads looks like.
    """
    out = np.empty((count, 32), np.uint8)
    for start in range(0, count, 1 << 20):
        n = min(1 << 20, count - start)
        noise = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        halvings = rng.choice(len(FLIP_MIX), n, p=FLIP_MIX)
        for level in range(1, len(FLIP_MIX)):
            thinner = halvings >= level
            noise[thinner] &= rng.integers(0, 256, (int(thinner.sum()), 32), dtype=np.uint8)
        out[start:start + n] = centres[rng.integers(0, len(centres), n)] ^ noise
    return out


_BITS_SET = np.array([bin(value).count("1") for value in range(1 << 16)], np.uint8)


def _popcount_scan(codes: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The plain baseline: XOR every stored code with the query and count bits (16-bit table)."""
    return _BITS_SET[(codes ^ query).view(np.uint16)].sum(axis=1, dtype=np.int64)


def timed(function, queries) -> tuple[list, np.ndarray]:
    results, seconds = [], []
    for query in queries:
        started = time.perf_counter()
        results.append(function(query))
        seconds.append(time.perf_counter() - started)
    return results, np.array(seconds) * 1000


def timed_in_turns(searches: dict, queries: np.ndarray, batch: int) -> tuple[dict, dict]:
    """Results and milliseconds per query of each search, taking turns batch by batch.

    A search named "...many" gets a batch at a time (its time is shared out over the batch);
    the others get one query at a time. Taking turns means every search sees the same load
    from whatever else runs on the machine, so their ratios hold when absolute figures drift.
    """
    results = {name: [] for name in searches}
    milliseconds = {name: [] for name in searches}
    for first in range(0, len(queries), batch):
        chunk = queries[first: first + batch]
        for name, search in searches.items():
            if name.endswith("many"):
                started = time.perf_counter()
                results[name].extend(search(chunk))
                elapsed = (time.perf_counter() - started) * 1000 / len(chunk)
                milliseconds[name].extend([elapsed] * len(chunk))
                continue
            for query in chunk:
                started = time.perf_counter()
                results[name].append(search(query))
                milliseconds[name].append((time.perf_counter() - started) * 1000)
    return results, {name: np.array(ms) for name, ms in milliseconds.items()}


# MatchIndex.search looks up to 25 codes of one query image in one search_many call.
BATCH = 25


def index_search(count: int, centres: np.ndarray, rng: np.random.Generator, radius: int) -> str:
    codes = spread(rng, centres, count)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # The codes added the way a growing register adds them: a buffer's worth at a time, which
    # leaves several segments (merged as the index grows). Built first: on this machine the
    # kernel's memory monitor splits the huge pages of memory left unread for a minute, which
    # slows random reads, and this build takes longer than that.
    started = time.perf_counter()
    grown = HammingIndex()
    for first in range(0, count, BUFFER_LIMIT):
        grown.add(codes[first: first + BUFFER_LIMIT])
    grown_build = time.perf_counter() - started
    started = time.perf_counter()
    index = HammingIndex()
    index.add(codes)
    build = time.perf_counter() - started
    queries = centres[rng.integers(0, len(centres), 1000)] ^ np.packbits(
        rng.random((1000, 256)) < 0.04, axis=1)

    index.search_many(queries[:BATCH], radius)  # load the compiled search before timing
    results, milliseconds = timed_in_turns({
        "single": lambda q: index.search(q, radius),
        "many": lambda batch: index.search_many(batch, radius),
        "grown": lambda q: grown.search(q, radius),
    }, queries, BATCH)
    ours, ours_ms = results["single"], milliseconds["single"]
    for single, *others in zip(ours, results["many"], results["grown"]):
        for other in others:
            assert all(np.array_equal(a, b) for a, b in zip(single, other)), "results differ"

    faiss_index = faiss.IndexBinaryFlat(256)
    faiss_index.add(codes)
    few = queries[:20]
    _, faiss_ms = timed(lambda q: faiss_index.range_search(q.reshape(1, -1), radius + 1), few)
    _, scan_ms = timed(lambda q: np.flatnonzero(_popcount_scan(codes, q) <= radius),
                       few)
    for query, (ids, distances) in zip(few, ours[:20]):
        limits, faiss_distances, faiss_ids = faiss_index.range_search(query.reshape(1, -1),
                                                                      radius + 1)
        scan_distances = _popcount_scan(codes, query)
        scan = np.flatnonzero(scan_distances <= radius)
        found = set(zip(ids.tolist(), distances.tolist()))
        assert found == set(zip(faiss_ids.tolist(), faiss_distances.tolist())), "results differ"
        assert found == set(zip(scan.tolist(), scan_distances[scan].tolist())), "results differ"
    hits = np.mean([len(ids) for ids, _ in ours])
    rows = [
        f"| {count:,} | multi-index hashing (Copytrack), one segment | {np.median(ours_ms):.3f} | "
        f"{np.percentile(ours_ms, 99):.3f} | {index.nbytes / count:.0f} | {build:.0f} s |",
        f"| {count:,} | same, grown {BUFFER_LIMIT:,} codes at a time "
        f"({len(grown._segments)} segments) | {np.median(milliseconds['grown']):.3f} | "
        f"{np.percentile(milliseconds['grown'], 99):.3f} | {grown.nbytes / count:.0f} | "
        f"{grown_build:.0f} s |",
        f"| {count:,} | faiss IndexBinaryFlat range search | {np.median(faiss_ms):.2f} | "
        f"{np.percentile(faiss_ms, 99):.2f} | {faiss_index.ntotal * 32 / count:.0f} | – |",
        f"| {count:,} | numpy XOR-popcount scan | {np.median(scan_ms):.2f} | "
        f"{np.percentile(scan_ms, 99):.2f} | 32 | – |",
    ]
    print(f"<!-- {count:,} codes: {len(queries)} queries, {hits:.1f} hits per query on average; "
          f"mean per query {ours_ms.mean():.3f} ms one per call, "
          f"{milliseconds['many'].mean():.3f} ms {BATCH} per search_many call; "
          f"baselines on the first {len(few)}, identical results (ids and distances) checked; "
          f"segments of the grown index: {[len(s) for s in grown._segments]}; "
          f"peak RSS grew {(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024:.0f} MiB -->")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ten-million", action="store_true", help="also search 10M codes")
    parser.add_argument("--index-only", "--skip-fingerprints", action="store_true",
                        help="skip the fingerprint throughput part")
    parser.add_argument("--fingerprints-only", action="store_true",
                        help="time fingerprinting only, skip the index search")
    arguments = parser.parse_args()
    if not arguments.index_only:
        fingerprint_throughput()
    if arguments.fingerprints_only:
        return
    rng = np.random.default_rng(2026)
    centres = real_codes(rng)
    sizes = [1_000_000] + ([10_000_000] if arguments.ten_million else [])
    print(f"## Hamming-radius search, radius {SEARCH_RADIUS} of 256 bits, one core\n")
    print(f"Codes: {len(centres):,} real PDQ codes (20 photographs, {len(EDITS)} edits each, "
          f"{CROPS_PER_PHOTO} random crops each), spread with 1/2 … 1/32 of their bits flipped "
          f"(shares {FLIP_MIX}); queries: real codes with 4% of bits flipped.\n")
    print("| codes | method | median ms | p99 ms | bytes per code | build |")
    print("|---:|---|---:|---:|---:|---:|")
    for count in sizes:
        print(index_search(count, centres, rng, SEARCH_RADIUS), flush=True)


if __name__ == "__main__":
    main()
