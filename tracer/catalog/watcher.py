"""Tell the catalog when a watched library has finished importing, without patching it.

`ImportWatcher` is a meta-path finder placed first on `sys.meta_path`. For a module the catalog
cares about, it asks the finders after it for the real spec and hands back that spec with a
thin loader around the real one. The thin loader puts the real loader back on the module
(`__loader__`, `__spec__.loader`) before executing it, so the module never sees us, then
reports the finished module.

With `quiet` set (the Python 3.11 backends: tracer/hooks/quiet.py), it also finds the spec of
every other import, and has the thin loader execute a library module's body with the thread's
profile function off. Otherwise every other import passes through untouched.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from typing import Any


class _ReportingLoader:
    def __init__(
        self,
        loader: Any,
        report: Callable[[types.ModuleType], None] | None,
        around: Callable[[], Any] | None = None,
    ) -> None:
        self.loader = loader
        self.report = report
        self.around = around  # a context manager to execute the module in (quiet.py)

    def __getattr__(self, name: str) -> Any:
        if name == "loader":  # (not set yet: a copy being made)
            raise AttributeError(name)
        return getattr(self.loader, name)  # is_package, get_resource_reader...

    def create_module(self, spec: Any) -> types.ModuleType | None:
        create = getattr(self.loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: types.ModuleType) -> None:
        spec = getattr(module, "__spec__", None)
        if spec is not None:
            spec.loader = self.loader
        module.__loader__ = self.loader
        if self.around is None:
            self.loader.exec_module(module)
        else:
            with self.around():
                self.loader.exec_module(module)
        if self.report is None:
            return
        try:
            self.report(module)
        except Exception:  # the catalog records its own errors; the import must succeed
            pass


class ImportWatcher:
    def __init__(
        self,
        wants: Callable[[str], object],
        report: Callable[[types.ModuleType], None],
    ) -> None:
        self.wants = wants
        self.report = report
        self.quiet: Any = None  # tracer.hooks.quiet.QuietImports, on the 3.11 backends
        self._busy = threading.local()

    def install(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        wanted = self.wants(fullname) is not None
        quiet = self.quiet
        if (not wanted and quiet is None) or getattr(self._busy, "on", False):
            return None
        self._busy.on = True
        try:
            spec = None
            for finder in sys.meta_path:
                if finder is self:
                    continue
                find = getattr(finder, "find_spec", None)
                if find is None:
                    continue
                spec = find(fullname, path, target)
                if spec is not None:
                    break
        finally:
            self._busy.on = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        around = quiet.around(spec) if quiet is not None else None
        if wanted or around is not None:
            spec.loader = _ReportingLoader(spec.loader, self.report if wanted else None, around)
        return spec
