"""A traced stretch of an IPython session: one `Tracer`, the cells it saw, and a live view of
its log. The magics drive it; nothing here imports IPython (the shell is duck-typed).

Cells. IPython compiles each cell under a made-up file name and maps it to the execution
count (`shell.compile.format_code_name`). After each cell the session reads what the log
gained and notes `Cell(number, file, first op, last op)` in a `CellMap`, saved beside the log
(`<log>.cells.json`), so views print `In[7]:3` where the log says `/tmp/ipykernel_…/….py:3`.

Interrupts. A KeyboardInterrupt can land anywhere, also inside the tracer's own hook
callback: CPython then removes a profile function (sys.setprofile) for good, and a call the
hook had opened may never see its end. After a cell that was interrupted the session closes
whatever is still open (as lost ops) and installs the hook afresh, so the next cell is traced
like any other and `%lineage_stop` writes a normal trailer.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import types
from typing import Any

from tracer.api import Tracer
from tracer.lineage.query import Cell, CellMap, LiveLog, remember

_IN = re.compile(r"In\s*\[\s*(\d+)\s*\]")


def cell_patterns() -> list[str]:
    """`include` patterns that make notebook cells user code wherever the temporary directory
    is: ipykernel compiles cells as `<tmp>/ipykernel_<pid>/<hash>.py` (or $IPYKERNEL_CELL_NAME).
    IPython's own `<ipython-input-…>` names count as user code already."""
    tmp = tempfile.gettempdir()
    patterns = []
    for base in dict.fromkeys((os.path.abspath(tmp), os.path.realpath(tmp))):
        patterns.append(os.path.join(base, f"ipykernel_{os.getpid()}", "*"))
    named = os.environ.get("IPYKERNEL_CELL_NAME")
    if named:
        patterns.append(named)
    return patterns


def notebook_name(shell: Any) -> str:
    """What the run is called: the notebook's file when the front end says (`__session__`,
    $JPY_SESSION_NAME), else "ipython"."""
    named = (getattr(shell, "user_ns", {}).get("__session__"), os.environ.get("JPY_SESSION_NAME"))
    for candidate in named:
        if isinstance(candidate, str) and candidate.strip():
            return os.path.basename(candidate.strip())
    return "ipython"


def cell_number(shell: Any, filename: str) -> int | None:
    """The execution count IPython gave the cell compiled as `filename`, if it is one."""
    fmt = getattr(getattr(shell, "compile", None), "format_code_name", None)
    if fmt is None:
        return None
    try:
        named = fmt(filename)
    except Exception:
        return None
    if not named:
        return None
    m = _IN.search(str(named[1]))
    return int(m.group(1)) if m else None


def running_cell(shell: Any, frame: types.FrameType | None = None) -> tuple[int, str] | None:
    """(execution count, file name) of the cell whose code is running below `frame`: the
    outermost frame of a file IPython knows as a cell."""
    f: types.FrameType | None = frame or sys._getframe(1)
    found = None
    while f is not None:
        n = cell_number(shell, f.f_code.co_filename)
        if n is not None:
            found = (n, f.f_code.co_filename)
        f = f.f_back
    return found


def cell_file(shell: Any, result: Any) -> tuple[int, str] | None:
    """(execution count, file name) of the cell an `ExecutionResult` is about."""
    info = getattr(result, "info", None)
    raw = getattr(info, "raw_cell", None)
    if not isinstance(raw, str):
        return None
    number = getattr(result, "execution_count", None)
    if number is None:  # IPython 8 leaves it unset for cells kept out of the history
        number = shell.execution_count
    try:
        transformed = getattr(info, "transformed_cell", None) or shell.transform_cell(raw)
        name = shell.compile.get_code_name(raw, transformed, number)
    except Exception:
        return None
    return number, name


class Session:
    """One Tracer over one or more cells. `one_cell` sessions (`%%lineage`) watch no events."""

    def __init__(self, shell: Any, tracer: Tracer, *, one_cell: bool = False) -> None:
        self.shell = shell
        self.tracer = tracer
        self.one_cell = one_cell
        self.cells = CellMap()
        self.live = LiveLog(tracer.log_path)
        self.repairs = 0  # hook re-installed after interrupts
        self._seen_seq = 0  # ops up to here belong to cells already noted
        self._registered = False

    @property
    def running(self) -> bool:
        return self.tracer.running

    @property
    def log_path(self) -> str:
        return self.tracer.log_path

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Session:
        self.tracer.start()
        remember(self.tracer)
        if not self.one_cell:
            self.shell.events.register("post_run_cell", self.post_run_cell)
            self._registered = True
        return self

    def stop(
        self, status: str = "ok", error: str | None = None, *, cell: tuple[int, str] | None = None
    ) -> None:
        """Stop tracing. `cell` is the cell running now (its ops so far are noted)."""
        if self._registered:
            self._registered = False
            try:
                self.shell.events.unregister("post_run_cell", self.post_run_cell)
            except ValueError:
                pass
        if not self.tracer.running:
            return
        self.tracer.stop(status, None, error)
        if cell is not None:
            self.note_cell(*cell)
        else:
            self.save_cells()
        self.live.close()  # what it read stays: the log is complete

    # -- cells --------------------------------------------------------------------------------
    def note_cell(self, number: int, filename: str) -> None:
        """The cell `In[number]`, compiled as `filename`, made every op not noted yet."""
        try:
            last = self.live.last_seq
        except Exception:
            last = self._seen_seq
        self.cells.add(Cell(number, filename, self._seen_seq + 1, last))
        self._seen_seq = max(self._seen_seq, last)
        self.save_cells()

    def save_cells(self) -> None:
        try:
            self.cells.save(self.tracer.log_path)
        except OSError:
            pass  # the map only improves labels; never fail a cell for it

    def post_run_cell(self, result: Any) -> None:
        """IPython's post_run_cell event. Never raises: a cell must not fail for us."""
        try:
            if not self.tracer.running:
                return
            error = getattr(result, "error_in_exec", None)
            if isinstance(error, BaseException) and not isinstance(error, Exception):
                self.repair()
            where = cell_file(self.shell, result)
            if where is not None:
                self.note_cell(*where)
        except Exception as exc:
            sys.stderr.write(f"tracer: could not note the cell: {type(exc).__name__}: {exc}\n")

    def repair(self) -> None:
        """After an interrupt: close the calls left open (as lost ops) and install the hook
        afresh, in case the interrupt landed inside the hook and the interpreter removed it."""
        backend = self.tracer.backend
        if backend is None or not self.tracer.running or self.tracer.detached:
            return
        try:
            backend.stop()
        finally:  # a second Ctrl-C here must not leave the session without its hook
            backend.start()
        self.repairs += 1
