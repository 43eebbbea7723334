"""A log that cannot be written never changes how the program ends.

Each script runs plainly and under tracer (`-q`, so that tracer's only stderr line is the one
about its log) on every backend, and the faults are real where this machine allows it: a small
tmpfs for a full disk (else the writer's test-only fault point), RLIMIT_FSIZE for a file-size
limit, the script deleting the log's folder, closing inherited descriptors with os.closerange
and reusing their numbers, an index on a full disk. EIO only through the fault point. The
script's exit status, stdout and files must be python's, stderr must hold exactly one tracer
line and no traceback, and the log must read up to the fault and say why it ends.
"""

from __future__ import annotations

import filecmp
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import backends, run_cli, run_plain, run_traced

from tracer.events.format import Kind
from tracer.events.reader import read_all

# Many small top-level ops (each one a flush), then a file and a line of output.
MANY_OPS = """\
import pandas as pd
df = pd.DataFrame({"a": range(50), "b": range(50)})
for i in range(N):
    df = df.assign(c=df.a + i).dropna()
df.to_csv("out.csv")
print("done", len(df), df.c.sum())
"""

# Closes every inherited descriptor (tracer's log among them), then opens files of its own,
# which get the freed numbers back, and records ops while they are open. MOVE: also moves the
# log away, so it cannot be reopened by its path.
CLOSES_ITS_DESCRIPTORS = """\
import os, pandas as pd
df = pd.DataFrame({"a": range(10)}).dropna()
os.closerange(3, 256)
if MOVE and os.path.exists("run.tlog"):
    os.rename("run.tlog", "moved.tlog")
with open("user.txt", "w") as f, open("user2.txt", "w") as g:
    df = df.assign(b=df.a * 2)
    f.write("mine\\n")
    df = df.dropna()
    g.write("mine too\\n")
    df = df.assign(c=1).dropna()
print("done", len(df), df.b.sum())
"""

DELETES_THE_LOG_FOLDER = """\
import shutil, pandas as pd
df = pd.DataFrame({"a": range(10)}).dropna()
shutil.rmtree("logs", ignore_errors=True)
df = df.assign(b=1).dropna()
df.to_csv("out.csv")
print("done", len(df))
"""

FILE_SIZE_LIMIT = 24_000
# Exec the rest of the command line under a file-size limit (python ignores SIGXFSZ, so a write
# past it fails with EFBIG; the ignored disposition survives exec).
UNDER_A_SIZE_LIMIT = (
    "-c",
    "import os, resource, sys; "
    f"resource.setrlimit(resource.RLIMIT_FSIZE, ({FILE_SIZE_LIMIT}, {FILE_SIZE_LIMIT})); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])",
)

INCOMPLETE = r"tracer: the log is incomplete from op (\d+) on: {reason} \((.+)\)"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path | None]:
    """A 32 KiB tmpfs, or None where this machine allows no mount (not root, a container)."""
    where = tmp_path / "tiny"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(where)], capture_output=True
    )
    yield where if mounted.returncode == 0 else None
    if mounted.returncode == 0:
        subprocess.run(["umount", "-l", str(where)], check=True)


def both(tmp_path: Path, script: str, backend: str, log: str = "run.tlog", **how):
    """Run `script` plainly in tmp_path/plain and traced in tmp_path/traced, with the same
    `how` (extra_env, python); check what the program did is identical, and return
    (traced result, the tracer lines of its stderr)."""
    plain_dir, traced_dir = tmp_path / "plain", tmp_path / "traced"
    for d in (plain_dir, traced_dir):
        d.mkdir(exist_ok=True)
        (d / "s.py").write_text(script)
        (d / "logs").mkdir(exist_ok=True)
    options = ["-q", *how.pop("options", [])]
    plain = run_plain(["s.py"], plain_dir, **how)
    traced = run_traced(["s.py"], traced_dir, backend, log=log, options=options, **how)
    assert (traced.returncode, traced.stdout) == (plain.returncode, plain.stdout), traced.stderr
    assert plain.returncode == 0 and plain.stdout.startswith("done"), plain.stderr
    assert "Traceback" not in traced.stderr, traced.stderr
    for name in ("out.csv", "user.txt", "user2.txt"):
        if (plain_dir / name).exists():
            assert filecmp.cmp(plain_dir / name, traced_dir / name, shallow=False), name
    lines = [line for line in traced.stderr.splitlines() if line.startswith("tracer")]
    return traced, lines


def the_fault_line(lines: list[str], reason: str) -> int:
    """The one tracer line; the op the log is incomplete from."""
    assert len(lines) == 1, lines
    m = re.fullmatch(INCOMPLETE.format(reason=re.escape(reason)), lines[0])
    assert m, lines
    return int(m.group(1))


def reads_up_to(log: Path, lost_from: int, reason: str | None) -> list[int]:
    """The log reads without damage, every op in it comes before `lost_from`, and its trailer
    says why it ends (`reason`; None: there is no trailer). The seqs of its ops."""
    _, records, reader = read_all(log)
    assert reader.damage is None
    seqs = [r["seq"] for kind, r in records if kind is Kind.OP]
    assert seqs and max(seqs) < lost_from
    if reason is None:
        assert reader.trailer is None
    else:
        assert reader.trailer["status"] == "incomplete"
        assert reader.trailer["log_error"] == reason
        shown = run_cli("show", str(log), cwd=log.parent)
        assert shown.returncode == 0, shown.stderr
        assert shown.stderr.splitlines() == [
            f"tracer: warning: {log}: the log stops here: {reason}"
        ]
    return seqs


