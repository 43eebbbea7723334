"""A watched callee sees exactly the reference counts it sees under plain python.

pandas decides its Copy-on-Write warnings by `sys.getrefcount` of the object a method is
called on: one reference more held by the tracer (bound arguments, a frame's f_locals snapshot
on 3.11/3.12, an input kept for the op's end) and `df["a"].fillna(0, inplace=True)` no longer
warns, so a script run with `-W error` exits 1 under python and 0 traced. Checked directly (a
watched library function reports the counts of its arguments) and through pandas' warnings,
on every backend this interpreter has.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import SCRIPTS, backends, env, export_json, ops_named, run_traced

BACKENDS = backends()


def python(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env(), timeout=300
    )


def own_lines(stderr: str) -> list[str]:
    """stderr without tracer's own messages."""
    return [line for line in stderr.splitlines() if not line.startswith("tracer")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_watched_callee_counts_the_references_it_counts_untraced(backend, tmp_path):
    # GIVEN a library function in the catalog that reports its arguments' reference counts
    script = str(SCRIPTS / "refcounts.py")
    plain = python(script, cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    # WHEN the same calls are traced
    traced = python(script, backend, str(tmp_path / "run.tlog"), cwd=tmp_path)
    # THEN every count is python's, and the calls were recorded as ops
    assert traced.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout
    assert len(plain.stdout.splitlines()) == 4
    doc = export_json(tmp_path / "run.tlog")
    assert doc["run"]["backend"] == backend
    assert len(ops_named(doc, "probe")) == 3
    assert len(ops_named(doc, "probe_method")) == 2
    assert len(ops_named(doc, "pickle.dumps")) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_pandas_chained_assignment_warnings_are_python_s(backend, tmp_path):
    # GIVEN chained assignments that pandas warns about (ChainedAssignmentError)
    script = str(SCRIPTS / "chained_assignment.py")
    plain = python(script, cwd=tmp_path)
    assert plain.returncode == 0
    warnings = [line for line in plain.stderr.splitlines() if "ChainedAssignmentError" in line]
    if not warnings:
        pytest.skip("this pandas does not warn about chained assignment")
    # WHEN they run traced
    traced = run_traced([script], tmp_path, backend=backend, options=["-q"])
    # THEN the same warnings, the same output
    assert traced.returncode == 0
    assert traced.stdout == plain.stdout
    assert own_lines(traced.stderr) == plain.stderr.splitlines()
    ops = [op["op"] for op in export_json(traced.log)["ops"]]
    assert ops.count("fillna") == 2 and "replace" in ops


@pytest.mark.parametrize("backend", BACKENDS)
def test_with_warnings_as_errors_the_exit_code_is_python_s(backend, tmp_path):
    script = str(SCRIPTS / "chained_assignment.py")
    plain = python("-W", "error::Warning", script, cwd=tmp_path)
    if plain.returncode == 0:
        pytest.skip("this pandas does not warn about chained assignment")
    traced = python(
        "-W", "error::Warning", "-m", "tracer", "run", "-q", "--backend", backend, "-o",
        str(tmp_path / "run.tlog"), script, cwd=tmp_path,
    )  # fmt: skip
    assert traced.returncode == plain.returncode == 1
    assert own_lines(traced.stderr) == plain.stderr.splitlines()
    assert "pandas.errors.ChainedAssignmentError: " in plain.stderr
