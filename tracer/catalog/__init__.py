"""The catalog: the whitelist of callables whose calls from user code become ops.

Entries are declared per library (`pandas.py`, `numpy.py`, `persist.py`, `sklearn.py`) and
resolved lazily: a library's entries are looked up only once the script itself has imported
it (an import-system finder tells us when a module has finished executing; no library
attribute is ever replaced). Resolution follows `__wrapped__` to the real implementation:
the innermost code object is watched and the decorator wrappers around it are remembered, so
the hooks can skip their frames when they look for the caller.

What an op means (families.py) is declared with its entry; `meaning_of` gives it for an op
recorded by a tracer that did not write it in the log (formats 1.0 and 1.1).

The resolved tables are keyed by identity (`id(code)`, `id(callable)`), never by hashing code
objects: the hooks read them on every event.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable, Iterable
from typing import Any

from tracer.catalog.entries import Entry
from tracer.catalog.families import NO_MEANING, Meaning
from tracer.catalog.watcher import ImportWatcher

# A provider gets a freshly imported module and yields (callable, Entry) pairs.
Provider = Callable[[types.ModuleType], Iterable[tuple[Any, Entry]]]

CO_GENERATOR_LIKE = 0x20 | 0x80 | 0x200  # generator, coroutine, async generator


def _providers() -> dict[str, Provider]:
    from tracer.catalog import numpy as np_catalog
    from tracer.catalog import pandas as pd_catalog
    from tracer.catalog import persist, sklearn

    return {
        "pandas": pd_catalog.provide,
        "numpy": np_catalog.provide,
        "pickle": persist.provide_pickle,
        "joblib": persist.provide_joblib,
        "sklearn": sklearn.provide,
    }


def meaning_of(name: str, qualname: str) -> Meaning:
    """What the op recorded as `name`, by the callable `qualname`, means: asked of the catalog
    of the library `qualname` belongs to (or, for a qualname of no library tracer knows, the
    one whose op names it is), without importing that library."""
    from tracer.catalog import numpy, pandas, persist, sklearn

    if not isinstance(name, str):
        return NO_MEANING
    library = qualname.partition(".")[0] if isinstance(qualname, str) else ""
    if library not in ("pandas", "numpy", "sklearn", "pickle", "joblib"):
        library = name.partition(".")[0] if "." in name else ""
        if library == "np":
            library = "numpy"
        elif library not in ("pickle", "joblib"):
            library = "sklearn" if name in sklearn.MEANINGS else "pandas"
    if library == "pandas":
        return pandas.meaning(name, qualname)
    if library == "numpy":
        return numpy.meaning(name, qualname)
    if library == "sklearn":
        return sklearn.meaning(name, qualname)
    return persist.meaning(name, qualname)


def unwrap(obj: Any) -> tuple[types.CodeType | None, list[types.CodeType], Any]:
    """(innermost code, wrapper codes, innermost callable) of a watched attribute."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if isinstance(obj, property):
        obj = obj.fget
    # scikit-learn's `available_if` descriptor keeps the real method in `.fn`.
    inner = getattr(obj, "fn", None)
    if not isinstance(obj, types.FunctionType) and isinstance(inner, types.FunctionType):
        obj = inner
    functions: list[types.FunctionType] = []
    seen = set()
    cur = obj
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, types.FunctionType):
            functions.append(cur)
        cur = getattr(cur, "__wrapped__", None)
    if not functions:
        return None, [], obj
    *outer, innermost = functions
    return innermost.__code__, [f.__code__ for f in outer], innermost


def _defaults(fn: types.FunctionType) -> dict[str, Any]:
    code = fn.__code__
    names = code.co_varnames[: code.co_argcount]
    positional = fn.__defaults__ or ()
    out = dict(zip(names[len(names) - len(positional) :], positional))
    out.update(fn.__kwdefaults__ or {})
    return out


