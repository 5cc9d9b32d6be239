"""Exact Hamming-radius search over 256-bit codes with multi-index hashing.

A code is cut into CHUNKS substrings (3 of 24 bits, 8 of 23). By the generalised pigeonhole
principle (Qin et al., "GPH", 2018; Norouzi et al.'s multi-index hashing is the case of equal
thresholds), if two codes differ in at most r bits and thresholds t_i sum to r - CHUNKS + 1,
then some substring i differs in at most t_i bits. A search therefore reads only the entries
whose substring i lies within t_i bits of the query's, in one table per substring, and checks
their full distance. The thresholds are chosen greedily to read the fewest entries: at radius 31
that is 2,866 buckets and, on 10 million codes, about 2,900 (random codes) to 4,900 (codes in
families of near copies) candidates. Substrings of 23-24 bits rather than 21-22 (12 of them)
halve the candidates at 10 million codes for 40% more bucket reads, many of them empty; the price
is memory while a segment holds fewer codes than its tables have buckets (148 bytes per code in
all at 10 million codes).

A table has a bucket for each value of the substring's top `table_bits` bits. A segment of n
codes uses about log2(n) bits, at most the substring's width: large segments get one bucket per
substring value (a direct lookup); in smaller ones an entry packs the substring bits the bucket
leaves out beside the position (both fit in 32 bits), and the search compares them. A bucket is
one 64-bit slot that holds up to two entries itself (most buckets: there are about as many as
codes), so one read finds them; larger buckets point into an overflow array.

The search loop is compiled with numba; it and the table building release the GIL. It is bound
by random memory reads (a bucket's slot, the overflow of large buckets, then each candidate's
code), so it runs in passes whose reads do not depend on each other and prefetches a few
entries ahead, letting the CPU have many reads in flight instead of waiting for each in turn.
A code within the radius of the query is found once per substring within its threshold; it is
reported only from the first of them, so no deduplication pass is needed.

Adding is incremental: new codes go to a small buffer (scanned linearly) and are flushed into
segments, which are merged so that each is more than MERGE_RATIO times the next: O(log n)
segments, 3-4 at 10 million codes. Removing marks an id; removed ids are filtered out and
dropped at merges. Everything is a numpy array that `open` memory-maps from disk.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
from pathlib import Path

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

CODE_BYTES = 32
CHUNK_WIDTHS = (24, 24, 24, 23, 23, 23, 23, 23, 23, 23, 23)
CHUNKS = len(CHUNK_WIDTHS)
CHUNK_STARTS = tuple(int(x) for x in np.cumsum((0,) + CHUNK_WIDTHS[:-1]))
MAX_THRESHOLD = 4
MAX_RADIUS = CHUNKS * (MAX_THRESHOLD + 1) - 1
BUFFER_LIMIT = 4096
# A segment is merged into the one before it once it is at least 1/MERGE_RATIO of its size, so
# segment sizes fall by more than MERGE_RATIO from one to the next. Every segment costs about
# 2,900 bucket reads per search whatever its size; a ratio of 8 keeps 3-4 segments at 10M codes
# (a binary counter, ratio 1, keeps about 6 and up to 11) and rebuilds each code about 20 times
# as the index grows to 10M instead of 11.
MERGE_RATIO = 8
# Smallest bucket table (bits of the substring), so that tiny segments are not all collisions.
MIN_TABLE_BITS = 8
# Version 2: 11 substrings, bucket slots of about log2(n) bits with the entries of small buckets,
# entries with the substring's remaining bits (version 1: 12 substrings, full-width tables of
# bucket starts or binary-searched sorted values).
FORMAT_VERSION = 2
# A bucket slot (64 bits) holds up to INLINE_ENTRIES entries of 32 bits, EMPTY where unused;
# a larger bucket's slot holds OVERFLOW | its size and where its entries start in `overflow`.
# Entries are below 2**31 (MAX_SEGMENT), so OVERFLOW tells the two apart.
INLINE_ENTRIES = 2
EMPTY = np.uint32(0xFFFFFFFF)
EMPTY_SLOT = np.uint64(0xFFFFFFFFFFFFFFFF)
OVERFLOW = np.uint32(1 << 31)
MAX_SEGMENT = (1 << 31) - 1
# How many entries ahead the search loop prefetches.
PREFETCH_AHEAD = 16


@functools.cache
def _masks(width: int, max_bits: int) -> np.ndarray:
    """All `width`-bit XOR masks with at most `max_bits` bits set."""
    masks = [0]
    for bits in range(1, max_bits + 1):
        for positions in itertools.combinations(range(width), bits):
            masks.append(sum(1 << p for p in positions))
    return np.array(masks, dtype=np.uint32)


@functools.cache
def _thresholds(radius: int) -> tuple[int, ...]:
    """Per-substring thresholds summing to radius - CHUNKS + 1 that read the fewest entries.

    A threshold of -1 means the substring is not probed at all.
    """
    thresholds = [-1] * CHUNKS

    def extra_share(chunk: int) -> float:
        """The share of all codes one more bit of threshold on `chunk` adds to the reads."""
        width, raised = CHUNK_WIDTHS[chunk], thresholds[chunk] + 1
        if raised > MAX_THRESHOLD:
            return np.inf
        before = len(_masks(width, raised - 1)) if raised > 0 else 0
        return (len(_masks(width, raised)) - before) / 2**width

    for _ in range(radius + 1):
        thresholds[min(range(CHUNKS), key=extra_share)] += 1
    return tuple(thresholds)


@functools.cache
def _plan(radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The probes of a search at `radius`: thresholds, where each substring's masks start, masks."""
    thresholds = _thresholds(radius)
    masks = [_masks(width, t) if t >= 0 else np.zeros(0, np.uint32)
             for width, t in zip(CHUNK_WIDTHS, thresholds)]
    starts = np.cumsum([0] + [len(m) for m in masks]).astype(np.int64)
    return np.array(thresholds, np.int64), starts, np.concatenate(masks).astype(np.uint64)


