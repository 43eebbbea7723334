"""Helpers for tests that run real scripts in subprocesses, traced and untraced."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = Path(__file__).resolve().parent / "scripts"


def backends() -> list[str]:
    """Every backend this interpreter can run: all are first class."""
    from tracer.hooks.select import ctrace_missing

    if hasattr(sys, "monitoring"):
        return ["sysmon", "setprofile"]
    return ["setprofile"] + (["ctrace"] if ctrace_missing() is None else [])


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    log: Path


def env(**extra: str) -> dict[str, str]:
    e = dict(os.environ)
    e.pop("TRACER_BACKEND", None)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.update(extra)
    return e


def run_cli(
    *args: str,
    cwd: Path,
    extra_env: dict[str, str] | None = None,
    unset: tuple[str, ...] = (),
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`python -m tracer ARGS` in a subprocess: the test environment without FORCE_COLOR and
    `unset`, plus `extra_env`."""
    e = env()
    for name in ("FORCE_COLOR", *unset):
        e.pop(name, None)
    e.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "tracer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=e,
        timeout=timeout,
    )


def run_plain(
    args: list[str],
    cwd: Path,
    input: str | None = None,
    extra_env: dict[str, str] | None = None,
    python: tuple[str, ...] = (),
) -> subprocess.CompletedProcess:
    """`python ARGS`; `python`: arguments that come first (`-c CODE` that execs the rest)."""
    return subprocess.run(
        [sys.executable, *python, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        env=env(**(extra_env or {})),
        timeout=300,
    )


def run_traced(
    args: list[str],
    cwd: Path,
    backend: str | None = None,
    log: str = "run.tlog",
    input: str | None = None,
    options: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
    python: tuple[str, ...] = (),
) -> Result:
    """`python -m tracer run -o LOG [--backend B] OPTIONS ARGS` (`python`: as in run_plain)."""
    opts = ["-o", log, *(options or [])]
    if backend:
        opts += ["--backend", backend]
    p = run_plain(["-m", "tracer", "run", *opts, *args], cwd, input, extra_env, python)
    return Result(p.returncode, p.stdout, p.stderr, cwd / log)


def export_json(log: Path, cwd: Path | None = None) -> dict[str, Any]:
    p = run_cli("export", str(log), "--to", "json", cwd=cwd or log.parent, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def ops_named(doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [op for op in doc["ops"] if op["op"] == name]


def node(doc: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in doc["nodes"] if n["id"] == node_id)


def op_summary(doc: dict[str, Any]) -> list[str]:
    """One stable line per op: what must be identical across backends and Python versions."""
    lines = []
    for op in doc["ops"]:
        site = op["callsite"] or {}
        lines.append(
            f"{op['seq']} parent={op['parent']} {op['op']} in={op['shape_in']} "
            f"out={op['shape_out']} rows={op['rows_in']}->{op['rows_out']} "
            f"dropped={op['rows_dropped']} +{op['cols_added']} -{op['cols_removed']} "
            f"params={sorted(op['params'])} line={site.get('line')} partial={op['partial']}"
        )
    return lines


def traced_demo(tmp_path_factory: Any) -> Path:
    """The housing demo traced once per test session, shared by the viewer and export tests
    (it is the slowest thing they do): a copy of examples/ and .tracer/runs/demo.tlog."""
    cwd = tmp_path_factory.getbasetemp() / "traced-housing-demo"
    log = cwd / ".tracer" / "runs" / "demo.tlog"
    if not log.exists():
        shutil.copytree(
            ROOT / "examples",
            cwd / "examples",
            ignore=shutil.ignore_patterns("__pycache__", "*_out", ".tracer"),
            dirs_exist_ok=True,
        )
        result = run_traced(["examples/housing_pipeline.py"], cwd, log=str(log))
        assert result.returncode == 0, result.stderr
    return cwd


def start(args: list[str], cwd: Path, unset: tuple[str, ...] = ()) -> subprocess.Popen[str]:
    """`python -m tracer ARGS` started in the background, its stdout unbuffered and piped
    (the test environment without FORCE_COLOR and `unset`)."""
    e = env()
    for name in ("FORCE_COLOR", *unset):
        e.pop(name, None)
    e["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "tracer", *args],
        cwd=cwd,
        env=e,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


class Lines:
    """A subprocess's stdout, line by line, read in a thread (so a test can wait for a line
    without blocking forever)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.q: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        assert proc.stdout is not None
        stdout = proc.stdout

        def pump() -> None:
            for line in stdout:
                self.q.put(line.rstrip("\n"))
            self.q.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def _next(self, deadline: float, what: str) -> str | None:
        """The next line (None at the end of the stream), waiting until `deadline` at most."""
        try:
            return self.q.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise AssertionError(f"{what}; got {self.seen}") from None

    def wait_for(self, pattern: str, cap: float = 120) -> str:
        deadline = time.monotonic() + cap
        while True:
            line = self._next(deadline, f"never printed {pattern!r}")
            if line is None:
                raise AssertionError(f"ended before {pattern!r}; got {self.seen}")
            self.seen.append(line)
            if re.search(pattern, line):
                return line

    def to_the_end(self, cap: float = 120) -> list[str]:
        """Every line, once the stream has ended."""
        deadline = time.monotonic() + cap
        while (line := self._next(deadline, "never ended")) is not None:
            self.seen.append(line)
        return self.seen
