"""`tracer show [RUN]` and `tracer summary [RUN]`: the lineage of a run in the terminal.

    tracer show                          # the latest run under .tracer/runs/, as a tree
    tracer show LOG --group function     # ops grouped under the function that made them
    tracer show --artifact model.joblib  # where a file (or a model, by class name) came from
    tracer show --summary                # the summary block (same as `tracer summary`)

Bad logs: a missing file, a file that is no tracer log or a log of a newer format is one line
on stderr and exit status 2. A log that ends early (a killed run) is shown as far as it goes,
with a warning on stderr and in the view, and exit status 0: the command did what was asked.
Colour follows the terminal; NO_COLOR or `--no-color` turn it off.

The views *fold* what repeats (lineage/fold.py): the ops of a call site that made three or more
make one row, with how many they were, their first and last shapes and their totals, so a loop
of any length is a few rows; a site that made one or two ops is drawn op by op, as a run
without repeats always is. A log of more than `FOLD_ABOVE` ops is read streaming, in memory
that does not grow with the log. The view says when it folded; `tracer export --to json`
still lists every op.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tracer.cli.refs import HOME_HELP, RUN_HELP
from tracer.exceptions import CommandError


def add_view_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("log", nargs="?", metavar="RUN", help=RUN_HELP)
    p.add_argument("--home", help=HOME_HELP)
    p.add_argument("--no-color", action="store_true", help="no colours (also: NO_COLOR=1)")
    p.add_argument(
        "--width",
        type=int,
        default=None,
        metavar="COLUMNS",
        help="draw this wide (default: the terminal's width)",
    )


def make_console(args: Any, file: Any = None) -> Any:
    from rich.console import Console

    width = getattr(args, "width", None)
    if width is not None and width < 20:
        raise CommandError("--width must be at least 20")
    return Console(
        file=file or sys.stdout,
        width=width,
        no_color=True if getattr(args, "no_color", False) else None,
        highlight=False,
    )


class ShowCommand:
    """Show a run's lineage as a tree (default: the latest run)."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        add_view_options(p)
        what = p.add_mutually_exclusive_group()
        what.add_argument("--summary", action="store_true", help="print the summary block")
        what.add_argument(
            "--artifact",
            metavar="PATH",
            help="walk one file's (or model's, by class name) ancestry back to its sources",
        )
        what.add_argument(
            "--group",
            choices=("function",),
            help="group the ops under the user function that made them",
        )

    def run(self, args: Any) -> int:
        from tracer.cli.logs import open_lineage
        from tracer.lineage.fold import FOLD_ABOVE

        console = make_console(args)
        lineage = open_lineage(args.log, args.home, FOLD_ABOVE)
        if args.summary:
            from tracer.renderers.summary import RunSummary

            console.print(RunSummary(lineage).render())
            return 0
        if args.artifact:
            from tracer.lineage.processors import find_artifact
            from tracer.renderers.tree import ArtifactTree

            art = find_artifact(lineage, args.artifact)
            if art is None:
                raise CommandError(_not_found(lineage, args.artifact))
            console.print(ArtifactTree(lineage, art).render())
            return 0
        from tracer.renderers.tree import tree_for

        console.print(tree_for(lineage, args.group))
        return 0


class SummaryCommand:
    """Print a run's summary: data tracked, rows filtered, column changes, files."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        add_view_options(p)

    def run(self, args: Any) -> int:
        from tracer.cli.logs import open_lineage
        from tracer.lineage.fold import FOLD_ABOVE
        from tracer.renderers.summary import RunSummary

        console = make_console(args)
        lineage = open_lineage(args.log, args.home, FOLD_ABOVE)
        console.print(RunSummary(lineage).render())
        return 0


def _not_found(lineage: Any, name: str) -> str:
    from tracer.lineage.processors import short_type
    from tracer.renderers.text import file_text

    files = sorted({file_text(f, lineage) for f in lineage.files if f.mode != "read"})
    models = sorted({short_type(n.type) for n in lineage.nodes.values() if n.kind == "model"})
    known = files + models
    hint = f" (try: {', '.join(known[:6])}{', …' if len(known) > 6 else ''})" if known else ""
    if lineage.folded is not None:
        hint += "; this log was folded, which keeps the first file of a repeated call site only"
        hint += " (`tracer export` has them all)"
    return f"no file or model {name!r} in this run{hint}"
