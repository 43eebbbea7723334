"""The recording rule, shared by every backend.

A backend reports raw events (a watched Python frame started or ended, a watched C callable
was called or returned); the dispatcher decides what becomes an op:

* Record a watched call iff its first non-wrapper caller frame is user code.
* Its parent is the innermost open recorded call on this thread.
* Nested calls are deduplicated per (parent, call site, callee): a row-wise `apply` makes a
  handful of records, not one per row. A call under a suppressed call is suppressed too, and a
  watched function called by a C callable (pickle calling back into pandas) is the C call's
  business, not the user's.
* Calls and returns are paired on a per-thread stack of frames; an exit that is not on top
  pops down to its frame, closing what was skipped as lost (missed events, exceptions).
* The result of a C call (pickle.load) is read from the variable it is stored into, once the
  store has run: `pending` holds those until the backend reports the frame again.

Nothing here raises into user code: every handler catches, reports to the sink, and asks the
backend to detach after too many failures.
"""

from __future__ import annotations

import dis
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

from tracer.hooks import callargs
from tracer.hooks.usercode import frame_rule
from tracer.types import CCall, Sink

MAX_ERRORS = 20

# Instructions that only move values onto the stack: the call site is the next instruction
# that is not one of these.
_STACK_ONLY = frozenset(
    op
    for name, op in dis.opmap.items()
    if name.startswith(
        (
            "LOAD_",
            "PUSH_",
            "COPY",
            "SWAP",
            "NOP",
            "CACHE",
            "EXTENDED_ARG",
            "KW_NAMES",
            "PRECALL",
            "RESUME",
        )
    )
)
_CACHE = dis.opmap.get("CACHE", -1)
_site_offsets: dict[tuple[int, int], tuple[int, types.CodeType]] = {}


def site_offset(frame: types.FrameType) -> int:
    """The offset of the instruction making the current call in `frame`.

    `f_lasti` alone is not stable: on 3.12 a specialised instruction reports an offset inside
    its inline cache, and a call reached through a load may report the load. Stepping back
    out of caches, then forward over loads, makes every report of one site the same offset.
    """
    code, lasti = frame.f_code, frame.f_lasti
    key = (id(code), lasti)
    hit = _site_offsets.get(key)
    if hit is not None and hit[1] is code:
        return hit[0]
    raw = code.co_code
    i = lasti
    while i > 0 and raw[i] == _CACHE:
        i -= 2
    while 0 <= i < len(raw) - 1 and raw[i] in _STACK_ONLY:
        i += 2
    _site_offsets[key] = (i, code)
    return i


class Open:
    """One open call on a thread's stack. `token` is None for a call that is not recorded."""

    __slots__ = ("frame", "token", "seen", "cfunc", "lasti")

    def __init__(
        self, frame: types.FrameType, token: object, cfunc: object = None, lasti: int = -1
    ):
        self.frame = frame
        self.token = token
        self.seen: dict[tuple[int, int, int], int] | None = None
        self.cfunc = cfunc
        self.lasti = lasti


class Pending:
    """A finished C call whose result is about to be stored into a variable of `frame`."""

    __slots__ = ("frame", "target", "token", "lasti", "store_offset")

    def __init__(self, frame: types.FrameType, target: tuple, token: object, lasti: int) -> None:
        self.frame = frame
        self.target = target
        self.token = token
        self.lasti = lasti
        self.store_offset = -1  # set by a backend that watches instructions


class ThreadState:
    __slots__ = ("stack", "pending")

    def __init__(self) -> None:
        self.stack: list[Open] = []
        self.pending: list[Pending] = []


