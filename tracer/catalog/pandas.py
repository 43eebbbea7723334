"""Catalog entries for pandas: I/O, DataFrame / Series / GroupBy methods, indexers, operators.

Shared implementations (NDFrame methods used by both DataFrame and Series, the operator mixin
shared with Index) resolve to one code object and so to one entry: the op name is the same
whichever class it was reached through.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from typing import Any

from tracer.catalog import families as f
from tracer.catalog.entries import (
    CONSTRUCT,
    MUTATE,
    READ,
    WRITE,
    Entry,
    class_attr,
)
from tracer.catalog.families import Meaning

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
SYMBOLS = {
    "add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%",
    "pow": "**", "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
    "and": "&", "or": "|", "xor": "^",
}  # fmt: skip
# The method forms of the operators (`df.add(1)` is `df + 1`; `div` is `truediv` itself).
METHOD_OPERATORS = {
    **{name: symbol for name, symbol in SYMBOLS.items() if name not in ("and", "or", "xor")},
    **{
        f"r{name}": SYMBOLS[name]
        for name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow")
    },
}
# Properties that hand back data: `df.values`, `df.T`.
PROPERTIES = ("values", "T")
UNARY = {"__neg__": "neg", "__invert__": "invert", "__pos__": "pos", "__abs__": "abs"}

# -- what each op means (families.py); an op not listed here derives values from values -----------

M = Meaning
_ROWS = M(f.ROW_FILTER)
_DERIVE = M(f.COLUMN_DERIVE)
_CAST = M(f.COLUMN_DERIVE, casts=True)  # values derived in place: a new dtype is news
_AGG = M(f.AGGREGATE)
_AGG_ONLY = M(f.AGGREGATE, carries=False)  # a Series of counts or statistics, not of values
_SAME = M(f.IDENTITY)
_REORDER = M(f.ROW_REORDER)
_RENAME = M(f.RENAME)
_RESHAPE = M(f.RESHAPE)
_JOIN = M(
    f.JOIN,
    columns=("on", "left_on", "right_on"),
    hint=("on", "left_on", "right_on", "how"),
    hint_style=f.NAMED,
)
_INDEXER_SET = M(f.COLUMN_DERIVE, f.TRANSFORMED, derive=(f.INDEXER, "key"), mutates=True)

MEANINGS: dict[str, Meaning] = {
    **{name: M(f.READ) for name in READERS},
    **{name: M(f.WRITE, carries=False) for name in WRITERS},
    # functions
    "merge": _JOIN,
    "merge_asof": M(f.JOIN, f.TRANSFORMED, columns=_JOIN.columns),
    "merge_ordered": M(f.JOIN, f.TRANSFORMED, columns=_JOIN.columns),
    "concat": M(f.CONCAT, hint=("axis",), hint_style=f.NAMED),
    "get_dummies": M(f.COLUMN_DERIVE, columns=("columns",)),
    "pivot_table": M(f.AGGREGATE, columns=("index", "columns", "values")),
    "pivot": M(f.RESHAPE, columns=("index", "columns", "values")),
    "melt": M(f.ROW_EXPAND, columns=("id_vars", "value_vars")),
    "crosstab": _AGG,
    "to_datetime": M(f.CAST, f.TRANSFORMED, casts=True, carries=False),
    "to_numeric": M(f.CAST, f.TRANSFORMED, casts=True, carries=False),
    "to_timedelta": M(f.CAST, f.TRANSFORMED, casts=True, carries=False),
    "wide_to_long": M(f.RESHAPE, f.TRANSFORMED, columns=("stubnames", "i")),
    "json_normalize": M(f.CONSTRUCT, f.TRANSFORMED),
    # DataFrame / Series methods
    "add_prefix": _RENAME,
    "add_suffix": _RENAME,
    "agg": _AGG,
    "aggregate": _AGG,
    "align": _SAME,
    "all": _AGG,
    "any": _AGG,
    "apply": M(f.COLUMN_DERIVE, casts=True, hint=("func",)),
    "assign": M(f.COLUMN_DERIVE, f.SAME, derive=(f.LAMBDAS, "")),  # (its keyword arguments)
    "astype": M(f.CAST, casts=True, hint=("dtype",)),
    "convert_dtypes": M(f.CAST, f.TRANSFORMED, casts=True),
    "copy": _SAME,
    "corr": _AGG,
    "count": _AGG_ONLY,
    "cov": _AGG,
    "describe": _AGG_ONLY,
    "drop": M(f.ROW_FILTER, columns=("columns",)),
    "drop_duplicates": M(
        f.ROW_FILTER, columns=("subset",), filter_by=(f.DUPLICATES, "subset"), hint=("subset",)
    ),
    "droplevel": _RESHAPE,
    "dropna": M(
        f.ROW_FILTER, columns=("subset",), filter_by=(f.MISSING, "subset"), hint=("subset",)
    ),
    "eval": M(f.COLUMN_DERIVE, hint=("expr",), hint_style=f.SOURCE),
    "explode": M(f.ROW_EXPAND, columns=("column",)),
    "fillna": M(f.COLUMN_DERIVE, casts=True, hint=("value",)),
    "filter": M(f.ROW_FILTER, filter_by=(f.MASK, "key")),
    "first": _AGG,
    "head": M(f.ROW_FILTER, hint=("n",)),
    "idxmax": _AGG,
    "idxmin": _AGG,
    "infer_objects": M(f.IDENTITY, casts=True),
    "join": M(f.JOIN, columns=("on",), hint=("on", "how"), hint_style=f.NAMED),
    "last": _AGG,
    "map": M(f.COLUMN_DERIVE, casts=True, hint=("arg", "func")),
    "mask": _CAST,
    "max": _AGG,
    "mean": _AGG,
    "median": _AGG,
    "min": _AGG,
    "mode": _AGG,
    "nlargest": M(
        f.ROW_FILTER, columns=("columns",), filter_by=(f.LISTED, "columns"), sort_by=("columns",)
    ),
    "nsmallest": M(
        f.ROW_FILTER, columns=("columns",), filter_by=(f.LISTED, "columns"), sort_by=("columns",)
    ),
    "nunique": _AGG_ONLY,
    "ohlc": _AGG,
    "prod": _AGG,
    "quantile": _AGG,
    "query": M(f.ROW_FILTER, filter_by=(f.EXPRESSION, "expr"), hint=("expr",), hint_style=f.SOURCE),
    "reindex": _REORDER,
    "rename": _RENAME,
    "rename_axis": _RESHAPE,
    "reorder_levels": _RESHAPE,
    "replace": _CAST,
    "reset_index": _REORDER,
    "round": M(f.COLUMN_DERIVE, casts=True, hint=("decimals",)),
    "sample": M(f.ROW_FILTER, seed="random_state", hint=("n", "frac")),
    "select_dtypes": M(f.COLUMN_SELECT, f.TRANSFORMED),
    "sem": _AGG,
    "set_axis": _RENAME,
    "set_index": M(f.ROW_REORDER, columns=("keys",), hint=("keys",)),
    "size": _AGG_ONLY,
    "skew": _AGG,
    "sort_index": _REORDER,
    "sort_values": M(f.ROW_REORDER, columns=("by",), sort_by=("by",), hint=("by",)),
    "squeeze": _SAME,
    "stack": _RESHAPE,
    "std": _AGG,
    "sum": _AGG,
    "swaplevel": _RESHAPE,
    "tail": M(f.ROW_FILTER, hint=("n",)),
    "to_frame": M(f.IDENTITY, carries=False),
    "to_numpy": M(f.IDENTITY, carries=False),
    "transform": _CAST,
    "transpose": _RESHAPE,
    "truncate": _ROWS,
    "unstack": _RESHAPE,
    "value_counts": _AGG_ONLY,
    "var": _AGG,
    "where": _CAST,
    "groupby": M(f.GROUP, columns=("by", "level"), hint=("by", "level"), carries=False),
    "rolling": M(f.WINDOW),
    "expanding": M(f.WINDOW),
    "resample": M(f.WINDOW),
    "asfreq": M(f.WINDOW),
    "between_time": _ROWS,
    "at_time": _ROWS,
    "xs": _ROWS,
    "get": M(f.COLUMN_SELECT),
    "values": _SAME,
    # item access and assignment, named by the key (see the namers below)
    "getitem": M(f.COLUMN_SELECT, select="key", hint=("key",)),
    "select_columns": M(f.COLUMN_SELECT, select="key"),
    "slice": _ROWS,
    "getattr": M(f.COLUMN_SELECT, f.TRANSFORMED, select="name"),
    "loc": M(f.ROW_FILTER, filter_by=(f.MASK, "key")),
    "iloc": _ROWS,
    "setitem": M(f.COLUMN_DERIVE, f.SAME, derive=(f.KEY, "key"), hint=("key",), mutates=True),
    "insert": M(f.COLUMN_DERIVE, f.SAME, derive=(f.KEY, "column"), hint=("column",), mutates=True),
    "pop": M(f.COLUMN_SELECT, mutates=True),
    "delitem": M(f.COLUMN_SELECT, mutates=True),
    "update": M(f.COLUMN_DERIVE, mutates=True),
    "setattr": M(f.COLUMN_DERIVE, mutates=True),
    "set_columns": M(f.RENAME, mutates=True),
    **{f"{ix}_setitem": _INDEXER_SET for ix in ("loc", "iloc", "at", "iat")},
    "DataFrame": M(f.CONSTRUCT, derive=(f.DATA, "data")),
    "Series": M(f.CONSTRUCT, derive=(f.DATA, "data")),
    "T": _RESHAPE,
    # operators (and their method forms)
    **{name: f.operator(symbol) for name, symbol in {**SYMBOLS, **METHOD_OPERATORS}.items()},
}
# `df.index = ...` is recorded as set_index: the attribute set, not the method.
_SETATTR_MEANINGS = {"set_index": M(f.ROW_REORDER, mutates=True)}
GROUPBY_MEANINGS: dict[str, Meaning] = {
    "groupby.getitem": M(f.GROUP, select="key", hint=("key",), on_group=True, carries=False),
}


def meaning(name: str, qualname: str = "") -> Meaning:
    """What the pandas op recorded as `name` (by the callable `qualname`) means."""
    if qualname.endswith("__setattr__") and name in _SETATTR_MEANINGS:
        return _SETATTR_MEANINGS[name]
    if name.startswith("groupby."):
        known = GROUPBY_MEANINGS.get(name)
        return known if known is not None else meaning(name[8:]).on_groups()
    if name.startswith("np."):
        return _DERIVE  # a ufunc on a Series or frame
    return MEANINGS.get(name, _DERIVE)


def _variants(*names: str) -> dict[str, Meaning]:
    return {name: MEANINGS[name] for name in names}


def _qual(obj: Any, fallback: str) -> str:
    inner = obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj
    mod = getattr(inner, "__module__", None)
    qn = getattr(inner, "__qualname__", None)
    return f"{mod}.{qn}" if mod and qn else fallback


# -- namers: pick the op name from the bound arguments --------------------------------------------


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


# -- the provider ---------------------------------------------------------------------------------


def provide(pd: types.ModuleType) -> Iterator[tuple[Any, Entry]]:
    """Every (callable, Entry) pair of pandas, once `import pandas` has finished."""
    from pandas.core import arraylike, indexing
    from pandas.core.groupby import generic, groupby

    for name, fmt in READERS.items():
        fn = getattr(pd, name, None)
        if fn is not None:
            yield (
                fn,
                Entry(
                    name,
                    _qual(fn, f"pandas.{name}"),
                    READ,
                    READ_PATH_PARAMS,
                    file_format=fmt,
                    meaning=MEANINGS[name],
                ),
            )
    for name in MODULE_FUNCTIONS:
        fn = getattr(pd, name, None)
        if fn is not None:
            yield fn, Entry(name, _qual(fn, f"pandas.{name}"), meaning=meaning(name))

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
                        meaning=MEANINGS[name],
                    ),
                )
        for name in FRAME_METHODS:
            fn = static(name)
            if fn is None or isinstance(fn, property):
                continue
            inplace = "inplace" if name in INPLACE_CAPABLE else None
            yield (
                fn,
                Entry(
                    name,
                    _qual(fn, f"pandas.{cname}.{name}"),
                    inplace_param=inplace,
                    meaning=meaning(name),
                ),
            )
        getitem = frame_getitem if cls is pd.DataFrame else series_getitem
        yield (
            static("__getitem__"),
            Entry(
                "getitem",
                f"pandas.{cname}.__getitem__",
                namer=getitem,
                meaning=MEANINGS["getitem"],
                variants=_variants("filter", "slice", "where", "select_columns"),
            ),
        )
        yield (
            static("__setitem__"),
            Entry("setitem", f"pandas.{cname}.__setitem__", MUTATE, meaning=MEANINGS["setitem"]),
        )
        yield (
            static("__init__"),
            Entry(cname, f"pandas.{cname}", CONSTRUCT, meaning=MEANINGS[cname]),
        )
        for name in ("insert", "pop", "update", "__delitem__"):
            fn = static(name)
            if fn is not None:
                op = name.strip("_")
                yield fn, Entry(op, _qual(fn, name), MUTATE, meaning=MEANINGS[op])
        for name in PROPERTIES:
            prop = static(name)
            if isinstance(prop, property):
                yield prop, Entry(name, f"pandas.{cname}.{name}", meaning=MEANINGS[name])
        for name in METHOD_OPERATORS:
            fn = static(name)
            if fn is not None:
                qualname = _qual(fn, f"pandas.{cname}.{name}")
                yield fn, Entry(name, qualname, meaning=MEANINGS[name])
    yield (
        class_attr(pd.DataFrame, "__setattr__"),
        Entry(
            "setattr",
            "pandas.NDFrame.__setattr__",
            MUTATE,
            namer=frame_setattr,
            meaning=MEANINGS["setattr"],
            variants={**_variants("set_columns"), **_SETATTR_MEANINGS},
        ),
    )
    yield (
        class_attr(pd.DataFrame, "__getattr__"),
        Entry(
            "getattr",
            "pandas.NDFrame.__getattr__",
            namer=frame_getattr,
            meaning=MEANINGS["getattr"],
        ),
    )
    ufunc = class_attr(pd.Series, "__array_ufunc__")
    if ufunc is not None:
        yield (
            ufunc,
            Entry(
                "ufunc",
                "pandas.NDFrame.__array_ufunc__",
                namer=array_ufunc,
                hide=("ufunc", "method"),
                meaning=_DERIVE,
            ),
        )
    for dunder, name in {**OPERATORS, **UNARY}.items():
        fn = arraylike.OpsMixin.__dict__.get(dunder) or class_attr(pd.Series, dunder)
        if fn is not None:
            yield fn, Entry(name, f"pandas.{dunder}", meaning=meaning(name))

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
                    "loc",
                    f"pandas.{ix_name}.__getitem__",
                    target="self.obj",
                    namer=indexer_getitem,
                    meaning=_DERIVE,
                    variants=_variants("loc", "iloc"),
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
                    meaning=_INDEXER_SET,
                ),
            )

    for cls in (generic.DataFrameGroupBy, generic.SeriesGroupBy, groupby.GroupBy):
        for name in GROUPBY_METHODS:
            fn = cls.__dict__.get(name)
            if fn is None:
                continue
            op = "groupby.getitem" if name == "__getitem__" else f"groupby.{name}"
            yield fn, Entry(op, _qual(fn, f"pandas.{cls.__name__}.{name}"), meaning=meaning(op))
