"""Recall per edit and false matches over unrelated pairs: Copytrack's matcher vs pHash vs PDQ.

    python bench/bench_matching_robustness.py

Registers every photograph from bench/image_edits.py, queries each edited copy (saved as a
JPEG of quality 85, as a web page would serve it) and prints Markdown tables. A match of a
query against any photograph other than its source counts as a false match.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import imagehash
import numpy as np
import pdqhash
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from backend.matching import MatchIndex, fingerprint, geometry  # noqa: E402
from backend.matching.features import FeatureIndex  # noqa: E402
from backend.matching.index import MIN_INLIERS  # noqa: E402
from image_edits import EDITS, photographs  # noqa: E402

PHASH_RADIUS = 10
PDQ_RADIUS = 31


def to_jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


class PlainHash:
    """A baseline: one global hash per image, a match when within a fixed distance."""

    def __init__(self, name: str, radius: int, compute):
        self.name, self.radius, self.compute = name, radius, compute
        self.keys: list[str] = []
        self.codes: list[np.ndarray] = []

    def add(self, key: str, data: bytes) -> None:
        self.keys.append(key)
        self.codes.append(self.compute(data))

    def search(self, data: bytes) -> list[str]:
        query = self.compute(data)
        return [key for key, code in zip(self.keys, self.codes)
                if int(np.count_nonzero(code != query)) <= self.radius]


def phash_bits(data: bytes) -> np.ndarray:
    return imagehash.phash(Image.open(io.BytesIO(data)).convert("RGB")).hash.ravel()


def pdq_bits(data: bytes) -> np.ndarray:
    return pdqhash.compute(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))[0]


class Matcher:
    name = "Copytrack matcher"

    def __init__(self):
        self.index = MatchIndex()
        self.registered = {}
        # The most inliers any query reached against a photograph it is not a copy of, over
        # every unrelated pair (not only the candidates the index proposed), by both geometric
        # checks: ORB matches after the ratio test, and the local-feature hits as they are.
        self.worst_unrelated = {"ratio-tested matches": (0, ""), "local-feature hits": (0, "")}
        self.features = FeatureIndex()
        self.descriptors = []
        self.points = []

    def add(self, key: str, data: bytes) -> None:
        self.registered[key] = print_ = fingerprint(data)
        self.index.add(key, print_)
        first = sum(len(d) for d in self.descriptors)
        self.features.add(np.arange(first, first + len(print_.descriptors)), print_.descriptors)
        self.descriptors.append(print_.descriptors)
        self.points.append(print_.keypoints)

    def search(self, data: bytes, source: str = "") -> list[str]:
        query = fingerprint(data)
        descriptors, points = np.concatenate(self.descriptors), np.concatenate(self.points)
        firsts = np.cumsum([0] + [len(d) for d in self.descriptors])
        rows, ids = self.features.hits(query.descriptors, descriptors)
        for number, (key, stored) in enumerate(self.registered.items()):
            if key == source:
                continue
            mine = (ids >= firsts[number]) & (ids < firsts[number + 1])
            counts = {
                "ratio-tested matches": geometry.confirm(query.keypoints, query.descriptors,
                                                         stored.keypoints, stored.descriptors)[0],
                "local-feature hits": geometry.confirm_pairs(query.keypoints[rows[mine]],
                                                             points[ids[mine]])[0],
            }
            for path, count in counts.items():
                self.worst_unrelated[path] = max(self.worst_unrelated[path],
                                                 (count, f"{source} → {key}"))
        return [match.key for match in self.index.search(query, limit=50)]


def main() -> None:
    started = time.perf_counter()
    photos = photographs()
    methods = [Matcher(), PlainHash(f"pHash 64 ≤{PHASH_RADIUS}", PHASH_RADIUS, phash_bits),
               PlainHash(f"PDQ 256 ≤{PDQ_RADIUS}", PDQ_RADIUS, pdq_bits)]
    for name, image in photos.items():
        data = to_jpeg(image, 90)
        for method in methods:
            method.add(name, data)

    found = {method.name: {edit: 0 for edit in EDITS} for method in methods}
    false_matches = {method.name: [] for method in methods}
    queries = [("original", lambda im: im)] + [(edit, fn) for edit, (_, fn) in EDITS.items()]
    for name, image in photos.items():
        for edit, transform in queries:
            data = to_jpeg(transform(image), 85)
            for method in methods:
                keys = method.search(data, name) if isinstance(method, Matcher) else method.search(data)
                if edit != "original" and name in keys:
                    found[method.name][edit] += 1
                false_matches[method.name] += [(name, edit, key) for key in keys if key != name]

    n = len(photos)
    names = [method.name for method in methods]
    print(f"## Recall per edit ({n} photographs, {len(EDITS)} edits)\n")
    print("| edit | class | " + " | ".join(names) + " |")
    print("|---|---|" + "---:|" * len(names))
    for edit, (kind, _) in EDITS.items():
        cells = [f"{100 * found[m][edit] / n:.0f}%" for m in names]
        print(f"| {edit} | {kind} | " + " | ".join(cells) + " |")

    unrelated_pairs = n * len(queries) * (n - 1)
    print(f"\n## Summary\n\n| method | recall mild | recall hard | false matches "
          f"(of {unrelated_pairs} unrelated pairs) |")
    print("|---|---:|---:|---:|")
    for m in names:
        cells = []
        for kind in ("mild", "hard"):
            edits = [e for e, (k, _) in EDITS.items() if k == kind]
            cells.append(f"{100 * sum(found[m][e] for e in edits) / (n * len(edits)):.1f}%")
        print(f"| {m} | {cells[0]} | {cells[1]} | {len(false_matches[m])} |")
    for path, (count, pair) in methods[0].worst_unrelated.items():
        print(f"\nMost inliers under one homography for an unrelated pair, {path}: {count} "
              f"({pair}); the geometric rule needs {MIN_INLIERS}.")
    for m in names:
        if false_matches[m]:
            examples = ", ".join(f"{e} of {q} → {k}" for q, e, k in false_matches[m][:5])
            print(f"\n{m} false matches, first ones: {examples}")
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
