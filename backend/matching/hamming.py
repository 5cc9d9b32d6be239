"""Exact Hamming-radius search over 256-bit codes with multi-index hashing (Norouzi et al.).

A code is cut into CHUNKS substrings of 16 bits. If two codes differ in at most r bits, at least
one substring differs in at most r // CHUNKS bits (pigeonhole), so a search only reads the
entries whose substring falls in those few buckets of each of the CHUNKS tables, then checks the
full distance. Each table is a sorted array of substring values with the positions in that
order, with a table of where each of the 65536 buckets starts, so a table costs 4 bytes per
code (plus 256 KiB) and can be memory-mapped from disk.

Adding is incremental: new codes go to a small unsorted buffer (scanned linearly) and are
flushed into sorted segments, which are merged like a binary counter so that there are only
O(log n) segments. Removing marks an id; removed ids are filtered out and dropped at merges.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import faiss
import numpy as np

CODE_BYTES = 32
CHUNKS = 16
CHUNK_BITS = 16
BUCKETS = 1 << CHUNK_BITS
BUFFER_LIMIT = 4096


def _masks(max_bits: int) -> np.ndarray:
    """All 16-bit XOR masks with at most `max_bits` bits set."""
    masks = [0]
    for bits in range(1, max_bits + 1):
        for positions in itertools.combinations(range(CHUNK_BITS), bits):
            masks.append(sum(1 << p for p in positions))
    return np.array(masks, dtype=np.uint16)


_MASKS = {bits: _masks(bits) for bits in range(4)}


class _Segment:
    """Immutable: codes, their global ids, and one bucket table per chunk.

    `order[c]` lists positions sorted by the value of chunk c; the positions whose chunk c has
    value v are `order[c, offsets[c, v]:offsets[c, v + 1]]`.
    """

    def __init__(self, codes: np.ndarray, ids: np.ndarray, order: np.ndarray,
                 offsets: np.ndarray):
        self.codes, self.ids, self.order, self.offsets = codes, ids, order, offsets

    @classmethod
    def build(cls, codes: np.ndarray, ids: np.ndarray) -> _Segment:
        chunks = _chunks(codes)
        order = np.empty((CHUNKS, len(codes)), np.uint32)
        offsets = np.zeros((CHUNKS, BUCKETS + 1), np.uint32)
        for chunk in range(CHUNKS):
            order[chunk] = np.argsort(chunks[:, chunk], kind="stable")
            offsets[chunk, 1:] = np.cumsum(np.bincount(chunks[:, chunk], minlength=BUCKETS))
        return cls(codes, ids, order, offsets)

    def __len__(self) -> int:
        return len(self.ids)

    def candidates(self, probes: np.ndarray) -> np.ndarray:
        """Positions (with repeats) whose chunk c equals one of `probes[c]`."""
        rows = np.arange(CHUNKS)[:, None]
        starts = self.offsets[rows, probes].astype(np.int64).ravel()
        lengths = self.offsets[rows, probes.astype(np.int64) + 1].ravel() - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, np.int64)
        flat_starts = starts + np.repeat(rows.ravel() * len(self), probes.shape[1])
        skips = flat_starts - np.concatenate([[0], np.cumsum(lengths)[:-1]])
        flat = np.repeat(skips, lengths) + np.arange(total)
        return self.order.reshape(-1)[flat]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name in ("codes", "ids", "order", "offsets"):
            np.save(directory / f"{name}.npy", getattr(self, name))

    @classmethod
    def open(cls, directory: Path) -> _Segment:
        return cls(*(np.load(directory / f"{name}.npy", mmap_mode="r")
                     for name in ("codes", "ids", "order", "offsets")))


class HammingIndex:
    """256-bit codes with ids 0, 1, 2, ... in insertion order; removed ids are never reused."""

    def __init__(self) -> None:
        self._segments: list[_Segment] = []
        self._buffer_codes: list[np.ndarray] = []
        self._buffer_ids: list[np.ndarray] = []
        self._buffered = 0
        self._next_id = 0
        self._removed = np.zeros(1024, bool)
        self._removed_count = 0

    def __len__(self) -> int:
        return self._next_id - self._removed_count

    def add(self, codes: np.ndarray) -> np.ndarray:
        """Store `codes` (n x 32 bytes); returns their ids."""
        codes = _check_codes(codes)
        ids = np.arange(self._next_id, self._next_id + len(codes), dtype=np.int64)
        self._next_id += len(codes)
        if self._next_id > len(self._removed):
            grown = np.zeros(max(self._next_id, 2 * len(self._removed)), bool)
            grown[: len(self._removed)] = self._removed
            self._removed = grown
        if len(codes) >= BUFFER_LIMIT:
            self._push(_Segment.build(codes.copy(), ids))
        else:
            self._buffer_codes.append(codes.copy())
            self._buffer_ids.append(ids)
            self._buffered += len(codes)
            if self._buffered >= BUFFER_LIMIT:
                self._flush()
        return ids

    def remove(self, ids: np.ndarray) -> None:
        """Forget the codes with these ids (unknown or already removed ids are ignored)."""
        ids = np.asarray(ids, dtype=np.int64)
        ids = ids[(ids >= 0) & (ids < self._next_id)]
        fresh = ids[~self._removed[ids]]
        self._removed[fresh] = True
        self._removed_count += len(np.unique(fresh))

    def search(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids of all codes within `radius` bits of `query`, and their distances, nearest first."""
        query = _check_codes(np.asarray(query).reshape(1, -1))[0]
        if not 0 <= radius < CHUNKS * len(_MASKS):
            raise ValueError(f"radius must be in [0, {CHUNKS * len(_MASKS) - 1}], got {radius}")
        probes = _chunks(query.reshape(1, -1))[0][:, None] ^ _MASKS[radius // CHUNKS][None, :]
        ids_found, distances_found = [], []
        for segment in self._segments:
            positions = segment.candidates(probes)
            if len(positions) == 0:
                continue
            distances = _distances(segment.codes[positions], query)
            near = distances <= radius
            ids_found.append(segment.ids[positions[near]])
            distances_found.append(distances[near])
        if self._buffered:
            codes = np.concatenate(self._buffer_codes)
            distances = _distances(codes, query)
            near = distances <= radius
            ids_found.append(np.concatenate(self._buffer_ids)[near])
            distances_found.append(distances[near])
        if not ids_found:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        ids = np.concatenate(ids_found).astype(np.int64)
        distances = np.concatenate(distances_found)
        ids, first = np.unique(ids, return_index=True)
        distances = distances[first]
        live = ~self._removed[ids]
        ids, distances = ids[live], distances[live]
        nearest = np.argsort(distances, kind="stable")
        return ids[nearest], distances[nearest]

    def search_many(self, queries: np.ndarray, radius: int) -> list[tuple[np.ndarray, np.ndarray]]:
        return [self.search(query, radius) for query in _check_codes(queries)]

    def _flush(self) -> None:
        codes = np.concatenate(self._buffer_codes)
        ids = np.concatenate(self._buffer_ids)
        self._buffer_codes, self._buffer_ids, self._buffered = [], [], 0
        self._push(_Segment.build(codes, ids))

    def _push(self, segment: _Segment) -> None:
        """Add a segment, merging while the newest is at least as large as the one before."""
        self._segments.append(segment)
        while len(self._segments) > 1 and len(self._segments[-1]) >= len(self._segments[-2]):
            newer, older = self._segments.pop(), self._segments.pop()
            codes = np.concatenate([older.codes, newer.codes])
            ids = np.concatenate([older.ids, newer.ids])
            live = ~self._removed[ids]
            self._segments.append(_Segment.build(codes[live], ids[live]))

    def save(self, path: str | os.PathLike) -> None:
        """Write into directory `path`; `open` memory-maps it back."""
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        if self._buffered:
            self._flush()
        for old in directory.glob("segment-*"):
            for file in old.iterdir():
                file.unlink()
            old.rmdir()
        for number, segment in enumerate(self._segments):
            segment.save(directory / f"segment-{number}")
        np.save(directory / "removed.npy", self._removed[: self._next_id])
        (directory / "meta.json").write_text(json.dumps(
            {"next_id": self._next_id, "segments": len(self._segments)}))

    @classmethod
    def open(cls, path: str | os.PathLike) -> HammingIndex:
        directory = Path(path)
        meta = json.loads((directory / "meta.json").read_text())
        index = cls()
        index._segments = [_Segment.open(directory / f"segment-{n}")
                           for n in range(meta["segments"])]
        index._next_id = meta["next_id"]
        removed = np.load(directory / "removed.npy")
        index._removed = np.zeros(max(1024, 2 * index._next_id), bool)
        index._removed[: index._next_id] = removed
        index._removed_count = int(removed.sum())
        return index


def _chunks(codes: np.ndarray) -> np.ndarray:
    """The CHUNKS 16-bit substrings of each code, big-endian so bit order follows the bytes."""
    return np.ascontiguousarray(codes).view(">u2").astype(np.uint16)


def _distances(codes: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distance of each row of `codes` to `query`, with faiss's native popcount loop."""
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    query = np.ascontiguousarray(query, dtype=np.uint8)
    distances = np.empty(len(codes), np.int32)
    if len(codes):
        faiss.hammings(faiss.swig_ptr(query), faiss.swig_ptr(codes), 1, len(codes), CODE_BYTES,
                       faiss.swig_ptr(distances))
    return distances.astype(np.int64)


def _check_codes(codes: np.ndarray) -> np.ndarray:
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    if codes.ndim != 2 or codes.shape[1] != CODE_BYTES:
        raise ValueError(f"codes must have shape (n, {CODE_BYTES}), got {codes.shape}")
    return codes
