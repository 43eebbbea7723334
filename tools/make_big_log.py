"""Write a synthetic tracer log of a loop in user code, as long as asked, in seconds.

    python tools/make_big_log.py OUT.tlog --ops 1000000 [--torn]

The log is what tracing this script would record (same record layout, interned strings,
children before their parent, FILE records after their op), without running pandas:

    1  import pandas as pd
    2  df = pd.read_csv("data.csv")
    3  for i in range(ROUNDS):
    4      df = df.dropna()                            # drops 1 row every round
    5      df = df[df["a"] > 0]                        # getitem, gt, filter: 1 row every 3rd round
    6      df = df.assign(c=lambda d: d["a"] * 2)      # nested: getitem, mul
    7  df.to_csv("out.csv")

Seven ops a round (five made by the script, two inside `assign`), plus read_csv and to_csv.
`write_loop_log` returns a `LoopLog` with the numbers a correct view must show. Used by
tests/integration/test_show_large.py and benchmarks/bench_show.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any

from tracer.events.format import Kind
from tracer.events.writer import LogWriter

OPS_PER_ROUND = 7
T0 = 1_700_000_000_000_000_000


@dataclass
class LoopLog:
    path: str
    rounds: int
    ops: int  # every op, nested ones included
    top_ops: int
    rows_start: int
    dropna_dropped: int
    filter_dropped: int
    rows_end: int


def rounds_for(ops: int) -> int:
    """The number of rounds that makes about `ops` ops."""
    return max(1, (ops - 2) // OPS_PER_ROUND)


def write_loop_log(
    path: str, rounds: int, *, finished: bool = True, header: dict[str, Any] | None = None
) -> LoopLog:
    """Write the log of the script above running `rounds` rounds. `finished=False` leaves it
    as a killed run leaves it: no trailer and a torn last record. `header`: fields to add to
    (or change in) the log's header."""
    rows = rows_start = 3 * rounds + 1000
    w = LogWriter(path)
    rec = w.record
    rec(
        [
            Kind.HEADER,
            {
                "run_id": "20240101000000-bigloop0",
                "tracer_version": "0.1.0",
                "python": "3.12.1",
                "backend": "sysmon",
                "script": "/work/loop.py",
                "argv": ["loop.py"],
                "cwd": "/work",
                "started": "2024-01-01T00:00:00.000Z",
                "pid": 4242,
                **(header or {}),
            },
        ]
    )
    strings = [
        "/work/loop.py",  # 1
        "<module>",
        "<lambda>",
        "pandas.DataFrame",
        "pandas.Series",  # 5
        "read_csv",
        "pandas.read_csv",
        "dropna",
        "pandas.core.frame.DataFrame.dropna",
        "getitem",  # 10
        "pandas.DataFrame.__getitem__",
        "gt",
        "pandas.__gt__",
        "filter",
        "assign",  # 15
        "pandas.core.frame.DataFrame.assign",
        "mul",
        "pandas.__mul__",
        "to_csv",
        "pandas.core.generic.NDFrame.to_csv",  # 20
    ]
    for i, s in enumerate(strings, 1):
        rec([Kind.STRING, i, s])
    rec([Kind.THREAD, 0, "MainThread"])
    code = {
        1: (2, 2, 'df = pd.read_csv("data.csv")'),
        2: (4, 2, "df = df.dropna()"),
        3: (5, 2, 'df = df[df["a"] > 0]'),
        4: (6, 2, 'df = df.assign(c=lambda d: d["a"] * 2)'),
        5: (6, 3, 'df = df.assign(c=lambda d: d["a"] * 2)'),
        6: (7, 2, 'df.to_csv("out.csv")'),
    }
    for site, (line, fn, text) in code.items():
        rec([Kind.CALLSITE, site, 1, line, fn, text])
    rec([Kind.SCHEMA, 1, ["a", "b"], ["int64", "int64"]])
    rec([Kind.SCHEMA, 2, ["a"], ["int64"]])
    rec([Kind.SCHEMA, 3, ["a"], ["bool"]])
    rec([Kind.SCHEMA, 4, ["a", "b", "c"], ["int64", "int64", "int64"]])

    seq = node = obj = 0
    t = 1000

    def new_node(
        kind: str,
        type_: int,
        shape: list[int],
        schema: int,
        origin: int,
        version: int = 1,
        same_object: int | None = None,
    ) -> int:
        nonlocal node, obj
        node += 1
        if same_object is None:
            obj += 1
        rec(
            [
                Kind.NODE,
                node,
                kind,
                type_,
                shape,
                schema,
                node.to_bytes(16, "little"),
                version,
                origin,
                same_object or obj,
            ]
        )
        return node

    def op(
        s: int,
        name: int,
        qual: int,
        parent: int | None,
        ins: list[int],
        outs: list[int],
        site: int,
        params: dict,
        facts: dict,
    ) -> None:
        nonlocal t
        t += 50_000
        rec([Kind.OP, s, name, qual, parent, ins, outs, site, 0, t, 40_000, params, facts])

    seq += 1
    df = new_node("DataFrame", 4, [rows, 2], 1, seq)
    op(
        seq,
        6,
        7,
        None,
        [],
        [df],
        1,
        {"filepath_or_buffer": "'data.csv'"},
        {"file": ["/work/data.csv", "read"]},
    )
    rec([Kind.FILE, seq, "/work/data.csv", "read", "csv", 12_345, "xxh3_128:" + "ab" * 16, df, T0])
    schema = 1
    dropna_dropped = filter_dropped = 0
    for i in range(rounds):
        width = 2 if schema == 1 else 3
        # dropna
        seq += 1
        rows -= 1
        dropna_dropped += 1
        out = new_node("DataFrame", 4, [rows, width], schema, seq)
        op(seq, 8, 9, None, [df], [out], 2, {}, {"rows_dropped": 1})
        df = out
        # df["a"] > 0, then the filter
        seq += 1
        col = new_node("Series", 5, [rows], 2, seq)
        op(seq, 10, 11, None, [df], [col], 3, {"key": "'a'"}, {})
        seq += 1
        mask = new_node("Series", 5, [rows], 3, seq)
        op(seq, 12, 13, None, [col], [mask], 3, {"other": "0"}, {})
        seq += 1
        drop = 1 if i % 3 == 0 else 0
        rows -= drop
        filter_dropped += drop
        out = new_node("DataFrame", 4, [rows, width], schema, seq)
        facts: dict = {"rows_dropped": drop, "filter_columns": ["a"]}
        if drop:
            facts["dropped_labels"] = [i]
        op(seq, 14, 11, None, [df, mask], [out], 3, {}, facts)
        df = out
        # assign, with its lambda's ops inside (written before the assign itself)
        seq += 1
        assign = seq
        copy = new_node("DataFrame", 4, [rows, width], schema, assign)
        copy_obj = obj
        seq += 1
        a = new_node("Series", 5, [rows], 2, seq)
        op(seq, 10, 11, assign, [copy], [a], 5, {"key": "'a'"}, {})
        seq += 1
        doubled = new_node("Series", 5, [rows], 2, seq)
        op(seq, 17, 18, assign, [a], [doubled], 5, {"other": "2"}, {})
        schema = 4
        out = new_node("DataFrame", 4, [rows, 3], 4, assign, version=2, same_object=copy_obj)
        op(
            assign,
            15,
            16,
            None,
            [df],
            [out],
            4,
            {"c": "<function <lambda>>"},
            {"derived_from": {"c": ["a"]}},
        )
        df = out
        if i % 4096 == 0:
            w.flush()
    seq += 1
    op(
        seq,
        19,
        20,
        None,
        [df],
        [],
        6,
        {"path_or_buf": "'out.csv'"},
        {"file": ["/work/out.csv", "write"]},
    )
    rec([Kind.FILE, seq, "/work/out.csv", "write", "csv", 54_321, "xxh3_128:" + "cd" * 16, df, T0])
    ops = seq
    if finished:
        rec(
            [
                Kind.TRAILER,
                {
                    "ended": "2024-01-01T00:01:00.000Z",
                    "duration_s": 60.0,
                    "status": "ok",
                    "exit_code": 0,
                    "error": None,
                },
            ]
        )
    w.close()
    if not finished:
        with open(path, "r+b") as f:  # tear the last record, as kill -9 mid-write would
            f.truncate(os.path.getsize(path) - 3)
    return LoopLog(
        path, rounds, ops, 2 + 5 * rounds, rows_start, dropna_dropped, filter_dropped, rows
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the log to write")
    parser.add_argument("--ops", type=int, default=1_000_000, help="about this many ops")
    parser.add_argument("--torn", action="store_true", help="no trailer, a torn last record")
    args = parser.parse_args(argv)
    log = write_loop_log(args.out, rounds_for(args.ops), finished=not args.torn)
    print(
        f"{log.path}: {log.ops:,} ops ({log.rounds:,} rounds), {os.path.getsize(log.path):,} bytes",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
