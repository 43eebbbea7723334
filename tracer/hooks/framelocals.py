"""Reading a running frame's variables without leaving a reference behind.

On Python 3.11 and 3.12, `frame.f_locals` of a function frame copies its fast locals into a
dict that the frame keeps: every argument of the callee then has one more reference for the
rest of the call. pandas decides its Copy-on-Write warnings by `sys.getrefcount(self)`
(`df["a"].fillna(0, inplace=True)` warns `ChainedAssignmentError` under python), so a tracer
that leaves that dict filled silences them. `read` returns the mapping to read from; `release`
empties the frame's copy once the caller has taken what it needs. Python 3.13+ gives a
write-through proxy instead of a copy (PEP 667): nothing to release there.

Inside a Python-level profile or trace function (the setprofile backend, another tool's
`sys.settrace`), the interpreter writes the dict back into the frame when the callback
returns, and an emptied dict would unbind every local. So while such a function is installed
the frame's "locals were taken" flag is reset first (`PyFrame_LocalsToFast(frame, 0)` writes
back the unchanged values and clears the flag) and the write-back does nothing. A C profile
function such as ctrace's runs outside any trampoline: `c_hook` names its type, and the
snapshot is just emptied.
"""

from __future__ import annotations

import sys
import types
from typing import Any

CO_OPTIMIZED = 0x01  # a function frame: its f_locals is a snapshot, not a real namespace
SNAPSHOTS = sys.version_info < (3, 13)

_c_hooks: set[type] = set()  # profile objects of C functions: no trampoline around them
_locals_to_fast: Any = None


def read(frame: types.FrameType) -> Any:
    """The frame's variables (a snapshot dict, a proxy, or a real namespace)."""
    return frame.f_locals


def release(frame: types.FrameType, loc: Any) -> None:
    """Empty the snapshot `loc` that `read(frame)` made, if it is one."""
    if not SNAPSHOTS or not frame.f_code.co_flags & CO_OPTIMIZED or type(loc) is not dict:
        return
    profile, trace = sys.getprofile(), sys.gettrace()
    if (profile is not None and type(profile) not in _c_hooks) or trace is not None:
        _reset_flag(frame)
    loc.clear()


def c_hook(t: type) -> None:
    """Profile objects of type `t` call a C function, with no trampoline around it."""
    _c_hooks.add(t)


def _reset_flag(frame: types.FrameType) -> None:
    global _locals_to_fast
    if _locals_to_fast is None:
        import ctypes  # only under a Python-level hook (and only before 3.13)

        fn = ctypes.pythonapi.PyFrame_LocalsToFast
        fn.argtypes = [ctypes.py_object, ctypes.c_int]
        fn.restype = None
        _locals_to_fast = fn
    _locals_to_fast(frame, 0)
