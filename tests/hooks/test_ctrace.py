"""The C profile filter (`ctrace`) against its oracle, the pure-Python `setprofile` backend.

The two must make the same decisions on every event, so they must give identical results:
in-process, the exact stream of op_start / op_end / internal_error calls the recording rule
sends to its sink; end to end, the same JSON export (ops, parents, shapes, params, files) for
the same script, ignoring only durations, timestamps, run ids and paths. Then what only the C
backend does: per-thread C profilers, stop() clearing every thread, a profile object restored
by user code, errors in the callbacks. Everything but the backend choice is skipped when the
extension is not built (always the case on 3.12+, where sys.monitoring does better).
"""

from __future__ import annotations

import functools
import io
import json
import pickle
import re
import shutil
import signal
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Any

import pytest
from support import EXAMPLES, SCRIPTS, env, export_json

from tracer.catalog import Catalog
from tracer.catalog.entries import Entry
from tracer.exceptions import BackendUnavailable
from tracer.hooks.dispatch import Dispatcher, ThreadState
from tracer.hooks.extensions import ctrace_missing
from tracer.hooks.select import choose_backend
from tracer.hooks.setprofile import ProfileHook

MISSING = ctrace_missing()
needs_ctrace = pytest.mark.skipif(MISSING is not None, reason=f"no ctrace backend: {MISSING}")

if MISSING is None:
    from tracer.hooks.ctrace import CProfileHook


# -- the backend choice (every Python) ---------------------------------------------------------


def test_choice_prefers_the_c_filter_before_3_12(monkeypatch):
    monkeypatch.delenv("TRACER_BACKEND", raising=False)
    choice = choose_backend()
    if hasattr(sys, "monitoring"):
        assert choice.name == "sysmon"
    elif MISSING is None:
        assert choice.name == "ctrace"
    else:
        assert choice.name == "setprofile" and MISSING in choice.reasons[-1]


def test_forced_backends(monkeypatch):
    monkeypatch.setenv("TRACER_BACKEND", "setprofile")
    assert choose_backend().name == "setprofile"
    monkeypatch.setenv("TRACER_BACKEND", "ctrace")
    choice = choose_backend()
    if MISSING is None:
        assert choice.name == "ctrace" and choice.reasons == ["TRACER_BACKEND=ctrace"]
    else:
        # THEN the request is refused with the reason, and the automatic order applies
        assert choice.name in ("sysmon", "setprofile")
        assert choice.reasons[0] == f"TRACER_BACKEND=ctrace, but {MISSING}; ignored"
        # a backend asked for by name is refused, not replaced
        with pytest.raises(BackendUnavailable, match="backend 'ctrace' cannot run here"):
            choose_backend("ctrace")
    assert choose_backend("setprofile").name == "setprofile"  # an argument beats the variable


# -- in process: the exact stream of decisions -------------------------------------------------
# Functions named lib_* play the library (watched, not user code); user_* are the user's code.


def lib_inner(x):
    return x + 1


def lib_outer(x):
    return lib_inner(x) * 2  # a library call of a watched function: not recorded


def lib_raises(x):
    raise ValueError(x)


def lib_propagates(x):
    return lib_raises(x) + 1


def lib_none():
    return None


def lib_map(f, xs):
    return [f(x) for x in xs]


def lib_target(x):
    return x * 3


@functools.wraps(lib_target)
def lib_decorated(*args, **kwargs):  # a decorator's wrapper: skipped when looking for the caller
    return lib_target(*args, **kwargs)


def user_callback(x):
    return lib_inner(x)  # one record under lib_map, not one per item


def user_nested():
    return lib_outer(lib_inner(5))


def user_workload() -> list[Any]:
    out: list[Any] = [lib_outer(1), lib_inner(2), lib_none()]
    for i in range(3):
        out.append(lib_inner(i))
    try:
        lib_raises(3)
    except ValueError:
        out.append("raised")
    try:
        lib_propagates(4)
    except ValueError:
        out.append("propagated")
    out.append(lib_decorated(6))
    out.append(lib_map(user_callback, range(5)))
    out.append(user_nested())
    data = pickle.dumps([1, 2])  # a watched C callable; its result is read from `data`
    back = pickle.loads(data)
    out.append(back)
    try:
        pickle.loads(b"not a pickle")  # a C callable that raises
    except Exception:
        out.append("bad pickle")
    buf = io.BytesIO()
    buf.write(b"abc")  # a bound C method: a new object on every call, found by its name
    out.append(buf.getvalue())
    return out


