"""`tracer show`, `summary`, `replay` and `replay --follow` as a user runs them: real runs,
real subprocesses, exit statuses and the one-line errors for bad logs.

The follow tests never time anything: the traced script waits for a go-file between its ops,
and the test waits (with a generous cap, only so a bug cannot hang the suite) until the
follower has printed the first op before it lets the script go on.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
from support import Lines, run_traced, start, traced_demo
from support import run_cli as tracer

from tracer.events import format as logformat

ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*3[0-9](;[0-9;]*)?m|\x1b\[[0-9;]*38;")

STEPS = """\
import os, sys, time
import pandas as pd

go = sys.argv[1]

def wait_for(name):
    # the test creates this file once it has seen the op before: no timing involved
    deadline = time.monotonic() + 120
    while not os.path.exists(os.path.join(go, name)):
        if time.monotonic() > deadline:
            sys.exit("nobody said go")
        time.sleep(0.02)

df = pd.DataFrame({"a": [1, 2, None, 4], "b": ["x", "y", "z", "w"]})
df = df.dropna()
wait_for("1")
df = df.rename(columns={"b": "label"})
wait_for("2")
df.to_csv("steps_out.csv", index=False)
"""

RAISES = """\
import pandas as pd
df = pd.DataFrame({"a": [1, 2, 3]})
df = df.head(2)
raise RuntimeError("boom")
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return traced_demo(tmp_path_factory)


def assert_one_line_error(p: subprocess.CompletedProcess[str], *words: str) -> None:
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracer: error: "), p.stderr
    assert "Traceback" not in p.stderr
    for w in words:
        assert w in lines[0]


# -- show --------------------------------------------------------------------------------------


def test_show_latest_run(demo: Path):
    # GIVEN a traced demo WHEN `tracer show` runs without a log THEN it draws the latest run
    p = tracer("show", "--width", "100", cwd=demo)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("housing_pipeline.py  ·  ok")
    assert "examples/data/housing.csv" in p.stdout
    assert "dropna  20,640 × 10 → 20,433 × 10  −207 rows" in p.stdout
    assert "⤷ joblib.dump  LinearRegression → housing_out/model.joblib" in p.stdout
    assert p.stderr == ""


def test_show_artifact_walks_the_model_back_to_housing_csv(demo: Path):
    p = tracer("show", "--artifact", "housing_out/model.joblib", "--width", "120", cwd=demo)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[1].startswith("housing_out/model.joblib")
    assert lines[2].startswith("├── joblib.dump")
    assert any(line.startswith("├── fit") for line in lines)
    assert "└── read_csv" in p.stdout
    assert "    └── ← examples/data/housing.csv" in p.stdout
    assert "(target)                  housing.csv: median_house_value" in p.stdout


def test_show_artifact_by_model_name(demo: Path):
    p = tracer("show", "--artifact", "LinearRegression", "--width", "100", cwd=demo)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[2].startswith("├── fit")


def test_show_artifact_unknown(demo: Path):
    p = tracer("show", "--artifact", "nope.csv", cwd=demo)
    assert_one_line_error(p, "no file or model 'nope.csv'", "housing_out/model.joblib")


def test_show_group_function(demo: Path):
    p = tracer("show", "--group", "function", "--width", "100", cwd=demo)
    assert p.returncode == 0, p.stderr
    heads = [
        line.split()[0]
        for line in p.stdout.splitlines()[1:]
        if not line.startswith(("├", "│", "└", " "))
    ]
    assert heads == ["load()", "clean()", "main()", "engineer()"]


def test_summary_command_and_show_summary_agree(demo: Path):
    a = tracer("summary", "--width", "100", cwd=demo)
    b = tracer("show", "--summary", "--width", "100", cwd=demo)
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout
    for label in (
        "Data tracked",
        "Transformations",
        "Rows filtered",
        "Column changes",
        "Operations",
        "Files",
    ):
        assert label in a.stdout
    assert "housing_out/model.joblib" in a.stdout and "← LinearRegression" in a.stdout


def test_colour_follows_the_terminal_and_no_color(demo: Path):
    forced = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}
    coloured = tracer("show", "--width", "100", cwd=demo, extra_env=forced)
    assert ANSI_COLOUR.search(coloured.stdout)
    plain = tracer("show", "--width", "100", "--no-color", cwd=demo, extra_env=forced)
    assert not ANSI_COLOUR.search(plain.stdout)
    by_env = tracer("show", "--width", "100", cwd=demo, extra_env={**forced, "NO_COLOR": "1"})
    assert not ANSI_COLOUR.search(by_env.stdout)
    # and with no terminal at all, no escape codes whatsoever
    piped = tracer("show", "--width", "100", cwd=demo)
    assert "\x1b[" not in piped.stdout


