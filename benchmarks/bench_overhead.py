"""Per-op overhead of tracing: traced and untraced interleaved in one process.

    python benchmarks/bench_overhead.py [--sizes 1000,10000,100000,500000] [--rounds 7]

For each op and size, every round times the op untraced and traced (the order alternates
from round to round) with enough calls per sample to take >= 20 ms untraced; the table gives
the median added microseconds per call and the median ratio. Prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import tracer  # noqa: E402


def make_frames(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(n)
    a[rng.random(n) < 0.1] = np.nan
    df = pd.DataFrame(
        {
            "k": rng.integers(0, 100, n),
            "a": a,
            "b": rng.integers(0, 1_000_000, n),
            "s": np.array([f"item_{i % 997}" for i in range(n)], dtype=object),
        }
    )
    right = pd.DataFrame({"k": np.arange(100), "w": np.arange(100) * 1.5})
    return df, right


def make_ops(df: pd.DataFrame, right: pd.DataFrame) -> dict[str, object]:
    mask = df["a"] > 0
    return {
        "dropna": lambda: df.dropna(),
        "fillna": lambda: df.fillna(0),
        "assign": lambda: df.assign(x=lambda d: d["a"] * 2),
        "query": lambda: df.query("a > 0"),
        "mask filter": lambda: df[mask],
        "select columns": lambda: df[["a", "b"]],
        "merge": lambda: df.merge(right, on="k"),
        "groupby.mean": lambda: df.groupby("k").mean(numeric_only=True),
        "sort_values": lambda: df.sort_values("b"),
        "rename": lambda: df.rename(columns={"a": "alpha"}),
        "astype": lambda: df.astype({"b": "float64"}),
        "drop_duplicates": lambda: df.drop_duplicates(subset=["k"]),
        "concat": lambda: pd.concat([df, df]),
    }


def calibrate(fn, min_time: float = 0.02) -> int:
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - t0 >= min_time or number >= 1 << 14:
            return number
        number *= 2


def sample(fn, number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def measure(ops: dict, rounds: int, logdir: str) -> dict[str, tuple[float, float, float]]:
    out = {}
    for name, fn in ops.items():
        number = calibrate(fn)
        plain, traced = [], []
        for r in range(rounds):
            for mode in ("plain", "traced") if r % 2 == 0 else ("traced", "plain"):
                if mode == "plain":
                    plain.append(sample(fn, number))
                    continue
                t = tracer.Tracer(os.path.join(logdir, f"{name}-{r}.tlog"))
                t.start()
                try:
                    fn()  # the first call after start instruments the code: not measured
                    traced.append(sample(fn, number))
                finally:
                    t.stop()
        p, q = statistics.median(plain), statistics.median(traced)
        ratios = statistics.median(b / a for a, b in zip(plain, traced))
        out[name] = (p * 1e6, (q - p) * 1e6, ratios)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000,500000")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--ops", default="", help="comma-separated subset of ops")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[int, dict[str, tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as logdir:
        for n in sizes:
            df, right = make_frames(n)
            ops = make_ops(df, right)
            if args.ops:
                ops = {k: v for k, v in ops.items() if k in args.ops.split(",")}
            results[n] = measure(ops, args.rounds, logdir)
            print(f"measured {n} rows", file=sys.stderr)
    from tracer.hooks.select import choose_backend

    backend = choose_backend().name
    print(
        f"Python {sys.version.split()[0]}, backend {backend}, pandas {pd.__version__}; "
        f"median of {args.rounds} interleaved rounds; added µs per op (ratio traced/plain)\n"
    )
    names = list(next(iter(results.values())))
    print("| op | " + " | ".join(f"{n:,} rows" for n in sizes) + " |")
    print("| --- |" + " ---: |" * len(sizes))
    for name in names:
        cells = [f"{results[n][name][1]:+.0f} ({results[n][name][2]:.2f}×)" for n in sizes]
        print(f"| {name} | " + " | ".join(cells) + " |")
    medians = [statistics.median(results[n][k][1] for k in names) for n in sizes]
    print("| **median** | " + " | ".join(f"**{m:+.0f}**" for m in medians) + " |")


if __name__ == "__main__":
    main()
