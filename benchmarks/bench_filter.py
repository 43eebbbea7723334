"""What the C profile filter saves on Python < 3.12: untraced vs setprofile vs ctrace.

    python benchmarks/bench_filter.py [--sizes 1000,100000] [--rounds 11]

Every round runs each workload untraced and under five traced modes, one after the other in an
order that rotates from workload to workload and round to round, all in one process:

* `filter`: the backend and the recording rule with a sink that keeps nothing. This is the cost
  of deciding, on every profiler event, that there is nothing to record: what ctrace changes.
* `C no-op`: a C profile function that returns at once, the floor of PyEval_SetProfile (Python
  makes a frame object and computes a line number for every event before calling it).
* `tracer`: the whole tracer (`tracer.Tracer(backend=...)`), recording ops into a log.

Each sample makes enough calls to take >= 20 ms untraced; the table gives the median untraced
time per call, and for each mode the median over rounds of the µs it added to the untraced run
of the same round, and of the ratio. `events/op` is the number of
profiler events per call (counted by ctrace), and the last line the added cost per event (median
over the workloads whose untraced time is under 1 ms, where per-event costs are not drowned).
Prints Markdown; says it skipped when the extension is not there (`pip install -e .` on
Python 3.11 builds it).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bench_overhead import calibrate, sample  # noqa: E402  (same directory)

import tracer  # noqa: E402
from tracer.catalog import Catalog  # noqa: E402
from tracer.hooks.dispatch import Dispatcher  # noqa: E402
from tracer.hooks.select import ctrace_missing, make_backend  # noqa: E402
from tracer.hooks.usercode import UserCode  # noqa: E402

MODES = (
    "untraced",
    "C no-op",
    "setprofile filter",
    "ctrace filter",
    "setprofile tracer",
    "ctrace tracer",
)


# -- workloads ---------------------------------------------------------------------------------


def make_frames(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(n)
    a[rng.random(n) < 0.1] = np.nan
    df = pd.DataFrame({"k": rng.integers(0, 100, n), "a": a, "b": rng.integers(0, 10**6, n)})
    right = pd.DataFrame({"k": np.arange(100), "w": np.arange(100) * 1.5})
    return df, right


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def dict_loop() -> int:
    d: dict[int, int] = {}
    for i in range(5000):
        k = i % 97
        d[k] = d.get(k, 0) + i
    return len(d)


def workloads(sizes: list[int]) -> dict[str, Callable[[], Any]]:
    out: dict[str, Callable[[], Any]] = {}
    for n in sizes:
        df, right = make_frames(n)
        mask = df["a"] > 0
        at = f" @{n // 1000}k"
        out["dropna" + at] = lambda df=df: df.dropna()
        out["assign" + at] = lambda df=df: df.assign(x=lambda d: d["a"] * 2)
        out["mask filter" + at] = lambda df=df, mask=mask: df[mask]
        out["select" + at] = lambda df=df: df[["a", "b"]]
        out["merge" + at] = lambda df=df, right=right: df.merge(right, on="k")
        out["groupby.mean" + at] = lambda df=df: df.groupby("k").mean()
    out["fib(22)"] = lambda: fib(22)
    out["dict-heavy loop"] = dict_loop
    return out


# -- traced modes ------------------------------------------------------------------------------


class NullSink:
    """Keeps nothing: op_start says "do not record", so only the deciding is left."""

    errors: list[str] = []

    def op_start(self, *args: Any) -> None:
        return None

    def op_end(self, *args: Any, **kwargs: Any) -> None:
        pass

    def internal_error(self, where: str, exc: BaseException) -> None:
        self.errors.append(f"{where}: {exc!r}")


class FilterOnly:
    def __init__(self, backend: str) -> None:
        self.backend_name = backend

    def start(self) -> None:
        self.catalog = Catalog()
        is_user = UserCode()
        dispatcher = Dispatcher(NullSink(), self.catalog.wrapper_codes, is_user)
        self.catalog.install()
        self.backend: Any = make_backend(self.backend_name, self.catalog, dispatcher, is_user)
        self.backend.start()

    def stop(self) -> None:
        self.backend.stop()
        self.catalog.uninstall()


class NoopProfile:
    def start(self) -> None:
        from tracer.hooks import _ctracer

        _ctracer.install_noop()

    def stop(self) -> None:
        sys.setprofile(None)


class WholeTracer:
    def __init__(self, backend: str, logdir: str) -> None:
        self.backend_name = backend
        self.logdir = logdir
        self.n = 0

    def start(self) -> None:
        self.n += 1
        log = os.path.join(self.logdir, f"{self.backend_name}-{self.n}.tlog")
        self.tracer = tracer.Tracer(log, backend=self.backend_name)
        self.tracer.start()
        self.backend = self.tracer.backend

    def stop(self) -> None:
        self.tracer.stop()
        os.unlink(self.tracer.log_path)


# -- measuring ---------------------------------------------------------------------------------


def measure(work: dict[str, Callable[[], Any]], rounds: int, logdir: str) -> tuple[dict, dict]:
    numbers = {name: calibrate(fn) for name, fn in work.items()}
    hooks: dict[str, Any] = {
        "C no-op": NoopProfile(),
        "setprofile filter": FilterOnly("setprofile"),
        "ctrace filter": FilterOnly("ctrace"),
        "setprofile tracer": WholeTracer("setprofile", logdir),
        "ctrace tracer": WholeTracer("ctrace", logdir),
    }
    times: dict[str, dict[str, list[float]]] = {name: {m: [] for m in MODES} for name in work}
    events: dict[str, float] = {}
    for r in range(rounds):
        for i, (name, fn) in enumerate(work.items()):
            k = (r + i) % len(MODES)
            for mode in MODES[k:] + MODES[:k]:
                hook = hooks.get(mode)
                if hook is not None:
                    hook.start()
                try:
                    fn()  # warm: the first call after start may resolve or cache things
                    counted = mode == "ctrace filter" and name not in events
                    before = hook.backend.stats()["events"] if counted else 0
                    times[name][mode].append(sample(fn, numbers[name]))
                    if counted:
                        events[name] = (hook.backend.stats()["events"] - before) / numbers[name]
                finally:
                    if hook is not None:
                        hook.stop()
        print(f"round {r + 1}/{rounds}", file=sys.stderr)
    return times, events


def added(base: list[float], traced: list[float]) -> float:
    """Median over rounds of traced - untraced in the same round (seconds per call)."""
    return statistics.median(t - b for b, t in zip(base, traced))


def cell(base: list[float], traced: list[float]) -> str:
    ratio = statistics.median(t / b for b, t in zip(base, traced))
    return f"+{added(base, traced) * 1e6:,.0f} ({ratio:.2f}×)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    missing = ctrace_missing()
    if missing is not None:  # not an error: benchmarks/run.py goes on with the other parts
        print(f"Skipped: no ctrace backend on Python {platform.python_version()} ({missing}).")
        return
    work = workloads([int(s) for s in args.sizes.split(",")])
    with tempfile.TemporaryDirectory() as logdir:
        times, events = measure(work, args.rounds, logdir)
    if NullSink.errors:
        print(
            f"warning: {len(NullSink.errors)} internal errors, first: {NullSink.errors[0]}",
            file=sys.stderr,
        )
    print(
        f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}; "
        f"median of {args.rounds} interleaved rounds; added µs per call (ratio to untraced)\n"
    )
    print(
        "| workload | untraced µs | events/op | C no-op | setprofile filter | ctrace filter "
        "| setprofile tracer | ctrace tracer |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, t in times.items():
        base = t["untraced"]
        cells = [cell(base, t[m]) for m in MODES[1:]]
        print(
            f"| {name} | {statistics.median(base) * 1e6:,.0f} | {events[name]:,.0f} | "
            + " | ".join(cells)
            + " |"
        )
    per_event = {}
    for mode in ("C no-op", "setprofile filter", "ctrace filter"):
        per_event[mode] = statistics.median(
            added(t["untraced"], t[mode]) / events[name] * 1e9
            for name, t in times.items()
            if events.get(name) and statistics.median(t["untraced"]) < 1e-3
        )
    print(
        f"| *ns per event (median)* | | | *{per_event['C no-op']:.0f}* "
        f"| *{per_event['setprofile filter']:.0f}* | *{per_event['ctrace filter']:.0f}* | | |"
    )


if __name__ == "__main__":
    main()
