"""Short, deterministic, side-effect-free reprs of call parameters.

Never calls a user object's `__repr__` (it may be slow, have side effects, or print data), and
never shows a memory address (logs of two identical runs must be identical). Containers are
shown to a few items, strings truncated. Data objects are inputs, not parameters: they are
shown only by kind and shape.

Privacy: a parameter can be a value taken from the data (`df[df.name == first_name]`). Given
`source`, the call site's line of code, a string or number is shown only when it is written
there (a literal the user typed: `df.query("a > 3")`, `fillna(0)`); any other is shown by
its type alone, `<str>`. The log then holds no value that is not already in the code.
"""

from __future__ import annotations

import types
from typing import Any

LIMIT = 80
ITEMS = 8

_SCALARS = (bool, int, float, complex, type(None))


def safe_repr(value: Any, limit: int = LIMIT, source: str | None = None) -> str:
    """`source`: the line of code of the call; None shows every literal value."""
    text = _repr(value, 0, source)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _visible(v: Any, source: str | None) -> bool:
    if source is None or v is None or type(v) is bool:
        return True
    return str(v) in source


def _repr(v: Any, depth: int, source: str | None = None) -> str:
    t = type(v)
    if t in _SCALARS or t is str:
        return repr(v) if _visible(v, source) else f"<{t.__name__}>"
    if t is bytes or t is bytearray:
        return f"<{t.__name__} len={len(v)}>"
    if t in (list, tuple, set, frozenset):
        if depth > 2:
            return f"<{t.__name__} len={len(v)}>"
        items = list(v)[:ITEMS] if t in (list, tuple) else sorted(map(str, v))[:ITEMS]
        inner = ", ".join(_repr(x, depth + 1, source) for x in items)
        more = ", …" if len(v) > ITEMS else ""
        if t is list:
            return f"[{inner}{more}]"
        if t is tuple:
            return f"({inner}{more}{',' if len(v) == 1 else ''})"
        return f"{{{inner}{more}}}"
    if t is dict:
        if depth > 2:
            return f"<dict len={len(v)}>"
        pairs: list[tuple[Any, Any]] = list(v.items())[:ITEMS]
        inner = ", ".join(
            f"{_repr(k, depth + 1, source)}: {_repr(x, depth + 1, source)}" for k, x in pairs
        )
        return f"{{{inner}{', …' if len(v) > ITEMS else ''}}}"
    if isinstance(v, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return f"<function {getattr(v, '__qualname__', getattr(v, '__name__', '?'))}>"
    if isinstance(v, type):
        return f"<class {v.__qualname__}>"
    if isinstance(v, types.ModuleType):
        return f"<module {v.__name__}>"
    mod = getattr(t, "__module__", "") or ""
    if mod.startswith("numpy") and hasattr(v, "item") and getattr(v, "ndim", None) == 0:
        try:
            return _repr(v.item(), depth, source)
        except Exception:
            pass
    if mod == "pathlib" or isinstance(v, _path_types()):
        return _repr(str(v), depth, source)
    shape = getattr(v, "shape", None)
    if isinstance(shape, tuple):
        return f"<{t.__name__} {'x'.join(map(str, shape))}>"
    name = getattr(v, "name", None)
    if isinstance(name, str) and hasattr(v, "mode"):  # an open file
        return f"<file {name!r}>"
    return f"<{t.__qualname__}>"


def _path_types() -> tuple[type, ...]:
    import pathlib

    return (pathlib.PurePath,)
