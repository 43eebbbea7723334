"""Deterministic stand-ins for arbitrary Python values, for marshal version 2 to write.

`canonical(x)` returns x itself for the scalars marshal writes exactly (str, int, float,
bool, None, bytes, complex) and otherwise a structure of such scalars, lists and tuples
that stands for x:

* lists, tuples and dicts are rebuilt from canonical items, in order;
* set and frozenset members are sorted by their marshal bytes (iteration order follows the
  randomised str hash, so marshal's own set output differs between processes);
* numpy scalars become (dtype, raw bytes); numpy arrays and pandas objects their
  fingerprint;
* subclasses of the built-in types (IntEnum, namedtuple, str subclasses...) become their
  type name and their built-in value, read through the built-in's own methods;
* other objects whose repr comes from the standard library, numpy or pandas (datetime,
  Decimal, Timestamp, pd.NA, UUID, Path...) become their type name and repr, with any
  " at 0x..." address removed;
* any other object becomes its type name and its instance ``__dict__`` (if it has one). Its
  own ``__repr__`` is never called: user code may be slow, have side effects, or print.

Stand-ins start with Ellipsis, which never comes through from the data (a real Ellipsis is
itself replaced), so they cannot collide with real values. Cycles and very deep or very
large structures are cut at fixed, deterministic points. Nothing depends on id(), an
address or the str hash (ids only detect cycles and never reach the output).
"""

from __future__ import annotations

import functools
import marshal
import re
import sys
import threading
from collections.abc import Callable
from typing import Any

ATOMIC = frozenset({str, int, float, bool, type(None), bytes, complex})

_MARK = ...
_MAX_DEPTH = 32
_OBJECT_DEPTH = 4  # an object's __dict__ costs this much depth: at most 8 nested objects
# Containers and objects visited per walk (one sampled column): shared sub-structures could
# otherwise explode the walk. Past it, values are cut (deterministically) to their type.
_MAX_NODES = 200_000
_MAX_REPR = 10_000
_MAX_NESTED = 2  # arrays / frames inside cells inside arrays / frames ...
_nesting = threading.local()

# Modules whose __repr__ implementations are pure functions of the value.
_TRUSTED_REPR = frozenset(
    {"builtins", "datetime", "decimal", "fractions", "uuid", "ipaddress", "enum", "zoneinfo"}
)
_TRUSTED_REPR_PREFIXES = ("pathlib", "pandas", "numpy")

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")

# Built-in bases of subclasses, and how to read the built-in value without user code.
_BASES: tuple[tuple[type, Any], ...] = (
    (str, str.__str__),
    (int, int.__index__),
    (float, float.__float__),
    (complex, complex.__complex__),
    (bytes, bytes.__bytes__),
    (tuple, lambda x: tuple(tuple.__iter__(x))),
    (list, lambda x: list(list.__iter__(x))),
    (dict, lambda x: list(dict.items(x))),
    (frozenset, lambda x: set(frozenset.__iter__(x))),
    (set, lambda x: set(set.__iter__(x))),
)


def qualname(t: type) -> str:
    return f"{getattr(t, '__module__', '?')}.{getattr(t, '__qualname__', '?')}"


def canonical(x: Any) -> Any:
    """Return a value marshal v2 writes deterministically and that stands for `x`."""
    if type(x) in ATOMIC:
        return x
    return _Walk().walk(x, 0)


def canonical_items(values: list[Any]) -> list[Any]:
    """`canonical` of every item, sharing one budget of _MAX_NODES (one sampled column)."""
    walk = _Walk().walk
    return [x if type(x) in ATOMIC else walk(x, 0) for x in values]