def user_threaded() -> list[Any]:
    result: list[Any] = []
    t = threading.Thread(target=lambda: result.append(user_workload()), name="worker")
    t.start()
    t.join()
    return [user_workload(), result]


def is_user(code: types.CodeType) -> bool:
    return code.co_name.startswith("user_")


def make_catalog() -> Catalog:
    catalog = Catalog(providers={})
    catalog.add(
        [
            (lib_inner, Entry("inner", "t.lib_inner")),
            (lib_outer, Entry("outer", "t.lib_outer")),
            (lib_raises, Entry("raises", "t.lib_raises")),
            (lib_propagates, Entry("propagates", "t.lib_propagates")),
            (lib_none, Entry("none", "t.lib_none")),
            (lib_map, Entry("map", "t.lib_map")),
            (lib_decorated, Entry("decorated", "t.lib_target")),
            (pickle.dumps, Entry("pickle.dumps", "pickle.dumps", c_callable=True)),
            (pickle.loads, Entry("pickle.loads", "pickle.loads", c_callable=True)),
            ((io.BytesIO, "write"), Entry("BytesIO.write", "io.BytesIO.write", c_callable=True)),
        ]
    )
    return catalog


class RecordingSink:
    """Every decision of the recording rule, in order, by thread."""

    def __init__(self) -> None:
        self.log: list[tuple] = []
        self.n = 0

    def op_start(self, entry, frame, caller, parent, ccall):
        self.n += 1
        self.log.append(
            (
                "start",
                self.n,
                threading.current_thread().name,
                entry.name,
                frame.f_code.co_name if frame is not None else None,
                caller.f_code.co_name,
                caller.f_lineno,
                parent,
                None if ccall is None else (ccall.lasti, getattr(ccall.func, "__name__", None)),
            )
        )
        return self.n

    def op_end(self, token, value, error, *, lost=False, result_known=True, suppressed=0):
        err = error if error is None or error is True else type(error).__name__
        self.log.append(("end", token, repr(value)[:60], err, lost, result_known, suppressed))

    def internal_error(self, where, exc):
        self.log.append(("error", where, type(exc).__name__, str(exc)))


def run_hook(backend: type, workload) -> tuple[list[tuple], Any, Any]:
    catalog = make_catalog()
    sink = RecordingSink()
    dispatcher = Dispatcher(sink, catalog.wrapper_codes, is_user)
    hook = backend(catalog, dispatcher, is_user)
    hook.start()
    try:
        result = workload()
    finally:
        hook.stop()
    return sink.log, result, hook


@needs_ctrace
@pytest.mark.parametrize("workload", [user_workload, user_threaded])
def test_the_c_filter_makes_the_decisions_of_the_python_profiler(workload):
    # GIVEN a workload of watched Python and C callables, wrappers, exceptions, callbacks
    # WHEN it runs under each backend
    oracle, expected, _ = run_hook(ProfileHook, workload)
    log, result, hook = run_hook(CProfileHook, workload)
    # THEN the sink sees exactly the same calls, and the program the same results
    assert result == expected
    assert log == oracle
    assert not [e for e in log if e[0] == "error"]
    names = [e[3] for e in log if e[0] == "start"]
    assert {
        "outer",
        "inner",
        "raises",
        "propagates",
        "none",
        "map",
        "decorated",
        "pickle.dumps",
        "pickle.loads",
        "BytesIO.write",
    } <= set(names)
    stats = hook.stats()
    assert stats["errors"] == 0 and stats["running"] == 0 and stats["callbacks"] > 0


