"""What an op changed: dropped rows, where columns came from, what a filter looked at.

The recorder calls these at the end of an op, with the live input and output objects in hand.
Everything here is bounded: counts are free, dropped labels come from a RangeIndex fast path or
an index difference on frames up to `LABELS_MAX_ROWS` rows (beyond that only with
`--rows full`), and filter columns of `dropna` are read from a sample of the dropped rows.

Column provenance rides on Series: a Series taken from a DataFrame column knows that column,
and arithmetic, comparisons, ufuncs, map/apply of Series carry the union of what their inputs
knew. `df["x"] = expr`, `assign` and `DataFrame({...})` turn that into `derived_from`;
boolean masks turn it into `filter_columns`.

Privacy: labels are kept only when they are positions or integer ids (a RangeIndex, an integer
index); labels that are data (names, emails as the index) need `--values`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tracer import describe as d
from tracer.events.format import label_facts
from tracer.vocabulary import ROW_FILTERS

LABELS_CAP = 256  # dropped labels kept per op by default (all of them with --rows full)
LABELS_MAX_ROWS = 100_000  # above this, labels only with --rows full (index difference is O(n))
NA_SAMPLE = 64  # dropped rows looked at to tell which columns made dropna drop them

# Ops whose output values come from their inputs' values, element by element or by a function
# of them: the output Series carries its inputs' source columns.
_NOT_CARRYING = frozenset({"groupby", "value_counts", "describe", "count", "nunique", "size"})


def seed_columns(op: str, subject: Any, args: dict[str, Any]) -> frozenset[str] | None:
    """Source columns of a Series taken straight out of a DataFrame (df["a"], df.loc[:, "a"])."""
    if op == "getitem" and d.kind_of(subject) == d.DATAFRAME:
        key = args.get("key")
        if isinstance(key, (str, int, float, tuple)):
            return frozenset([_label(key)])
    if op == "getattr" and d.kind_of(subject) == d.DATAFRAME:
        name = args.get("name")
        if isinstance(name, str):
            return frozenset([name])
    return None


def carried_columns(op: str, inputs: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    if op.startswith(("groupby", "to_")) or op in _NOT_CARRYING:
        return None
    out: set[str] = set()
    for cols in inputs:
        if cols:
            out |= cols
    return frozenset(out) if out else None


# -- rows -----------------------------------------------------------------------------------------


def dropped_rows(before: Any, after: Any, *, full: bool, values: bool) -> dict[str, Any]:
    """rows_dropped always; dropped_labels when not data (see module docstring).

    `before` and `after` are the row indexes of the op's subject and result. By default the
    first LABELS_CAP dropped labels are kept, found at a cost that depends on where the drops
    are, not on the row count; `full` keeps them all.
    """
    n_in, n_out = len(before), len(after)
    facts: dict[str, Any] = {"rows_dropped": n_in - n_out}
    if n_out >= n_in:
        return facts
    if not (values or _labels_are_positions(before)):
        facts["labels"] = "withheld"  # the index holds data values: only with --values
        return facts
    cap = None if full else LABELS_CAP
    labels = _first_dropped_positions(before, after, cap)
    if labels is None:
        if n_in > LABELS_MAX_ROWS and not full:
            facts["labels"] = "skipped"  # an unordered result of a big frame: O(rows) to tell
            return facts
        dropped = dropped_index(before, after)
        if dropped is None:
            return facts
        labels = dropped[:cap].tolist() if cap is not None else dropped.tolist()
    facts["dropped_labels"] = (
        [_plain(x) for x in labels] if labels and type(labels[0]) is not int else labels
    )
    if cap is not None and n_in - n_out > cap:
        facts["labels"] = "capped"
    return facts


def _first_dropped_positions(src: Any, dst: Any, cap: int | None) -> list[int] | None:
    """The first `cap` labels of a RangeIndex `src` missing from an increasing `dst`.

    Reads `dst` in growing chunks: with drops spread through the frame, the first thousand
    are found in the first few thousand rows whatever the frame's length. None when `src` is
    not a RangeIndex or `dst` is not an increasing subset of it (the caller falls back).
    """
    import numpy as np

    start, _, step = _range_params(src)
    if step is None or step <= 0 or dst.dtype.kind not in "iu":
        return None
    values = np.asarray(dst)
    n, total = len(values), len(src)
    found: list[int] = []
    settled = 0  # every position of src below this one is classified
    i = 0  # values of dst consumed
    chunk = max(4 * (cap or 1024), 4096)
    # (array methods rather than np.any / np.diff: on small frames numpy's Python-level
    # dispatch would cost more than the work)
    while True:
        part = values[i : i + chunk]
        pos = part - start if start else part
        if step != 1:
            if (pos % step).any():
                return None
            pos = pos // step
        if len(pos) and (
            pos[0] < settled or pos[-1] >= total or (pos[1:] <= pos[:-1]).any()
        ):
            return None
        i += len(part)
        end = total if i >= n else int(pos[-1]) + 1
        if cap is not None:
            # the first `need` missing positions lie within need + len(pos) of `settled`:
            # never build a mask over a long run of dropped rows we will not report
            need = cap - len(found)
            end = min(end, settled + need + len(pos))
            if len(pos) and pos[-1] >= end:
                pos = pos[pos < end]
        kept = np.zeros(end - settled, dtype=bool)
        kept[pos - settled if settled else pos] = True
        missing = (~kept).nonzero()[0]
        if settled:
            missing += settled
        if step != 1:
            missing *= step
        if start:
            missing += start
        found.extend(missing.tolist())
        settled = end
        if cap is not None and len(found) >= cap:
            return found[:cap]
        if i >= n:
            return found
        chunk *= 4


def dropped_index(src: Any, dst: Any) -> Any:
    """The labels of index `src` that index `dst` lost, as an Index (None if it cannot tell)."""
    if src.is_unique:
        return src.difference(dst, sort=False)
    return None


def _range_params(index: Any) -> tuple[int, int, int | None]:
    step = getattr(index, "step", None)
    if step is None or type(index).__name__ != "RangeIndex":
        return 0, 0, None
    return index.start, index.stop, step


def _labels_are_positions(index: Any) -> bool:
    return type(index).__name__ == "RangeIndex" or getattr(index.dtype, "kind", "") in "iu"


def na_columns(before: Any, dropped: list[int] | None) -> list[str]:
    """Which columns made a dropna without `subset` drop rows: looked up in a few dropped rows
    only (with `subset`, they are its columns: `on_start` reads them).

    `dropped` are dropped labels of a frame with a RangeIndex (they are positions then);
    columns whose dtype cannot hold a missing value are not looked at.
    """
    if not dropped or d.kind_of(before) != d.DATAFRAME:
        return []
    start, _, step = _range_params(before.index)
    if step is None:
        return []
    import numpy as np
    import pandas as pd

    pos = (np.asarray(dropped[:NA_SAMPLE]) - start) // step
    names = d.column_names(before.columns)
    try:
        hit = _na_positions_by_block(before, pos, np, pd)
    except Exception:  # a frame laid out some other way: one column at a time
        hit = set()
        for i in range(len(names)):
            if bool(pd.isna(before.iloc[:, i].to_numpy()[pos]).any()):
                hit.add(i)
    return [names[i] for i in sorted(hit)]


def _na_positions_by_block(frame: Any, pos: Any, np: Any, pd: Any) -> set[int]:
    """Positions of the columns holding a missing value in rows `pos`: one isna per block."""
    hit: set[int] = set()
    for block in frame._mgr.blocks:
        dtype = block.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iub":
            continue  # numpy ints and bools cannot hold a missing value
        values = block.values
        locs = block.mgr_locs.as_array
        if getattr(values, "ndim", 1) == 2:  # (columns, rows)
            sample = values[:, pos]
            if not isinstance(sample, np.ndarray):
                missing = np.asarray(sample.isna())  # datetimes with a time zone
            elif dtype.kind in "fc":
                missing = np.isnan(sample)
            elif dtype.kind in "mM":
                missing = np.isnat(sample)
            else:
                missing = pd.isna(sample)
            hit.update(locs[missing.any(axis=1)].tolist())
        elif bool(values.take(pos).isna().any()):  # an extension array: one column
            hit.update(locs.tolist())
    return hit


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


def _plain(x: Any) -> Any:
    """A msgpack-safe label: ints and strings stay, anything else becomes its string."""
    if isinstance(x, (int, str)) and not isinstance(x, bool):
        return x
    if isinstance(x, float) and x == x:
        return x
    return str(x)


# -- glue called by the recorder ------------------------------------------------------------------


def on_start(op: Any, args: dict[str, Any], cols_of: Any) -> None:
    """Take from the arguments, while they are at hand, everything the end of the op needs.

    The recorder keeps no argument through the call (the callee counts references: pandas'
    Copy-on-Write checks), so the facts that come from arguments are read here: the subject's
    rows before an in-place filter, the columns a filter or a new column reads, which lambda
    makes which assigned column, and (for a call nested in an assign lambda) which column this
    call feeds. Facts that need the result are left to `on_end`.
    """
    op.before_index = None
    op.lambdas = None
    op.derived = None
    op.feeds = None
    name, subject = op.name, op.subject
    if name in ROW_FILTERS and op.mutates and d.kind_of(subject) in (d.DATAFRAME, d.SERIES):
        op.before_index = subject.index  # immutable: safe to hold until the op ends
    op.seed = seed_columns(name, subject, args)
    op.filter_columns = _filter_columns(name, subject, args, cols_of)
    op.read = None
    if name == "select_columns" and isinstance(args.get("key"), list):
        op.read = frozenset(_label(k) for k in args["key"])
    if name == "assign":
        import types

        op.lambdas, op.derived = {}, {}
        for key, value in args.items():
            if key == "self":
                continue
            if isinstance(value, types.FunctionType):
                op.lambdas[id(value.__code__)] = key
                op.derived[key] = set()
            else:
                op.derived[key] = set(cols_of(value) or ())
    else:
        derived = _derived(op, args, cols_of)
        if derived:
            op.derived = derived
    parent = op.parent
    if parent is not None and getattr(parent, "lambdas", None):
        frame = op.caller
        for _ in range(8):  # the lambda itself, or a helper it calls
            if frame is None:
                break
            column = parent.lambdas.get(id(frame.f_code))
            if column is not None:
                op.feeds = column
                break
            frame = frame.f_back


def on_end(
    op: Any,
    value: Any,
    subject: Any,
    in_objs: list[Any],
    new_slots: list[Any],
    cols_of: Any,
    *,
    full: bool,
    values: bool,
) -> dict[str, Any]:
    """The op's diff facts; also gives its new output Series their source columns.

    `subject` and `in_objs` are the op's subject and input objects, alive again (None for one
    that died during the call).
    """
    facts: dict[str, Any] = {}
    name = op.name
    carried = None
    carriers = [s for s in new_slots if d.kind_of(s.ref()) in (d.SERIES, d.NDARRAY, d.MODEL)]
    if carriers or op.feeds is not None:
        carried = op.seed
        if carried is None:
            sources = [subject] if name in ROW_FILTERS else in_objs
            carried = carried_columns(name, [cols_of(x) for x in sources if x is not None])
        for slot in carriers:
            slot.columns = carried

    # rows
    if name in ROW_FILTERS:
        before = op.before_index
        if before is None and d.kind_of(subject) in (d.DATAFRAME, d.SERIES):
            before = subject.index
        after_obj = subject if op.before_index is not None else value
        if before is not None and d.kind_of(after_obj) in (d.DATAFRAME, d.SERIES):
            rows = dropped_rows(before, after_obj.index, full=full, values=values)
            labels = rows.pop("dropped_labels", None)
            facts.update(rows)
            if labels is not None:
                facts.update(label_facts(labels))  # the log's compact form
            columns = op.filter_columns
            if columns is _NA_COLUMNS:
                inplace = op.before_index is not None  # the dropped rows are gone from it
                columns = na_columns(subject, None if inplace else labels)
            elif columns is _ALL_COLUMNS:
                columns = list(_columns(subject) or [])
            if columns:
                facts["filter_columns"] = columns

    # columns
    if op.derived:
        facts["derived_from"] = {k: sorted(v) for k, v in op.derived.items()}
    if op.feeds is not None and op.parent.derived is not None:
        read = op.read if op.read is not None else carried
        if read:
            op.parent.derived[op.feeds] |= read
    return facts


# Filter columns found only at the end: which columns had the missing values, or all of them.
_NA_COLUMNS, _ALL_COLUMNS = object(), object()


def _filter_columns(name: str, subject: Any, args: dict[str, Any], cols_of: Any) -> Any:
    if name in ("filter", "loc"):
        return sorted(cols_of(args.get("key")) or ())
    if name == "query":
        return query_columns(args.get("expr"), _columns(subject))
    if name == "dropna":
        subset = args.get("subset")
        return _labels(subset) if subset is not None else _NA_COLUMNS
    if name == "drop_duplicates":
        subset = args.get("subset")
        return _labels(subset) if subset is not None else _ALL_COLUMNS
    if name in ("nlargest", "nsmallest"):
        cols = args.get("columns")
        return _labels(cols) if cols is not None else []
    return None


def _labels(x: Any) -> list[str]:
    return [_label(c) for c in x] if isinstance(x, (list, tuple)) else [_label(x)]


def _derived(op: Any, args: dict[str, Any], cols_of: Any) -> dict[str, set[str]]:
    name = op.name
    if name in ("setitem", "insert"):
        key = args.get("key", args.get("column"))
        if isinstance(key, (str, int, float, tuple)):
            return {_label(key): set(cols_of(args.get("value")) or ())}
        if isinstance(key, list):
            src = set(cols_of(args.get("value")) or ())
            return {_label(k): src for k in key}
    if name.endswith("_setitem"):
        key = args.get("key")
        col = key[1] if isinstance(key, tuple) and len(key) == 2 else None
        if isinstance(col, (str, int)) and not isinstance(col, bool):
            return {_label(col): set(cols_of(args.get("value")) or ())}
    if op.entry.role == "construct" and isinstance(args.get("data"), dict):
        return {_label(k): set(cols_of(v) or ()) for k, v in args["data"].items() if cols_of(v)}
    return {}


def _columns(obj: Any) -> list[str] | None:
    if d.kind_of(obj) != d.DATAFRAME:
        return None
    return d.column_names(obj.columns)  # cached: do not change the list
