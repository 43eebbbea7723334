"""The terminal views, rendered at a fixed width with colour off and compared with gold text.

The logs come from real runs: the housing demo and a small shop pipeline (merge, groupby,
rename, setitem, astype, sort, concat), each traced once per module in a subprocess, in a
temporary directory holding a copy of the scripts and data (so every path in the views is
relative and the gold holds no machine's paths). Times, dates, run ids and content hashes
that may differ between runs are scrubbed.

To regenerate the gold files after an intended change: TRACER_UPDATE_GOLD=1 pytest <this file>.
"""

from __future__ import annotations

import difflib
import io
import os
import re
from typing import Any

import pytest
from rich.console import Console
from support import ROOT, run_traced, traced_demo

from tracer.lineage.load import load
from tracer.lineage.processors import ColumnLineage, Flow, find_artifact
from tracer.renderers import dot, mermaid, openlineage
from tracer.renderers import text as tx
from tracer.renderers.live import Replayer
from tracer.renderers.summary import Counts, RunSummary, run_summary
from tracer.renderers.tree import ArtifactTree, GroupedTree, LineageTree, OpLine

GOLD = ROOT / "tests" / "gold"
WIDTH = 100

SHOP = """\
import pandas as pd

orders = pd.DataFrame({"order_id": [1, 2, 3, 4, 5, 6],
                       "customer": ["a", "b", "a", "c", "b", None],
                       "amount": [10.0, 25.5, None, 7.25, 99.0, 3.0]})
orders.to_csv("orders.csv", index=False)
customers = pd.DataFrame({"customer": ["a", "b", "c"], "region": ["north", "south", "north"]})
customers.to_csv("customers.csv", index=False)


def load():
    return pd.read_csv("orders.csv"), pd.read_csv("customers.csv")


def prepare(o, c):
    o = o.dropna(subset=["customer"])
    o = o.rename(columns={"amount": "total"})
    o["total"] = o["total"].fillna(0)
    o = o.astype({"order_id": "int32"})
    return o.merge(c, on="customer", how="left")


o, c = load()
m = prepare(o, c)
by_region = m.groupby("region")["total"].sum().reset_index()
by_region = by_region.sort_values("total", ascending=False)
both = pd.concat([m, m.head(2)], ignore_index=True)
by_region.to_csv("by_region.csv", index=False)
both.to_json("both.json")
"""

# What a new user's small script does that the views worded badly (one line each, see the tests)
WORDS = """\
import pickle
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split

start = pd.to_datetime("2024-01-01")  # a literal in, a Timestamp out: no data tracer follows
end = pd.to_datetime("2024-12-31")
blob = pickle.dumps({"a": 1})
df = pd.DataFrame({"when": ["2024-02-01", "2023-12-01"] * 10, "x": range(20), "y": range(20)})
df["when"] = pd.to_datetime(df["when"])  # this one converts a tracked column
df = df[df["when"] > start]
X, y = df[["x"]], df["y"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
model = LinearRegression()
model.fit(X_train, y_train)  # one model, made then fitted: two versions of one object
"""

_SCRUBS = [
    (re.compile(r"\b\d+(\.\d+)? (s|ms|µs)\b"), "<DURATION>"),
    (re.compile(r"\b\d+ min \d+ s\b"), "<DURATION>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"), "<DATE>"),
    (re.compile(r"\b\d{14}-[0-9a-f]{8}\b"), "<RUN-ID>"),
    (re.compile(r"(xxh3_128) [0-9a-f]{8}"), r"\1 <HASH>"),
    (re.compile(r"^ *\d+\.\d\ds ", re.M), "<T> "),
    (re.compile(r"Python \d+\.\d+\.\d+  ·  (sysmon|setprofile|ctrace)"), "<PYTHON>  ·  <BACKEND>"),
]