@needs_ctrace
def test_tables_that_grow_while_running_are_seen():
    # GIVEN a running hook whose catalog learns a new function and a new C callable later
    catalog = Catalog(providers={})
    sink = RecordingSink()
    hook = CProfileHook(catalog, Dispatcher(sink, catalog.wrapper_codes, is_user), is_user)
    hook.start()
    try:

        def user_run():
            lib_inner(1)
            pickle.dumps(1)
            catalog.add(
                [
                    (lib_inner, Entry("inner", "t.lib_inner")),
                    (pickle.dumps, Entry("pickle.dumps", "pickle.dumps", c_callable=True)),
                ]
            )
            lib_inner(2)
            pickle.dumps(2)

        user_run()
    finally:
        hook.stop()
    # THEN only the calls made after the catalog grew are recorded
    assert [e[3] for e in sink.log if e[0] == "start"] == ["inner", "pickle.dumps"]


# -- in process: what only the C backend has ---------------------------------------------------


def new_hook(dispatcher=None):
    catalog = make_catalog()
    dispatcher = dispatcher or Dispatcher(RecordingSink(), catalog.wrapper_codes, is_user)
    return CProfileHook(catalog, dispatcher, is_user)


@needs_ctrace
def test_stop_leaves_no_profile_function_in_any_thread():
    ready, go = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def user_sleeper():
        seen["during"] = type(sys.getprofile()).__name__
        ready.set()
        go.wait()
        seen["after"] = sys.getprofile()

    previous = threading.getprofile()
    hook = new_hook()
    hook.start()
    assert type(sys.getprofile()).__name__ == "Profiler"
    t = threading.Thread(target=user_sleeper)
    t.start()
    ready.wait()
    # WHEN tracing stops while another thread it profiles is still alive
    hook.stop()
    # THEN that thread was cleared too, the calling thread and threading's hook are restored
    assert hook.threads_cleared == 1
    assert sys.getprofile() is None and threading.getprofile() is previous
    go.set()
    t.join()
    assert seen == {"during": "Profiler", "after": None}
    hook.stop()  # idempotent
    # a thread that was starting as the hook stopped installs nothing
    hook._thread_start(sys._getframe(), "call", None)
    assert hook._hook.install(ThreadState()) is None
    assert sys.getprofile() is None


def test_the_python_profiler_lets_go_of_every_thread_when_stopped():
    ready, go, done = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def user_sleeper():
        seen["during"] = sys.getprofile() is not None
        ready.set()
        go.wait()
        seen["after"] = sys.getprofile()
        done.set()

    catalog = make_catalog()
    dispatcher = Dispatcher(RecordingSink(), catalog.wrapper_codes, is_user)
    hook = ProfileHook(catalog, dispatcher, is_user)
    hook.start()
    t = threading.Thread(target=user_sleeper)
    t.start()
    ready.wait()
    # WHEN tracing stops while another thread it profiles is still alive
    hook.stop()
    go.set()
    t.join()
    # THEN that thread dropped the profile function at its next event, as the caller did
    assert seen == {"during": True, "after": None}
    assert sys.getprofile() is None


@pytest.mark.parametrize("name", ["ctrace", "setprofile"])
def test_pause_and_resume_take_the_profile_function_off_and_put_it_back(name):
    if name == "ctrace" and MISSING is not None:
        pytest.skip(f"no ctrace backend: {MISSING}")
    catalog = make_catalog()
    dispatcher = Dispatcher(RecordingSink(), catalog.wrapper_codes, is_user)
    hook = (CProfileHook if name == "ctrace" else ProfileHook)(catalog, dispatcher, is_user)
    hook.start()
    try:
        mine = sys.getprofile()
        token = hook.pause_thread()
        assert sys.getprofile() is None and token is mine
        assert hook.pause_thread() is None  # nothing of ours to take off
        hook.resume_thread(token)
        assert sys.getprofile() is mine
        # something else profiling the thread meanwhile is left alone
        hook.pause_thread()
        other = lambda frame, event, arg: None  # noqa: E731
        sys.setprofile(other)
        hook.resume_thread(token)
        assert sys.getprofile() is other
        sys.setprofile(None)
    finally:
        hook.stop()
    hook.resume_thread(token)  # stopped: never put back
    assert sys.getprofile() is None


