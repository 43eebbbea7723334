"""`tracer index [--rebuild] [LOG ...]`: bring the run index up to date (it is a cache)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tracer.cli.refs import HOME_HELP
from tracer.exceptions import CommandError


class IndexCommand:
    """Update the run index from the logs (every store command does this first)."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        p.add_argument("logs", nargs="*", metavar="LOG",
                       help="also index these logs (e.g. written elsewhere with `run -o`)")
        p.add_argument("--rebuild", action="store_true",
                       help="forget the index and read every log again")
        p.add_argument("--home", help=HOME_HELP)

    def run(self, args: Any) -> int:
        import os

        from tracer.home import tracer_home
        from tracer.store import open_store

        if args.logs:  # indexing a log made elsewhere may start a store
            os.makedirs(tracer_home(args.home), mode=0o700, exist_ok=True)
        with open_store(args.home) as store:
            stats = store.rebuild() if args.rebuild else None
            added = 0
            for log in args.logs:
                if not store.index(log):
                    raise CommandError(f"{log} could not be indexed")
                added += 1
            n = len(store.runs())
            path = store.path
        what = "rebuilt" if args.rebuild else "up to date"
        extra = f"; {added} log{'s' if added != 1 else ''} added" if added else ""
        skipped = f"; {stats.skipped} unreadable logs skipped" if stats and stats.skipped else ""
        sys.stderr.write(f"tracer: index {what}: {n} run{'s' if n != 1 else ''} in {path}"
                         f"{extra}{skipped}\n")
        return 0
