"""`report [RUN]`: a reviewer's account of one run, as a plain document model.

`build_report(lineage, store)` returns a `Document` (headings, paragraphs, tables, lists) that
`tracer.store.markup` writes as Markdown or HTML. Sections: the run; its sources with full
content hashes (and which recorded run wrote each, when one did); each top-level step with rows
removed and columns changed; the column provenance of every output (each column followed back
to the source columns it was copied or computed from); the exact data each model was fitted on
(the fingerprints of the `fit` op's inputs and the source files behind them); and what tracer
could not see (partial ops, failed ops, tracer's own errors, a run that did not finish).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import Any

from tracer.lineage.graph import FileRecord, Lineage, Node, Op
from tracer.store.index import Store

# Ops whose output columns are copies of the same-named input columns (rows may be dropped).
_COPIES = frozenset({
    "dropna", "filter", "query", "drop_duplicates", "head", "tail", "sample", "nlargest",
    "nsmallest", "loc", "iloc", "slice", "drop", "getitem", "select_columns", "copy",
    "reset_index", "set_index", "sort_values", "sort_index", "rename", "merge", "join", "concat",
    "fillna", "replace", "clip", "astype", "assign", "setitem", "insert", "train_test_split",
})


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


@dataclass(frozen=True)
class Prov:
    """Where a column's values come from: source (file, column) pairs and computing ops."""

    sources: frozenset[tuple[str, str | None]] = frozenset()
    via: frozenset[int] = frozenset()

    def __or__(self, other: Prov) -> Prov:
        return Prov(self.sources | other.sources, self.via | other.via)

    def through(self, seq: int) -> Prov:
        return Prov(self.sources, self.via | {seq})


class Provenance:
    """Column provenance of every node, computed once in op order."""

    def __init__(self, lineage: Lineage) -> None:
        self.lineage = lineage
        self.cols: dict[str, dict[str, Prov]] = {}
        self.whole: dict[str, Prov] = {}
        self.reads = {f.op: f for f in lineage.files if f.mode == "read"}
        nodes = sorted(lineage.nodes.values(), key=lambda n: (n.origin or 0, int(n.id[1:] or 0)))
        for n in nodes:
            self.of(n.id)

    def of(self, nid: str) -> tuple[dict[str, Prov], Prov]:
        if nid in self.whole:
            return self.cols[nid], self.whole[nid]
        self.whole[nid] = Prov()  # a guard against cycles in a damaged log
        self.cols[nid] = {}
        cols, whole = self._compute(nid)
        self.cols[nid], self.whole[nid] = cols, whole
        return cols, whole

    def _compute(self, nid: str) -> tuple[dict[str, Prov], Prov]:
        lin = self.lineage
        node = lin.nodes.get(nid)
        op = lin.producer(nid)
        names = _names(node)
        if op is None:
            if node is not None and node.kind == "model":
                return {}, Prov()  # an estimator made in the script: no data in it yet
            label = f"external {_short(node.type) if node else 'object'}"
            ext = {c: Prov(frozenset({(label, c or None)})) for c in names}
            return ext, _union(ext.values()) if ext else Prov(frozenset({(label, None)}))
        read = self.reads.get(op.seq)
        if read is not None and nid in op.outputs:
            label = read.relpath if not read.relpath.startswith("..") else read.path
            got = {c: Prov(frozenset({(label, c or None)})) for c in names}
            return got, _union(got.values()) if got else Prov(frozenset({(label, None)}))
        if nid not in op.outputs:  # the frame an assign lambda sees: its assign's input
            return self.of(op.inputs[0]) if op.inputs else ({}, Prov())
        ins = [self.of(i) for i in op.inputs if i in lin.nodes]
        in_nodes = [lin.nodes[i] for i in op.inputs if i in lin.nodes]
        everything = _union(w for _, w in ins).through(op.seq)
        frames = [(c, n) for (c, _), n in zip(ins, in_nodes, strict=False) if n.kind == "DataFrame"]
        base = frames[0][0] if frames else (ins[0][0] if ins and len(ins[0][0]) == 1 else {})
        cols: dict[str, Prov] = {}
        if node is not None and node.kind == "model":
            return {}, everything
        renamed = {new: old for old, new in op.cols_renamed.items()}
        positional = (not frames and node is not None and node.kind == "DataFrame"
                      and len(ins) == len(names))
        key = _literal(op.params.get("key"))
        for pos, c in enumerate(names):
            if positional:
                cols[c] = ins[pos][1]  # DataFrame({"a": s, "b": arr}): copies
            elif op.op == "getitem" and frames and isinstance(key, str) and key in frames[0][0]:
                cols[c] = frames[0][0][key]
            elif c in renamed and renamed[c] in base:
                cols[c] = base[renamed[c]]
            elif c in op.derived_from or c in op.cols_added or c not in base:
                cols[c] = self._computed(op, c, base, ins, everything)
            elif op.op in _COPIES or len(ins) <= 1:
                cols[c] = base[c] if op.op in _COPIES else base[c].through(op.seq)
            else:
                cols[c] = everything
        return cols, _union(cols.values()) if cols else everything

    def _computed(self, op: Op, c: str, base: dict[str, Prov],
                  ins: list[tuple[dict[str, Prov], Prov]], everything: Prov) -> Prov:
        reads = list(op.derived_from.get(c) or []) or self._lambda_reads(op, c)
        got = [base[r] for r in reads if r in base]
        for _extra_cols, extra_whole in ins[1:]:  # df["x"] = <a Series>: its own provenance
            got.append(extra_whole)
        if not got:
            return everything
        return _union(got).through(op.seq)

    def _lambda_reads(self, op: Op, c: str) -> list[str]:
        """Columns an assign's lambda read (its nested `getitem`s), for logs without
        `derived_from`; with several new columns, the reads on that column's source line."""
        kids = [k for k in self.lineage.ops if k.parent == op.seq and k.op == "getitem"]
        if len(op.cols_added) > 1:
            mine = [k for k in kids if k.callsite and f"{c}=" in k.callsite.code.replace(" ", "")]
            kids = mine or kids
        out = []
        for k in kids:
            key = _literal(k.params.get("key"))
            if isinstance(key, str):
                out.append(key)
        return out


