"""`tracer run [OPTIONS] script.py [ARGS...]` / `tracer run [OPTIONS] -m module [ARGS...]`.

Runs the script exactly as `python script.py ARGS` would (same stdout, files, exceptions and
exit status) while tracing it, then says where the log is, on stderr.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
from typing import Any

from tracer.api import Tracer
from tracer.cli.refs import HOME_HELP
from tracer.exceptions import CommandError

# Options of `run` that take a value: everything else starting with "-" is a flag.
_VALUED = {"-o", "--log", "--rows", "--backend", "--include", "--exclude", "--home"}


def split_run_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """(tracer's own options, [target, script args...]); "-m" and "--" start the target."""
    own: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return own, argv[i + 1 :]
        if a == "-m":
            return own, argv[i:]
        if not a.startswith("-") or a == "-":
            return own, argv[i:]
        own.append(a)
        if a in _VALUED and i + 1 < len(argv):
            own.append(argv[i + 1])
            i += 1
        i += 1
    return own, []


class RunCommand:
    """Run a Python script or module under tracer (like `python script.py ARGS`)."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        p.usage = "tracer run [OPTIONS] (script.py | -m module) [ARGS...]"
        p.add_argument("-o", "--log", help="where to write the log (default: .tracer/runs/…)")
        p.add_argument("--home", help=HOME_HELP)
        p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
        p.add_argument("--rows", choices=("capped", "full"), default="capped",
                       help="dropped row labels: capped (default) or all of them")
        p.add_argument("--values", action="store_true",
                       help="allow data values in the log (off by default)")
        p.add_argument("--backend", choices=("sysmon", "ctrace", "setprofile"),
                       help="hook backend (default: sysmon on 3.12+, else ctrace when built, "
                       "else setprofile)")
        p.add_argument("--include", action="append", default=[], metavar="PATTERN",
                       help="count these files / directories as user code")
        p.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                       help="never count these files / directories as user code")
        p.add_argument("--no-children", action="store_true",
                       help="do not trace child processes (multiprocessing, joblib, "
                            "subprocess python)")

    def run(self, args: Any) -> Any:
        from tracer.runner import ScriptRunner

        target: list[str] = args.target
        if not target or target == ["-m"]:
            raise CommandError("nothing to run: give a script (tracer run script.py) or -m module")
        as_module = target[0] == "-m"
        if as_module:
            name, script_args = target[1], target[2:]
        else:
            name, script_args = target[0], target[1:]
        runner = ScriptRunner(name, script_args, as_module=as_module)
        runner.prepare()
        include = list(args.include)
        if as_module:
            include.extend(_package_dirs(name))
        tracer = Tracer(
            args.log, backend=args.backend, include=include, exclude=args.exclude,
            rows_full=args.rows == "full", values=args.values,
            script=name, argv=sys.argv, home=args.home,
        )
        tracer.start()
        if not args.no_children:
            from tracer import children

            children.enable(tracer)
        outcome = None
        try:
            outcome = runner.run()
        finally:
            if outcome is None:
                tracer.stop("error", 1, "tracer: the runner failed")
            else:
                tracer.stop(outcome.status, outcome.exit_code, outcome.error)
        if args.home and not tracer.default_log and os.path.exists(tracer.log_path):
            # A log put elsewhere with -o joins the store only when --home names one. A log in
            # the store's runs/ is indexed by the next command that reads the index (they all
            # sync first): the run does not wait for SQLite.
            from tracer.store import index_run

            index_run(tracer.log_path, home=args.home)  # never raises
        if not args.quiet and not tracer.log_incomplete:  # (stop() said what the log lacks)
            _print_summary(tracer)
            sys.stderr.write(f"tracer: log written to {_display(tracer.log_path)}\n")
        if outcome.status == "interrupted":
            _die_of_sigint()
        return outcome.exit_arg


def _print_summary(tracer: Tracer) -> None:
    """The run's summary block on stderr (stdout is the script's alone)."""
    try:
        from tracer.lineage.fold import FOLD_ABOVE
        from tracer.lineage.load import load
        from tracer.renderers.summary import print_run_summary

        print_run_summary(load(tracer.log_path, FOLD_ABOVE), sys.stderr)  # what repeats: folded
    except Exception as exc:  # a summary is never worth failing the run for
        counts = tracer.recorder.counts
        sys.stderr.write(
            f"tracer: {counts['ops']} ops, {counts['files']} files (no summary: {exc})\n"
        )


def _package_dirs(module: str) -> list[str]:
    """The directory of a `-m` target's top-level package: its code is user code."""
    try:
        spec = importlib.util.find_spec(module.partition(".")[0])
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.origin:
        return []
    if spec.submodule_search_locations:
        return [os.path.join(p, "") for p in spec.submodule_search_locations]
    return [spec.origin]


def _display(path: str) -> str:
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else path


def _die_of_sigint() -> None:
    """End like python does after an uncaught KeyboardInterrupt: killed by SIGINT."""
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)
