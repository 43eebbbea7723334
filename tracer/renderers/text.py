"""Words and numbers for every view: how an op, a shape, a file or a change reads.

Plain strings only (no rich), so the terminal views, Mermaid, DOT and OpenLineage all say the
same thing the same way. `op_parts` cuts an op's one-line description into tagged pieces
(`Part`) that a rich view colours by tag and a text exporter simply joins.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from tracer.catalog import families as fam
from tracer.lineage.graph import ELIDED, FileRecord, Lineage, Node, Op
from tracer.lineage.processors import relative_path, short_type

MINUS = "\u2212"  # a real minus sign: "−207 rows" lines up with "+3 cols"
ARROW = "\u2192"
TIMES = "\u00d7"
ELLIPSIS = "\u2026"

@dataclass(frozen=True)
class Part:
    """A piece of an op's line. `tag` says what it is, for colour: name, count (how many ops a
    folded op stands for), hint, shape, arrow, rows (rows dropped), added, removed, renamed,
    dtype, file, note, error, site."""

    text: str
    tag: str


def num(n: int | float | None) -> str:
    if n is None:
        return "?"
    if isinstance(n, float) and not n.is_integer():
        return f"{n:,.2f}"
    return f"{int(n):,}"


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{num(n)} {word if n == 1 else (words or word + 's')}"


def size(n: int | None) -> str:
    """Bytes for people: 1.4 MB, 73 B (powers of 1000, like ls -h --si)."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def seconds(ns: int | float) -> str:
    s = ns / 1e9
    if s < 0.001:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1000:.0f} ms"
    return f"{s:.2f} s" if s < 60 else f"{int(s // 60)} min {s % 60:02.0f} s"


def shape(dims: list[int] | None) -> str:
    if not dims:
        return "?"
    return f" {TIMES} ".join(num(d) for d in dims)


def node_text(node: Node | None, kind_of_other: str | None = None) -> str:
    """A node as a shape ("20,640 × 10"), prefixed by its kind when that kind differs from
    `kind_of_other` ("Series 18,379"); a model by its class name."""
    if node is None:
        return "?"
    if node.kind == "model":
        return short_type(node.type)
    if node.kind == "object":
        return short_type(node.type)
    text = shape(node.shape) if node.shape else short_type(node.type)
    if kind_of_other is not None and node.kind != kind_of_other and node.shape:
        text = f"{node.kind} {text}"
    return text


def names(cols: list[str], limit: int = 3, counted: bool = False) -> str:
    """ "a, b, c, … (+5)"; without the "(+5)" when the caller says how many there are."""
    if len(cols) <= limit:
        return ", ".join(cols)
    more = "" if counted else f" (+{len(cols) - limit})"
    return ", ".join(cols[:limit]) + f", {ELLIPSIS}{more}"


def clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + ELLIPSIS


def function_name(function: str) -> str:
    """ "engineer.<locals>.<lambda>" -> "engineer.λ"; "<module>" -> ""."""
    if function == "<module>":
        return ""
    return function.replace(".<locals>.", ".").replace("<lambda>", "\u03bb")


def site(op: Op, script: str | None = None) -> str:
    """ "clean  :39" in the run's script, "load  helpers.py:12" elsewhere."""
    cs = op.callsite
    if cs is None:
        return ""
    fn = function_name(cs.function)
    if script and os.path.normcase(os.path.abspath(cs.file)) == os.path.normcase(script):
        where = f":{cs.line}"
    else:
        where = f"{os.path.basename(cs.file)}:{cs.line}"
    return f"{fn}  {where}" if fn else where


def rel(path: str, lineage: Lineage | None = None) -> str:
    """A path as the run saw it: relative to its working directory when inside it."""
    return relative_path(path, lineage.run.cwd if lineage is not None else None)


def file_text(f: FileRecord, lineage: Lineage | None = None) -> str:
    return rel(f.path, lineage)


def file_details(f: FileRecord) -> str:
    bits = [b for b in (f.format, size(f.size) if f.size is not None else None) if b]
    if f.hash:
        algo, _, digest = f.hash.partition(":")
        bits.append(f"{algo} {digest[:8]}" if digest else f.hash[:16])
    return " \u00b7 ".join(bits)