def _chunk_bit_masks() -> np.ndarray:
    """Each substring's bits as a mask over a code read as 4 native uint64 words."""
    masks = np.zeros((CHUNKS, 256), bool)
    for chunk, (start, width) in enumerate(zip(CHUNK_STARTS, CHUNK_WIDTHS)):
        masks[chunk, start: start + width] = True
    return np.packbits(masks, axis=1).view(np.uint64)


_CHUNK_BIT_MASKS = _chunk_bit_masks()


def _table_bits(count: int) -> np.ndarray:
    """Bucket-table bits per substring for a segment of `count` codes: about log2(count)."""
    bits = max(MIN_TABLE_BITS, max(count - 1, 1).bit_length())
    return np.minimum(np.array(CHUNK_WIDTHS, np.int64), bits)


# ---- compiled kernels ------------------------------------------------------------------------

@intrinsic
def _popcount(typingctx, value):
    """Bits set in a uint64: one POPCNT instruction."""
    if value != types.uint64:
        return None

    def codegen(context, builder, signature, arguments):
        return builder.ctpop(arguments[0])

    return types.uint64(types.uint64), codegen


@intrinsic
def _prefetch(typingctx, address):
    """Start loading the cache line at `address` (an integer) without waiting for it."""
    if not isinstance(address, types.Integer):
        return None

    def codegen(context, builder, signature, arguments):
        pointer = builder.inttoptr(arguments[0], ir.PointerType(ir.IntType(8)))
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [pointer.type, i32, i32, i32]),
            "llvm.prefetch.p0")
        builder.call(prefetch, [pointer, i32(0), i32(3), i32(1)])  # read, keep in all caches
        return context.get_dummy_value()

    return types.void(address), codegen


@njit(cache=True, inline="always")
def _chunk_value(code, chunk):
    """Substring `chunk` of a code (32 bytes) as an integer, bits in the code's byte order."""
    start, width = CHUNK_STARTS[chunk], CHUNK_WIDTHS[chunk]
    first, last = start // 8, (start + width - 1) // 8
    value = np.uint64(0)
    for byte in range(first, last + 1):
        value = (value << np.uint64(8)) | np.uint64(code[byte])
    value >>= np.uint64(8 * (last + 1) - start - width)
    return value & np.uint64((1 << width) - 1)


