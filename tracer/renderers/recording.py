"""HTML and SVG of the lineage tree: the terminal view, recorded by a rich console.

The SVG uses a fixed `unique_id`, so exporting the same log twice gives the same bytes.
"""

from __future__ import annotations

import io

from rich.console import Console, RenderableType
from rich.terminal_theme import MONOKAI

from tracer.lineage.graph import Lineage
from tracer.renderers import text as tx
from tracer.renderers.tree import tree_for

DEFAULT_WIDTH = 110


def _record(renderable: RenderableType, width: int) -> Console:
    console = Console(
        record=True,
        width=width,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        highlight=False,
        no_color=False,
        legacy_windows=False,
        _environ={},
    )
    console.print(renderable)
    return console


def title(lineage: Lineage) -> str:
    return f"tracer \u00b7 {tx.run_title(lineage)}"


def to_svg(
    lineage: Lineage,
    width: int = DEFAULT_WIDTH,
    group: str | None = None,
    renderable: RenderableType | None = None,
) -> str:
    console = _record(renderable if renderable is not None else tree_for(lineage, group), width)
    return console.export_svg(title=title(lineage), unique_id="tracer")


def to_html(
    lineage: Lineage,
    width: int = DEFAULT_WIDTH,
    group: str | None = None,
    renderable: RenderableType | None = None,
) -> str:
    console = _record(renderable if renderable is not None else tree_for(lineage, group), width)
    return console.export_html(theme=MONOKAI, inline_styles=True)
