"""Command line: `tracer <command> ...`. Filled in by the observer-core work."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> object:
    raise SystemExit("tracer: not built yet")
