"""The run index on synthetic logs: what is extracted from a log, syncing with the runs
directory, the index as a cache (missing, corrupt, foreign, another schema), run references,
`why` across runs, `diff` alignment, and the report's markup."""

from __future__ import annotations

import io
import os
import sqlite3
import stat

import pytest
from rich.console import Console

from tracer.events.format import Kind
from tracer.events.writer import LogWriter
from tracer.lineage.load import load
from tracer.renderers.report import Document
from tracer.renderers.report_markup import to_html, to_markdown
from tracer.renderers.store_views import runs_table
from tracer.store import SCHEMA_VERSION, Store, index_run, open_store
from tracer.store.diff import compare
from tracer.store.extract import extract
from tracer.store.why import explain


class Log:
    """A small log written record by record: reads, transforms and writes of DataFrames."""

    def __init__(self, path, run_id, started, script="/src/job.py", cwd="/work"):
        self.w = LogWriter(path)
        self.path = str(path)
        self.w.record([Kind.HEADER, {"run_id": run_id, "script": script, "argv": [script],
                                     "cwd": cwd, "started": started, "host": "h", "pid": 1,
                                     "python": "3.12.1", "backend": "sysmon"}])
        self.n = 0
        self.seq = 0

    def _op(self, name, inputs, outputs, line, code, params=None, facts=None):
        self.seq += 1
        self.w.record([Kind.CALLSITE, self.seq, "/src/job.py", line, "main", code])
        self.w.record([Kind.OP, self.seq, name, f"pandas.{name}", None, inputs, outputs,
                       self.seq, 0, 0, 10, params or {}, facts or {}])
        return self.seq

    def _node(self, origin, cols, fp, rows=10):
        self.n += 1
        self.w.record([Kind.SCHEMA, self.n, cols, ["int64"] * len(cols)])
        self.w.record([Kind.NODE, self.n, "DataFrame", "pandas.DataFrame", [rows, len(cols)],
                       self.n, fp, 1, origin, self.n])
        return self.n

    def read(self, path, digest, cols, line=1):
        node = self._node(self.seq + 1, cols, "fp-" + digest)
        seq = self._op("read_csv", [], [node], line, f"df = pd.read_csv({path!r})",
                       facts={"file": [path, "read"]})
        self.w.record([Kind.FILE, seq, path, "read", "csv", 10, digest, node, 1])
        return node

    def transform(self, name, inputs, cols, fp, line, rows=10):
        node = self._node(self.seq + 1, cols, fp, rows)
        self._op(name, inputs, [node], line, f"df = df.{name}()")
        return node

    def write(self, node, path, digest, line=99):
        seq = self._op("to_csv", [node], [], line, f"df.to_csv({path!r})",
                       facts={"file": [path, "write"]})
        self.w.record([Kind.FILE, seq, path, "write", "csv", 10, digest, node, 1])

    def finish(self, status="ok", trailer=True):
        if trailer:
            self.w.record([Kind.TRAILER, {"ended": "2030-01-01T00:00:09Z", "status": status,
                                          "exit_code": 0 if status == "ok" else 1,
                                          "duration_s": 1.5, "counts": {"ops": self.seq}}])
        self.w.close()
        return self.path


@pytest.fixture
def home(tmp_path):
    return str(tmp_path / "store")


def runs_dir(home):
    path = os.path.join(home, "runs")
    os.makedirs(path, exist_ok=True)
    return path


def pipeline(home, raw_hash="h-raw"):
    """prepare: raw.csv -> mid.csv; train: mid.csv -> out.csv (two runs linked by a hash)."""
    d = runs_dir(home)
    a = Log(os.path.join(d, "a.tlog"), "20300101000001-aaaa1111", "2030-01-01T00:00:01Z",
            script="/src/prepare.py")
    n = a.read("/data/raw.csv", raw_hash, ["x", "y"])
    n = a.transform("dropna", [n], ["x", "y"], "fp-2" + raw_hash, line=2, rows=8)
    a.write(n, "/data/mid.csv", "h-mid-" + raw_hash)
    a.finish()
    b = Log(os.path.join(d, "b.tlog"), "20300101000002-bbbb2222", "2030-01-01T00:00:02Z",
            script="/src/train.py")
    n = b.read("/data/mid.csv", "h-mid-" + raw_hash, ["x", "y"])
    side = b.read("/data/other.csv", "h-other", ["z"], line=3)
    n = b.transform("merge", [n, side], ["x", "y", "z"], "fp-m", line=4)
    b.write(n, "/data/out.csv", "h-out")
    b.finish()


