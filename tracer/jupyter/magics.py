"""The `%lineage_*` magics. Imported only by `load_ipython_extension`: this module is the one
place IPython is imported.

    %lineage_start [--log PATH]      trace every cell from here on
    %lineage_stop                    stop, write the log's trailer
    %lineage_summary                 the summary block of the session (running or last)
    %lineage_show [--artifact X]     the lineage tree; X: a file, a model class, a variable
    %%lineage [--log PATH]           trace this one cell (just run it if a session is running)

Views are drawn with rich, which renders HTML in a notebook and text in a terminal. Call
sites in cells read `In[7]:3`. Status lines go to stdout, from the line magics and from
`%%lineage` alike (a notebook shows stderr as an error box); only a warning, a log that ends
early, goes to stderr. Errors are `UsageError`s, which IPython shows in one line.
"""

from __future__ import annotations

import ast
import atexit
import dataclasses
import os
import sys
import types
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from tracer.api import Tracer
from tracer.exceptions import TracerError
from tracer.hooks.select import BACKENDS
from tracer.jupyter.session import Session, cell_patterns, notebook_name, running_cell
from tracer.lineage.graph import Lineage
from tracer.lineage.query import CellMap, QueryError, query, relabel_cells


def _tracer_options(f: Any) -> Any:
    for arg in reversed([
        argument("--log", metavar="PATH",
                 help="the log to write (default: .tracer/runs/<time>-<notebook>.tlog)"),
        argument("--backend", choices=BACKENDS,
                 help="the hook backend (default: the best here)"),
        argument("--include", action="append", default=[], metavar="PATTERN",
                 help="also count these files (fnmatch or directory) as user code"),
        argument("--exclude", action="append", default=[], metavar="PATTERN",
                 help="never count these files as user code"),
        argument("--rows-full", action="store_true", help="record every dropped row label"),
        argument("--values", action="store_true",
                 help="record parameter values of literal data too"),
    ]):
        f = arg(f)
    return f


def _view_options(f: Any) -> Any:
    for arg in reversed([
        argument("--log", metavar="PATH", help="a log to show instead of the session's"),
        argument("--width", type=int, metavar="COLUMNS", help="draw this wide"),
    ]):
        f = arg(f)
    return f


