"""A growable numpy array whose saved part stays on disk.

A column is a read-only base (memory-mapped from a saved index, or empty) and an in-memory tail
that takes appends, so opening a large index and adding an image to it never reads the base
into memory. Reads go through indexing: an int, a contiguous slice or an integer array.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class Column:
    def __init__(self, dtype: str | np.dtype | type, width: int | None = None,
                 data: np.ndarray | None = None):
        shape = (0,) if width is None else (0, width)
        self._base = np.zeros(shape, dtype) if data is None else data
        self._tail = np.zeros((0,) + self._base.shape[1:], self._base.dtype)
        self._tail_length = 0

    def __len__(self) -> int:
        return len(self._base) + self._tail_length

    def append(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=self._base.dtype)
        needed = self._tail_length + len(values)
        if needed > len(self._tail):
            grown = np.zeros((max(needed, 2 * len(self._tail), 64),) + self._base.shape[1:],
                             self._base.dtype)
            grown[: self._tail_length] = self._tail[: self._tail_length]
            self._tail = grown
        self._tail[self._tail_length: needed] = values
        self._tail_length = needed

    def __getitem__(self, key):
        base, tail = self._base, self._tail[: self._tail_length]
        if isinstance(key, (int, np.integer)):
            if not 0 <= key < len(self):
                raise IndexError(f"column index {key} out of range [0, {len(self)})")
            return base[key] if key < len(base) else tail[key - len(base)]
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                raise ValueError("columns are read by contiguous slices")
            if stop <= len(base):
                return base[start:stop]
            if start >= len(base):
                return tail[start - len(base): stop - len(base)]
            return np.concatenate([base[start:], tail[: stop - len(base)]])
        indices = np.asarray(key, np.int64)
        if len(indices) and (indices.min() < 0 or indices.max() >= len(self)):
            raise IndexError(f"column indices out of range [0, {len(self)})")
        in_base = indices < len(base)
        out = np.empty((len(indices),) + base.shape[1:], base.dtype)
        out[in_base] = base[indices[in_base]]
        out[~in_base] = tail[indices[~in_base] - len(base)]
        return out

    def searchsorted(self, values: np.ndarray, column: int | None = None) -> np.ndarray:
        """np.searchsorted(side="right") over a column sorted in ascending order."""
        base, tail = self._base, self._tail[: self._tail_length]
        if column is not None:
            base, tail = base[:, column], tail[:, column]
        in_base = np.searchsorted(base, values, side="right")
        in_tail = np.searchsorted(tail, values, side="right")
        return np.where(in_tail > 0, len(base) + in_tail, in_base)

    def save(self, path: Path) -> None:
        """Write base and tail as one .npy file, without gathering them in memory.

        The file is written beside `path` and renamed over it: the base may be memory-mapped
        from `path` itself, and truncating it in place would zero the base under our feet.
        """
        partial = Path(f"{path}.partial")
        out = np.lib.format.open_memmap(partial, mode="w+", dtype=self._base.dtype,
                                        shape=(len(self),) + self._base.shape[1:])
        out[: len(self._base)] = self._base
        out[len(self._base):] = self._tail[: self._tail_length]
        out.flush()
        del out
        os.replace(partial, path)
