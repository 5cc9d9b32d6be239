"""Local-feature candidates: which registered images share keypoints with a query?

A crop at an arbitrary offset, a picture pasted onto a busy background or covered by stickers
moves every global hash far from the registered image's (PDQ moves by about 50 of 256 bits when
the frame shifts by 1% of its side), so the hash index never proposes it. Its ORB keypoints
still match the registered image's; the geometric check confirms it once it is a candidate.
This module finds those candidates without comparing the query with every registered image.

Each registered ORB descriptor (256 bits) is filed under TABLES words: its bits cut into TABLES
substrings of WORD_BITS bits, numbered by substring (locality-sensitive hashing by bit
sampling). A query descriptor looks up its own words; a registered descriptor that shares at
least one word and is within MAX_DESCRIPTOR_DISTANCE bits over all 256 is a hit. Two descriptors
of the same point in an edited copy typically differ in 10-40 bits, so they share a 24-bit word in
one of 8 tables with high probability; unrelated descriptors are about 128 bits apart and rarely
do. The caller counts, per registered image, how many of its keypoints were hit.

Postings (word -> feature id) live in sorted segments that merge like a binary counter, as in
hamming.py, and are numpy files that `open` memory-maps. Feature ids are positions in the
caller's feature arrays; the caller filters out features of removed images.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

DESCRIPTOR_BYTES = 32
TABLES = 4
WORD_BITS = 24
# A hit: descriptors within this many bits (of 256). See docs/matching.md for the tuning.
MAX_DESCRIPTOR_DISTANCE = 40
# Hits kept per query descriptor (its nearest).
MAX_HITS_PER_ROW = 32
# A word filed under more postings than this is a stop word (flat or repeated patterns: text,
# bricks), which says nothing about which image it came from; lookups skip it.
MAX_POSTINGS = 4096
BUFFER_LIMIT = 1 << 15
# Segments with at least this many postings get a direct table of word offsets.
WORD_SPACE = TABLES << WORD_BITS
DIRECT_TABLE_MIN = 1 << 25
# Feature ids are stored as uint32 (4 bytes per posting instead of 8).
MAX_FEATURE_ID = (1 << 32) - 1
FORMAT_VERSION = 1


def words(descriptors: np.ndarray) -> np.ndarray:
    """n x TABLES uint32 words: substring t of each descriptor, tagged with t in the top bits."""
    descriptors = np.ascontiguousarray(descriptors, dtype=np.uint8)
    # Each substring is 3 whole bytes: read them as a big-endian 24-bit integer.
    triples = descriptors[:, : TABLES * 3].reshape(len(descriptors), TABLES, 3).astype(np.uint32)
    values = (triples[:, :, 0] << 16) | (triples[:, :, 1] << 8) | triples[:, :, 2]
    return values | (np.arange(TABLES, dtype=np.uint32) << WORD_BITS)


def vote(entries: np.ndarray, feature_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Registered images by how many of their keypoints were hit, most-voted first.

    `entries[i]` is the image `feature_ids[i]` belongs to; a keypoint hit by several query
    descriptors votes once.
    """
    voted = np.unique(np.asarray(entries, np.int64) * (1 << 32) + feature_ids)
    ranked, votes = np.unique(voted >> 32, return_counts=True)
    order = np.argsort(-votes, kind="stable")
    return ranked[order], votes[order]


_BITS_SET = np.array([bin(value).count("1") for value in range(256)], np.uint8)


