"""The sys.monitoring backend (Python 3.12+), shaped like coverage.py's sysmon core.

* `PY_START | PY_RETURN` are set *locally* on the watched code objects.
* `PY_START` is also global, to meet every other code object once: a library function gets
  `DISABLE` at once and never calls us again; a user function is armed with local
  `CALL | C_RETURN | C_RAISE` (C callables such as pickle.dump or np.fromfile have no code
  object to arm: their calls are seen at the user's call sites) and then gets `DISABLE` too.
  User frames already running when tracing starts are armed from the thread stacks.
* `CALL` returns `DISABLE` at user call sites whose callee is a static name or attribute chain
  that is not a watched C callable; a call site whose callee is a local variable stays armed,
  since it may call pickle.dump on a later pass. `C_RETURN` and `C_RAISE` get a callback only
  while a watched C call is open.
* `PY_UNWIND` (which cannot be local) closes recorded calls that end by an exception.
* The result of a C call is read after the store that follows it, with a one-shot local
  `INSTRUCTION` event on the caller's code object.

Why `CALL` is not global: code run inside a callback (the recorder, and the pandas code it
calls) never gets its call sites DISABLEd, since no event fires there, and an instrumented call
site is never specialised: a global `CALL` made the recorder itself run 1.6x slower.

A location DISABLEd for `PY_START` stays disabled when local events are added to it later, so
arming a watched function that has already run (pandas calls some of its own functions while
it is being imported) restarts events once.

We claim a free tool id and never evict another tool; `stop()` frees everything it set.
"""

from __future__ import annotations

import sys
import threading
import types
import weakref
from typing import Any

from tracer.hooks import callargs
from tracer.hooks.dispatch import Backend, Dispatcher, ThreadState
from tracer.hooks.extensions import monfilter_missing
from tracer.hooks.usercode import frame_rule
from tracer.types import CCall

if sys.version_info >= (3, 12):
    from sys import monitoring
else:  # the backend is chosen on 3.12+ only; the module still imports on 3.11
    monitoring: Any = None

TOOL_IDS = (3, 4, 5, 2)  # 0, 1 (coverage.py) and 2 (profilers) are conventionally taken
TOOL_NAME = "tracer"
CO_GENERATOR_LIKE = 0x20 | 0x80 | 0x200
DISABLE = monitoring.DISABLE if monitoring is not None else None