def hint(op: Op) -> str:
    """The parameter worth showing after the op's name, as its meaning says: `'population'`,
    `> 3`, `on='id' how='left'`."""
    means = op.meaning
    style = means.hint_style
    if style == fam.OPERATOR:
        other = next((op.params[p] for p in means.hint if p in op.params), None)
        return f"{means.symbol} {clip(other, 24)}" if other is not None else ""
    if style == fam.NAMED:
        bits = []
        for p in means.hint:
            if p in op.params and not (p == "how" and op.params[p] == "'inner'"):
                bits.append(f"{p}={clip(op.params[p], 24)}")
        return " ".join(bits)
    for p in means.hint:
        if p in op.params:
            return clip(op.params[p], 36 if style == fam.SOURCE else 28)
    return ""


def _new_cols(op: Op, nested: list[Op]) -> list[str]:
    out = []
    nested_keys: list[str] = []
    for child in nested:
        select = child.meaning.select if child.family == fam.COLUMN_SELECT else None
        if select and select in child.params:
            key = child.params[select].strip("'\"")
            if key not in nested_keys:
                nested_keys.append(key)
    for c in op.cols_added:
        src = op.derived_from.get(c)
        if src is None and len(op.cols_added) == 1 and nested_keys:
            src = nested_keys
        out.append(f"{c} \u2190 {names(list(src), 3)}" if src else c)
    return out