def test_show_respects_width(demo: Path):
    p = tracer("show", "--width", "64", cwd=demo)
    assert p.returncode == 0
    assert max(len(line) for line in p.stdout.splitlines()) <= 64


@pytest.mark.parametrize("width", ["40", "80"])
def test_no_view_ends_a_line_with_spaces(demo: Path, width: str):
    # GIVEN the traced demo WHEN each view is printed THEN no line ends with spaces (a user
    # copies paths out of them) and none is wider than asked
    for args in (
        ["show"],
        ["summary"],
        ["show", "--group", "function"],
        ["show", "--artifact", "housing_out/model.joblib"],
    ):
        p = tracer(*args, "--width", width, cwd=demo)
        assert p.returncode == 0, p.stderr
        for line in p.stdout.splitlines():
            assert line == line.rstrip() and len(line) <= int(width), (args, line)


def test_summary_at_80_columns_shows_every_path_whole(demo: Path):
    # GIVEN the demo's files WHEN `tracer summary` prints at 80 columns
    p = tracer("summary", "--width", "80", cwd=demo)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    # THEN each path is on a line, whole, as a user would copy it: wrapped, not cut
    for path in (
        "examples/data/housing.csv",
        "housing_out/01_cleaned.csv",
        "housing_out/02_features.csv",
        "housing_out/03_predictions.csv",
        "housing_out/model.joblib",
    ):
        assert any(line.split() and line.split()[-1] == path for line in lines), p.stdout
    assert "\u2026" not in p.stdout


def test_run_ends_with_a_summary_without_trailing_spaces(tmp_path: Path):
    # GIVEN a script writing a file deep in a directory tree, run in a 40-column terminal
    (tmp_path / "deep.py").write_text(
        "import os\nimport pandas as pd\n"
        "os.makedirs('outputs/experiments/run_2024', exist_ok=True)\n"
        "pd.DataFrame({'a': [1, 2]}).to_csv('outputs/experiments/run_2024/table.csv')\n"
    )
    p = tracer("run", "-o", "run.tlog", "deep.py", cwd=tmp_path, extra_env={"COLUMNS": "40"})
    assert p.returncode == 0, p.stderr
    # WHEN it ends THEN its summary on stderr has the whole path, broken only after a slash
    lines = p.stderr.splitlines()
    assert not [line for line in lines if line != line.rstrip()], p.stderr
    assert "\u2026" not in p.stderr
    assert "  wrote    outputs/experiments/run_2024/\n           table.csv\n" in p.stderr


# -- bad logs ----------------------------------------------------------------------------------


def test_bad_logs(demo: Path, tmp_path: Path):
    log = demo / ".tracer" / "runs" / "demo.tlog"
    data = log.read_bytes()
    # a missing file
    assert_one_line_error(
        tracer("show", str(tmp_path / "missing.tlog"), cwd=tmp_path), "no such log"
    )
    # a file that is no tracer log
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    for command in ("show", "summary", "replay", "export"):
        assert_one_line_error(tracer(command, str(text), cwd=tmp_path), "not a tracer log")
    # a log of a newer major format
    newer = tmp_path / "newer.tlog"
    newer.write_bytes(logformat.MAGIC + bytes([logformat.FORMAT_MAJOR + 1, 0]) + data[10:])
    assert_one_line_error(tracer("show", str(newer), cwd=tmp_path), "newer tracer")
    # no runs at all
    assert_one_line_error(
        tracer("show", "--home", str(tmp_path / "empty"), cwd=tmp_path), "no runs found"
    )
    # a directory
    assert_one_line_error(tracer("show", str(tmp_path), cwd=tmp_path), "directory")