def scrub(text: str, lineage: Any = None) -> str:
    """Scrub what differs between runs; with `lineage`, also the sizes of the files the run
    wrote (their bytes are the libraries' choice: float digits, pickle versions). A size is
    scrubbed only where the view shows the size of the file on disk, after its name: a view
    that printed a wrong size keeps its number and fails."""
    for pattern, repl in _SCRUBS:
        text = pattern.sub(repl, text)
    lines = text.splitlines()
    for rel, shown in written_sizes(lineage).items():
        # the size, and the padding after it that its width decides
        name = rf"({re.escape(rel)}(?:  |  \S+ · ))"
        pattern = re.compile(name + re.escape(shown) + r"( {2,}(?=\S))?")
        lines = [
            pattern.sub(lambda m: f"{m[1]}<SIZE>{'  ' if m[2] else ''}", line) for line in lines
        ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def written_sizes(lineage: Any) -> dict[str, str]:
    """{path as the views show it: the size of the file on disk, as the views write sizes}."""
    if lineage is None:
        return {}
    out = {}
    for f in lineage.files:
        path = os.path.join(lineage.run.cwd, f.path)
        if f.mode == "write" and os.path.exists(path):
            out[f.relpath] = tx.size(os.path.getsize(path))
    return out


def render(renderable: object, width: int = WIDTH) -> str:
    console = Console(
        file=io.StringIO(),
        width=width,
        color_system=None,
        highlight=False,
        legacy_windows=False,
        _environ={},
    )
    console.print(renderable)
    out = console.file
    assert isinstance(out, io.StringIO)
    return out.getvalue()


def check_gold(name: str, actual: str) -> None:
    path = GOLD / name
    if os.environ.get("TRACER_UPDATE_GOLD"):
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8") if path.exists() else ""
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), actual.splitlines(True), f"gold/{name}", "actual"
            )
        )
        pytest.fail(f"{name} differs from the gold file (TRACER_UPDATE_GOLD=1 to accept):\n{diff}")


@pytest.fixture(scope="module")
def housing(tmp_path_factory: pytest.TempPathFactory):
    return load(traced_demo(tmp_path_factory) / ".tracer" / "runs" / "demo.tlog")


def traced_script(tmp_path_factory: pytest.TempPathFactory, name: str, source: str):
    """The lineage of `source` run as NAME.py, traced in a directory of its own."""
    cwd = tmp_path_factory.mktemp(name)
    (cwd / f"{name}.py").write_text(source)
    result = run_traced([f"{name}.py"], cwd)
    assert result.returncode == 0, result.stderr
    return load(result.log)


@pytest.fixture(scope="module")
def words(tmp_path_factory: pytest.TempPathFactory):
    return traced_script(tmp_path_factory, "words", WORDS)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory):
    return traced_script(tmp_path_factory, "shop", SHOP)


# -- gold -------------------------------------------------------------------------------------


def test_housing_tree(housing):
    # GIVEN the housing demo's log WHEN it is drawn as a tree THEN it matches the gold text
    check_gold("viewer_housing_tree.txt", scrub(render(LineageTree(housing).render()), housing))


def test_housing_by_function(housing):
    check_gold(
        "viewer_housing_by_function.txt", scrub(render(GroupedTree(housing).render()), housing)
    )


def test_housing_summary(housing):
    check_gold("viewer_housing_summary.txt", scrub(render(RunSummary(housing).render()), housing))


def test_housing_artifact_model_file(housing):
    # GIVEN the demo WHEN asked where model.joblib came from THEN the walk ends at housing.csv
    art = find_artifact(housing, "housing_out/model.joblib")
    assert art is not None and art.file is not None
    text = scrub(render(ArtifactTree(housing, art).render()), housing)
    check_gold("viewer_housing_artifact.txt", text)
    assert "\u2190 examples/data/housing.csv" in text
    assert "(target)" in text and "median_house_value" in text


def test_housing_replay(housing):
    console = Console(
        file=io.StringIO(),
        width=WIDTH,
        color_system=None,
        highlight=False,
        legacy_windows=False,
        _environ={},
    )
    pauses: list[float] = []
    assert Replayer(console, housing, speed=1.0, sleep=pauses.append).run() == 0
    assert pauses and all(0 <= p <= 2.0 for p in pauses)
    out = console.file
    assert isinstance(out, io.StringIO)
    check_gold("viewer_housing_replay.txt", scrub(out.getvalue(), housing))


def test_shop_tree(shop):
    check_gold("viewer_shop_tree.txt", scrub(render(LineageTree(shop).render()), shop))


def test_run_summary_is_short(housing):
    # GIVEN the demo WHEN `tracer run` ends THEN its summary is a handful of lines
    text = scrub(render(run_summary(housing), width=80), housing)
    check_gold("viewer_housing_run_summary.txt", text)
    assert len(text.splitlines()) <= 7


# -- layout -----------------------------------------------------------------------------------


