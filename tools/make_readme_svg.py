"""Draw the README's picture: the housing demo traced, and its `tracer show` tree as SVG.

    python tools/make_readme_svg.py [--out docs/housing-tree.svg] [--width 100]

Runs examples/housing_pipeline.py under `python -m tracer run` in a temporary directory (with a
copy of examples/, so every path in the picture is short and relative), then draws the tree as
`tracer export --to svg` does. The run's duration is left out of the picture, so the file only
changes when the view does.

tests/integration/test_readme_svg.py draws the picture with these same functions and compares
its text (`svg_lines`) with the committed one's: when `tracer show` changes, that test fails
until this tool is run again.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "housing-tree.svg"
WIDTH = 100
_SVG = "{http://www.w3.org/2000/svg}"


def trace_demo(workdir: Path) -> Any:
    """Trace the housing demo in `workdir` (which gets a copy of examples/) and return its
    `Lineage`, the run's duration taken out. Raises RuntimeError with the run's output if
    the demo fails."""
    shutil.copytree(
        ROOT / "examples",
        workdir / "examples",
        ignore=shutil.ignore_patterns("__pycache__", "*_out", ".tracer"),
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    run = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "-q", "-o", "demo.tlog",
         "examples/housing_pipeline.py"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )  # fmt: skip
    if run.returncode != 0:
        raise RuntimeError(f"the demo failed ({run.returncode}):\n{run.stdout}{run.stderr}")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tracer.lineage.load import load

    lineage = load(workdir / "demo.tlog")
    # the run's duration differs every time: keep it out of a committed picture
    if lineage.run.trailer is not None:
        lineage.run.trailer.pop("duration_s", None)
    return lineage


def draw(lineage: Any, width: int = WIDTH) -> str:
    """The picture: the lineage tree as `tracer export --to svg` draws it."""
    from tracer.renderers.recording import to_svg

    return to_svg(lineage, width=width)


def svg_lines(svg: str) -> list[str]:
    """The text an SVG exported by rich shows: its title, then each terminal line (text
    placed at its column, trailing blanks dropped). Two pictures with the same lines say the
    same, whatever their colours and markup."""
    from rich.cells import cell_len

    root = ET.fromstring(svg)
    title = ""
    rows: dict[int, dict[int, str]] = {}
    for el in root.iter(f"{_SVG}text"):
        text = (el.text or "").replace("\xa0", " ")
        if "title" in el.get("class", ""):
            title = text
            continue
        clip, length = el.get("clip-path", ""), el.get("textLength")
        if "-line-" not in clip or not length or not text.strip():
            continue
        line = int(clip.rsplit("-", 1)[1].rstrip(")"))
        column = round(float(el.get("x", "0")) / (float(length) / cell_len(text)))
        rows.setdefault(line, {})[column] = text
    out = [title]
    for n in range(max(rows, default=-1) + 1):
        chars: list[str] = []
        for column, text in sorted(rows.get(n, {}).items()):
            chars.extend(" " * (column - len(chars)))
            chars[column:] = list(text)
        out.append("".join(chars).rstrip())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--width", type=int, default=WIDTH)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            lineage = trace_demo(Path(tmp))
        except RuntimeError as exc:
            sys.stderr.write(f"{exc}\n")
            return 1
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(draw(lineage, args.width), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
