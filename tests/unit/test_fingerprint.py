"""tracer.fingerprint: content fingerprints of pandas/numpy objects and derived fingerprints."""

from __future__ import annotations

import collections
import datetime
import decimal
import enum
import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from tracer.fingerprint import FINGERPRINT_VERSION, derived_fingerprint, fingerprint
from tracer.fingerprint.sampling import SAMPLE_ROWS, sample_positions

HEX32 = re.compile(r"[0-9a-f]{32}")


def fp(obj: object) -> str:
    """The fingerprint, asserting it is a real one (None would hide an internal failure)."""
    result = fingerprint(obj)
    assert result is not None and HEX32.fullmatch(result), result
    return result


# Built in this process and in subprocesses with other hash seeds. Covers what depends on
# the str hash (sets of str, dicts) or on addresses (default reprs, functions).
CASES_SOURCE = textwrap.dedent(
    """
    import datetime, decimal
    import numpy as np
    import pandas as pd

    class Point:  # default repr: "<Point object at 0x...>"
        def __init__(self, x):
            self.x = x

    def helper():
        pass

    def build_cases():
        n = 5000
        rng = np.random.default_rng(42)
        strings = np.array([f"s{i % 97}" for i in range(n)], dtype=object)
        strings[::13] = None
        mixed = pd.DataFrame({
            "key": np.arange(n),
            "x": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)),
            "s": pd.array(strings, dtype="str"),
            "t": pd.date_range("2020-01-01", periods=n, freq="min"),
            "tz": pd.date_range("2020-01-01", periods=n, freq="h", tz="Europe/Paris"),
            "c": pd.Categorical([f"c{i % 7}" for i in range(n)]),
            "I": pd.array([None if i % 11 == 0 else i for i in range(n)], dtype="Int64"),
        })
        objects = pd.DataFrame({"o": [
            {"b", "a", "zz", "q"}, frozenset({"x", "y", "w"}), {"k": {"v", "u"}}, Point(3),
            helper, decimal.Decimal("1.25"), datetime.date(2020, 1, 2), ("t", 1), None,
            np.nan, b"raw", 3 + 4j, pd.NA, pd.Timestamp("2021-01-01", tz="UTC"),
            np.float32(1.5), np.arange(4), [1, [2, {"s", "t"}]],
        ]})
        return {
            "mixed": mixed,
            "objects": objects,
            "series": mixed["s"].rename("name"),
            "multi": mixed.set_index(["s", "key"]),
            "index": pd.Index(["b", "a", "c"]),
            "ndarray": rng.random((300, 7)).T,
            "structured": np.array([(1, "a"), (2, "b")], dtype=[("i", "<i4"), ("u", "<U3")]),
            "object_array": np.array([{"p", "q"}, "x", 1.5], dtype=object),
        }
    """
)


def _cases() -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": "__main__"}  # as in `python -c`
    exec(compile(CASES_SOURCE, "<cases>", "exec"), namespace)
    return namespace["build_cases"]()  # type: ignore[operator]