def test_tree_fits_narrow_consoles(housing):
    # GIVEN a narrow console WHEN the tree is drawn THEN no line is wider than the console
    for width in (60, 80, 140):
        for line in render(LineageTree(housing).render(), width=width).splitlines():
            assert len(line) <= width


def test_op_line_right_side_goes_flush_right():
    from rich.text import Text

    line = OpLine(Text("dropna  −207 rows"), Text("clean  :39"), Text(":39"))
    assert render(line, width=40) == "dropna  −207 rows" + " " * 13 + "clean  :39\n"
    # too narrow for the long right side: the short one
    assert render(line, width=22) == "dropna  −207 rows  :39\n"


def test_every_op_is_drawn_once(housing):
    # GIVEN the demo WHEN drawn THEN each top-level op heads exactly one line (others are ↪)
    text = render(LineageTree(housing).render(), width=200)
    flow = Flow.of(housing)
    drawn = [line for line in text.splitlines() if "\u21aa" not in line and "\u2504" not in line]
    sites = [f":{op.callsite.line}" for op in flow.top if op.callsite is not None]
    assert sum(1 for line in drawn if re.search(r":\d+$", line)) == len(sites)


def views(lineage) -> dict[str, Any]:
    """Every view a user prints, by the name of the command that prints it."""
    model = find_artifact(lineage, "LinearRegression")
    assert model is not None
    return {
        "show": LineageTree(lineage).render(),
        "show --group function": GroupedTree(lineage).render(),
        "summary": RunSummary(lineage).render(),
        "run (closing summary)": run_summary(lineage),
        "show --artifact LinearRegression": ArtifactTree(lineage, model).render(),
    }


@pytest.mark.parametrize("width", [40, 57, 80, 100, 140])
def test_no_line_of_any_view_ends_with_spaces(housing, width):
    # GIVEN the demo WHEN each view is drawn (nothing scrubbed) THEN no line ends in spaces:
    # they are what a user copies a path from, and rich pads table cells with them
    predictions = find_artifact(housing, "03_predictions.csv")
    assert predictions is not None
    all_views = {**views(housing), "show --artifact": ArtifactTree(housing, predictions).render()}
    for name, view in all_views.items():
        for line in render(view, width=width).splitlines():
            assert line == line.rstrip(), f"{name} at {width}: {line!r}"
            assert len(line) <= width, f"{name} at {width}: {line!r}"


@pytest.mark.parametrize("width", [40, 50, 64, 80, 100])
def test_summaries_wrap_paths_and_never_cut_them(housing, width):
    # GIVEN the demo, whose paths are up to 30 characters long
    paths = [tx.file_text(f, housing) for f in housing.files]
    for view in (RunSummary(housing).render(), run_summary(housing)):
        # WHEN a summary is drawn at any width from 40
        lines = render(view, width=width).splitlines()
        text = "\n".join(lines)
        # THEN no path is cut short: each is whole, or broken after a slash across lines
        assert tx.ELLIPSIS not in text
        for path in paths:
            if width >= 80:  # a terminal's usual width: every path on one line, to copy
                assert any(path in line for line in lines), (path, text)
            else:
                whole_or_broken_after_slashes = "/(?:\n *)?".join(map(re.escape, path.split("/")))
                assert re.search(whole_or_broken_after_slashes, text), (path, text)


def test_wrap_breaks_a_path_after_a_slash():
    from rich.text import Text

    from tracer.renderers.layout import wrap

    text = Text("to_csv  18,378 × 10 → housing_out/01_cleaned.csv  1.3 MB")
    # a path that fits a line of its own goes there whole
    assert [t.plain for t in wrap(text, 30)] == [
        "to_csv  18,378 × 10 →",
        "housing_out/01_cleaned.csv",
        "1.3 MB",
    ]
    # one longer than a line breaks after a slash, not anywhere; later lines may be narrower
    assert [t.plain for t in wrap(text, 24, 22)] == [
        "to_csv  18,378 × 10 →",
        "housing_out/",
        "01_cleaned.csv  1.3 MB",
    ]
    # with no slash left, a word is folded (never cut)
    assert [t.plain for t in wrap(Text("abcdefghij"), 4)] == ["abcd", "efgh", "ij"]


# -- words a data scientist reads -------------------------------------------------------------


