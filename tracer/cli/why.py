"""`tracer why FILE`: which run wrote exactly this content, from which inputs, recursively."""

from __future__ import annotations

import argparse
import os
from typing import Any

from tracer.cli.runs import HOME_HELP
from tracer.exceptions import CommandError


class WhyCommand:
    """Explain where a file's current content came from, across runs and scripts."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        p.add_argument("file", help="a file a traced run wrote (or read)")
        p.add_argument("--home", help=HOME_HELP)

    def run(self, args: Any) -> int:
        from rich.console import Console

        from tracer.store import open_store
        from tracer.store.render import why_view
        from tracer.store.why import explain

        if os.path.isdir(args.file):
            raise CommandError(f"{args.file} is a directory: give a file")
        with open_store(args.home) as store:
            answer = explain(store, args.file)
        if answer.verdict == "missing" and answer.last_write is None:
            raise CommandError(f"no such file: {args.file} (and no recorded run wrote it)")
        why_view(answer, Console())
        return 0
