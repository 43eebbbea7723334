"""`tracer show` and `tracer summary` on long logs: wall time and peak RSS, one process each.

    python benchmarks/bench_show.py [--ops 10000,100000,1000000] [--runs 1]

The logs are synthetic (tools/make_big_log.py: a loop in user code doing the same pandas ops
round after round, seven ops a round), written once per size into a temporary directory. Each
command runs in a fresh interpreter whose peak RSS is read with getrusage(RUSAGE_CHILDREN) by
a wrapper process. "read only" is the floor: the same log streamed through LogReader and
nothing else. Prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tools"))
ENV = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
ENV.pop("PYTHONDONTWRITEBYTECODE", None)

from make_big_log import rounds_for, write_loop_log  # noqa: E402

# Runs the command in a grandchild and reports its peak RSS (KiB) on the last stderr line.
_RSS_WRAPPER = """
import resource, subprocess, sys
p = subprocess.run([sys.executable, *sys.argv[1:]], stdout=subprocess.DEVNULL)
sys.stderr.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + "\\n")
sys.exit(p.returncode)
"""

_READ_ONLY = """
import sys
from tracer.events.reader import LogReader
with LogReader(sys.argv[1]) as r:
    for _ in r.records():
        pass
"""

COMMANDS = {
    "read only": ["-c", _READ_ONLY, "{log}"],
    "tracer show": ["-m", "tracer", "show", "{log}", "--width", "100"],
    "tracer summary": ["-m", "tracer", "summary", "{log}", "--width", "100"],
}


def measure(args: list[str], cwd: str) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of `python ARGS` in a fresh process."""
    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-c", _RSS_WRAPPER, *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{args} failed:\n{p.stderr}")
    return wall, int(p.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", default="10000,100000,1000000", help="log sizes, in ops")
    parser.add_argument("--runs", type=int, default=1, help="runs per figure (best is kept)")
    parser.add_argument("--only", choices=sorted(COMMANDS), action="append", help="commands")
    args = parser.parse_args()
    sizes = [int(x) for x in args.ops.split(",")]
    names = args.only or list(COMMANDS)
    print(f"Python {sys.version.split()[0]}, best of {args.runs}\n")
    print("| ops | log size | command | wall | peak RSS |")
    print("| ---: | ---: | --- | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for ops in sizes:
            log = os.path.join(tmp, f"loop-{ops}.tlog")
            made = write_loop_log(log, rounds_for(ops))
            mb = os.path.getsize(log) / 1e6
            for name in names:
                cmd = [a.replace("{log}", log) for a in COMMANDS[name]]
                best = min(measure(cmd, tmp) for _ in range(args.runs))
                print(
                    f"| {made.ops:,} | {mb:,.0f} MB | `{name}` | {best[0]:.2f} s "
                    f"| {best[1] / 1024:,.0f} MB |",
                    flush=True,
                )
            os.remove(log)


if __name__ == "__main__":
    main()
