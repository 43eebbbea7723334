"""What an op means is said once, by its catalog entry: families, meanings in the log, and no op
name deciding anything outside tracer/catalog/."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tracer.catalog import Catalog, meaning_of, persist, sklearn
from tracer.catalog import families as fam
from tracer.catalog import numpy as np_catalog
from tracer.catalog import pandas as pd_catalog
from tracer.catalog.families import NO_MEANING, Meaning

PACKAGE = Path(__file__).resolve().parents[2] / "tracer"

ALL_MEANINGS = [
    *pd_catalog.MEANINGS.values(),
    *pd_catalog.GROUPBY_MEANINGS.values(),
    *sklearn.MEANINGS.values(),
    *persist.MEANINGS.values(),
    np_catalog.meaning("np.save"),
    np_catalog.meaning("np.load"),
]


def resolved_catalog() -> Catalog:
    import joblib  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.model_selection  # noqa: F401
    import sklearn.preprocessing  # noqa: F401

    catalog = Catalog()
    for module in list(sys.modules.values()):
        if module is not None:
            catalog.module_loaded(module)
    return catalog


# -- meanings in the log -------------------------------------------------------------------------


@pytest.mark.parametrize("meaning", ALL_MEANINGS, ids=lambda m: m.family)
def test_every_declared_meaning_reads_back_from_its_record(meaning: Meaning):
    record = meaning.to_record()
    assert record["family"] == meaning.family
    assert Meaning.from_record(record) == meaning


def test_a_record_holds_only_what_differs_from_the_defaults():
    assert Meaning(fam.ROW_FILTER).to_record() == {"family": "row_filter"}
    dropna = pd_catalog.MEANINGS["dropna"].to_record()
    assert dropna == {
        "family": "row_filter",
        "columns": ["subset"],
        "filter_by": ["missing", "subset"],
        "hint": ["subset"],
    }


@pytest.mark.parametrize(
    "data, expected",
    [
        (None, NO_MEANING),
        ([1, 2], NO_MEANING),
        ({"hint": ["x"]}, NO_MEANING),  # no family
        ({"family": 3}, NO_MEANING),
        ({"family": "join", "hint": "on"}, Meaning(fam.JOIN)),  # a str, not a list
        ({"family": "join", "hint": ["on", 1]}, Meaning(fam.JOIN)),
        ({"family": "row_filter", "filter_by": ["mask"]}, Meaning(fam.ROW_FILTER)),
        ({"family": "row_filter", "carries": "no"}, Meaning(fam.ROW_FILTER)),
        ({"family": "lanes", "lanes": 4}, Meaning("lanes")),  # a newer tracer's: kept, read
        ({"family": "fit", "trains": True, "seed": None}, Meaning(fam.FIT, trains=True)),
    ],
)
def test_a_damaged_or_newer_record_reads_as_much_as_it_can(data, expected):
    assert Meaning.from_record(data) == expected


def test_the_family_gives_the_default_column_relation():
    assert Meaning(fam.ROW_FILTER).column_how == fam.SAME
    assert Meaning(fam.AGGREGATE).column_how == fam.AGGREGATED
    assert Meaning(fam.COLUMN_DERIVE).column_how == fam.TRANSFORMED
    assert Meaning("from a newer tracer").column_how == fam.TRANSFORMED
    assert Meaning(fam.JOIN, how=fam.TRANSFORMED).column_how == fam.TRANSFORMED
    assert Meaning(fam.SPLIT).keeps_rows and not Meaning(fam.ROW_REORDER).keeps_rows
    assert pd_catalog.meaning("groupby.head").grouped and pd_catalog.MEANINGS["groupby"].grouped


# -- the catalog infers the meaning of an op in an older log -------------------------------------


@pytest.mark.parametrize(
    "name, qualname, family",
    [
        ("dropna", "pandas.core.frame.DataFrame.dropna", fam.ROW_FILTER),
        ("filter", "pandas.core.frame.DataFrame.__getitem__", fam.ROW_FILTER),
        ("select_columns", "pandas.DataFrame.__getitem__", fam.COLUMN_SELECT),
        ("groupby.mean", "pandas.core.groupby.groupby.GroupBy.mean", fam.AGGREGATE),
        ("groupby.getitem", "pandas.core.groupby.generic.DataFrameGroupBy.__getitem__", fam.GROUP),
        ("merge", "pandas.core.reshape.merge.merge", fam.JOIN),
        ("np.log1p", "pandas.NDFrame.__array_ufunc__", fam.COLUMN_DERIVE),
        ("np.save", "numpy.save", fam.WRITE),
        ("pickle.load", "pickle.load", fam.READ),
        ("joblib.dump", "joblib.dump", fam.WRITE),
        ("fit", "sklearn.linear_model._base.LinearRegression.fit", fam.FIT),
        ("transform", "sklearn.preprocessing._data.StandardScaler.transform", fam.PREDICT),
        ("transform", "pandas.core.series.Series.transform", fam.COLUMN_DERIVE),
        ("LinearRegression", "sklearn.linear_model._base.LinearRegression", fam.CONSTRUCT),
        ("train_test_split", "sklearn.train_test_split", fam.SPLIT),
        ("dropna", "x", fam.ROW_FILTER),  # a qualname of no known library: by the name
        ("np.save", "x", fam.WRITE),
        ("fit", "x", fam.FIT),
    ],
)
def test_an_older_logs_op_means_what_its_name_says(name, qualname, family):
    assert meaning_of(name, qualname).family == family


def test_one_name_two_meanings_are_told_apart_by_the_callable():
    method = meaning_of("set_index", "pandas.core.frame.DataFrame.set_index")
    attribute = meaning_of("set_index", "pandas.NDFrame.__setattr__")  # df.index = ...
    assert method.hint == ("keys",) and not method.mutates
    assert attribute.mutates and attribute.hint == ()


def test_every_watched_callable_says_what_it_means():
    catalog = resolved_catalog()
    entries = [*catalog.code_entries.values(), *catalog.c_entries.values()]
    assert len(entries) > 400
    unsaid = sorted({e.qualname for e in entries if e.meaning is NO_MEANING})
    assert unsaid == []
    # and an entry's meaning is what the catalog infers for an older log of the same op
    for entry in entries:
        if entry.namer is None:
            assert meaning_of(entry.name, entry.qualname) == entry.meaning, entry.qualname


# -- no op name outside the catalog ---------------------------------------------------------------

# Words that are op names and also something else in tracer, where they mean that other thing.
OTHER_MEANINGS = {
    "DataFrame": "a node kind",
    "Series": "a node kind",
    "mode": "a FILE record's field (read / write)",
    "size": "a FILE record's field (bytes)",
    "where": "an ERROR record's field",
    "values": "the --values option",
    "query": "the query API (tracer.query)",
    "diff": "the diff command",
    "dot": "the DOT export format",
    "count": "a view's tag for a folded op's count",
    "mask": "the role of a row filter's mask input",
    "fit": "the method an estimator has (duck typing a model)",
    "compare": "a bytecode instruction's kind",
    "slice": "a bytecode instruction's kind",
    "join": "a bytecode instruction's kind",
    "at": "a field of a bytecode plan, a view's counter",
    "pos": "a field of a call's arguments",
    "stack": "a field of a thread's state",
    "cut": "a fingerprint's mark for a cut-off structure",
    "sub": "a fingerprint's mark for a sub-structure",
    "T": "the separator of an ISO date and time",
}
PREFIXES = ("groupby.", "np.", "pickle.", "joblib.")


def op_names() -> set[str]:
    catalog = resolved_catalog()
    names = {e.name for e in [*catalog.code_entries.values(), *catalog.c_entries.values()]}
    names |= set(pd_catalog.MEANINGS) | set(pd_catalog.GROUPBY_MEANINGS) | set(sklearn.MEANINGS)
    names |= set(sklearn.MODEL_METHODS) | set(sklearn.FIT_METHODS)
    return names


def string_constants(path: Path) -> list[tuple[int, str, ast.AST]]:
    """(line, text, parent node) of the string constants of a module, docstrings aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            parent = parents.get(id(node))
            while isinstance(parent, (ast.Tuple, ast.List, ast.Set)):  # name in ("a", "b")
                parent = parents.get(id(parent))
            found.append((node.lineno, node.value, parent))
    return found


def compared_with_a_name(parent: ast.AST | None) -> bool:
    """`op.op == "x"`, `name in (...)`, `op.op.startswith("x")`: a string deciding by a name."""

    def names_an_op(node: ast.AST) -> bool:
        text = ast.unparse(node)
        return text.endswith((".op", ".name", "name")) or text == "op"

    if isinstance(parent, ast.Compare):
        return any(names_an_op(n) for n in [parent.left, *parent.comparators])
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute):
        return parent.func.attr in ("startswith", "endswith") and names_an_op(parent.func.value)
    return False


def test_no_module_outside_the_catalog_names_an_op_to_decide_what_it_means():
    names = op_names()
    assert {"dropna", "merge", "groupby.mean", "fit", "np.save"} <= names
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "catalog" in path.relative_to(PACKAGE).parts:
            continue
        for line, text, parent in string_constants(path):
            named = text in names or text in PREFIXES
            if named and (text not in OTHER_MEANINGS or compared_with_a_name(parent)):
                offences.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {text!r}")
    assert offences == [], "ask the op's meaning (catalog/families.py), not its name"
