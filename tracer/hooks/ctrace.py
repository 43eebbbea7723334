"""The C profile filter backend (Python < 3.12): `setprofile`'s rule, decided in C.

`tracer.hooks._ctracer` is an optional extension. Its profile function makes, on every event,
exactly the decisions of the pure-Python profile function in `setprofile.py` (which stays the
fallback and the test oracle), and calls back into the same `Dispatcher` methods, with the same
per-thread `ThreadState`, only where that function would do real work: a watched code object
starts, the frame on top of the thread's stack returns, a watched C callable is called from
user code or returns, a pending C result may be stored. Everything else costs ~10 ns over the
~80 ns floor of a C profile function, against ~150–300 ns for a Python one.

Threads: `PyEval_SetProfile` covers the calling thread only. New threads get a small Python
shim through `threading.setprofile`; on its first event it installs the C function for that
thread, with the thread's own ThreadState. `stop()` clears the calling thread (what
`sys.setprofile(None)` does in the oracle), restores threading's hook, and, unlike the oracle,
also clears every other live thread whose profile object is one of ours: no thread keeps
recording after stop. A thread that `stop()` could not reach lets go at its next event.

The catalog's tables are read live: the C side mirrors `code_entries` and `c_entries` in pointer
sets, rebuilt when a table's size changes (tables only grow while a script runs), so it needs no
`on_new_codes` callback. `stats()` returns the C counters (events seen, callbacks into Python,
internal errors).
"""

from __future__ import annotations

import sys
import threading
import types
from typing import Any

from tracer.hooks import _ctracer, framelocals
from tracer.hooks.dispatch import Backend, Dispatcher, Open, Pending, ThreadState
from tracer.hooks.setprofile import RETURN_OPS
from tracer.types import CCall


class CProfileHook(Backend):
    name = "ctrace"

    def __init__(self, catalog: Any, dispatcher: Dispatcher, is_user: Any) -> None:
        super().__init__(dispatcher)
        self.catalog = catalog
        self.is_user = is_user
        self._profilers: list[Any] = []  # keeps every thread's profile object alive until stop
        self._running = False
        self._previous_thread_profile: Any = None
        self._hook: Any = None
        self.threads_cleared = 0  # other threads whose profile function stop() removed

    def start(self) -> None:
        catalog = self.catalog
        self._hook = _ctracer.Hook(
            catalog.code_entries,
            catalog.c_entries,
            catalog.c_method_names,
            self.dispatcher,
            catalog.entry_for_c,
            self.is_user,
            CCall,
            Open,
            Pending,
            bytes(sorted(RETURN_OPS)),
        )
        self._running = True
        self._previous_thread_profile = threading.getprofile()
        threading.setprofile(self._thread_start)
        self._install()

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        self.threads_cleared = self._hook.stop()
        threading.setprofile(self._previous_thread_profile)
        self._close_states()
        self._profilers.clear()

    # Library modules execute with this thread's profile function off (tracer/hooks/quiet.py).
    def pause_thread(self) -> Any:
        return self._hook.pause() if self._hook is not None else None

    def resume_thread(self, token: Any) -> None:
        if self._hook is not None and token is not None:
            self._hook.resume(token)

    def stats(self) -> dict[str, int]:
        return dict(self._hook.stats()) if self._hook is not None else {}

    def _install(self) -> Any:
        """Profile the calling thread with a ThreadState of its own (None once stopped)."""
        state = ThreadState()
        profiler = self._hook.install(state)
        if profiler is not None:
            framelocals.c_hook(type(profiler))
            with self._lock:
                self._states.append(state)
                self._profilers.append(profiler)
        return profiler

    def _thread_start(self, frame: types.FrameType, event: str, arg: object) -> None:
        """The first event of a new thread: give the thread its own C profiler."""
        profiler = self._install() if self._running else None
        if profiler is None:  # stopped, possibly while this thread was starting
            sys.setprofile(None)
            return
        profiler(frame, event, arg)
