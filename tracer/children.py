"""Trace the child processes of a traced run, each into its own log tagged with the parent's run.

A child log's header carries `parent_run_id` and `parent_log`; the log sits beside its parent's,
in a directory named after it: `<parent log minus .tlog>.children/child-<pid>.tlog` (a child's
own children go one level deeper, next to the child's log). `child_logs(parent_log)` finds them
for the viewer and the exporters. Store globs (`runs/*.tlog`) do not see them as runs.

Two ways a child comes to be, one mechanism for each, neither patching anything:

* **fork** (multiprocessing's 'fork' start method, ProcessPoolExecutor on Linux, os.fork): the
  child inherits the running tracer, hooks and all. An `os.register_at_fork(after_in_child=...)`
  hook turns it into the child's own tracer: a new log, writer and recorder, the same hooks and
  catalog, every thread's open calls dropped (they belong to the parent's log). A
  multiprocessing worker ends with `os._exit()` after running multiprocessing's finalizers: a
  `multiprocessing.util.Finalize` registered in the child writes its trailer there (and
  `atexit` does for a child that ends the normal way). A child gets python's default SIGTERM
  back (see tracer/faults.py): a worker killed by `Pool.terminate()` leaves a log with every
  finished op and no trailer. When children are not traced
  (`--no-children`, or the in-process API without `enable()`) the hook detaches the inherited
  tracer instead, so a forked child runs at full speed and writes nothing.
* **a fresh interpreter** (multiprocessing 'spawn' and 'forkserver', joblib's loky workers,
  `subprocess.run([sys.executable, ...])`): `enable()` exports the variables below and puts
  `tracer/_boot` first on PYTHONPATH. There python imports our `sitecustomize`, which takes its
  directory off `sys.path` again, runs any other `sitecustomize` that was on the path, and calls
  `tracer.api.start_from_env()`: it starts the run `requested_run()` reads from the environment,
  then hands it to `adopt()`. A child interpreter that cannot import tracer (another Python), or
  that runs with -S, -E or -I, is simply not traced.

Nothing here imports the api (which calls `on_start()` and `on_stop()`): what a forked child
resets of the tracer it inherited, the tracer resets itself (`Tracer.after_fork()`).

Environment (set by `enable()`, read by `requested_run()`; a traced child rewrites the first
two for its own children):
  TRACER_PARENT_RUN      the run id of the parent run
  TRACER_PARENT_LOG      the absolute path of the parent's log
  TRACER_CHILD_OPTIONS   JSON: the parent's recording options (backend, include, exclude,
                         rows_full, values)

A child that records nothing (an idle pool worker) leaves no log: at the end of a child run a
log with no op, no file, no error and no children of its own is removed. The helper processes
of multiprocessing and loky (their resource trackers) are not traced. Nothing here writes to
stdout or stderr, and nothing raises into the program.
"""

from __future__ import annotations

import atexit
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

# Imported before our at-fork hook is registered: the writer's own hook (which tells a forked
# child's writers apart from the parent's) must run first in the child.
import tracer.events.writer  # noqa: F401

if TYPE_CHECKING:
    from tracer.api import Tracer

PARENT_RUN_ENV = "TRACER_PARENT_RUN"
PARENT_LOG_ENV = "TRACER_PARENT_LOG"
OPTIONS_ENV = "TRACER_CHILD_OPTIONS"
BOOT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_boot")
CHILDREN_SUFFIX = ".children"
CHILD_PREFIX = "child-"
# multiprocessing runs finalizers of higher priority first; ours runs last, after the user's
# and after the worker has joined its own children.
FINALIZE_PRIORITY = -100

_current: Tracer | None = None  # the running tracer of this process, if any
_traced: Tracer | None = None  # ... when its children are traced too (enable())
_saved_env: dict[str, str | None] | None = None  # what enable() changed, to put back


# -- where child logs live ---------------------------------------------------------------------


def children_dir(parent_log: str | os.PathLike[str]) -> str:
    """`run.tlog` -> `run.children`: the directory holding the logs of a run's children."""
    path = os.path.abspath(os.fspath(parent_log))
    base = path[:-5] if path.endswith(".tlog") else path
    return base + CHILDREN_SUFFIX


def child_log_path(parent_log: str | os.PathLike[str], pid: int | None = None) -> str:
    """A new log path for child `pid` of the run logged at `parent_log` (pids can be reused)."""
    directory = children_dir(parent_log)
    stem = f"{CHILD_PREFIX}{os.getpid() if pid is None else pid}"
    path = os.path.join(directory, stem + ".tlog")
    n = 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(directory, f"{stem}-{n}.tlog")
    return path


