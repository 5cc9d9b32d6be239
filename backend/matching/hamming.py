"""Exact Hamming-radius search over 256-bit codes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

CODE_BYTES = 32


class HammingIndex:
    """256-bit codes with ids 0, 1, 2, ... in insertion order; removed ids are never reused."""

    def __init__(self) -> None:
        self._codes = np.zeros((0, CODE_BYTES), np.uint8)
        self._removed = np.zeros(0, bool)

    def __len__(self) -> int:
        return int(len(self._removed) - self._removed.sum())

    def add(self, codes: np.ndarray) -> np.ndarray:
        codes = _check_codes(codes)
        first = len(self._codes)
        self._codes = np.concatenate([self._codes, codes])
        self._removed = np.concatenate([self._removed, np.zeros(len(codes), bool)])
        return np.arange(first, first + len(codes))

    def remove(self, ids: np.ndarray) -> None:
        self._removed[np.asarray(ids, dtype=np.int64)] = True

    def search_many(self, queries: np.ndarray, radius: int) -> list[tuple[np.ndarray, np.ndarray]]:
        queries = _check_codes(queries)
        stored = self._codes.view(np.uint64)
        results = []
        for query in queries.view(np.uint64):
            distances = np.bitwise_count(stored ^ query).sum(axis=1)
            hits = np.flatnonzero((distances <= radius) & ~self._removed)
            results.append((hits, distances[hits]))
        return results

    def save(self, path: str | os.PathLike) -> None:
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "codes.npy", self._codes)
        np.save(directory / "removed.npy", self._removed)

    @classmethod
    def open(cls, path: str | os.PathLike) -> HammingIndex:
        directory = Path(path)
        index = cls()
        index._codes = np.load(directory / "codes.npy")
        index._removed = np.load(directory / "removed.npy")
        return index


def _check_codes(codes: np.ndarray) -> np.ndarray:
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    if codes.ndim != 2 or codes.shape[1] != CODE_BYTES:
        raise ValueError(f"codes must have shape (n, {CODE_BYTES}), got {codes.shape}")
    return codes