def test_truncated_log_shows_what_is_there(demo: Path, tmp_path: Path):
    # GIVEN the log of a run killed half way (its tail torn off)
    data = (demo / ".tracer" / "runs" / "demo.tlog").read_bytes()
    torn = tmp_path / "torn.tlog"
    torn.write_bytes(data[: len(data) // 2])
    # WHEN it is shown THEN what is there is drawn, with a warning, and the command succeeds
    p = tracer("show", str(torn), "--width", "100", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "did not finish" in p.stdout and "read_csv" in p.stdout
    warning = p.stderr.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("tracer: warning: ")
    assert "Traceback" not in p.stderr
    # the other readers behave the same
    for command in (["summary"], ["replay", "--speed", "0"], ["export", "--to", "mermaid"]):
        q = tracer(*command, str(torn), cwd=tmp_path)
        assert q.returncode == 0, q.stderr
        assert q.stderr.startswith("tracer: warning: ")


# -- replay and follow --------------------------------------------------------------------------


def test_replay_prints_every_op(demo: Path):
    p = tracer("replay", "--speed", "0", "--width", "100", cwd=demo)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("replay  housing_pipeline.py")
    assert re.match(r" *\d+\.\d\ds  read_csv  examples/data/housing.csv → 20,640 × 10", lines[1])
    assert lines[-1].startswith("■ run ended: ok  ·  36 ops  ·  5 files")


def test_follow_shows_ops_while_the_script_runs(tmp_path: Path):
    # GIVEN a script that stops after each op until the test says go
    (tmp_path / "steps.py").write_text(STEPS)
    go = tmp_path / "go"
    go.mkdir()
    script = start(["run", "-o", "steps.tlog", "steps.py", str(go)], tmp_path)
    follower = start(
        ["replay", "--follow", "steps.tlog", "--width", "120", "--wait", "60"], tmp_path
    )
    try:
        out = Lines(follower)
        # WHEN the script has made its first ops and is waiting
        out.wait_for(r"^follow  steps\.py")
        out.wait_for(r"dropna  4 × 2 → 3 × 2  −1 row")
        # THEN the follower has shown them while the script still runs
        assert script.poll() is None
        (go / "1").touch()
        out.wait_for(r"rename  3 × 2 → 3 × 2  b → label")
        assert script.poll() is None
        (go / "2").touch()
        out.wait_for(r"to_csv  3 × 2 → steps_out.csv")
        out.wait_for(r"^■ run ended: ok")
        assert follower.wait(timeout=120) == 0
        assert script.wait(timeout=120) == 0
    finally:
        for proc in (script, follower):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_follow_stops_when_the_writer_is_gone(tmp_path: Path):
    # GIVEN a traced script that waits forever after its first op
    (tmp_path / "steps.py").write_text(STEPS)
    go = tmp_path / "go"
    go.mkdir()
    script = start(["run", "-o", "steps.tlog", "steps.py", str(go)], tmp_path)
    follower = start(
        ["replay", "--follow", "steps.tlog", "--width", "120", "--wait", "60"], tmp_path
    )
    try:
        out = Lines(follower)
        out.wait_for(r"dropna  4 × 2 → 3 × 2")
        # WHEN the script is killed (no trailer will ever come)
        script.send_signal(signal.SIGKILL)
        script.wait(timeout=60)
        # THEN the follower says so and ends with status 1
        out.wait_for(r"is gone and the log has no end: the run did not finish")
        assert follower.wait(timeout=120) == 1
    finally:
        for proc in (script, follower):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_follow_stops_on_ctrl_c(demo: Path, tmp_path: Path):
    (tmp_path / "steps.py").write_text(STEPS)
    go = tmp_path / "go"
    go.mkdir()
    script = start(["run", "-o", "steps.tlog", "steps.py", str(go)], tmp_path)
    follower = start(["replay", "--follow", "steps.tlog", "--wait", "60"], tmp_path)
    try:
        out = Lines(follower)
        out.wait_for(r"dropna")
        follower.send_signal(signal.SIGINT)
        out.wait_for(r"stopped following")
        assert follower.wait(timeout=60) == 130
        assert script.poll() is None  # the run goes on
    finally:
        (go / "1").touch()
        (go / "2").touch()
        for proc in (script, follower):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_follow_a_finished_log_prints_it_and_ends(demo: Path):
    # (a finished log named on the command line; without LOG, --follow waits for a new run)
    p = tracer("replay", "--follow", ".tracer/runs/demo.tlog", "--width", "100", cwd=demo)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1].startswith("■ run ended: ok")


def test_follow_a_script_that_raises(tmp_path: Path):
    (tmp_path / "raises.py").write_text(RAISES)
    run = run_traced(["raises.py"], tmp_path, log="raises.tlog")
    assert run.returncode == 1
    p = tracer("replay", "--follow", "raises.tlog", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "✗ run ended: failed: RuntimeError: boom" in p.stdout


def test_replay_ends_no_line_with_spaces(tmp_path):
    # GIVEN a traced run WHEN it is replayed in a narrow terminal THEN every line is copyable
    (tmp_path / "p.py").write_text(
        "import pandas as pd\n"
        "df = pd.DataFrame({'a': [1.0, None, 3.0], 'b': [1, 2, 3]})\n"
        "df = df.dropna()\n"
        "df = df.rename(columns={'a': 'alpha'})\n"
    )
    assert tracer("run", "-q", "p.py", cwd=tmp_path).returncode == 0
    p = tracer("replay", "--speed", "0", cwd=tmp_path, extra_env={"COLUMNS": "40"})
    assert p.returncode == 0, p.stderr
    assert "dropna" in p.stdout and "run ended" in p.stdout
    assert [line for line in p.stdout.splitlines() if line != line.rstrip()] == []