def child_logs(parent_log: str | os.PathLike[str], recursive: bool = False) -> list[str]:
    """The logs of the children of the run logged at `parent_log`, in the order they started.

    Only logs whose header names that run as their parent (a log path reused by a new run makes
    the old run's children stale); a child log too damaged to tell is listed. `recursive` adds
    grandchildren and so on, each after its parent.
    """
    from tracer.events.reader import LogReader
    from tracer.exceptions import LogFormatError

    directory = children_dir(parent_log)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    try:
        with LogReader(parent_log) as reader:
            run_id = reader.header.get("run_id")
    except (LogFormatError, OSError):
        run_id = None
    found: list[tuple[str, int, str]] = []
    for name in names:
        if not (name.startswith(CHILD_PREFIX) and name.endswith(".tlog")):
            continue
        path = os.path.join(directory, name)
        started = ""
        try:
            with LogReader(path) as reader:
                header = reader.header
        except (LogFormatError, OSError):
            header = {}
        if run_id is not None and header.get("parent_run_id") not in (None, run_id):
            continue
        started = str(header.get("started") or "")
        pid = header.get("pid")
        found.append((started, pid if isinstance(pid, int) else 0, path))
    out = []
    for _, _, path in sorted(found):
        out.append(path)
        if recursive:
            out.extend(child_logs(path, recursive=True))
    return out


def _clear_stale_children(parent_log: str) -> None:
    """A new run replaces the log at `parent_log`: the old run's child logs go with it."""
    directory = children_dir(parent_log)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not name.startswith(CHILD_PREFIX):
            continue
        path = os.path.join(directory, name)
        try:
            if name.endswith(".tlog") and os.path.isfile(path):
                os.unlink(path)
            elif name.endswith(CHILDREN_SUFFIX) and os.path.isdir(path):
                import shutil

                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass
    try:
        os.rmdir(directory)  # only if empty: never remove what is not ours
    except OSError:
        pass


# -- the parent side -----------------------------------------------------------------------------


def enable(tracer: Tracer) -> None:
    """Trace the children of `tracer`'s run: forked ones and fresh interpreters alike.

    Call it once the tracer has started. It exports TRACER_PARENT_RUN, TRACER_PARENT_LOG and
    TRACER_CHILD_OPTIONS and puts tracer/_boot first on PYTHONPATH (these variables are visible
    to the program in os.environ; sys.path in a child is left as python would make it); the
    tracer's `stop()` puts the environment back.
    """
    global _traced, _saved_env
    if not tracer.running or _current is not tracer:
        return
    _traced = tracer
    if _saved_env is None:
        _saved_env = {
            name: os.environ.get(name)
            for name in (PARENT_RUN_ENV, PARENT_LOG_ENV, OPTIONS_ENV, "PYTHONPATH")
        }
    _export(tracer)
    pythonpath = os.environ.get("PYTHONPATH", "")
    entries = pythonpath.split(os.pathsep) if pythonpath else []
    if BOOT_DIR not in entries:
        os.environ["PYTHONPATH"] = os.pathsep.join([BOOT_DIR, *entries])


def _export(tracer: Tracer) -> None:
    """Name `tracer`'s run as the parent of the children started from now on."""
    import json

    os.environ[PARENT_RUN_ENV] = tracer.run_id
    os.environ[PARENT_LOG_ENV] = tracer.log_path
    os.environ[OPTIONS_ENV] = json.dumps(_options(tracer), separators=(",", ":"))


def _options(tracer: Tracer) -> dict[str, Any]:
    return {
        # A backend chosen for this run (not a fallback): children use the same.
        "backend": tracer.backend_request or tracer.backend_name,
        "include": list(tracer.include),
        "exclude": list(tracer.exclude),
        "rows_full": tracer.rows_full,
        "values": tracer.values,
    }


def on_start(tracer: Tracer) -> None:
    """Called by `Tracer.start()`: this tracer is the one a fork will hand to the child. Its log
    replaces whatever was at its path: so do its children's logs."""
    global _current
    _current = tracer
    try:
        _clear_stale_children(tracer.log_path)
    except Exception:
        pass


def on_stop(tracer: Tracer) -> None:
    """Called at the end of `Tracer.stop()`: forget it, put the environment back, and drop the
    log of a child run that recorded nothing."""
    global _current, _traced, _saved_env
    try:
        if _current is tracer:
            _current = None
        if _traced is tracer:
            _traced = None
            if _saved_env is not None:
                for name, value in _saved_env.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
                _saved_env = None
        if (
            tracer.parent_run_id is not None
            and _empty(tracer)
            and not os.path.exists(children_dir(tracer.log_path))
        ):
            try:
                os.unlink(tracer.log_path)
            except OSError:
                pass
    except Exception:
        pass


def _empty(tracer: Tracer) -> bool:
    counts = getattr(getattr(tracer, "recorder", None), "counts", None)
    if not counts:
        return False
    return not (counts.get("ops") or counts.get("files") or counts.get("errors"))


# -- a forked child ------------------------------------------------------------------------------


def _after_fork_in_child() -> None:
    tracer = _current
    if tracer is None or not tracer.running:
        return
    try:
        if _traced is tracer and not tracer.detached:
            _become_child(tracer)
        else:
            _detach(tracer)
    except BaseException:
        # Whatever went wrong, the child must run as if untraced: never a word on stderr.
        try:
            _detach(tracer)
        except BaseException:
            pass


