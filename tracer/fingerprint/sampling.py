"""Which rows and elements a fingerprint looks at.

Contract: the sample depends on the shape alone (never on the values, the memory layout or
the process), so equal data is always sampled the same way. A column or 1-D array of n rows
is sampled at ``sample_positions(n)``: all rows when n <= 1,024, else the 1,024 evenly
spaced positions ``arange(1024) * (n - 1) // 1023`` (strictly increasing, first and last
row included). An N-d array is sampled at those rows along axis 0 and, within each sampled
row, at evenly spaced positions of the flattened row, ``ELEMENT_BUDGET`` elements in all.

A change in a row that is not sampled is not seen: that is the price of a cost that stays
flat in the row count (see DESIGN.md §4 and research Q6).
"""

from __future__ import annotations

import functools
import math

import numpy as np

SAMPLE_ROWS = 1024

# Most elements an N-d array contributes (64k float64 = 512 KiB gathered and hashed, ~0.1 ms).
# A 2-D array of 1M x 50 is hashed in full on its 1,024 sampled rows, like a DataFrame; a
# 1M x 1000 array gets 64 evenly spaced elements of each sampled row.
ELEMENT_BUDGET = 1 << 16


@functools.lru_cache(maxsize=256)
def sample_positions(n: int, k: int = SAMPLE_ROWS) -> np.ndarray:
    """Return at most `k` evenly spaced positions in ``range(n)`` (all of them if n <= k).

    Cached per (n, k); the array is read-only because it is shared.
    """
    if n <= k:
        positions = np.arange(n, dtype=np.intp)
    elif k == 1:
        positions = np.zeros(1, dtype=np.intp)
    else:
        # int64 arithmetic: (k - 1) * (n - 1) fits for any n an array can have.
        positions = (np.arange(k, dtype=np.int64) * (n - 1) // (k - 1)).astype(np.intp)
    positions.setflags(write=False)
    return positions


@functools.lru_cache(maxsize=64)
def _trailing_index(shape: tuple[int, ...], m: int) -> tuple[np.ndarray, ...]:
    """Index arrays (each of shape (1, m)) for m evenly spaced elements of a row of `shape`."""
    flat = sample_positions(math.prod(shape), m)
    parts = np.unravel_index(flat, shape)
    out = []
    for part in parts:
        part = part.reshape(1, -1)
        part.setflags(write=False)
        out.append(part)
    return tuple(out)


def sample_ndarray(a: np.ndarray) -> np.ndarray:
    """Return the sampled elements of `a` as a new C-contiguous 1-D array.

    Works for any memory layout (slices, transposes, negative strides); the result is the
    same for an array and its contiguous copy.
    """
    if a.ndim == 0:
        return a.reshape(1)
    rows = sample_positions(a.shape[0])
    if a.ndim == 1:
        sampled: np.ndarray = a[rows]
        return sampled
    trailing = a.shape[1:]
    row_size = math.prod(trailing)
    m = min(row_size, max(1, ELEMENT_BUDGET // max(1, len(rows))))
    if m == row_size:
        sub = a[rows]
    else:
        sub = a[(rows.reshape(-1, 1), *_trailing_index(trailing, m))]
    return np.ascontiguousarray(sub).reshape(-1)
