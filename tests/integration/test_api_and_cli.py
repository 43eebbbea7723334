"""The in-process API (`import tracer.auto`, `tracer.trace()`, `tracer.load()`), the layering
of the package, and the CLI's answers to bad input: one line, exit status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import ROOT, env, export_json, ops_named

PIPE = """\
import pandas as pd
df = pd.DataFrame({"a": [1.0, None, 3.0]})
print(len(df.dropna()))
"""


def run_py(code: str, cwd, **extra_env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env(**extra_env),
        timeout=120,
    )


def tracer_cli(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
    )


def test_import_tracer_auto_traces_the_process_and_writes_the_log_at_exit(tmp_path):
    r = run_py("import tracer.auto\n" + PIPE, tmp_path, TRACER_LOG=str(tmp_path / "auto.tlog"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "2\n"
    doc = export_json(tmp_path / "auto.tlog")
    assert doc["run"]["status"] == "ok" and doc["run"]["ended"]
    assert [op["op"] for op in doc["ops"]] == ["DataFrame", "dropna"]


def test_import_tracer_auto_marks_an_uncaught_exception(tmp_path):
    r = run_py(
        "import tracer.auto\n" + PIPE + "raise ValueError('boom')\n",
        tmp_path,
        TRACER_LOG=str(tmp_path / "auto.tlog"),
    )
    assert r.returncode == 1 and "ValueError: boom" in r.stderr
    doc = export_json(tmp_path / "auto.tlog")
    assert doc["run"]["status"] == "error" and doc["run"]["error"] == "ValueError: boom"


def test_trace_block_and_load(tmp_path):
    code = (
        "import pandas as pd, tracer\n"
        "df = pd.DataFrame({'a': [1.0, None]})\n"
        "df.dropna()\n"  # before the block: not traced
        f"with tracer.trace(log={str(tmp_path / 'b.tlog')!r}):\n"
        "    df.fillna(0)\n"
        "df.head()\n"  # after the block: not traced
        f"lineage = tracer.load({str(tmp_path / 'b.tlog')!r})\n"
        "print([op.op for op in lineage.ops], lineage.run.status)\n"
    )
    r = run_py(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "['fillna'] ok\n"


def test_a_second_tracer_is_refused_while_one_runs(tmp_path):
    code = (
        "import tracer\n"
        f"with tracer.trace(log={str(tmp_path / 'a.tlog')!r}):\n"
        "    try:\n"
        f"        tracer.Tracer({str(tmp_path / 'b.tlog')!r}).start()\n"
        "    except tracer.api.TracerError as e:\n"
        "        print('refused:', e)\n"
    )
    r = run_py(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("refused: tracer is already running")


@pytest.mark.parametrize(
    "module, forbidden",
    [
        ("tracer.auto", ("rich", "IPython", "argparse", "pandas", "numpy", "sklearn")),
        ("tracer.hooks.dispatch", ("tracer.renderers", "tracer.cli", "tracer.jupyter", "rich")),
        ("tracer.recorder", ("rich", "IPython", "argparse", "tracer.renderers", "tracer.cli")),
        ("tracer.events.reader", ("rich", "IPython", "argparse", "tracer.hooks")),
        ("tracer.lineage.build", ("rich", "tracer.hooks", "tracer.recorder")),
    ],
)
def test_layers_import_nothing_above_them(tmp_path, module, forbidden):
    code = f"import sys, {module}\nprint(sorted(m for m in {forbidden!r} if m in sys.modules))\n"
    r = run_py(code, tmp_path, TRACER_LOG=str(tmp_path / "x.tlog"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "[]\n"


def one_line_error(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracer: error:"), r.stderr
    assert "Traceback" not in r.stderr
    for needle in needles:
        assert needle in lines[0]


def test_missing_script(tmp_path):
    one_line_error(tracer_cli("run", "nope.py", cwd=tmp_path), "nope.py")


def test_run_without_a_target(tmp_path):
    one_line_error(tracer_cli("run", cwd=tmp_path), "nothing to run")


def test_export_of_a_missing_log(tmp_path):
    one_line_error(tracer_cli("export", "missing.tlog", cwd=tmp_path), "missing.tlog")


def test_export_with_no_runs_yet(tmp_path):
    one_line_error(tracer_cli("export", cwd=tmp_path), "no runs")


def test_export_of_a_file_that_is_not_a_log(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    one_line_error(tracer_cli("export", "notes.txt", cwd=tmp_path), "not a tracer log")


def test_export_of_a_log_from_a_newer_tracer(tmp_path):
    from tracer.events.format import MAGIC

    (tmp_path / "new.tlog").write_bytes(MAGIC + bytes([9, 0]) + b"\x92\x00\x80")
    one_line_error(tracer_cli("export", "new.tlog", cwd=tmp_path), "newer")


def test_export_of_a_corrupt_log(tmp_path):
    (tmp_path / "p.py").write_text(PIPE)
    r = tracer_cli("run", "-q", "-o", "good.tlog", "p.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = bytearray((tmp_path / "good.tlog").read_bytes())
    data[len(data) // 2] = 0xC1  # a byte msgpack never uses
    (tmp_path / "bad.tlog").write_bytes(bytes(data))
    one_line_error(tracer_cli("export", "bad.tlog", cwd=tmp_path), "bad.tlog")


def test_export_writes_to_a_file(tmp_path):
    (tmp_path / "p.py").write_text(PIPE)
    assert tracer_cli("run", "-q", "-o", "r.tlog", "p.py", cwd=tmp_path).returncode == 0
    r = tracer_cli("export", "r.tlog", "-o", "out.json", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == ""
    import json

    doc = json.loads((tmp_path / "out.json").read_text())
    assert ops_named(doc, "dropna")[0]["rows_dropped"] == 1


def test_default_log_lives_in_the_store_and_export_finds_the_latest(tmp_path):
    (tmp_path / "p.py").write_text(PIPE)
    r = tracer_cli("run", "p.py", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "2\n"
    assert "log written to .tracer/runs/" in r.stderr
    (log,) = (tmp_path / ".tracer" / "runs").glob("*-p.tlog")
    assert (tmp_path / ".tracer").stat().st_mode & 0o777 == 0o700
    r = tracer_cli("export", cwd=tmp_path)
    assert r.returncode == 0 and '"format": "tracer-lineage/1"' in r.stdout
    assert ROOT.exists()


@pytest.mark.parametrize(
    ("option", "needle"),
    [
        (["-o", "/proc/nowhere/run.tlog"], "/proc/nowhere"),
        (["-o", "p.py/run.tlog"], "Not a directory"),
        (["--home", "/proc/nowhere"], "/proc/nowhere"),
    ],
)
def test_a_log_that_cannot_be_written_is_refused_before_the_script_runs(tmp_path, option, needle):
    # GIVEN a script that would leave a mark WHEN its log cannot be written where asked
    (tmp_path / "p.py").write_text("open('ran', 'w').close()\n")
    r = tracer_cli("run", *option, "p.py", cwd=tmp_path)
    # THEN one line naming the path and why, exit 2, and the script never ran
    one_line_error(r, "cannot write the log", needle)
    assert r.returncode == 2
    assert not (tmp_path / "ran").exists()


def test_a_backend_this_python_cannot_run_is_refused(tmp_path):
    (tmp_path / "p.py").write_text("open('ran', 'w').close()\n")
    missing = "ctrace" if hasattr(sys, "monitoring") else "sysmon"
    r = tracer_cli("run", "--backend", missing, "p.py", cwd=tmp_path)
    one_line_error(r, f"backend {missing!r} cannot run here")
    assert r.returncode == 2 and not (tmp_path / "ran").exists()


def test_export_to_an_unknown_extension_is_refused(tmp_path):
    (tmp_path / "p.py").write_text(PIPE)
    assert tracer_cli("run", "-q", "-o", "r.tlog", "p.py", cwd=tmp_path).returncode == 0
    one_line_error(tracer_cli("export", "r.tlog", "-o", "out.xyz", cwd=tmp_path), "--to")
    assert not (tmp_path / "out.xyz").exists()
    assert (
        tracer_cli("export", "r.tlog", "-o", "out.xyz", "--to", "dot", cwd=tmp_path).returncode == 0
    )
    assert (tmp_path / "out.xyz").read_text().startswith("digraph")


LOOP = """\
import pandas as pd
df = pd.DataFrame({"a": [1.0, None, 3.0]})
for _ in range(200):
    df = df.fillna(0)
"""


@pytest.mark.parametrize("command", [["export", "--to", "json"], ["export", "r.tlog"]])
def test_a_closed_pipe_ends_a_command_quietly(tmp_path, command):
    # GIVEN a run whose export is longer than a pipe holds
    (tmp_path / "p.py").write_text(LOOP)
    assert tracer_cli("run", "-q", "p.py", cwd=tmp_path).returncode == 0
    assert tracer_cli("run", "-q", "-o", "r.tlog", "p.py", cwd=tmp_path).returncode == 0
    # WHEN the reader goes away after one line (`tracer export | head -1`)
    p = subprocess.Popen(
        [sys.executable, "-m", "tracer", *command], cwd=tmp_path, env=env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert p.stdout is not None and p.stderr is not None
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    # THEN no traceback, nothing on stderr, and a shell's status for a closed pipe
    assert (p.wait(timeout=120), err) == (141, "")
