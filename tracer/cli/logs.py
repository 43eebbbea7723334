"""Finding and opening logs for the commands that read them."""

from __future__ import annotations

import glob
import os
import sys

from tracer.api import tracer_home
from tracer.exceptions import CommandError, LogFormatError
from tracer.lineage.build import load
from tracer.lineage.graph import Lineage


def latest_log(home: str | None = None) -> str:
    runs = os.path.join(tracer_home(home), "runs")
    logs = sorted(glob.glob(os.path.join(runs, "*.tlog")), key=lambda p: (os.path.getmtime(p), p))
    if not logs:
        raise CommandError(f"no runs found in {runs} (run a script with `tracer run` first)")
    return logs[-1]


def open_lineage(
    path: str | None, home: str | None = None, fold_above: int | None = None
) -> Lineage:
    """Load a log (default: the latest run); warn on stderr when it ends early. With
    `fold_above`, a log of more ops than that is folded (lineage/fold.py): for the views."""
    lineage = load(path or latest_log(home), fold_above)
    damage = lineage.damage
    if damage is not None and damage.kind != "truncated":
        raise LogFormatError(f"{lineage.path}: {damage.detail}")
    if damage is not None:
        sys.stderr.write(f"tracer: warning: {lineage.path}: {damage.detail}\n")
    elif lineage.run.status == "unfinished":
        sys.stderr.write(f"tracer: warning: {lineage.path}: the run did not finish\n")
    from tracer.children import child_logs
    from tracer.lineage.build import merge_children
    from tracer.lineage.query import relabel_cells

    kids = child_logs(lineage.path, recursive=True)
    if kids:  # multiprocessing / joblib workers: their ops belong to this run
        lineage = merge_children(lineage, kids, fold_above)
    return relabel_cells(lineage)  # notebook cells as In[n]:line
