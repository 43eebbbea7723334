"""Read logs into the lineage model: one log, all at once (`load`), folded when the views ask
for it (lineage/fold.py), and a run's child-process logs merged into it (`merge_children`)."""

from __future__ import annotations

import os
from typing import Any

from tracer.events.format import Kind
from tracer.events.reader import LogReader
from tracer.exceptions import LogFormatError
from tracer.lineage.build import Builder
from tracer.lineage.fold import add_totals, fold, fold_repeats, totals_of
from tracer.lineage.graph import Lineage


def load(path: Any, fold_above: int | None = None) -> Lineage:
    """Read a whole log into a `Lineage` (raises LogFormatError for a file that is no log).

    With `fold_above` (the views), the ops that repeat at one call site are folded into one
    row (lineage/fold.py): a log of more ops than that is read again, streaming, into a folded
    lineage of bounded size; a shorter one is read again only when a call site repeats. A log
    with no call site that repeats is the plain lineage either way.
    """
    with LogReader(path) as reader:
        builder = Builder(reader.header, os.fspath(path))
        add = builder.add
        if fold_above is None:
            for kind, record in reader.records():
                add(kind, record)
            return builder.finish(reader.damage)
        ops = 0
        for kind, record in reader.records():
            add(kind, record)
            if kind is Kind.OP:
                ops += 1
                if ops > fold_above:
                    break
        else:
            plain = builder.finish(reader.damage)
            return fold_repeats(path, plain)
    return fold(path)


def merge_children(lineage: Lineage, paths: list[str], fold_above: int | None = None) -> Lineage:
    """Fold the logs of a run's child processes into its lineage (viewer and export).

    A child's node ids get a prefix (`c1.n5`), its ops are numbered after the parent's, and
    its threads are named after its process; a child log that cannot be read is skipped, and
    every merged one is listed in `lineage.children`. `fold_above` is `load`'s; when the run's
    log or a child's is folded, so is the result.
    """
    totals = totals_of(lineage)
    folded = lineage.folded is not None
    offset = totals.last_seq
    for number, path in enumerate(paths, 1):
        try:
            child = load(path, fold_above)
        except (LogFormatError, OSError):
            continue
        child_totals = totals_of(child)
        prefix = f"c{number}."
        pid = child.run.header.get("pid")
        for node in child.nodes.values():
            node.id = prefix + node.id
            node.origin = None if node.origin is None else node.origin + offset
            lineage.nodes[node.id] = node
        for op in child.ops:
            op.seq += offset
            op.parent = None if op.parent is None else op.parent + offset
            op.inputs = [prefix + i for i in op.inputs]
            op.outputs = [prefix + i for i in op.outputs]
            op.children = [c + offset for c in op.children]
            op.thread = f"pid {pid}/{op.thread}"
            if op.fold is not None:
                op.fold.last_seq += offset
                op.fold.fed_by = [s + offset for s in op.fold.fed_by]
            lineage.ops.append(op)
        for f in child.files:
            f.op += offset
            f.node = None if f.node is None else prefix + f.node
            lineage.files.append(f)
        lineage.children.append(
            {"log": path, "run_id": child.run.id, "pid": pid, "status": child.run.status}
        )
        folded = folded or child.folded is not None
        add_totals(totals, child_totals)
        offset += child_totals.last_seq
    if folded:
        totals.last_seq = offset
        lineage.folded = totals
    lineage.__post_init__()
    return lineage
