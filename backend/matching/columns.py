"""A growable numpy array: amortised appends, and a plain array view for reading."""

from __future__ import annotations

import numpy as np


class Column:
    def __init__(self, dtype: str | np.dtype | type, width: int | None = None,
                 data: np.ndarray | None = None):
        shape = (0,) if width is None else (0, width)
        # `data` may be memory-mapped read-only; the first append copies it into memory.
        self._data = np.zeros(shape, dtype) if data is None else data
        self._length = len(self._data)

    def __len__(self) -> int:
        return self._length

    @property
    def values(self) -> np.ndarray:
        return self._data[: self._length]

    def append(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=self._data.dtype)
        needed = self._length + len(values)
        if needed > len(self._data) or not self._data.flags.writeable:
            grown = np.zeros((max(needed, 2 * len(self._data), 64),) + self._data.shape[1:],
                             self._data.dtype)
            grown[: self._length] = self._data[: self._length]
            self._data = grown
        self._data[self._length: needed] = values
        self._length = needed