@njit(cache=True, nogil=True)
def _fill_table(codes, chunk, table_bits, slots):
    """Fill substring `chunk`'s bucket slots; returns its overflow entries.

    An entry is a position shifted left by the substring bits that the table leaves out, or-ed
    with them (when the table is narrower than the substring, positions need at most
    `table_bits` bits, so an entry fits the substring's width). A slot holds the entries of a
    bucket of up to two, EMPTY where there are fewer; for a larger bucket it holds
    OVERFLOW | count and, in its high half, where its entries start in the returned array.
    """
    count = len(codes)
    shift = np.uint32(CHUNK_WIDTHS[chunk] - table_bits)
    low_bits = np.uint32((1 << shift) - 1)
    values = np.empty(count, np.uint32)
    sizes = np.zeros(len(slots), np.uint32)
    for i in range(count):
        values[i] = _chunk_value(codes[i], chunk)
        sizes[values[i] >> shift] += 1
    spilled = 0
    for bucket in range(len(slots)):
        if sizes[bucket] > INLINE_ENTRIES:
            start = np.uint64(spilled) << np.uint64(32)
            slots[bucket] = start | np.uint64(OVERFLOW | sizes[bucket])
            spilled += sizes[bucket]
        else:
            slots[bucket] = EMPTY_SLOT
    overflow = np.empty(spilled, np.uint32)
    filled = np.zeros(len(slots), np.uint32)
    for i in range(count):
        bucket = values[i] >> shift
        entry = (np.uint32(i) << shift) | (values[i] & low_bits)
        if sizes[bucket] > INLINE_ENTRIES:
            overflow[(slots[bucket] >> np.uint64(32)) + filled[bucket]] = entry
        elif filled[bucket] == 0:
            slots[bucket] = (slots[bucket] & np.uint64(0xFFFFFFFF00000000)) | np.uint64(entry)
        else:
            second = np.uint64(entry) << np.uint64(32)
            slots[bucket] = (slots[bucket] & np.uint64(0xFFFFFFFF)) | second
        filled[bucket] += 1
    return overflow


@njit(cache=True, inline="always")
def _native_words(code):
    """A code as 4 uint64 words in native byte order (XOR and popcount do not care)."""
    words = np.zeros(4, np.uint64)
    for word in range(4):
        for byte in range(7, -1, -1):
            words[word] = (words[word] << np.uint64(8)) | np.uint64(code[8 * word + byte])
    return words


@njit(cache=True)
def _grow(array, needed):
    if needed <= len(array):
        return array
    grown = np.empty(max(needed, 2 * len(array)), array.dtype)
    grown[: len(array)] = array
    return grown


