"""Whole-program cost of tracing in instructions executed: a figure no noise moves.

    python benchmarks/bench_instructions.py

Wall-clock ratios of whole processes vary by ±3-5 % from run to run on a small shared machine,
more than the goal they are measured against (the demo's 1.03×). This counts the instructions
each process executes under valgrind (callgrind), with the hash seed fixed: two runs of the
same command agree to about 0.1 % (BLAS runs on one thread: its idle workers spin, and the
spinning would be counted). It leaves out what instructions do not show (cache misses,
page faults, time in the kernel), so it is a floor for the wall-clock ratio, and the figure to
compare when a change to the tracer's fixed costs is too small for the clock to see.

Cases: an empty script (the fixed cost of `tracer run`), a script that only imports the demo's
libraries (the cost of meeting every library function once), and the housing demo. Plain and
traced run side by side (two processes at a time). Needs valgrind; without it, says so and
exits 0. Prints Markdown.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from bench_pipeline import DEMO
from bench_pipeline import ENV as PIPELINE_ENV

IMPORTS = (
    "import argparse, joblib, numpy, pandas\nfrom sklearn.linear_model import LinearRegression\n"
)
ENV = {
    **PIPELINE_ENV,
    "PYTHONHASHSEED": "0",
    # BLAS worker threads spin while they wait, and valgrind counts the spinning: one thread.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def instructions(cmd: list[str], cwd: str) -> int:
    """Instructions executed by `python cmd...` (its children not included)."""
    p = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, *cmd],
        cwd=cwd, env=ENV, capture_output=True, text=True,
    )  # fmt: skip
    found = _COLLECTED.search(p.stderr)
    if p.returncode != 0 or found is None:
        raise SystemExit(f"{cmd} failed under valgrind:\n{p.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    if shutil.which("valgrind") is None:
        print("(valgrind is not installed: no instruction counts)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty.py")
        imports = os.path.join(tmp, "imports.py")
        with open(empty, "w") as f:
            f.write("pass\n")
        with open(imports, "w") as f:
            f.write(IMPORTS)
        cases = [
            ("empty script", [empty]),
            ("import pandas, numpy, joblib, scikit-learn", [imports]),
            ("housing demo (20,640 rows)", [DEMO, "--out", "{side}"]),
        ]
        for _, args in cases:  # compile and cache every module first, outside the count
            subprocess.run([sys.executable, "-m", "tracer", "run", "-q", "-o",
                            os.path.join(tmp, "warm.tlog"), *_side(args, "warm")],
                           cwd=tmp, env=ENV, capture_output=True, check=True)  # fmt: skip
        print(f"Python {sys.version.split()[0]}; instructions executed (valgrind callgrind)\n")
        print("| program | plain (M) | traced (M) | added (M) | traced / plain |")
        print("| --- | ---: | ---: | ---: | ---: |")
        with ThreadPoolExecutor(2) as pool:
            for label, args in cases:
                log = os.path.join(tmp, "run.tlog")
                plain = pool.submit(instructions, _side(args, "plain"), tmp)
                run = ["-m", "tracer", "run", "-q", "-o", log, *_side(args, "traced")]
                traced = pool.submit(instructions, run, tmp)
                p, t = plain.result(), traced.result()
                print(f"| {label} | {p / 1e6:,.0f} | {t / 1e6:,.0f} | {(t - p) / 1e6:,.0f} "
                      f"| **{t / p:.3f}×** |", flush=True)  # fmt: skip


def _side(args: list[str], side: str) -> list[str]:
    """Each side writes its outputs into its own directory (the two run at the same time)."""
    return [a.format(side=side) for a in args]


if __name__ == "__main__":
    main()
