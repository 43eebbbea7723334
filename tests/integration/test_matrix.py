"""Never break user code: every example and test pipeline behaves under tracer as under python.

Cases: every script in examples/, every script in tests/scripts/ that ends normally (new ones
join by themselves; those that do not are listed in NOT_PIPELINES with the reason), and the
pipelines of tests/scripts/matrix/ (merge, groupby, pivot, concat, melt, explode, apply,
rolling, resample, string ops, categoricals, datetimes, MultiIndex; csv, json, pickle, npz).

Each case runs in a directory of its own, once under python and once under tracer per backend,
the directory put back as it was between runs. Exit status, stdout, stderr (less tracer's own
`tracer:` lines) and every file written must be identical, byte for byte (an .npz archive by its
members: zip entries carry the time they were written). `tools/matrix.sh` runs this file on
Python 3.11, 3.12 and 3.13 against pandas 2.2.x and 3.x.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import EXAMPLES, SCRIPTS, backends, env

import tracer

MATRIX = SCRIPTS / "matrix"
# tests/scripts/*.py that are not pipelines ending normally.
NOT_PIPELINES = {
    "killed.py": "dies by SIGKILL on purpose (test_recording.py)",
    "inject_failure.py": "starts a tracer of its own and needs a log argument",
    "refcounts.py": "imports refprobe_lib beside it and starts a tracer of its own",
    "rules_helper.py": "a module imported by rules.py",
    "generated_helper.py": "a module imported by generated_code.py",
    "quiet_lib_helper.py": "a module imported by quiet_imports.py",
    "quiet_broken_helper.py": "a module imported by quiet_imports.py (its import fails)",
    "quiet_plugin_helper.py": "a module imported by quiet_lib_helper.py",
}


@dataclass(frozen=True)
class Case:
    id: str
    script: Path  # copied into the case's directory, with its helper modules
    helpers: tuple[Path, ...] = ()
    args: tuple[str, ...] = ()

    def in_place(self) -> bool:
        """Examples run from where they are (they find their data next to themselves)."""
        return self.script.parent == EXAMPLES


def cases() -> list[Case]:
    found = [Case(f"examples/{p.name}", p) for p in sorted(EXAMPLES.glob("*.py"))]
    helpers = tuple(SCRIPTS / name for name in NOT_PIPELINES if name.endswith("_helper.py"))
    found += [
        Case(f"scripts/{p.name}", p, helpers)
        for p in sorted(SCRIPTS.glob("*.py"))
        if p.name not in NOT_PIPELINES
    ]
    found += [Case(f"matrix/{p.name}", p) for p in sorted(MATRIX.glob("*.py"))]
    return found


CASES = cases()

BACKENDS = backends()  # on 3.11 with the C filter built: setprofile and ctrace


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    written: dict[str, object]  # relative path -> content (None if deleted)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def comparable(name: str, data: bytes | None) -> object:
    """What must be identical about a written file: its bytes, or an archive's members."""
    if data is not None and name.endswith(".npz"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return sorted((info.filename, z.read(info)) for info in z.infolist())
    return data


def run_in(cwd: Path, cmd: list[str]) -> Result:
    before = snapshot(cwd)
    environ = env(PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    p = subprocess.run(cmd, cwd=cwd, env=environ, capture_output=True, text=True, timeout=300)
    after = snapshot(cwd)
    changed = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)}
    for name in changed:  # put the directory back for the next run
        if name in before:
            (cwd / name).write_bytes(before[name])
        else:
            (cwd / name).unlink()
    written = {name: comparable(name, after.get(name)) for name in sorted(changed)}
    return Result(p.returncode, p.stdout, p.stderr, written)


def run_case(case: Case, root: Path) -> dict[str | None, Result]:
    """{None: python's run, backend: tracer's run} for one case."""
    cwd = root / case.id.replace("/", "-")
    cwd.mkdir()
    if case.in_place():
        target = str(case.script)
    else:
        for path in (case.script, *case.helpers):
            shutil.copy(path, cwd / path.name)
        target = case.script.name
    logs = root / "logs"
    out: dict[str | None, Result] = {None: run_in(cwd, [sys.executable, target, *case.args])}
    for b in BACKENDS:
        log = logs / f"{cwd.name}-{b}.tlog"
        # The store (run index) goes elsewhere too: only the program writes into its directory.
        cmd = [
            sys.executable,
            "-m",
            "tracer",
            "run",
            "-q",
            "-o",
            str(log),
            "--backend",
            b,
            "--home",
            str(root / "home"),
        ]
        out[b] = run_in(cwd, [*cmd, target, *case.args])
    return out


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every case, two at a time (each case's runs one after the other, in its directory)."""
    root = tmp_path_factory.mktemp("matrix")
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda case: run_case(case, root), CASES))
    return root, {case.id: result for case, result in zip(CASES, done)}


def without_tracer_lines(stderr: str) -> str:
    return "".join(line for line in stderr.splitlines(True) if not line.startswith("tracer:"))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_traced_run_is_identical_to_python(results, case, backend):
    # GIVEN a pipeline run under python and under tracer
    root, done = results
    plain, traced = done[case.id][None], done[case.id][backend]
    # THEN both end the same way, print the same and write the same files
    assert plain.returncode == 0, plain.stderr
    assert traced.returncode == plain.returncode, traced.stderr
    assert traced.stdout == plain.stdout
    assert without_tracer_lines(traced.stderr) == plain.stderr
    assert traced.written.keys() == plain.written.keys()
    for name in plain.written:
        assert traced.written[name] == plain.written[name], f"{name} differs"
    # AND the log is complete and recorded something
    lineage = tracer.load(root / "logs" / f"{case.id.replace('/', '-')}-{backend}.tlog")
    assert lineage.damage is None and lineage.run.status == "ok"
    assert lineage.ops, "nothing recorded"


def test_the_matrix_covers_the_pipelines_it_promises():
    names = {c.id for c in CASES}
    assert {
        f"matrix/{n}.py" for n in ("joins", "groups", "text_time", "reshape", "persist")
    } <= names
    assert any(n.startswith("examples/") for n in names)
    assert not any(os.path.basename(n) in NOT_PIPELINES for n in names)