@njit(cache=True, nogil=True)
def _search_tables(queries, radius, thresholds, mask_starts, masks, chunk_bit_masks,
                   words, ids, slots, table_bases, table_bits, overflow, overflow_bases, removed):
    """Hits of every query in one segment: (query numbers, ids, distances), unsorted."""
    probes = len(masks)
    gathered = np.empty(probes, np.uint64)
    values = np.empty(probes, np.uint32)
    spills = np.empty(probes, np.int64)
    # A candidate is its substring number (high half) and its position.
    candidates = np.empty(2 * probes, np.int64)
    near_distances = np.empty(64, np.int64)
    found = 0
    hit_queries = np.empty(64, np.int64)
    hit_ids = np.empty(64, np.int64)
    hit_distances = np.empty(64, np.int64)
    overflow_address = np.uint64(overflow.ctypes.data)
    words_address = np.uint64(words.ctypes.data)
    for query_number in range(len(queries)):
        query = queries[query_number]
        native = _native_words(query)
        # Pass 1: the slot of each probed bucket (reads that do not depend on each other).
        for chunk in range(CHUNKS):
            query_value = _chunk_value(query, chunk)
            shift = np.uint64(CHUNK_WIDTHS[chunk] - table_bits[chunk])
            for probe in range(mask_starts[chunk], mask_starts[chunk + 1]):
                value = query_value ^ masks[probe]
                values[probe] = value
                gathered[probe] = slots[table_bases[chunk] + np.int64(value >> shift)]
        # Pass 2: entries held in the slots become candidates when their substring is the
        # probed value; larger buckets are noted.
        found_candidates = 0
        spilled = 0
        spilled_entries = 0
        for chunk in range(CHUNKS):
            shift = np.uint32(CHUNK_WIDTHS[chunk] - table_bits[chunk])
            low_bits = np.uint32((1 << shift) - 1)
            tag = np.int64(chunk) << 32
            for probe in range(mask_starts[chunk], mask_starts[chunk + 1]):
                slot = gathered[probe]
                first = np.uint32(slot & np.uint64(0xFFFFFFFF))
                second = np.uint32(slot >> np.uint64(32))
                if first == EMPTY:
                    continue
                if first & OVERFLOW:
                    spills[spilled] = probe
                    spilled += 1
                    spilled_entries += first & ~OVERFLOW
                    continue
                value = values[probe]
                candidates[found_candidates] = tag | np.int64(first >> shift)
                found_candidates += ((first ^ value) & low_bits) == 0
                if second != EMPTY:
                    candidates[found_candidates] = tag | np.int64(second >> shift)
                    found_candidates += ((second ^ value) & low_bits) == 0
        # Pass 3: the entries of the larger buckets.
        candidates = _grow(candidates, found_candidates + spilled_entries)
        chunk = 0
        for spill in range(spilled):
            ahead = spill + PREFETCH_AHEAD
            if ahead < spilled:
                probe_ahead = spills[ahead]
                chunk_ahead = 0
                while mask_starts[chunk_ahead + 1] <= probe_ahead:
                    chunk_ahead += 1
                start_ahead = (overflow_bases[chunk_ahead]
                               + np.int64(gathered[probe_ahead] >> np.uint64(32)))
                _prefetch(overflow_address + np.uint64(4 * start_ahead))
            probe = spills[spill]
            while mask_starts[chunk + 1] <= probe:
                chunk += 1
            slot = gathered[probe]
            start = overflow_bases[chunk] + np.int64(slot >> np.uint64(32))
            size = np.int64(np.uint32(slot & np.uint64(0xFFFFFFFF)) & ~OVERFLOW)
            shift = np.uint32(CHUNK_WIDTHS[chunk] - table_bits[chunk])
            low_bits = np.uint32((1 << shift) - 1)
            tag = np.int64(chunk) << 32
            value = values[probe]
            for entry in range(start, start + size):
                packed = overflow[entry]
                candidates[found_candidates] = tag | np.int64(packed >> shift)
                found_candidates += ((packed ^ value) & low_bits) == 0
        # Pass 4: full distances. The candidates within the radius move to the front without a
        # branch: one that waits on a memory read and sometimes goes the other way would throw
        # away the reads issued after it.
        near = 0
        for candidate in range(found_candidates):
            ahead = candidate + PREFETCH_AHEAD
            if ahead < found_candidates:
                _prefetch(words_address
                          + np.uint64(32) * np.uint64(candidates[ahead] & 0xFFFFFFFF))
            packed = candidates[candidate]
            position = packed & 0xFFFFFFFF
            distance = (_popcount(words[position, 0] ^ native[0])
                        + _popcount(words[position, 1] ^ native[1])
                        + _popcount(words[position, 2] ^ native[2])
                        + _popcount(words[position, 3] ^ native[3]))
            candidates[near] = packed
            near += np.int64(distance) <= radius
        # Pass 5: a hit counts only from the first substring within its threshold (its code is
        # in the cache now); then the ids of all of them, then whether they were removed.
        accepted = 0
        near_distances = _grow(near_distances, near)
        for candidate in range(near):
            position = candidates[candidate] & 0xFFFFFFFF
            chunk = candidates[candidate] >> 32
            x0 = words[position, 0] ^ native[0]
            x1 = words[position, 1] ^ native[1]
            x2 = words[position, 2] ^ native[2]
            x3 = words[position, 3] ^ native[3]
            seen = False
            for earlier in range(chunk):
                if thresholds[earlier] >= 0 and np.int64(
                        _popcount(x0 & chunk_bit_masks[earlier, 0])
                        + _popcount(x1 & chunk_bit_masks[earlier, 1])
                        + _popcount(x2 & chunk_bit_masks[earlier, 2])
                        + _popcount(x3 & chunk_bit_masks[earlier, 3])) <= thresholds[earlier]:
                    seen = True
                    break
            if not seen:
                candidates[accepted] = position
                near_distances[accepted] = np.int64(_popcount(x0) + _popcount(x1)
                                                    + _popcount(x2) + _popcount(x3))
                accepted += 1
        hit_queries = _grow(hit_queries, found + accepted)
        hit_ids = _grow(hit_ids, found + accepted)
        hit_distances = _grow(hit_distances, found + accepted)
        for hit in range(accepted):
            hit_ids[found + hit] = ids[candidates[hit]]
        kept = found
        for hit in range(accepted):
            identifier = hit_ids[found + hit]
            if not removed[identifier]:
                hit_queries[kept] = query_number
                hit_ids[kept] = identifier
                hit_distances[kept] = near_distances[hit]
                kept += 1
        found = kept
    return hit_queries[:found], hit_ids[:found], hit_distances[:found]