@needs_ctrace
def test_a_profile_object_restored_by_user_code_keeps_recording():
    hook = new_hook()
    hook.start()
    try:
        # GIVEN code that saves and restores the profile function, as some tools do
        saved = sys.getprofile()
        sys.setprofile(None)
        lib_inner(0)  # not seen
        sys.setprofile(saved)  # now called through Python's trampoline

        def user_after():
            return lib_inner(1), pickle.dumps(1)

        user_after()
    finally:
        hook.stop()
    assert sys.getprofile() is None
    log = hook.dispatcher.sink.log
    assert [e[3] for e in log if e[0] == "start"] == ["inner", "pickle.dumps"]


class Failing:
    """A dispatcher whose `start` raises: the C layer must count and report, never raise."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.failed: list[tuple[str, str]] = []

    def start(self, state, frame, entry):
        raise self.exc

    def exit(self, *args):
        pass

    def c_start(self, *args):
        pass

    def c_exit(self, *args):
        return False

    def resolve(self, *args):
        pass

    def close(self, state):
        pass

    def fail(self, where, exc):
        self.failed.append((where, type(exc).__name__))


@needs_ctrace
def test_errors_in_callbacks_never_reach_user_code():
    dispatcher = Failing(RuntimeError("injected"))
    hook = new_hook(dispatcher)
    hook.start()
    try:

        def user_run():
            return [lib_inner(i) for i in range(3)]

        result = user_run()
    finally:
        hook.stop()
    assert result == [1, 2, 3]
    assert dispatcher.failed == [("ctrace.start", "RuntimeError")] * 3
    assert hook.stats()["errors"] == 3


@needs_ctrace
def test_keyboard_interrupt_in_a_callback_still_interrupts():
    hook = new_hook(Failing(KeyboardInterrupt()))
    hook.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            lib_inner(1)
    finally:
        hook.stop()


# -- end to end: identical exports -------------------------------------------------------------

_CLI_HAS_CTRACE: bool | None = None


def cli_has_ctrace() -> bool:
    """Whether `tracer run --backend` lists ctrace; otherwise TRACER_BACKEND chooses it."""
    global _CLI_HAS_CTRACE
    if _CLI_HAS_CTRACE is None:
        p = subprocess.run(
            [sys.executable, "-m", "tracer", "run", "--help"],
            capture_output=True,
            text=True,
            env=env(),
            timeout=120,
        )
        _CLI_HAS_CTRACE = "ctrace" in p.stdout
    return _CLI_HAS_CTRACE


def run(backend: str, cwd: Path, args: list[str]) -> subprocess.CompletedProcess:
    opts = ["--backend", backend] if cli_has_ctrace() else []
    return subprocess.run(
        [sys.executable, "-m", "tracer", "run", "-o", "run.tlog", *opts, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env(TRACER_BACKEND=backend),
        timeout=600,
    )


def export(cwd: Path) -> dict[str, Any]:
    return export_json(cwd / "run.tlog", cwd)


def scrubbed(doc: dict[str, Any], cwd: Path) -> dict[str, Any]:
    """What must not depend on the backend: durations, times, run ids and paths removed."""
    text = json.dumps(doc).replace(str(cwd), "<CWD>")
    out = json.loads(text)
    run = out.pop("run")
    out["status"] = (run["status"], run["exit_code"], run["error"])
    for op in out["ops"]:
        op.pop("duration_ns", None)
    return out


def by_thread(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Ops per thread in order, with node ids replaced by what the nodes are (threads
    interleave differently on every run, so sequence numbers and ids differ)."""
    nodes = {
        n["id"]: {k: v for k, v in n.items() if k not in ("id", "origin")} for n in doc["nodes"]
    }
    names = {op["seq"]: op["op"] for op in doc["ops"]}
    out: dict[str, list[str]] = {}
    for op in doc["ops"]:
        o = {k: v for k, v in op.items() if k not in ("seq", "duration_ns")}
        o["inputs"] = [nodes[i] for i in op["inputs"]]
        o["outputs"] = [nodes[i] for i in op["outputs"]]
        o["parent"] = names.get(op["parent"])
        out.setdefault(op["thread"], []).append(json.dumps(o, sort_keys=True))
    return out