def op_parts(
    op: Op,
    lineage: Lineage,
    filter_by: list[str] | None = None,
    show_site: bool = True,
    nested: list[Op] | None = None,
    read_file: bool = False,
) -> list[Part]:
    """An op's one-line description, in pieces. `filter_by`: the columns a row filter used,
    when the caller knows them better than the op's facts; `nested`: the ops made inside it
    (an assign's lambdas), which tell what a new column was computed from; `read_file`: name
    the file a read op read (when the view does not show it already). A folded op (one row for
    many) says how many, the shapes of its first and last op, and its total of rows dropped."""
    nodes = lineage.nodes
    parts = [Part(op.op, "name")]
    fold = op.fold if op.fold is not None and op.fold.count > 1 else None
    if fold is not None:
        parts.append(Part(f"{TIMES}{num(fold.count)}", "count"))
    h = hint(op)
    if h:
        parts.append(Part(h, "hint"))
    ins = [nodes.get(i) for i in op.inputs]
    outs = [nodes.get(i) for i in op.outputs]
    first_in = next((n for n in ins if n is not None and n.kind != "model"), None)
    fitting = op.family == fam.FIT
    if not fitting and any(n is not None and n.kind == "model" for n in ins):
        model_in = next(n for n in ins if n is not None and n.kind == "model")
        first_in = next((n for n in ins if n is not None and n.kind != "model"), model_in)
    first_out = outs[0] if outs else None
    # folded: inputs made by ops that were not kept
    earlier = sum(1 for i in op.inputs if is_elided(i)) if lineage.folded else 0
    f = next((x for x in lineage.files if x.op == op.seq), None)
    # shapes: before -> after
    grouped = op.meaning.grouped
    if f is not None and f.mode == "read":
        if read_file:
            parts.append(Part(file_text(f, lineage), "file"))
        parts.append(Part(ARROW, "arrow"))
        parts.append(Part(node_text(first_out), "shape"))
        if fold is not None and fold.last_out is not None:
            last = node_text(fold.last_out)
            if last != node_text(first_out):
                parts.append(Part(f"{ELLIPSIS} {last}", "shape"))
    elif f is not None and f.mode == "write":
        if first_in is not None:
            parts.append(Part(node_text(first_in), "shape"))
        elif ins and ins[0] is not None:
            parts.append(Part(node_text(ins[0]), "shape"))
        elif earlier:
            parts.append(Part("earlier data", "shape"))
        parts.append(Part(ARROW, "arrow"))
        parts.append(Part(file_text(f, lineage), "file"))
        if f.size is not None:
            parts.append(Part(size(f.size), "note"))
    elif fitting:
        data = [n for n in ins if n is not None and n.kind != "model"]
        if data:
            parts.append(Part(" + ".join(node_text(n) for n in data), "shape"))
        parts.append(Part(ARROW, "arrow"))
        parts.append(Part(node_text(first_out), "model"))
    else:
        data = [n for n in ins if n is not None and n.kind != "model"]
        if earlier or (not op.meaning.keeps_rows and len(data) > 1):
            text = " + ".join(node_text(n) for n in data[:3])
            if len(data) > 3:
                text += f" + {len(data) - 3} more"
            if earlier:
                text += f" + {earlier} earlier" if data else "earlier data"
            parts.append(Part(text, "shape"))
            parts.append(Part(ARROW, "arrow"))
        elif first_in is not None:
            parts.append(Part(node_text(first_in), "shape"))
            parts.append(Part(ARROW, "arrow"))
        elif grouped:
            parts.append(Part("GroupBy", "shape"))
            parts.append(Part(ARROW, "arrow"))
        if first_out is not None:
            other_kind = (
                first_in.kind
                if first_in is not None
                else ("GroupBy" if grouped else first_out.kind)
            )
            parts.append(Part(node_text(first_out, other_kind), "shape"))
            if len(outs) > 1:
                parts.append(Part(f"+{len(outs) - 1} more", "note"))
            if fold is not None and fold.last_out is not None:
                first = f"{node_text(first_in)} {ARROW} {node_text(first_out, other_kind)}"
                last = f"{node_text(fold.last_in)} {ARROW} {node_text(fold.last_out, other_kind)}"
                if fold.last_in is None or first_in is None:
                    first = node_text(first_out, other_kind)
                    last = node_text(fold.last_out, other_kind)
                if last != first:
                    parts.append(Part(f"{ELLIPSIS} {last}", "shape"))
        elif grouped:
            parts.append(Part("GroupBy", "shape"))
        elif first_in is not None:
            parts.append(Part("scalar", "note"))
        elif not outs:
            parts.append(Part("(no tracked data)", "note"))
    if fold is not None and fold.files > 1:
        parts.append(Part(f"+{plural(fold.files - 1, 'more file')}", "note"))
    # the change
    if op.rows_dropped:
        text = f"{MINUS}{plural(op.rows_dropped, 'row')}"
        if fold is not None:
            text += " in all"
        parts.append(Part(text, "rows"))
        by = list(op.filter_columns) or list(filter_by or [])
        if by and op.meaning.hint_style != fam.SOURCE:  # an expression says it already
            parts.append(Part(f"by {names(by, 3)}", "note"))
        if op.dropped_labels and op.rows_dropped <= 5:  # a few rows: which ones is news
            labels = [clip(str(x), 16) for x in op.dropped_labels[:5]]
            more = ", \u2026" if len(labels) < op.rows_dropped else ""
            parts.append(Part(f"(index {', '.join(labels)}{more})", "note"))
    elif (
        op.rows_in is not None
        and op.rows_out is not None
        and op.rows_out > op.rows_in
        and first_in is not None
        and first_out is not None
        and first_in.kind == first_out.kind == "DataFrame"
        and not op.meaning.keeps_rows
    ):
        parts.append(Part(f"+{plural(op.rows_out - op.rows_in, 'row')}", "added"))
    added = _new_cols(op, nested or [])
    if added:
        if len(added) <= 2:
            parts.extend(Part(f"+{a}", "added") for a in added)
        else:
            parts.append(
                Part(f"+{len(added)} cols [{names(op.cols_added, 3, counted=True)}]", "added")
            )
    if op.cols_removed:
        k = len(op.cols_removed)
        label = (
            f"{MINUS}{op.cols_removed[0]}"
            if k == 1
            else f"{MINUS}{k} cols [{names(op.cols_removed, 3, counted=True)}]"
        )
        parts.append(Part(label, "removed"))
    for old, new in list(op.cols_renamed.items())[:3]:
        parts.append(Part(f"{old} {ARROW} {new}", "renamed"))
    if len(op.cols_renamed) > 3:
        parts.append(Part(f"+{len(op.cols_renamed) - 3} renamed", "renamed"))
    for col, (a, b) in list(op.dtype_changes.items())[:3]:
        parts.append(Part(f"{col}: {a} {ARROW} {b}", "dtype"))
    if len(op.dtype_changes) > 3:
        parts.append(Part(f"+{len(op.dtype_changes) - 3} dtypes", "dtype"))
    parts.extend(fact_parts(op))
    if show_site:
        script = lineage.run.script
        if script and lineage.run.cwd:
            script = os.path.normcase(os.path.join(lineage.run.cwd, script))
        s = site(op, script)
        if s:
            parts.append(Part(s, "site"))
    return parts


