"""The recorder's reading of a call's arguments and results, and how it holds user objects.

Arguments come from the callee's frame as it starts (`bound_args`), or for a C callable from
the caller's bytecode (`c_args`, hooks/callargs.py). Nothing of them is held strongly while
the call runs: a user object is held through a weak reference where it can be (`hold`), since
the callee counts the references it sees (pandas' Copy-on-Write checks).
"""

from __future__ import annotations

import os
import types
import weakref
from typing import Any

from tracer.catalog.entries import CONSTRUCT, Entry
from tracer.hooks import callargs, framelocals
from tracer.recorder import describe as d
from tracer.types import CCall

CO_VARARGS, CO_VARKEYWORDS = 0x04, 0x08
MAX_CONTAINER = 64  # items of a list / dict argument scanned for data objects


def bound_args(frame: types.FrameType | None) -> dict[str, Any]:
    """The bound arguments of a frame that has just started: its parameters' values."""
    if frame is None:
        return {}
    code = frame.f_code
    n = code.co_argcount + code.co_kwonlyargcount
    names = list(code.co_varnames[:n])
    star = code.co_varnames[n] if code.co_flags & CO_VARARGS else None
    n += bool(star)
    starstar = code.co_varnames[n] if code.co_flags & CO_VARKEYWORDS else None
    loc = framelocals.read(frame)
    try:
        args = {name: loc[name] for name in names if name in loc}
        if star is not None:
            for i, v in enumerate(loc.get(star) or ()):
                args[f"*{i}"] = v
        if starstar is not None:
            extra = loc.get(starstar)
            if isinstance(extra, dict):
                for k, v in extra.items():
                    args.setdefault(str(k), v)
    finally:
        framelocals.release(frame, loc)  # the callee must see its own reference counts
    return args


def hold(obj: Any) -> Any:
    """What the recorder keeps of a user's object (an argument while its call runs, a file
    handle until it closes): a weak reference, or a strong one for an object that cannot have
    one, such as the list given to `pickle.dump`."""
    if obj is None or not type(obj).__weakrefoffset__:
        return obj
    try:
        return Weak(weakref.ref(obj))
    except TypeError:
        return obj


def unhold(held: Any) -> Any:
    """The held object again (None if it died meanwhile)."""
    return held.ref() if type(held) is Weak else held


class Weak:
    """A held object (a class of its own: a weakref can itself be an argument)."""

    __slots__ = ("ref",)

    def __init__(self, ref: weakref.ref) -> None:
        self.ref = ref


def c_args(entry: Entry, caller: types.FrameType, ccall: CCall) -> tuple[dict[str, Any], bool]:
    """Arguments of a C call: from the caller's bytecode, with arg 0 from the event if given."""
    args: dict[str, Any] = {}
    recovered = callargs.call_arguments(caller, ccall.lasti)
    bound_self = getattr(ccall.func, "__self__", None)
    if bound_self is not None and not isinstance(bound_self, types.ModuleType):
        args["self"] = bound_self
    if recovered is None:
        if ccall.arg0 is not CCall.NO_ARG:
            args["self" if entry.bound else "0"] = ccall.arg0
        return args, True
    positional, keywords = recovered
    if entry.bound and "self" not in args and ccall.arg0 is not CCall.NO_ARG:
        args["self"] = ccall.arg0  # sys.monitoring hands over the receiver of a method call
    elif ccall.arg0 is not CCall.NO_ARG and positional:
        positional = [ccall.arg0, *positional[1:]]
    for i, v in enumerate(positional):
        args[str(i)] = v
    args.update(keywords)
    partial = any(isinstance(v, callargs.Unknown) for v in args.values())
    return args, partial


def subject_of(entry: Entry, args: dict[str, Any]) -> Any:
    if entry.role == CONSTRUCT:
        return None
    obj = args.get("self")
    if obj is None and entry.c_callable:
        obj = args.get("0")
    if entry.target == "self.obj" and obj is not None:
        obj = getattr(obj, "obj", None)
    return obj


def data_in(value: Any) -> list[Any]:
    """Data objects directly inside a list / tuple / dict argument (pd.concat([a, b]))."""
    t = type(value)
    if t is list or t is tuple:
        items = value[:MAX_CONTAINER]
    elif t is dict:
        items = list(value.values())[:MAX_CONTAINER]
    else:
        return []
    return [x for x in items if d.kind_of(x) is not None]


def objectlike(value: Any) -> bool:
    """An arbitrary object worth a node when it is pickled: not a path, file or plain value."""
    if isinstance(value, (str, bytes, int, float, bool, type(None), os.PathLike, types.ModuleType)):
        return False
    if hasattr(value, "read") or hasattr(value, "write"):
        return False
    if isinstance(value, (callargs.OpenCall, callargs.Unknown)):
        return False
    try:
        weakref.ref(value)
    except TypeError:
        return False
    return True


def raw(fingerprint: str | None) -> bytes | None:
    """16 bytes in the log instead of 32 hex characters."""
    return bytes.fromhex(fingerprint) if fingerprint else None


def flush_quietly(handle: Any) -> None:
    """At the end of the run a still-open output is flushed so its hash covers what was written."""
    try:
        handle.flush()
    except Exception:
        pass


def is_default(value: Any, default: Any) -> bool:
    if value is default:
        return True
    t = type(value)
    if t is type(default) and t in (int, float, str, bool, tuple):
        try:
            return bool(value == default)
        except Exception:
            return False
    return False


def exc_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 200 else text[:199] + "…"
