"""What an op changed, measured by its family: one small handler each.

The catalog says what an op means (tracer/catalog/families.py); this module turns that into
facts, with the live arguments in hand at the start of the call and the live results at its
end:

- a row filter: how many rows it dropped and which (rows.py), and the columns that decided
  (a mask's, an expression's, the missing values', the given ones);
- a column select: the column a Series was taken from (`df["a"]`), the columns a frame kept;
- a column derive or a construct, by its derivation rule: which source columns each new column
  was computed from (`df["x"] = expr`, `assign`, `df.loc[m, "x"] = v`, `DataFrame({...})`);
- every op: the source columns an output Series carries on from its inputs, so that
  arithmetic, comparisons, ufuncs, map/apply of Series keep knowing them.

The recorder keeps no argument through the call (the callee counts references: pandas'
Copy-on-Write checks), so what comes from arguments is read at the start; facts that need the
result are left to the end.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable
from typing import Any

from tracer.catalog import families as fam
from tracer.catalog.families import Meaning
from tracer.events.format import label_facts
from tracer.recorder import describe as d
from tracer.recorder import rows

ColumnsOf = Callable[[Any], "frozenset[str] | None"]
# Filter columns found only at the end: which columns had the missing values, or all of them.
_NA_COLUMNS, _ALL_COLUMNS = object(), object()


def on_start(op: Any, args: dict[str, Any], cols_of: ColumnsOf) -> None:
    """Read from the arguments, while they are at hand, everything the end of the op needs."""
    means: Meaning = op.meaning
    op.before_index = op.lambdas = op.derived = op.feeds = None
    op.seed = op.read = op.filter_columns = None
    start = _STARTS.get(means.family)
    if start is not None:
        start(op, means, args, cols_of)
    if means.derive is not None:
        rule, param = means.derive
        _DERIVES[rule](op, param, args, cols_of)
    parent = op.parent
    if parent is not None and getattr(parent, "lambdas", None):
        op.feeds = _fed_column(op.caller, parent.lambdas)


def on_end(
    op: Any,
    value: Any,
    subject: Any,
    in_objs: list[Any],
    new_slots: list[Any],
    cols_of: ColumnsOf,
    *,
    full: bool,
    values: bool,
) -> dict[str, Any]:
    """The op's facts; also gives its new output Series their source columns.

    `subject` and `in_objs` are the op's subject and input objects, alive again (None for one
    that died during the call).
    """
    facts: dict[str, Any] = {}
    carried = _carry(op, subject, in_objs, new_slots, cols_of)
    end = _ENDS.get(op.meaning.family)
    if end is not None:
        end(op, facts, value, subject, full=full, values=values)
    if op.derived:
        facts["derived_from"] = {k: sorted(v) for k, v in op.derived.items()}
    if op.feeds is not None and op.parent.derived is not None:
        read = op.read if op.read is not None else carried
        if read:
            op.parent.derived[op.feeds] |= read
    return facts


# -- every op: the columns an output Series carries on --------------------------------------------


def carried_columns(
    means: Meaning, inputs: Iterable[frozenset[str] | None]
) -> frozenset[str] | None:
    """The source columns of an op's output values: what its inputs' values knew, unless the
    op makes values of another kind (counts, statistics, a GroupBy, a file)."""
    if not means.carries:
        return None
    out: set[str] = set()
    for cols in inputs:
        if cols:
            out |= cols
    return frozenset(out) if out else None


def _carry(
    op: Any, subject: Any, in_objs: list[Any], new_slots: list[Any], cols_of: ColumnsOf
) -> frozenset[str] | None:
    carriers = [s for s in new_slots if d.kind_of(s.ref()) in (d.SERIES, d.NDARRAY, d.MODEL)]
    if not carriers and op.feeds is None:
        return None
    carried = op.seed
    if carried is None:
        sources = [subject] if op.meaning.family == fam.ROW_FILTER else in_objs
        carried = carried_columns(op.meaning, [cols_of(x) for x in sources if x is not None])
    for slot in carriers:
        slot.columns = carried
    return carried


def _fed_column(frame: Any, lambdas: dict[int, str]) -> str | None:
    """The column an assign's callable makes, for a call made inside that callable."""
    for _ in range(8):  # the lambda itself, or a helper it calls
        if frame is None:
            return None
        column = lambdas.get(id(frame.f_code))
        if column is not None:
            return column
        frame = frame.f_back
    return None


# -- row filters ----------------------------------------------------------------------------------


def _filter_start(op: Any, means: Meaning, args: dict[str, Any], cols_of: ColumnsOf) -> None:
    subject = op.subject
    if op.mutates and d.kind_of(subject) in (d.DATAFRAME, d.SERIES):
        op.before_index = subject.index  # immutable: safe to hold until the op ends
    if means.filter_by is not None:
        rule, param = means.filter_by
        op.filter_columns = _FILTER_BY[rule](args.get(param), subject, cols_of)


def _filter_end(
    op: Any, facts: dict[str, Any], value: Any, subject: Any, *, full: bool, values: bool
) -> None:
    """Rows dropped (and which), and the columns that decided."""
    before = op.before_index
    if before is None and d.kind_of(subject) in (d.DATAFRAME, d.SERIES):
        before = subject.index
    after_obj = subject if op.before_index is not None else value
    if before is None or d.kind_of(after_obj) not in (d.DATAFRAME, d.SERIES):
        return
    found = rows.dropped_rows(before, after_obj.index, full=full, values=values)
    labels = found.pop("dropped_labels", None)
    facts.update(found)
    if labels is not None:
        facts.update(label_facts(labels))  # the log's compact form
    columns = op.filter_columns
    if columns is _NA_COLUMNS:
        inplace = op.before_index is not None  # the dropped rows are gone from it
        columns = rows.na_columns(subject, None if inplace else labels)
    elif columns is _ALL_COLUMNS:
        columns = list(_columns(subject) or [])
    if columns:
        facts["filter_columns"] = columns