def test_one_fitted_model_is_one_model(words, housing):
    # GIVEN runs where a model is made, then fitted (two versions of one object)
    for lineage in (words, housing):
        # WHEN summarised THEN it is one model, and each DataFrame is counted once too
        assert Counts.of(lineage).tracked["model"] == 1
        text = render(RunSummary(lineage).render())
        assert "\u00b7 1 model" in text and "models" not in text.splitlines()[1]
    frames = {n.object for n in housing.nodes.values() if n.kind == "DataFrame"}
    assert f"tracked  36 ops · {len(frames)} DataFrames" in render(run_summary(housing), 100)


def test_arrays_split_alongside_are_no_masks(words, housing):
    # GIVEN y given to train_test_split with X
    split = next(op for op in words.ops if op.op == "train_test_split")
    # WHEN drawn THEN y refers to the split as a plain input, not "as mask"
    text = render(LineageTree(words).render())
    assert f"\u21aa train_test_split #{split.seq}\n" in text
    assert f"train_test_split #{split.seq}  as mask" not in text
    # and no column of y chose the split's rows (it is random)
    cl = ColumnLineage(words)
    for nid in split.outputs:
        assert not [o for o in cl.of(nid).indirect if o.field == "y"], nid
    # while a boolean Series that filters rows still is a mask
    assert "as mask" in render(LineageTree(housing).render())
    mask_filter = next(op for op in words.ops if op.op == "filter")
    assert f"\u21aa filter #{mask_filter.seq}  as mask" in text


def test_a_models_columns_are_the_features_it_was_trained_on(housing):
    # GIVEN the demo's model, saved to model.joblib WHEN asked where it came from
    for name in ("housing_out/model.joblib", "LinearRegression"):
        art = find_artifact(housing, name)
        assert art is not None
        text = render(ArtifactTree(housing, art).render())
        # THEN its columns are the features it was trained on, not "aggregations"
        table = text[text.index("Trained on") :]
        assert "aggregation" not in table.lower()
        assert re.search(r"^median_income +housing.csv: median_income$", table, re.M)
        assert re.search(r"^\(target\) +housing.csv: median_house_value$", table, re.M)
    # while the columns of data still say how they were made
    predictions = find_artifact(housing, "03_predictions.csv")
    assert predictions is not None
    text = render(ArtifactTree(housing, predictions).render())
    assert re.search(r"^actual +housing.csv: median_house_value +identity$", text, re.M)


def test_the_report_says_what_trained_a_saved_model(housing):
    from tracer.renderers.report import build_report

    # GIVEN the demo's report WHEN it tells where model.joblib came from
    blocks = build_report(housing).blocks
    at = blocks.index(("h", 3, "`housing_out/model.joblib`"))
    said = [b[1] for b in blocks[at + 1 : at + 4] if b[0] == "p"]
    # THEN it names the features the model was trained on, and its target
    assert "Trained on features from `examples/data/housing.csv`: `households`, " in said[1]
    assert said[1].endswith("; target from `examples/data/housing.csv`: `median_house_value`.")
    assert not [t for t in said if t.startswith("Made from")]


def test_only_a_model_has_features(housing, words):
    # GIVEN artifacts asked for by name: a model, and a DataFrame
    model = find_artifact(housing, "LinearRegression")
    frame = find_artifact(words, "DataFrame")
    assert model is not None and frame is not None
    # WHEN drawn THEN the model's inputs are features, the frame's are columns
    assert render(ArtifactTree(housing, model).render()).splitlines()[1] == (
        "LinearRegression  6 features"
    )
    head = render(ArtifactTree(words, frame).render()).splitlines()[1]
    assert head == "DataFrame  1 column"  # X_train: x


def test_calls_with_no_tracked_data_are_one_quiet_line_at_the_end(words):
    # GIVEN to_datetime of a literal (twice) and pickle.dumps of a dict
    lines = render(LineageTree(words).render()).splitlines()
    # WHEN drawn THEN none heads a lane of its own: one line at the end names them
    assert not [line for line in lines if line.startswith(("to_datetime", "pickle.dumps"))]
    assert lines[-1] == "3 calls with no tracked data: to_datetime \u00d72, pickle.dumps"
    # while the to_datetime that converted a tracked column stays in its lane
    assert any("to_datetime  20 \u2192 20  when: str \u2192 datetime64" in line for line in lines)
    # and the view grouped by function, which lists every call, still lists them
    grouped = render(GroupedTree(words).render())
    assert "to_datetime  #1  (no tracked data)" in grouped