@magics_class
class LineageMagics(Magics):
    """Trace notebook cells into a tracer log and show their lineage."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.session: Session | None = None  # the running session, if any
        self.last: Session | None = None  # the latest session, running or stopped
        self._atexit = False

    # -- %lineage_start / %lineage_stop -------------------------------------------------------
    @line_magic
    @magic_arguments()
    @_tracer_options
    def lineage_start(self, line: str) -> None:
        """Trace every cell from here on, until %lineage_stop."""
        args = parse_argstring(self.lineage_start, line)
        if self.session is not None and self.session.running:
            raise UsageError(f"already tracing this session (log: {self.session.log_path})")
        session = self._new_session(args, one_cell=False)
        self.session = self.last = session
        if not self._atexit:
            atexit.register(self._stop_at_exit)
            self._atexit = True
        backend = session.tracer.backend_name
        print(f"tracer: tracing cells into {_shown(session.log_path)} ({backend})")

    @line_magic
    def lineage_stop(self, line: str = "") -> None:
        """Stop tracing and complete the log."""
        session = self.session
        if session is None or not session.running:
            raise UsageError("no tracing session is running (start one with %lineage_start)")
        self.session = None
        session.stop(cell=running_cell(self.shell))
        _report(session)

    # -- %%lineage ------------------------------------------------------------------------
    @cell_magic
    @magic_arguments()
    @_tracer_options
    @argument("--quiet", action="store_true", help="print no line about the log")
    def lineage(self, line: str, cell: str) -> Any:
        """Trace this cell only. In a running session it just runs the cell."""
        __tracebackhide__ = True  # noqa: F841 - IPython hides this frame in tracebacks
        args = parse_argstring(self.lineage, line)
        shell: Any = self.shell
        where = running_cell(shell)
        number = where[0] if where is not None else shell.execution_count
        filename, codes = self._compile_body(cell, number)
        if self.session is not None and self.session.running:
            self._run(codes)
            self.session.note_cell(number, filename)
            return None
        session = self._new_session(args, one_cell=True)
        self.last = session
        status, error = "ok", None
        try:
            self._run(codes)
        except KeyboardInterrupt:
            status, error = "interrupted", "KeyboardInterrupt"
            raise
        except BaseException as exc:
            status, error = "error", f"{type(exc).__name__}: {exc}"[:200]
            raise
        finally:
            session.stop(status, error, cell=(number, filename))
            if not args.quiet:
                _report(session)
        return None

    def _compile_body(self, cell: str, number: int) -> tuple[str, list[types.CodeType]]:
        """Compile a cell magic's body as IPython compiles a cell: magics transformed, under a
        cell name for `number` (so tracebacks and call sites say In[number]), the last
        expression in "single" mode so its value is shown. Returns (name, code objects)."""
        shell: Any = self.shell
        source = shell.transform_cell(cell)
        compiler = shell.compile
        try:
            filename = compiler.cache(source, number, raw_code=cell)
        except TypeError:  # an IPython without raw_code
            filename = compiler.cache(source, number)
        tree = shell.transform_ast(compiler.ast_parse(source, filename=filename))
        if tree is None:
            return filename, []
        body = list(tree.body)
        last = body.pop() if body and isinstance(body[-1], ast.Expr) else None
        codes = []
        if body:
            codes.append(compiler(ast.Module(body=body, type_ignores=[]), filename, "exec"))
        if last is not None:
            codes.append(compiler(ast.Interactive(body=[last]), filename, "single"))
        return filename, codes

    def _run(self, codes: list[types.CodeType]) -> None:
        __tracebackhide__ = True  # noqa: F841
        shell: Any = self.shell
        for code in codes:
            exec(code, shell.user_global_ns, shell.user_ns)

    # -- views ----------------------------------------------------------------------------
    @line_magic
    @magic_arguments()
    @_view_options
    def lineage_summary(self, line: str) -> None:
        """The summary of the session (running or last), or of --log PATH."""
        args = parse_argstring(self.lineage_summary, line)
        lineage = self._lineage(args.log)
        try:
            from tracer.renderers.summary import run_summary
        except ImportError:
            _console(args.width).print(_plain_summary(lineage))
            return
        _console(args.width).print(run_summary(lineage))

    @line_magic
    @magic_arguments()
    @_view_options
    @argument("--artifact", metavar="X",
              help="where one thing came from: a file, a model class, or a notebook variable")
    @argument("--group", choices=("function",),
              help="group the ops under the function that made them")
    def lineage_show(self, line: str) -> None:
        """The lineage tree of the session (running or last), or of --log PATH."""
        args = parse_argstring(self.lineage_show, line)
        lineage = self._lineage(args.log)
        console = _console(args.width)
        try:
            from tracer.lineage.processors import find_artifact
            from tracer.renderers.tree import ArtifactTree, tree_for
        except ImportError:
            console.print(_plain_listing(lineage))
            return
        if args.artifact:
            name = _strip_quotes(args.artifact)
            art = find_artifact(lineage, self._variable_node(name, args.log) or name)
            if art is None:
                raise UsageError(f"no file, model or traced variable {name!r} in this session")
            console.print(ArtifactTree(lineage, art).render())
            return
        console.print(tree_for(lineage, args.group))

    # -- helpers ------------------------------------------------------------------------------
    def _new_session(self, args: Any, *, one_cell: bool) -> Session:
        name = notebook_name(self.shell)
        tracer = Tracer(
            os.path.expanduser(_strip_quotes(args.log)) if args.log else None,
            backend=args.backend,
            include=[*cell_patterns(), *args.include],
            exclude=args.exclude,
            rows_full=args.rows_full,
            values=args.values,
            script=name,
            argv=[name],
        )
        session = Session(self.shell, tracer, one_cell=one_cell)
        try:
            session.start()
        except TracerError as exc:
            raise UsageError(str(exc)) from None
        return session

    def _lineage(self, log: str | None) -> Lineage:
        if log:
            path = os.path.expanduser(_strip_quotes(log))
            try:
                lin = query(path).lineage
            except TracerError as exc:
                raise UsageError(str(exc)) from None
            return relabel_cells(lin, CellMap.load(path))
        session = self.session or self.last
        if session is None:
            raise UsageError(
                "no tracing session yet: run %lineage_start (or %%lineage), or give --log PATH"
            )
        try:
            lin = session.live.lineage()
        except TracerError as exc:
            raise UsageError(str(exc)) from None
        if session.running:
            # Still being written: not a run that "did not finish". A torn tail is the record
            # being written right now.
            run = dataclasses.replace(lin.run, status="running")
            lin = dataclasses.replace(lin, run=run, damage=None)
        return relabel_cells(lin, session.cells)

    def _variable_node(self, name: str, log: str | None) -> str | None:
        """The node id of a notebook variable's current value, when the session saw it."""
        session = self.session or self.last
        user_ns: dict[str, Any] = getattr(self.shell, "user_ns", {})
        if log or session is None or not name.isidentifier() or name not in user_ns:
            return None
        try:
            return query(session.tracer).node(user_ns[name]).id
        except (QueryError, TracerError):
            return None

    def _stop_at_exit(self) -> None:
        session = self.session
        if session is not None and session.running:
            self.session = None
            session.stop()


