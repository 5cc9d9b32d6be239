"""MatchIndex: registered fingerprints, searched for copies of a query image."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import geometry
from .fingerprints import REGION_BOXES, Fingerprint
from .hamming import HammingIndex

Key = str | int

# Kinds of stored code, per entry: the whole image, its borders trimmed, and REGION_BOXES.
WHOLE, TRIMMED = 0, 1
FIRST_REGION = 2
# PDQ's dihedral order (see Fingerprint.pdq) and what a hit on each variant means.
VARIANT_KINDS = ("whole", "rotation", "rotation", "rotation", "flip", "flip", "flip", "flip")

# The decision. A PDQ distance within HASH_ACCEPT (of 256 bits) between whole-image codes is a
# copy on its own; anything up to SEARCH_RADIUS is a candidate that must be confirmed by at least
# MIN_INLIERS ORB correspondences under one homography. See docs/matching.md for the tuning.
SEARCH_RADIUS = 31
HASH_ACCEPT = 31
MIN_INLIERS = 12
MIN_QUALITY = 50


@dataclass(frozen=True)
class Match:
    """A registered image that the query is a copy of.

    `score` is in [0, 1] (1: identical fingerprints); `kind` says what matched: "whole",
    "flip", "rotation" or "region" (a crop of the registered image, or the registered image
    inside a larger picture).
    """

    key: Key
    score: float
    kind: str


class MatchIndex:
    """Registered images by key; `search` returns the ones a query image is a copy of."""

    def __init__(self) -> None:
        self._codes = HammingIndex()
        self._keys: list[Key | None] = []
        self._entry_by_key: dict[Key, int] = {}
        self._code_entry: list[int] = []
        self._code_kind: list[int] = []
        self._features: list[tuple[np.ndarray, np.ndarray] | None] = []

    def __len__(self) -> int:
        return len(self._entry_by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._entry_by_key

    def add(self, key: Key, fingerprint: Fingerprint) -> None:
        """Register `fingerprint` under `key`, replacing what the key had before."""
        _check_key(key)
        if not isinstance(fingerprint, Fingerprint):
            raise TypeError(f"fingerprint must be a Fingerprint, not {type(fingerprint).__name__}")
        if key in self._entry_by_key:
            self.remove(key)
        entry = len(self._keys)
        self._keys.append(key)
        self._entry_by_key[key] = entry
        self._features.append((fingerprint.keypoints, fingerprint.descriptors))
        codes = [fingerprint.pdq[0]]
        kinds = [WHOLE]
        if fingerprint.trimmed is not None:
            codes.append(fingerprint.trimmed)
            kinds.append(TRIMMED)
        codes.extend(fingerprint.regions)
        kinds.extend(FIRST_REGION + i for i in range(len(fingerprint.regions)))
        ids = self._codes.add(np.stack(codes))
        for code_id, kind in zip(ids, kinds):
            self._set_code_owner(int(code_id), entry, kind)

    def remove(self, key: Key) -> None:
        """Forget `key`; KeyError if it was never added."""
        _check_key(key)
        entry = self._entry_by_key.pop(key, None)
        if entry is None:
            raise KeyError(f"matching: no image registered under key {key!r}")
        self._keys[entry] = None
        self._features[entry] = None
        self._codes.remove(np.flatnonzero(np.asarray(self._code_entry) == entry))

    def search(self, fingerprint: Fingerprint, limit: int = 10) -> list[Match]:
        """The registered images `fingerprint` is a copy of, best first, at most `limit`."""
        if not isinstance(fingerprint, Fingerprint):
            raise TypeError(f"fingerprint must be a Fingerprint, not {type(fingerprint).__name__}")
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        candidates = self._candidates(fingerprint)
        matches = []
        for entry, (distance, kind, whole_hit) in candidates.items():
            match = self._decide(fingerprint, entry, distance, kind, whole_hit)
            if match is not None:
                matches.append(match)
        matches.sort(key=lambda m: -m.score)
        return matches[:limit]

    def _candidates(self, fingerprint: Fingerprint) -> dict[int, tuple[int, str, bool]]:
        """Entry -> (best PDQ distance, kind of that hit, whether it was whole against whole)."""
        queries = list(fingerprint.pdq)
        query_kinds = list(VARIANT_KINDS)
        if fingerprint.trimmed is not None:
            queries.append(fingerprint.trimmed)
            query_kinds.append("region")
        queries.extend(fingerprint.regions)
        query_kinds.extend("region" for _ in fingerprint.regions)
        best: dict[int, tuple[int, str, bool]] = {}
        for query_number, (ids, distances) in enumerate(
            self._codes.search_many(np.stack(queries), SEARCH_RADIUS)
        ):
            for code_id, distance in zip(ids.tolist(), distances.tolist()):
                entry = self._code_entry[code_id]
                stored_kind = self._code_kind[code_id]
                whole_hit = query_number < 8 and stored_kind == WHOLE
                kind = query_kinds[query_number] if stored_kind <= TRIMMED else "region"
                previous = best.get(entry)
                if previous is None or (distance, not whole_hit) < (previous[0], not previous[2]):
                    best[entry] = (distance, kind, whole_hit)
        return best

    def _decide(
        self, fingerprint: Fingerprint, entry: int, distance: int, kind: str, whole_hit: bool
    ) -> Match | None:
        hash_score = 1 - distance / 256
        if whole_hit and distance <= HASH_ACCEPT and fingerprint.pdq_quality >= MIN_QUALITY:
            return Match(key=self._keys[entry], score=round(hash_score, 4), kind=kind)
        points, descriptors = self._features[entry]
        count = geometry.inliers(fingerprint.keypoints, fingerprint.descriptors, points,
                                 descriptors)
        if count < MIN_INLIERS:
            return None
        geometry_score = min(1.0, count / 100)
        return Match(key=self._keys[entry], score=round(0.5 * (hash_score + geometry_score), 4),
                     kind=kind)

    def _set_code_owner(self, code_id: int, entry: int, kind: int) -> None:
        while len(self._code_entry) <= code_id:
            self._code_entry.append(-1)
            self._code_kind.append(-1)
        self._code_entry[code_id] = entry
        self._code_kind[code_id] = kind

    def save(self, path: str | os.PathLike) -> None:
        """Write the index into directory `path` (created if missing); `open` reads it back."""
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        self._codes.save(directory / "codes")
        live = [e for e, key in enumerate(self._keys) if key is not None]
        np.save(directory / "code_entry.npy", np.asarray(self._code_entry, dtype=np.int64))
        np.save(directory / "code_kind.npy", np.asarray(self._code_kind, dtype=np.int8))
        points = [self._features[e][0] if self._features[e] else np.zeros((0, 2), np.float32)
                  for e in range(len(self._keys))]
        descriptors = [self._features[e][1] if self._features[e] else np.zeros((0, 32), np.uint8)
                       for e in range(len(self._keys))]
        counts = np.array([len(p) for p in points], dtype=np.int64)
        np.save(directory / "feature_offsets.npy", np.concatenate([[0], np.cumsum(counts)]))
        np.save(directory / "keypoints.npy",
                np.concatenate(points) if points else np.zeros((0, 2), np.float32))
        np.save(directory / "descriptors.npy",
                np.concatenate(descriptors) if descriptors else np.zeros((0, 32), np.uint8))
        (directory / "keys.json").write_text(json.dumps(
            {"keys": [[e, self._keys[e]] for e in live], "entries": len(self._keys)}))

    @classmethod
    def open(cls, path: str | os.PathLike) -> MatchIndex:
        """Open an index written by `save`; the large arrays are memory-mapped, not read."""
        directory = Path(path)
        if not (directory / "keys.json").is_file():
            raise FileNotFoundError(f"matching: no index at {directory} (keys.json is missing)")
        index = cls()
        index._codes = HammingIndex.open(directory / "codes")
        meta = json.loads((directory / "keys.json").read_text())
        index._keys = [None] * meta["entries"]
        for entry, key in meta["keys"]:
            index._keys[entry] = key
            index._entry_by_key[key] = entry
        index._code_entry = np.load(directory / "code_entry.npy").tolist()
        index._code_kind = np.load(directory / "code_kind.npy").tolist()
        offsets = np.load(directory / "feature_offsets.npy")
        points = np.load(directory / "keypoints.npy", mmap_mode="r")
        descriptors = np.load(directory / "descriptors.npy", mmap_mode="r")
        index._features = [
            (points[offsets[e]:offsets[e + 1]], descriptors[offsets[e]:offsets[e + 1]])
            if index._keys[e] is not None else None
            for e in range(meta["entries"])
        ]
        return index


def _check_key(key: object) -> None:
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise TypeError(f"key must be a str or int, not {type(key).__name__}")
