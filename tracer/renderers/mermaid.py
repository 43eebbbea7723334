"""`tracer export --to mermaid`: a Mermaid flowchart that GitHub renders in Markdown.

Every label is quoted and every character Mermaid could read as syntax or HTML is written as
an entity code (`#quot;`, `#35;`, `#lt;` ...), so any column name or file path is safe.
"""

from __future__ import annotations

from tracer.lineage.graph import Lineage
from tracer.renderers.graph import Box, diagram

# Colours close to the terminal view's, light enough for dark and light GitHub themes.
CLASSES = {
    "source": "fill:#e3f4e1,stroke:#2e7d32,color:#1b3d1c",
    "output": "fill:#f6e3f3,stroke:#8e2487,color:#3d1039",
    "object": "fill:#e4ecf7,stroke:#2b5797,color:#15294a",
    "read": "fill:#f1f8ef,stroke:#2e7d32",
    "write": "fill:#fbf1f9,stroke:#8e2487",
    "model": "fill:#eef3fb,stroke:#2b5797",
    "rows": "fill:#fff8e1,stroke:#b58900",
    "columns": "fill:#e6f6f7,stroke:#1f8a93",
    "error": "fill:#fdecea,stroke:#c62828",
    "other": "fill:#f5f5f5,stroke:#757575",
}

# Inside a quoted label only these mean something to Mermaid (or to the HTML it makes).
_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;"}


def escape(text: str) -> str:
    """Text for inside a quoted Mermaid label: no character left that Mermaid parses."""
    out = []
    for ch in text:
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in "\r\n\t":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def _label(box: Box) -> str:
    text = escape(box.title)
    if box.detail:
        text += "<br/>" + escape(box.detail)
    return f'"{text}"'


def _shape(box: Box) -> tuple[str, str]:
    if box.kind in ("source", "output"):
        return "[(", ")]"  # a cylinder: stored data
    if box.kind == "object":
        return "([", "])"  # a stadium
    return "[", "]"


def render(lineage: Lineage) -> str:
    d = diagram(lineage)
    lines = ["flowchart LR"]
    for box in d.boxes:
        left, right = _shape(box)
        lines.append(f"    {box.id}{left}{_label(box)}{right}")
    for a in d.arrows:
        if a.label:
            lines.append(f'    {a.src} -->|"{escape(a.label)}"| {a.dst}')
        else:
            lines.append(f"    {a.src} --> {a.dst}")
    for name, style in CLASSES.items():
        lines.append(f"    classDef {name} {style}")
    groups: dict[str, list[str]] = {}
    for box in d.boxes:
        cls = box.category if box.kind == "op" else box.kind
        groups.setdefault(cls, []).append(box.id)
    for cls, ids in groups.items():
        lines.append(f"    class {','.join(ids)} {cls}")
    return "\n".join(lines) + "\n"
