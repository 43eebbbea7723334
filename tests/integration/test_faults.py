"""Faults: however the program ends, it ends as under python, and the log says how it ended.

Each script under tests/scripts/faults/ runs plainly and under tracer on every backend; the exit
status, stdout and stderr (less tracer's own `tracer:` lines) must be identical, and the log must
read to its end (no torn bytes: every finished op is there) with the right status: SIGTERM from
itself and from outside ("terminated"), the program's own SIGTERM handler and an inherited
SIG_IGN (left alone), KeyboardInterrupt raised and SIGINT received ("interrupted"), os._exit
(no trailer: "unfinished"), exceptions inside a watched call and inside an assign lambda (the op
records the error), and a RecursionError in user code that calls pandas. SIGKILL is in
test_recording.py.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import SCRIPTS, backends, env

import tracer
from tracer import faults

FAULTS = SCRIPTS / "faults"
# name -> (expected exit status, how to run it)
CASES = {
    "sigterm_self": -signal.SIGTERM,
    "sigterm_wait": -signal.SIGTERM,
    "sigterm_handler": 7,
    "sigterm_ignored": 0,
    "keyboard_interrupt": -signal.SIGINT,
    "sigint_self": -signal.SIGINT,
    "os_exit": 3,
    "error_in_call": 1,
    "error_in_lambda": 1,
    "recursion": 1,
}


IGNORE_SIGTERM_AND_EXEC = (
    "import os, signal, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def launch(name: str, cwd: Path, backend: str | None) -> subprocess.CompletedProcess:
    """Run one fault script, plainly (backend None) or traced, the way its case needs."""
    script = f"{name}.py"
    if backend is None:
        cmd = [sys.executable, script]
    else:
        log = f"{name}-{backend}.tlog"
        cmd = [sys.executable, "-m", "tracer", "run", "-q", "-o", log, "--backend", backend, script]
    if name == "sigterm_ignored":
        # Started the way `nohup`-like launchers start a program: SIGTERM ignored across exec
        # (a wrapper, not preexec_fn, which is unsafe while other threads run).
        cmd = [sys.executable, "-c", IGNORE_SIGTERM_AND_EXEC, *cmd]
    environ = env()
    environ.pop("PYTHONUNBUFFERED", None)  # stdout to a pipe is block-buffered, as usual
    p = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=environ,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if name == "sigterm_wait":
        assert p.stdout is not None
        ready = p.stdout.readline()  # the script's ops are done; it now waits on stdin
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=120)
        out = ready + out
    else:
        out, err = p.communicate(timeout=300)
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    for script in FAULTS.glob("*.py"):
        shutil.copy(script, root / script.name)
    jobs = [(name, b) for name in CASES for b in (None, *backends())]
    with ThreadPoolExecutor(3) as pool:
        done = list(pool.map(lambda job: launch(job[0], root, job[1]), jobs))
    return root, dict(zip(jobs, done))


def without_tracer_lines(stderr: str) -> str:
    return "".join(line for line in stderr.splitlines(True) if not line.startswith("tracer:"))


def tracer_frames(traceback: str) -> list[str]:
    """The frames of a traceback that are tracer's own code (by module file, not by a path
    fragment: a checkout or a virtualenv may well be named "tracer")."""
    package = os.path.dirname(os.path.abspath(tracer.__file__)) + os.sep
    frames = re.findall(r'^\s*File "([^"]+)"', traceback, flags=re.MULTILINE)
    return [f for f in frames if os.path.abspath(f).startswith(package)]


def same_traceback(stderr: str) -> str:
    """Tracer's runner sits a few frames below the script: a runaway recursion hits the limit
    that many calls earlier. Only the count of repeated lines may differ."""
    return re.sub(
        r"\[Previous line repeated \d+ more times\]", "[Previous line repeated N]", stderr
    )


def top_ops(log: Path) -> list[str]:
    return [op.op for op in tracer.load(log).roots()]


@pytest.fixture(params=backends())
def backend(request):
    return request.param


@pytest.mark.parametrize("name", CASES)
def test_the_program_ends_as_under_python(runs, name, backend, request):
    # GIVEN a script that ends by a fault, run plainly and under tracer
    root, done = runs
    plain, traced = done[(name, None)], done[(name, backend)]
    # THEN exit status, stdout and stderr are python's own
    assert plain.returncode == CASES[name], plain.stderr
    assert traced.returncode == plain.returncode, traced.stderr
    assert traced.stdout == plain.stdout
    assert same_traceback(without_tracer_lines(traced.stderr)) == same_traceback(plain.stderr)
    # AND the log reads to its end: nothing torn, nothing lost
    lineage = tracer.load(root / f"{name}-{backend}.tlog")
    assert lineage.damage is None


@pytest.mark.parametrize("name", ["sigterm_self", "sigterm_wait"])
def test_sigterm_leaves_a_terminated_log(runs, name, backend):
    root, done = runs
    # the line printed without a flush is lost, as python's default SIGTERM loses it
    assert done[(name, backend)].stdout in ("before term\n", "ready\n")
    lineage = tracer.load(root / f"{name}-{backend}.tlog")
    assert lineage.run.status == "terminated"
    assert lineage.run.exit_code == 128 + signal.SIGTERM
    assert top_ops(root / f"{name}-{backend}.tlog") == ["DataFrame", "dropna"]


def test_the_programs_own_sigterm_handler_decides(runs, backend):
    root, done = runs
    assert done[("sigterm_handler", backend)].stdout == "handled 15\nafter previous\n"
    lineage = tracer.load(root / f"sigterm_handler-{backend}.tlog")
    assert (lineage.run.status, lineage.run.exit_code) == ("error", 7)


def test_an_ignored_sigterm_stays_ignored(runs, backend):
    root, done = runs
    assert done[("sigterm_ignored", backend)].stdout == "ignored: True\nsurvived (2, 1)\n"
    log = root / f"sigterm_ignored-{backend}.tlog"
    assert tracer.load(log).run.status == "ok"
    assert top_ops(log) == ["DataFrame", "dropna", "fillna"]


@pytest.mark.parametrize("name", ["keyboard_interrupt", "sigint_self"])
def test_keyboard_interrupt_is_interrupted(runs, name, backend):
    root, done = runs
    assert "KeyboardInterrupt" in done[(name, backend)].stderr
    log = root / f"{name}-{backend}.tlog"
    assert tracer.load(log).run.status == "interrupted"
    assert top_ops(log) == ["DataFrame", "dropna"]


def test_os_exit_keeps_every_finished_op(runs, backend):
    root, done = runs
    assert done[("os_exit", backend)].stdout == "before exit\n"
    log = root / f"os_exit-{backend}.tlog"
    lineage = tracer.load(log)
    assert lineage.run.status == "unfinished" and lineage.damage is None
    assert top_ops(log) == ["DataFrame", "dropna", "fillna"]


def error_text(backend: str, text: str) -> str:
    """sys.setprofile tells that a frame raised, not what: the op says "exception" there."""
    return "exception" if backend in ("setprofile", "ctrace") else text


def test_an_exception_inside_a_watched_call_is_recorded_with_it(runs, backend):
    root, _ = runs
    lineage = tracer.load(root / f"error_in_call-{backend}.tlog")
    merges = [(op.error, op.outputs == []) for op in lineage.ops if op.op == "merge"]
    assert merges == [
        (error_text(backend, "KeyError: 'missing'"), True),
        (None, False),
        (error_text(backend, "KeyError: 'nope'"), True),
    ]
    assert (lineage.run.status, lineage.run.error) == ("error", "KeyError: 'nope'")


def test_an_exception_inside_an_assign_lambda_is_recorded_with_it(runs, backend):
    root, _ = runs
    lineage = tracer.load(root / f"error_in_lambda-{backend}.tlog")
    failed = [op for op in lineage.ops if op.error]
    text = error_text(backend, "KeyError: 'nope'")
    assert [(op.op, op.error) for op in failed] == [("assign", text), ("getitem", text)]
    assign, getitem = failed
    assert assign.parent is None and getitem.parent == assign.seq


def test_recursion_error_neither_crashes_nor_leaks_tracer_frames(runs, backend, request):
    root, done = runs
    traced = done[("recursion", backend)]
    assert traced.stdout == "caught RecursionError\n(4, 1)\n"
    assert "RecursionError: maximum recursion depth exceeded" in traced.stderr
    assert tracer_frames(without_tracer_lines(traced.stderr)) == []
    lineage = tracer.load(root / f"recursion-{backend}.tlog")
    assert lineage.run.status == "error" and "RecursionError" in (lineage.run.error or "")
    assert [op.op for op in lineage.roots()][:2] == ["DataFrame", "dropna"]


def test_recording_goes_on_after_a_recursion_error(runs, backend):
    # Only backends whose callbacks cannot be taken away: a Python profile function that
    # fails at the recursion limit is removed by the interpreter itself.
    if backend == "setprofile":
        pytest.skip("sys.setprofile drops a Python profile function that raises")
    root, _ = runs
    assert "fillna" in top_ops(root / f"recursion-{backend}.tlog")


def test_the_sigterm_handler_is_installed_only_over_the_default(tmp_path):
    # GIVEN the default disposition: tracing installs the handler, stopping removes it
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with tracer.trace(log=tmp_path / "a.tlog"):
        assert signal.getsignal(signal.SIGTERM) is faults._on_sigterm
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

    # GIVEN a handler of the program's: tracing leaves it alone
    def mine(signum, frame):
        pass

    signal.signal(signal.SIGTERM, mine)
    try:
        with tracer.trace(log=tmp_path / "b.tlog"):
            assert signal.getsignal(signal.SIGTERM) is mine
        assert signal.getsignal(signal.SIGTERM) is mine
        # AND a handler the program installs while traced is still there after
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with tracer.trace(log=tmp_path / "c.tlog"):
            signal.signal(signal.SIGTERM, mine)
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