# -- processors -------------------------------------------------------------------------------


def test_flow_homes_follow_the_data(housing):
    flow = Flow.of(housing)
    by_name = {}
    for op in flow.top:
        by_name.setdefault(op.op, []).append(op)
    fit = by_name["fit"][0]
    predict = by_name["predict"][0]
    # a filter hangs under the frame it filters, not under its mask
    first_filter = by_name["filter"][0]
    assert housing.op(flow.home[first_filter.seq]).op == "query"  # type: ignore[arg-type]
    # fit works on X_train (a filter), predict on the fitted model
    assert housing.op(flow.home[fit.seq]).op == "filter"  # type: ignore[arg-type]
    assert flow.home[predict.seq] == fit.seq
    # the unfitted model is made by its constructor, which fit refers to as its model
    (made,) = by_name["LinearRegression"]
    assert flow.references[made.seq] == [(fit.seq, "model")]


def test_column_lineage_through_the_shop(shop):
    cl = ColumnLineage(shop)
    final = next(f for f in shop.files if f.path.endswith("by_region.csv"))
    info = cl.of(final.node)
    orders = next(f.path for f in shop.files if f.path.endswith("orders.csv"))
    customers = next(f.path for f in shop.files if f.path.endswith("customers.csv"))
    total = {(o.source, o.field, o.how) for o in info.columns["total"]}
    assert total == {(orders, "amount", "AGGREGATION")}
    region = {(o.source, o.field, o.how) for o in info.columns["region"]}
    assert (customers, "region", "IDENTITY") in region
    shaped = {(o.source, o.field, o.how) for o in info.indirect}
    assert (orders, "customer", "JOIN") in shaped and (customers, "customer", "JOIN") in shaped
    assert (customers, "region", "GROUP_BY") in shaped
    assert (orders, "amount", "SORT") in shaped
    assert (orders, "customer", "FILTER") in shaped


def test_summary_counts(housing):
    c = Counts.of(housing)
    assert c.reads == 1 and c.writes == 4
    assert [op.op for op in c.filters][:3] == ["dropna", "query", "filter"]
    assert c.cols_added == 6


def test_find_artifact_by_model_name_and_file_name(housing):
    by_name = find_artifact(housing, "LinearRegression")
    assert by_name is not None and by_name.op is not None and by_name.op.op == "fit"
    by_base = find_artifact(housing, "02_features.csv")
    assert by_base is not None and by_base.file is not None and by_base.file.mode == "write"
    assert find_artifact(housing, "no_such_thing.csv") is None


# -- plain-text pieces and exporters ----------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "text"), [(0, "0 B"), (999, "999 B"), (1423529, "1.4 MB"), (1079, "1.1 kB")]
)
def test_sizes(n, text):
    assert tx.size(n) == text


def test_mermaid_escapes_everything_mermaid_reads():
    label = mermaid.escape('a "quoted" <b> #1 & `tick`')
    assert '"' not in label and "<" not in label and ">" not in label and "`" not in label
    assert label == "a #quot;quoted#quot; #lt;b#gt; #35;1 #amp; #96;tick#96;"


def test_dot_quotes():
    assert dot.quote('say "hi"\\now\n') == '"say \\"hi\\"\\\\now\\n"'


def test_openlineage_run_id_is_a_stable_uuid7(housing):
    import uuid

    a, b = openlineage.run_id(housing), openlineage.run_id(housing)
    assert a == b and uuid.UUID(a).version == 7


def test_scrub_takes_written_sizes_from_the_files_on_disk(tmp_path):
    # GIVEN a run that wrote out.csv (1,234 bytes on disk)
    from types import SimpleNamespace

    (tmp_path / "out.csv").write_bytes(b"x" * 1234)
    written = SimpleNamespace(relpath="out.csv", path="out.csv", mode="write")
    lineage = SimpleNamespace(run=SimpleNamespace(cwd=str(tmp_path)), files=[written])
    # WHEN a view shows its size THEN only the true size is scrubbed, with its padding
    assert (
        scrub("to_csv → out.csv  1.2 kB      main  :3", lineage)
        == "to_csv → out.csv  <SIZE>  main  :3\n"
    )
    assert (
        scrub("to_csv → out.csv  1.3 kB      main  :3", lineage)
        == "to_csv → out.csv  1.3 kB      main  :3\n"
    )
