"""Facts about this interpreter, computed once at import.

Only the standard library is imported here: the hot path reads these constants.
"""

from __future__ import annotations

import os
import sys
import sysconfig

PYVERSION = sys.version_info[:2]

# sys.monitoring (PEP 669) arrived in 3.12; it is what makes local, per-code events possible.
HAS_SYSMON = hasattr(sys, "monitoring")

TRACER_DIR = os.path.dirname(os.path.abspath(__file__))


def _library_prefixes() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    candidates = {
        paths.get("stdlib"),
        paths.get("platstdlib"),
        paths.get("purelib"),
        paths.get("platlib"),
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
    }
    for p in sys.path:
        if p and os.path.basename(p) in ("site-packages", "dist-packages"):
            candidates.add(p)
    prefixes = set()
    for prefix in candidates:
        if prefix:
            prefixes.add(os.path.join(os.path.realpath(prefix), ""))
            prefixes.add(os.path.join(os.path.abspath(prefix), ""))
    return tuple(sorted(prefixes))


LIBRARY_PREFIXES = _library_prefixes()
