"""End the log properly when the process is terminated, without changing how it dies.

Python's default SIGTERM disposition kills the process at once: no atexit, no `finally`, no
flush of stdout's buffer, and so no trailer in the log (every finished op is there already: the
writer flushes after each outermost op). To record *how* the run ended, `Tracer.start()` calls
`on_start()`, which installs a handler for SIGTERM, and only when:

* SIGTERM has its default disposition (the program, or whoever started it, chose nothing else:
  an inherited SIG_IGN or an embedding application's handler is left alone), and
* this is the main thread (the only one that may set a handler).

The handler reproduces the default exactly: it writes the trailer (status "terminated", exit
code 143, as a shell reports it), restores SIG_DFL and sends SIGTERM to its own process again,
which dies of it, with python's exit status (-15 seen from `subprocess`) and without flushing
stdout, just as without tracer. It also checks, when the signal arrives, that it is still the
installed handler: a program that installed its own handler later, keeping ours as "the previous
one", and calls it expecting python's default (SIG_DFL is no callable, so it would not) gets
nothing from us. `on_stop()` restores SIG_DFL unless the program installed something else.

Differences that remain (documented): `signal.getsignal(SIGTERM)` returns our handler rather
than SIG_DFL while tracing; a main thread stuck in a long C call without checking for signals
dies when that call returns rather than at once; and, as with python's own SIGINT handling, a
signal that lands just before a blocking call starts (between the interpreter's last check and
the system call: `lock.acquire()`, a multiprocessing queue's `get()`) is acted upon only when
that call returns, if ever. That last window is why child processes (tracer.children) get no
handler at all: a Pool's `terminate()` sends SIGTERM exactly when its idle workers enter such a
call, and a worker that does not die hangs the pool. A terminated child's log keeps every
finished op and reads as "unfinished". `TRACER_SIGTERM=default` (read here) keeps python's
default everywhere.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracer.api import Tracer

TERMINATED_STATUS = "terminated"
TERMINATED_EXIT_CODE = 128 + signal.SIGTERM  # what a shell reports: 143

_tracer: Tracer | None = None
_kill_pending = False  # SIGTERM came while the tracer was stopping: die once the trailer is out


def on_start(tracer: Tracer) -> None:
    """Called by `Tracer.start()`: install the SIGTERM handler if the disposition is the default."""
    global _tracer
    if tracer.parent_run_id is not None or os.environ.get("TRACER_SIGTERM") == "default":
        return  # a child process's run, or asked not to: see the module docstring
    try:
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return
        _tracer = tracer
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError, AttributeError):
        _tracer = None  # no signals here (a sub-interpreter, an unusual platform)


def on_stop(tracer: Tracer) -> None:
    """Called by `Tracer.stop()`: put the default back, unless the program changed it."""
    global _tracer
    if _tracer is not tracer:
        return
    _tracer = None
    try:
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except (ValueError, OSError):
        pass  # stopped from another thread: the handler finds no tracer and just re-kills
    if _kill_pending:
        _die()


def on_fork_child(tracer: Tracer) -> None:
    """A forked child inherits the handler: give it python's default back (see above)."""
    global _tracer, _kill_pending
    _tracer, _kill_pending = None, False
    try:
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except (ValueError, OSError):
        pass


def _on_sigterm(signum: int, frame: Any) -> None:
    global _kill_pending
    if signal.getsignal(signal.SIGTERM) is not _on_sigterm:
        return  # called by the program's own handler as its "previous" one: not ours to act
    tracer = _tracer
    if tracer is not None and not tracer.running:
        # Interrupted the tracer's own stop() (a child's trailer at its exit, say): let it
        # finish writing the trailer; on_stop(), at its very end, dies for us.
        _kill_pending = True
        return
    if tracer is not None:
        try:
            tracer.stop(TERMINATED_STATUS, TERMINATED_EXIT_CODE, "terminated by SIGTERM")
        except BaseException:
            pass
    _die()


def _die() -> None:
    """Die exactly as python would have: default disposition, same signal, no flushing."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
