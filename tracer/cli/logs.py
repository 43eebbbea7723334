"""Finding and opening logs for the commands that read them."""

from __future__ import annotations

import sys

from tracer.cli.refs import latest_log, resolve_log  # noqa: F401  (latest_log: re-exported)
from tracer.exceptions import LogFormatError
from tracer.lineage.graph import Lineage
from tracer.lineage.load import load, merge_children


def open_lineage(
    ref: str | None, home: str | None = None, fold_above: int | None = None
) -> Lineage:
    """Load the log of a run (RUN, see `resolve_log`); warn on stderr when it ends early. With
    `fold_above`, the views' reading: what repeats is folded (lineage/fold.py), and a log of
    more ops than that is read as a stream."""
    lineage = load(resolve_log(ref, home), fold_above)
    damage = lineage.damage
    if damage is not None and damage.kind != "truncated":
        raise LogFormatError(f"{lineage.path}: {damage.detail}")
    if damage is not None:
        sys.stderr.write(f"tracer: warning: {lineage.path}: {damage.detail}\n")
    elif lineage.run.status == "incomplete":  # it could not be written to its end
        sys.stderr.write(f"tracer: warning: {lineage.path}: {lineage.run.error}\n")
    elif lineage.run.status == "unfinished":
        sys.stderr.write(f"tracer: warning: {lineage.path}: the run did not finish\n")
    from tracer.children import child_logs
    from tracer.lineage.query import relabel_cells

    kids = child_logs(lineage.path, recursive=True)
    if kids:  # multiprocessing / joblib workers: their ops belong to this run
        lineage = merge_children(lineage, kids, fold_above)
    return relabel_cells(lineage)  # notebook cells as In[n]:line