@njit(cache=True, nogil=True)
def _search_scan(queries, radius, words, ids, removed):
    """Hits of every query among `words` by comparing with each: (query numbers, ids, distances)."""
    found = 0
    hit_queries = np.empty(64, np.int64)
    hit_ids = np.empty(64, np.int64)
    hit_distances = np.empty(64, np.int64)
    for query_number in range(len(queries)):
        native = _native_words(queries[query_number])
        for position in range(len(ids)):
            distance = np.int64(_popcount(words[position, 0] ^ native[0])
                                + _popcount(words[position, 1] ^ native[1])
                                + _popcount(words[position, 2] ^ native[2])
                                + _popcount(words[position, 3] ^ native[3]))
            if distance > radius or removed[ids[position]]:
                continue
            if found == len(hit_ids):
                hit_queries = _grow(hit_queries, found + 1)
                hit_ids = _grow(hit_ids, found + 1)
                hit_distances = _grow(hit_distances, found + 1)
            hit_queries[found] = query_number
            hit_ids[found] = ids[position]
            hit_distances[found] = distance
            found += 1
    return hit_queries[:found], hit_ids[:found], hit_distances[:found]


# ---- segments and the index ------------------------------------------------------------------

def _read_only(array: np.ndarray) -> np.ndarray:
    """The same array, read-only: built and memory-mapped segments then share compiled code."""
    array = np.asarray(array)
    array.flags.writeable = False
    return array


class _Segment:
    """Immutable: codes, their global ids, and one bucket table per substring.

    Substring c's table is `slots[table_bases[c]: table_bases[c + 1]]`, one slot for each value
    of its top `table_bits[c]` bits; buckets of more than INLINE_ENTRIES spill into `overflow`,
    whose part for substring c starts at `overflow_bases[c]` (see `_fill_table`).
    """

    def __init__(self, codes, ids, slots, overflow, table_bits, overflow_bases):
        self.codes, self.ids = _read_only(codes), _read_only(ids)
        self.slots, self.overflow = _read_only(slots), _read_only(overflow)
        self.table_bits = np.asarray(table_bits, np.int64)
        self.overflow_bases = np.asarray(overflow_bases, np.int64)
        self.table_bases = np.cumsum(np.concatenate([[0], 1 << self.table_bits]))
        self.words = self.codes.view(np.uint64)

    @classmethod
    def build(cls, codes: np.ndarray, ids: np.ndarray) -> _Segment:
        if len(codes) > MAX_SEGMENT:
            raise ValueError(f"a segment holds at most {MAX_SEGMENT:,} codes, got {len(codes):,}: "
                             "split them over several indexes")
        table_bits = _table_bits(len(codes))
        # Allocated here rather than in the kernel: numpy asks the kernel for huge pages for
        # large arrays, which saves a TLB miss on most random reads.
        slots = np.empty(int((1 << table_bits).sum()), np.uint64)
        table_bases = np.cumsum(np.concatenate([[0], 1 << table_bits]))
        overflow = [_fill_table(codes, chunk, table_bits[chunk],
                                slots[table_bases[chunk]: table_bases[chunk + 1]])
                    for chunk in range(CHUNKS)]
        overflow_bases = np.cumsum([0] + [len(part) for part in overflow[:-1]])
        return cls(codes, ids, slots, np.concatenate(overflow), table_bits, overflow_bases)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.codes, self.ids, self.slots, self.overflow))

    def search(self, queries: np.ndarray, radius: int, removed: np.ndarray):
        thresholds, mask_starts, masks = _plan(radius)
        return _search_tables(queries, radius, thresholds, mask_starts, masks, _CHUNK_BIT_MASKS,
                              self.words, self.ids, self.slots, self.table_bases, self.table_bits,
                              self.overflow, self.overflow_bases, removed)

    _ARRAYS = ("codes", "ids", "slots", "overflow")

    def save(self, directory: Path) -> dict:
        directory.mkdir(parents=True, exist_ok=True)
        for name in self._ARRAYS:
            np.save(directory / f"{name}.npy", getattr(self, name))
        return {"table_bits": self.table_bits.tolist(),
                "overflow_bases": self.overflow_bases.tolist()}

    @classmethod
    def open(cls, directory: Path, meta: dict) -> _Segment:
        arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r") for name in cls._ARRAYS}
        return cls(**arrays, table_bits=meta["table_bits"], overflow_bases=meta["overflow_bases"])


