"""The hooks' optional C extensions: whether each can be used here, and if not, why.

`tracer.hooks._monfilter` (the sys.monitoring backend's quick "nothing to do", Python 3.12+) and
`tracer.hooks._ctracer` (the C profile filter, Python < 3.12) are built when they can be; a
build for another API version of its Python side is stale and not used. The backend choice
(select.py) and the backends themselves ask here.

`TRACER_DISABLE_EXTENSION` (read here and by setup.py), set to anything but "" or "0": the C
extensions are neither built nor used, so the pure-Python fallback can be tested where they are
built.
"""

from __future__ import annotations

import os

from tracer import env

MONFILTER_API = 1  # must equal _monfilter.API_VERSION (a stale build is not used)
CTRACER_API = 4  # must equal _ctracer.API_VERSION


def _extensions_disabled() -> str | None:
    if os.environ.get("TRACER_DISABLE_EXTENSION", "") not in ("", "0"):
        return "TRACER_DISABLE_EXTENSION is set"
    return None


def monfilter_missing() -> str | None:
    """Why the sys.monitoring backend's C filter cannot be used here, or None when it imports."""
    if (why := _extensions_disabled()) is not None:
        return why
    try:
        from tracer.hooks import _monfilter  # type: ignore[attr-defined]
    except ImportError as exc:
        return f"its C filter tracer.hooks._monfilter is not built ({exc})"
    return _stale("its built C filter", getattr(_monfilter, "API_VERSION", None), MONFILTER_API)


def ctrace_missing() -> str | None:
    """Why the C profile filter cannot be used here, or None when it imports."""
    if (why := _extensions_disabled()) is not None:
        return why
    try:
        from tracer.hooks import _ctracer
    except ImportError as exc:
        if env.HAS_SYSMON:
            return (
                f"the C profile filter is not built for Python {env.PYVERSION[0]}."
                f"{env.PYVERSION[1]} (sys.monitoring does better)"
            )
        return f"the C profile filter tracer.hooks._ctracer is not built ({exc})"
    built = getattr(_ctracer, "API_VERSION", None)
    return _stale("the built C profile filter", built, CTRACER_API)


def _stale(what: str, built: object, expected: int) -> str | None:
    """Why an extension built for another API version of its Python side is not used."""
    if built == expected:
        return None
    return f"{what} is stale (API {built}, expected {expected}): reinstall tracer to rebuild it"