class Catalog:
    """Resolved watch tables, filled as libraries are imported.

    `code_entries`, `wrapper_codes` and `c_entries` are mutated in place, so a backend that
    holds references to them sees new entries at once; `on_new_codes` lets a backend that must
    arm code objects (sys.monitoring) do so.
    """

    def __init__(self, providers: dict[str, Provider] | None = None) -> None:
        self.providers = providers if providers is not None else _providers()
        self.code_entries: dict[int, Entry] = {}
        self.wrapper_codes: set[int] = set()
        self.c_entries: dict[int, Entry] = {}
        self.c_methods: dict[tuple[type, str], Entry] = {}
        self.c_method_names: set[str] = set()
        # id(code) -> {parameter: default value}: the recorder leaves defaults out of params.
        self.defaults: dict[int, dict[str, Any]] = {}
        self._pinned: list[object] = []  # keeps every watched code / callable alive: ids stay valid
        self._done: set[str] = set()
        self._lock = threading.RLock()
        self._watcher: ImportWatcher | None = None
        self.on_new_codes: Callable[[list[types.CodeType]], None] | None = None
        self.errors: list[str] = []

    # -- resolution -------------------------------------------------------------------------
    def provider_for(self, modname: str) -> Provider | None:
        root = modname.partition(".")[0]
        if root == "sklearn":
            return self.providers.get("sklearn")
        if modname == root:
            return self.providers.get(root)
        return None

    def module_loaded(self, module: types.ModuleType) -> None:
        """Resolve the entries of a module that has just finished executing."""
        name = getattr(module, "__name__", None)
        if not isinstance(name, str):
            return
        provider = self.provider_for(name)
        if provider is None:
            return
        with self._lock:
            if name in self._done:
                return
            self._done.add(name)
            try:
                pairs = list(provider(module))
            except Exception as exc:  # a library we do not know well: never break its import
                self.errors.append(f"catalog for {name}: {type(exc).__name__}: {exc}")
                return
            new_codes = self.add(pairs)
        if new_codes and self.on_new_codes is not None:
            self.on_new_codes(new_codes)

    def add(self, pairs: Iterable[tuple[Any, Entry]]) -> list[types.CodeType]:
        new_codes = []
        for obj, entry in pairs:
            if entry.c_callable:
                if isinstance(obj, tuple):  # (type, method name): a bound C method
                    self.c_methods.setdefault(obj, entry)
                    self.c_method_names.add(obj[1])
                    descriptor = getattr(obj[0], obj[1], None)
                    if descriptor is not None:
                        self.c_entries.setdefault(id(descriptor), entry)
                        self._pinned.append(descriptor)
                else:
                    self.c_entries.setdefault(id(obj), entry)
                    self._pinned.append(obj)
                continue
            code, wrappers, function = unwrap(obj)
            if code is None or code.co_flags & CO_GENERATOR_LIKE:
                continue
            for w in wrappers:
                if id(w) not in self.wrapper_codes:
                    self.wrapper_codes.add(id(w))
                    self._pinned.append(w)
            if id(code) not in self.code_entries:
                self.code_entries[id(code)] = entry
                self.defaults[id(code)] = _defaults(function)
                self._pinned.append(code)
                new_codes.append(code)
        return new_codes

    def codes(self) -> list[types.CodeType]:
        return [
            c for c in self._pinned if isinstance(c, types.CodeType) and id(c) in self.code_entries
        ]

    # -- lifecycle --------------------------------------------------------------------------
    def install(self) -> None:
        """Resolve what is already imported and watch for the rest."""
        for name in list(sys.modules):
            if self.provider_for(name) is not None:
                module = sys.modules.get(name)
                if module is not None:
                    self.module_loaded(module)
        if self._watcher is None:
            self._watcher = ImportWatcher(self.provider_for, self.module_loaded)
            self._watcher.install()

    def quiet_imports(self, quiet: Any) -> None:
        """Execute library modules through `quiet` (tracer/hooks/quiet.py) from now on."""
        if self._watcher is not None:
            self._watcher.quiet = quiet

    def uninstall(self) -> None:
        if self._watcher is not None:
            self._watcher.uninstall()
            self._watcher = None

    def after_fork(self) -> None:
        """Called in a forked child (tracer.children): the lock is new. A thread of the parent
        may have held it at the fork (resolving a module it had just imported); that thread does
        not exist here, so the child's first library import would wait for it forever."""
        self._lock = threading.RLock()

    def entry_for_c(self, func: object) -> Entry | None:
        entry = self.c_entries.get(id(func))
        if entry is not None:
            return entry
        owner = getattr(func, "__self__", None)
        if owner is not None and type(func) is types.BuiltinMethodType:
            return self.c_methods.get((type(owner), getattr(func, "__name__", "")))
        return None