# -- extract ------------------------------------------------------------------------------------

def test_extract_finds_the_reads_each_write_depends_on(home):
    pipeline(home)
    facts = extract(os.path.join(home, "runs", "b.tlog"))
    assert (facts.run_id, facts.status, facts.ops, facts.files_in, facts.files_out) == (
        "20300101000002-bbbb2222", "ok", 4, 2, 1)
    (out,) = [f for f in facts.files if f.mode == "write"]
    assert [facts.files[i].path for i in out.inputs] == ["/data/mid.csv", "/data/other.csv"]
    assert out.steps == ["read_csv", "read_csv", "merge", "to_csv"] and not out.approx
    assert out.site == "job.py:99 main()"


def test_extract_guesses_inputs_when_the_written_object_is_unknown(tmp_path):
    log = Log(tmp_path / "x.tlog", "r", "2030-01-01T00:00:00Z")
    log.read("/d/a.csv", "ha", ["a"])
    log.write(None, "/d/b.csv", "hb")
    facts = extract(log.finish(trailer=False))
    (out,) = [f for f in facts.files if f.mode == "write"]
    assert out.approx and [facts.files[i].path for i in out.inputs] == ["/d/a.csv"]
    assert facts.status == "unfinished"


def test_extract_reads_interned_strings(tmp_path):
    w = LogWriter(tmp_path / "s.tlog")
    w.record([Kind.HEADER, {"run_id": "r", "started": "2030-01-01T00:00:00Z"}])
    for i, text in enumerate(["/src/job.py", "main", "read_csv", "to_csv"], 1):
        w.record([Kind.STRING, i, text])
    w.record([Kind.CALLSITE, 1, 1, 7, 2, "df = pd.read_csv(p)"])
    w.record([Kind.NODE, 1, "DataFrame", "pandas.DataFrame", [1, 1], None, b"\x01" * 16, 1, 1, 1])
    w.record([Kind.OP, 1, 3, 3, None, [], [1], 1, 0, 0, 1, {}, {}])
    w.record([Kind.FILE, 1, "/d/a.csv", "read", "csv", 1, "ha", 1, 1])
    w.record([Kind.OP, 2, 4, 4, None, [1], [], 1, 0, 0, 1, {}, {}])
    w.record([Kind.FILE, 2, "/d/b.csv", "write", "csv", 1, "hb", 1, 1])
    w.close()
    facts = extract(str(tmp_path / "s.tlog"))
    read, write = facts.files
    assert (read.op_name, read.site) == ("read_csv", "job.py:7 main()")
    assert write.steps == ["read_csv", "to_csv"] and write.inputs == [0]


# -- sync and the index as a cache ----------------------------------------------------------------

def test_sync_indexes_new_logs_reindexes_changed_ones_and_drops_deleted_ones(home):
    d = runs_dir(home)
    log = Log(os.path.join(d, "a.tlog"), "20300101000001-aaaa1111", "2030-01-01T00:00:01Z")
    log.read("/d/a.csv", "ha", ["a"])
    log.w.flush()
    with open_store(home) as store:
        assert [r.status for r in store.runs()] == ["unfinished"]
    log.finish()
    with open_store(home) as store:
        assert [r.status for r in store.runs()] == ["ok"]
    os.unlink(os.path.join(d, "a.tlog"))
    with open_store(home) as store:
        assert store.runs() == []
        assert store.db.execute("SELECT count(*) FROM files").fetchone()[0] == 0


def test_the_store_is_private(home):
    with Store(home):  # what `tracer run` does at its end; commands never create a store
        pass
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(home, "index.sqlite")).st_mode) == 0o600


