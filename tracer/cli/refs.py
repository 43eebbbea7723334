"""What a command was asked for: RUN (a run or its log) and the store (`--home`).

Small and import-light: `tracer run` reads its option help from here before the script starts.
"""

from __future__ import annotations

import glob
import os

from tracer.exceptions import CommandError
from tracer.home import tracer_home

HOME_HELP = "the store directory (default: $TRACER_HOME, else the nearest .tracer/ here or above)"
RUN_HELP = (
    "the run: a log path, a run id or a unique part of one (see `tracer runs`), latest or "
    "latest~N (default: latest)"
)


def latest_log(home: str | None = None) -> str:
    runs = os.path.join(tracer_home(home), "runs")
    logs = sorted(glob.glob(os.path.join(runs, "*.tlog")), key=lambda p: (os.path.getmtime(p), p))
    if not logs:
        raise CommandError(f"no runs found in {runs} (run a script with `tracer run` first)")
    return logs[-1]


def resolve_log(ref: str | None, home: str | None = None) -> str:
    """The log a command was given, as RUN: a log path, `latest` (the default), `latest~N`, a
    run id or a unique part of one. A log path needs no store; the rest are looked up in it."""
    if not ref or ref == "latest":
        return latest_log(home)
    if os.path.isfile(ref):
        return ref
    if os.path.isdir(ref):
        raise CommandError(f"{ref} is a directory, not a log")
    if ref.endswith(".tlog") or os.sep in ref:
        raise CommandError(f"no such log: {ref}")
    if not os.path.isdir(tracer_home(home)):
        raise CommandError(
            f"no run {ref!r}: there is no store at {tracer_home(home)} (run a script with "
            "`tracer run` first, or give a log path)"
        )
    from tracer.store import open_store

    with open_store(home) as store:
        return store.resolve(ref).log
