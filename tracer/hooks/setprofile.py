"""The sys.setprofile backend (Python 3.11, and anywhere sys.monitoring is missing).

The profile function sees every call and return of every Python function, and every C call:
it must be cheap on the events it discards, which are almost all of them. Lookups are by
identity (`id(code)`, `id(callable)`); the per-thread stack is captured in a closure made for
each thread, so the common path touches no thread-local storage. New threads get the hook
through `threading.setprofile`.

setprofile gives no exception object on a frame that ends by raising; such an exit is told
apart from a real `return None` by the opcode at `f_lasti`. The result of a C call is read at
the next event of the calling frame, when the store that follows the call has run.
"""

from __future__ import annotations

import dis
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

from tracer.hooks.dispatch import Backend, Dispatcher
from tracer.hooks.usercode import frame_rule
from tracer.types import CCall

# The opcodes of a normal return (the C profile filter, ctrace.py, is given them too).
RETURN_OPS = {dis.opmap[n] for n in ("RETURN_VALUE", "RETURN_CONST") if n in dis.opmap}


def _returned_normally(frame: types.FrameType) -> bool:
    code = frame.f_code.co_code
    i = frame.f_lasti
    return 0 <= i < len(code) and code[i] in RETURN_OPS


class ProfileHook(Backend):
    name = "setprofile"

    def __init__(self, catalog: Any, dispatcher: Dispatcher, is_user: Any) -> None:
        super().__init__(dispatcher)
        self.catalog = catalog
        self.is_user = is_user
        self._running = False
        self._previous_thread_profile: Any = None

    def start(self) -> None:
        self._running = True
        self._previous_thread_profile = (
            threading.getprofile() if hasattr(threading, "getprofile") else None
        )
        threading.setprofile(self._thread_start)
        sys.setprofile(self._make_profiler())

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        sys.setprofile(None)
        threading.setprofile(self._previous_thread_profile)
        self._close_states()

    # Library modules execute with this thread's profile function off (tracer/hooks/quiet.py).
    def pause_thread(self) -> Any:
        profiler = sys.getprofile()
        if not self._running or getattr(profiler, "hook", None) is not self:
            return None
        sys.setprofile(None)
        return profiler

    def resume_thread(self, token: Any) -> None:
        if self._running and token is not None and sys.getprofile() is None:
            sys.setprofile(token)

    def _thread_start(self, frame: types.FrameType, event: str, arg: object) -> None:
        """The first event of a new thread: give the thread its own profiler."""
        if not self._running:
            sys.setprofile(None)
            return
        profiler = self._make_profiler()
        sys.setprofile(profiler)
        profiler(frame, event, arg)

    def _make_profiler(self) -> Callable[[types.FrameType, str, object], None]:
        state = self._new_state()
        stack = state.stack
        pending = state.pending
        code_entries = self.catalog.code_entries
        c_entries = self.catalog.c_entries
        c_method_names = self.catalog.c_method_names
        entry_for_c = self.catalog.entry_for_c
        dispatcher = self.dispatcher
        is_user = frame_rule(self.is_user)
        hook = self

        def profiler(frame: types.FrameType, event: str, arg: Any) -> None:
            if not hook._running:
                # Stopped: Python cannot clear another thread's profile function (before
                # 3.12), so each thread still running one lets go of it at its next event.
                if sys.getprofile() is profiler:
                    sys.setprofile(None)
                return
            if pending:
                waiting = pending[-1].frame
                if frame is waiting or frame.f_back is waiting:
                    dispatcher.resolve(state)
            if event == "call":
                entry = code_entries.get(id(frame.f_code))
                if entry is not None:
                    dispatcher.start(state, frame, entry)
            elif event == "return":
                if stack and stack[-1].frame is frame:
                    if arg is None and not _returned_normally(frame):
                        dispatcher.exit(state, frame, None, True)
                    else:
                        dispatcher.exit(state, frame, arg, None)
            elif event == "c_call":
                entry = c_entries.get(id(arg))
                if entry is None and getattr(arg, "__name__", None) in c_method_names:
                    entry = entry_for_c(arg)
                if entry is not None and is_user(frame):
                    dispatcher.c_start(state, frame, entry, CCall(arg, frame.f_lasti))
            elif stack and stack[-1].frame is frame:  # c_return / c_exception
                dispatcher.c_exit(
                    state, frame, frame.f_lasti, True if event == "c_exception" else None
                )

        profiler.hook = hook  # type: ignore[attr-defined]  # (pause_thread: is it ours?)
        return profiler
