"""Print every record of a tracer log raw, one per line, for debugging.

    python tools/dump_log.py PATH

The first line is the format version and the header; each following line is a record's kind
name and its fields as ``name=repr(value)``; a last line says how the log ended. Exit status:
0 for a complete log, 1 for a run that did not finish or a damaged log, 2 if PATH is no log.
"""

from __future__ import annotations

import os
import sys

from tracer.events.reader import LogReader
from tracer.exceptions import LogFormatError


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python tools/dump_log.py PATH", file=sys.stderr)
        return 2
    try:
        reader = LogReader(args[0])
    except LogFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with reader:
        major, minor = reader.version
        print(f"# log format {major}.{minor}")
        print(f"HEADER meta={reader.header!r}")
        for kind, fields in reader.records():
            print(kind.name, " ".join(f"{name}={value!r}" for name, value in fields.items()))
        if reader.damage is not None:
            print(f"# {reader.damage.kind}: {reader.damage.detail}")
            return 1
        if not reader.finished:
            print("# no trailer: the run did not finish (or is still running)")
            return 1
        print("# complete")
        return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `dump_log.py LOG | head`: stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
