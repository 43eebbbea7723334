"""Per-op change facts on the forms people write: derived columns, filter columns, dropped
labels (and when they are withheld), dtype changes, scikit-learn pipelines as single ops."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from support import SCRIPTS, backends, export_json, node, ops_named, run_traced


@pytest.fixture(scope="module", params=backends())
def doc(request, tmp_path_factory):
    cwd = tmp_path_factory.mktemp(f"changes-{request.param}")
    shutil.copy(SCRIPTS / "changes.py", cwd)
    r = run_traced(["changes.py"], cwd, request.param)
    assert r.returncode == 0, r.stderr
    return export_json(r.log)


def derived(doc):
    out = {}
    for op in doc["ops"]:
        out.update(op["derived_from"])
    return out


def test_derived_columns(doc):
    d = derived(doc)
    assert d["ratio"] == ["a", "b"]  # df["x"] = df["a"] / df["b"]
    assert d["log_n"] == ["n"]  # np.log1p(series)
    assert d["city_code"] == ["city"]  # .map on a column
    assert d["big"] == ["a"]  # .apply on a column reached as df.a
    assert d["n"] == ["n"]  # overwritten in place


def test_filter_columns_and_rows(doc):
    (dropna,) = ops_named(doc, "dropna")
    assert dropna["filter_columns"] == ["b"] and dropna["rows_dropped"] == 12
    assert dropna["dropped_labels"] == list(range(0, 200, 17))
    (loc,) = ops_named(doc, "loc")
    assert loc["filter_columns"] == ["a"]
    assert loc["rows_dropped"] == len(loc["dropped_labels"]) == loc["rows_in"] - loc["rows_out"]
    # a filter over an index of names: the count, but the names are data and stay out
    (people,) = [op for op in ops_named(doc, "filter") if op["filter_columns"] == ["age"]]
    assert people["rows_dropped"] == 1 and people["dropped_labels"] is None


def test_dtype_changes(doc):
    (astype,) = [op for op in ops_named(doc, "astype") if op["dtype_changes"].get("n")]
    assert astype["dtype_changes"] == {"n": ["int64", "float64"]}
    (setn,) = [op for op in ops_named(doc, "setitem") if op["params"]["key"] == "'n'"]
    assert setn["dtype_changes"] == {"n": ["int64", "float64"]}
    assert all(not op["dtype_changes"] for op in ops_named(doc, "gt"))


def test_pipeline_is_one_model(doc):
    (fit,) = ops_named(doc, "fit")
    assert fit["parent"] is None and not [op for op in doc["ops"] if op["parent"] == fit["seq"]]
    model = fit["outputs"][0]
    assert node(doc, model)["type"].endswith("Pipeline")
    X, y = (node(doc, i) for i in fit["inputs"][1:])
    assert X["columns"] == ["a", "b", "city"] and y["kind"] == "Series"
    (proba,) = ops_named(doc, "predict_proba")
    assert model in proba["inputs"] and node(doc, proba["outputs"][0])["shape"] == [155, 2]
    (score,) = ops_named(doc, "score")
    assert model in score["inputs"] and y["id"] in score["inputs"]


BIG = """\
import numpy as np
import pandas as pd
df = pd.DataFrame({"a": np.arange(150_000, dtype=float)})
df.loc[df.index % 3 == 0, "a"] = np.nan
print(len(df.dropna()))
"""


@pytest.mark.parametrize("rows", ["capped", "full"])
def test_rows_full_keeps_every_dropped_label(tmp_path, rows):
    (tmp_path / "big.py").write_text(BIG)
    r = run_traced(["big.py"], tmp_path, options=["--rows", rows])
    assert r.returncode == 0 and r.stdout == "100000\n"
    (dropna,) = ops_named(export_json(r.log), "dropna")
    assert dropna["rows_dropped"] == 50_000
    if rows == "full":
        assert dropna["dropped_labels"] == list(range(0, 150_000, 3))
    else:  # the first 256, found without reading all 150,000 rows
        assert dropna["dropped_labels"] == list(range(0, 768, 3))


SECRET = """\
import pandas as pd
df = pd.read_csv("people.csv")
first = df["name"].iloc[0]
df = df.set_index("name").dropna()
df = df[df["v"] > df["v"].min()]
same = df[df.index == first]
df.to_csv("out.csv")
print(df.shape, len(same))
"""


def test_no_data_values_reach_the_log(tmp_path):
    # GIVEN data holding a secret, used as an index, a label and a comparison operand
    (tmp_path / "people.csv").write_text(
        "name,v\nzebulon-sv,4711.5\nbob-sv,\nann-sv,8123.25\ncy-sv,9377.75\n"
    )
    (tmp_path / "secret.py").write_text(SECRET)
    r = run_traced(["secret.py"], tmp_path)
    assert r.returncode == 0, r.stderr
    raw = r.log.read_bytes()
    # THEN none of the data's values are in the log, which only its owner can read
    for value in (b"zebulon-sv", b"bob-sv", b"ann-sv", b"cy-sv", b"4711", b"8123", b"9377"):
        assert value not in raw, value
    assert (r.log.stat().st_mode & 0o777) == 0o600


def test_a_pipeline_unlike_the_demo(tmp_path):
    shutil.copy(SCRIPTS / "orders_pipeline.py", tmp_path)
    plain = subprocess.run([sys.executable, "orders_pipeline.py"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    for f in ("orders.json", "summary.json", "preds.npz"):
        (tmp_path / f).unlink()
    r = run_traced(["orders_pipeline.py"], tmp_path)
    assert r.returncode == plain.returncode == 0, r.stderr
    assert r.stdout == plain.stdout
    doc = export_json(r.log)
    # groupby objects are nodes, so an aggregation links back to the frame
    (agg,) = ops_named(doc, "groupby.agg")
    producer = next(op for op in doc["ops"] if agg["inputs"][0] in op["outputs"])
    assert producer["op"] == "groupby" and producer["params"]["by"] == "['region', 'channel']"
    (merge,) = ops_named(doc, "merge")
    assert len(merge["inputs"]) == 2 and merge["cols_added"] == ["region", "age"]
    (split,) = ops_named(doc, "train_test_split")
    assert len(split["outputs"]) == 4 and split["rows_dropped"] is None
    (cv,) = ops_named(doc, "cross_val_score")
    assert split["outputs"][0] in cv["inputs"]
    (z,) = [op for op in ops_named(doc, "filter") if op["filter_columns"] == ["z"]]
    assert z["rows_dropped"] == z["rows_in"] - z["rows_out"] > 0
    assert sorted((f["relpath"], f["mode"]) for f in doc["files"]) == [
        ("orders.json", "read"), ("orders.json", "write"), ("preds.npz", "write")
    ]
