"""The sys.monitoring backend's C filter (`tracer.hooks._monfilter`) against its oracle, the
same backend with its Python callbacks alone.

The filter only answers "nothing to do" ahead of the Python callbacks, so both must send the
recording rule's sink exactly the same calls; and it must actually keep the library's own calls
of watched functions (and its exceptions) away from Python. Skipped where the filter is not
built (Python < 3.12, or TRACER_DISABLE_EXTENSION).
"""

from __future__ import annotations

import importlib.util
import pickle
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from tracer.catalog import Catalog
from tracer.catalog.entries import Entry
from tracer.hooks.dispatch import Dispatcher
from tracer.hooks.extensions import monfilter_missing

MISSING = monfilter_missing() if hasattr(sys, "monitoring") else "no sys.monitoring"
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"no C filter: {MISSING}")

LIBRARY = textwrap.dedent(
    """
    import functools

    def inner(x):
        return x + 1

    def outer(x):
        total = 0
        for i in range(20):  # the library calling its own watched function, 20 times
            total += inner(i)
        return total + x

    def _raise(x):
        raise KeyError(x)

    def swallow(x):
        for _ in range(10):  # exceptions raised and caught inside the library
            try:
                _raise(x)
            except KeyError:
                pass
        return inner(x)

    def fails(x):
        raise ValueError(x)

    def target(x):
        return x * 3

    @functools.wraps(target)
    def decorated(*args, **kwargs):
        return target(*args, **kwargs)

    def apply(f, xs):
        return [f(x) for x in xs]
    """
)


def load_library(tmp_path: Path) -> types.ModuleType:
    path = tmp_path / "fake_library.py"
    path.write_text(LIBRARY)
    spec = importlib.util.spec_from_file_location("fake_library", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class IsUser:
    """is_user with the per-file cache the filter reads: this test file is the user's code."""

    def __init__(self, library: str) -> None:
        self.files: dict[str, bool] = {library: False, __file__: True}

    def __call__(self, code: types.CodeType) -> bool:
        return self.files.setdefault(code.co_filename, code.co_filename == __file__)


class Sink:
    def __init__(self) -> None:
        self.log: list[tuple] = []

    def op_start(self, entry, frame, caller, parent, ccall):
        self.log.append(("start", entry.name, caller.f_code.co_name, parent))
        return len(self.log)

    def op_end(self, token, value, error, *, lost=False, result_known=True, suppressed=0):
        err = error if error is None or error is True else type(error).__name__
        self.log.append(("end", token, repr(value)[:40], err, lost, result_known, suppressed))

    def internal_error(self, where, exc):
        self.log.append(("error", where, repr(exc)))


def workload(lib: types.ModuleType) -> list[Any]:
    out: list[Any] = [lib.outer(1), lib.swallow(2), lib.decorated(3)]
    try:
        lib.fails(4)
    except ValueError:
        out.append("raised")
    out.append(lib.apply(lambda x: lib.inner(x), range(3)))
    out.append(pickle.loads(pickle.dumps([1, 2])))
    return out


def run(lib: types.ModuleType, monkeypatch: pytest.MonkeyPatch, with_filter: bool) -> tuple:
    from tracer.hooks import sysmon
    from tracer.hooks.sysmon import SysMonitorHook

    monkeypatch.setenv("TRACER_DISABLE_EXTENSION", "0" if with_filter else "1")
    catalog = Catalog(providers={})
    catalog.add(
        [(getattr(lib, n), Entry(n, f"lib.{n}")) for n in
         ("inner", "outer", "swallow", "fails", "decorated", "apply")]
        + [(pickle.dumps, Entry("pickle.dumps", "pickle.dumps", c_callable=True)),
           (pickle.loads, Entry("pickle.loads", "pickle.loads", c_callable=True))]
    )  # fmt: skip
    is_user = IsUser(lib.__file__)
    sink = Sink()
    hook = SysMonitorHook(catalog, Dispatcher(sink, catalog.wrapper_codes, is_user), is_user)
    # What reaches the Python callbacks: each looks at the frame of the event with
    # sys._getframe(1) (a wrapper around the callbacks would move that frame: count there).
    frames = CountingSys()
    monkeypatch.setattr(sysmon, "sys", frames)
    hook.start()
    try:
        result = workload(lib)
    finally:
        filtered = hook._filter is not None
        hook.stop()
    return sink.log, result, frames.count, filtered


class CountingSys:
    def __init__(self) -> None:
        self.count = 0

    def _getframe(self, depth: int = 0) -> types.FrameType:
        self.count += 1
        return sys._getframe(depth + 1)

    def __getattr__(self, name: str) -> Any:
        return getattr(sys, name)


def test_the_filter_sends_the_sink_exactly_what_the_python_callbacks_send(tmp_path, monkeypatch):
    lib = load_library(tmp_path)
    oracle, expected, slow_calls, filtered = run(lib, monkeypatch, with_filter=False)
    log, result, fast_calls, used = run(lib, monkeypatch, with_filter=True)
    assert not filtered and used
    assert result == expected
    assert log == oracle
    assert not [e for e in log if e[0] == "error"]
    starts = [e[1] for e in log if e[0] == "start"]
    assert starts == ["outer", "swallow", "decorated", "fails", "apply", "inner",
                      "pickle.dumps", "pickle.loads"]  # fmt: skip
    # AND the library's own 20 + 1 calls of inner() (their starts and returns) and its 10
    # exceptions stayed in C
    assert slow_calls - fast_calls >= 2 * 21 + 10