class _Segment:
    """Postings sorted by word.

    Small segments keep the sorted words and binary-search them. Large ones (at least
    DIRECT_TABLE_MIN postings) keep instead, for every possible word w, where its postings start
    (`offsets[w]`; 4 bytes per word, 256 MiB per segment): a lookup is then two reads, however
    large the segment, and the words themselves need not be stored.
    """

    def __init__(self, ids: np.ndarray, words: np.ndarray | None = None,
                 offsets: np.ndarray | None = None):
        self.ids, self.words, self.offsets = ids, words, offsets

    @classmethod
    def build(cls, words: np.ndarray, ids: np.ndarray) -> _Segment:
        order = np.argsort(words, kind="stable")
        if len(words) < DIRECT_TABLE_MIN:
            return cls(ids[order], words=words[order])
        offsets = np.zeros(WORD_SPACE + 1, np.uint32 if len(words) < 1 << 32 else np.int64)
        np.cumsum(np.bincount(words, minlength=WORD_SPACE), out=offsets[1:])
        return cls(ids[order], offsets=offsets)

    def __len__(self) -> int:
        return len(self.ids)

    def sorted_words(self) -> np.ndarray:
        if self.words is not None:
            return np.asarray(self.words)
        return np.repeat(np.arange(WORD_SPACE, dtype=np.uint32), np.diff(self.offsets))

    def ranges(self, query_words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each word's postings start, and how many there are."""
        if self.offsets is not None:
            low = self.offsets[query_words].astype(np.int64)
            high = self.offsets[query_words + 1].astype(np.int64)
        else:
            low = np.searchsorted(self.words, query_words, side="left")
            high = np.searchsorted(self.words, query_words, side="right")
        return low, high - low

    def gather(self, low: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index into the words, feature id) of the postings in these ranges."""
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        rows = np.repeat(np.arange(len(low)), lengths)
        skips = low - np.concatenate([[0], np.cumsum(lengths)[:-1]])
        return rows, np.asarray(self.ids[np.repeat(skips, lengths) + np.arange(total)], np.int64)

    _ARRAYS = ("ids", "words", "offsets")

    def save(self, directory: Path, number: int) -> None:
        for name in self._ARRAYS:
            if getattr(self, name) is not None:
                np.save(directory / f"segment-{number}-{name}.npy", getattr(self, name))

    @classmethod
    def open(cls, directory: Path, number: int) -> _Segment:
        return cls(**{name: np.load(path, mmap_mode="r") for name in cls._ARRAYS
                      if (path := directory / f"segment-{number}-{name}.npy").exists()})


class FeatureIndex:
    """ORB descriptors by feature id; `candidates` finds the registered ones near a query's."""

    def __init__(self) -> None:
        self._segments: list[_Segment] = []
        self._buffer_words: list[np.ndarray] = []
        self._buffer_ids: list[np.ndarray] = []
        self._buffered = 0
        self._buffer_segment: _Segment | None = None  # the buffer sorted, until the next add

    def add(self, feature_ids: np.ndarray, descriptors: np.ndarray) -> None:
        """File descriptors (n x 32 bytes) under their feature ids."""
        feature_ids = np.asarray(feature_ids, np.int64)
        if descriptors.shape != (len(feature_ids), DESCRIPTOR_BYTES):
            raise ValueError(f"descriptors must have shape ({len(feature_ids)}, "
                             f"{DESCRIPTOR_BYTES}), got {descriptors.shape}")
        if len(feature_ids) == 0:
            return
        if feature_ids.min() < 0 or feature_ids.max() > MAX_FEATURE_ID:
            raise ValueError(f"feature ids must be in [0, {MAX_FEATURE_ID}]: one feature index "
                             "holds at most 2^32 features; shard the registered images")
        self._buffer_words.append(words(descriptors).ravel())
        self._buffer_ids.append(np.repeat(feature_ids.astype(np.uint32), TABLES))
        self._buffered += len(feature_ids) * TABLES
        self._buffer_segment = None
        if self._buffered >= BUFFER_LIMIT:
            self._flush()

    def hits(self, query: np.ndarray, stored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query row, feature id) of registered descriptors near a query descriptor.

        `stored` is the caller's descriptor array indexed by feature id (it holds the full
        descriptors, which the postings do not). Each (query row, feature id) pair appears once,
        each query row at most MAX_HITS_PER_ROW times, nearest pairs first.
        """
        query = np.ascontiguousarray(query, dtype=np.uint8)
        if len(query) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        query_words = words(query).ravel()
        segments = list(self._segments)
        if self._buffered:
            if self._buffer_segment is None:
                self._buffer_segment = _Segment.build(np.concatenate(self._buffer_words),
                                                      np.concatenate(self._buffer_ids))
            segments.append(self._buffer_segment)
        ranges = [segment.ranges(query_words) for segment in segments]
        # Stop words by their postings over all segments.
        common = sum((lengths for _, lengths in ranges), np.zeros(len(query_words), np.int64))
        common = common > MAX_POSTINGS
        found = [segment.gather(low, np.where(common, 0, lengths))
                 for segment, (low, lengths) in zip(segments, ranges)]
        if sum(len(ids) for _, ids in found) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        rows_found = np.concatenate([rows for rows, _ in found]) // TABLES
        ids_found = np.concatenate([ids for _, ids in found])
        pairs = np.unique((rows_found.astype(np.int64) << 32) | ids_found)
        rows_found, ids_found = pairs >> 32, pairs & MAX_FEATURE_ID
        differing = _BITS_SET[query[rows_found] ^ stored[ids_found]].sum(axis=1, dtype=np.int32)
        # The nearest MAX_HITS_PER_ROW of each query descriptor within the distance, nearest
        # first overall: a descriptor that matches everything (a hostile or flat pattern)
        # cannot flood the vote or the geometric check.
        order = np.lexsort((differing, rows_found))
        rows_found, ids_found, differing = rows_found[order], ids_found[order], differing[order]
        starts = np.flatnonzero(np.concatenate([[True], rows_found[1:] != rows_found[:-1]]))
        sizes = np.diff(np.append(starts, len(rows_found)))
        rank = np.arange(len(rows_found)) - np.repeat(starts, sizes)
        keep = (differing <= MAX_DESCRIPTOR_DISTANCE) & (rank < MAX_HITS_PER_ROW)
        nearest = np.argsort(differing[keep], kind="stable")
        return rows_found[keep][nearest], ids_found[keep][nearest]

    def _flush(self) -> None:
        segment = _Segment.build(np.concatenate(self._buffer_words),
                                 np.concatenate(self._buffer_ids))
        self._buffer_words, self._buffer_ids, self._buffered = [], [], 0
        self._buffer_segment = None
        self._segments.append(segment)
        while len(self._segments) > 1 and len(self._segments[-1]) >= len(self._segments[-2]):
            newer, older = self._segments.pop(), self._segments.pop()
            self._segments.append(_Segment.build(
                np.concatenate([older.sorted_words(), newer.sorted_words()]),
                np.concatenate([older.ids, newer.ids])))

    def save(self, path: str | os.PathLike) -> None:
        """Write into directory `path`; `open` memory-maps it back."""
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        if self._buffered:
            self._flush()
        for old in directory.glob("segment-*.npy"):
            old.unlink()
        for number, segment in enumerate(self._segments):
            segment.save(directory, number)
        (directory / "meta.json").write_text(json.dumps(
            {"format": FORMAT_VERSION, "segments": len(self._segments)}))

    @classmethod
    def open(cls, path: str | os.PathLike) -> FeatureIndex:
        directory = Path(path)
        meta = json.loads((directory / "meta.json").read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"matching: feature index at {directory} has format "
                             f"{meta.get('format')}, expected {FORMAT_VERSION}; rebuild it")
        index = cls()
        index._segments = [_Segment.open(directory, n) for n in range(meta["segments"])]
        return index
