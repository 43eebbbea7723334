"""Child processes of a traced run are traced, each into its own log tagged with the parent run.

One program starts children in every way the tracer follows — a multiprocessing Pool under
'fork' and under 'spawn', a ProcessPoolExecutor, joblib.Parallel with its loky and its
multiprocessing backends, and `subprocess.run([sys.executable, ...])` — and each child does one
`dropna` on a frame whose only column names the way it was started. Run plainly and under
tracer on every backend, it must print the same; every child's ops must be in a child log whose
header names the parent run; `--no-children` must leave no child log. Two workers, tiny data.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import textwrap
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import backends, env, export_json, run_plain, run_traced

import tracer
from tracer import children
from tracer.events.reader import LogReader

PROGRAM = textwrap.dedent(
    '''
    """Start children every way tracer follows; each child does one dropna on a tagged frame."""
    import multiprocessing as mp
    import subprocess
    import sys
    from concurrent.futures import ProcessPoolExecutor

    import pandas as pd
    from joblib import Parallel, delayed

    # What a child interpreter prints: its sys.path must be what python alone gives it.
    CHILD = (
        "import sys, pandas as pd; print(sys.path); "
        "df = pd.DataFrame({sys.argv[1]: [1.0, None, 3.0]}); print(len(df.dropna()))"
    )
    TASKS = {"pool_fork": 3, "pool_spawn": 2, "executor": 3, "loky": 3, "joblib_mp": 2}


    def work(tag, n):
        df = pd.DataFrame({tag: [float(i) for i in range(n)] + [None]})
        return len(df.dropna())


    def run(kind):
        args = [(kind, n) for n in range(2, 2 + TASKS.get(kind, 0))]
        if kind in ("pool_fork", "pool_spawn"):
            with mp.get_context(kind[5:]).Pool(2) as pool:
                return pool.starmap(work, args)
        if kind == "executor":
            with ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as ex:
                return list(ex.map(work, *zip(*args)))
        if kind in ("loky", "joblib_mp"):
            backend = "loky" if kind == "loky" else "multiprocessing"
            return Parallel(n_jobs=2, backend=backend)(delayed(work)(*a) for a in args)
        if kind == "subprocess":
            return subprocess.run([sys.executable, "-c", CHILD, kind], check=True).returncode
        raise SystemExit(f"unknown kind {kind}")


    if __name__ == "__main__":
        print("parent", work("parent", 2))
        for kind in sys.argv[1:]:
            print(kind, run(kind), flush=True)
    '''
)
ALL = ["pool_fork", "pool_spawn", "executor", "loky", "joblib_mp", "subprocess"]
TASKS = {"pool_fork": 3, "pool_spawn": 2, "executor": 3, "loky": 3, "joblib_mp": 2, "subprocess": 1}


SUBSET = ["pool_fork", "subprocess"]  # one forked child, one fresh interpreter

# A program whose child interpreter reports what tracer's bootstrap must leave as python makes
# it: the user's own sitecustomize (found on PYTHONPATH), sys.path, and one op to record.
WITH_SITE = textwrap.dedent(
    """
    import subprocess, sys
    code = (
        "import sys, pandas as pd; site = sys.modules.get('sitecustomize'); "
        "print(getattr(site, '__file__', None)); print(sys.path); "
        "print(len(pd.DataFrame({'site': [1.0, None]}).dropna()))"
    )
    subprocess.run([sys.executable, "-c", code])
    """
)
# A program that forks while another of its threads is inside a traced call (an apply waiting for
# the parent to let it finish): that open call is the parent's, not the child's.
MID_CALL = textwrap.dedent(
    """
    import os, sys, threading
    import pandas as pd

    inside, release = threading.Event(), threading.Event()

    def slow(x):
        inside.set()
        release.wait()
        return x

    worker = threading.Thread(target=lambda: pd.Series([1.0]).apply(slow))
    worker.start()
    inside.wait()
    pid = os.fork()
    if pid == 0:
        print("child", len(pd.DataFrame({"child": [1.0, None]}).dropna()), flush=True)
        sys.exit(0)
    os.waitpid(pid, 0)
    release.set()
    worker.join()
    print("parent done")
    """
)
USER_SITE = 'import sys\nprint("user sitecustomize", file=sys.stderr)\n'
FAILING_SITE = 'raise RuntimeError("broken on purpose")\n'


def run_with_site(root: Path, site: str, traced: str | None) -> subprocess.CompletedProcess:
    """Run WITH_SITE with a user's sitecustomize on PYTHONPATH, plainly or traced (log name)."""
    here = root / f"site-{abs(hash(site))}"
    here.mkdir(exist_ok=True)
    (here / "sitecustomize.py").write_text(site, encoding="utf-8")
    (here / "parent.py").write_text(WITH_SITE, encoding="utf-8")
    environ = env()
    environ["PYTHONPATH"] = environ["PYTHONPATH"] + os.pathsep + str(here)
    cmd = [sys.executable, "parent.py"]
    if traced:
        cmd[1:1] = ["-m", "tracer", "run", "-q", "-o", traced]  # -q: stderr is the program's
    return subprocess.run(cmd, cwd=here, env=environ, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every run this file looks at, started three at a time (they mostly wait on children)."""
    root = tmp_path_factory.mktemp("children")
    (root / "kids.py").write_text(PROGRAM, encoding="utf-8")
    (root / "midcall.py").write_text(MID_CALL, encoding="utf-8")

    def again():  # two runs, one after the other, with the same log path
        first = run_traced(["kids.py", "pool_fork"], root, log="again.tlog")
        return (
            first,
            set(children.child_logs(first.log)),
            run_traced(["kids.py", "subprocess"], root, log="again.tlog"),
        )

    jobs = {
        "plain": lambda: run_plain(["kids.py", *ALL], root),
        "plain-subset": lambda: run_plain(["kids.py", *SUBSET], root),
        "no-children": lambda: run_traced(
            ["kids.py", *SUBSET], root, log="alone.tlog", options=["-q", "--no-children"]
        ),
        "again": again,
        "site-plain": lambda: run_with_site(root, USER_SITE, None),
        "site-traced": lambda: run_with_site(root, USER_SITE, "site.tlog"),
        "broken-plain": lambda: run_with_site(root, FAILING_SITE, None),
        "broken-traced": lambda: run_with_site(root, FAILING_SITE, "broken.tlog"),
        "midcall-plain": lambda: run_plain(["midcall.py"], root),
        **{
            b: functools.partial(
                run_traced, ["kids.py", *ALL], root, b, f"run-{b}.tlog", options=["-q"]
            )
            for b in backends()
        },
        **{
            f"midcall-{b}": functools.partial(
                run_traced, ["midcall.py"], root, b, f"midcall-{b}.tlog", options=["-q"]
            )
            for b in backends()
        },
    }
    with ThreadPoolExecutor(3) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        done = {name: f.result() for name, f in futures.items()}
    assert done["plain"].returncode == 0, done["plain"].stderr
    done["root"] = root
    return done


def without_tracer_lines(stderr: str) -> str:
    return "".join(line for line in stderr.splitlines(True) if not line.startswith("tracer:"))


@pytest.mark.parametrize("backend", backends())
def test_every_kind_of_child_writes_a_log_tagged_with_the_parent_run(runs, backend):
    # GIVEN a program that starts children in six ways
    plain = runs["plain"]
    # WHEN it runs under tracer
    r = runs[backend]
    # THEN it behaves as under python
    assert r.returncode == 0, r.stderr
    assert r.stdout == plain.stdout
    assert without_tracer_lines(r.stderr) == plain.stderr
    # AND the parent's log holds the parent's op only
    parent = tracer.load(r.log)
    assert [op.op for op in parent.ops if op.op == "dropna"] == ["dropna"]
    assert "parent_run_id" not in parent.run.header
    # AND each child's ops are in a finished child log tagged with the parent run
    logs = children.child_logs(r.log)
    assert logs and all(os.path.dirname(p) == children.children_dir(r.log) for p in logs)
    dropnas: Counter[str] = Counter()
    for path in logs:
        child = tracer.load(path)
        header = child.run.header
        assert header["parent_run_id"] == parent.run.id
        assert header["parent_log"] == str(r.log)
        assert header["pid"] != parent.run.header["pid"]
        assert header["backend"] == backend
        assert child.damage is None
        # a pool worker ends by its finalizers, or dies of Pool.terminate()'s SIGTERM, which
        # leaves every finished op but no trailer
        assert child.run.status in ("ok", "unfinished"), (path, child.run.status)
        for op in child.ops:
            if op.op == "dropna":
                (tag,) = child.nodes[op.inputs[0]].columns
                dropnas[tag] += 1
    assert dropnas == TASKS


def test_no_children_opts_out(runs):
    # GIVEN the same program, one kind of child of each mechanism (fork, fresh interpreter)
    expected = runs["plain-subset"]
    # WHEN it runs with --no-children
    r = runs["no-children"]
    # THEN it behaves as under python, and no child wrote a log
    assert r.returncode == 0, r.stderr
    assert r.stdout == expected.stdout
    assert children.child_logs(r.log) == []
    assert not os.path.exists(children.children_dir(r.log))
    # AND the parent's log is whole: its one op, a trailer
    parent = tracer.load(r.log)
    assert [op.op for op in parent.ops if op.op == "dropna"] == ["dropna"]
    assert parent.run.status == "ok"


def test_a_new_run_at_the_same_path_replaces_the_old_childrens_logs(runs):
    # GIVEN a run that left child logs
    first, old, second = runs["again"]
    assert first.returncode == 0, first.stderr
    assert old
    # WHEN another run writes its log at the same path
    assert second.returncode == 0, second.stderr
    # THEN only the new run's children are there
    new = children.child_logs(second.log)
    assert len(new) == 1 and not old & set(new)
    assert sorted(os.listdir(children.children_dir(second.log))) == [os.path.basename(new[0])]
    with LogReader(new[0]) as reader:
        assert reader.header["argv"][0] == "-c"


@pytest.mark.parametrize("kind", ["site", "broken"])
def test_the_users_own_sitecustomize_still_runs_in_a_traced_child(runs, kind):
    # GIVEN a user's sitecustomize on PYTHONPATH (a working one, or one that raises)
    plain, traced = runs[f"{kind}-plain"], runs[f"{kind}-traced"]
    # THEN the child imports it, reports its error if any, and sees python's sys.path
    assert plain.returncode == 0 and traced.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout
    assert traced.stderr == plain.stderr
    if kind == "site":
        assert plain.stdout.splitlines()[0].endswith("sitecustomize.py")
        assert "user sitecustomize" in plain.stderr
    else:
        assert plain.stdout.splitlines()[0] == "None"
        assert "Error in sitecustomize" in plain.stderr
    # AND the child was traced all the same
    log = next(iter(runs["root"].glob(f"site-*/{kind}.tlog")))
    (child,) = children.child_logs(log)
    assert [op.op for op in tracer.load(child).ops] == ["DataFrame", "dropna"]


@pytest.mark.parametrize("backend", backends())
def test_a_call_open_in_another_thread_at_a_fork_stays_in_the_parents_log(runs, backend):
    # GIVEN a program that forks while its other thread is inside a traced apply
    plain, r = runs["midcall-plain"], runs[f"midcall-{backend}"]
    # WHEN it runs under tracer, THEN it behaves as under python (nothing waits forever)
    assert plain.returncode == 0 and plain.stdout == "child 1\nparent done\n", plain.stderr
    assert r.returncode == 0, r.stderr
    assert r.stdout == plain.stdout
    # AND the child's log holds the child's ops only: the open apply is not closed there
    (path,) = children.child_logs(r.log)
    child = tracer.load(path)
    assert [op.op for op in child.ops] == ["DataFrame", "dropna"]
    assert child.run.status == "ok" and not child.errors
    # AND the parent's log has the apply, finished as usual once the child was done
    (apply,) = [op for op in tracer.load(r.log).ops if op.op == "apply"]
    assert not apply.facts.get("lost")


def test_the_viewer_and_export_merge_the_children(runs):
    # GIVEN a traced run whose children each wrote their own log
    r = runs[backends()[0]]
    # WHEN its lineage is exported
    doc = export_json(r.log)
    # THEN the children's ops are in it, numbered after the parent's, named by their process
    dropnas = [op for op in doc["ops"] if op["op"] == "dropna"]
    assert len(dropnas) == 1 + sum(TASKS.values())
    in_children = [op for op in dropnas if op["thread"].startswith("pid ")]
    assert len(in_children) == sum(TASKS.values())
    ids = {n["id"] for n in doc["nodes"]}
    assert all(i in ids for op in in_children for i in op["inputs"])
    assert len({op["seq"] for op in doc["ops"]}) == len(doc["ops"])
    listed = doc["run"]["children"]
    assert len(listed) == len(children.child_logs(r.log, recursive=True))
    assert all(c["run_id"] and c["pid"] for c in listed)
    # AND tracer show draws them without complaint
    p = subprocess.run(
        [sys.executable, "-m", "tracer", "show", str(r.log), "--no-color"],
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert "dropna" in p.stdout