def fact_parts(op: Op) -> list[Part]:
    facts: dict[str, Any] = op.facts or {}
    out = []
    if facts.get("inplace") and not op.meaning.mutates:
        out.append(Part("in place", "note"))
    if facts.get("repeats"):
        out.append(Part(f"{TIMES}{num(facts['repeats'])}", "note"))
    if op.thread and op.thread != "MainThread":
        out.append(Part(f"in {op.thread}", "note"))
    if op.partial:
        out.append(Part("partial", "note"))
    if facts.get("lost"):
        out.append(Part(f"{facts['lost']} lost", "error"))
    if op.error:
        out.append(Part(f"raised {clip(str(op.error), 60)}", "error"))
    return out


def untracked_text(ops: list[Op]) -> str:
    """ "3 calls with no tracked data: to_datetime ×2, pickle.dumps" (a folded op counts as the
    ops it stands for)."""
    counts: dict[str, int] = {}
    for op in ops:
        counts[op.op] = counts.get(op.op, 0) + op.count
    calls = ", ".join(f"{name} {TIMES}{num(n)}" if n > 1 else name for name, n in counts.items())
    return f"{plural(sum(counts.values()), 'call')} with no tracked data: {calls}"


def category(op: Op, lineage: Lineage) -> str:
    """What an op does, for colour: read, write, model, rows, columns, error or other."""
    if op.error:
        return "error"
    f = next((x for x in lineage.files if x.op == op.seq), None)
    if f is not None:
        return "read" if f.mode == "read" else "write"
    nodes = lineage.nodes
    if any((n := nodes.get(i)) is not None and n.kind == "model" for i in op.inputs + op.outputs):
        return "model"
    if op.rows_dropped:
        return "rows"
    if op.cols_added or op.cols_removed or op.cols_renamed or op.dtype_changes:
        return "columns"
    return "other"


def plain(parts: list[Part]) -> str:
    """The pieces joined as plain text (what Mermaid, DOT and tests see)."""
    out: list[str] = []
    for p in parts:
        if p.tag == "site":
            continue
        out.append(p.text)
    return "  ".join(out).replace(f"  {ARROW}  ", f" {ARROW} ")


def source_label(key: str, lineage: Lineage) -> str:
    """A source of the flow as text: a file's path, "LinearRegression"."""
    kind, _, rest = key.partition(":")
    if kind == "file":
        return rel(rest, lineage)
    if kind == "object":
        node = lineage.nodes.get(rest)
        if node is None and is_elided(rest):
            return "earlier data"
        what = node_text(node) if node is not None else rest
        if node is not None and node.kind not in ("model", "object"):
            what = f"{node.kind} {what}"
        return what
    return "new data"


def origin_text(key: str, lineage: Lineage) -> str:
    """Why a source ("object:<node id>") has no op that made it: it came from outside the
    traced code, or, in a folded lineage, its op was not kept."""
    folded = lineage.folded
    if folded is not None and is_elided(key.partition(":")[2]):
        return f"{plural(folded.elided, 'input')} made by ops not kept when folding"
    return "origin not recorded"


def is_elided(node_id: str) -> bool:
    """The node id of inputs made by ops a folded lineage did not keep (`c1.earlier` too)."""
    return node_id.rpartition(".")[2] == ELIDED


def run_title(lineage: Lineage) -> str:
    run = lineage.run
    script = os.path.basename(run.script) if run.script else (run.argv[0] if run.argv else "?")
    return script


def run_status(lineage: Lineage) -> str:
    run = lineage.run
    if run.status == "running":  # a notebook session still tracing
        return "running"
    if run.status == "terminated":
        return "terminated (SIGTERM)"
    if run.status == "ok":
        return "ok" if not run.exit_code else f"exit {run.exit_code}"
    if run.status == "error":
        return f"failed: {run.error}" if run.error else f"failed (exit {run.exit_code})"
    if run.status == "interrupted":
        return "interrupted"
    return "did not finish"


def run_duration(lineage: Lineage) -> str | None:
    t = lineage.run.trailer or {}
    d = t.get("duration_s")
    if isinstance(d, (int, float)):
        return seconds(d * 1e9)
    return None
