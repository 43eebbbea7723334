"""`tracer why FILE`: which run wrote exactly this content, from which inputs, recursively."""

from __future__ import annotations

import argparse
import os
from typing import Any

from tracer.cli.refs import HOME_HELP
from tracer.exceptions import CommandError
from tracer.home import known_stores


class WhyCommand:
    """Explain where a file's current content came from, across runs and scripts."""

    @staticmethod
    def prepare_parser(p: argparse.ArgumentParser) -> None:
        p.add_argument("file", help="a file a traced run wrote (or read)")
        p.add_argument("--home", help=HOME_HELP)

    def run(self, args: Any) -> int:
        from rich.console import Console

        from tracer.home import tracer_home
        from tracer.renderers.store_views import why_view
        from tracer.store import open_store
        from tracer.store.why import explain

        if os.path.isdir(args.file):
            raise CommandError(f"{args.file} is a directory: give a file")
        here = tracer_home(args.home)
        stores = _stores(here, args.home is None)
        if not stores:
            raise CommandError(
                f"no tracer store at {here}, and no other store recorded for this user "
                "(run a script with `tracer run` first)"
            )
        answers = []
        for home in stores:
            with open_store(home) as store:
                answer = explain(store, args.file)
            answers.append((home, answer))
            if _knows(answer):
                break
        home, answer = answers[-1]
        known = _knows(answer)
        if not known:
            home, answer = answers[0]
        if answer.verdict == "missing" and answer.last_write is None:
            raise CommandError(f"no such file: {args.file} (and no recorded run wrote it)")
        console = Console()
        if known and home != here:
            console.print(f"(answered by the store at {home})", highlight=False)
        elif not known and len(answers) > 1:
            console.print(
                f"(asked {len(answers)} stores: {', '.join(h for h, _ in answers)})",
                highlight=False,
            )
        why_view(answer, console)
        return 0


def _knows(answer: Any) -> bool:
    """Did the store that gave this answer know the file (a run wrote or read it)?"""
    return answer.verdict not in ("unknown", "missing") or answer.last_write is not None


def _stores(here: str, others: bool) -> list[str]:
    """The store to ask first (if it exists), then, unless --home named one, the other stores
    this user has written runs to (tracer/home.py's registry)."""
    found = [here] if os.path.isdir(here) else []
    if others:
        found += [s for s in known_stores() if os.path.abspath(s) != os.path.abspath(here)]
    return found
