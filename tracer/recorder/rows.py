"""Which rows an op dropped, found at a bounded cost.

Counts are free; dropped labels come from a RangeIndex fast path or an index difference on
frames up to `LABELS_MAX_ROWS` rows (beyond that only with `--rows full`); the columns that
made a `dropna` drop rows are read from a sample of the dropped rows.

Privacy: labels are kept only when they are positions or integer ids (a RangeIndex, an integer
index); labels that are data (names, emails as the index) need `--values`.
"""

from __future__ import annotations

from typing import Any

from tracer.recorder import describe as d

LABELS_CAP = 256  # dropped labels kept per op by default (all of them with --rows full)
LABELS_MAX_ROWS = 100_000  # above this, labels only with --rows full (index difference is O(n))
NA_SAMPLE = 64  # dropped rows looked at to tell which columns made dropna drop them


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


def _plain(x: Any) -> Any:
    """A msgpack-safe label: ints and strings stay, anything else becomes its string."""
    if isinstance(x, (int, str)) and not isinstance(x, bool):
        return x
    if isinstance(x, float) and x == x:
        return x
    return str(x)
