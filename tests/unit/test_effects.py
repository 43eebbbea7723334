"""Each family's effect handler alone: real pandas objects, an op as the recorder holds it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tracer.catalog import families as fam
from tracer.catalog.families import Meaning
from tracer.catalog.pandas import MEANINGS
from tracer.recorder import effects


def make_op(
    meaning: str | Meaning,
    subject: Any = None,
    *,
    mutates: bool = False,
    parent: Any = None,
    caller: Any = None,
) -> Any:
    """An op as the recorder holds it while the call runs (`meaning`: by op name, or given)."""
    if isinstance(meaning, str):
        meaning = MEANINGS[meaning]
    return SimpleNamespace(
        meaning=meaning, subject=subject, mutates=mutates, parent=parent, caller=caller
    )


def columns_of(known: dict[int, frozenset[str]]) -> Any:
    """The recorder's lookup of the source columns it knows for a live object."""
    return lambda obj: known.get(id(obj))


def slot(obj: Any) -> Any:
    return SimpleNamespace(ref=lambda: obj, columns=None)


def run(op: Any, args: dict[str, Any], value: Any, known: dict | None = None, **kw: Any) -> dict:
    cols_of = columns_of(known or {})
    effects.on_start(op, args, cols_of)
    new_slots = kw.pop("new_slots", [])
    in_objs = kw.pop("in_objs", [op.subject])
    return effects.on_end(
        op, value, op.subject, in_objs, new_slots, cols_of, full=False, values=False
    )


@pytest.fixture
def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [31.0, np.nan, 25.0, 40.0, np.nan],
            "city": ["a", "b", None, "a", "b"],
            "n": [1, 2, 3, 4, 5],
        }
    )


# -- row filters ----------------------------------------------------------------------------------


def test_a_dropna_says_which_rows_and_which_columns_had_the_missing_values(people):
    facts = run(make_op("dropna", people), {"self": people}, people.dropna())
    assert facts == {
        "rows_dropped": 3,
        "dropped_deltas": [1, 1, 2],
        "filter_columns": ["age", "city"],
    }


def test_a_dropna_with_a_subset_names_the_subset(people):
    op = make_op("dropna", people)
    facts = run(op, {"self": people, "subset": ["age"]}, people.dropna(subset=["age"]))
    assert facts["rows_dropped"] == 2 and facts["filter_columns"] == ["age"]


def test_drop_duplicates_without_a_subset_looked_at_every_column(people):
    twice = pd.concat([people, people.head(1)], ignore_index=True)
    facts = run(make_op("drop_duplicates", twice), {"self": twice}, twice.drop_duplicates())
    assert facts["rows_dropped"] == 1 and facts["filter_columns"] == ["age", "city", "n"]


def test_a_query_names_the_columns_of_its_expression(people):
    op = make_op("query", people)
    facts = run(op, {"self": people, "expr": "n > 2 and `age` < 35"}, people.query("n > 2"))
    assert facts["filter_columns"] == ["age", "n"] and facts["rows_dropped"] == 2


def test_a_mask_filter_names_the_columns_the_mask_came_from(people):
    mask = people["n"] > 3
    op = make_op("filter", people)
    known = {id(mask): frozenset({"n"})}
    facts = run(op, {"self": people, "key": mask}, people[mask], known, in_objs=[people, mask])
    assert facts["filter_columns"] == ["n"] and facts["rows_dropped"] == 3


@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_an_in_place_filter_compares_the_subject_before_and_after(people):
    op = make_op("dropna", people, mutates=True)
    cols_of = columns_of({})
    effects.on_start(op, {"self": people, "subset": ["city"]}, cols_of)
    people.dropna(subset=["city"], inplace=True)  # noqa: PD002 - the case under test
    facts = effects.on_end(op, None, people, [people], [], cols_of, full=False, values=False)
    assert facts["rows_dropped"] == 1 and facts["filter_columns"] == ["city"]


