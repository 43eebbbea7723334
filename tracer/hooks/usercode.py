"""Is this code object the user's own code? The recording rule turns on this one question.

User code is anything not in the standard library, site-packages, the interpreter's prefixes,
frozen modules, or tracer itself. `<string>`, `<stdin>` and notebook cells are user code.
`include` patterns (fnmatch on the file name, or a directory prefix) make library files count
as user code (the package of a `run -m` target, say); `exclude` patterns do the opposite.
The answer is cached per file name: importing a library runs thousands of its code objects
past the CALL hook, and resolving a path (realpath) once per file rather than once per code
object is most of what tracing costs an import-heavy script.
"""

from __future__ import annotations

import fnmatch
import os
import types
from collections.abc import Sequence

from tracer import env


class UserCode:
    __slots__ = ("files", "include", "exclude", "prefixes", "tracer_dir")

    def __init__(self, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> None:
        self.files: dict[str, bool] = {}
        self.include = tuple(_normalise(p) for p in include)
        self.exclude = tuple(_normalise(p) for p in exclude)
        self.prefixes = env.LIBRARY_PREFIXES
        self.tracer_dir = os.path.join(env.TRACER_DIR, "")

    def __call__(self, code: types.CodeType) -> bool:
        filename = code.co_filename
        user = self.files.get(filename)
        if user is None:
            user = self.files[filename] = self.classify(filename)
        return user

    def classify(self, filename: str) -> bool:
        if filename.startswith("<"):
            return not filename.startswith("<frozen")
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
