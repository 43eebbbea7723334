"""The run store on real runs: three scripts run as three processes and linked by file
content (`why`), two runs compared op by op (`diff`), the index as a pure cache (deleted,
corrupt, rebuilt), concurrent runs indexing at once, `report` and `clear`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support import SCRIPTS, env, export_json, ops_named, run_cli

STORE = SCRIPTS / "store"


def tracer(args: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess:
    # (a registry of stores of its own: `why` asks no store of another test)
    extra = {"COLUMNS": "200", "TRACER_REGISTRY": str(cwd / ".stores"), **extra}
    return run_cli(*args, cwd=cwd, extra_env=extra, unset=("TRACER_HOME",))


def traced(cwd: Path, script: str, *args: str) -> None:
    p = tracer(["run", "-q", str(STORE / script), *args], cwd)
    assert p.returncode == 0, p.stderr


def make_raw(path: Path, change_cell: bool = False) -> None:
    extra = ["--change-cell"] if change_cell else []
    subprocess.run([sys.executable, str(STORE / "make_raw.py"), str(path), *extra], check=True)


def run_ids(cwd: Path) -> dict[str, str]:
    """script name -> run id, from the index (newest run of each script)."""
    assert tracer(["index"], cwd).returncode == 0  # sync, whether `run` indexed or not
    db = sqlite3.connect(cwd / ".tracer" / "index.sqlite")
    try:
        rows = db.execute("SELECT script, run_id FROM runs ORDER BY started").fetchall()
    finally:
        db.close()
    return {os.path.basename(s): r for s, r in rows}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    # GIVEN a raw CSV and three scripts, each its own traced process, linked only by files
    cwd = tmp_path_factory.mktemp("pipeline")
    make_raw(cwd / "raw.csv")
    (cwd / "data").mkdir()
    traced(cwd, "prepare.py", "raw.csv", "data/features.csv")
    traced(cwd, "train.py", "data/features.csv", "data/model.joblib")
    traced(cwd, "evaluate.py", "data/features.csv", "data/model.joblib", "data/eval.csv")
    p = tracer(["runs"], cwd)
    assert p.returncode == 0, p.stderr
    return cwd


def test_why_follows_the_evaluation_output_through_three_runs_to_the_raw_csv(pipeline):
    ids = run_ids(pipeline)
    # WHEN we ask where the evaluation output came from
    p = tracer(["why", "data/eval.csv"], pipeline)
    # THEN the tree names the three runs, their writes, and ends at the raw CSV nobody wrote
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert f"data/eval.csv was written by run {ids['evaluate.py']} (evaluate.py" in out
    lines = out.splitlines()
    runs = [line.strip("│├└─ ") for line in lines if " run 2" in line and "·" in line]
    assert [r.split()[0] for r in runs] == ["evaluate.py", "prepare.py", "train.py"]
    assert ids["prepare.py"] in out and ids["train.py"] in out
    assert "to_csv at evaluate.py:18 main()" in out
    assert "joblib.dump at train.py:17 main()" in out
    assert "raw.csv" in out and "raw input: no recorded run wrote it" in out
    assert "(explained above)" in out  # features.csv, read by train and evaluate alike
    # the raw CSV is the leaf, below prepare.py
    raw_line = next(i for i, line in enumerate(lines) if "raw input" in line)
    prep_line = next(i for i, line in enumerate(lines) if "prepare.py  run" in line)
    assert prep_line < raw_line


def test_why_on_a_raw_input_and_on_an_unknown_file(pipeline):
    p = tracer(["why", "raw.csv"], pipeline)
    assert p.returncode == 0, p.stderr
    assert "raw.csv was written by no recorded run: it is a raw input." in p.stdout
    assert "read by 1 run (latest: prepare.py" in p.stdout
    (pipeline / "notes.txt").write_text("hello\n")
    p = tracer(["why", "notes.txt"], pipeline)
    assert "was neither written nor read by any recorded run" in p.stdout
    p = tracer(["why", "missing.csv"], pipeline)
    assert p.returncode == 2 and "no such file: missing.csv" in p.stderr


def test_why_says_when_a_file_changed_after_the_run_that_wrote_it(tmp_path):
    make_raw(tmp_path / "raw.csv")
    traced(tmp_path, "prepare.py", "raw.csv", "features.csv")
    run_id = run_ids(tmp_path)["prepare.py"]
    with open(tmp_path / "features.csv", "a") as f:
        f.write("999,1,1,1,1\n")  # edited by hand, after the run
    p = tracer(["why", "features.csv"], tmp_path)
    assert p.returncode == 0, p.stderr
    out = " ".join(p.stdout.split())
    assert "features.csv changed after the run that wrote it: run " + run_id in out
    assert "No recorded run wrote its current content." in out
    assert "What the last recorded version came from:" in out


def test_diff_names_the_first_divergent_op_and_exits_1_identical_runs_exit_0(tmp_path):
    # GIVEN two runs on the same input, then one on an input with one cell changed
    make_raw(tmp_path / "raw.csv")
    traced(tmp_path, "prepare.py", "raw.csv", "features.csv")
    traced(tmp_path, "prepare.py", "raw.csv", "features.csv")
    same = tracer(["diff", "latest~1", "latest"], tmp_path)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "equivalent: 11 ops aligned by call site" in same.stdout
    make_raw(tmp_path / "raw.csv", change_cell=True)
    traced(tmp_path, "prepare.py", "raw.csv", "features.csv")
    # WHEN the last two runs are compared
    p = tracer(["diff", "latest~1", "latest"], tmp_path)
    # THEN it names the read of the changed file as the first divergence, and what follows
    assert p.returncode == 1, p.stdout + p.stderr
    out = p.stdout
    assert ("different: prepare.py line 9: read_csv reads raw.csv with different content; "
            "10 ops downstream see different values, same row counts") in out
    assert "prepare.py line 9, in main():\n    raw = pd.read_csv(raw_path)\n" in out
    assert "  • read_csv: input file raw.csv: different content (xxh3_128:" in out
    assert "Downstream: 10 ops at lines 10–14: dropna, getitem, gt, filter, assign" in out
    assert "features.csv: written with different content" in out
    # a run compared with itself, by log path, is equivalent
    logs = sorted((tmp_path / ".tracer" / "runs").glob("*.tlog"))
    assert tracer(["diff", str(logs[0]), str(logs[0])], tmp_path).returncode == 0
    # two log files and no store at all: compared as they are, and no store is made
    bare = tmp_path / "bare"
    bare.mkdir()
    p = tracer(["diff", str(logs[-2]), str(logs[-1])], bare)
    assert p.returncode == 1 and "prepare.py line 9: read_csv reads raw.csv" in p.stdout
    assert not (bare / ".tracer").exists()
    bad = tracer(["diff", "nosuchrun", "latest"], tmp_path)
    assert bad.returncode == 2 and "no run 'nosuchrun'" in bad.stderr


FILTERED = """\
import pandas as pd

