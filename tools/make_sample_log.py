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
from tracer.events.writer import LogWriter

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests", "data")

T0 = 1_700_000_000_000_000_000  # 2023-11-14 22:13:20 UTC, in ns

RECORDS: list[list] = [
    format.header(
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
        }
    ),
    format.thread(0, "MainThread"),
    format.callsite(1, "pipeline.py", 7, "<module>", 'df = pd.read_csv("sales.csv")'),
    format.schema(1, ["region", "amount", "note"], ["object", "float64", "object"]),
    format.node(1, "DataFrame", "pandas.DataFrame", [3, 3], 1, None, 1, 1, 1),
    format.meaning(1, {"family": "read"}),
    format.op(
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
        {},
        1,
    ),
    format.file(1, "sales.csv", "read", "csv", 57, "xxh3:9f86d081884c7d65", 1, T0 - 10**9),
    format.fingerprint(1, b"\x00\x01\xfe\xff fingerprint bytes"),
    format.callsite(2, "pipeline.py", 8, "<module>", "df = df.dropna()  # région → ok"),
    format.node(2, "DataFrame", "pandas.DataFrame", [2, 3], 1, b"\x12\x34", 1, 2, 2),
    format.meaning(
        2,
        {
            "family": "row_filter",
            "columns": ["subset"],
            "filter_by": ["missing", "subset"],
            "hint": ["subset"],
        },
    ),
    format.op(
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
        {"rows_dropped": 1, "dropped_deltas": [1], "filter_columns": ["amount"]},
        2,
    ),
    format.node(3, "Series", "pandas.Series", [2], None, None, 1, 3, 3),
    # a meaning from a newer tracer: an unknown family and field read as they are / are ignored
    format.meaning(3, {"family": "column_select", "select": "key", "lanes": 4}),
    format.op(
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
        3,
    ),
    format.error(T0 + 500_000, "fingerprint", "could not hash column 'note': unhashable type"),
    format.file(4, "out/summary.parquet", "write", "parquet", None, None, 3, None),
    format.trailer(
        {
            "ended": "2023-11-14T22:13:22+00:00",
            "status": "ok",
            "exit_code": 0,
            "error": None,
            "counts": {"ops": 3, "nodes": 3, "files": 2, "errors": 1},
        }
    ),
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
