"""The `%lineage_*` magics in IPython's own InteractiveShell (cells run as a notebook runs them,
with execution counts), interrupts in the middle of traced cells, and examples/notebook.ipynb
run headless by `jupyter nbconvert --execute` in a real kernel."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import types

import pytest
from support import EXAMPLES, ROOT, env

import tracer
from tracer.lineage.query import CellMap, query, remember

IPython = pytest.importorskip(
    "IPython", reason="IPython is not installed here (pip install -e '.[jupyter]')"
)
from IPython.core.error import UsageError  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

HOUSING = str(EXAMPLES / "data" / "housing.csv")


@pytest.fixture(scope="module")
def ipython(tmp_path_factory):
    """One InteractiveShell for the module (it is a singleton), its history kept in memory."""
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipythondir")))
        shell = InteractiveShell.instance(config=config)
    shell.run_cell("%load_ext tracer.jupyter", store_history=False)
    shell.run_line_magic("colors", "nocolor")  # plain tracebacks
    yield shell
    InteractiveShell.clear_instance()  # no IPython left behind for the modules after this one


@pytest.fixture
def shell(ipython, tmp_path, monkeypatch):
    """The shell in a fresh working directory, counting cells from In[1], with no session."""
    monkeypatch.chdir(tmp_path)
    ipython.execution_count = 1
    ipython.user_ns["HOUSING"] = HOUSING
    yield ipython
    magics = lineage_magics(ipython)
    if magics.session is not None and magics.session.running:
        magics.session.stop()
    magics.session = magics.last = None
    remember(None)


def every_backend() -> list[str]:
    """The backends this interpreter runs, the optional C filter included where it is built."""
    from tracer.hooks import select

    names = ["sysmon"] if hasattr(sys, "monitoring") else []
    missing = getattr(select, "ctrace_missing", None)
    if "ctrace" in select.BACKENDS and missing is not None and missing() is None:
        names.append("ctrace")
    return [*names, "setprofile"]


@pytest.fixture(params=every_backend())
def backend(request) -> str:
    return request.param


def lineage_magics(shell):
    return shell.magics_manager.registry["LineageMagics"]


def cell(shell, source, capsys=None, error=None):
    """Run one cell as a notebook does; returns (result, stdout, stderr) of that cell alone
    when capturing."""
    if capsys is not None:
        capsys.readouterr()
    result = shell.run_cell(source, store_history=True)
    failure = result.error_before_exec or result.error_in_exec
    if error is None:
        assert failure is None, f"cell failed: {failure!r}"
    else:
        assert isinstance(failure, error), f"expected {error.__name__}, got {failure!r}"
    if capsys is None:
        return result
    out = capsys.readouterr()
    return result, out.out, out.err


def tracing() -> bool:
    """Is any tracer hook installed right now?"""
    if sys.getprofile() is not None:
        return True
    mon = getattr(sys, "monitoring", None)
    return mon is not None and any(mon.get_tool(i) == "tracer" for i in range(6))


def sites(log) -> list[tuple[str, str]]:
    """(op, call site) of every top-level op, call sites as the query API shows them."""
    q = query(log)
    return [(op.op, q.where(op)) for op in q.ops if op.parent is None]


# -- import boundaries ------------------------------------------------------------------------


def test_import_tracer_never_imports_ipython():
    code = ("import sys, tracer, tracer.jupyter, tracer.jupyter.session, tracer.lineage.query\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('IPython', 'rich')))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env(),
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


@pytest.mark.skipif(not hasattr(tracer, "load_ipython_extension"),
                    reason="tracer/__init__.py does not export load_ipython_extension yet")
def test_load_ext_tracer_registers_the_magics(shell, capsys):
    cell(shell, "%load_ext tracer")
    assert {"lineage_start", "lineage_stop", "lineage_show", "lineage_summary"} <= set(
        shell.magics_manager.magics["line"])
    assert "lineage" in shell.magics_manager.magics["cell"]


# -- a traced session -------------------------------------------------------------------------


def test_a_session_records_each_cell_with_its_cell_as_call_site(shell, capsys, backend):
    # GIVEN a notebook that traces a few cells, re-runs two of them and defines a function
    cell(shell, "import pandas as pd")  # In[1]
    _, out, _ = cell(shell, f"%lineage_start --log nb.tlog --backend {backend}", capsys)  # In[2]
    assert out == f"tracer: tracing cells into nb.tlog ({backend})\n"
    assert tracing()
    cell(shell, "raw = pd.read_csv(HOUSING)\ndf = raw.dropna()")  # In[3]
    cell(shell, "def clean(d):\n    return d.query('median_house_value < 500001')")  # In[4]
    cell(shell, "df = clean(df)")  # In[5]
    cell(shell, "df['rooms'] = df['total_rooms'] / df['households']")  # In[6]
    cell(shell, "df['rooms'] = df['total_rooms'] / df['households']")  # In[7]: again
    cell(shell, "small = df.head(5)")  # In[8]
    cell(shell, "small = df.head(5)")  # In[9]: again
    _, out, _ = cell(shell, "%lineage_stop", capsys)  # In[10]
    assert out == "tracer: 13 ops; log written to nb.tlog\n"
    assert not tracing()
    # THEN every op carries the cell (and line) that made it; clean's query is In[4]'s code
    assert sites("nb.tlog") == [
        ("read_csv", "In[3]:1"), ("dropna", "In[3]:2"), ("query", "In[4]:2"),
        ("getitem", "In[6]:1"), ("getitem", "In[6]:1"), ("truediv", "In[6]:1"),
        ("setitem", "In[6]:1"),
        ("getitem", "In[7]:1"), ("getitem", "In[7]:1"), ("truediv", "In[7]:1"),
        ("setitem", "In[7]:1"),
        ("head", "In[8]:1"), ("head", "In[9]:1"),
    ]
    q = query("nb.tlog")
    assert [op.callsite.function for op in q.ops if op.op == "query"] == ["clean"]
    # AND re-running a cell made new versions, not duplicates
    first, second = [op for op in q.ops if op.op == "setitem"]
    v1, v2 = q.nodes[first.outputs[0]], q.nodes[second.outputs[0]]
    assert (v1.object, v2.version) == (v2.object, v1.version + 1)
    assert second.inputs[0] == first.outputs[0]
    heads = [op for op in q.ops if op.op == "head"]
    assert heads[0].inputs == heads[1].inputs == [second.outputs[0]]
    assert heads[0].outputs != heads[1].outputs
    # AND the log is complete, with the cell map beside it
    assert q.lineage.run.status == "ok" and q.lineage.damage is None
    assert [c.number for c in CellMap.load("nb.tlog").cells] == [2, 3, 4, 5, 6, 7, 8, 9, 10]


def test_lineage_show_and_summary_render_the_session(shell, capsys):
    cell(shell, "import pandas as pd")
    cell(shell, "%lineage_start --log show.tlog")
    cell(shell, "raw = pd.read_csv(HOUSING)")  # In[3]
    cell(shell, "df = raw.dropna()\ndf = df.assign(r=lambda d: d['total_rooms'] / d['households'])")
    cell(shell, "df.to_csv('features.csv', index=False)")  # In[5]
    capsys.readouterr()
    # WHEN the session is shown while it runs
    _, out, _ = cell(shell, "%lineage_show --width 100", capsys)
    lines = out.splitlines()
    # THEN the tree names each step by its cell, and does not call a running session unfinished
    assert lines[0].startswith("ipython  ·  ")
    assert not any("did not finish: this is what it recorded" in line for line in lines)
    assert any("read_csv" in line and line.endswith("In[3]:1") for line in lines)
    assert any("dropna" in line and line.endswith("In[4]:1") for line in lines)
    assert any("to_csv" in line and line.endswith("In[5]:1") for line in lines)
    # AND one artifact's ancestry, by file or by notebook variable
    _, out, _ = cell(shell, "%lineage_show --artifact features.csv --width 100", capsys)
    assert "features.csv" in out.splitlines()[1] and "assign" in out and "In[4]:2" in out
    _, out, _ = cell(shell, "%lineage_show --artifact df --width 100", capsys)
    assert "DataFrame" in out.splitlines()[1] and "to_csv" not in out and "read_csv" in out
    _, out, _ = cell(shell, "%lineage_summary --width 100", capsys)
    assert "tracked" in out and "features.csv" in out
    cell(shell, "%lineage_stop")
    # AND after the session, the last one is shown, and any log by path
    _, out, _ = cell(shell, "%lineage_show --width 100", capsys)
    print(out)
    assert "ok" in out.splitlines()[0] and "In[3]:1" in out
    _, out, _ = cell(shell, "%lineage_summary --log show.tlog --width 100", capsys)
    assert "tracked" in out


def test_lineage_show_lists_the_ops_when_the_tree_view_is_missing(shell, capsys, monkeypatch):
    cell(shell, "import pandas as pd")
    cell(shell, "%lineage_start --log plain.tlog")
    cell(shell, "raw = pd.read_csv(HOUSING)\nsmall = raw.head(3)")  # In[3]
    monkeypatch.setitem(sys.modules, "tracer.renderers.tree", None)  # import fails
    monkeypatch.setitem(sys.modules, "tracer.renderers.summary", None)
    _, out, _ = cell(shell, "%lineage_show --width 100", capsys)
    assert out.splitlines() == [
        "2 ops, 2 nodes, 1 files",
        "   1 read_csv         -> (20640, 10)               In[3]:1",
        "   2 head             (20640, 10) -> (3, 10)       In[3]:2",
    ]
    _, out, _ = cell(shell, "%lineage_summary", capsys)
    assert out == "running: 2 ops, 2 nodes, 1 files read, 0 written\n"


def test_the_query_api_sees_the_live_session(shell, capsys):
    cell(shell, "import pandas as pd\nimport tracer.lineage.query as lq")
    cell(shell, "%lineage_start --log live.tlog")
    cell(shell, "raw = pd.read_csv(HOUSING)\ndf = raw.dropna()")  # In[3]
    ask = "q = lq.query()\nprint([(op.op, q.where(op)) for op in q.ancestry(df)])"
    _, out, _ = cell(shell, ask, capsys)
    assert out == "[('read_csv', 'In[3]:1'), ('dropna', 'In[3]:2')]\n"
    cell(shell, "small = df.head(3)")  # In[5]
    _, out, _ = cell(shell, "print([q.where(op) for op in q.ancestry(small)])", capsys)
    assert out == "['In[3]:1', 'In[3]:2', 'In[5]:1']\n"
    cell(shell, "%lineage_stop")
    _, out, _ = cell(shell, "print(lq.query().lineage.run.status, len(lq.query()))", capsys)
    assert out == "ok 3\n"


def test_usage_errors_are_one_line(shell, capsys):
    def usage(source: str) -> str:
        _, _, err = cell(shell, source, capsys, error=UsageError)
        assert err.startswith("UsageError: ") and err.count("\n") == 1
        return err[len("UsageError: "):].strip()

    assert usage("%lineage_stop") == "no tracing session is running (start one with %lineage_start)"
    assert usage("%lineage_show").startswith("no tracing session yet")
    cell(shell, "%lineage_start --log a.tlog")
    assert usage("%lineage_start --log b.tlog").startswith("already tracing this session (log: ")
    assert usage("%lineage_show --artifact nothing_here") == (
        "no file, model or traced variable 'nothing_here' in this session")
    assert usage("%lineage_show --width 5") == "--width must be at least 20"
    cell(shell, "%lineage_stop")
    # another tracer running in the process (tracer.trace in a cell) is reported, not nested
    with tracer.trace(log="outer.tlog"):
        assert usage("%lineage_start --log c.tlog").startswith("tracer is already running")


# -- %%lineage ------------------------------------------------------------------------------


def test_cell_magic_traces_that_cell_only(shell, capsys):
    cell(shell, "import pandas as pd\nraw = pd.read_csv(HOUSING)")  # In[1]: not traced
    # WHEN one cell is traced
    _, out, err = cell(shell, "%%lineage --log one.tlog\nsmall = raw.head(3)\nsmall.shape", capsys)
    # THEN it runs as a cell (its last value shown), and says where the log went on stdout,
    # as the line magics do (stderr is a notebook's error box)
    assert out == "Out[2]: (3, 10)\ntracer: 1 op; log written to one.tlog\n"
    assert err == ""
    assert not tracing()
    cell(shell, "x = raw.tail(2)")  # In[3]: not traced
    # AND the log holds that cell's ops only, with the cell as call site
    assert sites("one.tlog") == [("head", "In[2]:1")]
    q = query("one.tlog")
    assert q.nodes[q.ops[0].inputs[0]].origin is None  # raw came from an untraced cell
    assert q.lineage.run.status == "ok"


def test_cell_magic_in_a_running_session_just_runs_the_cell(shell, capsys):
    cell(shell, "import pandas as pd\nraw = pd.read_csv(HOUSING)")
    cell(shell, "%lineage_start --log session.tlog")  # In[2]
    cell(shell, "%%lineage --log other.tlog\nsmall = raw.head(3)")  # In[3]
    cell(shell, "%lineage_stop")
    assert not os.path.exists("other.tlog")
    assert sites("session.tlog") == [("head", "In[3]:1")]


def test_cell_magic_records_a_failing_cell(shell, capsys):
    cell(shell, "import pandas as pd\nraw = pd.read_csv(HOUSING)")
    failing = "%%lineage --log fail.tlog\nsmall = raw.head(3)\nraise ValueError('boom')"
    _, out, err = cell(shell, failing, capsys, error=ValueError)
    assert "ValueError: boom" in out and "In[2]" in out
    assert "jupyter/magics.py" not in out  # the magic's own frames are hidden
    assert "tracer: 1 op; log written to fail.tlog\n" in out
    assert err == ""  # the traceback is IPython's, the log line a status line
    run = query("fail.tlog").lineage.run
    assert (run.status, run.error) == ("error", "ValueError: boom")
    _, _, err = cell(shell, "%%lineage --log stop.tlog\nraise KeyboardInterrupt", capsys,
                     error=KeyboardInterrupt)
    assert query("stop.tlog").lineage.run.status == "interrupted"


def test_line_and_cell_magics_print_status_on_stdout_and_warnings_on_stderr(shell, capsys):
    # GIVEN a session of line magics and a %%lineage cell, each saying where its log went
    cell(shell, "import pandas as pd\nraw = pd.read_csv(HOUSING)")
    lines = []
    for source in ("%lineage_start --log s.tlog", "x = raw.head(2)", "%lineage_stop",
                   "%%lineage --log c.tlog\ny = raw.head(2)"):
        _, out, err = cell(shell, source, capsys)
        # THEN every status line is on stdout, none on stderr
        assert err == "", (source, err)
        lines.append(out)
    assert lines[0].startswith("tracer: tracing cells into s.tlog (")
    assert lines[2:] == ["tracer: 1 op; log written to s.tlog\n",
                         "tracer: 1 op; log written to c.tlog\n"]
    # AND a log that ends early is a warning: stderr, from either kind of magic
    from tracer.jupyter import magics

    session = lineage_magics(shell).last

    class Unfinished:
        def lineage(self):
            return types.SimpleNamespace(run=types.SimpleNamespace(status="unfinished"))

    session.live = Unfinished()
    magics._report(session)
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == ("tracer: 1 op; log written to c.tlog (it ends early: an interrupt may "
                       "have stopped the log writer)\n")


# -- interrupts -----------------------------------------------------------------------------


def test_an_interrupt_inside_a_traced_op_leaves_the_session_consistent(shell, capsys, backend):
    cell(shell, "import pandas as pd\nraw = pd.read_csv(HOUSING)\nsmall = raw.head(3)")
    cell(shell, f"%lineage_start --log ki.tlog --backend {backend}")  # In[2]
    # GIVEN Ctrl-C while pandas runs a traced apply
    cell(shell, "def stop(row):\n    raise KeyboardInterrupt\n\nsmall.apply(stop, axis=1)",
         error=KeyboardInterrupt)  # In[3]
    # THEN the next cell is traced as usual
    cell(shell, "after = raw.tail(2)")  # In[4]
    cell(shell, "%lineage_stop")
    assert sites("ki.tlog") == [("apply", "In[3]:4"), ("tail", "In[4]:1")]
    q = query("ki.tlog")
    assert q.ops[0].error in ("KeyboardInterrupt: ", "exception")  # setprofile sees no exception
    assert q.lineage.run.status == "ok"
    assert not tracing()


def test_an_interrupt_inside_the_hook_itself_is_repaired(shell, capsys, backend):
    cell(shell, "import pandas as pd\nraw = pd.read_csv(HOUSING)")
    cell(shell, f"%lineage_start --log hook.tlog --backend {backend}")  # In[2]
    session = lineage_magics(shell).session
    recorder = session.tracer.recorder
    real = recorder.op_start
    fired = []

    def interrupted(*args, **kwargs):
        # Ctrl-C landing inside tracer's callback: under sys.setprofile the interpreter then
        # removes the profile function for good.
        if not fired:
            fired.append(True)
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    recorder.op_start = interrupted
    cell(shell, "x = raw.head(3)", error=KeyboardInterrupt)  # In[3]
    assert session.repairs == 1 and tracing()
    cell(shell, "y = raw.tail(2)\nz = y.dropna()")  # In[4]
    cell(shell, "%lineage_stop")
    assert sites("hook.tlog") == [("tail", "In[4]:1"), ("dropna", "In[4]:2")]
    assert query("hook.tlog").lineage.run.status == "ok"


def test_an_interrupt_while_the_log_is_written_loses_nothing_after_it(shell, capsys, monkeypatch):
    from tracer.events import writer

    cell(shell, "import pandas as pd\nraw = pd.read_csv(HOUSING)")
    cell(shell, "%lineage_start --log write.tlog")  # In[2]
    real = writer._write_all
    fired = []

    def write_then_interrupt(fd, data):
        real(fd, data)
        if not fired:
            fired.append(True)
            raise KeyboardInterrupt

    monkeypatch.setattr(writer, "_write_all", write_then_interrupt)
    cell(shell, "x = raw.head(3)", error=KeyboardInterrupt)  # In[3]
    cell(shell, "y = raw.tail(2)")  # In[4]
    cell(shell, "%lineage_stop")
    assert sites("write.tlog") == [("head", "In[3]:1"), ("tail", "In[4]:1")]
    assert query("write.tlog").lineage.run.status == "ok"


# -- the example notebook, in a real kernel --------------------------------------------------


def _missing_for_nbconvert() -> str | None:
    for module in ("nbconvert", "nbformat", "ipykernel", "jupyter_client"):
        if importlib.util.find_spec(module) is None:
            return (f"{module} is not installed here: the notebook test needs "
                    "pip install nbconvert nbformat ipykernel jupyter_client")
    if not hasattr(tracer, "load_ipython_extension") or not hasattr(tracer, "query"):
        return "tracer/__init__.py does not export load_ipython_extension and query yet"
    return None


@pytest.mark.skipif(_missing_for_nbconvert() is not None, reason=str(_missing_for_nbconvert()))
def test_the_example_notebook_runs_headless(tmp_path):
    import nbformat

    # GIVEN examples/notebook.ipynb and its data in a scratch folder
    shutil.copy(EXAMPLES / "notebook.ipynb", tmp_path / "notebook.ipynb")
    shutil.copytree(EXAMPLES / "data", tmp_path / "data")
    # WHEN jupyter nbconvert executes it in a fresh kernel
    p = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=120", "--output", "executed.ipynb", "notebook.ipynb"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env=env(PYTHONPATH=str(ROOT), JUPYTER_PLATFORM_DIRS="1",
                JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime")),
    )
    assert p.returncode == 0, p.stderr[-3000:]
    nb = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    # THEN the views were rich output (HTML for the notebook), naming cells as call sites
    shown = [o for c in code if c.source.startswith("%lineage_show") for o in c.outputs]
    assert shown and all(o.output_type == "display_data" and "text/html" in o.data for o in shown)
    assert "In[4]:1" in shown[0].data["text/plain"] and "clean" in shown[0].data["text/plain"]
    # AND the session's log is complete, its cells mapped from ipykernel's file names
    (log,) = (tmp_path / ".tracer" / "runs").glob("*.tlog")
    q = query(log)
    assert q.lineage.run.status == "ok"
    assert [(op.op, q.where(op)) for op in q.ops if op.parent is None] == [
        ("read_csv", "In[4]:1"), ("dropna", "In[5]:2"), ("query", "In[5]:3"),
        ("assign", "In[6]:1"), ("to_csv", "In[6]:5")]
    assert all("ipykernel_" in op.callsite.file for op in q.ops)
    # AND the %%lineage cell has a log of its own
    assert sites(tmp_path / "notebook_out" / "sample.tlog") == [("sample", "In[13]:1")]
