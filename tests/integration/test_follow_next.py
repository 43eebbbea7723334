"""`tracer replay --follow` without LOG, started before the run it is meant to watch: it waits
for the next run (and for the store, in a folder that has none), follows that run to its end
and exits 0; it never replays a run that had finished before it began; Ctrl-C while it waits
ends it quietly with 130.

Nothing here is timed: each step waits (with a generous cap, only so a bug cannot hang the
suite) for a line the follower prints, or for a file the traced script creates.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import Lines, env, start
from support import run_cli as tracer

SMALL = """\
import pandas as pd
df = pd.DataFrame({"a": [1, 2, None, 4], "b": ["x", "y", "z", "w"]})
df = df.dropna()
df = df.rename(columns={"b": "label"})
df.to_csv("small_out.csv", index=False)
"""

OLD = """\
import pandas as pd
df = pd.DataFrame({"a": [1, 2, 3]})
df = df.head(2)
"""

PAUSED = """\
import os, sys, time
import pandas as pd
df = pd.DataFrame({"a": [1, 2, None, 4]})
df = df.dropna()
open("started", "w").close()
deadline = time.monotonic() + 120
while not os.path.exists("go"):  # the test says go once the follower is following
    if time.monotonic() > deadline:
        sys.exit("nobody said go")
    time.sleep(0.02)
df = df.rename(columns={"a": "value"})
"""


def follow(cwd: Path) -> subprocess.Popen[str]:
    return start(["replay", "--follow", "--width", "120"], cwd, unset=("TRACER_HOME",))


def run(cwd: Path, script: str) -> subprocess.CompletedProcess[str]:
    p = tracer("run", "-q", script, cwd=cwd, unset=("TRACER_HOME",))
    assert p.returncode == 0, p.stderr
    return p


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_follow_in_an_empty_folder_waits_for_the_first_run_and_follows_it(tmp_path: Path):
    # GIVEN a folder with no store at all, and a follower started in it
    (tmp_path / "small.py").write_text(SMALL)
    follower = follow(tmp_path)
    try:
        out = Lines(follower)
        out.wait_for(re.escape("waiting for the next run in .tracer/runs"))
        assert follower.poll() is None and not (tmp_path / ".tracer").exists()
        # WHEN a run starts there
        run(tmp_path, "small.py")
        # THEN the follower shows that run's ops to its end, and exits 0
        out.wait_for(re.escape("follow  small.py"))
        out.wait_for(re.escape("■ run ended: ok"))
        assert follower.wait(timeout=120) == 0, follower.stderr.read()
        text = "\n".join(out.to_the_end())
        assert "dropna  4 × 2 → 3 × 2  −1 row" in text
        assert "rename  3 × 2 → 3 × 2  b → label" in text
        assert "to_csv  3 × 2 → small_out.csv" in text
    finally:
        stop(follower)


def test_follow_does_not_replay_the_run_before_it_and_follows_the_next(tmp_path: Path):
    # GIVEN a finished run of old.py in the store
    (tmp_path / "old.py").write_text(OLD)
    (tmp_path / "small.py").write_text(SMALL)
    run(tmp_path, "old.py")
    # WHEN a follower starts, then a run of small.py
    follower = follow(tmp_path)
    try:
        out = Lines(follower)
        out.wait_for(re.escape("waiting for the next run"))  # (it used to replay old.py and exit)
        assert follower.poll() is None
        run(tmp_path, "small.py")
        # THEN it follows small.py, and nothing of old.py was shown
        assert follower.wait(timeout=120) == 0, follower.stderr.read()
        text = "\n".join(out.to_the_end())
        assert "follow  small.py" in text and "■ run ended: ok" in text
        assert "old.py" not in text and "head" not in text
    finally:
        stop(follower)


def test_follow_started_while_a_run_goes_on_follows_that_run(tmp_path: Path):
    # GIVEN a run (in the store, no -o) that has made its first op and waits for go
    (tmp_path / "paused.py").write_text(PAUSED)
    e = env()
    e.pop("TRACER_HOME", None)
    script = subprocess.Popen(
        [sys.executable, "-m", "tracer", "run", "-q", "paused.py"],
        cwd=tmp_path,
        env=e,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    follower = None
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "started").exists():
            assert script.poll() is None and time.monotonic() < deadline, script.stderr.read()
            time.sleep(0.02)
        # WHEN a follower starts
        follower = follow(tmp_path)
        out = Lines(follower)
        # THEN it follows the run that is going on, to its end
        out.wait_for(re.escape("follow  paused.py"))
        out.wait_for(re.escape("dropna  4 × 1 → 3 × 1  −1 row"))
        (tmp_path / "go").touch()
        out.wait_for(re.escape("rename  3 × 1 → 3 × 1  a → value"))
        out.wait_for(re.escape("■ run ended: ok"))
        assert follower.wait(timeout=120) == 0
        assert "waiting for the next run" not in "\n".join(out.seen)
    finally:
        (tmp_path / "go").touch()
        for proc in (script, follower):
            if proc is not None:
                stop(proc)


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_ctrl_c_while_waiting_ends_quietly_with_130(tmp_path: Path):
    follower = follow(tmp_path)
    try:
        Lines(follower).wait_for(re.escape("waiting for the next run"))
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=60) == 130
        assert follower.stderr.read() == ""  # no traceback, no "interrupted"
    finally:
        stop(follower)


def test_wait_bounds_the_wait_for_the_next_run(tmp_path: Path):
    p = tracer("replay", "--follow", "--wait", "0.2", cwd=tmp_path, unset=("TRACER_HOME",))
    assert p.returncode == 2
    assert p.stderr.startswith("tracer: error: no run started in ") and "within 0.2 s" in p.stderr
