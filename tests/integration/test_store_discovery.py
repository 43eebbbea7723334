"""A run is named the same way by every command, and the store is found the way git finds its
repository: from a subfolder, by `tracer run` and by the commands that read it; `why` asks the
other stores this user has run in; a copied store lists its runs once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import run_cli

PIPE = """\
import pandas as pd
df = pd.DataFrame({"a": [1.0, None, 3.0], "b": [1, 2, 3]})
df = df.dropna()
df.to_csv("out.csv", index=False)
print(len(df))
"""


def cli(*args: str, cwd: Path, **extra: str):
    return run_cli(*args, cwd=cwd, extra_env={"COLUMNS": "200", **extra}, unset=("TRACER_HOME",))


def run_ids(cwd: Path) -> list[str]:
    """The short run ids `tracer runs` prints, newest first."""
    p = cli("runs", cwd=cwd)
    assert p.returncode == 0, p.stderr
    return [line.split()[2] for line in p.stdout.splitlines()[1:] if line[:2] == "20"]


@pytest.fixture
def project(tmp_path):
    # GIVEN a project with two runs in its store: the second script is another one
    (tmp_path / "first.py").write_text(PIPE)
    (tmp_path / "second.py").write_text(PIPE.replace("dropna()", "fillna(0)"))
    for script in ("first.py", "second.py"):
        assert cli("run", "-q", script, cwd=tmp_path).returncode == 0
    return tmp_path


@pytest.mark.parametrize("command", ["show", "summary", "export", "replay", "report"])
def test_every_command_takes_a_run_as_tracer_runs_names_it(project, command):
    newest, oldest = run_ids(project)
    extra = ["--speed", "0"] if command == "replay" else []
    outputs = {}
    for ref in (newest, newest[:5], "latest", oldest, "latest~1"):
        p = cli(command, ref, *extra, cwd=project)
        assert p.returncode == 0, (ref, p.stderr)
        outputs[ref] = p.stdout
    # THEN an id, a unique part of it and latest~N name the same run
    assert outputs[newest] == outputs[newest[:5]] and outputs[oldest] == outputs["latest~1"]
    assert outputs[newest] != outputs[oldest]
    assert ("second" in outputs["latest"]) and ("first" in outputs["latest~1"])
    # and a run that does not exist is one line
    p = cli(command, "ffffffff", *extra, cwd=project)
    assert p.returncode == 2 and p.stderr.startswith("tracer: error: no run 'ffffffff'")
    assert len(p.stderr.splitlines()) == 1


def test_report_of_a_log_needs_no_store(tmp_path):
    (tmp_path / "p.py").write_text(PIPE)
    assert cli("run", "-q", "-o", "r.tlog", "p.py", cwd=tmp_path).returncode == 0
    assert not (tmp_path / ".tracer").exists()
    p = cli("report", "r.tlog", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("# Run report: p.py") and "dropna" in p.stdout


def test_the_store_is_found_from_a_subfolder_and_run_writes_there(project):
    sub = project / "notebooks" / "deep"
    sub.mkdir(parents=True)
    (sub / "third.py").write_text(PIPE)
    # WHEN a script is run from a subfolder of the project
    assert cli("run", "-q", "third.py", cwd=sub).returncode == 0
    # THEN its log joins the project's store (no store of its own), and every command sees it
    assert not (sub / ".tracer").exists()
    assert len(list((project / ".tracer" / "runs").glob("*.tlog"))) == 3
    assert len(run_ids(sub)) == 3 and run_ids(sub) == run_ids(project)
    p = cli("show", cwd=sub)
    assert p.returncode == 0 and p.stdout.startswith("third.py"), p.stderr
    assert cli("show", "latest~2", cwd=sub).stdout.startswith("first.py")


def test_an_explicit_home_wins_over_the_store_found_upward(project):
    sub = project / "sub"
    sub.mkdir()
    elsewhere = project / "elsewhere"
    p = cli("run", "-q", "../first.py", cwd=sub, TRACER_HOME=str(elsewhere))
    assert p.returncode == 0, p.stderr
    assert len(list((elsewhere / "runs").glob("*.tlog"))) == 1
    assert len(run_ids(project)) == 2


def test_why_asks_the_other_stores_this_user_has_run_in(project, tmp_path_factory):
    # GIVEN a file written by a run of the project, asked about from an unrelated folder
    registry = project / "stores"
    for script in ("first.py",):
        assert cli("run", "-q", script, cwd=project, TRACER_REGISTRY=str(registry)).returncode == 0
    away = tmp_path_factory.mktemp("away")
    p = cli("why", str(project / "out.csv"), cwd=away, TRACER_REGISTRY=str(registry))
    # THEN the project's store answers, and says it is the one that did
    assert p.returncode == 0, p.stderr
    assert f"(answered by the store at {project / '.tracer'})" in p.stdout
    assert "written by run" in p.stdout and "first.py" in p.stdout
    # and without the registry, nothing is known there
    p = cli("why", str(project / "out.csv"), cwd=away, TRACER_REGISTRY=str(away / "none"))
    assert p.returncode == 2 and "no tracer store" in p.stderr


def test_a_store_copied_with_cp_r_lists_each_run_once(project, tmp_path_factory):
    assert len(run_ids(project)) == 2  # (the index exists now, naming the original's logs)
    copy = tmp_path_factory.mktemp("copy")
    shutil.copytree(project / ".tracer", copy / ".tracer")
    assert run_ids(copy) == run_ids(project)
    assert len(run_ids(copy)) == 2 and len(run_ids(project)) == 2
    p = cli("show", "latest", cwd=copy)
    assert p.returncode == 0 and p.stdout.startswith("second.py")
