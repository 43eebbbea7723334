"""What the fingerprint of a pandas object covers, and how its arrays are read cheaply.

* DataFrame: shape, every dtype, every column label (with the kind, dtype and names of the
  column index), the row index, and every column on the sampled rows.
* Series: length, dtype, name, the index, and the values on the sampled rows.
* Index: its kind, names and length; a RangeIndex by (start, stop, step), a MultiIndex by
  the values of each level on the sampled rows, any other index by its sampled labels.

Column arrays are read with ``DataFrame._get_column_array(i)`` (private): per-column
``items()`` / ``iloc`` builds a Series, about 100 µs of Python per column (research Q6).
Arrays are then read through their private backing ndarrays where pandas has them
(``_ndarray``, ``_data`` / ``_mask``); each such fast path falls back on the public
``take`` + ``numpy.asarray`` route if the attribute is missing. This module is imported
only once pandas is.

Cost (benchmarks/bench_fingerprint.py, fastest repeats on a 2-core VM): about 25 µs fixed,
then per column about 5 µs for numeric, bool and datetime columns and 60 µs (1k rows) to
120 µs (1M rows) for str/object columns, which must touch 1,024 Python objects scattered in
memory. A 50-column float frame costs about 0.3 ms; every column is always hashed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import take

from tracer.fingerprint.hashing import Digest
from tracer.fingerprint.sampling import sample_positions
from tracer.fingerprint.version import FINGERPRINT_VERSION

Positions = np.ndarray | None  # None: all rows
_Handler = Callable[[Digest, Any, Positions], None]


def fingerprint_frame(df: pd.DataFrame) -> str:
    n, ncols = df.shape
    arrays = column_arrays(df)
    pos = sample_positions(n)
    d = Digest(FINGERPRINT_VERSION, "DataFrame", n, ncols)
    d.add_list([dtype_name(a.dtype) for a in arrays])
    add_index(d, df.columns, None)
    add_index(d, df.index, pos)
    for a in arrays:
        add_values(d, a, pos)
    return d.hexdigest()


def fingerprint_series(s: pd.Series) -> str:
    values = _values(s)
    n = len(values)
    pos = sample_positions(n)
    d = Digest(FINGERPRINT_VERSION, "Series", n, dtype_name(values.dtype), s.name)
    add_index(d, s.index, pos)
    add_values(d, values, pos)
    return d.hexdigest()


def fingerprint_index(index: pd.Index) -> str:
    n = len(index)
    d = Digest(FINGERPRINT_VERSION, "Index", n)
    add_index(d, index, sample_positions(n))
    return d.hexdigest()


def dtype_name(dtype: Any) -> str:
    """'<i8', '<M8[us]', 'str', 'category', 'datetime64[us, UTC]', 'Int64', ...

    numpy's own str(dtype) is built in Python (~4 µs); `.str` is a C attribute that also
    keeps the byte order. pandas dtype names never start with numpy's '<', '>', '|', '='.
    """
    if isinstance(dtype, np.dtype):
        return dtype.str
    return str(dtype)


def column_arrays(df: pd.DataFrame) -> list[Any]:
    """The backing array (ndarray or ExtensionArray) of every column, by position."""
    get = getattr(df, "_get_column_array", None)
    if get is not None:
        try:
            return [get(i) for i in range(df.shape[1])]
        except Exception:  # a pandas without it, or with another signature
            pass
    return [_unwrap(df.iloc[:, i].array) for i in range(df.shape[1])]


def _values(obj: pd.Series | pd.Index) -> Any:
    """The backing array of a Series or Index: an ndarray or an ExtensionArray."""
    try:
        return obj._values
    except AttributeError:
        return _unwrap(obj.array)


def _unwrap(a: Any) -> Any:
    # `.array` wraps numpy data in a NumpyExtensionArray; `._values` does not.
    if type(a) is pd.arrays.NumpyExtensionArray:  # not its subclasses (StringArray)
        return a.to_numpy()
    return a


def add_index(d: Digest, index: pd.Index, pos: Positions) -> None:
    """Add an index: its kind and names, then its labels (at `pos`, or all)."""
    kind = type(index).__name__
    names = list(index.names)
    if isinstance(index, pd.RangeIndex):
        d.add_objects([kind, index.start, index.stop, index.step, *names])
        return
    n = len(index)
    if isinstance(index, pd.MultiIndex):
        levels = index.levels
        d.add_objects([kind, n, *names])
        d.add_list([dtype_name(level.dtype) for level in levels])
        # Values, not codes: the same labels give the same fingerprint whatever the levels
        # hold (unused levels remain after a filter).
        for level, codes in zip(levels, index.codes, strict=True):
            sampled = take(_values(level), codes if pos is None else codes[pos], allow_fill=True)
            add_values(d, sampled, None)
        return
    d.add_objects([kind, n, dtype_name(index.dtype), *names])
    add_values(d, _values(index), pos)


def add_values(d: Digest, a: Any, pos: Positions) -> None:
    """Add an ndarray or ExtensionArray at `pos` (or all of it)."""
    t = type(a)
    handler = _HANDLERS.get(t)
    if handler is None:
        handler = _HANDLERS[t] = _handler_for(t)
    handler(d, a, pos)


def _add_ndarray(d: Digest, a: np.ndarray, pos: Positions) -> None:
    d.add_array(a if pos is None else a[pos])


def _add_generic(d: Digest, a: Any, pos: Positions) -> None:
    """Any ExtensionArray, through public API only: take the rows, then convert."""
    sub = a if pos is None else a.take(pos)
    v = np.asarray(sub)
    if v.dtype.kind not in "biufcmMUSV":
        v = np.asarray(sub, dtype=object)
    d.add_array(v)


def _add_ndarray_backed(d: Digest, a: Any, pos: Positions) -> None:
    # DatetimeArray (naive or tz-aware: the tz is in the dtype), TimedeltaArray, PeriodArray
    # (int64 ordinals; the freq is in the dtype), NumpyExtensionArray.
    v = a._ndarray
    d.add_array(v if pos is None else v[pos])


def _add_string(d: Digest, a: Any, pos: Positions) -> None:
    # Python-backed strings: items are str or the dtype's missing marker (nan or pd.NA).
    v = a._ndarray
    d.add_array(v if pos is None else v[pos], trusted=True)


def _add_masked(d: Digest, a: Any, pos: Positions) -> None:
    # Int64 / Float64 / boolean: the mask is data, the values under it are not.
    data, mask = a._data, a._mask
    if pos is not None:
        data, mask = data[pos], mask[pos]
    if mask.any():
        data = data.copy()
        data[mask] = 0
    d.add_array(mask)
    d.add_array(data)


def _add_categorical(d: Digest, a: pd.Categorical, pos: Positions) -> None:
    codes = a.codes
    categories = a.categories
    d.add_objects([bool(a.ordered), len(categories)])
    d.add_array(codes if pos is None else codes[pos])
    add_index(d, categories, sample_positions(len(categories)))


def _guarded(fast: _Handler) -> _Handler:
    """Run `fast`, or the public route if pandas moved a private attribute it reads.

    Every fast handler reads its attributes before feeding `d`, so a fallback never
    follows a half-fed digest.
    """

    def handler(d: Digest, a: Any, pos: Positions) -> None:
        try:
            fast(d, a, pos)
        except AttributeError:
            _add_generic(d, a, pos)

    return handler


def _handler_for(t: type) -> _Handler:
    if issubclass(t, np.ndarray):
        return _add_ndarray
    arrays = pd.arrays
    if issubclass(t, pd.Categorical):
        return _add_categorical
    if issubclass(t, (arrays.IntegerArray, arrays.FloatingArray, arrays.BooleanArray)):
        return _guarded(_add_masked)
    if issubclass(t, arrays.StringArray):
        return _guarded(_add_string)
    backed = (arrays.DatetimeArray, arrays.TimedeltaArray, arrays.PeriodArray)
    if issubclass(t, (*backed, arrays.NumpyExtensionArray)):
        return _guarded(_add_ndarray_backed)
    return _add_generic


_HANDLERS: dict[type, _Handler] = {}