raw = pd.read_csv("raw.csv")
df = raw[raw["price"] > LIMIT]
df = df.assign(per_person=lambda d: d["price"] / d["people"])
df = df.rename(columns={"price": "target"})
df.to_csv("filtered.csv", index=False)
"""


def test_diff_after_editing_a_filter_names_the_line_the_rows_and_the_downstream_effect(tmp_path):
    # GIVEN a script run with `price > 150`, then again after editing that line to `> 170`
    make_raw(tmp_path / "raw.csv")
    script = tmp_path / "filtered.py"
    script.write_text(FILTERED.replace("LIMIT", "150"))
    assert tracer(["run", "-q", str(script)], tmp_path).returncode == 0
    script.write_text(FILTERED.replace("LIMIT", "170"))
    assert tracer(["run", "-q", str(script)], tmp_path).returncode == 0
    prices = [int(line.split(",")[3]) for line in (tmp_path / "raw.csv").read_text().split()[1:]]
    kept_a, kept_b = sum(p > 150 for p in prices), sum(p > 170 for p in prices)
    fewer = kept_a - kept_b
    assert fewer > 0
    # WHEN the two runs are compared
    p = tracer(["diff", "latest~1", "latest"], tmp_path)
    # THEN one sentence names the line, what its filter now does and the effect downstream
    assert p.returncode == 1, p.stdout + p.stderr
    out = p.stdout
    assert (f"different: filtered.py line 4 changed: the filter now drops {fewer} more rows; "
            f"everything downstream has {fewer} fewer rows\n") in out
    # the edited line as it was and as it is, the parameter and the rows kept
    assert ('filtered.py line 4, in <module>():\n'
            '    A df = raw[raw["price"] > 150]\n'
            '    B df = raw[raw["price"] > 170]\n'
            '  • gt: other 150 → 170; different values\n'
            f'  • filter: keeps {kept_b} of {len(prices)} rows (was {kept_a})\n') in out
    # downstream summarised in one line, not one line per op
    assert "Downstream: 6 ops at lines 5–7: assign, getitem, truediv, rename, to_csv\n" in out
    assert "filtered.csv: written with different content" in out
    # and nothing is reported as an op only one run made
    for wrong in ("only in", "not caused by", "later ops differ"):
        assert wrong not in out, out


def test_deleting_the_index_loses_nothing(pipeline):
    before = tracer(["runs"], pipeline)
    index = pipeline / ".tracer" / "index.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(str(index) + suffix).unlink(missing_ok=True)
    after = tracer(["runs"], pipeline)
    assert after.returncode == 0, after.stderr
    assert after.stdout == before.stdout
    assert after.stderr == ""  # a missing index is simply built: runs do not make it
    assert index.exists() and (index.stat().st_mode & 0o777) == 0o600
    assert "raw input" in tracer(["why", "data/eval.csv"], pipeline).stdout


@pytest.mark.parametrize("damage", ["garbage", "schema"])
def test_a_corrupt_or_foreign_index_is_rebuilt(pipeline, damage):
    before = tracer(["runs"], pipeline).stdout
    index = pipeline / ".tracer" / "index.sqlite"
    if damage == "garbage":
        for suffix in ("-wal", "-shm"):
            Path(str(index) + suffix).unlink(missing_ok=True)
        index.write_bytes(b"this is not a database at all\n" * 200)
    else:
        db = sqlite3.connect(index)
        db.execute("PRAGMA user_version = 999")
        db.close()
    p = tracer(["runs"], pipeline)
    assert p.returncode == 0, p.stderr
    assert p.stdout == before
    assert p.stderr.count("\n") == 1 and "was rebuilt from the logs" in p.stderr
    assert tracer(["runs"], pipeline).stderr == ""  # once


def test_index_rebuild_command(pipeline):
    p = tracer(["index", "--rebuild"], pipeline)
    assert p.returncode == 0, p.stderr
    assert "index rebuilt: 3 runs" in p.stderr


def test_four_concurrent_runs_leave_a_consistent_index(tmp_path):
    make_raw(tmp_path / "raw.csv")
    home = tmp_path / ".tracer"
    # GIVEN four traced runs at once, each indexing its log at its end and syncing after
    procs = [
        subprocess.Popen([sys.executable, str(STORE / "concurrent_run.py"), str(k), "raw.csv"],
                         cwd=tmp_path, env=env(TRACER_HOME=str(home)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for k in range(4)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, results
    # THEN the index holds each run once, with its files, and a rebuild finds the same
    db = sqlite3.connect(home / "index.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        logs = sorted(r[0] for r in db.execute("SELECT log FROM runs"))
        assert [os.path.basename(x) for x in logs] == [f"worker-{k}.tlog" for k in range(4)]
        files = sorted(db.execute(
            "SELECT r.run_id, f.path, f.mode, f.hash FROM files f JOIN runs r ON r.id = f.run"))
        assert len(files) == 8
        assert db.execute("SELECT count(*) FROM derivations").fetchone()[0] == 4
    finally:
        db.close()
    assert tracer(["index", "--rebuild", "--home", str(home)], tmp_path).returncode == 0
    db = sqlite3.connect(home / "index.sqlite")
    try:
        again = sorted(db.execute(
            "SELECT r.run_id, f.path, f.mode, f.hash FROM files f JOIN runs r ON r.id = f.run"))
    finally:
        db.close()
    assert again == files
    p = tracer(["runs", "--home", str(home)], tmp_path)
    assert p.stdout.count("prepare.py") == 4


def test_report_shows_sources_steps_provenance_and_training_data(pipeline):
    ids = run_ids(pipeline)
    p = tracer(["report", ids["train.py"]], pipeline)
    assert p.returncode == 0, p.stderr
    md = p.stdout
    doc = export_json(next(iter(sorted((pipeline / ".tracer" / "runs").glob("*-train.tlog")))),
                      pipeline)
    features = next(f for f in doc["files"] if f["mode"] == "read")
    (fit,) = ops_named(doc, "fit")
    assert md.startswith("# Run report: train.py\n")
    assert "## Sources" in md and f"`{features['hash']}`" in md
    assert f"written by run `{ids['prepare.py']}` (prepare.py" in md
    assert "## Steps" in md
    assert "| 5 | `filter` | train.py:14 main() | 194 → 145 | 49" in md
    assert "## Models and the data that trained them" in md
    assert "### `LinearRegression` fitted at train.py:16 main()" in md
    for nid in fit["inputs"][1:]:
        fp = next(n for n in doc["nodes"] if n["id"] == nid)["fingerprint"]
        assert f"`{fp}`" in md
    assert "Saved to `data/model.joblib`" in md
    assert "## What tracer could not see" in md
    # the evaluation's output columns, followed back to the features file
    ev = tracer(["report", ids["evaluate.py"]], pipeline).stdout
    assert "| `actual` | `data/features.csv`: `target` | copied |" in ev
    assert "| `error` |" in ev and "`assign` at evaluate.py:17 main()" in ev
    # and the prepared file's columns, back to the raw CSV
    prep = tracer(["report", ids["prepare.py"]], pipeline).stdout
    row = "| `rooms_per_person` | `raw.csv`: `people`, `rooms` | computed | `assign` at prepare.py"
    assert row in prep
    assert "| `target` | `raw.csv`: `price` | copied | renamed from `price` by `rename` at" in prep
    assert "Rows filtered on `raw.csv`: `rooms`." in prep
    assert "| 200 → 194 | 6" in prep  # rows removed by dropna
    html = tracer(["report", ids["train.py"], "--html"], pipeline).stdout
    assert html.startswith("<!DOCTYPE html>") and "<table>" in html and "<code>" in html


def test_clear_keeps_the_newest_runs(tmp_path):
    make_raw(tmp_path / "raw.csv")
    for _ in range(3):
        traced(tmp_path, "prepare.py", "raw.csv", "features.csv")
    logs = sorted((tmp_path / ".tracer" / "runs").glob("*.tlog"))
    p = tracer(["clear", "--keep", "1"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("removed .tracer/runs/") == 2
    assert "2 runs removed, 1 left" in p.stdout
    assert sorted((tmp_path / ".tracer" / "runs").glob("*.tlog")) == logs[-1:]
    assert tracer(["runs"], tmp_path).stdout.count("prepare.py") == 1
    p = tracer(["clear"], tmp_path)
    assert "1 run removed, 0 left" in p.stdout
