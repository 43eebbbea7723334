"""tracer: automatic data lineage for pandas / numpy / scikit-learn pipelines.

Public API only: `trace()`, `Tracer`, `load()` and `__version__`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracer._version import __version__ as __version__
from tracer.api import Tracer as Tracer
from tracer.api import trace as trace

if TYPE_CHECKING:
    from tracer.lineage.graph import Lineage


def load(log: Any) -> Lineage:
    """Read a log into the lineage model (`tracer.lineage.graph.Lineage`)."""
    from tracer.lineage.build import load as _load

    return _load(log)


__all__ = ["Tracer", "__version__", "load", "trace"]
