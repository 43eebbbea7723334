"""The JSON export, contract "tracer-lineage/1": the stable machine-readable view of a run.

Fields a later version fills may be null or empty; a field is never removed or renamed within
a contract version.
"""

from __future__ import annotations

import json
from typing import IO, Any

from tracer.lineage.graph import Lineage, Node, Op

FORMAT = "tracer-lineage/1"


def to_dict(lineage: Lineage) -> dict[str, Any]:
    run = lineage.run
    return {
        "format": FORMAT,
        "run": {
            "id": run.id,
            "script": run.script,
            "argv": run.argv,
            "cwd": run.cwd,
            "python": run.python,
            "backend": run.backend,
            "tracer_version": run.tracer_version,
            "started": run.started,
            "ended": run.ended,
            "status": run.status,
            "exit_code": run.exit_code,
            "error": run.error,
            "children": lineage.children,
        },
        "nodes": [_node(n) for n in lineage.nodes.values()],
        "ops": [_op(op) for op in lineage.ops],
        "files": [
            {
                "path": f.path,
                "relpath": f.relpath,
                "mode": f.mode,
                "format": f.format,
                "size": f.size,
                "hash": f.hash,
                "op": f.op,
                "node": f.node,
            }
            for f in lineage.files
        ],
    }


def _node(n: Node) -> dict[str, Any]:
    if n.columns and n.dtypes and len(n.columns) == len(n.dtypes):
        dtypes = dict(zip(n.columns, n.dtypes))
    elif n.dtypes and len(n.dtypes) == 1:
        dtypes = {"": n.dtypes[0]}  # an unnamed Series or a plain ndarray
    else:
        dtypes = {}
    return {
        "id": n.id,
        "kind": n.kind,
        "type": n.type,
        "shape": n.shape,
        "columns": n.columns,
        "dtypes": dtypes,
        "fingerprint": n.fingerprint,
        "version": n.version,
        "origin": n.origin,
    }


def _op(op: Op) -> dict[str, Any]:
    site = op.callsite
    return {
        "seq": op.seq,
        "op": op.op,
        "qualname": op.qualname,
        "inputs": op.inputs,
        "outputs": op.outputs,
        "parent": op.parent,
        "shape_in": op.shape_in,
        "shape_out": op.shape_out,
        "rows_in": op.rows_in,
        "rows_out": op.rows_out,
        "rows_dropped": op.rows_dropped,
        "dropped_labels": op.dropped_labels,
        "cols_added": op.cols_added,
        "cols_removed": op.cols_removed,
        "cols_renamed": op.cols_renamed,
        "dtype_changes": op.dtype_changes,
        "derived_from": op.derived_from,
        "filter_columns": op.filter_columns,
        "params": op.params,
        "file": op.file,
        "callsite": None
        if site is None
        else {"file": site.file, "line": site.line, "function": site.function, "code": site.code},
        "thread": op.thread,
        "duration_ns": op.duration_ns,
        "partial": op.partial,
    }


def write_json(lineage: Lineage, out: IO[str]) -> None:
    json.dump(to_dict(lineage), out, indent=2, default=str)
    out.write("\n")