SCRIPTS_E2E = {
    "housing": ([str(EXAMPLES / "housing_pipeline.py")], []),
    "persist_roundtrip": (["persist_roundtrip.py"], ["persist_roundtrip.py"]),
    "rules": (["rules.py"], ["rules.py", "rules_helper.py"]),
    "mutations": (["mutations.py"], ["mutations.py"]),
    "changes": (["changes.py"], ["changes.py"]),
    "threads": (["threads.py"], ["threads.py"]),
    "exceptions": (["exceptions.py"], []),
}

EXCEPTIONS_SCRIPT = '''\
"""Exceptions inside recorded calls: raised by pandas, by a C callable, through user code."""
import pickle

import pandas as pd

df = pd.DataFrame({"a": [1.0, None, 3.0], "b": [1, 2, 3]})
try:
    df["missing"]
except KeyError:
    print("KeyError")
with open("bad.pkl", "wb") as f:
    f.write(b"not a pickle")
try:
    obj = pickle.load(open("bad.pkl", "rb"))
except Exception as exc:
    print(type(exc).__name__)


def check(frame):
    if frame["a"].isna().any():
        raise ValueError("missing values")
    return frame


try:
    check(df.assign(c=lambda d: d["a"] * 2))
except ValueError as exc:
    print(exc)
try:
    df.merge(df, on="nope")
except KeyError:
    print("merge failed")
out = df.dropna()
print(out.shape)
'''


@needs_ctrace
@pytest.mark.parametrize("name", list(SCRIPTS_E2E))
def test_exports_are_identical_to_the_python_profilers(tmp_path, name):
    args, files = SCRIPTS_E2E[name]
    docs, outputs = {}, {}
    for backend in ("setprofile", "ctrace"):
        cwd = tmp_path / backend
        cwd.mkdir()
        for f in files:
            shutil.copy(SCRIPTS / f, cwd / f)
        if name == "exceptions":
            (cwd / "exceptions.py").write_text(EXCEPTIONS_SCRIPT)
        p = run(backend, cwd, args)
        assert p.returncode == 0, p.stderr
        doc = export(cwd)
        assert doc["run"]["backend"] == backend
        docs[backend] = scrubbed(doc, cwd)
        outputs[backend] = p.stdout
    assert outputs["ctrace"] == outputs["setprofile"]
    oracle, doc = docs["setprofile"], docs["ctrace"]
    assert oracle["ops"], "the script recorded nothing"
    if name == "threads":
        assert by_thread(doc) == by_thread(oracle)
        assert len(doc["ops"]) == len(oracle["ops"]) and doc["files"] == oracle["files"]
    else:
        assert doc == oracle
    if name == "exceptions":
        failed = [op["op"] for op in doc["ops"] if op["outputs"] == [] and op["parent"] is None]
        assert {"getitem", "pickle.load", "merge"} <= set(failed)


@needs_ctrace
def test_a_killed_run_leaves_a_readable_log(tmp_path):
    shutil.copy(SCRIPTS / "killed.py", tmp_path / "killed.py")
    p = run("ctrace", tmp_path, ["killed.py"])
    assert p.returncode == -signal.SIGKILL
    assert p.stdout == "before kill\n"
    doc = export(tmp_path)
    assert doc["run"]["backend"] == "ctrace"
    assert doc["run"]["status"] == "unfinished" and doc["run"]["ended"] is None
    assert [op["op"] for op in doc["ops"]] == ["DataFrame", "dropna", "getitem", "gt", "filter"]


@needs_ctrace
def test_debug_names_the_c_filter():
    p = subprocess.run(
        [sys.executable, "-m", "tracer", "debug", "sys"],
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
    )
    if p.returncode != 0:
        pytest.skip(f"tracer debug sys: {p.stderr.strip()[:200]}")
    assert re.search(r"backend: ctrace\b", p.stdout), p.stdout
