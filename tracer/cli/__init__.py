"""Command line: `tracer <command> [options]`.

Each subcommand is a class in its own module with `prepare_parser(parser)` and
`run(args) -> exit status`. Errors that are the user's to fix (a missing script, a bad log)
are `TracerError`s: one line on stderr, prefixed "tracer: error:", and their exit code; never a
traceback from our internals.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tracer._version import __version__
from tracer.exceptions import TracerError

# name -> "module:Class"; each subcommand lives in its own module under tracer/cli/.
COMMANDS = {
    "run": "tracer.cli.run:RunCommand",
    "show": "tracer.cli.show:ShowCommand",
    "summary": "tracer.cli.show:SummaryCommand",
    "replay": "tracer.cli.replay:ReplayCommand",
    "export": "tracer.cli.export:ExportCommand",
    "runs": "tracer.cli.runs:RunsCommand",
    "why": "tracer.cli.why:WhyCommand",
    "diff": "tracer.cli.diff:DiffCommand",
    "report": "tracer.cli.report:ReportCommand",
    "index": "tracer.cli.index:IndexCommand",
    "clear": "tracer.cli.clear:ClearCommand",
    "debug": "tracer.cli.debug:DebugCommand",
}


def _commands(only: str | None = None) -> dict[str, Any]:
    """The command classes, or just `only`'s: `tracer run` does not pay for importing the
    viewer and the store before the script starts."""
    import importlib

    found = {}
    for name, target in COMMANDS.items():
        if only is not None and name != only:
            continue
        module, _, cls = target.partition(":")
        try:
            found[name] = getattr(importlib.import_module(module), cls)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            # a command whose module is not there (yet) is simply not offered
    return found


def build_parser(commands: dict[str, Any]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracer",
        description="Automatic data lineage for pandas / numpy / scikit-learn pipelines.",
    )
    parser.add_argument("--version", action="version", version=f"tracer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, cls in commands.items():
        doc = (cls.__doc__ or "").strip().splitlines()
        p = sub.add_parser(name, help=doc[0] if doc else None, description=cls.__doc__)
        cls.prepare_parser(p)
    return parser


def main(argv: list[str] | None = None) -> Any:
    """Entry point of `tracer` and `python -m tracer`; returns what to pass to sys.exit()."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = _commands(argv[0] if argv and argv[0] in COMMANDS else None)
    if argv and argv[0] == "run":
        # `run` takes the script's own arguments verbatim: split them off before argparse.
        from tracer.cli.run import split_run_args

        own, target = split_run_args(argv[1:])
        parser = build_parser(commands)
        args = parser.parse_args(["run", *own])
        args.target = target
    else:
        parser = build_parser(commands)
        args = parser.parse_args(argv)
    command = commands[args.command]()
    try:
        status = command.run(args)
        if args.command != "run":  # (a traced script's stdout is the script's business)
            sys.stdout.flush()
        return status
    except TracerError as exc:
        sys.stderr.write(f"tracer: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("tracer: interrupted\n")
        return 130
    except BrokenPipeError:
        if args.command == "run":
            raise
        return _closed_pipe()


def _closed_pipe() -> int:
    """The reader of our stdout went away (`tracer export | head`): stop quietly, as Unix
    tools do. Whatever is still buffered goes nowhere, so the exit flush cannot fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe
