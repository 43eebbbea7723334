"""What an op means: its family, and the parameters that name the columns it works by.

A family says how an op's output rows and columns relate to its inputs'. It is the one thing
the rest of tracer knows about an op: the recorder picks the facts to measure by it (rows
dropped by a row filter, derivations of a column derive, keys of a join), the lineage model
counts rows and follows columns by it, and every view draws by it. None of them names an op:
a log from another engine renders as soon as its catalog says what its ops mean.

`Meaning` is declared per op in the catalog's library modules (`pandas.py`, `sklearn.py`...);
defaults come from the family, so most entries say only their family. A log carries the
meaning of every op it holds (format 1.2: MEANING records, `to_record` / `from_record`); for
an older log the catalog infers it from the op name (`tracer.catalog.meaning_of`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

# -- families -------------------------------------------------------------------------------------
ROW_FILTER = "row_filter"  # a subset of the subject's rows, values untouched (dropna, df[mask])
SPLIT = "split"  # parts of its inputs' rows, chosen alike for each (train_test_split)
ROW_REORDER = "row_reorder"  # the same rows in another order or under another index
ROW_EXPAND = "row_expand"  # a row becomes many (explode, melt)
COLUMN_SELECT = "column_select"  # some of the columns, as they are (df["a"], df[["a", "b"]])
COLUMN_DERIVE = "column_derive"  # new or changed values from old (assign, arithmetic, map)
CAST = "cast"  # the same values in another type
RENAME = "rename"  # the same columns under other names
AGGREGATE = "aggregate"  # many rows make one (sum, describe, pivot_table)
GROUP = "group"  # rows grouped by key columns, waiting for an aggregation (groupby)
WINDOW = "window"  # rows grouped by position or time (rolling, resample)
JOIN = "join"  # rows of two inputs matched on key columns
CONCAT = "concat"  # rows (or columns) of several inputs, one after another
RESHAPE = "reshape"  # the same values in another layout (pivot, stack, transpose)
READ = "read"  # data from a file
WRITE = "write"  # data to a file
CONSTRUCT = "construct"  # a new object from plain values (DataFrame(...), an estimator)
FIT = "fit"  # a model learns from data
PREDICT = "predict"  # a fitted model applied to data (predict, transform, score)
IDENTITY = "identity"  # the same data (copy, to_frame, values)
UNKNOWN = "unknown"  # an op no catalog knows (a log from a newer tracer)

# -- how an output column relates to the same-named input column (OpenLineage's words) ------------
SAME, TRANSFORMED, AGGREGATED = "IDENTITY", "TRANSFORMATION", "AGGREGATION"

_HOW = {
    ROW_FILTER: SAME, SPLIT: SAME, ROW_REORDER: SAME, ROW_EXPAND: SAME, COLUMN_SELECT: SAME,
    CAST: SAME, RENAME: SAME, AGGREGATE: AGGREGATED, GROUP: SAME, JOIN: SAME, CONCAT: SAME,
    RESHAPE: SAME, CONSTRUCT: SAME, IDENTITY: SAME,
}  # fmt: skip
# (every other family: TRANSFORMED)

# -- how a row filter's deciding columns are found (`Meaning.filter_by`) --------------------------
MASK = "mask"  # the columns a boolean mask was computed from
EXPRESSION = "expression"  # the columns an expression names (query)
MISSING = "missing"  # the given columns, else those that held the missing values (dropna)
DUPLICATES = "duplicates"  # the given columns, else all of them (drop_duplicates)
LISTED = "listed"  # the given columns (nlargest)

# -- how a new column's source columns are found (`Meaning.derive`) -------------------------------
KEY = "key"  # df[key] = value: the value's columns
INDEXER = "indexer"  # df.loc[rows, key] = value: the value's columns
LAMBDAS = "lambdas"  # assign(key=value or callable): what each value or callable reads
DATA = "data"  # DataFrame({key: value}): each value's columns

# -- how a view shows the op's hint (`Meaning.hint_style`) ----------------------------------------
VALUE = "value"  # the first hint parameter given: `'population'`
SOURCE = "source"  # an expression: shown longer, and it says which columns it reads
NAMED = "named"  # every hint parameter given, as name=value
OPERATOR = "operator"  # the operator's symbol and the other operand: `> 3`


@dataclass(frozen=True, slots=True)
class Meaning:
    """What one op does to rows and columns. Only `family` is required."""

    family: str
    # How a same-named output column relates to its input column; None: the family's default.
    how: str | None = None
    # Parameters that name the columns the op works by (subset, by, on...).
    columns: tuple[str, ...] = ()
    # COLUMN_SELECT: the parameter holding the label (or list of labels) of what is taken.
    select: str | None = None
    # ROW_FILTER: how its deciding columns are found (MASK...), from which parameter.
    filter_by: tuple[str, str] | None = None
    # How a new column's sources are found (KEY...), from which parameter.
    derive: tuple[str, str] | None = None
    # Parameters whose columns order the rows (sort_values' `by`).
    sort_by: tuple[str, ...] = ()
    # A parameter that makes a random op repeatable: without it, outputs are hashed by content.
    seed: str | None = None
    # A Series (or array) it makes carries its inputs' source columns.
    carries: bool = True
    # A change of a Series' dtype is news (a comparison always makes bools: not news).
    casts: bool = False
    # It is applied to a GroupBy: its data comes through the groupby before it.
    on_group: bool = False
    # It always changes its target in place (saying so adds nothing).
    mutates: bool = False
    # It makes a fitted model (fit, fit_transform, fit_predict).
    trains: bool = False
    # What a view shows after the op's name, and how.
    hint: tuple[str, ...] = ()
    hint_style: str = VALUE
    symbol: str | None = None

    @property
    def column_how(self) -> str:
        return self.how or _HOW.get(self.family, TRANSFORMED)

    @property
    def keeps_rows(self) -> bool:
        """Its output rows are a subset of its first input's (a row filter, a split's part)."""
        return self.family == ROW_FILTER or self.family == SPLIT

    @property
    def grouped(self) -> bool:
        """It makes or works on a GroupBy (whose data is no node of its own)."""
        return self.family == GROUP or self.on_group

    def on_groups(self) -> Meaning:
        """The same op applied to a GroupBy (`df.groupby(k).head()`): its family and columns'
        relation; the rest belongs to the op on a frame."""
        return Meaning(self.family, self.how, on_group=True, carries=False)

    # -- in the log ---------------------------------------------------------------------------
    def to_record(self) -> dict[str, Any]:
        """The fields that differ from their defaults (a MEANING record's map)."""
        out: dict[str, Any] = {}
        for f in _FIELDS:
            value = getattr(self, f.name)
            if value != f.default:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_record(cls, data: Any) -> Meaning:
        """The meaning a MEANING record holds; fields of the wrong type, or unknown to this
        version, are left at their defaults."""
        if not isinstance(data, dict) or not isinstance(data.get("family"), str):
            return NO_MEANING
        given: dict[str, Any] = {}
        for f in _FIELDS:
            value = data.get(f.name)
            if value is None:
                continue
            default = f.default
            if isinstance(default, tuple) or f.name in ("filter_by", "derive"):
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    given[f.name] = tuple(value)
            elif isinstance(default, bool):
                if isinstance(value, bool):
                    given[f.name] = value
            elif isinstance(value, str):
                given[f.name] = value
        if len(given.get("filter_by", ())) != 2:
            given.pop("filter_by", None)
        if len(given.get("derive", ())) != 2:
            given.pop("derive", None)
        return cls(**given)


_FIELDS = dataclasses.fields(Meaning)
NO_MEANING = Meaning(UNKNOWN)


def operator(symbol: str) -> Meaning:
    """A binary operator (`a + b`, `s > 3`, `df.add(other)`): values derived from both sides."""
    return Meaning(COLUMN_DERIVE, hint=("other",), hint_style=OPERATOR, symbol=symbol)
