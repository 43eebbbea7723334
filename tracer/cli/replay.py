"""`tracer replay [RUN] [--speed X]` and `tracer replay --follow [RUN]`.

Replay prints a recorded run's ops in order, paced by their recorded times (`--speed 2` twice
as fast, `--speed 0` at once). `--follow` tails a log that a running script is still writing,
prints each op as it lands, and stops when the run ends (exit 0), when the writing process is
gone without ending the log (exit 1), or on Ctrl-C (exit 130, quietly).

Which log `--follow` tails without LOG: the latest run if it is still being written, else the
next run to start, waiting for it (and for the store, in a folder that has none) as long as
`--wait` says (default: until Ctrl-C). A run that had finished before the follow began is
never replayed: `--follow` is started before the run it is meant to watch.
Both fold what repeats, as `tracer show` does (tracer/renderers/live.py says how).
"""

from __future__ import annotations

import argparse
import glob
import os
import time
from typing import Any

from tracer.cli.refs import HOME_HELP, RUN_HELP
from tracer.cli.show import make_console
from tracer.exceptions import CommandError, LogFormatError

# Without LOG, a log whose header cannot be read yet is a run that is starting when it was
# modified this recently (seconds); an older one is a run that died at start.
STARTING = 5.0


class ReplayCommand:
    """Replay a run's ops in order, or --follow a run as it happens."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        p.add_argument("log", nargs="?", metavar="RUN", help=RUN_HELP)
        p.add_argument("--home", help=HOME_HELP)
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
            default=None,
            metavar="SECONDS",
            help="--follow: how long to wait for LOG to appear (default 10), or without LOG "
            "for the next run to start (default: until Ctrl-C)",
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
            from tracer.renderers.live import Follower

            wait = None if args.wait is None else max(args.wait, 0.0)
            try:
                path = (
                    _named(args.log, args.home) if args.log else next_run(args.home, console, wait)
                )
                return Follower(console, path, wait=10.0 if wait is None else wait).run()
            except KeyboardInterrupt:  # while waiting (the follow itself handles its own)
                return 130
        from tracer.cli.logs import open_lineage
        from tracer.lineage.fold import FOLD_ABOVE
        from tracer.renderers.live import Replayer

        lineage = open_lineage(args.log, args.home, FOLD_ABOVE)
        try:
            return Replayer(console, lineage, speed=args.speed).run()
        except KeyboardInterrupt:
            console.print("stopped")
            return 130


def _named(ref: str, home: str | None) -> str:
    """The log `--follow RUN` tails: a path as given (the run may not have started yet), else
    the run it names (an id, a unique part of one, latest~N)."""
    from tracer.cli.refs import resolve_log

    if os.path.exists(ref) or ref.endswith(".tlog") or os.sep in ref:
        return ref
    return resolve_log(ref, home)


def next_run(home: str | None, console: Any, wait: float | None, poll: float = 0.1) -> str:
    """The log `--follow` tails when none is named: the newest log of the store's runs
    directory if its run is still going, else the first log to appear there after this call
    began. Waits `wait` seconds at most (None: for ever); the store may not exist yet."""
    from rich.text import Text

    from tracer.home import tracer_home
    from tracer.renderers.store_views import shown_path

    runs = os.path.join(tracer_home(home), "runs")
    before = set(_logs(runs))
    newest = max(before, key=_age_key, default=None)
    if newest is not None and _in_progress(newest):
        return newest
    console.print(
        Text(
            f"waiting for the next run in {shown_path(runs)} \u2026 (Ctrl-C to stop)",
            style="bright_black",
        )
    )
    deadline = None if wait is None else time.monotonic() + wait
    while True:
        new = [p for p in _logs(runs) if p not in before]
        if new:
            return min(new, key=_age_key)  # the first to start, if several did
        if deadline is not None and time.monotonic() >= deadline:
            raise CommandError(f"no run started in {runs} within {wait:g} s")
        time.sleep(poll)


def _logs(runs: str) -> list[str]:
    return glob.glob(os.path.join(runs, "*.tlog"))


def _age_key(path: str) -> tuple[float, str]:
    try:
        return os.path.getmtime(path), path
    except OSError:  # removed meanwhile (`tracer clear`)
        return 0.0, path


def _in_progress(path: str) -> bool:
    """Is this log's run still going: its writer alive and no trailer yet (a pid alive again
    after reuse must not replay a finished run), or a header still being written?"""
    from tracer.events.reader import LogReader
    from tracer.renderers.live import writer_alive

    try:
        reader = LogReader(path)
    except LogFormatError:
        return time.time() - _age_key(path)[0] < STARTING
    except OSError:
        return False
    try:
        if not writer_alive(reader.header):
            return False
        for _ in reader.records():
            pass
        return not reader.finished
    finally:
        reader.close()
