"""What kind of data object is this, and what does it look like (never what it contains).

`kind_of` is called for every argument of every recorded call, so it answers from a per-type
cache. `describe` reads the schema of a node: shape, column names and dtypes. pandas and
numpy are never imported here; their classes are looked up once the script has imported them.
"""

from __future__ import annotations

import sys
from typing import Any

DATAFRAME, SERIES, NDARRAY, MODEL, OBJECT = "DataFrame", "Series", "ndarray", "model", "object"

_kinds: dict[type, str | None] = {}

# pandas objects that are not data themselves but carry lineage (df.groupby(...), df.rolling).
# (pandas gives the public ones __module__ = "pandas.api.typing")
_PANDAS_OBJECT_MODULES = (
    "pandas.core.groupby", "pandas.core.window", "pandas.core.resample", "pandas.api.typing"
)


def kind_of(obj: object) -> str | None:
    t = type(obj)
    try:
        return _kinds[t]
    except KeyError:
        kind = _classify(t)
        _kinds[t] = kind
        return kind


def _classify(t: type) -> str | None:
    pd = sys.modules.get("pandas")
    if pd is not None:
        if issubclass(t, pd.DataFrame):
            return DATAFRAME
        if issubclass(t, pd.Series):
            return SERIES
        if t.__module__.startswith(_PANDAS_OBJECT_MODULES):
            return OBJECT
    np = sys.modules.get("numpy")
    if np is not None and issubclass(t, np.ndarray):
        return NDARRAY
    if t.__module__.startswith("sklearn.") and hasattr(t, "fit") and hasattr(t, "get_params"):
        return MODEL
    base = sys.modules.get("sklearn.base")
    if base is not None and issubclass(t, base.BaseEstimator):
        return MODEL
    return None


_type_names: dict[type, str] = {}


def type_name(obj: object) -> str:
    t = type(obj)
    name = _type_names.get(t)
    if name is None:
        mod = t.__module__
        if mod.startswith("pandas."):
            mod = "pandas"
        elif mod.startswith("numpy"):
            mod = "numpy"
        name = _type_names[t] = f"{mod}.{t.__qualname__}"
    return name


# Caches keyed by identity (the object pinned beside its answer). Most ops hand their result
# a shallow copy of the input's columns Index, which shares the input's values array, and
# dtypes are mostly singletons: describing a frame usually costs two dict lookups instead of
# a str() per column (numpy's is Python code, and so is iterating pandas' string arrays).
_CACHE_MAX = 4096
_column_names: dict[int, tuple[Any, list[str]]] = {}
_dtype_names: dict[int, tuple[Any, str]] = {}


def column_names(columns: Any) -> list[str]:
    # an Index's values array (immutable: an Index never changes in place); a RangeIndex or
    # MultiIndex has none of its own and is keyed by itself
    values = getattr(columns, "__dict__", {}).get("_data")
    if values is None:
        values = columns
    hit = _column_names.get(id(values))
    if hit is not None and hit[0] is values:
        return hit[1]
    names = [_label(c) for c in columns]
    if len(_column_names) >= _CACHE_MAX:
        _column_names.clear()
    _column_names[id(values)] = (values, names)
    return names


def dtype_name(dtype: Any) -> str:
    hit = _dtype_names.get(id(dtype))
    if hit is not None and hit[0] is dtype:
        return hit[1]
    name = str(dtype)
    if len(_dtype_names) >= _CACHE_MAX:
        _dtype_names.clear()
    _dtype_names[id(dtype)] = (dtype, name)
    return name


def describe(obj: Any, kind: str) -> tuple[list[int] | None, list[str] | None, list[str] | None]:
    """(shape, column names, dtypes) of a data object; Nones where they do not apply."""
    if kind == DATAFRAME:
        names = column_names(obj.columns)
        try:
            dtypes = frame_dtypes(obj._mgr)
        except Exception:
            dtypes = [dtype_name(d) for d in obj.dtypes.tolist()]
        return [len(obj.index), len(names)], names, dtypes
    if kind == SERIES:
        name = obj.name
        return list(obj.shape), ([] if name is None else [_label(name)]), [dtype_name(obj.dtype)]
    if kind == NDARRAY:
        names = obj.dtype.names
        return list(obj.shape), (list(names) if names else None), [dtype_name(obj.dtype)]
    if kind == MODEL:
        n = getattr(obj, "n_features_in_", None)
        cols = getattr(obj, "feature_names_in_", None)
        columns = [str(c) for c in cols] if cols is not None else None
        return ([n] if isinstance(n, int) else None), columns, None
    return None, None, None


def frame_dtypes(mgr: Any) -> list[str]:
    """A frame's dtype names in column order, read from its blocks.

    `mgr.get_dtypes()` first builds the column -> block map, which a fresh result does not
    have yet: on small frames that costs more than the op being traced.
    """
    blocks = mgr.blocks
    n = len(mgr.items)
    if len(blocks) == 1:
        return [dtype_name(blocks[0].dtype)] * n
    out: list[Any] = [None] * n
    for block in blocks:
        name = dtype_name(block.dtype)
        where = block.mgr_locs.indexer
        if type(where) is slice:
            out[where] = [name] * len(range(*where.indices(n)))
        else:
            for i in where.tolist():
                out[i] = name
    if None in out:
        raise ValueError("blocks do not cover every column")
    return out


def nrows(shape: list[int] | None) -> int | None:
    return shape[0] if shape else None


def _label(label: object) -> str:
    if isinstance(label, str):
        return label
    if isinstance(label, tuple):
        return "|".join(_label(x) for x in label)
    return str(label)