def op_names(records: list) -> list[str]:
    """The names of a log's top-level ops, in order (a STRING's id resolved)."""
    strings = {r["id"]: r["text"] for kind, r in records if kind is Kind.STRING}
    ops = [r for kind, r in records if kind is Kind.OP and r["parent"] is None]
    return [strings.get(op["op"], op["op"]) for op in ops]


@pytest.mark.parametrize("backend", backends())
def test_a_full_disk(tmp_path, tiny_disk, backend):
    if tiny_disk is not None:  # for real: the log on a 32 KiB tmpfs
        log, how = str(tiny_disk / "run.tlog"), {}
    else:  # the writer's fault point: writes past 24000 bytes fail with ENOSPC
        log, how = "run.tlog", {"extra_env": {"TRACER_TEST_LOG_FAULT": "ENOSPC@24000"}}
    traced, lines = both(tmp_path, MANY_OPS.replace("N", "1000"), backend, log=log, **how)
    lost_from = the_fault_line(lines, "the disk was full")
    assert lines[0].endswith(f"({traced.log})")
    assert lost_from > 100  # (the disk filled up well into the run)
    reads_up_to(traced.log, lost_from, "the disk was full")


@pytest.mark.parametrize("backend", backends())
def test_a_file_size_limit(tmp_path, backend):
    traced, lines = both(tmp_path, MANY_OPS.replace("N", "600"), backend, python=UNDER_A_SIZE_LIMIT)
    lost_from = the_fault_line(lines, "the log reached the file-size limit")
    assert traced.log.stat().st_size <= FILE_SIZE_LIMIT
    reads_up_to(traced.log, lost_from, "the log reached the file-size limit")


@pytest.mark.parametrize("backend", backends())
def test_an_io_error(tmp_path, backend):
    fault = {"TRACER_TEST_LOG_FAULT": "EIO@20000"}
    traced, lines = both(tmp_path, MANY_OPS.replace("N", "600"), backend, extra_env=fault)
    lost_from = the_fault_line(lines, "an I/O error")
    reads_up_to(traced.log, lost_from, "an I/O error")


@pytest.mark.parametrize("backend", backends())
def test_the_log_folder_deleted_mid_run(tmp_path, backend):
    traced, lines = both(tmp_path, DELETES_THE_LOG_FOLDER, backend, log="logs/run.tlog")
    the_fault_line(lines, "the log was deleted during the run")
    assert not traced.log.exists()


@pytest.mark.parametrize("backend", backends())
def test_closed_descriptors_are_never_written_and_the_log_goes_on(tmp_path, backend):
    traced, lines = both(tmp_path, CLOSES_ITS_DESCRIPTORS.replace("MOVE", "False"), backend)
    assert lines == []  # the log was reopened by its path: nothing is lost
    _, records, reader = read_all(traced.log)
    assert reader.damage is None and reader.trailer["status"] == "ok"
    # Every op is there: as many as when the script closes nothing.
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "s.py").write_text(
        CLOSES_ITS_DESCRIPTORS.replace("MOVE", "False").replace("os.closerange(3, 256)", "pass")
    )
    ref = run_traced(["s.py"], tmp_path / "ref", backend, options=["-q"])
    _, ref_records, _ = read_all(ref.log)
    assert op_names(records) == op_names(ref_records) and len(op_names(records)) > 4


@pytest.mark.parametrize("backend", backends())
def test_a_closed_descriptor_of_a_moved_log_cuts_it(tmp_path, backend):
    traced, lines = both(tmp_path, CLOSES_ITS_DESCRIPTORS.replace("MOVE", "True"), backend)
    lost_from = the_fault_line(lines, "the program closed the log's descriptor")
    # The log, moved away, reads up to the fault; no trailer: nothing may be written to it.
    moved = traced.log.with_name("moved.tlog")
    reads_up_to(moved, lost_from, None)
    assert op_names(read_all(moved)[1])[-1] == "dropna"  # the last op before os.closerange


@pytest.mark.parametrize("backend", backends())
def test_an_index_that_cannot_be_updated(tmp_path, tiny_disk, backend):
    if tiny_disk is not None:  # for real: the store on a full tmpfs
        home = tiny_disk
        with open(home / "fill", "wb") as f:
            try:
                f.write(b"\0" * (64 << 10))
            except OSError:
                pass
    else:  # an index that is a folder
        home = tmp_path / "home"
        (home / "index.sqlite").mkdir(parents=True)
    traced, lines = both(
        tmp_path, MANY_OPS.replace("N", "3"), backend, options=["--home", str(home)]
    )
    assert len(lines) == 1 and lines[0].startswith(
        f"tracer: warning: could not index {traced.log}: "
    ), lines
    _, _, reader = read_all(traced.log)
    assert reader.damage is None and reader.trailer["status"] == "ok"
