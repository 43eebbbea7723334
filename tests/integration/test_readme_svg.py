"""The picture at the top of the README shows what `tracer show` prints today.

The test draws the housing demo's tree with tools/make_readme_svg.py's own functions (trace
the demo in a scratch copy, draw it as SVG) and compares the text of that picture with the
text of docs/housing-tree.svg, line by line: wording, numbers, folding and layout, not
colours or markup. What differs between two runs of the demo (times, content hashes, the
sizes of written files, the interpreter) is scrubbed on both sides. When the views change on
purpose, run `python tools/make_readme_svg.py` and commit the picture.
"""

from __future__ import annotations

import difflib
import importlib.util
import io
import re
from pathlib import Path
from types import ModuleType

from support import ROOT

TOOL = ROOT / "tools" / "make_readme_svg.py"

_SCRUBS = [
    (re.compile(r"\b\d+(\.\d+)? (s|ms|µs)\b"), "<DURATION>"),
    (re.compile(r"\b\d+ min \d+ s\b"), "<DURATION>"),
    (re.compile(r"\b(xxh3_128|sha256)( |:)[0-9a-f]{8,}…?"), r"\1\2<HASH>"),
    (re.compile(r"Python \d+\.\d+\.\d+  ·  (sysmon|setprofile|ctrace)"), "<PYTHON>  ·  <BACKEND>"),
    # a size and the padding after it, whose width the size decides
    (re.compile(r"\b\d+(\.\d+)? (B|kB|MB|GB)\b( {2,}(?=\S))?"),
     lambda m: "<SIZE>" + ("  " if m[3] else "")),
]  # fmt: skip


def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_readme_svg", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scrubbed(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for pattern, repl in _SCRUBS:
            line = pattern.sub(repl, line)  # type: ignore[arg-type]
        out.append(line.rstrip())
    return out


def test_svg_lines_reads_back_what_was_drawn():
    # GIVEN a small picture drawn by rich, with colours, blanks inside lines and a tree
    from rich.console import Console
    from rich.tree import Tree

    console = Console(record=True, width=40, file=io.StringIO(), force_terminal=True)
    tree = Tree("[bold]root[/]  [dim]1.4 MB[/]")
    tree.add("[green]left[/]     [red]x[/]").add("leaf")
    console.print(tree)
    svg = console.export_svg(title="a title", unique_id="t")
    # WHEN its text is read back THEN it is the text, placed at its columns
    assert tool().svg_lines(svg) == ["a title", "root  1.4 MB", "└── left     x", "    └── leaf"]


def test_the_readme_picture_shows_what_tracer_show_prints_now(tmp_path: Path):
    # GIVEN the picture in docs/ and the demo traced and drawn as the tool draws it
    make = tool()
    committed = make.svg_lines(make.OUT.read_text(encoding="utf-8"))
    fresh = make.svg_lines(make.draw(make.trace_demo(tmp_path)))
    # THEN they say the same thing, line for line
    expected, actual = scrubbed(fresh), scrubbed(committed)
    if actual != expected:
        diff = "\n".join(difflib.unified_diff(actual, expected, "docs/housing-tree.svg",
                                              "tracer show now", lineterm=""))  # fmt: skip
        raise AssertionError(
            "the README picture is stale: run `python tools/make_readme_svg.py` and commit "
            f"docs/housing-tree.svg\n{diff}"
        )
