"""Run a script or a ``-m`` module exactly as ``python`` would, and report how it ended.

Contract: ``ScriptRunner(target, args, as_module).prepare()`` finds the script (or checks that
the module can be found, without executing any package code) and sets ``sys.argv`` and
``sys.path[0]`` the way the interpreter does for ``python target args`` / ``python -m target
args``; it raises :class:`~tracer.exceptions.NoSource` with python's own one-line message when
there is nothing to run, before touching any global state. ``run()`` executes the code in a fresh
``__main__`` module (aliased as ``__mp_main__``), never lets an exception escape from the user's
code, prints an uncaught exception through ``sys.excepthook`` with tracer's frames removed, puts
``sys.argv`` and ``sys.path`` back, and returns an :class:`Outcome` from which the caller
reproduces python's exit with ``sys.exit(outcome.exit_arg)``. Scripts may also be a directory or
a zip file holding ``__main__.py``, as with python. Standard library only: this module is imported
before the user's code runs, so it must stay cheap.
"""

from __future__ import annotations

import builtins
import os
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec, SourceFileLoader
from typing import Literal, Protocol

from tracer.exceptions import NoSource

Status = Literal["ok", "error", "interrupted"]

# What a shell reports for a process killed by SIGINT; the CLI re-raises the signal itself.
SIGINT_EXIT_CODE = 130


@dataclass
class Outcome:
    """How the user's code ended, and what to pass to ``sys.exit()`` to end the same way."""

    status: Status
    exit_code: int
    exit_arg: object
    error: str | None


class ScriptRunner:
    """Runs one script or module, once: ``prepare()``, then ``run()``."""

    def __init__(self, target: str, args: Sequence[str], as_module: bool = False) -> None:
        self.target = target
        self.args = list(args)
        self.as_module = as_module
        # Set by prepare(): how to execute, and what to execute.
        self._kind: Literal["script", "importer", "module"] | None = None
        self._filename = ""
        self._source = b""
        # The caller's sys.argv / sys.path objects and their contents, put back after run().
        self._saved_argv: tuple[list[str], list[str]] | None = None
        self._saved_path: tuple[list[str], list[str]] | None = None

    def prepare(self) -> None:
        """Resolve the target and set ``sys.argv`` / ``sys.path[0]`` as python would.

        Raises NoSource, leaving sys as it found it, when there is nothing to run.
        """
        kind: Literal["script", "importer", "module"]
        path0: str | None
        replace_path0 = True
        if self.as_module:
            kind = "module"
            # During the import of the parent packages python shows "-m" as argv[0]; runpy
            # replaces it with the module's file once found.
            argv0 = "-m"
            path0 = os.getcwd()
        else:
            filename = _python_abspath(self.target)
            argv0 = self.target
            importer = _path_importer(filename)
            if importer is not None:
                # A directory or zip file: python puts it on sys.path and imports __main__ from it.
                if importer.find_spec("__main__") is None:
                    raise NoSource(f"can't find '__main__' module in {filename!r}")
                kind = "importer"
                path0 = filename
                # Python adds this entry even under -P, where there is no entry to replace.
                replace_path0 = not sys.flags.safe_path
            else:
                try:
                    with open(filename, "rb") as f:
                        self._source = f.read()
                except OSError as exc:
                    raise NoSource(
                        f"can't open file {filename!r}: [Errno {exc.errno}] {exc.strerror}"
                    ) from exc
                kind = "script"
                self._filename = filename
                path0 = os.path.dirname(os.path.realpath(filename))
        if kind != "importer" and sys.flags.safe_path:
            # -P / -I: python adds neither the script's directory nor the cwd.
            path0 = None

        self._saved_argv = (sys.argv, list(sys.argv))
        self._saved_path = (sys.path, list(sys.path))
        sys.argv = [argv0, *self.args]
        if path0 is not None:
            # Unless -P, python put the launcher's own entry at sys.path[0] (the cwd for
            # `python -m tracer`, the bin directory for the `tracer` script): the user's program
            # must see its own entry there instead.
            if replace_path0 and sys.path:
                sys.path[0] = path0
            else:
                sys.path.insert(0, path0)
        if self.as_module:
            # Looked up only now, with the sys.path the module will be imported from.
            try:
                _check_module_exists(self.target)
            except NoSource:
                self._restore()
                raise
        self._kind = kind

    def run(self) -> Outcome:
        """Execute the prepared target and return how it ended; nothing from it escapes."""
        if self._kind is None:
            raise RuntimeError("ScriptRunner.run() called before prepare()")
        main_module = self._new_main_module()
        # Pickle, multiprocessing and joblib look classes up by module name: "__main__" in this
        # process, "__mp_main__" for objects coming back from spawned workers. multiprocessing
        # aliases the latter to whatever __main__ was when it got imported, possibly tracer's.
        sys.modules["__main__"] = main_module
        sys.modules["__mp_main__"] = main_module
        caught: BaseException | None = None
        try:
            try:
                self._execute(main_module)
            except BaseException as exc:  # noqa: B036 - the user's exit is ours to report
                caught = exc
            # Reported outside the except clause, so that an exception raised by a user's
            # excepthook is not chained to the one it reports, as in python.
            return _conclude(caught)
        finally:
            self._restore()

    def _new_main_module(self) -> types.ModuleType:
        """A module whose namespace starts with the same names, in the same order, as python's."""
        module = types.ModuleType("__main__")
        namespace = module.__dict__
        if sys.version_info < (3, 14):
            # Up to 3.13 the interpreter pre-creates this in __main__; PEP 649 makes it lazy.
            namespace["__annotations__"] = {}
        namespace["__builtins__"] = builtins
        if self._kind == "script":
            namespace["__file__"] = self._filename
            namespace["__cached__"] = None
            namespace["__loader__"] = SourceFileLoader("__main__", self._filename)
        return module

    def _execute(self, main_module: types.ModuleType) -> None:
        if self._kind == "script":
            # dont_inherit: this module's `from __future__` imports must not leak into the
            # user's code. Compiling bytes lets compile() honour a coding cookie or a BOM.
            code = compile(self._source, self._filename, "exec", dont_inherit=True)
            exec(code, main_module.__dict__)
        else:
            import runpy

            # The very function the interpreter calls for `python -m mod` and for a directory
            # or zip file: it imports the parent packages, picks a package's __main__, sets
            # argv[0] and the module's dunders, and reports a missing module with python's
            # message through sys.exit(). It runs the code in sys.modules["__main__"]'s
            # namespace, which is now ours. Its frames show in tracebacks as in python.
            module_name = self.target if self._kind == "module" else "__main__"
            runpy._run_module_as_main(  # type: ignore[attr-defined]
                module_name, alter_argv=self._kind == "module"
            )

    def _restore(self) -> None:
        for saved, name in ((self._saved_argv, "argv"), (self._saved_path, "path")):
            if saved is not None:
                original, contents = saved
                original[:] = contents
                setattr(sys, name, original)