class _Walk:
    __slots__ = ("nodes", "path")

    def __init__(self) -> None:
        self.nodes = 0
        self.path: set[int] = set()

    def walk(self, x: Any, depth: int) -> Any:
        t = type(x)
        if t in ATOMIC:
            return x
        self.nodes += 1
        if depth >= _MAX_DEPTH or self.nodes > _MAX_NODES:
            return (_MARK, "cut", qualname(t))
        key = id(x)
        if key in self.path:
            return (_MARK, "cycle", qualname(t))
        self.path.add(key)
        try:
            return self._walk(x, t, depth + 1)
        finally:
            self.path.discard(key)

    def _walk(self, x: Any, t: type, depth: int) -> Any:
        walk = self.walk
        if t is list:
            return [walk(i, depth) for i in x]
        if t is tuple:
            return tuple(walk(i, depth) for i in x)
        if t is dict:
            return (_MARK, "dict", [(walk(k, depth), walk(v, depth)) for k, v in x.items()])
        if t is set or t is frozenset:
            members = sorted(marshal.dumps(walk(i, depth), 2) for i in x)
            return (_MARK, t.__name__, members)
        np = sys.modules.get("numpy")
        if np is not None:
            if issubclass(t, np.generic):
                v = np.asarray(x)
                if v.dtype.names is None and not v.dtype.hasobject:
                    return (_MARK, "np", v.dtype.str, v.tobytes())
                return (_MARK, "np", str(v.dtype), walk(x.item(), depth))
            if issubclass(t, np.ndarray):
                return (_MARK, "fp", _fingerprint(x))
        pd = sys.modules.get("pandas")
        if pd is not None and issubclass(t, (pd.DataFrame, pd.Series, pd.Index)):
            return (_MARK, "fp", _fingerprint(x))
        for base, read in _BASES:
            if issubclass(t, base):
                return (_MARK, "sub", qualname(t), walk(read(x), depth), self._state(x, depth))
        if _trusted_repr(t):
            return (_MARK, "repr", qualname(t), _stable_repr(x))
        return (_MARK, "obj", qualname(t), self._state(x, depth))

    def _state(self, x: Any, depth: int) -> Any:
        try:
            state = object.__getattribute__(x, "__dict__")
        except Exception:  # no __dict__ (slots, C types)
            return None
        if type(state) is not dict or not state:
            return None
        return self.walk(state, depth + _OBJECT_DEPTH)


_nested: list[Callable[[Any], str | None]] = []  # the content fingerprint (tracer.fingerprint)


def fingerprint_nested_with(fingerprint: Callable[[Any], str | None]) -> None:
    """Fingerprint the arrays and pandas objects held in cells with `fingerprint` (the
    package's own, which dispatches by type and calls back here for their cells)."""
    _nested[:] = [fingerprint]


def _fingerprint(x: Any) -> str | None:
    """The fingerprint of an array or pandas object held in a cell, nested at most twice.

    The limit is a property of the data, not of the stack: an array that holds itself
    would otherwise recurse until a RecursionError whose depth depends on the caller.
    """
    depth = getattr(_nesting, "depth", 0)
    if depth >= _MAX_NESTED or not _nested:
        return None
    _nesting.depth = depth + 1
    try:
        return _nested[0](x)
    finally:
        _nesting.depth = depth


@functools.lru_cache(maxsize=1024)
def _trusted_repr(t: type) -> bool:
    """True if the __repr__ `t` uses is defined by a trusted module and is not object's.

    object.__repr__ is trusted but says nothing but the type and the address; such objects
    are described by their __dict__ instead.
    """
    for klass in t.__mro__:
        if "__repr__" in klass.__dict__:
            if klass is object:
                return False
            module = getattr(klass, "__module__", None) or ""
            return module in _TRUSTED_REPR or module.startswith(_TRUSTED_REPR_PREFIXES)
    return False


def _stable_repr(x: object) -> str:
    try:
        text = repr(x)
    except Exception:
        return "<unrepresentable>"
    if type(text) is not str:
        return "<unrepresentable>"
    if len(text) > _MAX_REPR:
        # Bounded, so one pathological cell cannot dominate the cost; the length and both
        # ends still tell most different values apart.
        half = _MAX_REPR // 2
        text = f"{text[:half]}...{len(text)}...{text[-half:]}"
    return _ADDRESS.sub("", text)
