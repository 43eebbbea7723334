"""`tracer runs [--limit N]`: the runs in the store, newest first."""

from __future__ import annotations

import argparse
from typing import Any

from tracer.cli.refs import HOME_HELP


class RunsCommand:
    """List the traced runs in the store, newest first."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        p.add_argument("-n", "--limit", type=int, default=20,
                       help="show at most N runs (default: 20; 0: all)")
        p.add_argument("--home", help=HOME_HELP)

    def run(self, args: Any) -> int:
        import os

        from rich.console import Console

        from tracer.home import tracer_home
        from tracer.renderers.store_views import runs_table
        from tracer.store import open_store

        if not os.path.isdir(tracer_home(args.home)):
            Console().print(f"no runs: there is no store at {tracer_home(args.home)} "
                            "(run a script with `tracer run` first)")
            return 0
        with open_store(args.home) as store:
            runs = store.runs(limit=args.limit or None)
            total = len(store.runs()) if args.limit else len(runs)
        console = Console()
        if not runs:
            console.print(f"no runs in {store.runs_dir} (run a script with `tracer run` first)")
            return 0
        runs_table(runs, console)
        if total > len(runs):
            console.print(f"[dim]{total - len(runs)} older runs not shown (--limit 0 shows all)[/]")
        return 0
