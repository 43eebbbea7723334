"""`tracer export [LOG] --to json [-o FILE]`: the run in a machine-readable format."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tracer.cli.logs import open_lineage
from tracer.exceptions import CommandError

FORMATS = ("json",)


class ExportCommand:
    """Export a run's lineage (default: the latest run) as JSON."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        p.add_argument("log", nargs="?", help="the log (default: the latest run)")
        p.add_argument("--to", choices=FORMATS, default="json", help="output format")
        p.add_argument("-o", "--output", help="write here instead of stdout")
        p.add_argument("--home", help="the store directory (default: $TRACER_HOME or ./.tracer)")

    def run(self, args: Any) -> int:
        from tracer.renderers.json_export import write_json

        lineage = open_lineage(args.log, args.home)
        if args.output:
            try:
                with open(args.output, "w", encoding="utf-8") as out:
                    write_json(lineage, out)
            except OSError as exc:
                raise CommandError(f"cannot write {args.output}: {exc.strerror}") from None
        else:
            write_json(lineage, sys.stdout)
        return 0
