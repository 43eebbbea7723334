"""The run as a plain graph of boxes and arrows, for the graph formats (Mermaid, DOT).

Boxes: the files read, data of unknown origin, each top-level op, and the files written.
Arrows: a file into the op that read it, an op into the ops that used its output (labelled
with the role when it is not the main input: "mask", "model", "right", "target"), an op into
the file it wrote. Ops made inside another op are counted on their parent's box, not drawn.
In a folded lineage a box may stand for the many ops of one call site (×N, first and last
shapes); an arrow labelled "loop" goes back from a box to one whose later ops used its output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracer.lineage.graph import Lineage
from tracer.lineage.processors import LOOP, Flow, file_of
from tracer.renderers import text as tx


@dataclass
class Box:
    id: str
    kind: str  # "source" (file read), "object" (unknown origin), "op", "output" (file written)
    title: str
    detail: str = ""
    category: str = "other"  # for ops: read, write, model, rows, columns, error, other


@dataclass
class Arrow:
    src: str
    dst: str
    label: str = ""


@dataclass
class Diagram:
    boxes: list[Box] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)


def diagram(lineage: Lineage, flow: Flow | None = None) -> Diagram:
    flow = flow or Flow.of(lineage)
    d = Diagram()
    ids: dict[str, str] = {}
    for key in flow.sources:
        kind, _, rest = key.partition(":")
        if kind == "new":
            continue
        box_id = f"s{len(ids) + 1}"
        ids[key] = box_id
        if kind == "file":
            f = next((x for x in lineage.files if x.path == rest and x.mode == "read"), None)
            d.boxes.append(
                Box(
                    box_id,
                    "source",
                    tx.rel(rest, lineage),
                    tx.file_details(f) if f is not None else "",
                )
            )
        else:
            d.boxes.append(
                Box(box_id, "object", tx.source_label(key, lineage), "origin not recorded")
            )
    outputs = 0
    for op in flow.top:
        parts = tx.op_parts(op, lineage, nested=flow.nested.get(op.seq, []))
        body = [p.text for p in parts[1:] if p.tag not in ("site", "file", "note", "hint")]
        while body and body[-1] == tx.ARROW:  # a write: the file is a box of its own
            body.pop()
        hint = next((p.text for p in parts if p.tag == "hint"), "")
        title = f"{op.op} {hint}".strip()
        detail = " ".join(body).replace(f" {tx.ARROW} ", f" {tx.ARROW} ")
        nested = len(flow.nested.get(op.seq, []))
        if nested:
            detail += f" (+{nested} nested)"
        d.boxes.append(
            Box(f"op{op.seq}", "op", title, " ".join(detail.split()), tx.category(op, lineage))
        )
        home = flow.home[op.seq]
        if isinstance(home, str) and home in ids:
            d.arrows.append(Arrow(ids[home], f"op{op.seq}"))
        elif isinstance(home, int):
            d.arrows.append(Arrow(f"op{home}", f"op{op.seq}"))
        for r in flow.refs[op.seq]:
            if r.producer is not None and r.producer != home:
                d.arrows.append(Arrow(f"op{r.producer}", f"op{op.seq}", _role(flow.role_of(op, r))))
            elif r.producer is None and r.node is not None:
                key = f"object:{r.node}"
                if key in ids and key != home:
                    d.arrows.append(Arrow(ids[key], f"op{op.seq}", _role(flow.role_of(op, r))))
        for seq, role in flow.references.get(op.seq, ()):
            if role == LOOP:  # the ops folded into `seq` took this one's output: a loop
                d.arrows.append(Arrow(f"op{op.seq}", f"op{seq}", LOOP))
        f = file_of(lineage, op)
        if f is not None and f.mode != "read":
            outputs += 1
            box_id = f"o{outputs}"
            d.boxes.append(Box(box_id, "output", tx.file_text(f, lineage), tx.file_details(f)))
            d.arrows.append(Arrow(f"op{op.seq}", box_id))
    return d


def _role(role: str) -> str:
    return "" if role == "input" else role