def _fingerprints_in_subprocess(hash_seed: str) -> dict[str, str | None]:
    script = CASES_SOURCE + textwrap.dedent(
        """
        import json
        from tracer.fingerprint import fingerprint
        print(json.dumps({k: fingerprint(v) for k, v in build_cases().items()}))
        """
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


# -- format and determinism -------------------------------------------------------------------


def test_fingerprint_is_32_lowercase_hex_for_every_supported_kind():
    # GIVEN one object of each supported kind
    objects = [
        pd.DataFrame({"a": [1, 2]}),
        pd.Series([1.0, 2.0]),
        pd.Index([1, 2]),
        pd.RangeIndex(5),
        pd.MultiIndex.from_tuples([("a", 1), ("b", 2)]),
        np.arange(3),
    ]
    # WHEN fingerprinted THEN each is 32 lowercase hex chars, and all differ
    prints = [fp(o) for o in objects]
    assert len(set(prints)) == len(prints)


def test_same_fingerprints_in_other_processes_with_other_hash_seeds():
    # GIVEN fingerprints of objects whose naive encodings depend on the str hash or addresses
    here = {name: fp(obj) for name, obj in _cases().items()}
    # WHEN the same objects are built and fingerprinted in processes with other hash seeds
    for seed in ("0", "12345"):
        there = _fingerprints_in_subprocess(seed)
        # THEN every fingerprint is the same
        assert there == here, seed


def test_equal_data_built_separately_gives_equal_fingerprints():
    # GIVEN two independently built, equal objects of each case
    first, second = _cases(), _cases()
    # WHEN fingerprinted THEN they agree, and a copy agrees too
    for name in first:
        assert fp(first[name]) == fp(second[name]), name
    assert fp(first["mixed"]) == fp(first["mixed"].copy())  # type: ignore[union-attr]


def test_repeated_calls_are_stable():
    df = _cases()["mixed"]
    assert len({fingerprint(df) for _ in range(5)}) == 1


# -- every dtype ------------------------------------------------------------------------------

N = 3000  # > SAMPLE_ROWS, so the sampled path is exercised

DTYPE_COLUMNS = {
    "int64": lambda: pd.Series(np.arange(N, dtype=np.int64)),
    "int8": lambda: pd.Series((np.arange(N) % 100).astype(np.int8)),
    "uint32": lambda: pd.Series(np.arange(N, dtype=np.uint32)),
    "float64_nan": lambda: pd.Series(np.where(np.arange(N) % 7 == 0, np.nan, np.arange(N) / 3)),
    "float32": lambda: pd.Series(np.arange(N, dtype=np.float32)),
    "bool": lambda: pd.Series(np.arange(N) % 3 == 0),
    "datetime_naive": lambda: pd.Series(pd.date_range("2020-01-01", periods=N, freq="s")),
    "datetime_ns": lambda: pd.Series(pd.date_range("2020", periods=N, freq="s", unit="ns")),
    "datetime_tz": lambda: pd.Series(pd.date_range("2020-01-01", periods=N, freq="h", tz="UTC")),
    "datetime_nat": lambda: pd.Series(pd.to_datetime(["2020-01-01", None] * (N // 2))),
    "timedelta": lambda: pd.Series(pd.to_timedelta(np.arange(N), unit="s")),
    "period": lambda: pd.Series(pd.period_range("2000-01", periods=N, freq="M")),
    "interval": lambda: pd.Series(pd.interval_range(0, N)),
    "category": lambda: pd.Series(pd.Categorical([f"c{i % 5}" for i in range(N)])),
    "category_ordered": lambda: pd.Series(
        pd.Categorical([i % 5 for i in range(N)], categories=[4, 3, 2, 1, 0], ordered=True)
    ),
    "Int64": lambda: pd.Series(pd.array([None if i % 4 == 0 else i for i in range(N)], "Int64")),
    "Float64": lambda: pd.Series(pd.array([None if i % 4 else i / 2 for i in range(N)], "Float64")),
    "boolean": lambda: pd.Series(
        pd.array([None if i % 3 == 0 else i % 2 == 0 for i in range(N)], dtype="boolean")
    ),
    "str_default": lambda: pd.Series([f"v{i}" for i in range(N)]),
    "str_with_missing": lambda: pd.Series([None if i % 9 == 0 else f"v{i}" for i in range(N)]),
    "string_pd_na": lambda: pd.Series(
        pd.array([None if i % 9 == 0 else f"v{i}" for i in range(N)], dtype="string")
    ),
    "str_non_ascii": lambda: pd.Series([f"é{i}\u2603" for i in range(N)]),
    "object_strings": lambda: pd.Series(np.array([f"v{i}" for i in range(N)], dtype=object)),
    "object_mixed": lambda: pd.Series(
        np.array([[1, "a", None, np.nan, 2.5, True][i % 6] for i in range(N)], dtype=object)
    ),
    "object_containers": lambda: pd.Series(
        np.array([[i, "x"] if i % 2 else {"k": i} for i in range(N)], dtype=object)
    ),
    "complex": lambda: pd.Series(np.arange(N) + 1j),
    "sparse": lambda: pd.Series(pd.arrays.SparseArray(np.where(np.arange(N) % 10, 0, 1))),
}


def _change_one_sampled_cell(s: pd.Series) -> pd.Series:
    """A copy of `s` whose value at a sampled position is another value of the column."""
    values = s.tolist()
    pos = int(sample_positions(len(s))[5])
    values[pos] = next(v for v in values if repr(v) != repr(values[pos]))
    return pd.Series(values, dtype=s.dtype)


@pytest.mark.parametrize("name", sorted(DTYPE_COLUMNS))
def test_every_dtype_fingerprints_and_sees_a_changed_sampled_cell(name):
    # GIVEN a column of this dtype, an equal one and one with a sampled cell changed
    series = DTYPE_COLUMNS[name]()
    equal = DTYPE_COLUMNS[name]()
    changed = _change_one_sampled_cell(series)
    # WHEN fingerprinted, as a Series and in a DataFrame
    # THEN equal data agree and the changed cell is seen
    assert fp(series) == fp(equal)
    assert fp(series) != fp(changed)
    assert fp(series.to_frame("c")) == fp(equal.to_frame("c"))
    assert fp(series.to_frame("c")) != fp(changed.to_frame("c"))


@pytest.mark.parametrize("name", sorted(DTYPE_COLUMNS))
def test_every_dtype_as_an_index(name):
    # GIVEN an index of this dtype (where pandas has one)
    try:
        index = pd.Index(DTYPE_COLUMNS[name]())
    except Exception:
        pytest.skip("no index of this dtype")
    # WHEN fingerprinted as an index and as the index of a frame THEN it works and is stable
    assert fp(index) == fp(pd.Index(DTYPE_COLUMNS[name]()))
    frame = pd.DataFrame({"a": np.zeros(len(index))}, index=index)
    assert fp(frame) != fp(frame.reset_index(drop=True))


def test_values_under_a_nullable_mask_do_not_matter_but_the_mask_does():
    # GIVEN two Int64 arrays with equal masks but different values under the mask
    mask = np.array([False, True, False])
    a = pd.arrays.IntegerArray(np.array([1, 2, 3]), mask)
    b = pd.arrays.IntegerArray(np.array([1, 99, 3]), mask.copy())
    # WHEN fingerprinted THEN they agree; a missing value differs from any value
    assert fp(pd.Series(a)) == fp(pd.Series(b))
    assert fp(pd.Series(a)) != fp(pd.Series(pd.array([1, 2, 3], dtype="Int64")))


def test_missing_markers_and_lookalike_strings_differ():
    # GIVEN str columns holding NaN/None and the strings that print like them
    variants = [
        pd.Series(["a", None], dtype=object),
        pd.Series(["a", np.nan], dtype=object),
        pd.Series(["a", "None"], dtype=object),
        pd.Series(["a", "nan"], dtype=object),
        pd.Series(["a", ""], dtype=object),
        pd.Series(["a\x00", ""], dtype=object),
        pd.Series(["a", "\x00"], dtype=object),
    ]
    # WHEN fingerprinted THEN all differ
    assert len({fp(s) for s in variants}) == len(variants)


def test_int_float_bool_objects_differ():
    # GIVEN object columns with 1, 1.0 and True (equal under ==)
    variants = [pd.Series([v], dtype=object) for v in (1, 1.0, True, "1")]
    assert len({fp(s) for s in variants}) == len(variants)


def test_tz_aware_differs_from_naive_and_from_other_zones():
    # GIVEN the same instants, naive, in UTC and in another zone
    naive = pd.Series(pd.date_range("2020-01-01", periods=5, freq="h"))
    utc = naive.dt.tz_localize("UTC")
    paris = utc.dt.tz_convert("Europe/Paris")
    assert len({fp(naive), fp(utc), fp(paris)}) == 3


def test_categories_are_part_of_a_categorical():
    # GIVEN equal values whose categories differ (an unused category; the order)
    base = pd.Series(pd.Categorical(["a", "b", "a"]))
    extra = pd.Series(pd.Categorical(["a", "b", "a"], categories=["a", "b", "c"]))
    ordered = pd.Series(pd.Categorical(["a", "b", "a"], ordered=True))
    assert len({fp(base), fp(extra), fp(ordered)}) == 3


def test_str_dtype_differs_from_object_dtype_with_equal_strings():
    values = ["a", "b"]
    assert fp(pd.Series(values, dtype="str")) != fp(pd.Series(values, dtype=object))


class _Slot:
    def __init__(self, v):
        self.v = v


class _Color(enum.Enum):
    RED = 1
    BLUE = 2


_Pair = collections.namedtuple("_Pair", "a b")


@pytest.mark.parametrize(
    "a, b",
    [
        ({"x", "y"}, {"x", "z"}),
        ({"k": 1}, {"k": 2}),
        ([1, 2], (1, 2)),
        (_Slot(1), _Slot(2)),
        (_Color.RED, _Color.BLUE),
        (_Pair(1, 2), _Pair(1, 3)),
        (_Pair(1, 2), (1, 2)),
        (decimal.Decimal("1.0"), decimal.Decimal("1.00")),
        (datetime.date(2020, 1, 1), datetime.date(2020, 1, 2)),
        (np.int64(1), np.int32(1)),
        (np.arange(3), np.arange(4)),
        (pd.Timestamp("2020"), pd.Timestamp("2021")),
    ],
    ids=lambda v: type(v).__name__,
)
def test_object_cells_are_hashed_by_content(a, b):
    # GIVEN object columns that differ in one cell holding a non-scalar value
    sa, sb = pd.Series([a, "x"], dtype=object), pd.Series([b, "x"], dtype=object)
    # WHEN fingerprinted THEN the cell's content is seen, and equal content agrees
    assert fp(sa) != fp(sb)
    assert fp(sa) == fp(pd.Series([a, "x"], dtype=object))


def test_equal_sets_built_in_different_orders_agree():
    a = set(f"member{i}" for i in range(50))
    b = set(reversed([f"member{i}" for i in range(50)]))
    assert fp(pd.Series([a], dtype=object)) == fp(pd.Series([b], dtype=object))


def test_user_repr_is_never_called():
    # GIVEN an object whose __repr__ must not run (slow, side effects)
    calls = []

    class Loud:
        def __init__(self, v):
            self.v = v

        def __repr__(self):
            calls.append(1)
            return "Loud"

    # WHEN fingerprinted in a cell THEN its state is hashed and its repr never called
    assert fp(pd.Series([Loud(1)])) != fp(pd.Series([Loud(2)]))
    assert calls == []


# -- change detection -------------------------------------------------------------------------


@pytest.fixture
def frame() -> pd.DataFrame:
    n = 5000
    return pd.DataFrame(
        {
            "key": np.arange(n),
            "x": np.arange(n) / 7,
            "s": [f"s{i % 31}" for i in range(n)],
            "t": pd.date_range("2021-01-01", periods=n, freq="min"),
        }
    )


def test_changes_are_seen(frame):
    # GIVEN a frame and variants that each change one thing
    last = len(frame) - 1
    one_cell = frame.copy()
    one_cell.loc[last, "x"] = -1.0
    one_string = frame.copy()
    one_string.loc[0, "s"] = "other"
    variants = {
        "one numeric cell (last row)": one_cell,
        "one string cell (first row)": one_string,
        "shape: a row less": frame.iloc[:-1],
        "shape: a column more": frame.assign(extra=1),
        "column name": frame.rename(columns={"x": "y"}),
        "dtype, equal values": frame.astype({"key": "int32"}),
        "dtype int -> float": frame.astype({"key": "float64"}),
        "column order": frame[["x", "key", "s", "t"]],
        "index labels": frame.set_axis(np.arange(len(frame)) + 1),
        "index RangeIndex start": frame.set_axis(pd.RangeIndex(1, len(frame) + 1)),
        "index kind (same labels)": frame.set_axis(pd.Index(np.arange(len(frame)))),
        "index name": frame.rename_axis("row"),
        "columns name": frame.rename_axis(columns="cols"),
    }
    # WHEN fingerprinted THEN every variant differs from the original and from each other
    base = fp(frame)
    prints = {name: fp(v) for name, v in variants.items()}
    for name, value in prints.items():
        assert value != base, name
    assert len(set(prints.values())) == len(prints)


def test_series_name_and_index_are_seen():
    s = pd.Series([1, 2, 3], name="a")
    assert fp(s) != fp(s.rename("b"))
    assert fp(s) != fp(s.rename(None))
    assert fp(s) != fp(s.set_axis(["x", "y", "z"]))
    assert fp(s) != fp(s.to_frame())


def test_not_sampled_row_is_not_seen_known_coverage_limit():
    # GIVEN 100k rows, and a copy changed only in row 1, which is not among the 1,024
    # sampled rows (positions arange(1024) * (n - 1) // 1023: 0, 97, 195, ...)
    n = 100_000
    df = pd.DataFrame({"a": np.arange(n), "b": np.arange(n) * 0.5})
    assert 1 not in set(sample_positions(n).tolist())
    hidden = df.copy()
    hidden.loc[1, "b"] = -1.0
    seen = df.copy()
    seen.loc[97, "b"] = -1.0
    # WHEN fingerprinted
    # THEN the change in the unsampled row is NOT seen: the documented price of a cost flat
    # in the row count (shape, schema and sampled rows are always seen; in-place edits are
    # caught by mutation events, not by the hash)
    assert fp(hidden) == fp(df)
    assert fp(seen) != fp(df)


def test_sample_positions_rule():
    assert sample_positions(5).tolist() == [0, 1, 2, 3, 4]
    assert sample_positions(0).tolist() == []
    big = sample_positions(1_000_000)
    assert len(big) == SAMPLE_ROWS == 1024
    assert big[0] == 0 and big[-1] == 999_999
    assert np.all(np.diff(big) > 0)
    assert np.array_equal(big, np.arange(1024) * 999_999 // 1023)
    assert sample_positions(1_000_000) is big  # cached per n
    assert not big.flags.writeable


# -- shapes and layouts ------------------------------------------------------------------------


def test_duplicate_column_names_are_read_by_position():
    # GIVEN two frames with duplicate names whose columns are swapped
    a = pd.DataFrame([[1, 2], [3, 4]], columns=["c", "c"])
    b = pd.DataFrame([[2, 1], [4, 3]], columns=["c", "c"])
    assert fp(a) != fp(b)
    assert fp(a) == fp(pd.DataFrame([[1, 2], [3, 4]], columns=["c", "c"]))


def test_multiindex_columns_and_index():
    # GIVEN a frame with MultiIndex rows and columns
    cols = pd.MultiIndex.from_product([["a", "b"], [1, 2]])
    rows = pd.MultiIndex.from_product([["x", "y", "z"], pd.date_range("2020", periods=500)])
    df = pd.DataFrame(np.arange(len(rows) * 4).reshape(-1, 4), index=rows, columns=cols)
    base = fp(df)
    # WHEN a label of either changes THEN the fingerprint changes
    assert fp(df.rename(columns={"b": "B"}, level=0)) != base
    assert fp(df.rename(index={"z": "Z"}, level=0)) != base
    assert fp(df.swaplevel(axis=0)) != base
    # AND unused levels left by a filter do not matter, only the labels
    kept = df.iloc[:500]
    assert fp(kept) == fp(kept.set_axis(kept.index.remove_unused_levels()))
    assert fp(df.index) != fp(df.swaplevel().index)


def test_multiindex_with_missing_labels():
    mi = pd.MultiIndex.from_arrays([["a", None, "b"], [1, 2, None]])
    same = pd.MultiIndex.from_arrays([["a", None, "b"], [1, 2, None]])
    other = pd.MultiIndex.from_arrays([["a", "b", "b"], [1, 2, None]])
    assert fp(mi) == fp(same) != fp(other)


def test_empty_frames():
    # GIVEN empty frames of different shapes
    empties = [
        pd.DataFrame(),
        pd.DataFrame(columns=["a", "b"]),
        pd.DataFrame({"a": pd.Series([], dtype="int64")}),
        pd.DataFrame(index=range(3)),
        pd.Series([], dtype="float64"),
        pd.Series([], dtype="str"),
        pd.Index([]),
    ]
    # WHEN fingerprinted THEN each has a fingerprint, all different
    prints = [fp(e) for e in empties]
    assert len(set(prints)) == len(prints)


def test_wide_frame_hashes_every_column():
    # GIVEN 2,000 columns of 2,000 rows and a copy changed in one cell of the last column
    wide = pd.DataFrame(np.arange(4_000_000, dtype=np.float64).reshape(2000, 2000))
    changed = wide.copy()
    changed.iloc[0, -1] = -1.0
    # THEN the change is seen
    assert fp(wide) != fp(changed)
    assert fp(wide) == fp(wide.copy())


def test_mixed_blocks_are_hashed_in_column_order():
    # GIVEN the same columns as one consolidated block and as separate blocks
    a = pd.DataFrame(np.arange(20.0).reshape(10, 2), columns=["p", "q"])
    b = pd.DataFrame({"p": np.arange(0.0, 20.0, 2), "q": np.arange(1.0, 20.0, 2)})
    assert fp(a) == fp(b)


def test_ndarray_layouts_do_not_matter_only_values():
    # GIVEN views (slices, transposes, negative strides) and their contiguous copies
    base = np.arange(60_000, dtype=np.float64).reshape(300, 200)
    views = [base[::2], base.T, base[:, ::-3], base[10:20, 5:7], np.asfortranarray(base)]
    for view in views:
        assert not view.flags.c_contiguous or view is views[-1]
        # THEN each agrees with its C-contiguous copy
        assert fp(view) == fp(np.ascontiguousarray(view))
    assert fp(base) != fp(base.T)


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_ndarray_kinds():
    # GIVEN arrays of many kinds and dimensions
    arrays = [
        np.array(5),
        np.array(5.0),
        np.zeros((0, 3)),
        np.zeros((3, 0)),
        np.arange(24).reshape(2, 3, 4),
        np.arange(24).reshape(4, 3, 2),
        np.array([b"ab", b"c"]),
        np.array(["ab", "c"]),
        np.array(["2020-01-01", "NaT"], dtype="datetime64[D]"),
        np.array([1, 2], dtype="timedelta64[s]"),
        np.array([1, 2], dtype=">i8"),
        np.array([1, 2], dtype="<i8"),
        np.array([True, False]),
        np.array([1 + 2j]),
        np.float16([1.5, 2.5]),
        np.array([(1, 2.0)], dtype=[("a", "i1"), ("b", "<f8")]),
        np.array([(1, 2.0)], dtype=np.dtype([("a", "i1"), ("b", "<f8")], align=True)),
        np.array([("x", [1, 2])], dtype=[("s", "O"), ("v", "<i4", (2,))]),
        np.array([None, "a", 1], dtype=object),
        np.ma.masked_array([1, 2, 3], mask=[False, True, False]),
        np.asmatrix([[1, 2]]),
    ]
    # WHEN fingerprinted THEN all work and all differ
    prints = [fp(a) for a in arrays]
    assert len(set(prints)) == len(prints)


def test_structured_array_padding_is_not_data():
    # GIVEN an aligned structured dtype (padding after the i1 field) with garbage padding
    dtype = np.dtype([("a", "i1"), ("b", "<f8")], align=True)
    clean = np.zeros(3, dtype=dtype)
    dirty = np.frombuffer(bytes(range(48)), dtype=dtype).copy()
    dirty["a"], dirty["b"] = 0, 0.0
    # THEN only the fields count
    assert fp(clean) == fp(dirty)


def test_masked_values_under_the_mask_do_not_matter():
    a = np.ma.masked_array([1, 2, 3], mask=[False, True, False])
    b = np.ma.masked_array([1, 9, 3], mask=[False, True, False])
    assert fp(a) == fp(b)
    assert fp(a) != fp(np.ma.masked_array([1, 2, 3]))


def test_big_nd_array_samples_inside_rows_and_sees_sampled_elements():
    # GIVEN a 2-D array too wide to hash every element of every sampled row
    a = np.zeros((5000, 300))
    b = a.copy()
    b[0, 0] = 1.0  # the first element is always sampled
    c = a.copy()
    c[-1, -1] = 1.0  # and so is the last
    assert len({fp(a), fp(b), fp(c)}) == 3


# -- derived fingerprints ---------------------------------------------------------------------


def test_derived_fingerprint_is_stable_and_ignores_param_order():
    a = derived_fingerprint("merge", {"on": "'id'", "how": "'left'"}, ["f1", "f2"])
    b = derived_fingerprint("merge", {"how": "'left'", "on": "'id'"}, ["f1", "f2"])
    assert a == b and HEX32.fullmatch(a)


def test_derived_fingerprint_sees_op_params_and_each_input():
    base = derived_fingerprint("merge", {"how": "'left'"}, ["f1", "f2"])
    variants = [
        derived_fingerprint("join", {"how": "'left'"}, ["f1", "f2"]),
        derived_fingerprint("merge", {"how": "'inner'"}, ["f1", "f2"]),
        derived_fingerprint("merge", {"HOW": "'left'"}, ["f1", "f2"]),
        derived_fingerprint("merge", {}, ["f1", "f2"]),
        derived_fingerprint("merge", {"how": "'left'", "on": "None"}, ["f1", "f2"]),
        derived_fingerprint("merge", {"how": "'left'"}, ["fX", "f2"]),
        derived_fingerprint("merge", {"how": "'left'"}, ["f1", "fX"]),
        derived_fingerprint("merge", {"how": "'left'"}, ["f2", "f1"]),
        derived_fingerprint("merge", {"how": "'left'"}, ["f1", None]),
        derived_fingerprint("merge", {"how": "'left'"}, ["f1"]),
        derived_fingerprint("merge", {"how": "'left'"}, ["f1", "f2", None]),
    ]
    assert base not in variants
    assert len(set(variants)) == len(variants)


def test_derived_fingerprint_chains_merkle_style():
    # GIVEN a two-step chain from a file hash
    def chain(file_hash: str) -> str:
        read = derived_fingerprint("read_csv", {}, [file_hash])
        return derived_fingerprint("dropna", {"how": "'any'"}, [read])

    # THEN a change upstream changes the end of the chain
    assert chain("xxh3_128:aa") != chain("xxh3_128:ab")
    assert chain("xxh3_128:aa") == chain("xxh3_128:aa")


def test_derived_fingerprint_includes_the_version(monkeypatch):
    import tracer.fingerprint as module

    before = derived_fingerprint("op", {}, [])
    monkeypatch.setattr(module, "FINGERPRINT_VERSION", FINGERPRINT_VERSION + 1)
    assert derived_fingerprint("op", {}, []) != before


def test_derived_fingerprint_rejects_non_str():
    with pytest.raises(TypeError):
        derived_fingerprint("op", {"k": 1}, [])  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        derived_fingerprint("op", {}, [b"x"])  # type: ignore[list-item]


def test_derived_fingerprint_differs_from_content_fingerprint_space():
    assert derived_fingerprint("op", {}, []) != derived_fingerprint("op ", {}, [])


# -- never raises -----------------------------------------------------------------------------


class _Exploding:
    def __getattr__(self, name):
        raise RuntimeError(name)

    def __repr__(self):
        raise RuntimeError("repr")

    def __eq__(self, other):
        raise RuntimeError("eq")

    __hash__ = object.__hash__


class _LyingClass:
    @property
    def __class__(self):  # type: ignore[override]
        raise RuntimeError("class")


OTHER_OBJECTS = {
    "None": lambda: None,
    "int": lambda: 1,
    "str": lambda: "text",
    "bytes": lambda: b"bytes",
    "list": lambda: [1, 2],
    "dict": lambda: {"a": 1},
    "object": object,
    "exploding dunders": _Exploding,
    "lying __class__": _LyingClass,
    "numpy scalar": lambda: np.float64(1.0),
    "Timestamp": lambda: pd.Timestamp("2020"),
    "pd.NA": lambda: pd.NA,
    "a class": lambda: pd.Series,
    "generator": lambda: (x for x in range(3)),
}


@pytest.mark.parametrize("name", list(OTHER_OBJECTS))
def test_other_objects_give_none(name):
    assert fingerprint(OTHER_OBJECTS[name]()) is None


def test_weird_cells_never_raise():
    # GIVEN cells that fight back: exploding dunders, cycles, deep and shared structures
    cyclic: list = []
    cyclic.append(cyclic)
    cyclic.append({"self": cyclic})
    shared: list = []
    for _ in range(60):
        shared = [shared, shared]  # 2**60 paths: the walk is cut by its budget
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    cells = [_Exploding(), cyclic, shared, deep, _LyingClass(), float("nan"), 10**400]
    df = pd.DataFrame({"o": pd.Series(cells, dtype=object)})
    # WHEN fingerprinted THEN a fingerprint comes back, the same each time
    assert fp(df) == fp(df)


def test_array_holding_itself_fingerprints_alike_at_any_stack_depth():
    # GIVEN an object array that contains itself
    a = np.empty(2, dtype=object)
    a[0], a[1] = a, "x"

    def at_depth(n: int) -> str | None:
        return fingerprint(a) if n == 0 else at_depth(n - 1)

    # THEN the nesting is cut by the data, not by the stack
    assert at_depth(0) == at_depth(300) == fp(a)


def test_internal_failure_returns_none(monkeypatch):
    # GIVEN a fingerprinting stage that fails
    from tracer.fingerprint import frames

    def boom(*args):
        raise ValueError("internal")

    monkeypatch.setattr(frames, "fingerprint_frame", boom)
    # THEN fingerprint returns None instead of raising
    assert fingerprint(pd.DataFrame({"a": [1]})) is None


def test_without_private_column_access_the_public_route_gives_the_same_fingerprint(monkeypatch):
    # GIVEN a pandas without DataFrame._get_column_array
    df = _cases()["mixed"]
    expected = fp(df)
    monkeypatch.delattr(pd.DataFrame, "_get_column_array")
    # THEN the public fallback reads the same arrays
    assert fp(df) == expected


def test_dataframe_subclass_is_fingerprinted():
    class MyFrame(pd.DataFrame):
        @property
        def _constructor(self):
            return MyFrame

    data = {"a": [1, 2]}
    assert fp(MyFrame(data)) == fp(pd.DataFrame(data))


def test_importing_the_package_imports_neither_numpy_nor_pandas():
    # GIVEN a fresh interpreter
    code = (
        "import sys; import tracer.fingerprint as f; import tracer.fingerprint.files;"
        "assert f.fingerprint(1) is None; f.derived_fingerprint('op', {}, []);"
        "print(sorted(m for m in ('numpy', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # THEN neither is loaded
    assert out.stdout.strip() == "[]"
