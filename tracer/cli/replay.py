"""`tracer replay [LOG] [--speed X]` and `tracer replay --follow [LOG]`.

Replay prints a recorded run's ops in order, paced by their recorded times (`--speed 2` twice
as fast, `--speed 0` at once). `--follow` tails a log that a running script is still writing
(default: the latest run), prints each op as it lands, and stops when the run ends (exit 0),
when the writing process is gone without ending the log (exit 1), or on Ctrl-C (exit 130).
Both fold what repeats, as `tracer show` does (tracer/renderers/live.py says how).
"""

from __future__ import annotations

import argparse
from typing import Any

from tracer.cli.show import make_console
from tracer.exceptions import CommandError


class ReplayCommand:
    """Replay a run's ops in order, or --follow a run as it happens."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        p.add_argument("log", nargs="?", help="the log (default: the latest run)")
        p.add_argument("--home", help="the store directory (default: $TRACER_HOME or ./.tracer)")
        p.add_argument(
            "--speed",
            type=float,
            default=1.0,
            metavar="X",
            help="replay X times as fast as recorded (0: no pauses; default 1)",
        )
        p.add_argument(
            "--follow",
            "-f",
            action="store_true",
            help="follow a log that a running script is still writing",
        )
        p.add_argument(
            "--wait",
            type=float,
            default=10.0,
            metavar="SECONDS",
            help="--follow: how long to wait for the log to appear (default 10)",
        )
        p.add_argument("--no-color", action="store_true", help="no colours (also: NO_COLOR=1)")
        p.add_argument(
            "--width",
            type=int,
            default=None,
            metavar="COLUMNS",
            help="draw this wide (default: the terminal's width)",
        )

    def run(self, args: Any) -> int:
        if args.speed < 0:
            raise CommandError("--speed must be 0 or more")
        console = make_console(args)
        if args.follow:
            from tracer.cli.logs import latest_log
            from tracer.renderers.live import Follower

            path = args.log or latest_log(args.home)
            return Follower(console, path, wait=max(args.wait, 0.0)).run()
        from tracer.cli.logs import open_lineage
        from tracer.lineage.fold import FOLD_ABOVE
        from tracer.renderers.live import Replayer

        lineage = open_lineage(args.log, args.home, FOLD_ABOVE)
        try:
            return Replayer(console, lineage, speed=args.speed).run()
        except KeyboardInterrupt:
            console.print("stopped")
            return 130