@pytest.mark.parametrize("damage", ["garbage", "empty", "foreign", "schema"])
def test_a_bad_index_file_is_rebuilt_with_one_note(home, damage, capsys):
    pipeline(home)
    with open_store(home) as store:
        assert len(store.runs()) == 2
    capsys.readouterr()
    path = os.path.join(home, "index.sqlite")
    if damage in ("garbage", "empty"):
        for suffix in ("-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)
        with open(path, "wb") as f:
            f.write(b"\x00garbage" * 1000 if damage == "garbage" else b"")
    elif damage == "foreign":
        os.unlink(path)
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE t (x)")
        db.close()
    else:
        db = sqlite3.connect(path)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.close()
    with open_store(home) as store:
        assert [r.run_id for r in store.runs()] == ["20300101000002-bbbb2222",
                                                    "20300101000001-aaaa1111"]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "was rebuilt from the logs" in err


def test_an_unreadable_log_is_skipped_with_one_warning(home, capsys):
    d = runs_dir(home)
    bad = os.path.join(d, "bad.tlog")
    with open(bad, "wb") as f:
        f.write(b"not a log at all" * 10000)  # big enough not to look like a run starting
    with open_store(home) as store:
        assert store.runs() == []
    assert "not indexed" in capsys.readouterr().err
    with open_store(home):
        pass
    assert capsys.readouterr().err == ""


def test_a_log_that_is_just_starting_is_passed_over_silently(home, capsys):
    d = runs_dir(home)
    Store(home).close()
    with open(os.path.join(d, "new.tlog"), "wb") as f:
        f.write(b"\x93TRACER\n")
    with open_store(home) as store:
        assert store.runs() == []
    assert capsys.readouterr().err == ""


def test_index_run_never_raises(tmp_path, capsys):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    index_run(str(tmp_path / "missing.tlog"), home=str(not_a_dir))
    assert "could not index" in capsys.readouterr().err
    index_run(str(tmp_path / "missing.tlog"), home=str(tmp_path / "h"))  # no such log: quiet


def test_index_run_indexes_a_log_outside_the_store_and_keeps_it(home, tmp_path):
    log = Log(tmp_path / "elsewhere.tlog", "20300101000009-cccc3333", "2030-01-01T00:00:09Z")
    log.read("/d/a.csv", "ha", ["a"])
    index_run(log.finish(), home=home)
    with open_store(home) as store:
        assert [r.run_id for r in store.runs()] == ["20300101000009-cccc3333"]
    os.unlink(tmp_path / "elsewhere.tlog")
    with open_store(home) as store:
        assert store.runs() == []


# -- run references -------------------------------------------------------------------------------

def test_resolve_run_references(home):
    from tracer.exceptions import CommandError

    pipeline(home)
    with open_store(home) as store:
        assert store.resolve("latest").run_id == "20300101000002-bbbb2222"
        assert store.resolve("latest~1").run_id == "20300101000001-aaaa1111"
        assert store.resolve("aaaa").run_id == "20300101000001-aaaa1111"
        assert store.resolve("20300101000002").run_id == "20300101000002-bbbb2222"
        assert store.resolve(os.path.join(home, "runs", "a.tlog")).run_id.endswith("aaaa1111")
        with pytest.raises(CommandError, match="only 2 runs"):
            store.resolve("latest~2")
        with pytest.raises(CommandError, match="matches several runs"):
            store.resolve("2030")
        with pytest.raises(CommandError, match="no run 'zzz'"):
            store.resolve("zzz")


# -- why ------------------------------------------------------------------------------------------

def test_why_links_runs_by_content_hash(home, monkeypatch):
    pipeline(home)
    from tracer.store import why

    monkeypatch.setattr(why, "file_facts", lambda p: _Facts("h-out"))
    with open_store(home) as store:
        answer = explain(store, "/data/out.csv")
    assert answer.verdict == "written"
    train = answer.root.writer
    assert train.run.name == "train.py"
    mid, other = train.inputs
    assert (mid.path, mid.state, other.state) == ("/data/mid.csv", "written", "raw")
    (raw,) = mid.writer.inputs
    assert mid.writer.run.name == "prepare.py" and (raw.path, raw.state) == ("/data/raw.csv", "raw")


def test_why_says_when_an_input_changed_after_the_run_that_wrote_it(home, monkeypatch):
    pipeline(home)
    # a third run reads mid.csv after someone edited it by hand
    c = Log(os.path.join(home, "runs", "c.tlog"), "20300101000003-cccc3333",
            "2030-01-01T00:00:03Z")
    n = c.read("/data/mid.csv", "h-edited", ["x", "y"])
    c.write(n, "/data/final.csv", "h-final")
    c.finish()
    from tracer.store import why

    monkeypatch.setattr(why, "file_facts", lambda p: _Facts("h-final"))
    with open_store(home) as store:
        answer = explain(store, "/data/final.csv")
        (mid,) = answer.root.writer.inputs
        assert mid.state == "changed" and mid.last_write[1].run_id.endswith("aaaa1111")
        monkeypatch.setattr(why, "file_facts", lambda p: _Facts("h-edited"))
        answer = explain(store, "/data/mid.csv")
        assert answer.verdict == "changed" and answer.last_write[1].name == "prepare.py"


class _Facts:
    def __init__(self, digest):
        self.hash, self.size = digest, 10


# -- diff -----------------------------------------------------------------------------------------

def test_diff_aligns_by_call_site_and_finds_the_first_divergence(home):
    pipeline(home, raw_hash="h1")
    a = load(os.path.join(home, "runs", "a.tlog"))
    assert compare(a, a).equivalent
    pipeline(home + "2", raw_hash="h2")
    b = load(os.path.join(home + "2", "runs", "a.tlog"))
    d = compare(a, b)
    assert not d.equivalent
    assert d.first.a.op == "read_csv"
    assert [c.what for c in d.first.changes] == ["input file raw.csv", "fingerprint"]
    assert [p.downstream for p in d.differing[1:]] == [True, True]
    assert [(f.path, f.a, f.b) for f in d.files] == [("../data/mid.csv", "h-mid-h1", "h-mid-h2")]


def test_diff_reports_ops_only_one_run_made(home, tmp_path):
    runs_dir(home)
    x = Log(tmp_path / "x.tlog", "x", "2030-01-01T00:00:00Z")
    n = x.read("/d/a.csv", "ha", ["a"])
    x.write(n, "/d/b.csv", "hb")
    y = Log(tmp_path / "y.tlog", "y", "2030-01-01T00:00:00Z")
    n = y.read("/d/a.csv", "ha", ["a"])
    n = y.transform("dropna", [n], ["a"], "fp-x", line=5)
    y.write(n, "/d/b.csv", "hb")
    d = compare(load(x.finish()), load(y.finish()))
    assert d.first is not None and d.first.a is None and d.first.b.op == "dropna"


# -- rendering ------------------------------------------------------------------------------------

@pytest.fixture
def utc():
    """Local time is UTC for the test (times are shown in local time)."""
    import time

    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_runs_table_at_a_fixed_width(home, utc):
    pipeline(home)
    out = io.StringIO()
    with open_store(home) as store:
        runs_table(store.runs(), Console(file=out, width=100, color_system=None))
    assert out.getvalue().splitlines() == [
        "started           id        script      status  duration  ops  in  out",
        "2030-01-01 00:00  bbbb2222  train.py    ok        1.50 s    4   2    1",
        "2030-01-01 00:00  aaaa1111  prepare.py  ok        1.50 s    3   1    1",
    ]


def test_markup_escapes_user_text():
    doc = Document("t")
    doc.h(1, "Report <x>")
    doc.p("file `<script>a|b</script>` & more")
    doc.table(["a|b", "c"], [["`x|y`", "<b>"]])
    html = to_html(doc)
    assert "<code>&lt;script&gt;a|b&lt;/script&gt;</code> &amp; more" in html
    assert "<script>" not in html and "<td>&lt;b&gt;</td>" in html
    md = to_markdown(doc)
    assert "| a\\|b | c |" in md and "| `x\\|y` | <b> |" in md


def test_commands_never_create_a_store(home):
    from tracer.exceptions import CommandError

    with pytest.raises(CommandError, match="no tracer store"):
        open_store(home)
    assert not os.path.exists(home)


def test_store_is_usable_as_a_plain_object(home):
    store = Store(home)
    try:
        assert store.sync().indexed == 0
    finally:
        store.close()
