"""The views of a short run with a loop, as a user runs them: what repeats is folded at every
size, so a thousand rounds fit a screen (and a Mermaid renderer) as one round does.

The script really runs, traced, in a subprocess: a loop of 1,000 rounds of two pandas lines
(`fillna`, and a row filter that drops one row a round), 4,002 ops in all, far below the
threshold where long logs were folded before (lineage/fold.py `FOLD_ABOVE`). Every view must
stay a few dozen lines that name both ops with ×1,000 and the rows dropped in all; the JSON
export must still list every op. Numbers are written with the renderer's own formatting.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import Lines, export_json, ops_named, run_traced, start
from support import run_cli as tracer

from tracer.lineage.fold import FOLD_ABOVE
from tracer.renderers.text import MINUS, TIMES, num, plural

ROUNDS = 1_000
LOOP = f"""\
import os, sys, time
import numpy as np
import pandas as pd

df = pd.DataFrame({{"a": np.arange(2000.0), "b": np.where(np.arange(2000) % 7, 1.0, np.nan)}})
for i in range({ROUNDS}):
    df = df.fillna(0)
    df = df[df.a > i]  # drops the row whose a is i: one a round
if len(sys.argv) > 1:  # a follow test says when to go on
    deadline = time.monotonic() + 120
    while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
        time.sleep(0.02)