class Backend:
    """What every backend owns besides its hook: the dispatcher it reports to, and the
    ThreadState of each thread it has seen (the thread's callbacks hold theirs directly)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._states: list[ThreadState] = []
        self._lock = threading.Lock()

    def _new_state(self) -> ThreadState:
        state = ThreadState()
        with self._lock:
            self._states.append(state)
        return state

    def _close_states(self) -> None:
        """Tracing stops: close what is still open on every thread."""
        for state in self._states:
            self.dispatcher.close(state)

    def after_fork(self) -> None:
        """Called in a forked child before it records anything (tracer.children).

        Every thread's open calls and pending results belong to the parent's log: they are
        dropped, in place, since the callbacks hold the lists. The lock is new: a thread of the
        parent may have held it at the fork, and that thread does not exist here.
        """
        for state in self._states:
            state.stack.clear()
            state.pending.clear()
        self._lock = threading.Lock()


class Dispatcher:
    def __init__(
        self,
        sink: Sink,
        wrapper_codes: set[int],
        is_user: Callable[[types.CodeType], bool],
        on_give_up: Callable[[], None] | None = None,
    ) -> None:
        self.sink = sink
        self.wrappers = wrapper_codes
        self.is_user = is_user
        self.user_files: dict[str, bool] = getattr(is_user, "files", {})
        self.frame_is_user = frame_rule(is_user)
        self.on_give_up = on_give_up
        self.errors = 0
        self.gave_up = False

    def after_fork(self, sink: Sink) -> None:
        """Called in a forked child (tracer.children): record into `sink`, the child's own
        recorder, from now on, with a budget of MAX_ERRORS of its own (the parent's failures are
        counted in the parent's log)."""
        self.sink = sink
        self.errors = 0
        self.gave_up = False

    # -- Python callables ---------------------------------------------------------------------
    def start(self, state: ThreadState, frame: types.FrameType, entry: Any) -> None:
        try:
            caller = frame.f_back
            wrappers = self.wrappers
            while caller is not None and id(caller.f_code) in wrappers:
                caller = caller.f_back
            if caller is None:
                return
            # (most calls come from library code: the user-code cache is read in place)
            code = caller.f_code
            user = self.user_files.get(code.co_filename)
            if not (self.frame_is_user(caller) if user is None else user):
                return
            stack = state.stack
            if stack and stack[-1].cfunc is not None:
                self._close_stale_c(stack, caller)
            parent = stack[-1] if stack else None
            if parent is not None and self._suppressed(parent, caller, id(frame.f_code)):
                stack.append(Open(frame, None))
                return
            token = self.sink.op_start(
                entry, frame, caller, parent.token if parent is not None else None, None
            )
            stack.append(Open(frame, token))
        except Exception as exc:
            self.fail("start", exc)

    def exit(self, state: ThreadState, frame: types.FrameType, value: object, error: Any) -> None:
        """A watched frame ended with `value` (returned) or `error` (raised; True if unknown)."""
        try:
            stack = state.stack
            if not stack:
                return
            top = stack[-1]
            if top.frame is frame and top.cfunc is None:
                stack.pop()
                self._finish(top, value, error)
                return
            for i in range(len(stack) - 2, -1, -1):
                if stack[i].frame is frame and stack[i].cfunc is None:
                    skipped = stack[i + 1 :]
                    del stack[i + 1 :]
                    for o in reversed(skipped):
                        self._finish(o, None, None, lost=True)
                    self._finish(stack.pop(), value, error)
                    return
        except Exception as exc:
            self.fail("exit", exc)

    # -- C callables ----------------------------------------------------------------------------
    def c_start(self, state: ThreadState, frame: types.FrameType, entry: Any, ccall: CCall) -> None:
        """A watched C callable is called from user frame `frame` (the backend checked it)."""
        try:
            stack = state.stack
            if stack and stack[-1].cfunc is not None:
                self._close_stale_c(stack, frame)
            parent = stack[-1] if stack else None
            if parent is not None and self._suppressed(parent, frame, id(ccall.func)):
                stack.append(Open(frame, None, ccall.func, ccall.lasti))
                return
            token = self.sink.op_start(
                entry, None, frame, parent.token if parent is not None else None, ccall
            )
            stack.append(Open(frame, token, ccall.func, ccall.lasti))
        except Exception as exc:
            self.fail("c_start", exc)

    def c_exit(self, state: ThreadState, frame: types.FrameType, lasti: int, error: Any) -> bool:
        """The C call at `lasti` of `frame` returned (error None) or raised.

        Matched by call site, not by the callable: a bound method (arr.tofile) can reach the
        return event as a different object than the call event. True if a result is pending.
        """
        try:
            stack = state.stack
            if not stack:
                return False
            top = stack[-1]
            if top.cfunc is None or top.frame is not frame or top.lasti != lasti:
                return False
            stack.pop()
            if top.token is None:
                return False
            if error is not None:
                self._finish(top, None, error)
                return False
            target = callargs.result_target(frame.f_code, top.lasti)
            if target is not None and target[0] == "store":
                state.pending.append(Pending(frame, target, top.token, top.lasti))
                return True
            self._finish(top, None, None, result_known=False)
        except Exception as exc:
            self.fail("c_exit", exc)
        return False

    def resolve(self, state: ThreadState, frame: types.FrameType | None = None) -> None:
        """Read the stored results of pending C calls (of `frame`, or all of them)."""
        try:
            keep = []
            for p in state.pending:
                if frame is not None and p.frame is not frame:
                    keep.append(p)
                    continue
                value = callargs.read_store(p.frame, p.target)
                known = value is not callargs.MISSING
                self.sink.op_end(p.token, value if known else None, None, result_known=known)
            state.pending[:] = keep
        except Exception as exc:
            state.pending.clear()
            self.fail("resolve", exc)

    def close(self, state: ThreadState) -> None:
        """Tracing stops: close whatever is still open on this thread's stack."""
        self.resolve(state)
        while state.stack:
            self._finish(state.stack.pop(), None, None, lost=True)

    # -- helpers ----------------------------------------------------------------------------
    def _close_stale_c(self, stack: list[Open], frame: types.FrameType) -> None:
        """A C call whose frame has moved past it ended without us seeing its return."""
        while stack and stack[-1].cfunc is not None:
            top = stack[-1]
            if top.frame is not frame or frame.f_lasti == top.lasti:
                return
            stack.pop()
            self._finish(top, None, None, result_known=False)

    def _suppressed(self, parent: Open, caller: types.FrameType, callee: int) -> bool:
        if parent.token is None:
            return True
        if parent.cfunc is not None and parent.frame is caller:
            return True  # called back by the C callable itself, not by the user
        key = (id(caller.f_code), site_offset(caller), callee)
        seen = parent.seen
        if seen is None:
            parent.seen = {key: 1}
            return False
        n = seen.get(key)
        if n is None:
            seen[key] = 1
            return False
        seen[key] = n + 1
        return True

    def _finish(
        self, o: Open, value: object, error: Any, lost: bool = False, result_known: bool = True
    ) -> None:
        if o.token is None:
            return
        suppressed = sum(o.seen.values()) - len(o.seen) if o.seen else 0
        self.sink.op_end(
            o.token, value, error, lost=lost, result_known=result_known, suppressed=suppressed
        )

    def fail(self, where: str, exc: BaseException) -> None:
        self.errors += 1
        try:
            self.sink.internal_error(where, exc)
        except Exception:
            pass
        if self.errors >= MAX_ERRORS and not self.gave_up:
            self.gave_up = True
            try:
                sys.stderr.write(
                    f"tracer: {self.errors} internal errors; tracing stopped (details in the log)\n"
                )
                if self.on_give_up is not None:
                    self.on_give_up()
            except Exception:
                pass
