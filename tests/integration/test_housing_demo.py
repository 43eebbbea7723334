"""The housing demo, traced on every backend, against plain python and against the facts of
the pipeline: each step an op, with the right shapes, rows and files, and nothing from inside
pandas or scikit-learn."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import (
    EXAMPLES,
    backends,
    export_json,
    node,
    op_summary,
    ops_named,
    run_plain,
    run_traced,
)

DEMO = EXAMPLES / "housing_pipeline.py"


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("plain")
    p = run_plain([str(DEMO)], cwd)
    assert p.returncode == 0, p.stderr
    return cwd, p


@pytest.fixture(scope="module", params=backends())
def traced(request, tmp_path_factory):
    cwd = tmp_path_factory.mktemp(f"traced-{request.param}")
    r = run_traced([str(DEMO)], cwd, backend=request.param)
    assert r.returncode == 0, r.stderr
    return cwd, r, export_json(r.log)


def test_stdout_and_files_are_those_of_plain_python(plain, traced):
    (pcwd, p), (tcwd, r, _) = plain, traced
    # GIVEN the demo run plainly and traced, THEN stdout and every output file are identical
    assert r.stdout == p.stdout
    assert "tracer:" in r.stderr and p.stderr == ""
    names = sorted(f.name for f in (pcwd / "housing_out").iterdir())
    assert names == ["01_cleaned.csv", "02_features.csv", "03_predictions.csv", "model.joblib"]
    for name in names[:3]:
        assert (tcwd / "housing_out" / name).read_bytes() == (
            pcwd / "housing_out" / name
        ).read_bytes()


def test_run_facts(traced):
    _, r, doc = traced
    assert doc["format"] == "tracer-lineage/1"
    run = doc["run"]
    assert run["status"] == "ok" and run["exit_code"] == 0 and run["error"] is None
    assert run["script"] == str(DEMO)
    assert run["started"] and run["ended"]


def test_each_step_is_an_op_with_rows(traced):
    _, _, doc = traced
    (read,) = ops_named(doc, "read_csv")
    assert read["file"]["path"] == str(EXAMPLES / "data" / "housing.csv")
    assert read["shape_out"] == [[20640, 10]]
    (dropna,) = ops_named(doc, "dropna")
    assert (dropna["rows_in"], dropna["rows_out"], dropna["rows_dropped"]) == (20640, 20433, 207)
    assert dropna["inputs"] == read["outputs"]
    (query,) = ops_named(doc, "query")
    assert query["inputs"] == dropna["outputs"]
    assert "median_house_value < 500001" in query["params"]["expr"]
    assert query["rows_out"] < query["rows_in"]
    filters = ops_named(doc, "filter")
    outlier = filters[0]
    assert outlier["inputs"][0] == query["outputs"][0]  # df[df["population"] > 3]
    assert outlier["rows_dropped"] == outlier["rows_in"] - outlier["rows_out"] >= 1


def test_assign_lambdas_are_children_of_their_assign(traced):
    _, _, doc = traced
    assigns = [op for op in ops_named(doc, "assign") if op["parent"] is None]
    features = [op for op in assigns if len(op["params"]) == 1]
    assert [list(op["params"]) for op in features] == [
        ["rooms_per_household"],
        ["bedrooms_per_room"],
        ["population_per_household"],
        ["log_population"],
    ]
    for op, reads in zip(
        features,
        [
            ["total_rooms", "households"],
            ["total_bedrooms", "total_rooms"],
            ["population", "households"],
            ["population"],
        ],
    ):
        assert op["cols_added"] == list(op["params"])
        children = [c for c in doc["ops"] if c["parent"] == op["seq"]]
        keys = [c["params"]["key"].strip("'") for c in children if c["op"] == "getitem"]
        assert keys == reads
    (log1p,) = ops_named(doc, "np.log1p")
    assert log1p["parent"] == features[3]["seq"]


def test_model_is_linked_to_its_data_and_file(traced):
    _, _, doc = traced
    (fit,) = ops_named(doc, "fit")
    x_train, y_train = (node(doc, i) for i in fit["inputs"][1:])
    assert x_train["kind"] == "DataFrame" and x_train["shape"][1] == 6
    assert y_train["kind"] == "Series" and y_train["shape"][0] == x_train["shape"][0]
    (model_id,) = fit["outputs"]
    model = node(doc, model_id)
    assert model["kind"] == "model" and model["type"].endswith("LinearRegression")
    (predict,) = ops_named(doc, "predict")
    assert model_id in predict["inputs"]
    (dump,) = ops_named(doc, "joblib.dump")
    (model_file,) = [f for f in doc["files"] if f["op"] == dump["seq"]]
    assert model_file["node"] == model_id and model_file["mode"] == "write"
    assert model_file["size"] > 0 and model_file["hash"].startswith("xxh3_128:")
    # The model's ancestry reaches housing.csv through every step.
    producers = {nid: op for op in doc["ops"] for nid in op["outputs"]}
    seen, frontier, names = set(), [model_id], set()
    while frontier:
        nid = frontier.pop()
        op = producers.get(nid)
        if op is None or op["seq"] in seen:
            continue
        seen.add(op["seq"])
        names.add(op["op"])
        frontier.extend(op["inputs"])
    assert {"read_csv", "dropna", "query", "filter", "assign", "select_columns", "fit"} <= names


def test_files_read_and_written(traced):
    _, _, doc = traced
    modes = sorted((f["relpath"].split("/")[-1], f["mode"]) for f in doc["files"])
    assert modes == [
        ("01_cleaned.csv", "write"),
        ("02_features.csv", "write"),
        ("03_predictions.csv", "write"),
        ("housing.csv", "read"),
        ("model.joblib", "write"),
    ]
    for f in doc["files"]:
        assert Path(f["path"]).is_absolute() and f["size"] > 0 and f["hash"]


def test_no_library_internal_ops(traced):
    _, _, doc = traced
    for op in doc["ops"]:
        assert op["callsite"]["file"] == str(DEMO), op
        assert op["partial"] is False


def test_same_ops_on_every_backend_and_python(traced):
    _, _, doc = traced
    gold = Path(__file__).resolve().parent.parent / "gold" / "housing_ops.txt"
    lines = op_summary(doc)
    if os.environ.get("TRACER_REGEN_GOLD"):  # tools/regen_gold.sh, after a deliberate change
        gold.write_text("\n".join(lines) + "\n")
    assert lines == gold.read_text().splitlines()


def test_what_each_step_changed(traced):
    _, _, doc = traced
    (dropna,) = ops_named(doc, "dropna")
    # the 207 rows whose total_bedrooms is missing, by their row number in the raw file
    assert dropna["rows_dropped"] == 207 and len(dropna["dropped_labels"]) == 207
    assert dropna["dropped_labels"][:3] == [290, 341, 538]
    assert dropna["filter_columns"] == ["total_bedrooms"]
    (query,) = ops_named(doc, "query")
    assert query["filter_columns"] == ["median_house_value", "housing_median_age"]
    assert len(query["dropped_labels"]) == 256  # capped by default; --rows full keeps all
    outlier = ops_named(doc, "filter")[0]
    assert outlier["filter_columns"] == ["population"]
    derived = {}
    for op in ops_named(doc, "assign"):
        derived.update(op["derived_from"])
    assert derived["rooms_per_household"] == ["households", "total_rooms"]
    assert derived["bedrooms_per_room"] == ["total_bedrooms", "total_rooms"]
    assert derived["population_per_household"] == ["households", "population"]
    assert derived["log_population"] == ["population"]
    assert derived["residual"] == ["actual", "predicted"]
    (frame,) = ops_named(doc, "DataFrame")
    assert frame["derived_from"]["actual"] == ["median_house_value"]
    split = [op for op in ops_named(doc, "filter") if op["filter_columns"] == ["longitude"]]
    assert len(split) == 4  # X/y train/test by the longitude mask
