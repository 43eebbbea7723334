"""`tracer export [RUN] --to FORMAT [-o FILE]`: the run in a format other tools read.

    json          the "tracer-lineage/1" contract (tracer/renderers/json_export.py)
    mermaid       a flowchart that GitHub renders in Markdown
    dot           a Graphviz digraph
    html, svg     the `tracer show` tree, as a web page or a picture
    openlineage   OpenLineage run events (START, then COMPLETE / FAIL / ABORT), one per line;
                  with --url, sent to that OpenLineage server instead (or as well, with -o)

Without --to, the format follows -o's extension (.json, .mmd, .dot, .html, .svg, .jsonl; another
extension is refused), else JSON.
The pictures (mermaid, dot, html, svg) fold what repeats as `tracer show` does: a call site that
made many ops is one box or row with ×N, so a loop of any length fits a page. JSON and
OpenLineage list every op.
The output is built completely before anything is written, so a failure leaves no half file.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from tracer.cli.logs import open_lineage
from tracer.cli.refs import HOME_HELP, RUN_HELP
from tracer.exceptions import CommandError
from tracer.lineage.fold import FOLD_ABOVE

FORMATS = ("json", "mermaid", "dot", "html", "svg", "openlineage")
_BY_EXTENSION = {
    ".json": "json",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".dot": "dot",
    ".gv": "dot",
    ".html": "html",
    ".htm": "html",
    ".svg": "svg",
    ".jsonl": "openlineage",
    ".ndjson": "openlineage",
}


class ExportCommand:
    """Export a run's lineage (default: the latest run): JSON, Mermaid, DOT, HTML, SVG or
    OpenLineage."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        p.add_argument("log", nargs="?", metavar="RUN", help=RUN_HELP)
        p.add_argument(
            "--to",
            choices=FORMATS,
            default=None,
            help="output format (default: from -o's extension, else json)",
        )
        p.add_argument("-o", "--output", help="write here instead of stdout")
        p.add_argument("--home", help=HOME_HELP)
        p.add_argument(
            "--url",
            help="openlineage: send the events to this OpenLineage server "
            "(its base URL; needs tracer-lineage[openlineage])",
        )
        p.add_argument(
            "--namespace",
            default=None,
            help="openlineage: the job namespace (default: $OPENLINEAGE_NAMESPACE or 'tracer')",
        )
        p.add_argument(
            "--width",
            type=int,
            default=None,
            metavar="COLUMNS",
            help="html / svg: draw the tree this wide (default: 110)",
        )
        p.add_argument(
            "--group",
            choices=("function",),
            help="html / svg: group the ops under the function that made them",
        )

    def run(self, args: Any) -> int:
        fmt = args.to
        if fmt is None:
            ext = os.path.splitext(args.output or "")[1].lower()
            if args.url:
                fmt = "openlineage"
            elif args.output and args.output != "-" and ext not in _BY_EXTENSION:
                known = ", ".join(sorted(_BY_EXTENSION))
                raise CommandError(
                    f"cannot tell the format of {args.output} from its extension "
                    f"(known: {known}): give --to FORMAT"
                )
            else:
                fmt = _BY_EXTENSION.get(ext, "json")
        if args.url and fmt != "openlineage":
            raise CommandError("--url sends OpenLineage events: use it with --to openlineage")
        if args.width is not None and args.width < 40:
            raise CommandError("--width must be at least 40")
        picture = fmt not in ("json", "openlineage")
        lineage = open_lineage(args.log, args.home, FOLD_ABOVE if picture else None)
        if fmt == "json":
            from tracer.renderers.json_export import write_json

            self._emit(args.output, lambda out: write_json(lineage, out))
            return 0
        if fmt == "openlineage":
            from tracer.renderers import openlineage

            namespace = (
                args.namespace
                or os.environ.get("OPENLINEAGE_NAMESPACE")
                or openlineage.DEFAULT_NAMESPACE
            )
            evts = openlineage.events(lineage, namespace)
            if args.url:
                openlineage.post(evts, args.url)
                kinds = ", ".join(e["eventType"] for e in evts)
                sys.stderr.write(
                    f"tracer: sent {len(evts)} OpenLineage events ({kinds}) to {args.url}\n"
                )
                if not args.output:
                    return 0
            self._emit(args.output, lambda out: openlineage.write_events(lineage, out, namespace))
            return 0
        text = self._render(fmt, lineage, args)
        self._emit(args.output, lambda out: out.write(text))
        return 0

    @staticmethod
    def _render(fmt: str, lineage: Any, args: Any) -> str:
        from tracer.renderers.base import exporter

        render = exporter(fmt)
        if fmt in ("html", "svg"):
            from tracer.renderers.recording import DEFAULT_WIDTH

            return render(lineage, args.width or DEFAULT_WIDTH, args.group)
        return render(lineage)

    @staticmethod
    def _emit(path: str | None, write: Any) -> None:
        if not path or path == "-":
            write(sys.stdout)
            return
        import io

        buf = io.StringIO()
        write(buf)
        try:
            with open(path, "w", encoding="utf-8", newline="\n") as out:
                out.write(buf.getvalue())
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