def _union(provs: Any) -> Prov:
    out = Prov()
    for p in provs:
        out = out | p
    return out


def _names(node: Node | None) -> list[str]:
    if node is None or not node.columns:
        return [""] if node is not None and node.kind in ("Series", "ndarray") else []
    return list(node.columns)


def _literal(text: str | None) -> Any:
    if not text:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


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
    prov = Provenance(lineage)
    _outputs(doc, lineage, prov)
    _models(doc, lineage, prov)
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
        origin = "raw input (no recorded run wrote it)" if store is not None else "?"
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


def _prov_text(p: Prov, lineage: Lineage) -> tuple[str, str]:
    by_file: dict[str, list[str]] = {}
    for src, col in sorted(p.sources, key=lambda s: (s[0], s[1] or "")):
        cols = by_file.setdefault(src, [])
        if col:
            cols.append(col)
    sources = "; ".join(
        f"{_code(src)}: " + ", ".join(_code(c) for c in cols) if cols else _code(src)
        for src, cols in by_file.items()
    ) or "?"
    vias = []
    for seq in sorted(p.via):
        try:
            op = lineage.op(seq)
        except KeyError:
            continue
        vias.append(f"{_code(op.op)} at {_site(op)}")
    return sources, "; ".join(vias) if vias else "copied"


def _outputs(doc: Document, lineage: Lineage, prov: Provenance) -> None:
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
        doc.p(f"Content hash {_code(f.hash or 'not hashed')}, {_n(f.size)} bytes, "
              f"{f.format or '?'}; written by {_code(op.op if op else '?')} at {_site(op)}"
              + (f" from {node.kind} {_code(node.id)} ({_shape(node)}), fingerprint "
                 f"{_code(node.fingerprint or '?')}." if node
                 else " (the data written is unknown)."))
        if node is None:
            continue
        cols, whole = prov.of(node.id)
        if node.kind == "DataFrame" and cols:
            rows = []
            for c in node.columns or []:
                sources, via = _prov_text(cols.get(c, Prov()), lineage)
                rows.append([_code(c), sources, via])
            doc.table(["column", "from", "computed by"], rows)
        else:
            sources, via = _prov_text(whole, lineage)
            doc.p(f"Made from {sources}; computed by {via}.")


def _models(doc: Document, lineage: Lineage, prov: Provenance) -> None:
    fits = [op for op in lineage.ops if op.op in ("fit", "fit_transform", "fit_predict")]
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
        for k, n in enumerate(data):
            role = ("X", "y")[k] if k < 2 else f"input {k + 1}"
            sources, _ = _prov_text(prov.of(n.id)[1], lineage)
            rows.append([role, f"{n.kind} {_code(n.id)}", _shape(n),
                         ", ".join(_code(c) for c in (n.columns or [])) or "-",
                         _code(n.fingerprint or "not fingerprinted"), sources])
        if rows:
            doc.table(["input", "node", "shape", "columns", "fingerprint", "from"], rows)
        else:
            doc.p("No input data of this fit was tracked.")
        files = {f.hash or "": f for f in lineage.files if f.mode == "read"}
        used = sorted({s for n in data for s, _ in prov.of(n.id)[1].sources})
        hashes = [f"{_code(s)} {_code(f.hash or '?')}" for s in used
                  for f in files.values() if _rel(f) == s or f.path == s]
        if hashes:
            doc.p("Source files behind this training data: " + "; ".join(hashes) + ".")
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