class SysMonitorHook(Backend):
    name = "sysmon"

    def __init__(self, catalog: Any, dispatcher: Dispatcher, is_user: Any) -> None:
        super().__init__(dispatcher)
        self.catalog = catalog
        self.is_user = is_user
        self.frame_is_user = frame_rule(is_user)
        self.tool: int | None = None
        self._tls = threading.local()
        self._armed: list[types.CodeType] = []
        self._instr_codes: dict[int, types.CodeType] = {}
        self._c_armed = False  # C_RETURN / C_RAISE callbacks registered
        self._user_codes: dict[int, types.CodeType] = {}  # armed for CALL
        # the code objects given DISABLE on PY_START, weakly: a module's body is freed once
        # imported, and a function made later may reuse its id
        self._seen: dict[int, weakref.ref[types.CodeType]] = {}
        # read in place on the hot paths: is_user's per-file cache, the catalog's entries, the
        # dispatcher's wrapper codes
        self._user_files: dict[str, bool] = getattr(is_user, "files", {})
        self._entries = catalog.code_entries
        self._wrappers = dispatcher.wrappers
        self._filter: Any = None  # the C filter (tracer.hooks._monfilter), when built

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        mon = monitoring
        for tool in TOOL_IDS:
            if mon.get_tool(tool) is None:
                mon.use_tool_id(tool, TOOL_NAME)
                self.tool = tool
                break
        else:
            raise RuntimeError("no free sys.monitoring tool id (3, 4, 5 and 2 are all in use)")
        E = mon.events
        tool = self.tool
        start, ret, unwind = self.sysmon_py_start, self.sysmon_py_return, self.sysmon_py_unwind
        if monfilter_missing() is None:  # the same callbacks, behind their quick "no" in C
            from tracer.hooks import _monfilter  # type: ignore[attr-defined]

            self._filter = _monfilter.Filter(
                self._entries, self._wrappers, self._user_files, self._seen, self._tls,
                start, ret, unwind, DISABLE,
            )  # fmt: skip
            f = self._filter
            start, ret, unwind = f.py_start, f.py_return, f.py_unwind
        mon.register_callback(tool, E.PY_START, start)
        mon.register_callback(tool, E.PY_RETURN, ret)
        mon.register_callback(tool, E.PY_UNWIND, unwind)
        mon.register_callback(tool, E.CALL, self.sysmon_call)
        mon.register_callback(tool, E.INSTRUCTION, self.sysmon_instruction)
        self.arm(self.catalog.codes())
        self.catalog.on_new_codes = self.arm
        # This thread's state now, not at its first op: a thread without one costs the C
        # filter a caught AttributeError on every unwind (imports raise thousands).
        self._state()
        for top in sys._current_frames().values():
            frame: types.FrameType | None = top
            while frame is not None:
                if self.frame_is_user(frame):
                    self._arm_user(frame.f_code)
                frame = frame.f_back
        # A site DISABLEd by an earlier session in this process must fire again for us.
        mon.restart_events()
        mon.set_events(tool, E.PY_START | E.PY_UNWIND)

    def arm(self, codes: list[types.CodeType]) -> None:
        """Watch these functions (the catalog resolved them)."""
        if self.tool is None:
            return
        E = monitoring.events
        restart = False
        for code in codes:
            monitoring.set_local_events(self.tool, code, E.PY_START | E.PY_RETURN)
            self._armed.append(code)
            seen = self._seen.get(id(code))
            restart = restart or (seen is not None and seen() is code)
        if restart:
            monitoring.restart_events()  # see the module docstring

    def _arm_user(self, code: types.CodeType) -> None:
        """Watch the call sites of a user function (for calls of C callables)."""
        if self.tool is None or id(code) in self._user_codes:
            return
        E = monitoring.events
        self._user_codes[id(code)] = code
        current = monitoring.get_local_events(self.tool, code)
        monitoring.set_local_events(self.tool, code, current | E.CALL | E.C_RETURN | E.C_RAISE)

    def stop(self) -> None:
        if self.tool is None:
            return
        mon = monitoring
        tool, self.tool = self.tool, None
        self.catalog.on_new_codes = None
        try:
            mon.set_events(tool, 0)
            codes = self._armed + list(self._instr_codes.values())
            for code in codes + list(self._user_codes.values()):
                mon.set_local_events(tool, code, 0)
            for event in (
                "PY_START",
                "PY_RETURN",
                "PY_UNWIND",
                "CALL",
                "C_RETURN",
                "C_RAISE",
                "INSTRUCTION",
            ):
                mon.register_callback(tool, getattr(mon.events, event), None)
        finally:
            mon.free_tool_id(tool)
        self._c_armed = False
        self._filter = None
        self._armed.clear()
        self._user_codes.clear()
        self._seen.clear()
        self._instr_codes.clear()
        self._close_states()

    # -- per-thread state ---------------------------------------------------------------------
    def _state(self) -> ThreadState:
        try:
            return self._tls.state
        except AttributeError:
            state = self._tls.state = self._new_state()
            return state

    # -- callbacks ----------------------------------------------------------------------------
    # Each body is guarded: whatever goes wrong in here (a RecursionError when the program is at
    # the recursion limit, say) must not surface in the program. The dispatcher guards its own
    # work; these guards cover the few lines before it.
    def sysmon_py_start(self, code: types.CodeType, offset: int) -> Any:
        try:
            entry = self._entries.get(id(code))
            if entry is not None:
                self.dispatcher.start(self._state(), sys._getframe(1), entry)
                return None
            user = self._user_files.get(code.co_filename)
            if user is None:
                user = self.frame_is_user(sys._getframe(1))
            if user:
                self._arm_user(code)
            self._seen[id(code)] = weakref.ref(code)
            return DISABLE
        except Exception:
            return None

    # Most returns and unwinds are of frames we did not open (a watched function called by
    # library code, any frame raising through): those are told apart here, before a call.
    def sysmon_py_return(self, code: types.CodeType, offset: int, retval: object) -> Any:
        self._ended(retval, None)

    def sysmon_py_unwind(self, code: types.CodeType, offset: int, exc: BaseException) -> Any:
        self._ended(None, exc)

    def _ended(self, value: object, error: BaseException | None) -> None:
        """The frame of the event (two up: its callback called us) returned or raised."""
        try:
            state = getattr(self._tls, "state", None)
            if state is not None and state.stack:
                stack = state.stack
                frame = sys._getframe(2)
                if stack[-1].frame is frame or _opened(stack, frame):
                    self.dispatcher.exit(state, frame, value, error)
        except Exception:
            pass

    def sysmon_call(self, code: types.CodeType, offset: int, func: object, arg0: object) -> Any:
        try:
            user = self._user_files.get(code.co_filename)
            if user is None:
                user = self.frame_is_user(sys._getframe(1))
            if not user:
                return DISABLE
            entry = self.catalog.entry_for_c(func)
            if entry is None:
                if callargs.callee_is_static(code, offset):
                    return DISABLE
                return None
            frame = sys._getframe(1)
            self._c_returns(True)
            self.dispatcher.c_start(self._state(), frame, entry, CCall(func, offset, arg0))
        except Exception:
            pass
        return None

    def sysmon_c_return(self, code: types.CodeType, offset: int, func: object, arg0: object) -> Any:
        try:
            state = self._state()
            if state.stack and state.stack[-1].lasti == offset:
                frame = sys._getframe(1)
                if self.dispatcher.c_exit(state, frame, offset, None):
                    self._watch_store(code)
            self._c_returns(self._c_calls_open())
        except Exception:
            pass

    def sysmon_c_raise(self, code: types.CodeType, offset: int, func: object, arg0: object) -> Any:
        try:
            state = self._state()
            if state.stack and state.stack[-1].lasti == offset:
                self.dispatcher.c_exit(state, sys._getframe(1), offset, True)
            self._c_returns(self._c_calls_open())
        except Exception:
            pass

    def _c_returns(self, on: bool) -> None:
        """Have C_RETURN / C_RAISE call us (while a watched C call is open) or not."""
        if on is self._c_armed or self.tool is None:
            return
        with self._lock:
            self._c_armed = on
            E = monitoring.events
            mon, tool = monitoring, self.tool
            mon.register_callback(tool, E.C_RETURN, self.sysmon_c_return if on else None)
            mon.register_callback(tool, E.C_RAISE, self.sysmon_c_raise if on else None)

    def _c_calls_open(self) -> bool:
        return any(o.cfunc is not None for state in self._states for o in state.stack)

    def _watch_store(self, code: types.CodeType) -> None:
        """Arm INSTRUCTION on `code` until the pending result has been stored."""
        if self.tool is None:
            return
        E = monitoring.events
        self._instr_codes[id(code)] = code
        current = monitoring.get_local_events(self.tool, code)
        monitoring.set_local_events(self.tool, code, current | E.INSTRUCTION)

    def sysmon_instruction(self, code: types.CodeType, offset: int) -> Any:
        try:
            return self._instruction(code, offset)
        except Exception:
            return None

    def _instruction(self, code: types.CodeType, offset: int) -> Any:
        state = self._state()
        frame = sys._getframe(1)
        waiting = [p for p in state.pending if p.frame is frame]
        if not waiting:
            self._unwatch_store(code)
            return None
        ready = False
        for p in waiting:
            if p.store_offset < 0:
                p.store_offset = offset  # the store itself is about to run
            elif offset != p.store_offset:
                ready = True
        if ready:
            self.dispatcher.resolve(state, frame)
            if not any(p.frame.f_code is code for p in state.pending):
                self._unwatch_store(code)
        return None

    def _unwatch_store(self, code: types.CodeType) -> None:
        if self.tool is None:
            return
        E = monitoring.events
        current = monitoring.get_local_events(self.tool, code)
        monitoring.set_local_events(self.tool, code, current & ~E.INSTRUCTION)
        self._instr_codes.pop(id(code), None)


def _opened(stack: list[Any], frame: types.FrameType) -> bool:
    """Is `frame` on the stack below its top (a call whose inner calls ended unseen)?"""
    for o in stack:
        if o.frame is frame:
            return True
    return False
