"""Every benchmark, one command, Markdown out:

    python benchmarks/run.py [--quick]

per-op overhead (bench_overhead), whole pipelines, pure-Python code, memory, log size and
start-up (bench_pipeline), the same programs in instructions executed when valgrind is
installed (bench_instructions: a figure run-to-run noise does not move), fingerprint cost
at 1k / 100k / 1M rows (bench_fingerprint), and on Python < 3.12 the profile filter alone
(bench_filter). Each part runs in its own process, in the interpreter running this script;
the README quotes the results.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def part(title: str, script: str, *args: str) -> None:
    print(f"\n### {title}\n", flush=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, os.path.join(HERE, script), *args], check=True, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer sizes and rounds")
    args = parser.parse_args()
    quick = args.quick
    part("Per-op overhead", "bench_overhead.py",
         *(["--sizes", "1000,100000", "--rounds", "3"] if quick else []))
    part("Whole programs", "bench_pipeline.py", *(["--runs", "3"] if quick else []))
    if not quick:
        part("Whole programs in instructions (valgrind)", "bench_instructions.py")
    part("Fingerprints", "bench_fingerprint.py")
    if sys.version_info < (3, 12):
        part("The profile filter alone (Python < 3.12)", "bench_filter.py",
             *(["--rounds", "5"] if quick else []))


if __name__ == "__main__":
    main()
