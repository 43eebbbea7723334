"""Whole-program costs of tracing, measured side by side (medians of interleaved runs).

    python benchmarks/bench_pipeline.py [--runs 5]

- the housing demo and a 10x (206,400-row) variant: wall time traced / plain, as processes;
- code that calls no watched function (recursive fib, a dict-heavy loop): in-process ratio;
- peak RSS traced / plain; log bytes per op; `import tracer.auto` + start-up time over plain
  python;
- the same pipelines under `autolineage` when that package is installed.
Prints Markdown.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DEMO = os.path.join(ROOT, "examples", "housing_pipeline.py")
ENV = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
ENV.pop("PYTHONDONTWRITEBYTECODE", None)


def timed_process(cmd: list[str], cwd: str) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of one child process."""
    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-c", _RSS_WRAPPER, *cmd], cwd=cwd, env=ENV, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{cmd} failed:\n{p.stderr}")
    return wall, int(p.stderr.strip().splitlines()[-1])


# Runs the command in a grandchild and reports its peak RSS on the last stderr line.
_RSS_WRAPPER = """
import resource, subprocess, sys
p = subprocess.run([sys.executable, *sys.argv[1:]], stdout=subprocess.DEVNULL)
sys.stderr.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + "\\n")
sys.exit(p.returncode)
"""


def pipeline(runs: int, scale: int) -> dict[str, float]:
    plain, traced, rss_p, rss_t, per_op = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(runs):
            order = ("plain", "traced") if r % 2 == 0 else ("traced", "plain")
            for mode in order:
                args = [DEMO, "--out", "out", "--scale", str(scale)]
                if mode == "plain":
                    wall, rss = timed_process(args, tmp)
                    plain.append(wall)
                    rss_p.append(rss)
                else:
                    log = os.path.join(tmp, f"run{r}.tlog")
                    wall, rss = timed_process(["-m", "tracer", "run", "-q", "-o", log, *args], tmp)
                    traced.append(wall)
                    rss_t.append(rss)
                    per_op.append(log_bytes_per_op(log))
    return {
        "plain": statistics.median(plain),
        "traced": statistics.median(traced),
        "ratio": statistics.median(t / p for p, t in zip(plain, traced)),
        "rss_plain": statistics.median(rss_p) / 1024,
        "rss_traced": statistics.median(rss_t) / 1024,
        "bytes_per_op": statistics.median(per_op),
    }


def log_bytes_per_op(log: str) -> float:
    sys.path.insert(0, ROOT)
    from tracer.events.format import Kind
    from tracer.events.reader import LogReader

    with LogReader(log) as reader:
        ops = sum(1 for kind, _ in reader.records() if kind == Kind.OP)
    return os.path.getsize(log) / max(ops, 1)


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def dict_loop() -> int:
    d: dict[int, int] = {}
    for i in range(200_000):
        d[i % 1000] = d.get(i % 1000, 0) + i
    return len(d)


def pure_python(runs: int) -> dict[str, float]:
    sys.path.insert(0, ROOT)
    import tracer

    def timed(fn: Any) -> float:
        """Best of 3 passes after a first one, which warms caches (and, traced, meets each
        function once, to arm or disable it): a pass is ~10 ms, short enough for a stray
        scheduler tick to move one by 5 %."""
        fn()
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return best

    out = {}
    # One directory for every log, made before any timing: entering and leaving a
    # TemporaryDirectory around the traced pass alone made fib 3-5% slower with no tracer at all.
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "p.tlog")

        def traced(fn: Any) -> float:
            with tracer.trace(log=log):
                return timed(fn)

        for name, fn in (("fib(24)", lambda: fib(24)), ("dict loop", dict_loop)):
            ratios = []
            for r in range(max(runs, 9)):  # the order alternates from round to round
                if r % 2:
                    t, p = traced(fn), timed(fn)
                else:
                    p, t = timed(fn), traced(fn)
                ratios.append(t / p)
            out[name] = statistics.median(ratios)
    return out


def startup(runs: int) -> float:
    """ms that `import tracer.auto` (import, catalog, hook start) adds to a bare interpreter."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**ENV, "TRACER_LOG": os.path.join(tmp, "s.tlog")}
        added = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
            plain = time.perf_counter() - t0
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import tracer.auto"], env=env, check=True,
                           stderr=subprocess.DEVNULL)
            added.append(time.perf_counter() - t0 - plain)
    return statistics.median(added) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    from tracer.hooks.select import choose_backend

    backend = choose_backend().name
    print(f"Python {sys.version.split()[0]} ({backend}); medians of {args.runs} interleaved runs\n")
    print(
        "| pipeline | plain s | traced s | traced / plain "
        "| peak RSS plain → traced (MB) | log bytes/op |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, scale in (("housing demo (20,640 rows)", 1), ("housing ×10 (206,400 rows)", 10)):
        m = pipeline(args.runs, scale)
        print(f"| {label} | {m['plain']:.2f} | {m['traced']:.2f} | **{m['ratio']:.3f}×** | "
              f"{m['rss_plain']:.0f} → {m['rss_traced']:.0f} | {m['bytes_per_op']:.0f} |")
    print()
    pp = pure_python(args.runs)
    print("| code that calls no watched function | traced / plain |")
    print("| --- | ---: |")
    for name, ratio in pp.items():
        print(f"| {name} | **{ratio:.2f}×** |")
    print()
    print(f"`import tracer.auto` and start-up, over plain python: **{startup(args.runs):.0f} ms**")
    if importlib.util.find_spec("autolineage") is None:
        print("\n(autolineage is not installed: no side-by-side figures)")


if __name__ == "__main__":
    main()
