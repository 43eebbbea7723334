"""The in-process API: `Tracer`, `trace()` and the start used by `import tracer.auto`.

One Tracer owns the process-wide hook at a time (sys.setprofile and a sys.monitoring tool id
are global): starting a second one while the first runs is an error, not a silent nesting.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tracer._version import __version__
from tracer.exceptions import LogUnwritable, TracerError
from tracer.home import tracer_home

if TYPE_CHECKING:
    from tracer.recorder import Recorder

_active: Tracer | None = None
_active_lock = threading.Lock()


def default_log_path(script: str | None, home: str | None = None) -> str:
    """`.tracer/runs/<UTC time>-<script>.tlog`; never overwrites an existing log."""
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z"
    stem = os.path.basename(script or "python")
    stem = stem[:-3] if stem.endswith(".py") else stem  # a script, or a -m module name
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)
    runs = os.path.join(tracer_home(home), "runs")
    path = os.path.join(runs, f"{stamp}-{stem}.tlog")
    n = 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(runs, f"{stamp}-{stem}-{n}.tlog")
    return path


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _library_versions() -> dict[str, str]:
    out = {}
    for name in ("pandas", "numpy", "sklearn", "joblib", "msgpack"):
        mod = sys.modules.get(name)
        version = getattr(mod, "__version__", None)
        if isinstance(version, str):
            out[name] = version
    return out


class Tracer:
    """Trace this process's data operations into a log.

    >>> with tracer.trace(log="run.tlog"):
    ...     df = pd.read_csv("data.csv").dropna()
    """

    def __init__(
        self,
        log: str | os.PathLike[str] | None = None,
        *,
        backend: str | None = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        rows_full: bool = False,
        values: bool = False,
        script: str | None = None,
        argv: Sequence[str] | None = None,
        home: str | None = None,
        parent_run_id: str | None = None,
        parent_log: str | None = None,
    ) -> None:
        self.script = script if script is not None else (sys.argv[0] if sys.argv else None)
        self.default_log = not log  # the log is a run of the store (not put elsewhere with -o)
        self.log_path = (
            os.path.abspath(os.fspath(log)) if log else default_log_path(self.script, home)
        )
        self.backend_request = backend
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.rows_full = rows_full
        self.values = values
        self.argv = list(argv) if argv is not None else list(sys.argv)
        self.run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "-" + os.urandom(4).hex()
        # Set for a child process's run (tracer.children): the run and log that started it.
        self.parent_run_id = parent_run_id
        self.parent_log = parent_log
        self.running = False
        self.detached = False
        self.backend: Any = None
        self.backend_name: str | None = None
        self.backend_reasons: list[str] = []
        self._started = 0.0

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Tracer:
        global _active
        from tracer.catalog import Catalog
        from tracer.events.writer import LogWriter
        from tracer.hooks.dispatch import Dispatcher
        from tracer.hooks.select import choose_backend, make_backend
        from tracer.hooks.usercode import UserCode

        with _active_lock:
            if _active is not None:
                raise TracerError(f"tracer is already running (log: {_active.log_path})")
            _active = self
        try:
            choice = choose_backend(self.backend_request)
            self.backend_name, self.backend_reasons = choice.name, choice.reasons
            self.writer = self._open_log(LogWriter)
            if self.default_log:  # a run in a store: `tracer why` may ask that store later
                from tracer.home import remember

                remember(os.path.dirname(os.path.dirname(self.log_path)))
            self.write_header()
            self.catalog = Catalog()
            self.recorder = self._new_recorder()
            self.is_user = UserCode(self.include, self.exclude)
            self.dispatcher = Dispatcher(
                self.recorder, self.catalog.wrapper_codes, self.is_user, self._give_up
            )
            self.catalog.install()
            self.backend = make_backend(choice.name, self.catalog, self.dispatcher, self.is_user)
            self.backend.start()
            if hasattr(self.backend, "pause_thread"):  # a profile function (3.11): see quiet.py
                from tracer.hooks.quiet import QuietImports

                self.catalog.quiet_imports(
                    QuietImports(
                        self.backend.pause_thread, self.backend.resume_thread, self.is_user
                    )
                )
            self.running = True
            # Forked children and SIGTERM: see tracer/children.py and tracer/faults.py.
            from tracer import children, faults

            children.on_start(self)
            faults.on_start(self)
        except BaseException:
            with _active_lock:
                _active = None
            raise
        return self

    def stop(
        self,
        status: str = "ok",
        exit_code: int | None = 0,
        error: str | None = None,
    ) -> None:
        """Detach, close what is open, and write the trailer. Idempotent."""
        global _active
        if not self.running:
            return
        self.running = False
        from tracer.events import format

        try:
            if self.backend is not None and not self.detached:
                self.backend.stop()
            self.catalog.uninstall()
            self.recorder.close()
            for message in self.catalog.errors:
                self.recorder.internal_error("catalog", RuntimeError(message))
            ended = time.time()
            trailer = {
                "ended": _iso(ended),
                "duration_s": round(ended - self._started, 6),
                "status": status,
                "exit_code": exit_code,
                "error": error,
                "counts": dict(self.recorder.counts),
                "libraries": _library_versions(),
                "detached": self.detached,
            }
            self.writer.record(format.trailer(trailer))
        finally:
            self.writer.close()
            self._say_if_incomplete()
            with _active_lock:
                if _active is self:
                    _active = None
            from tracer import children, faults

            faults.on_stop(self)
            children.on_stop(self)

    def _say_if_incomplete(self) -> None:
        """One stderr line when the log could not be written to its end (a full disk, the
        program closed its descriptor: events/writer.py). The run itself is not failed."""
        broken = self.writer.broken
        if broken is not None:
            try:
                sys.stderr.write(f"tracer: {broken.message(self.log_path)}\n")
            except Exception:
                pass  # stderr closed too: nobody to tell

    @property
    def log_incomplete(self) -> bool:
        """True when the log lacks records because it could not be written (see the writer)."""
        return self.writer.broken is not None

    def _open_log(self, writer: Any) -> Any:
        """Open the log; a default name is claimed exclusively, so two runs started in the
        same millisecond (make -j, a CI matrix) each get their own. A log that cannot be
        created is a LogUnwritable error naming the path, before anything runs."""
        try:
            if not self.default_log:
                return writer(self.log_path)
            for n in range(2, 1000):
                try:
                    return writer(self.log_path, exclusive=True)
                except FileExistsError:
                    stem = self.log_path[: -len(".tlog")].rsplit("~", 1)[0]
                    self.log_path = f"{stem}~{n}.tlog"
            return writer(self.log_path)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            where = exc.filename if isinstance(exc.filename, str) else self.log_path
            if os.path.abspath(where) != self.log_path:
                reason = f"{where}: {reason}"
            raise LogUnwritable(f"cannot write the log {self.log_path}: {reason}") from None

    def _give_up(self) -> None:
        """Too many internal errors: stop observing, keep the log (the dispatcher said so)."""
        if self.backend is not None and not self.detached:
            self.detached = True
            self.backend.stop()

    def _new_recorder(self) -> Recorder:
        from tracer.recorder import Recorder

        return Recorder(
            self.writer,
            rows_full=self.rows_full,
            values=self.values,
            defaults=self.catalog.defaults,
        )

    # -- what other parts ask of a tracer ---------------------------------------------------------
    def header(self) -> dict[str, Any]:
        """The metadata of this run's HEADER record: who ran what, where, how and since when."""
        return {
            "run_id": self.run_id,
            "tracer_version": __version__,
            "python": ".".join(map(str, sys.version_info[:3])),
            "implementation": sys.implementation.name,
            "platform": f"{os.uname().sysname}-{os.uname().release}-{os.uname().machine}",
            "backend": self.backend_name,
            "backend_reasons": self.backend_reasons,
            "script": os.path.abspath(self.script)
            if self.script and os.path.exists(self.script)
            else self.script,
            "argv": self.argv,
            "cwd": os.getcwd(),
            "started": _iso(self._started),
            "host": os.uname().nodename,
            "pid": os.getpid(),
            "options": {
                "rows_full": self.rows_full,
                "values": self.values,
                "include": list(self.include),
                "exclude": list(self.exclude),
            },
            **(
                {"parent_run_id": self.parent_run_id, "parent_log": self.parent_log}
                if self.parent_run_id is not None
                else {}
            ),
        }

    def write_header(self) -> None:
        """Begin the log: the run starts now, and its HEADER record is written and flushed (a
        reader sees the run at once). `start()` calls it, and a forked child for its own log."""
        from tracer.events import format

        self._started = time.time()
        self.writer.record(format.header(self.header()))
        self.writer.flush()

    def node_of(self, obj: object) -> int | None:
        """The node number live object `obj` has now in this run (None: the tracer never saw it,
        or has not started). A live query (tracer.query) asks this."""
        recorder = getattr(self, "recorder", None)
        return recorder.node_of_object(obj) if recorder is not None else None

    def after_fork(self) -> None:
        """Called in a forked child of a running tracer (tracer.children), before it records
        anything: what belongs to the parent's run is forgotten, and the child records into a
        recorder of its own.

        The backend drops every thread's open calls and the dispatcher its error count (see
        their `after_fork`); the locks of this module, the catalog and the backend are new, as a
        thread of the parent may have held them and that thread does not exist here. The
        parent's recorder is dropped unclosed: closing it would flush the program's still-open
        files, whose buffers the child shares with the parent. The new recorder writes to
        `self.writer`: the parent's, which in a forked child writes nothing (events/writer.py),
        unless the child has opened a log of its own first.
        """
        global _active_lock
        _active_lock = threading.Lock()
        self.backend.after_fork()
        self.catalog.after_fork()
        self.recorder = self._new_recorder()
        self.dispatcher.after_fork(self.recorder)

    def __enter__(self) -> Tracer:
        return self.start()

    def __exit__(self, etype: Any, exc: Any, tb: Any) -> None:
        if exc is None:
            self.stop()
        else:
            self.stop("error", None, f"{etype.__name__}: {exc}")


