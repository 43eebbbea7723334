"""Is this code object the user's own code? The recording rule turns on this one question.

User code is anything not in the standard library, site-packages, the interpreter's prefixes,
frozen modules, or tracer itself. `<stdin>` and notebook cells are user code.
`include` patterns (fnmatch on the file name, or a directory prefix) make library files count
as user code (the package of a `run -m` target, say); `exclude` patterns do the opposite.
The answer is cached per file name: importing a library runs thousands of its code objects
past the CALL hook, and resolving a path (realpath) once per file rather than once per code
object is most of what tracing costs an import-heavy script.

Code compiled from a string (file name `<string>`) belongs to the module whose globals it runs
in: the methods dataclasses generates for a library's classes are library code, those of the
user's own dataclasses user code; namedtuple's generated code (a private namespace) is library
code; a string the user execs with a fresh namespace is user code. That takes the frame, so
`<string>` is never in the per-file cache: `of_frame` decides each time (it is rare on the hot
paths: every backend meets a code object's first call once), and `__call__`, given a bare code
object, says user.
"""

from __future__ import annotations

import fnmatch
import os
import sys
import types
from collections.abc import Callable, Sequence

from tracer import env

STRING = "<string>"  # the file name of code compiled from a string (exec, eval, compile)
_NOT_NORMAL = os.sep + "."  # "/../", "/./" (or a dot-directory: checked the slow way)


class UserCode:
    __slots__ = ("files", "include", "exclude", "prefixes", "tracer_dir")

    def __init__(self, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> None:
        self.files: dict[str, bool] = {}
        self.include = tuple(_normalise(p) for p in include)
        self.exclude = tuple(_normalise(p) for p in exclude)
        self.prefixes = env.LIBRARY_PREFIXES
        self.tracer_dir = os.path.join(env.TRACER_DIR, "")

    def __call__(self, code: types.CodeType) -> bool:
        return self.of_file(code.co_filename)

    def of_file(self, filename: str) -> bool:
        user = self.files.get(filename)
        if user is None:
            if filename == STRING:
                return True  # no frame to tell whose: see of_frame
            user = self.files[filename] = self.classify(filename)
        return user

    def of_frame(self, frame: types.FrameType) -> bool:
        """Is the code running in `frame` user code? (The one answer for `<string>` code.)"""
        filename = frame.f_code.co_filename
        if filename != STRING:
            return self.of_file(filename)
        g = frame.f_globals
        name = g.get("__name__")
        if name is None:
            return True  # exec(source, {}): the user's
        module = sys.modules.get(name) if isinstance(name, str) else None
        if module is None or getattr(module, "__dict__", None) is not g:
            return False  # a private namespace: namedtuple's methods, a library's templates
        module_file = getattr(module, "__file__", None)
        if not isinstance(module_file, str):
            return name == "__main__"  # python -c, a notebook's main module
        return self.of_file(module_file)

    def classify(self, filename: str) -> bool:
        if filename.startswith("<"):
            return not filename.startswith("<frozen")
        if not self.include and filename.startswith(self.prefixes) and _NOT_NORMAL not in filename:
            return False  # a library's own (absolute, normal) path: most files, no abspath
        path = os.path.abspath(filename)
        if _matches(path, self.exclude):
            return False
        if path.startswith(self.tracer_dir):
            return False
        if _matches(path, self.include):
            return True
        if path.startswith(self.prefixes):
            return False
        return not os.path.realpath(path).startswith(self.prefixes)  # a link into a library


def _normalise(pattern: str) -> str:
    if any(ch in pattern for ch in "*?["):
        return pattern
    return (
        os.path.join(os.path.abspath(pattern), "")
        if os.path.isdir(pattern)
        else os.path.abspath(pattern)
    )


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    for pat in patterns:
        if pat.endswith(os.sep) and path.startswith(pat):
            return True
        if fnmatch.fnmatch(path, pat):
            return True
    return False


def frame_rule(is_user: Callable[[types.CodeType], bool]) -> Callable[[types.FrameType], bool]:
    """`is_user.of_frame`, or for a bare code rule (a test's stand-in) the same rule on frames."""
    of_frame = getattr(is_user, "of_frame", None)
    if of_frame is not None:
        return of_frame
    return lambda frame: is_user(frame.f_code)
