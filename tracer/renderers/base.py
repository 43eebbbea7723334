"""What a renderer is, and where each export format lives.

A text exporter is a function `render(lineage) -> str` (Mermaid, DOT, HTML, SVG); the terminal
views are classes whose `render()` returns a rich renderable (`tree.LineageTree`,
`summary.RunSummary`). `EXPORTERS` maps a format name to "module:function", imported only
when that format is asked for, so `tracer export --to dot` never loads rich.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

from tracer.lineage.graph import Lineage


class TextExporter(Protocol):
    def __call__(self, lineage: Lineage, /) -> str: ...


EXPORTERS: dict[str, str] = {
    "mermaid": "tracer.renderers.mermaid:render",
    "dot": "tracer.renderers.dot:render",
    "html": "tracer.renderers.recording:to_html",
    "svg": "tracer.renderers.recording:to_svg",
}


def exporter(name: str) -> Callable[..., str]:
    """The export function of a format (KeyError for an unknown name)."""
    module, _, func = EXPORTERS[name].partition(":")
    fn: Callable[..., str] = getattr(importlib.import_module(module), func)
    return fn