df.to_csv("out.csv")
"""
TIMES_ROUNDS = f"{TIMES}{num(ROUNDS)}"  # ×1,000
DROPPED = f"{MINUS}{plural(ROUNDS, 'row')} in all"  # −1,000 rows in all
WIDTH = "120"


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("loop")
    (cwd / "loop.py").write_text(LOOP)
    run = run_traced(["loop.py"], cwd, log="loop.tlog")
    assert run.returncode == 0, run.stderr
    return cwd


@pytest.fixture(scope="module")
def n_ops(loop: Path) -> int:
    """Every op the log holds, as the JSON export lists them."""
    return len(export_json(loop / "loop.tlog")["ops"])


def view(cwd: Path, *args: str) -> list[str]:
    p = tracer(*args, cwd=cwd)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    return p.stdout.splitlines()


def row(lines: list[str], name: str) -> str:
    """The one line that draws op `name`, folded."""
    (line,) = [x for x in lines if re.search(rf"(^|[ ─])(↻ )?{name}  (#\d+  )?×", x)]
    return line


def test_the_log_is_short_and_every_op_is_exported(loop: Path, n_ops: int):
    # GIVEN the traced loop WHEN exported as JSON THEN every op of every round is there
    doc = export_json(loop / "loop.tlog")
    assert len(ops_named(doc, "fillna")) == len(ops_named(doc, "filter")) == ROUNDS
    assert 2 * ROUNDS < n_ops < FOLD_ABOVE


def test_show_folds_the_loop(loop: Path, n_ops: int):
    # WHEN it is shown THEN one row per call site: the ops of all rounds, their rows dropped
    lines = view(loop, "show", "loop.tlog", "--width", WIDTH)
    assert len(lines) < 40, "\n".join(lines)
    assert lines[0].startswith("loop.py  ·  ok  ·  ")
    assert lines[0].endswith(f"  ·  {plural(n_ops, 'op')}")
    assert lines[1].startswith(f"folded: {plural(n_ops, 'op')} from ")
    assert TIMES_ROUNDS in row(lines, "fillna")
    filter_row = row(lines, "filter")
    assert TIMES_ROUNDS in filter_row and DROPPED in filter_row
    assert "↻ back to fillna" in "\n".join(lines)  # the loop goes round
    assert "to_csv  1,000 × 2 → out.csv" in "\n".join(lines)


@pytest.mark.parametrize("how", [["--group", "function"], ["--artifact", "out.csv"]])
def test_the_other_trees_fold_the_loop(loop: Path, how: list[str]):
    lines = view(loop, "show", "loop.tlog", "--width", WIDTH, *how)
    assert len(lines) < 40, "\n".join(lines)
    assert TIMES_ROUNDS in row(lines, "fillna")
    assert DROPPED in row(lines, "filter")


def test_the_artifact_comes_from_the_data_made_before_the_loop(loop: Path):
    # the columns of what the loop made come, round after round, from the frame it started on
    lines = view(loop, "show", "loop.tlog", "--width", WIDTH, "--artifact", "out.csv")
    sources = lines[[x.strip() for x in lines].index("Sources") + 1 :]
    assert sources[0].strip() == "ndarray 2,000  origin not recorded"


def test_summary_lists_the_loop_per_site(loop: Path):
    lines = view(loop, "summary", "loop.tlog", "--width", WIDTH)
    assert lines[3].rstrip() == (
        f"Rows filtered     {plural(ROUNDS, 'op')} dropped rows: filter {TIMES_ROUNDS} "
        f"{MINUS}{num(ROUNDS)} :8"
    )


def test_pictures_stay_small(loop: Path):
    # WHEN exported as Mermaid THEN a few boxes (mermaid-cli refuses 9,000 lines), both ops named
    mermaid = view(loop, "export", "loop.tlog", "--to", "mermaid")
    assert len(mermaid) < 100
    boxes = [x for x in mermaid if re.match(r"^    op\d+\[", x)]
    assert len(boxes) < 10
    assert any("fillna" in b and TIMES_ROUNDS in b for b in boxes)
    assert any(b.startswith("    op") and "filter" in b and DROPPED in b for b in boxes)
    assert any(re.match(r'^    op\d+ -->\|"loop"\| op\d+$', x) for x in mermaid)
    # AND as DOT
    dot = view(loop, "export", "loop.tlog", "--to", "dot")
    nodes = [x for x in dot if "[label=" in x]
    assert len(dot) < 100 and len(nodes) < 20
    assert any("fillna" in x and TIMES_ROUNDS in x for x in nodes)
    assert any("filter" in x and DROPPED in x for x in nodes)
    # AND as HTML and SVG: the tree `tracer show` draws
    html = view(loop, "export", "loop.tlog", "--to", "html")
    assert len(html) < 100 and "fillna" in "\n".join(html)
    svg = "\n".join(view(loop, "export", "loop.tlog", "--to", "svg"))
    assert len(svg) < 100_000 and svg.count("fillna") <= 3
    assert svg.count("1,000") < 20


def test_replay_folds_the_loop(loop: Path, n_ops: int):
    lines = view(loop, "replay", "loop.tlog", "--speed", "0", "--width", WIDTH)
    assert len(lines) < 40, "\n".join(lines)
    assert TIMES_ROUNDS in row(lines, "fillna")
    assert DROPPED in row(lines, "filter")
    assert lines[-1].startswith(f"■ run ended: ok  ·  {plural(n_ops, 'op')}  ·  1 file")


def test_follow_folds_the_loop_as_it_runs(tmp_path: Path):
    # GIVEN the loop, traced, that waits after its last round until the test says go
    (tmp_path / "loop.py").write_text(LOOP)
    go = tmp_path / "go"
    script = start(["run", "-o", "loop.tlog", "loop.py", str(go)], tmp_path)
    follower = start(
        ["replay", "--follow", "loop.tlog", "--width", WIDTH, "--wait", "60"], tmp_path
    )
    try:
        out = Lines(follower)
        # WHEN the follower has printed the first two rounds, op by op
        out.wait_for(r"^ *\d+\.\d\ds  filter  2,000 × 2 → 1,999 × 2  −1 row")
        out.wait_for(r"^ *\d+\.\d\ds  filter  1,999 × 2 → 1,998 × 2  −1 row")
        # THEN the others are folded: once the script moves on, one ↻ row per site says all
        go.touch()
        filter_row = out.wait_for(r"↻ filter  ")
        assert TIMES_ROUNDS in filter_row and DROPPED in filter_row
        out.wait_for(r"to_csv  1,000 × 2 → out.csv")
        out.wait_for(r"^■ run ended: ok")
        lines = out.to_the_end()
        assert follower.wait(timeout=120) == 0 and script.wait(timeout=120) == 0
        assert len(lines) < 40, "\n".join(lines)
        assert TIMES_ROUNDS in row(lines, "fillna")
        assert sum("fillna" in x for x in lines) == 3  # two rounds, then the row of them all
    finally:
        for proc in (script, follower):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
