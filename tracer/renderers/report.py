"""`report [RUN]`: a reviewer's account of one run, as a plain document model.

`build_report(lineage, store)` returns a `Document` (headings, paragraphs, tables, lists) that
`tracer.renderers.report_markup` writes as Markdown or HTML. Sections: the run; its sources with
full content hashes (and which recorded run wrote each, when one did); each top-level step with
rows removed and columns changed; the column provenance of every output (each column followed
back to the source columns it was copied or computed from, by
`tracer.lineage.processors.ColumnLineage`, the same column lineage the viewer and the
OpenLineage export use); the exact data each model was fitted on
(the fingerprints of the `fit` op's inputs and the source files behind them); and what tracer
could not see (partial ops, failed ops, tracer's own errors, a run that did not finish).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from tracer.lineage.graph import FileRecord, Lineage, Node, Op
from tracer.lineage.processors import AGGREGATION, IDENTITY, TRANSFORMATION, ColumnLineage
from tracer.store.index import Store


@dataclass
class Document:
    title: str
    blocks: list[tuple[Any, ...]] = field(default_factory=list)

    def h(self, level: int, text: str) -> None:
        self.blocks.append(("h", level, text))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def ul(self, items: list[str]) -> None:
        self.blocks.append(("ul", items))

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        self.blocks.append(("table", headers, rows))


_HOW = {IDENTITY: "copied", TRANSFORMATION: "computed", AGGREGATION: "aggregated"}


def _origins_text(origins: Any, lineage: Lineage) -> str:
    """`file`: `col`, `col`; `other file`: ... (sources shown relative to the run's directory)."""
    by_source: dict[str, list[str]] = {}
    for o in sorted(origins):
        cols = by_source.setdefault(_source(o.source, lineage), [])
        if o.field and o.field not in cols:
            cols.append(o.field)
    return "; ".join(
        f"{_code(src)}: " + ", ".join(_code(c) for c in cols) if cols else _code(src)
        for src, cols in by_source.items()
    ) or "?"


def _source(source: str, lineage: Lineage) -> str:
    if source.startswith("object:"):
        node = lineage.nodes.get(source.partition(":")[2])
        return f"external {_short(node.type) if node else 'object'}"
    rel = os.path.relpath(source, lineage.run.cwd or os.getcwd())
    return source if rel.startswith(os.pardir) else rel


def _how(origins: Any) -> str:
    kinds = {o.how for o in origins}
    for how in (AGGREGATION, TRANSFORMATION, IDENTITY):
        if how in kinds:
            return _HOW[how]
    return "?"


def _made_by(lineage: Lineage, node_id: str, column: str) -> str:
    """The op that added `column` to the frame `node_id` descends from, and the renames on the
    way, walking back along first DataFrame inputs."""
    notes: list[str] = []
    nid: str | None = node_id
    for _ in range(10_000):
        op = lineage.producer(nid) if nid else None
        if op is None:
            break
        if column in op.cols_added or column in op.derived_from:
            notes.append(f"{_code(op.op)} at {_site(op)}")
            break
        renamed = {new: old for old, new in op.cols_renamed.items()}
        if column in renamed:
            notes.append(f"renamed from {_code(renamed[column])} by {_code(op.op)} at {_site(op)}")
            column = renamed[column]
        nid = next((i for i in op.inputs
                    if i in lineage.nodes and lineage.nodes[i].kind == "DataFrame"), None)
    return "; ".join(reversed(notes))


def _short(type_name: str) -> str:
    return type_name.rpartition(".")[2] or type_name


def _site(op: Op | None) -> str:
    if op is None or op.callsite is None:
        return "?"
    s = op.callsite
    return f"{os.path.basename(s.file)}:{s.line} {s.function}()"


def _n(v: int | None) -> str:
    return "?" if v is None else f"{v:,}"


def _shape(node: Node | None) -> str:
    if node is None or not node.shape:
        return "?"
    return " × ".join(f"{d:,}" for d in node.shape)


def _rel(f: FileRecord) -> str:
    return f.relpath if not f.relpath.startswith("..") else f.path


def _code(text: str) -> str:
    return f"`{text}`"


def build_report(lineage: Lineage, store: Store | None = None) -> Document:
    run = lineage.run
    script = os.path.basename(run.script or "?")
    doc = Document(f"Run report: {script}")
    trailer = run.trailer or {}
    doc.h(1, doc.title)
    rows = [
        ["run id", _code(run.id or "?")],
        ["script", _code(run.script or "?")],
        ["arguments", _code(" ".join(run.argv[1:])) if len(run.argv) > 1 else "none"],
        ["working directory", _code(run.cwd or "?")],
        ["host", str(run.header.get("host") or "?")],
        ["python", f"{run.python or '?'} ({run.backend or '?'} backend)"],
        ["libraries", ", ".join(f"{k} {v}" for k, v in (trailer.get("libraries") or {}).items())
         or "?"],
        ["tracer", str(run.tracer_version or "?")],
        ["started", str(run.started or "?")],
        ["ended", str(run.ended or "did not finish")],
        ["duration", f"{trailer['duration_s']:.2f} s" if isinstance(trailer.get("duration_s"),
                                                                     (int, float)) else "?"],
        ["status", run.status + (f" (exit code {run.exit_code})" if run.exit_code else "")],
        ["log", _code(lineage.path)],
    ]
    if run.error:
        rows.insert(-1, ["error", _code(run.error)])
    doc.table(["", ""], rows)
    _sources(doc, lineage, store)
    _steps(doc, lineage)
    columns = ColumnLineage(lineage)
    _outputs(doc, lineage, columns)
    _models(doc, lineage, columns)
    _blind_spots(doc, lineage)
    return doc


def _sources(doc: Document, lineage: Lineage, store: Store | None) -> None:
    doc.h(2, "Sources")
    reads = [f for f in lineage.files if f.mode == "read"]
    if not reads:
        doc.p("The run read no file tracer could see.")
        return
    rows = []
    for f in reads:
        node = lineage.nodes.get(f.node or "")
        origin = (
            "raw input (no recorded run wrote it)"
            if store is not None
            else "not looked up (no run store)"
        )
        if store is not None and f.hash:
            writes = [(w, r) for w, r in store.writes_of_hash(f.hash)
                      if (r.started or "") <= (lineage.run.started or "")
                      and r.run_id != lineage.run.id]
            if writes:
                w, r = next(((w, r) for w, r in writes if w.path == f.path), writes[0])
                origin = f"written by run {_code(r.run_id or '?')} ({r.name}, {r.started})"
        rows.append([_code(_rel(f)), f.format or "?", _n(f.size), _code(f.hash or "not hashed"),
                     _shape(node), origin])
    doc.table(["file", "format", "bytes", "content hash", "shape", "origin"], rows)


def _steps(doc: Document, lineage: Lineage) -> None:
    doc.h(2, "Steps")
    top = [op for op in lineage.ops if op.parent is None]
    if not top:
        doc.p("No data operation was recorded.")
        return
    rows = []
    for op in top:
        changes: list[str] = []
        if op.cols_added:
            changes.append("added " + ", ".join(_code(c) for c in op.cols_added))
        if op.cols_removed:
            changes.append("removed " + ", ".join(_code(c) for c in op.cols_removed))
        if op.cols_renamed:
            changes.append("renamed " + ", ".join(f"{_code(a)} → {_code(b)}"
                                                  for a, b in op.cols_renamed.items()))
        if op.dtype_changes:
            changes.append("dtype " + ", ".join(f"{_code(c)} {a} → {b}"
                                                for c, (a, b) in op.dtype_changes.items()))
        if op.file:
            where = os.path.relpath(op.file["path"], lineage.run.cwd or os.getcwd())
            changes.append(f"{op.file['mode']} {_code(where)}")
        removed = ""
        if op.rows_dropped:
            removed = _n(op.rows_dropped)
            if op.filter_columns:
                removed += " (by " + ", ".join(_code(c) for c in op.filter_columns) + ")"
        flags = " (partial)" if op.partial else ""
        flags += " (failed)" if op.error else ""
        rows.append([str(op.seq), _code(op.op) + flags, _site(op), _rows(lineage, op),
                     removed, "; ".join(changes)])
    doc.table(["#", "op", "where", "rows in → out", "rows removed", "columns / files"], rows)


def _rows(lineage: Lineage, op: Op) -> str:
    """Rows in → out, counting data only (a model's coefficients are no rows)."""
    def first(ids: list[str]) -> Node | None:
        return next((n for n in (lineage.nodes.get(i) for i in ids)
                     if n is not None and n.kind != "model" and n.shape), None)

    a, b = first(op.inputs), first(op.outputs)
    if a is None and b is None:
        return ""
    return f"{_n(a.rows if a else None)} → {_n(b.rows if b else None)}".replace("?", "–")


def _outputs(doc: Document, lineage: Lineage, columns: ColumnLineage) -> None:
    doc.h(2, "Outputs and column provenance")
    writes = [f for f in lineage.files if f.mode == "write"]
    if not writes:
        doc.p("The run wrote no file tracer could see.")
        return
    for f in writes:
        node = lineage.nodes.get(f.node or "")
        doc.h(3, _code(_rel(f)))
        try:
            op: Op | None = lineage.op(f.op)
        except KeyError:
            op = None
        made = (f" from {node.kind} {_code(node.id)} ({_shape(node)}), fingerprint "
                f"{_code(node.fingerprint or '?')}." if node else " (the data written is unknown).")
        doc.p(f"Content hash {_code(f.hash or 'not hashed')}, {_n(f.size)} bytes, "
              f"{f.format or '?'}; written by {_code(op.op if op else '?')} at {_site(op)}{made}")
        if node is None:
            continue
        info = columns.of(node.id)
        if node.kind == "DataFrame" and node.columns:
            rows = []
            for c in node.columns:
                origins = info.columns.get(c, frozenset())
                rows.append([_code(c), _origins_text(origins, lineage), _how(origins),
                             _made_by(lineage, node.id, c)])
            doc.table(["column", "from", "how", "made by"], rows)
        elif node.kind == "model":
            # its columns are the features it was trained on, not aggregations a reader wants
            features = frozenset().union(*info.columns.values())
            text = f"Trained on features from {_origins_text(features, lineage)}"
            if info.target:
                text += f"; target from {_origins_text(info.target, lineage)}"
            doc.p(text + ".")
        else:
            doc.p(f"Made from {_origins_text(info.all_direct(), lineage)}.")
        _shaped_by(doc, info.indirect, lineage)


def _shaped_by(doc: Document, indirect: Any, lineage: Lineage) -> None:
    """Which source columns decided the rows (filters, joins, groups, sorts)."""
    kinds: dict[str, list[Any]] = {}
    for o in indirect:
        kinds.setdefault(o.how, []).append(o)
    words = {"FILTER": "filtered on", "JOIN": "joined on", "GROUP_BY": "grouped by",
             "SORT": "sorted by"}
    parts = [f"{words.get(how, how.lower())} {_origins_text(os_, lineage)}"
             for how, os_ in sorted(kinds.items())]
    if parts:
        doc.p("Rows " + "; ".join(parts) + ".")


def _models(doc: Document, lineage: Lineage, columns: ColumnLineage) -> None:
    fits = [op for op in lineage.ops if op.meaning.trains]
    if not fits:
        return
    doc.h(2, "Models and the data that trained them")
    for op in fits:
        model = next((lineage.nodes[i] for i in op.outputs if i in lineage.nodes), None)
        name = _short(model.type) if model else "model"
        doc.h(3, f"{_code(name)} fitted at {_site(op)}")
        rows = []
        data = [lineage.nodes[i] for i in op.inputs
                if i in lineage.nodes and lineage.nodes[i].kind != "model"]
        sources: set[str] = set()
        for k, n in enumerate(data):
            role = ("X", "y")[k] if k < 2 else f"input {k + 1}"
            origins = columns.of(n.id).all_direct()
            sources |= {o.source for o in origins if not o.source.startswith("object:")}
            rows.append([role, f"{n.kind} {_code(n.id)}", _shape(n),
                         ", ".join(_code(c) for c in (n.columns or [])) or "-",
                         _code(n.fingerprint or "not fingerprinted"),
                         _origins_text(origins, lineage)])
        if rows:
            doc.table(["input", "node", "shape", "columns", "fingerprint", "from"], rows)
        else:
            doc.p("No input data of this fit was tracked.")
        hashes = [f"{_code(_rel(f))} {_code(f.hash or '?')}" for f in lineage.files
                  if f.mode == "read" and f.path in sources]
        if hashes:
            doc.p("Source files behind this training data: " + "; ".join(dict.fromkeys(hashes))
                  + ".")
        saved = [f for f in lineage.files if f.mode == "write" and model is not None
                 and f.node in {n.id for n in lineage.nodes.values() if n.object == model.object}]
        for f in saved:
            doc.p(f"Saved to {_code(_rel(f))} (content hash {_code(f.hash or '?')}).")


def _blind_spots(doc: Document, lineage: Lineage) -> None:
    doc.h(2, "What tracer could not see")
    items = []
    run = lineage.run
    if lineage.damage is not None:
        items.append(f"The log ends early: {lineage.damage.detail}.")
    elif run.status == "unfinished":
        items.append("The run did not finish (no trailer): ops after the last flush are missing.")
    trailer = run.trailer or {}
    if trailer.get("detached"):
        items.append("tracer detached during the run after repeated internal errors: later ops "
                     "were not recorded.")
    counts = trailer.get("counts") or {}
    if counts.get("lost"):
        items.append(f"{counts['lost']} ops lost their result (an exception inside them).")
    for op in lineage.ops:
        if op.partial:
            items.append(f"Partial op {_code(op.op)} #{op.seq} at {_site(op)}: recorded with what "
                         "was known (arguments or result not recoverable).")
        if op.error:
            items.append(f"Op {_code(op.op)} #{op.seq} at {_site(op)} raised {_code(op.error)}.")
    for f in lineage.files:
        if not f.hash:
            items.append(f"File {_code(_rel(f))} ({f.mode}) could not be hashed.")
    for e in lineage.errors:
        items.append(f"tracer error in {e.get('where')}: {_code(str(e.get('message')))}")
    if not items:
        items.append("Nothing beyond the known limits: every recorded op is complete.")
    items.append("Never visible: element writes into raw numpy arrays, and data handled by code "
                 "outside the catalog (plain Python file I/O, other libraries).")
    doc.ul(items)