@contextmanager
def trace(log: str | os.PathLike[str] | None = None, **options: Any) -> Iterator[Tracer]:
    """Trace the block: `with tracer.trace(log="run.tlog") as t: ...`."""
    t = Tracer(log, **options)
    with t:
        yield t


# -- import tracer.auto ----------------------------------------------------------------------------

_auto: Tracer | None = None
_uncaught: list[BaseException] = []


def start_auto() -> Tracer | None:
    """Trace the rest of this process; the log is completed at exit. Idempotent."""
    global _auto
    if _auto is not None or _active is not None:
        return _auto
    _auto = Tracer(os.environ.get("TRACER_LOG") or None)
    _auto.start()
    previous = sys.excepthook

    def excepthook(etype: Any, value: Any, tb: Any) -> None:
        _uncaught.append(value)
        previous(etype, value, tb)

    sys.excepthook = excepthook
    atexit.register(_stop_auto)
    return _auto


def _stop_auto() -> None:
    if _auto is None or not _auto.running:
        return
    if _uncaught:
        exc = _uncaught[-1]
        _auto.stop("error", 1, f"{type(exc).__name__}: {exc}")
    else:
        _auto.stop("ok", None)
    if not _auto.log_incomplete:  # (else stop() said what the log lacks)
        sys.stderr.write(f"tracer: log written to {_auto.log_path}\n")


# -- a child interpreter of a traced run -----------------------------------------------------------


def start_from_env() -> Tracer | None:
    """Trace this child interpreter if its parent run asked for it (see tracer/children.py).
    Called by tracer/_boot/sitecustomize.py; never raises, never prints."""
    try:
        from tracer import children

        run = children.requested_run()
        if run is None:
            return None
        tracer = Tracer(**run)
        tracer.start()
    except Exception:
        return None
    children.adopt(tracer)
    return tracer
