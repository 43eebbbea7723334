"""Is this code object the user's own code? The recording rule turns on this one question.

User code is anything not in the standard library, site-packages, the interpreter's prefixes,
frozen modules, or tracer itself. `<string>`, `<stdin>` and notebook cells are user code.
`include` patterns (fnmatch on the file name, or a directory prefix) make library files count
as user code (the package of a `run -m` target, say); `exclude` patterns do the opposite.
The answer is cached per code object, keyed by id with the code pinned so the id stays valid.
"""

from __future__ import annotations

import fnmatch
import os
import types
from collections.abc import Sequence

from tracer import env


class UserCode:
    __slots__ = ("_cache", "include", "exclude", "prefixes", "tracer_dir")

    def __init__(self, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> None:
        self._cache: dict[int, tuple[bool, types.CodeType]] = {}
        self.include = tuple(_normalise(p) for p in include)
        self.exclude = tuple(_normalise(p) for p in exclude)
        self.prefixes = env.LIBRARY_PREFIXES
        self.tracer_dir = os.path.join(env.TRACER_DIR, "")

    def __call__(self, code: types.CodeType) -> bool:
        hit = self._cache.get(id(code))
        if hit is None:
            hit = (self.classify(code.co_filename), code)
            self._cache[id(code)] = hit
        return hit[0]

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
        real = os.path.realpath(path)
        return not (path.startswith(self.prefixes) or real.startswith(self.prefixes))


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