def _detach(tracer: Tracer) -> None:
    """Untraced child: stop the inherited hooks; the parent's log is not touched (the writer
    knows it is in a forked child and only closes its descriptor)."""
    global _current, _traced
    tracer.after_fork()
    _current = _traced = None
    tracer.stop()


def _become_child(tracer: Tracer) -> None:
    """Turn the inherited tracer into this child's: new run id, log, writer and recorder."""
    from tracer import faults
    from tracer.events.writer import LogWriter

    parent_run, parent_log = tracer.run_id, tracer.log_path
    tracer.writer.close()  # in a forked child: closes our copy of the descriptor, nothing else
    tracer.run_id = new_run_id()
    tracer.parent_run_id, tracer.parent_log = parent_run, parent_log
    tracer.log_path = child_log_path(parent_log)
    tracer.writer = LogWriter(tracer.log_path)
    tracer.after_fork()
    faults.on_fork_child(tracer)
    tracer.write_header()
    _export(tracer)
    _finish_at_exit(tracer)
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        # A multiprocessing child clears its finalizers after the fork, then runs the
        # after-fork callbacks: register the finalizer from there.
        mp_util.register_after_fork(tracer, _register_finalizer)


def _register_finalizer(tracer: Tracer) -> None:
    try:
        from multiprocessing import util

        util.Finalize(None, _finish, args=(tracer,), exitpriority=FINALIZE_PRIORITY)
    except Exception:
        pass


def _finish_at_exit(tracer: Tracer) -> None:
    atexit.register(_finish, tracer)


def _finish(tracer: Tracer) -> None:
    """The child process is ending: write its trailer (the first call wins)."""
    if not tracer.running or tracer.parent_run_id is None:
        return
    try:
        exc = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
        if exc is not None:
            tracer.stop("error", 1, f"{type(exc).__name__}: {exc}")
        else:
            tracer.stop("ok", None)
    except BaseException:
        pass


def new_run_id() -> str:
    """A run id in the format of `Tracer.run_id`."""
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "-" + os.urandom(4).hex()


os.register_at_fork(after_in_child=_after_fork_in_child)


# -- a fresh interpreter -------------------------------------------------------------------------


def requested_run() -> dict[str, Any] | None:
    """The `Tracer` arguments of this child interpreter's run, when its parent run asked for one
    (the variables above): None when it did not, or when this process is tracer itself or a
    helper process of multiprocessing. `tracer.api.start_from_env()` starts that run."""
    parent_run = os.environ.get(PARENT_RUN_ENV)
    parent_log = os.environ.get(PARENT_LOG_ENV)
    if not parent_run or not parent_log or _runs_tracer_itself() or _helper_process():
        return None
    import json

    try:
        options = json.loads(os.environ.get(OPTIONS_ENV) or "{}")
    except ValueError:
        options = {}
    if not isinstance(options, dict):
        options = {}
    return {
        "log": child_log_path(parent_log),
        "backend": options.get("backend") or None,
        "include": [str(p) for p in options.get("include") or ()],
        "exclude": [str(p) for p in options.get("exclude") or ()],
        "rows_full": bool(options.get("rows_full")),
        "values": bool(options.get("values")),
        "parent_run_id": parent_run,
        "parent_log": parent_log,
    }


def adopt(tracer: Tracer) -> None:
    """`tracer` has started the run of this child interpreter: its own children are traced too,
    and its log is finished when the process ends. Never raises."""
    global _traced
    _traced = tracer
    try:
        _export(tracer)
        _finish_at_exit(tracer)
        if "multiprocessing.util" in sys.modules:
            _register_finalizer(tracer)
    except Exception:
        pass


# The helper processes multiprocessing and loky start for themselves (`python -c "from
# multiprocessing.resource_tracker import main; main(5)"`): no user code runs there.
_HELPERS = ("resource_tracker import main",)


def _helper_process() -> bool:
    argv = list(getattr(sys, "orig_argv", ()) or ())
    if "-c" not in argv[:-1]:
        return False
    command = argv[argv.index("-c") + 1]
    return any(helper in command for helper in _HELPERS)


def _runs_tracer_itself() -> bool:
    """`python -m tracer ...` or the `tracer` script: it traces (or reads) on its own terms."""
    argv = list(getattr(sys, "orig_argv", ()) or ())
    for i, arg in enumerate(argv[1:], 1):
        if arg == "-m":
            return i + 1 < len(argv) and argv[i + 1].partition(".")[0] == "tracer"
        if arg.startswith("-m") and len(arg) > 2:
            return arg[2:].partition(".")[0] == "tracer"
        if not arg.startswith("-"):
            return os.path.basename(arg) in ("tracer", "tracer.exe")
    return bool(argv) and os.path.basename(argv[0]) in ("tracer", "tracer.exe")