def _conclude(caught: BaseException | None) -> Outcome:
    """Turn how the code ended into an Outcome, printing a traceback the way python does."""
    if caught is None:
        return Outcome(status="ok", exit_code=0, exit_arg=None, error=None)
    if isinstance(caught, SystemExit):
        return _exit_outcome(caught.code)
    hook_exit = _print_uncaught(caught)
    if hook_exit is not None:
        # An excepthook that raises SystemExit decides the exit status, as in python.
        return _exit_outcome(hook_exit.code)
    if isinstance(caught, KeyboardInterrupt):
        return Outcome(
            status="interrupted",
            exit_code=SIGINT_EXIT_CODE,
            exit_arg=SIGINT_EXIT_CODE,
            error=_describe(caught),
        )
    return Outcome(status="error", exit_code=1, exit_arg=1, error=_describe(caught))


def _exit_outcome(code: object) -> Outcome:
    """The Outcome of ``SystemExit(code)``, following python's rules for its exit status."""
    if code is None:
        return Outcome(status="ok", exit_code=0, exit_arg=None, error=None)
    if isinstance(code, int):
        # The operating system keeps only the low byte of a POSIX exit status (sys.exit(256)
        # ends with status 0); Windows keeps 32 bits.
        exit_code = code & (0xFF if os.name == "posix" else 0xFFFFFFFF)
        return Outcome(
            status="ok" if exit_code == 0 else "error",
            exit_code=exit_code,
            exit_arg=code,
            error=None,
        )
    # Any other code is printed to stderr by sys.exit() itself, and the status is 1.
    return Outcome(status="error", exit_code=1, exit_arg=code, error=_safe_str(code))


def _print_uncaught(exc: BaseException) -> SystemExit | None:
    """Report an uncaught exception as the interpreter does at the top level.

    Sets ``sys.last_*`` and calls ``sys.excepthook``, falling back to the default hook the same
    way python does when the hook is missing or fails. Returns the SystemExit a hook raised.
    """
    tb = _without_tracer_frames(exc.__traceback__)
    exc.__traceback__ = tb
    if sys.version_info >= (3, 12):
        sys.last_exc = exc
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    hook = getattr(sys, "excepthook", None)
    if hook is None:
        sys.stderr.write("sys.excepthook is missing\n")
        sys.__excepthook__(type(exc), exc, tb)
        return None
    hook_error: BaseException | None = None
    try:
        hook(type(exc), exc, tb)
    except SystemExit as exit_:
        return exit_
    except BaseException as error:  # noqa: B036 - a broken hook must not hide the exception
        hook_error = error
    if hook_error is not None:
        # Same shape as python's report of a failing excepthook.
        sys.stdout.flush()
        sys.stderr.write("Error in sys.excepthook:\n")
        hook_tb = _without_tracer_frames(hook_error.__traceback__)
        sys.__excepthook__(type(hook_error), hook_error.with_traceback(hook_tb), hook_tb)
        sys.stderr.write("\nOriginal exception was:\n")
        sys.__excepthook__(type(exc), exc, tb)
    return None


