"""`tracer show` and `tracer summary` on long logs, as a user runs them: folded, in memory that
does not grow with the log.

The logs are synthetic (tools/make_big_log.py: the log of a loop doing the same pandas ops
round after round), written with the project's own LogWriter in well under a second. Memory is
the peak RSS of a fresh `python -m tracer` process, read with getrusage(RUSAGE_CHILDREN) by a
wrapper process; nothing here is timed (benchmarks/bench_show.py measures time, up to 1M ops).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support import ROOT, env
from support import run_cli as tracer

from tracer.lineage.fold import FOLD_ABOVE

sys.path.insert(0, str(ROOT / "tools"))
from make_big_log import LoopLog, rounds_for, write_loop_log  # noqa: E402

# Runs `python ARGS` in a grandchild and prints its peak RSS (KiB) as the last stderr line.
RSS_WRAPPER = """
import resource, subprocess, sys
p = subprocess.run([sys.executable, *sys.argv[1:]], stdout=subprocess.DEVNULL)
sys.stderr.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + "\\n")
sys.exit(p.returncode)
"""


def peak_rss_kib(*args: str, cwd: Path) -> int:
    p = subprocess.run(
        [sys.executable, "-c", RSS_WRAPPER, "-m", "tracer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    return int(p.stderr.strip().splitlines()[-1])


def expected_tree(log: LoopLog) -> str:
    """The folded tree of a loop log, without its column of call sites: every number follows
    from the log."""
    n, first, end = log.rounds, log.rows_start, log.rows_end
    r = lambda x: f"{x:,}"  # noqa: E731
    return "\n".join(
        line.rstrip()
        for line in f"""\
loop.py  ·  ok  ·  1 min 00 s  ·  {r(log.top_ops)} ops (+{r(log.ops - log.top_ops)} nested)
folded: {r(log.ops)} ops from 9 call sites, one row per repeated site with ×N; every op: \
tracer export
data.csv  csv · 12.3 kB · xxh3_128 abababab
├── read_csv → {r(first)} × 2
├── dropna  #2  ×{r(n)}  {r(first)} × 2 → {r(first - 1)} × 2  … {r(end + 1)} × 3 → {r(end)} × 3  \
−{r(log.dropna_dropped)} rows in all
│   └── ⤷ getitem  ×{r(n)}  'a'  {r(first - 1)} × 2 → Series {r(first - 1)}  … {r(end)} × 3 → \
Series {r(end)}
│       └── gt  ×{r(n)}  > 0  {r(first - 1)} → {r(first - 1)}  … {r(end)} → {r(end)}
│           └── ↪ filter #5  as mask
├── filter  #5  ×{r(n)}  {r(first - 1)} × 2 → {r(first - 2)} × 2  … {r(end)} × 3 → {r(end)} × 3  \
−{r(log.filter_dropped)} rows in all  by a
├── assign  ×{r(n)}  {r(first - 2)} × 2 → {r(first - 2)} × 3  … {r(end)} × 3 → {r(end)} × 3  \
+c ← a
│   ├── ┄ getitem 'a' · mul * 2
│   └── ↻ back to dropna #2
└── to_csv  {r(end)} × 3 → out.csv  54.3 kB
""".splitlines()
    )


def without_sites(text: str) -> str:
    """The tree without its right-hand column of call sites (checked on their own below)."""
    out = []
    for line in text.splitlines():
        left, _, site = line.rpartition("  ")
        out.append(left.rstrip() if site.startswith(":") and left.strip() else line.rstrip())
    return "\n".join(out)


def test_show_folds_a_long_log(tmp_path: Path):
    # GIVEN the log of 20,000 ops made by a loop of seven ops a round
    log = write_loop_log(str(tmp_path / "loop.tlog"), rounds_for(20_000))
    assert log.ops > FOLD_ABOVE
    # WHEN it is shown
    p = tracer("show", log.path, "--width", "120", cwd=tmp_path)
    # THEN each call site is one row: how many ops, first and last shapes, rows dropped in all
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert without_sites(p.stdout) == expected_tree(log)
    sites = [line.rpartition("  ")[2] for line in p.stdout.splitlines() if line.endswith(":4")]
    assert sites == [":4"] and max(len(line) for line in p.stdout.splitlines()) <= 120


def test_summary_of_a_long_log_counts_every_op(tmp_path: Path):
    log = write_loop_log(str(tmp_path / "loop.tlog"), rounds_for(20_000))
    n = log.rounds
    p = tracer("summary", log.path, "--width", "120", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    lines = [line.rstrip() for line in p.stdout.splitlines()]
    # (objects, not versions: each round changes one of its frames in place)
    assert lines[1] == f"Data tracked      {3 * n + 1:,} DataFrames · {4 * n:,} Series"
    assert lines[2] == (
        f"Transformations   {log.top_ops:,} transformations  (+{2 * n:,} nested inside them)"
    )
    assert lines[3] == (
        f"Rows filtered     {n + (n + 2) // 3:,} ops dropped rows: dropna ×{n:,} "
        f"−{log.dropna_dropped:,} :4 · filter ×{n:,} −{log.filter_dropped:,} :5"
    )
    assert lines[5].startswith(f"Operations        getitem {2 * n:,} · assign {n:,} · dropna")
    assert lines[-1].startswith(f"Folded            {log.ops:,} ops from 9 call sites")


def test_show_memory_does_not_grow_with_the_log(tmp_path: Path):
    # GIVEN two logs of the same loop, the second ten times longer (20k and 200k ops)
    small = write_loop_log(str(tmp_path / "small.tlog"), rounds_for(20_000))
    large = write_loop_log(str(tmp_path / "large.tlog"), rounds_for(200_000))
    # WHEN each is shown in a fresh process
    rss = [peak_rss_kib("show", log.path, "--width", "100", cwd=tmp_path) for log in (small, large)]
    # THEN the peak memory is the same within a few MB (building every op would take ~1 GB)
    assert rss[1] - rss[0] < 20 * 1024, rss


def test_show_a_torn_long_log(tmp_path: Path):
    # GIVEN a long run killed by kill -9: no trailer, the last record torn
    log = write_loop_log(str(tmp_path / "torn.tlog"), rounds_for(20_000), finished=False)
    # WHEN it is shown THEN what it holds is drawn, folded, with the warning, and exit 0
    p = tracer("show", log.path, "--width", "120", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    warning = p.stderr.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("tracer: warning: ")
    lines = p.stdout.splitlines()
    assert lines[0].startswith("loop.py  ·  did not finish  ·  ")
    assert lines[1].startswith("⚠ the run did not finish")
    assert lines[2].startswith(f"folded: {log.ops:,} ops from 9 call sites")
    assert f"dropna  #2  ×{log.rounds:,}  " in p.stdout
    assert "└── to_csv  " in p.stdout


def test_export_still_lists_every_op(tmp_path: Path):
    # GIVEN a log just past the folding threshold WHEN exported THEN nothing is folded
    log = write_loop_log(str(tmp_path / "loop.tlog"), rounds_for(FOLD_ABOVE + 100))
    p = tracer("export", log.path, "--to", "json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    import json

    assert len(json.loads(p.stdout)["ops"]) == log.ops > FOLD_ABOVE
