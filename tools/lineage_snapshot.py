"""Snapshot what tracer records and shows, to prove a refactoring changes neither.

    python tools/lineage_snapshot.py record DIR     # trace every example and test script: DIR/logs
    python tools/lineage_snapshot.py render DIR     # every view of every log in DIR/logs: DIR/views

Run `record` and `render` with the old code, `render` again with the new code into a copy
(the same logs, read and drawn by the new code), and `record` + `render` with the new code:
`diff -r` of the views must be empty. JSON exports of freshly recorded logs are written with
the fields a run cannot repeat (timings, run ids, temporary paths) blanked, so two recordings
compare too.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [
    ROOT / "examples" / "housing_pipeline.py",
    *sorted((ROOT / "tests" / "scripts").glob("*.py")),
    *sorted((ROOT / "tests" / "scripts" / "matrix").glob("*.py")),
    *sorted((ROOT / "tests" / "scripts" / "store").glob("*.py")),
]
SAMPLES = sorted((ROOT / "tests" / "data").glob("*.tlog"))
VIEWS = {
    "show.txt": ["show", "--no-color", "--width", "120"],
    "summary.txt": ["summary", "--no-color", "--width", "120"],
    "by-function.txt": ["show", "--no-color", "--width", "120", "--group", "function"],
    "replay.txt": ["replay", "--no-color", "--width", "120"],
    "report.md": ["report"],
    "export.json": ["export", "--to", "json"],
    "export.mmd": ["export", "--to", "mermaid"],
    "export.dot": ["export", "--to", "dot"],
    "openlineage.json": ["export", "--to", "openlineage"],
}
VOLATILE = {"duration_ns", "started", "ended", "id", "run_id", "eventTime", "runId", "pid"}


def record(out: Path) -> None:
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES:
        shutil.copy(sample, logs / sample.name)
    for script in SCRIPTS:
        work = Path(tempfile.mkdtemp(prefix="snap-"))
        shutil.copytree(ROOT / "examples" / "data", work / "data", dirs_exist_ok=True)
        for helper in script.parent.glob("*.py"):
            shutil.copy(helper, work / helper.name)
        log = logs / f"{script.parent.name}-{script.stem}.tlog"
        env = {
            **os.environ,
            "TRACER_HOME": str(work / ".tracer"),
            "TRACER_REGISTRY": str(work / "registry"),
        }
        subprocess.run(
            [sys.executable, "-m", "tracer", "run", "-o", str(log), script.name],
            cwd=work,
            env=env,
            capture_output=True,
            timeout=300,
        )
        shutil.rmtree(work, ignore_errors=True)


def render(out: Path) -> None:
    from tracer.cli import main

    os.chdir(out)  # logs named alike wherever the snapshot is
    views = Path("views")
    for log in sorted(Path("logs").glob("*.tlog")):
        for name, argv in VIEWS.items():
            buf, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
                try:
                    code = main([*argv, str(log)])
                except SystemExit as exc:
                    code = exc.code
            text = buf.getvalue() + f"\n-- exit {code}; stderr:\n{err.getvalue()}"
            if name.endswith(".json"):
                text = _steady(text)
            target = views / log.stem / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)


def _steady(text: str) -> str:
    """A JSON export with what no two runs share blanked (the rest of the text as it is)."""
    body, sep, tail = text.partition("\n-- exit ")
    try:
        data = json.loads(body)
    except ValueError:
        try:  # JSON lines (OpenLineage events)
            lines = [_scrub(json.loads(line)) for line in body.splitlines() if line]
        except ValueError:
            return text
        return "\n".join(json.dumps(x, sort_keys=True) for x in lines) + sep + tail
    return json.dumps(_scrub(data), indent=1, sort_keys=True) + sep + tail


def _scrub(data: object) -> object:

    def scrub(x):
        if isinstance(x, dict):
            return {k: (None if k in VOLATILE else scrub(v)) for k, v in x.items()}
        if isinstance(x, list):
            return [scrub(v) for v in x]
        if isinstance(x, str) and "/snap-" in x:
            return x[x.index("/snap-") :].split("/", 2)[-1]
        return x

    return scrub(data)


if __name__ == "__main__":
    command, where = sys.argv[1], Path(sys.argv[2]).resolve()
    {"record": record, "render": render}[command](where)