def _without_tracer_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """Drop the leading traceback entries that are this module's own frames.

    Only leading entries can be ours: the user's code runs below ``run()``. When nothing is
    left (a SyntaxError from compile()) python prints no traceback header either.
    """
    while tb is not None and tb.tb_frame.f_globals is globals():
        tb = tb.tb_next
    return tb


def _describe(exc: BaseException) -> str:
    """``"ValueError: bad value"``: the last line of python's report, without notes."""
    cls = type(exc)
    name = cls.__qualname__
    if cls.__module__ not in ("builtins", "__main__"):
        name = f"{cls.__module__}.{name}"
    message = _safe_str(exc)
    return f"{name}: {message}" if message else name


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:  # a broken __str__ must not break the report of the real failure
        return f"<unprintable {type(value).__name__} object>"


def _python_abspath(path: str) -> str:
    """The script's absolute path as python reports it in ``__file__`` and tracebacks.

    On POSIX python joins the cwd and the given path without normalising ("./a/../s.py" stays
    in); os.path.abspath would normalise, so tracebacks would differ.
    """
    if os.name != "posix":
        return os.path.abspath(path)
    if os.path.isabs(path):
        return path
    return os.path.join(os.getcwd(), path)


def _path_importer(path: str) -> _Importer | None:
    """The importer python would use to run `path` as a directory or zip file, if any.

    Python asks ``sys.path_hooks``: the file-system hook takes only directories and zipimport
    only zip archives, so a plain script gets None.
    """
    for hook in sys.path_hooks:
        try:
            importer = hook(path)
        except ImportError:
            continue
        if importer is not None:
            return importer
    return None


class _Importer(Protocol):
    """What _path_importer needs from a path entry finder."""

    def find_spec(self, fullname: str) -> ModuleSpec | None: ...


def _check_module_exists(name: str) -> None:
    """Raise NoSource, with python's message, if module `name` cannot be found.

    Looks without executing any package's ``__init__``: the real import happens in ``run()``,
    where tracing is on. A package that changes its own ``__path__`` can defeat this check;
    then runpy reports the missing module from ``run()``, exactly as python does.
    """
    if not name or name.startswith("."):
        raise NoSource("Relative module names not supported")
    parts = name.split(".")
    search_path: list[str] | None = None
    for depth in range(1, len(parts) + 1):
        fullname = ".".join(parts[:depth])
        if depth > 1 and search_path is None:
            parent = ".".join(parts[: depth - 1])
            raise NoSource(
                f"Error while finding module specification for {name!r} (ModuleNotFoundError: "
                f"__path__ attribute not found on {parent!r} while trying to find {fullname!r})"
            )
        try:
            found, search_path = _locate(fullname, search_path)
        except Exception:
            # A finder that cannot answer without the real import: leave the verdict to runpy.
            return
        if not found:
            if depth == len(parts):
                raise NoSource(f"No module named {name}")
            raise NoSource(
                f"Error while finding module specification for {name!r} "
                f"(ModuleNotFoundError: No module named {fullname!r})"
            )
    if search_path is not None:
        # A package runs as its __main__ submodule.
        try:
            found, _ = _locate(f"{name}.__main__", search_path)
        except Exception:
            return
        if not found:
            raise NoSource(
                f"No module named {name}.__main__; {name!r} is a package and cannot be "
                "directly executed"
            )


def _locate(fullname: str, search_path: list[str] | None) -> tuple[bool, list[str] | None]:
    """Whether module `fullname` exists, and the search path of its submodules if a package.

    Asks the meta path finders as the import system would, minus the import:
    importlib.util.find_spec would import the parent package first, running its code.
    """
    module = sys.modules.get(fullname)
    if module is not None:
        # Already imported: its real __path__, which its __init__ may have changed.
        path = getattr(module, "__path__", None)
        return True, None if path is None else list(path)
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        spec: ModuleSpec | None = find_spec(fullname, search_path)
        if spec is not None:
            locations = spec.submodule_search_locations
            return True, None if locations is None else list(locations)
    return False, None
