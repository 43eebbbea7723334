"""`tracer export --to dot`: the run as a Graphviz digraph (`dot -Tsvg lineage.dot`)."""

from __future__ import annotations

from tracer.lineage.graph import Lineage
from tracer.renderers import text as tx
from tracer.renderers.graph import Box, diagram

FILLS = {
    "source": "#e3f4e1",
    "output": "#f6e3f3",
    "object": "#e4ecf7",
    "read": "#f1f8ef",
    "write": "#fbf1f9",
    "model": "#eef3fb",
    "rows": "#fff8e1",
    "columns": "#e6f6f7",
    "error": "#fdecea",
    "other": "#f5f5f5",
}


def quote(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node(box: Box) -> str:
    label = box.title + ("\n" + box.detail if box.detail else "")
    if box.kind in ("source", "output"):
        shape, style = "cylinder", "filled"
    elif box.kind == "object":
        shape, style = "box", "filled,dashed"
    else:
        shape, style = "box", "filled,rounded"
    fill = FILLS[box.category if box.kind == "op" else box.kind]
    return (
        f"  {quote(box.id)} [label={quote(label)}, shape={shape}, style={quote(style)}, "
        f"fillcolor={quote(fill)}];"
    )


def render(lineage: Lineage) -> str:
    d = diagram(lineage)
    title = f"{tx.run_title(lineage)} ({tx.run_status(lineage)})"
    lines = [
        "digraph lineage {",
        f"  label={quote(title)};",
        "  labelloc=t;",
        "  rankdir=LR;",
        '  graph [fontname="Helvetica", fontsize=12];',
        '  node [fontname="Helvetica", fontsize=10, color="#555555"];',
        '  edge [fontname="Helvetica", fontsize=9, color="#777777"];',
    ]
    lines.extend(_node(box) for box in d.boxes)
    for a in d.arrows:
        attrs = f" [label={quote(a.label)}, style=dashed]" if a.label else ""
        lines.append(f"  {quote(a.src)} -> {quote(a.dst)}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"
