"""Write the sample log of the current format version to tests/data/format-MAJOR.MINOR.tlog.

    python tools/make_sample_log.py [--force]

Every released format keeps one sample in tests/data/, and tests/unit/test_log_format.py checks
that each still reads to exactly the records written here. A sample of a released format is
frozen: this script refuses to overwrite one unless given --force (only before a release).
The content is fixed (no clock, host or path of this machine) so the file is reproducible.
"""

from __future__ import annotations

import os
import sys

from tracer.events import format
from tracer.events.format import Kind
from tracer.events.writer import LogWriter

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests", "data")

T0 = 1_700_000_000_000_000_000  # 2023-11-14 22:13:20 UTC, in ns

RECORDS: list[list] = [
    [
        Kind.HEADER,
        {
            "tracer": "0.1.0",
            "format": [format.FORMAT_MAJOR, format.FORMAT_MINOR],
            "python": "3.12.1",
            "pandas": "2.2.0",
            "numpy": "1.26.4",
            "backend": "sysmon",
            "argv": ["pipeline.py", "--rows", "3"],
            "cwd": "/home/ana/project",
            "start_ns": T0,
            "host": "sample-host",
            "pid": 4242,
        },
    ],
    [Kind.THREAD, 0, "MainThread"],
    [Kind.CALLSITE, 1, "pipeline.py", 7, "<module>", 'df = pd.read_csv("sales.csv")'],
    [Kind.SCHEMA, 1, ["region", "amount", "note"], ["object", "float64", "object"]],
    [Kind.NODE, 1, "frame", "pandas.DataFrame", [3, 3], 1, None, 1, None, 1],
    [
        Kind.OP,
        1,
        "read_csv",
        "pandas.read_csv",
        None,
        [],
        [1],
        1,
        0,
        T0 + 1_000,
        250_000,
        {"filepath_or_buffer": "'sales.csv'"},
        {"rows": 3},
    ],
    [Kind.FILE, 1, "sales.csv", "r", "csv", 57, "xxh3:9f86d081884c7d65", 1, T0 - 10**9],
    [Kind.FINGERPRINT, 1, b"\x00\x01\xfe\xff fingerprint bytes"],
    [Kind.CALLSITE, 2, "pipeline.py", 8, "<module>", "df = df.dropna()  # région → ok"],
    [Kind.NODE, 2, "frame", "pandas.DataFrame", [2, 3], 1, b"\x12\x34", 1, 2, 2],
    [
        Kind.OP,
        2,
        "dropna",
        "pandas.DataFrame.dropna",
        None,
        [1],
        [2],
        2,
        0,
        T0 + 300_000,
        80_000,
        {},
        {"rows_dropped": 1, "dropped_deltas": [1], "ratio": 0.5, "exact": True},
    ],
    [Kind.NODE, 3, "series", "pandas.Series", [2], None, None, 1, 3, 3],
    [
        Kind.OP,
        3,
        "getitem",
        "pandas.DataFrame.__getitem__",
        2,
        [2],
        [3],
        None,
        0,
        T0 + 400_000,
        5_000,
        {"key": "'amount'"},
        {},
    ],
    [Kind.ERROR, T0 + 500_000, "fingerprint", "could not hash column 'note': unhashable type"],
    [Kind.FILE, 4, "out/summary.parquet", "w", "parquet", None, None, 3, None],
    [
        Kind.TRAILER,
        {
            "ended": T0 + 2_000_000_000,
            "status": "ok",
            "exit_code": 0,
            "error": None,
            "counts": {"ops": 3, "nodes": 3, "files": 2, "errors": 1},
        },
    ],
]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    force = args == ["--force"]
    if args and not force:
        print("usage: python tools/make_sample_log.py [--force]", file=sys.stderr)
        return 2
    name = f"format-{format.FORMAT_MAJOR}.{format.FORMAT_MINOR}.tlog"
    path = os.path.normpath(os.path.join(DATA, name))
    if os.path.exists(path) and not force:
        print(f"{path} exists: samples of a released format are frozen (--force to rewrite)")
        return 1
    with LogWriter(path) as writer:
        for rec in RECORDS:
            writer.record(rec)
    os.chmod(path, 0o644)  # a test fixture, not a private log
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(RECORDS)} records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
