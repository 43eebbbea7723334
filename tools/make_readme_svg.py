"""Draw the README's picture: the housing demo traced, and its `tracer show` tree as SVG.

    python tools/make_readme_svg.py [--out docs/housing-tree.svg] [--width 100]

Runs examples/housing_pipeline.py under `python -m tracer run` in a temporary directory (with a
copy of examples/, so every path in the picture is short and relative), then draws the tree as
`tracer export --to svg` does. The run's duration is left out of the picture, so the file only
changes when the view does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "housing-tree.svg"))
    parser.add_argument("--width", type=int, default=100)
    args = parser.parse_args()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(
            ROOT / "examples",
            Path(tmp) / "examples",
            ignore=shutil.ignore_patterns("__pycache__", "*_out", ".tracer"),
        )
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "tracer",
                "run",
                "-q",
                "-o",
                "demo.tlog",
                "examples/housing_pipeline.py",
            ],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            sys.stderr.write(run.stdout + run.stderr)
            return run.returncode
        sys.path.insert(0, str(ROOT))
        from tracer.lineage.build import load
        from tracer.renderers.recording import to_svg

        lineage = load(Path(tmp) / "demo.tlog")
    # the run's duration differs every time: keep it out of a committed picture
    if lineage.run.trailer is not None:
        lineage.run.trailer.pop("duration_s", None)
    text = to_svg(lineage, width=args.width)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