class HammingIndex:
    """256-bit codes with ids 0, 1, 2, ... in insertion order; removed ids are never reused."""

    def __init__(self) -> None:
        self._segments: list[_Segment] = []
        # Up to 2 * BUFFER_LIMIT - 1 codes wait here: adds below BUFFER_LIMIT fill it, and it is
        # flushed into a segment once it holds BUFFER_LIMIT.
        self._buffer_codes = np.empty((2 * BUFFER_LIMIT, CODE_BYTES), np.uint8)
        self._buffer_ids = np.empty(2 * BUFFER_LIMIT, np.int64)
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
            end = self._buffered + len(codes)
            self._buffer_codes[self._buffered: end] = codes
            self._buffer_ids[self._buffered: end] = ids
            self._buffered = end
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
        """Ids of all codes within `radius` bits of `query`, and their distances, nearest first.

        Equal distances come in ascending id order.
        """
        return self.search_many(np.asarray(query).reshape(1, -1), radius)[0]

    def search_many(self, queries: np.ndarray, radius: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """`search` for each row of `queries` (n x 32 bytes), in one pass over the segments."""
        # A writable copy, whatever the caller passed: the kernel is compiled for one variant.
        queries = np.array(_check_codes(queries), order="C")
        if not 0 <= radius <= MAX_RADIUS:
            raise ValueError(f"radius must be in [0, {MAX_RADIUS}], got {radius}")
        parts = [segment.search(queries, radius, self._removed) for segment in self._segments]
        if self._buffered:
            parts.append(_search_scan(queries, radius,
                                      self._buffer_codes[: self._buffered].view(np.uint64),
                                      self._buffer_ids[: self._buffered], self._removed))
        if len(parts) == 1:
            query_numbers, ids, distances = parts[0]
        elif parts:
            query_numbers, ids, distances = (np.concatenate(column) for column in zip(*parts))
        else:
            query_numbers = ids = distances = np.zeros(0, np.int64)
        nearest = np.lexsort((ids, distances, query_numbers))
        ids, distances = ids[nearest], distances[nearest]
        bounds = np.searchsorted(query_numbers[nearest], np.arange(len(queries) + 1))
        return [(ids[start:end], distances[start:end]) for start, end in zip(bounds, bounds[1:])]

    @property
    def nbytes(self) -> int:
        """Bytes held by the segments (codes, ids and tables), buffer and removal marks aside."""
        return sum(segment.nbytes for segment in self._segments)

    def _flush(self) -> None:
        codes = self._buffer_codes[: self._buffered].copy()
        ids = self._buffer_ids[: self._buffered].copy()
        self._buffered = 0
        self._push(_Segment.build(codes, ids))

    def _push(self, segment: _Segment) -> None:
        """Add a segment, merging while the newest is at least 1/MERGE_RATIO of the one before."""
        self._segments.append(segment)
        while (len(self._segments) > 1
               and MERGE_RATIO * len(self._segments[-1]) >= len(self._segments[-2])):
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
        tables = [segment.save(directory / f"segment-{number}")
                  for number, segment in enumerate(self._segments)]
        np.save(directory / "removed.npy", self._removed[: self._next_id])
        (directory / "meta.json").write_text(json.dumps(
            {"format": FORMAT_VERSION, "next_id": self._next_id, "segments": len(tables),
             "tables": tables}))

    @classmethod
    def open(cls, path: str | os.PathLike) -> HammingIndex:
        directory = Path(path)
        meta = json.loads((directory / "meta.json").read_text())
        found = meta.get("format", 1)
        if found != FORMAT_VERSION:
            raise ValueError(
                f"hamming index at {directory} has format {found}, this version reads format "
                f"{FORMAT_VERSION}: rebuild it by adding the codes to a new HammingIndex "
                f"(for a MatchIndex, register the images again) and save that")
        index = cls()
        index._segments = [_Segment.open(directory / f"segment-{number}", segment)
                           for number, segment in enumerate(meta["tables"][: meta["segments"]])]
        index._next_id = meta["next_id"]
        removed = np.load(directory / "removed.npy")
        index._removed = np.zeros(max(1024, 2 * index._next_id), bool)
        index._removed[: index._next_id] = removed
        index._removed_count = int(removed.sum())
        return index


def _check_codes(codes: np.ndarray) -> np.ndarray:
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    if codes.ndim != 2 or codes.shape[1] != CODE_BYTES:
        raise ValueError(f"codes must have shape (n, {CODE_BYTES}), got {codes.shape}")
    return codes
