"""Build the lineage model from log records, all at once (`tracer.lineage.load`) or as they
arrive (`Builder.add`, used by `--follow`).

Shapes, row counts and column changes are not stored in OP records: they follow from the
input and output nodes, so they are computed here. Facts the recorder measured (dropped
labels, derived columns) override what can be inferred.
"""

from __future__ import annotations

import os
from typing import Any

from tracer.catalog.families import NO_MEANING, RENAME, ROW_FILTER, Meaning
from tracer.events.format import Kind, labels_of
from tracer.lineage.graph import CallSite, FileRecord, Lineage, Node, Op, Run

DATA = ("DataFrame", "Series", "ndarray")  # kinds whose shape counts rows (not a model's)


def _hex(fingerprint: Any) -> str | None:
    return fingerprint.hex() if isinstance(fingerprint, bytes) else fingerprint


def node_id(n: int | None) -> str | None:
    return None if n is None else f"n{n}"


class Builder:
    def __init__(self, header: dict[str, Any], path: str = "") -> None:
        self.path = path
        self.header = header
        self.nodes: dict[str, Node] = {}
        self.ops: dict[int, Op] = {}
        self.files: list[FileRecord] = []
        self.errors: list[dict[str, Any]] = []
        self.sites: dict[int, CallSite] = {}
        self.schemas: dict[int, tuple[list[str] | None, list[str] | None]] = {}
        self.threads: dict[int, str] = {0: "MainThread"}
        self.strings: dict[int, str] = {}
        self.meanings: dict[int, Meaning] = {}
        self.trailer: dict[str, Any] | None = None

    def add(self, kind: int, r: dict[str, Any]) -> Op | None:
        """Add one record; returns the op it completed, if any."""
        if kind == Kind.OP:
            op = self._op(r)
            self.ops[op.seq] = op
            return op
        if kind == Kind.NODE:
            columns, dtypes = self.schemas.get(r["schema"], (None, None))
            nid = node_id(r["id"])
            assert nid is not None
            self.nodes[nid] = Node(
                nid,
                r["kind"],
                self.text(r["type"]),
                r["shape"],
                columns,
                dtypes,
                _hex(r["fingerprint"]),
                r["version"] or 1,
                r["origin"],
                r["object"] or 0,
            )
        elif kind == Kind.CALLSITE:
            self.sites[r["id"]] = CallSite(
                self.text(r["file"]), r["line"], self.text(r["function"]), r["code"]
            )
        elif kind == Kind.SCHEMA:
            self.schemas[r["id"]] = (r["columns"], r["dtypes"])
        elif kind == Kind.FILE:
            cwd = self.header.get("cwd") or os.getcwd()
            path = r["path"]
            try:
                rel = os.path.relpath(path, cwd)
            except ValueError:
                rel = path
            self.files.append(
                FileRecord(
                    path,
                    rel,
                    r["mode"],
                    r["format"],
                    r["size"],
                    r["hash"],
                    r["op"],
                    node_id(r["node"]),
                    r["mtime_ns"],
                )
            )
        elif kind == Kind.FINGERPRINT:
            node = self.nodes.get(node_id(r["node"]) or "")
            if node is not None:
                node.fingerprint = _hex(r["fingerprint"])
        elif kind == Kind.THREAD:
            self.threads[r["id"]] = r["name"]
        elif kind == Kind.STRING:
            self.strings[r["id"]] = r["text"]
        elif kind == Kind.MEANING:
            self.meanings[r["id"]] = Meaning.from_record(r["meaning"])
        elif kind == Kind.ERROR:
            self.errors.append(r)
        elif kind == Kind.TRAILER:
            self.trailer = r["meta"] or {}
        return None

    def _op(self, r: dict[str, Any]) -> Op:
        op = self._new_op(r)
        get = self.nodes.get
        self._derive(op, [get(i) for i in op.inputs], [get(i) for i in op.outputs])
        return op

    def _new_op(self, r: dict[str, Any]) -> Op:
        """The op as recorded, before anything is derived from its nodes."""
        facts = r["facts"] or {}
        return Op(
            seq=r["seq"],
            op=self.text(r["op"]),
            qualname=self.text(r["qualname"]),
            parent=r["parent"],
            inputs=[f"n{i}" for i in r["inputs"] or ()],
            outputs=[f"n{i}" for i in r["outputs"] or ()],
            callsite=self.sites.get(r["site"]),
            thread=self.threads.get(r["thread"], str(r["thread"])),
            start_ns=r["start_ns"] or 0,
            duration_ns=r["duration_ns"] or 0,
            params=r["params"] or {},
            facts=facts,
            meaning=self._meaning(r["meaning"]),
        )

    def _meaning(self, ref: Any) -> Meaning:
        """The MEANING record an OP names; an older log names none: the catalog infers it."""
        return self.meanings.get(ref, NO_MEANING) if type(ref) is int else NO_MEANING

    def text(self, value: Any) -> Any:
        """A string field: given inline, or as the id of an earlier STRING record."""
        if type(value) is int:
            return self.strings.get(value, f"<string {value}>")
        return value

    def _derive(self, op: Op, ins: list[Node | None], outs: list[Node | None]) -> None:
        """Shapes, rows and column changes, from the op's input and output nodes."""
        op.shape_in = [n.shape if n else None for n in ins]
        op.shape_out = [n.shape if n else None for n in outs]
        first_in = next((n for n in ins if n is not None and n.shape and n.kind in DATA), None)
        first_out = next((n for n in outs if n is not None and n.shape and n.kind in DATA), None)
        op.rows_in = first_in.rows if first_in else None
        op.rows_out = first_out.rows if first_out else None
        facts = op.facts
        if "rows_dropped" in facts:
            op.rows_dropped = facts["rows_dropped"]
        elif (
            op.family == ROW_FILTER
            and op.rows_in is not None
            and op.rows_out is not None
            and op.rows_out <= op.rows_in
        ):
            op.rows_dropped = op.rows_in - op.rows_out
        op.dropped_labels = labels_of(facts)
        if first_in and first_out and first_in.kind == first_out.kind == "DataFrame":
            self._columns(op, first_in, first_out)
        elif (
            first_in
            and first_out
            and first_in.kind == first_out.kind == "Series"
            and op.meaning.casts
        ):
            old = first_in.dtypes[0] if first_in.dtypes else None
            new = first_out.dtypes[0] if first_out.dtypes else None
            if old and new and old != new:
                name = (first_out.columns or first_in.columns or [""])[0]
                op.dtype_changes = {name: [old, new]}
        if "derived_from" in facts:
            op.derived_from = facts["derived_from"]
        if "filter_columns" in facts:
            op.filter_columns = facts["filter_columns"]
        if "file" in facts and facts["file"]:
            path, mode = facts["file"]
            op.file = {"path": path, "mode": mode}

    def _columns(self, op: Op, a: Node, b: Node) -> None:
        if (
            a.columns is not None
            and a.columns is b.columns
            and a.dtypes is b.dtypes
            and op.family != RENAME
            and "cols_renamed" not in op.facts
        ):
            return  # one SCHEMA record for both: nothing added, removed, renamed or cast
        cin, cout = a.columns or [], b.columns or []
        if op.family == RENAME and len(cin) == len(cout):
            op.cols_renamed = {x: y for x, y in zip(cin, cout) if x != y}
        if "cols_renamed" in op.facts:
            op.cols_renamed = op.facts["cols_renamed"]
        renamed_to = set(op.cols_renamed.values())
        sin, sout = set(cin), set(cout)
        op.cols_added = [c for c in cout if c not in sin and c not in renamed_to]
        op.cols_removed = [c for c in cin if c not in sout and c not in op.cols_renamed]
        if a.dtypes and b.dtypes and len(cin) == len(a.dtypes) and len(cout) == len(b.dtypes):
            before = dict(zip(cin, a.dtypes))
            for c, dt in zip(cout, b.dtypes):
                old = before.get(c)
                if old is not None and old != dt:
                    op.dtype_changes[c] = [old, dt]

    def run_info(self) -> Run:
        """The run, from the header and (once it has come) the trailer."""
        h, t = self.header, self.trailer
        return Run(
            id=h.get("run_id"),
            script=h.get("script"),
            argv=list(h.get("argv") or []),
            cwd=h.get("cwd"),
            python=h.get("python"),
            backend=h.get("backend"),
            tracer_version=h.get("tracer_version"),
            started=h.get("started"),
            ended=t.get("ended") if t else None,
            status=(t.get("status") or "ok") if t else "unfinished",
            exit_code=t.get("exit_code") if t else None,
            error=t.get("error") if t else None,
            header=h,
            trailer=t,
        )

    def finish(self, damage: Any = None) -> Lineage:
        run = self.run_info()
        ops = sorted(self.ops.values(), key=lambda o: o.seq)
        for op in ops:
            op.children = []  # finish() may be called again as a log grows (--follow)
        for op in ops:
            if op.parent is not None and op.parent in self.ops:
                self.ops[op.parent].children.append(op.seq)
        return Lineage(self.path, run, self.nodes, ops, self.files, self.errors, damage)
