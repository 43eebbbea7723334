"""`tracer report [RUN] [--html] [-o FILE]`: a Markdown (or HTML) report of one run."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from tracer.cli.refs import HOME_HELP
from tracer.exceptions import CommandError


class ReportCommand:
    """Write a run report for reviewers: sources, steps, column provenance, models, gaps."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        p.add_argument("run", nargs="?", default="latest",
                       help="a run id (or unique part of one), a log path, latest or latest~N "
                            "(default: latest)")
        p.add_argument("--html", action="store_true", help="HTML instead of Markdown")
        p.add_argument("-o", "--output", help="write here instead of stdout")
        p.add_argument("--home", help=HOME_HELP)

    def run(self, args: Any) -> int:
        from tracer.cli.logs import open_lineage
        from tracer.home import tracer_home
        from tracer.renderers.report import build_report
        from tracer.renderers.report_markup import to_html, to_markdown
        from tracer.store import open_store

        if os.path.isfile(args.run) and not os.path.isdir(tracer_home(args.home)):
            # a log file and no store (a log copied from elsewhere): the report of that log
            # alone, without what other runs say about its sources
            doc = build_report(open_lineage(args.run))
        else:
            with open_store(args.home) as store:
                row = store.resolve(args.run)
                lineage = open_lineage(row.log)
                doc = build_report(lineage, store)
        text = to_html(doc) if args.html else to_markdown(doc)
        if args.output:
            try:
                with open(args.output, "w", encoding="utf-8") as out:
                    out.write(text)
            except OSError as exc:
                raise CommandError(f"cannot write {args.output}: {exc.strerror}") from None
            sys.stderr.write(f"tracer: report written to {args.output}\n")
        else:
            sys.stdout.write(text)
        return 0