def _by_mask(value: Any, subject: Any, cols_of: ColumnsOf) -> Any:
    return sorted(cols_of(value) or ())


def _by_expression(value: Any, subject: Any, cols_of: ColumnsOf) -> Any:
    return query_columns(value, _columns(subject))


def _by_missing(value: Any, subject: Any, cols_of: ColumnsOf) -> Any:
    return _labels(value) if value is not None else _NA_COLUMNS


def _by_duplicates(value: Any, subject: Any, cols_of: ColumnsOf) -> Any:
    return _labels(value) if value is not None else _ALL_COLUMNS


def _by_listed(value: Any, subject: Any, cols_of: ColumnsOf) -> Any:
    return _labels(value) if value is not None else []


_FILTER_BY = {
    fam.MASK: _by_mask,
    fam.EXPRESSION: _by_expression,
    fam.MISSING: _by_missing,
    fam.DUPLICATES: _by_duplicates,
    fam.LISTED: _by_listed,
}


# -- column selects -------------------------------------------------------------------------------


def _select_start(op: Any, means: Meaning, args: dict[str, Any], cols_of: ColumnsOf) -> None:
    """`df["a"]`: the Series knows its column; `df[["a", "b"]]`: the columns it read."""
    if means.select is None or d.kind_of(op.subject) != d.DATAFRAME:
        return
    key = args.get(means.select)
    if isinstance(key, (str, int, float, tuple)):
        op.seed = frozenset([_label(key)])
    elif isinstance(key, list):
        op.read = frozenset(_label(k) for k in key)


_STARTS = {fam.ROW_FILTER: _filter_start, fam.COLUMN_SELECT: _select_start}
_ENDS = {fam.ROW_FILTER: _filter_end}


# -- derivations: which source columns a new column was made from ---------------------------------


def _derive_key(op: Any, param: str, args: dict[str, Any], cols_of: ColumnsOf) -> None:
    """`df[key] = value`, `df.insert(i, key, value)` (key: a label or a list of them)."""
    key = args.get(param)
    if isinstance(key, (str, int, float, tuple)):
        op.derived = {_label(key): set(cols_of(args.get("value")) or ())}
    elif isinstance(key, list) and key:
        src = set(cols_of(args.get("value")) or ())
        op.derived = {_label(k): src for k in key}


def _derive_indexer(op: Any, param: str, args: dict[str, Any], cols_of: ColumnsOf) -> None:
    """`df.loc[rows, column] = value`."""
    key = args.get(param)
    col = key[1] if isinstance(key, tuple) and len(key) == 2 else None
    if isinstance(col, (str, int)) and not isinstance(col, bool):
        op.derived = {_label(col): set(cols_of(args.get("value")) or ())}


def _derive_lambdas(op: Any, param: str, args: dict[str, Any], cols_of: ColumnsOf) -> None:
    """`assign(a=expr, b=lambda d: ...)`: an expression's columns now, a callable's as the
    calls made inside it read them (`_fed_column`)."""
    op.lambdas, op.derived = {}, {}
    for key, value in args.items():
        if key == "self":
            continue
        if isinstance(value, types.FunctionType):
            op.lambdas[id(value.__code__)] = key
            op.derived[key] = set()
        else:
            op.derived[key] = set(cols_of(value) or ())


def _derive_data(op: Any, param: str, args: dict[str, Any], cols_of: ColumnsOf) -> None:
    """`DataFrame({"a": s * 2, ...})`: each value's columns."""
    data = args.get(param)
    if isinstance(data, dict):
        derived = {_label(k): set(cols_of(v) or ()) for k, v in data.items() if cols_of(v)}
        if derived:
            op.derived = derived


_DERIVES: dict[str, Callable[[Any, str, dict[str, Any], ColumnsOf], None]] = {
    fam.KEY: _derive_key,
    fam.INDEXER: _derive_indexer,
    fam.LAMBDAS: _derive_lambdas,
    fam.DATA: _derive_data,
}


# -- query expressions ----------------------------------------------------------------------------


_query_cache: dict[tuple[str, tuple[str, ...]], list[str]] = {}


def query_columns(expr: Any, columns: list[str] | None) -> list[str]:
    """Columns named in a DataFrame.query / eval expression, in order of first use."""
    if not isinstance(expr, str) or not columns:
        return []
    key = (expr, tuple(columns))
    found = _query_cache.get(key)
    if found is None:
        if len(_query_cache) >= 1024:
            _query_cache.clear()
        found = _query_cache[key] = _query_columns(expr, columns)
    return list(found)


def _query_columns(expr: str, columns: list[str]) -> list[str]:
    import io
    import re
    import tokenize

    backtick = re.compile(r"`([^`]+)`")
    known = set(columns)
    found: list[str] = []
    for name in backtick.findall(expr):
        if name in known and name not in found:
            found.append(name)
    try:
        tokens = tokenize.generate_tokens(io.StringIO(backtick.sub(" ", expr)).readline)
        for tok in tokens:
            if tok.type == tokenize.NAME and tok.string in known and tok.string not in found:
                found.append(tok.string)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return found


def _label(x: Any) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, tuple):
        return "|".join(_label(v) for v in x)
    return str(x)


def _labels(x: Any) -> list[str]:
    return [_label(c) for c in x] if isinstance(x, (list, tuple)) else [_label(x)]


def _columns(obj: Any) -> list[str] | None:
    if d.kind_of(obj) != d.DATAFRAME:
        return None
    return d.column_names(obj.columns)  # cached: do not change the list
