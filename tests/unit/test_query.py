"""The query API (`tracer.lineage.query`) on real logs: the housing demo and a small pipeline
run through `python -m tracer run` in subprocesses, and live `tracer.trace()` sessions in this
process (live objects, a log read while it grows). Cell maps are plain data: tested directly."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from support import EXAMPLES, run_traced

import tracer
from tracer.lineage.graph import CallSite, Op
from tracer.lineage.processors import Origin
from tracer.lineage.query import (
    Cell,
    CellMap,
    Query,
    QueryError,
    query,
    relabel_cells,
    remember,
)

HOUSING = str(EXAMPLES / "data" / "housing.csv")
CLEAN = ["read_csv", "dropna", "query", "getitem", "gt", "filter"]  # the demo's 01_cleaned.csv

STEPS = """\
import pandas as pd

raw = pd.read_csv("in.csv")
df = raw.rename(columns={"a": "alpha"})
df = df[["alpha", "b", "k"]]
df["ratio"] = df["alpha"] / df["b"]
df.to_csv("mid.csv", index=False)
back = pd.read_csv("mid.csv")
totals = back.groupby("k")["ratio"].sum()
other = raw.dropna()
"""


@pytest.fixture(scope="module")
def housing(tmp_path_factory) -> Query:
    cwd = tmp_path_factory.mktemp("housing")
    r = run_traced([str(EXAMPLES / "housing_pipeline.py")], cwd)
    assert r.returncode == 0, r.stderr
    return query(r.log)


@pytest.fixture(scope="module")
def steps(tmp_path_factory) -> Query:
    cwd = tmp_path_factory.mktemp("steps")
    (cwd / "in.csv").write_text("a,b,c,k\n1,2,x,p\n3,4,y,q\n5,,z,p\n")
    (cwd / "steps.py").write_text(STEPS)
    r = run_traced(["steps.py"], cwd)
    assert r.returncode == 0, r.stderr
    return query(r.log)


def names(ops: list[Op]) -> list[str]:
    return [op.op for op in ops]


def src(path: Path | str, column: str, how: str) -> Origin:
    return Origin(str(path), column, how)


# -- what a run holds -----------------------------------------------------------------------


def test_ops_nodes_and_files_in_call_order(housing):
    # GIVEN the housing demo's log
    q = housing
    # THEN ops come in call order, iteration included, nested ops among them
    seqs = [op.seq for op in q.ops]
    assert seqs == sorted(seqs) and [op.seq for op in q] == seqs and len(q) == len(seqs)
    assert names(q.ops)[:3] == ["read_csv", "dropna", "query"]
    assert any(op.parent is not None for op in q.ops)
    # AND nodes by id, files in call order
    assert set(q.nodes) >= {"n1", "n2"} and q.nodes["n1"].shape == [20640, 10]
    assert [(os.path.basename(f.path), f.mode) for f in q.files] == [
        ("housing.csv", "read"),
        ("01_cleaned.csv", "write"),
        ("02_features.csv", "write"),
        ("03_predictions.csv", "write"),
        ("model.joblib", "write"),
    ]
    assert not q.live and repr(q).startswith(f"<Query {q.lineage.path!r}: {len(q)} ops")


def test_query_accepts_a_lineage_a_path_and_a_query(housing):
    lin = tracer.load(housing.lineage.path)
    for source in (lin, housing.lineage.path, Path(housing.lineage.path), housing):
        assert [op.seq for op in query(source).ops] == [op.seq for op in housing.ops]
    with pytest.raises(TypeError, match="cannot query a int"):
        query(3)


# -- ancestry -------------------------------------------------------------------------------


def test_ancestry_of_a_file_by_path(housing):
    # GIVEN a file the run wrote, named as the script named it (relative to the run's cwd)
    ops = housing.ancestry("housing_out/02_features.csv")
    # THEN every step it depends on, the write included, top-level ops in call order
    assert names(ops) == [*CLEAN, "assign", "assign", "assign", "assign", "to_csv"]
    # AND the other spellings of the same file give the same answer
    assert housing.ancestry("02_features.csv") == ops
    absolute = next(f.path for f in housing.files if f.path.endswith("02_features.csv"))
    assert housing.ancestry(absolute) == ops
    assert housing.ancestry(Path(absolute)) == ops


def test_ancestry_can_include_nested_ops(housing):
    ops = housing.ancestry("02_features.csv", nested=True)
    assert names(ops).count("truediv") == 3 and "np.log1p" in names(ops)
    assert [op.seq for op in ops] == sorted(op.seq for op in ops)


def test_ancestry_of_a_model_follows_features_target_and_split(housing):
    ops = names(housing.ancestry("model.joblib"))
    assert ops[0] == "read_csv" and ops[-2:] == ["fit", "joblib.dump"]
    assert "to_csv" not in ops  # the cleaned table was written, but the model never read it
    assert ops.count("filter") == 3  # the clean() mask, X_train, y_train


def test_ancestry_by_node_id_and_by_node(housing):
    write = next(f for f in housing.files if f.path.endswith("01_cleaned.csv"))
    # GIVEN the node written to 01_cleaned.csv
    node = housing.node(write.node)
    # THEN its ancestry stops at the filter that made it (the write came after)
    assert names(housing.ancestry(write.node)) == CLEAN
    assert housing.ancestry(node) == housing.ancestry(write.node)
    assert housing.producer(write.node).op == "filter"
    assert housing.producer("01_cleaned.csv").op == "to_csv"


def test_a_file_only_read_has_no_ancestry_in_the_run(housing, steps):
    assert housing.ancestry(HOUSING) == []
    assert housing.producer("housing.csv") is None
    assert steps.ancestry("in.csv") == []


def test_ancestry_crosses_a_file_written_and_read_back(steps):
    (totals,) = [op for op in steps.ops if op.op == "groupby.sum"]
    ops = names(steps.ancestry(totals.outputs[0]))
    assert ops == [
        "read_csv",
        "rename",
        "select_columns",
        "getitem",
        "getitem",
        "truediv",
        "setitem",
        "to_csv",
        "read_csv",
        "groupby",
        "groupby.getitem",
        "groupby.sum",
    ]


# -- descendants ------------------------------------------------------------------------------


def test_descendants_of_a_file_cross_files_written_and_read_back(steps):
    assert names(steps.descendants("mid.csv")) == [
        "read_csv",
        "groupby",
        "groupby.getitem",
        "groupby.sum",
    ]
    everything = names(steps.descendants("in.csv"))
    assert everything == [op.op for op in steps.ops]  # every op here comes from in.csv


def test_descendants_of_a_node(housing):
    # GIVEN the is_test mask (x % 5 == 0)
    (eq,) = [op for op in housing.ops if op.op == "eq"]
    ops = names(housing.descendants(eq.outputs[0]))
    # THEN both splits, the model, its predictions and what was written from them
    assert ops[:2] == ["invert", "filter"]
    assert {"fit", "predict", "joblib.dump", "to_csv", "mean"} <= set(ops)
    assert "read_csv" not in ops and "dropna" not in ops
    # AND the raw table's own descendants are every step after the read, the model's too
    ops = names(housing.descendants(housing.files[0].node))
    assert ops[0] == "dropna" and "read_csv" not in ops
    assert {"to_csv", "assign", "fit", "predict", "joblib.dump", "mean"} <= set(ops)


def test_descendants_of_a_version_start_at_its_mutation(steps):
    (setitem,) = [op for op in steps.ops if op.op == "setitem"]
    before, after = setitem.inputs[0], setitem.outputs[0]
    assert steps.nodes[after].version == steps.nodes[before].version + 1
    assert names(steps.descendants(before))[:4] == ["getitem", "getitem", "truediv", "setitem"]
    assert names(steps.descendants(after))[0] == "to_csv"


# -- columns ----------------------------------------------------------------------------------


def test_columns_of_the_housing_features(housing):
    cols = housing.columns_of("02_features.csv")
    assert cols["rooms_per_household"] == [
        src(HOUSING, "households", "TRANSFORMATION"),
        src(HOUSING, "total_rooms", "TRANSFORMATION"),
    ]
    assert cols["log_population"] == [src(HOUSING, "population", "TRANSFORMATION")]
    assert cols["median_income"] == [src(HOUSING, "median_income", "IDENTITY")]
    # a column selection keeps provenance; the model's features come from the same columns
    (select,) = [op for op in housing.ops if op.op == "select_columns"]
    x = housing.columns_of(select.outputs[0])
    assert list(x) == [
        "median_income",
        "housing_median_age",
        "rooms_per_household",
        "bedrooms_per_room",
        "population_per_household",
        "log_population",
    ]
    assert x["bedrooms_per_room"] == [
        src(HOUSING, "total_bedrooms", "TRANSFORMATION"),
        src(HOUSING, "total_rooms", "TRANSFORMATION"),
    ]


def test_columns_of_follow_renames_setitem_and_files(steps):
    cwd = Path(steps.lineage.run.cwd)
    cols = steps.columns_of("mid.csv")
    assert cols == {
        "alpha": [src(cwd / "in.csv", "a", "IDENTITY")],
        "b": [src(cwd / "in.csv", "b", "IDENTITY")],
        "k": [src(cwd / "in.csv", "k", "IDENTITY")],
        "ratio": [
            src(cwd / "in.csv", "a", "TRANSFORMATION"),
            src(cwd / "in.csv", "b", "TRANSFORMATION"),
        ],
    }
    # read back from mid.csv: the sources are still in.csv's columns
    (back,) = [f for f in steps.files if f.mode == "read" and f.path.endswith("mid.csv")]
    assert steps.columns_of(back.node) == cols


# -- bad questions ----------------------------------------------------------------------------


def test_unknown_and_ambiguous_targets_say_what_there_is(housing, tmp_path):
    with pytest.raises(QueryError, match=r"no node or file 'nope.csv' in this run \(files: "):
        housing.ancestry("nope.csv")
    with pytest.raises(QueryError, match="a live object can be looked up only in a live session"):
        housing.ancestry(object())
    with pytest.raises(TypeError, match="not the Op"):
        housing.ancestry(housing.ops[0])
    remember(None)
    with pytest.raises(QueryError, match="no notebook session"):
        query()


def test_a_suffix_matching_several_files_is_ambiguous(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "p.py").write_text(
        textwrap.dedent("""\
        import pandas as pd
        df = pd.DataFrame({"x": [1, 2]})
        df.to_csv("a/out.csv")
        df.to_csv("b/out.csv")
    """)
    )
    r = run_traced(["p.py"], tmp_path)
    assert r.returncode == 0, r.stderr
    q = query(r.log)
    with pytest.raises(QueryError, match="'out.csv' matches several files: a/out.csv, b/out.csv"):
        q.ancestry("out.csv")
    assert names(q.ancestry("b/out.csv")) == ["DataFrame", "to_csv"]


# -- live sessions ----------------------------------------------------------------------------


def test_live_objects_map_to_their_current_version(tmp_path):
    import pandas as pd

    log = tmp_path / "live.tlog"
    with tracer.trace(log=log) as t:
        raw = pd.read_csv(HOUSING)
        df = raw.dropna()
        q = query(t)
        assert q.live
        # GIVEN a live DataFrame: its ancestry is the ops that made it
        assert names(q.ancestry(df)) == ["read_csv", "dropna"]
        first = q.node(df)
        # WHEN it is changed in place, THEN the same object is its new version
        df["rooms"] = df["total_rooms"] / df["households"]
        now = q.node(df)
        assert now.version == first.version + 1 and now.object == first.object
        assert names(q.ancestry(df))[-1] == "setitem"
        assert q.columns_of(df)["rooms"] == [
            src(HOUSING, "households", "TRANSFORMATION"),
            src(HOUSING, "total_rooms", "TRANSFORMATION"),
        ]
        assert names(q.descendants(raw)) == ["dropna", "getitem", "getitem", "truediv", "setitem"]
        # AND an object the tracer never saw is an error, not a guess
        with pytest.raises(QueryError, match="this list was never seen by the tracer"):
            q.ancestry([1, 2])
    # after the run the same query still answers, from the finished log
    assert names(q.ancestry(df))[-1] == "setitem" and q.lineage.run.status == "ok"


def test_a_live_query_reads_the_log_as_it_grows(tmp_path):
    import pandas as pd

    with tracer.trace(log=tmp_path / "grow.tlog") as t:
        q = query(t)
        assert len(q) == 0 and q.lineage.run.status == "unfinished"
        df = pd.read_csv(HOUSING)
        assert names(q) == ["read_csv"]
        small = df.head(10)
        assert names(q) == ["read_csv", "head"]
        assert names(q.ancestry(small)) == ["read_csv", "head"]
    assert q.lineage.run.status == "ok" and len(q) == 2


def test_a_live_query_asks_its_session_only_for_the_log_and_live_objects(tmp_path):
    import pandas as pd

    with tracer.trace(log=tmp_path / "session.tlog") as t:
        df = pd.read_csv(HOUSING).head(3)

        class Session:  # what a notebook session hands over: its log, and a node lookup
            log_path = t.log_path

            def node_of(self, obj):
                return t.node_of(obj)

        q = query(Session())
        assert q.live and names(q.ancestry(df)) == ["read_csv", "head"]
        assert q.node(df) == query(t).node(df)


def test_an_unstarted_tracer_has_nothing_to_query(tmp_path):
    with pytest.raises(QueryError, match="has not been started"):
        query(tracer.Tracer(tmp_path / "never.tlog"))


# -- notebook cells -------------------------------------------------------------------------


def op_at(seq: int, file: str, line: int, function: str = "<module>") -> Op:
    return Op(
        seq,
        "head",
        "DataFrame.head",
        None,
        [],
        [],
        CallSite(file, line, function, ""),
        "MainThread",
        0,
        0,
        {},
        {},
    )


def test_cell_labels_follow_the_execution_that_made_the_op():
    # GIVEN ipykernel-style names: re-running a cell reuses its file name (a hash of the code)
    cells = CellMap(
        [
            Cell(3, "/tmp/k/111.py", 1, 2),
            Cell(4, "/tmp/k/222.py", 3, 5),
            Cell(5, "/tmp/k/111.py", 6, 7),
            Cell(6, "/tmp/k/333.py", 8, 9),
        ]
    )
    # THEN an op is labelled with the execution that made it
    assert cells.label(op_at(2, "/tmp/k/111.py", 4)) == "In[3]:4"
    assert cells.label(op_at(7, "/tmp/k/111.py", 1)) == "In[5]:1"
    # AND code defined in a cell and called later is the latest execution of that code
    assert cells.label(op_at(9, "/tmp/k/222.py", 2, "clean")) == "In[4]:2"
    assert cells.label(op_at(8, "/tmp/k/111.py", 2, "f")) == "In[5]:2"
    # AND IPython's own names carry their number; other files are no cells
    assert cells.label(op_at(1, "<ipython-input-12-0123456789ab>", 3)) == "In[12]:3"
    assert cells.label(op_at(1, "/work/pipeline.py", 3)) is None


def test_cell_maps_are_saved_beside_the_log(tmp_path):
    log = tmp_path / "nb.tlog"
    cells = CellMap([Cell(1, "<ipython-input-1-aa>", 1, 0), Cell(2, "/tmp/k/1.py", 1, 4)])
    cells.save(log)
    path = tmp_path / "nb.tlog.cells.json"
    assert json.loads(path.read_text()) == {
        "format": 1,
        "cells": [[1, "<ipython-input-1-aa>", 1, 0], [2, "/tmp/k/1.py", 1, 4]],
    }
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert CellMap.load(log) == cells
    # a missing or unreadable map is an empty one
    assert CellMap.load(tmp_path / "other.tlog") == CellMap()
    path.write_text("{not json")
    assert CellMap.load(log) == CellMap()


def test_relabel_cells_renames_call_sites_for_views(housing):
    lin = housing.lineage
    script = lin.ops[0].callsite.file
    cells = CellMap([Cell(7, script, 1, 10_000)])
    relabelled = relabel_cells(lin, cells)
    assert relabelled.ops[0].callsite.file == "In[7]"
    assert relabelled.ops[0].callsite.line == lin.ops[0].callsite.line
    assert lin.ops[0].callsite.file == script  # the model it came from is untouched
    assert relabel_cells(lin, CellMap()) is lin
