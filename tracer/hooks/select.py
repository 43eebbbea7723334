"""Choose the hook backend, in one place, and say why.

Order: an explicit request (argument or `TRACER_BACKEND`), then sys.monitoring where the
interpreter has it (3.12+: local events, nearly free outside watched calls), then the C profile
filter (`ctrace`, the optional extension `tracer.hooks._ctracer`, built for Python < 3.12 only),
then the pure-Python sys.setprofile function. `tracer debug` prints the choice and the reasons.

`TRACER_BACKEND` (read here): `sysmon`, `ctrace` or `setprofile` forces that backend when this
interpreter can run it; otherwise the reason is given and the automatic order applies.
Whether each C extension can be used here, and why not, is asked of extensions.py
(`TRACER_DISABLE_EXTENSION` turns them off).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from tracer import env
from tracer.exceptions import BackendUnavailable
from tracer.hooks.extensions import ctrace_missing, monfilter_missing

BACKENDS = ("sysmon", "ctrace", "setprofile")


@dataclass
class Choice:
    name: str
    reasons: list[str] = field(default_factory=list)


def choose_backend(requested: str | None = None) -> Choice:
    """Pick the backend name. `requested` wins over `TRACER_BACKEND` (read here).

    A backend asked for by name (`--backend`, `trace(backend=...)`) that this interpreter
    cannot run is refused with the reason (BackendUnavailable): tracing with another one
    silently would make a comparison of backends compare nothing. `TRACER_BACKEND`, set for
    a whole environment (child processes, other Pythons), falls back with the reason noted.
    """
    reasons: list[str] = []
    want = requested or os.environ.get("TRACER_BACKEND") or None
    if want:
        source = "requested" if requested else "TRACER_BACKEND"
        why = unavailable(want)
        if why is None:
            reasons.append(f"{source}={want}")
            return Choice(want, reasons)
        if requested:
            raise BackendUnavailable(f"backend {want!r} cannot run here: {why}")
        reasons.append(f"{source}={want}, but {why}; ignored")
    if env.HAS_SYSMON:
        reasons.append("sys.monitoring is available (Python 3.12+): local events on watched code")
        why = monfilter_missing()
        reasons.append(
            "callbacks answer 'nothing to do' in C (tracer.hooks._monfilter)"
            if why is None
            else f"callbacks in Python only: {why}"
        )
        return Choice("sysmon", reasons)
    why = ctrace_missing()
    if why is None:
        reasons.append("no sys.monitoring before Python 3.12: sys.setprofile with the C filter")
        return Choice("ctrace", reasons)
    reasons.append(
        f"no sys.monitoring before Python 3.12, and {why}: "
        "using sys.setprofile with a Python function"
    )
    return Choice("setprofile", reasons)


def unavailable(name: str) -> str | None:
    """Why backend `name` cannot run on this interpreter, or None when it can."""
    if name not in BACKENDS:
        return f"it is not a backend ({', '.join(BACKENDS)})"
    if name == "sysmon" and not env.HAS_SYSMON:
        return f"Python {env.PYVERSION[0]}.{env.PYVERSION[1]} has no sys.monitoring (3.12+)"
    if name == "ctrace":
        return ctrace_missing()
    return None


def make_backend(name: str, catalog: object, dispatcher: object, is_user: object) -> object:
    if name == "sysmon":
        from tracer.hooks.sysmon import SysMonitorHook

        return SysMonitorHook(catalog, dispatcher, is_user)  # type: ignore[arg-type]
    if name == "ctrace":
        from tracer.hooks.ctrace import CProfileHook

        return CProfileHook(catalog, dispatcher, is_user)  # type: ignore[arg-type]
    from tracer.hooks.setprofile import ProfileHook

    return ProfileHook(catalog, dispatcher, is_user)  # type: ignore[arg-type]
