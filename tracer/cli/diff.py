"""`tracer diff RUN_A RUN_B`: where two runs' data first diverge; exit 1 if they differ."""

from __future__ import annotations

import argparse
from typing import Any

from tracer.cli.refs import HOME_HELP


class DiffCommand:
    """Compare two runs op by op (exit status 0: equivalent, 1: different)."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        p.add_argument("run_a", metavar="RUN_A",
                       help="a run id (or unique part of one), a log path, latest or latest~N")
        p.add_argument("run_b", metavar="RUN_B", nargs="?", default=None,
                       help="the other run (default: latest)")
        p.add_argument("--home", help=HOME_HELP)

    def run(self, args: Any) -> int:
        import os

        from rich.console import Console

        from tracer.cli.logs import open_lineage
        from tracer.home import tracer_home
        from tracer.renderers.store_views import diff_view
        from tracer.store import open_store
        from tracer.store.diff import compare

        refs = [args.run_a, args.run_b or "latest"]
        if all(os.path.isfile(r) for r in refs) and not os.path.isdir(tracer_home(args.home)):
            # two log files and no store: nothing to look up
            run_a = run_b = None
            logs = refs
        else:
            with open_store(args.home) as store:
                run_a, run_b = store.resolve(refs[0]), store.resolve(refs[1])
            logs = [run_a.log, run_b.log]
        a = open_lineage(logs[0])
        b = a if os.path.samefile(logs[0], logs[1]) else open_lineage(logs[1])
        result = compare(a, b)
        diff_view(result, run_a, run_b, Console())
        return 0 if result.equivalent else 1