def test_row_labels_that_are_data_are_withheld_without_values(people):
    named = people.set_index("city")
    facts = run(make_op("dropna", named), {"self": named}, named.dropna())
    assert facts["labels"] == "withheld" and "dropped_deltas" not in facts


def test_a_filter_applied_to_groups_measures_nothing_of_its_own(people):
    op = make_op(MEANINGS["head"].on_groups(), people.groupby("city"))
    assert run(op, {"self": op.subject}, people.head(2)) == {}


# -- column selects, carried columns ---------------------------------------------------------------


def test_a_series_taken_from_a_frame_knows_its_column(people):
    out = people["age"]
    slots = [slot(out)]
    run(make_op("getitem", people), {"self": people, "key": "age"}, out, new_slots=slots)
    assert slots[0].columns == frozenset({"age"})


def test_a_series_made_from_series_carries_their_columns(people):
    a, b = people["age"], people["n"]
    out = a + b
    slots = [slot(out)]
    known = {id(a): frozenset({"age"}), id(b): frozenset({"n"})}
    run(make_op("add", a), {"self": a, "other": b}, out, known, in_objs=[a, b], new_slots=slots)
    assert slots[0].columns == frozenset({"age", "n"})


def test_counts_carry_no_columns(people):
    s = people["city"]
    out = s.value_counts()
    slots = [slot(out)]
    run(make_op("value_counts", s), {"self": s}, out, {id(s): frozenset({"city"})}, new_slots=slots)
    assert slots[0].columns is None


# -- derivations -----------------------------------------------------------------------------------


def test_setitem_derives_the_new_column_from_the_values_columns(people):
    value = people["age"] * 2
    op = make_op("setitem", people, mutates=True)
    facts = run(op, {"self": people, "key": "twice", "value": value}, None,
                {id(value): frozenset({"age"})})  # fmt: skip
    assert facts == {"derived_from": {"twice": ["age"]}}


def test_loc_setitem_derives_the_column_it_sets(people):
    value = people["n"] + 1
    op = make_op("loc_setitem", people, mutates=True)
    args = {"self": people.loc, "key": (people["n"] > 2, "age"), "value": value}
    assert run(op, args, None, {id(value): frozenset({"n"})}) == {"derived_from": {"age": ["n"]}}


def test_assign_derives_from_expressions_now_and_from_callables_as_they_read(people):
    ratio = people["n"] / people["age"]
    op = make_op("assign", people)
    cols_of = columns_of({id(ratio): frozenset({"n", "age"})})

    def older(d):
        return d["age"] + 1

    effects.on_start(op, {"self": people, "ratio": ratio, "older": older}, cols_of)
    assert op.lambdas == {id(older.__code__): "older"}
    # a getitem made inside the lambda feeds the column it makes
    lambda_frame = SimpleNamespace(f_code=older.__code__, f_back=None)
    inner = make_op("getitem", people, parent=op, caller=lambda_frame)
    out = people["age"]
    effects.on_start(inner, {"self": people, "key": "age"}, cols_of)
    effects.on_end(inner, out, people, [people], [slot(out)], cols_of, full=False, values=False)
    facts = effects.on_end(op, None, people, [people], [], cols_of, full=False, values=False)
    assert facts == {"derived_from": {"ratio": ["age", "n"], "older": ["age"]}}


def test_a_frame_built_from_series_derives_each_column(people):
    s = people["age"].round()
    op = make_op("DataFrame")
    facts = run(op, {"data": {"rounded": s, "k": [1, 2, 3, 4, 5]}}, None,
                {id(s): frozenset({"age"})}, in_objs=[s])  # fmt: skip
    assert facts == {"derived_from": {"rounded": ["age"]}}


def test_a_family_without_a_handler_measures_nothing(people):
    op = make_op(Meaning(fam.RESHAPE), people)
    assert run(op, {"self": people}, people.T) == {}
