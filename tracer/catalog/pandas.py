"""Catalog entries for pandas: I/O, DataFrame / Series / GroupBy methods, indexers, operators.

Shared implementations (NDFrame methods used by both DataFrame and Series, the operator mixin
shared with Index) resolve to one code object and so to one entry: the op name is the same
whichever class it was reached through.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from typing import Any

from tracer.catalog.entries import (
    CONSTRUCT,
    MUTATE,
    READ,
    WRITE,
    Entry,
    class_attr,
)

READ_PATH_PARAMS = ("filepath_or_buffer", "path", "path_or_buf", "io", "path_or_buffer")
WRITE_PATH_PARAMS = ("path_or_buf", "path", "excel_writer", "buf", "fname", "path_or_buffer")

READERS = {
    "read_csv": "csv",
    "read_table": "csv",
    "read_fwf": "txt",
    "read_json": "json",
    "read_parquet": "parquet",
    "read_excel": "excel",
    "read_pickle": "pickle",
    "read_feather": "feather",
    "read_hdf": "hdf",
    "read_orc": "orc",
    "read_xml": "xml",
    "read_html": "html",
    "read_stata": "stata",
    "read_sas": "sas",
    "read_spss": "spss",
}
WRITERS = {
    "to_csv": "csv",
    "to_json": "json",
    "to_parquet": "parquet",
    "to_excel": "excel",
    "to_pickle": "pickle",
    "to_feather": "feather",
    "to_hdf": "hdf",
    "to_orc": "orc",
    "to_xml": "xml",
    "to_html": "html",
    "to_stata": "stata",
}
MODULE_FUNCTIONS = (
    "merge",
    "merge_asof",
    "merge_ordered",
    "concat",
    "get_dummies",
    "pivot_table",
    "pivot",
    "melt",
    "crosstab",
    "cut",
    "qcut",
    "to_datetime",
    "to_numeric",
    "to_timedelta",
    "wide_to_long",
    "json_normalize",
    "factorize",
    "unique",
)
# Methods of DataFrame and Series that make new data from old.
FRAME_METHODS = (
    "abs",
    "add_prefix",
    "add_suffix",
    "agg",
    "aggregate",
    "align",
    "all",
    "any",
    "apply",
    "applymap",
    "assign",
    "astype",
    "bfill",
    "between",
    "clip",
    "combine",
    "combine_first",
    "convert_dtypes",
    "copy",
    "corr",
    "corrwith",
    "count",
    "cov",
    "cummax",
    "cummin",
    "cumprod",
    "cumsum",
    "describe",
    "diff",
    "drop",
    "drop_duplicates",
    "droplevel",
    "dropna",
    "duplicated",
    "eval",
    "explode",
    "ffill",
    "fillna",
    "filter",
    "first_valid_index",
    "head",
    "idxmax",
    "idxmin",
    "infer_objects",
    "interpolate",
    "isin",
    "isna",
    "isnull",
    "join",
    "map",
    "mask",
    "max",
    "mean",
    "median",
    "melt",
    "merge",
    "min",
    "mode",
    "nlargest",
    "notna",
    "notnull",
    "nsmallest",
    "nunique",
    "pct_change",
    "pivot",
    "pivot_table",
    "prod",
    "quantile",
    "query",
    "rank",
    "reindex",
    "rename",
    "rename_axis",
    "reorder_levels",
    "replace",
    "reset_index",
    "round",
    "sample",
    "select_dtypes",
    "sem",
    "set_axis",
    "set_index",
    "shift",
    "skew",
    "sort_index",
    "sort_values",
    "squeeze",
    "stack",
    "std",
    "sum",
    "swaplevel",
    "tail",
    "to_frame",
    "to_numpy",
    "transform",
    "transpose",
    "truncate",
    "tz_convert",
    "tz_localize",
    "unique",
    "unstack",
    "value_counts",
    "var",
    "where",
    "groupby",
    "rolling",
    "expanding",
    "resample",
    "dot",
    "compare",
    "asfreq",
    "between_time",
    "at_time",
    "xs",
    "get",
    "isetitem",
)
INPLACE_CAPABLE = {
    "dropna",
    "fillna",
    "drop",
    "rename",
    "sort_values",
    "sort_index",
    "reset_index",
    "set_index",
    "replace",
    "eval",
    "query",
    "drop_duplicates",
    "clip",
    "where",
    "mask",
    "interpolate",
    "ffill",
    "bfill",
    "set_axis",
    "rename_axis",
}
GROUPBY_METHODS = (
    "agg",
    "aggregate",
    "all",
    "any",
    "apply",
    "count",
    "cumcount",
    "cummax",
    "cummin",
    "cumprod",
    "cumsum",
    "describe",
    "diff",
    "filter",
    "first",
    "head",
    "idxmax",
    "idxmin",
    "last",
    "max",
    "mean",
    "median",
    "min",
    "ngroup",
    "nth",
    "nunique",
    "ohlc",
    "pct_change",
    "prod",
    "quantile",
    "rank",
    "sem",
    "shift",
    "size",
    "skew",
    "std",
    "sum",
    "tail",
    "transform",
    "value_counts",
    "var",
    "__getitem__",
)
OPERATORS = {
    "__add__": "add",
    "__radd__": "add",
    "__sub__": "sub",
    "__rsub__": "sub",
    "__mul__": "mul",
    "__rmul__": "mul",
    "__truediv__": "truediv",
    "__rtruediv__": "truediv",
    "__floordiv__": "floordiv",
    "__rfloordiv__": "floordiv",
    "__mod__": "mod",
    "__rmod__": "mod",
    "__pow__": "pow",
    "__rpow__": "pow",
    "__eq__": "eq",
    "__ne__": "ne",
    "__lt__": "lt",
    "__le__": "le",
    "__gt__": "gt",
    "__ge__": "ge",
    "__and__": "and",
    "__rand__": "and",
    "__or__": "or",
    "__ror__": "or",
    "__xor__": "xor",
    "__rxor__": "xor",
}
UNARY = {"__neg__": "neg", "__invert__": "invert", "__pos__": "pos", "__abs__": "abs"}


def _qual(obj: Any, fallback: str) -> str:
    inner = obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj
    mod = getattr(inner, "__module__", None)
    qn = getattr(inner, "__qualname__", None)
    return f"{mod}.{qn}" if mod and qn else fallback


# -- namers: pick the op name from the bound arguments --------------------------------------


def _is_bool_mask(key: Any) -> bool:
    dtype = getattr(key, "dtype", None)
    if dtype is not None:
        return getattr(dtype, "kind", None) == "b" or str(dtype) == "boolean"
    if isinstance(key, list) and key and all(type(k) is bool for k in key[:64]):
        return True
    return False


def _key_op(key: Any, frame: bool) -> str:
    if isinstance(key, slice):
        return "slice"
    if _is_bool_mask(key):
        if frame and getattr(key, "ndim", 1) == 2:
            return "where"
        return "filter"
    if frame and (isinstance(key, list) or hasattr(key, "dtype") and getattr(key, "ndim", 0) == 1):
        return "select_columns"
    return "getitem"


def frame_getitem(args: Mapping[str, object]) -> str:
    return _key_op(args.get("key"), frame=True)


def series_getitem(args: Mapping[str, object]) -> str:
    return _key_op(args.get("key"), frame=False)


_INDEXER_NAMES = {
    "_LocIndexer": "loc",
    "_iLocIndexer": "iloc",
    "_AtIndexer": "at",
    "_iAtIndexer": "iat",
}


def _indexer_name(args: Mapping[str, object]) -> str:
    name = type(args.get("self")).__name__
    return _INDEXER_NAMES.get(name, name.strip("_").lower())


def indexer_getitem(args: Mapping[str, object]) -> str:
    return _indexer_name(args)


def indexer_setitem(args: Mapping[str, object]) -> str:
    return _indexer_name(args) + "_setitem"


def frame_getattr(args: Mapping[str, object]) -> str | None:
    """`df.population`: attribute access that falls through to a column."""
    name = args.get("name")
    if not isinstance(name, str) or name.startswith("_"):
        return None
    return "getattr"


def frame_setattr(args: Mapping[str, object]) -> str | None:
    name = args.get("name")
    if not isinstance(name, str) or name.startswith("_"):
        return None
    if name in ("columns", "index"):
        return f"set_{name}"
    return "setattr"


def array_ufunc(args: Mapping[str, object]) -> str:
    ufunc = args.get("ufunc")
    method = args.get("method")
    name = f"np.{getattr(ufunc, '__name__', 'ufunc')}"
    return name if method in (None, "__call__") else f"{name}.{method}"


# -- the provider -----------------------------------------------------------------------------


def provide(pd: types.ModuleType) -> Iterator[tuple[Any, Entry]]:
    """Every (callable, Entry) pair of pandas, once `import pandas` has finished."""
    from pandas.core import arraylike, indexing
    from pandas.core.groupby import generic, groupby

    for name, fmt in READERS.items():
        fn = getattr(pd, name, None)
        if fn is not None:
            yield (
                fn,
                Entry(name, _qual(fn, f"pandas.{name}"), READ, READ_PATH_PARAMS, file_format=fmt),
            )
    for name in MODULE_FUNCTIONS:
        fn = getattr(pd, name, None)
        if fn is not None:
            yield fn, Entry(name, _qual(fn, f"pandas.{name}"))

    for cls in (pd.DataFrame, pd.Series):
        cname = cls.__name__
        static = lambda n, c=cls: class_attr(c, n)  # noqa: E731
        for name, fmt in WRITERS.items():
            fn = static(name)
            if fn is not None:
                yield (
                    fn,
                    Entry(
                        name,
                        _qual(fn, f"pandas.{cname}.{name}"),
                        WRITE,
                        WRITE_PATH_PARAMS,
                        file_format=fmt,
                    ),
                )
        for name in FRAME_METHODS:
            fn = static(name)
            if fn is None or isinstance(fn, property):
                continue
            inplace = "inplace" if name in INPLACE_CAPABLE else None
            yield fn, Entry(name, _qual(fn, f"pandas.{cname}.{name}"), inplace_param=inplace)
        getitem = frame_getitem if cls is pd.DataFrame else series_getitem
        yield static("__getitem__"), Entry("getitem", f"pandas.{cname}.__getitem__", namer=getitem)
        yield static("__setitem__"), Entry("setitem", f"pandas.{cname}.__setitem__", MUTATE)
        yield static("__init__"), Entry(cname, f"pandas.{cname}", CONSTRUCT)
        for name in ("insert", "pop", "update", "__delitem__"):
            fn = static(name)
            if fn is not None:
                yield fn, Entry(name.strip("_"), _qual(fn, name), MUTATE)
        values = static("values")
        if isinstance(values, property):
            yield values, Entry("values", f"pandas.{cname}.values")
    yield (
        class_attr(pd.DataFrame, "__setattr__"),
        Entry("setattr", "pandas.NDFrame.__setattr__", MUTATE, namer=frame_setattr),
    )
    yield (
        class_attr(pd.DataFrame, "__getattr__"),
        Entry("getattr", "pandas.NDFrame.__getattr__", namer=frame_getattr),
    )
    ufunc = class_attr(pd.Series, "__array_ufunc__")
    if ufunc is not None:
        yield (
            ufunc,
            Entry(
                "ufunc",
                "pandas.NDFrame.__array_ufunc__",
                namer=array_ufunc,
                extra={"hide": ("ufunc", "method")},
            ),
        )
    for dunder, name in {**OPERATORS, **UNARY}.items():
        fn = arraylike.OpsMixin.__dict__.get(dunder) or class_attr(pd.Series, dunder)
        if fn is not None:
            yield fn, Entry(name, f"pandas.{dunder}")

    for ix_name in (
        "_LocationIndexer",
        "_ScalarAccessIndexer",
        "_LocIndexer",
        "_iLocIndexer",
        "_AtIndexer",
        "_iAtIndexer",
    ):
        ix = getattr(indexing, ix_name, None)
        if ix is None:
            continue
        if "__getitem__" in ix.__dict__:
            yield (
                ix.__dict__["__getitem__"],
                Entry(
                    "loc", f"pandas.{ix_name}.__getitem__", target="self.obj", namer=indexer_getitem
                ),
            )
        if "__setitem__" in ix.__dict__:
            yield (
                ix.__dict__["__setitem__"],
                Entry(
                    "loc_setitem",
                    f"pandas.{ix_name}.__setitem__",
                    MUTATE,
                    target="self.obj",
                    namer=indexer_setitem,
                ),
            )

    for cls in (generic.DataFrameGroupBy, generic.SeriesGroupBy, groupby.GroupBy):
        for name in GROUPBY_METHODS:
            fn = cls.__dict__.get(name)
            if fn is None:
                continue
            op = "groupby.getitem" if name == "__getitem__" else f"groupby.{name}"
            yield fn, Entry(op, _qual(fn, f"pandas.{cls.__name__}.{name}"))
