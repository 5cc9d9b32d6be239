"""MatchIndex: registered fingerprints, searched for copies of a query image."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import geometry
from .columns import Column
from .features import MAX_FEATURE_ID, FeatureIndex, vote
from .fingerprints import Fingerprint
from .hamming import HammingIndex

Key = str | int
# The layout `save` writes (1: before local features and image sizes, 2: with region codes);
# `open` reads only this one.
INDEX_FORMAT = 3

# Kinds of stored code, per entry: the whole image, its borders trimmed, its pHash (repeated
# four times to fill 256 bits, so 4 bits of code distance are 1 bit of pHash).
WHOLE, TRIMMED, PHASH = 0, 1, 2
# PDQ's dihedral order (see Fingerprint.pdq) and what a hit on each variant means.
VARIANT_KINDS = ("whole", "rotation", "rotation", "rotation", "flip", "flip", "flip", "flip")

# The decision. A PDQ distance within HASH_ACCEPT (of 256 bits) between whole-image codes (any
# dihedral variant of the query, or either image with uniform borders trimmed) is a copy on its
# own; anything up to SEARCH_RADIUS is a candidate that must be confirmed by at least
# MIN_INLIERS ORB correspondences under one homography. See docs/matching.md for the tuning.
SEARCH_RADIUS = 31
HASH_ACCEPT = 31
MIN_INLIERS = 12
MIN_QUALITY = 50
# A query too flat for PDQ to trust (quality below MIN_QUALITY) is accepted on its hash only if
# the 64-bit pHash agrees as well.
PHASH_ACCEPT = 8
# Two global hashes that agree are a copy as well: pHash within PHASH_PAIR_ACCEPT bits (of 64)
# and PDQ within PDQ_PAIR_ACCEPT bits (of 256). pHash survives blur, pixelisation and heavy
# downscaling of textured and text images better than PDQ; PDQ guards against pHash's known
# collisions between unrelated images of similar layout (unrelated PDQ codes are ~128 apart).
PHASH_PAIR_ACCEPT = SEARCH_RADIUS // 4  # a pHash code within the search radius is this close
PDQ_PAIR_ACCEPT = 72
# A window of the query (a picture found inside a layout, or a tilted one warped upright) is a
# picture in its own right: its code within HASH_ACCEPT of a whole registered image is a copy.
WINDOW_HASH_ACCEPT = HASH_ACCEPT
# Local-feature candidates (features.py): a registered image with at least FEATURE_VOTES of its
# keypoints near the query's is checked geometrically, the FEATURE_CANDIDATES most-voted only.
FEATURE_VOTES = 3
FEATURE_CANDIDATES = 8


@dataclass
class _Candidate:
    """The nearest hits of one registered entry: any code, and whole-image codes only."""

    distance: int = 256
    kind: str = "region"
    global_distance: int = 256
    global_kind: str = "whole"
    unchanged: bool = False
    window_distance: int = 256
    phash_variants: list[int] = field(default_factory=list)
    # Local-feature hits on this entry: (query keypoint rows, registered feature ids).
    feature_hits: tuple[np.ndarray, np.ndarray] | None = None

    def note(self, distance: int, kind: str, is_global: bool, unchanged: bool,
             window_on_whole: bool) -> None:
        if distance < self.distance:
            self.distance, self.kind = distance, kind
        if window_on_whole:
            self.window_distance = min(self.window_distance, distance)
        if is_global and distance < self.global_distance:
            self.global_distance, self.global_kind, self.unchanged = distance, kind, unchanged


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
    """Registered images by key; `search` returns the ones a query image is a copy of.

    Not thread-safe: callers that share one index between threads hold a lock around it.
    Removing a key drops its codes from the search at once; the ORB features of removed images
    stay in the arrays (they are small and on disk once saved).
    """

    def __init__(self) -> None:
        self._codes = HammingIndex()
        self._features = FeatureIndex()
        self._keys: list[Key | None] = []
        self._entry_by_key: dict[Key, int] = {}
        # Per code id: the entry it belongs to and which of its codes it is.
        self._code_entry = Column(np.int64)
        self._code_kind = Column(np.int8)
        # Per entry: its first code id and number of codes, its ORB features' offset and count.
        self._entry_codes = Column(np.int64, 2)
        self._entry_features = Column(np.int64, 2)
        self._entry_size = Column(np.int64, 2)
        self._entry_phash = Column(np.uint64)
        self._entry_pdq = Column(np.uint8, 32)
        self._keypoints = Column(np.float32, 2)
        self._descriptors = Column(np.uint8, 32)

    def __len__(self) -> int:
        return len(self._entry_by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._entry_by_key

    def add(self, key: Key, fingerprint: Fingerprint) -> None:
        """Register `fingerprint` under `key`, replacing what the key had before."""
        _check_key(key)
        if not isinstance(fingerprint, Fingerprint):
            raise TypeError(f"fingerprint must be a Fingerprint, not {type(fingerprint).__name__}")
        # Everything that can refuse is checked before anything changes: a refused add leaves
        # the index as it was, key included.
        features = len(fingerprint.keypoints)
        if (fingerprint.pdq.shape != (8, 32) or fingerprint.keypoints.shape != (features, 2)
                or fingerprint.descriptors.shape != (features, 32)
                or (fingerprint.trimmed is not None and fingerprint.trimmed.shape != (32,))):
            raise ValueError("fingerprint arrays have inconsistent shapes; recompute it")
        first_feature = len(self._keypoints)
        if first_feature + features - 1 > MAX_FEATURE_ID:
            raise ValueError(f"matching: this index holds {first_feature:,} features and can "
                             f"address {MAX_FEATURE_ID + 1:,}; shard the registered images")
        if key in self._entry_by_key:
            self.remove(key)
        entry = len(self._keys)
        codes = [fingerprint.pdq[0]]
        kinds = [WHOLE]
        if fingerprint.trimmed is not None:
            codes.append(fingerprint.trimmed)
            kinds.append(TRIMMED)
        codes.append(_phash_code(fingerprint.phash64))
        kinds.append(PHASH)
        ids = self._codes.add(np.stack(codes))
        self._code_entry.append(np.full(len(ids), entry))
        self._code_kind.append(kinds)
        self._entry_codes.append([[ids[0], len(ids)]])
        self._entry_features.append([[first_feature, features]])
        self._features.add(np.arange(first_feature, first_feature + features),
                           fingerprint.descriptors)
        self._entry_size.append([[fingerprint.width, fingerprint.height]])
        self._entry_phash.append([fingerprint.phash64])
        self._entry_pdq.append([fingerprint.pdq[0]])
        self._keypoints.append(fingerprint.keypoints)
        self._descriptors.append(fingerprint.descriptors)
        self._keys.append(key)
        self._entry_by_key[key] = entry

    def remove(self, key: Key) -> None:
        """Forget `key`; KeyError if it was never added."""
        _check_key(key)
        entry = self._entry_by_key.pop(key, None)
        if entry is None:
            raise KeyError(f"matching: no image registered under key {key!r}")
        self._keys[entry] = None
        first, count = self._entry_codes[entry]
        self._codes.remove(np.arange(first, first + count))

    def search(self, fingerprint: Fingerprint, limit: int = 10) -> list[Match]:
        """The registered images `fingerprint` is a copy of, best first, at most `limit`."""
        if not isinstance(fingerprint, Fingerprint):
            raise TypeError(f"fingerprint must be a Fingerprint, not {type(fingerprint).__name__}")
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        candidates = self._candidates(fingerprint)
        for entry, hits in self._feature_candidates(fingerprint).items():
            candidates.setdefault(entry, _Candidate()).feature_hits = hits
        matches = []
        for entry, candidate in candidates.items():
            match = self._decide(fingerprint, entry, candidate)
            if match is not None:
                matches.append(match)
        matches.sort(key=lambda m: -m.score)
        return matches[:limit]

    def _candidates(self, fingerprint: Fingerprint) -> dict[int, _Candidate]:
        """Every entry with a code within SEARCH_RADIUS of one of the query's codes."""
        queries = list(fingerprint.pdq)
        query_kinds = list(VARIANT_KINDS)
        if fingerprint.trimmed is not None:
            queries.append(fingerprint.trimmed)
            query_kinds.append("region")
        global_queries = len(queries)
        queries.extend(fingerprint.windows)
        query_kinds.extend("region" for _ in fingerprint.windows)
        first_phash_query = len(queries)
        queries.extend(_phash_code(int(phash)) for phash in fingerprint.phash_dihedral)
        candidates: dict[int, _Candidate] = {}
        for query_number, (ids, distances) in enumerate(
            self._codes.search_many(np.stack(queries), SEARCH_RADIUS)
        ):
            entries = self._code_entry[ids].tolist()
            stored_kinds = self._code_kind[ids].tolist()
            for entry, stored_kind, distance in zip(entries, stored_kinds, distances.tolist()):
                is_phash = query_number >= first_phash_query
                if is_phash != (stored_kind == PHASH):
                    continue  # a pHash code only means something beside another pHash code
                candidate = candidates.setdefault(entry, _Candidate())
                if is_phash:
                    candidate.phash_variants.append(query_number - first_phash_query)
                    continue
                # Stored codes here are whole-image or trimmed codes.
                is_global = query_number < global_queries
                candidate.note(distance, query_kinds[query_number], is_global,
                               unchanged=query_number == 0,
                               window_on_whole=query_number >= global_queries
                               and stored_kind == WHOLE)
        return candidates

    def _feature_candidates(self, fingerprint: Fingerprint
                            ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Entries with at least FEATURE_VOTES keypoints hit, most-voted first, and their hits."""
        rows, feature_ids = self._features.hits(fingerprint.descriptors, self._descriptors)
        if len(feature_ids) == 0:
            return {}
        entries = self._entry_features.searchsorted(feature_ids, column=0) - 1
        ranked, votes = vote(entries, feature_ids)
        chosen = [entry for entry, count in zip(ranked.tolist(), votes.tolist())
                  if count >= FEATURE_VOTES and self._keys[entry] is not None
                  ][:FEATURE_CANDIDATES]
        return {entry: (rows[entries == entry], feature_ids[entries == entry])
                for entry in chosen}

    def _decide(self, fingerprint: Fingerprint, entry: int, candidate: _Candidate
                ) -> Match | None:
        if candidate.global_distance <= HASH_ACCEPT and (
            fingerprint.pdq_quality >= MIN_QUALITY
            or (candidate.unchanged and self._phash_distance(fingerprint, entry) <= PHASH_ACCEPT)
        ):
            score = 1 - candidate.global_distance / 256
            return Match(key=self._keys[entry], score=round(score, 4), kind=candidate.global_kind)
        stored_pdq = self._entry_pdq[entry]
        whole_distance = int(np.unpackbits(fingerprint.pdq[0] ^ stored_pdq).sum())
        for variant in candidate.phash_variants:
            # The pHash of this variant is within PHASH_PAIR_ACCEPT (the search radius ensures
            # it); the same variant's PDQ code must agree too.
            distance = int(np.unpackbits(fingerprint.pdq[variant] ^ stored_pdq).sum())
            if distance <= PDQ_PAIR_ACCEPT:
                return Match(key=self._keys[entry], score=round(1 - distance / 256, 4),
                             kind=VARIANT_KINDS[variant])
        if candidate.window_distance <= WINDOW_HASH_ACCEPT:
            score = 1 - candidate.window_distance / 256
            return Match(key=self._keys[entry], score=round(score, 4), kind="region")
        offset, count = self._entry_features[entry]
        points = self._keypoints[offset: offset + count]
        descriptors = self._descriptors[offset: offset + count]
        count, homography = geometry.confirm(fingerprint.keypoints, fingerprint.descriptors,
                                             points, descriptors)
        if count < MIN_INLIERS and candidate.feature_hits is not None:
            rows, feature_ids = candidate.feature_hits
            count, homography = geometry.confirm_pairs(fingerprint.keypoints[rows],
                                                       self._keypoints[feature_ids])
        if count < MIN_INLIERS:
            return None
        kind = candidate.kind
        if kind == "region":  # no hash said which variant: the homography tells
            kind = geometry.describe(homography, (fingerprint.width, fingerprint.height),
                                     tuple(self._entry_size[entry].tolist()))
        # Half from the hash distance, half from how many keypoints agree (100 or more: all).
        distance = min(candidate.distance, whole_distance)
        score = 0.5 * (1 - distance / 256) + 0.5 * min(1.0, count / 100)
        return Match(key=self._keys[entry], score=round(score, 4), kind=kind)

    def _phash_distance(self, fingerprint: Fingerprint, entry: int) -> int:
        return (fingerprint.phash64 ^ int(self._entry_phash[entry])).bit_count()

    _COLUMNS = ("code_entry", "code_kind", "entry_codes", "entry_features", "entry_size",
                "entry_phash", "entry_pdq", "keypoints", "descriptors")

    def save(self, path: str | os.PathLike) -> None:
        """Write the index into directory `path` (created if missing); `open` reads it back."""
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        self._codes.save(directory / "codes")
        self._features.save(directory / "features")
        for name in self._COLUMNS:
            getattr(self, f"_{name}").save(directory / f"{name}.npy")
        live = [[entry, key] for entry, key in enumerate(self._keys) if key is not None]
        (directory / "keys.json").write_text(json.dumps(
            {"format": INDEX_FORMAT, "entries": len(self._keys), "keys": live}))

    @classmethod
    def open(cls, path: str | os.PathLike) -> MatchIndex:
        """Open an index written by `save`; the large arrays are memory-mapped, not read."""
        directory = Path(path)
        if not (directory / "keys.json").is_file():
            raise FileNotFoundError(f"matching: no index at {directory} (keys.json is missing)")
        meta = json.loads((directory / "keys.json").read_text())
        if meta.get("format") != INDEX_FORMAT:
            raise ValueError(f"matching: the index at {directory} has layout "
                             f"{meta.get('format', 1)}, this version reads {INDEX_FORMAT}; "
                             "rebuild it from the fingerprints")
        index = cls()
        index._codes = HammingIndex.open(directory / "codes")
        index._features = FeatureIndex.open(directory / "features")
        for name in cls._COLUMNS:
            data = np.load(directory / f"{name}.npy", mmap_mode="r")
            setattr(index, f"_{name}", Column(data.dtype, data=data))
        index._keys = [None] * meta["entries"]
        for entry, key in meta["keys"]:
            index._keys[entry] = key
            index._entry_by_key[key] = entry
        return index


def _phash_code(phash64: int) -> np.ndarray:
    """The pHash four times over: 256 bits whose distances are 4x the pHash distances."""
    return np.frombuffer(phash64.to_bytes(8, "big") * 4, np.uint8)


def _check_key(key: object) -> None:
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise TypeError(f"key must be a str or int, not {type(key).__name__}")
