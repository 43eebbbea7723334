"""Choose the hook backend, in one place, and say why.

Order: an explicit request (argument or `TRACER_BACKEND`), then sys.monitoring where the
interpreter has it (3.12+: local events, nearly free outside watched calls), then
sys.setprofile. `tracer debug` prints the choice and the reasons.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from tracer import env

BACKENDS = ("sysmon", "setprofile")


@dataclass
class Choice:
    name: str
    reasons: list[str] = field(default_factory=list)


def choose_backend(requested: str | None = None) -> Choice:
    """Pick the backend name. `requested` wins over `TRACER_BACKEND` (read here)."""
    reasons: list[str] = []
    want = requested or os.environ.get("TRACER_BACKEND") or None
    if want:
        source = "requested" if requested else "TRACER_BACKEND"
        if want not in BACKENDS:
            reasons.append(f"{source}={want!r} is not a backend ({', '.join(BACKENDS)}); ignored")
        elif want == "sysmon" and not env.HAS_SYSMON:
            reasons.append(f"{source}=sysmon, but Python {env.PYVERSION[0]}.{env.PYVERSION[1]} "
                           "has no sys.monitoring")
        else:
            reasons.append(f"{source}={want}")
            return Choice(want, reasons)
    if env.HAS_SYSMON:
        reasons.append("sys.monitoring is available (Python 3.12+): local events on watched code")
        return Choice("sysmon", reasons)
    reasons.append("no sys.monitoring before Python 3.12: using sys.setprofile")
    return Choice("setprofile", reasons)


def make_backend(name: str, catalog: object, dispatcher: object, is_user: object) -> object:
    if name == "sysmon":
        from tracer.hooks.sysmon import SysMonitorHook

        return SysMonitorHook(catalog, dispatcher, is_user)  # type: ignore[arg-type]
    from tracer.hooks.setprofile import ProfileHook

    return ProfileHook(catalog, dispatcher, is_user)  # type: ignore[arg-type]
