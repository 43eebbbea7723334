"""Fingerprint and file-hash costs, printed as a Markdown table.

    python benchmarks/bench_fingerprint.py

Content fingerprints must cost the same at 1k and 1M rows (DESIGN.md §4, §7): the table
gives the median time of `fingerprint()` for a 5-column mixed frame (int key, float with
NaN, int, str with None, datetime) at 1k, 100k and 1M rows and the 1M/1k ratio, for
Series, and for a 50-column frame (with the cost per column). Then the full-content hash
throughput of `file_facts` on a 100 MB temporary file (page cache warm: the file was just
written), and the cost of asking again about the unchanged file (one stat).

Each figure is the median of REPEATS repeats; a repeat runs the call in a loop for at least
MIN_REPEAT_S and keeps the time per call. The fastest repeat is shown beside it: on a shared,
noisy machine it is the better estimate of the cost itself.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xxhash

from tracer.fingerprint import files, fingerprint

REPEATS = 15
MIN_REPEAT_S = 0.02
FILE_MB = 100


@dataclass(frozen=True)
class Timing:
    median: float  # seconds per call
    best: float


def measure(fn: Callable[[], object], repeats: int = REPEATS) -> Timing:
    """Seconds per call of `fn`: median and fastest of `repeats` repeats."""
    fn()  # warm: caches (sample positions, handlers), first-touch page faults
    times = []
    for _ in range(repeats):
        calls = 0
        start = time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= MIN_REPEAT_S:
                break
        times.append(elapsed / calls)
    return Timing(statistics.median(times), min(times))


def mixed_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.random(n)
    x[rng.random(n) < 0.1] = np.nan
    s = np.array([f"city_{i % 997}" for i in range(n)], dtype=object)
    s[::13] = None
    return pd.DataFrame(
        {
            "key": np.arange(n),
            "x": x,
            "k": rng.integers(0, 100, n),
            "s": pd.array(s, dtype="str"),
            "t": pd.date_range("2020-01-01", periods=n, freq="s"),
        }
    )


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs"


Row = tuple[str, str, str, str]  # case, median, best, note


def row(case: str, t: Timing, note: str = "") -> Row:
    return (case, us(t.median), us(t.best), note)


def frame_rows() -> list[Row]:
    rows = []
    by_n = {}
    for n in (1_000, 100_000, 1_000_000):
        df = mixed_frame(n)
        by_n[n] = measure(lambda df=df: fingerprint(df))
        rows.append(row(f"DataFrame, 5 mixed columns, {n:,} rows", by_n[n]))
    small, big = by_n[1_000], by_n[1_000_000]
    rows.append(
        (
            "ratio 1M rows / 1k rows",
            f"{big.median / small.median:.2f}×",
            f"{big.best / small.best:.2f}×",
            "flat = ~1",
        )
    )
    return rows


def series_rows() -> list[Row]:
    rows = []
    df = mixed_frame(1_000_000)
    for col, label in (("x", "float64 with NaN"), ("s", "str with None"), ("t", "datetime")):
        rows.append(
            row(f"Series {label}, 1,000,000 rows", measure(lambda s=df[col]: fingerprint(s)))
        )
    clean = pd.Series([f"city_{i % 997}" for i in range(1_000_000)], dtype="str")
    rows.append(
        row("Series str without missing, 1,000,000 rows", measure(lambda: fingerprint(clean)))
    )
    return rows


def wide_rows() -> list[Row]:
    rng = np.random.default_rng(1)
    floats = pd.DataFrame(rng.random((100_000, 50)), columns=[f"f{i}" for i in range(50)])
    mixed = pd.concat([mixed_frame(100_000).add_suffix(f"_{i}") for i in range(10)], axis=1)
    t_floats = measure(lambda: fingerprint(floats))
    t_mixed = measure(lambda: fingerprint(mixed))
    return [
        row(
            "DataFrame, 50 float columns, 100,000 rows",
            t_floats,
            f"{us(t_floats.best / 50)}/column (best)",
        ),
        row(
            "DataFrame, 50 mixed columns (10 × the 5), 100,000 rows",
            t_mixed,
            f"{us(t_mixed.best / 50)}/column (best)",
        ),
    ]


def array_rows() -> list[Row]:
    array = np.random.default_rng(2).random((1_000_000, 8))
    return [row("ndarray float64, 1,000,000 × 8", measure(lambda: fingerprint(array)))]


def file_rows() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big.bin")
        chunk = os.urandom(1 << 20)
        with open(path, "wb") as f:
            for _ in range(FILE_MB):
                f.write(chunk)
        old = os.stat(path).st_mtime_ns - 3600 * 10**9  # out of the racy window
        os.utime(path, ns=(old, old))

        def full_hash() -> None:
            files.clear_cache()
            files.file_facts(path)

        t_full = measure(full_hash, repeats=7)
        files.file_facts(path)
        t_cached = measure(lambda: files.file_facts(path))
        files.clear_cache()
    mb = FILE_MB * (1 << 20) / 1e6
    return [
        (
            f"file_facts, {FILE_MB} MiB file, full hash (page cache warm)",
            f"{t_full.median * 1e3:,.1f} ms = {mb / t_full.median:,.0f} MB/s",
            f"{t_full.best * 1e3:,.1f} ms = {mb / t_full.best:,.0f} MB/s",
            "",
        ),
        row(f"file_facts, {FILE_MB} MiB file, cached re-ask", t_cached, "one stat"),
    ]


def main() -> int:
    print(
        f"python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}, "
        f"xxhash {xxhash.VERSION}; {REPEATS} repeats of >= {MIN_REPEAT_S * 1e3:.0f} ms\n"
    )
    rows = frame_rows() + series_rows() + wide_rows() + array_rows() + file_rows()
    print("| case | median | best | note |")
    print("| --- | ---: | ---: | --- |")
    for case, median, best, note in rows:
        print(f"| {case} | {median} | {best} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