def _console(width: int | None) -> Any:
    from rich.console import Console

    if width is not None and width < 20:
        raise UsageError("--width must be at least 20")
    return Console(width=width, highlight=False)


def _report(session: Session) -> None:
    """The line a stopped session ends with: on stdout, or on stderr when it is a warning
    (the log ends early), so a notebook shows an error box only for what is one."""
    counts = getattr(session.tracer.recorder, "counts", {})
    ops = counts.get("ops", 0)
    line = f"tracer: {ops} op{'s' if ops != 1 else ''}; log written to {_shown(session.log_path)}"
    try:
        finished = session.live.lineage().run.status != "unfinished"
    except TracerError:
        finished = False
    if finished:
        print(line)
    else:
        sys.stderr.write(line + " (it ends early: an interrupt may have stopped the log writer)\n")


def _shown(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _strip_quotes(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _plain_listing(lineage: Lineage) -> str:
    """The ops one per line: what %lineage_show prints when the tree view is not installed."""
    lines = [f"{len(lineage.ops)} ops, {len(lineage.nodes)} nodes, {len(lineage.files)} files"]
    seqs = {op.seq for op in lineage.ops}
    for op in lineage.ops:
        depth, parent = 0, op.parent
        while parent is not None and parent in seqs and depth < 8:
            depth += 1
            parent = lineage.op(parent).parent
        site = op.callsite
        where = f"{os.path.basename(site.file)}:{site.line}" if site else ""
        first_in = op.shape_in[0] if op.shape_in else None
        first_out = op.shape_out[0] if op.shape_out else None
        shapes = " -> ".join(str(tuple(s)) if s else "" for s in (first_in, first_out)).strip()
        lines.append(f"{'  ' * depth}{op.seq:>4} {op.op:<16} {shapes:<28} {where}")
    return "\n".join(lines)


def _plain_summary(lineage: Lineage) -> str:
    reads = sum(1 for f in lineage.files if f.mode == "read")
    writes = len(lineage.files) - reads
    return (f"{lineage.run.status}: {len(lineage.ops)} ops, {len(lineage.nodes)} nodes, "
            f"{reads} files read, {writes} written")


def register(shell: Any) -> None:
    shell.register_magics(LineageMagics)


def unregister(shell: Any) -> None:
    magics = shell.magics_manager.registry.get("LineageMagics")
    if magics is not None and magics.session is not None and magics.session.running:
        magics.session.stop()
        magics.session = None
