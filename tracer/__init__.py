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
    from tracer.lineage.query import Query


def load(log: Any) -> Lineage:
    """Read a log into the lineage model (`tracer.lineage.graph.Lineage`)."""
    from tracer.lineage.load import load as _load

    return _load(log)


def query(source: Any = None) -> Query:
    """Ask a run's lineage questions (`tracer.lineage.query.Query`): `source` is a log path, a
    Lineage, a Tracer (live), or nothing for the notebook session of the %lineage magics."""
    from tracer.lineage.query import query as _query

    return _query(source)


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext tracer`: the %lineage_* magics (IPython is imported only now)."""
    from tracer.jupyter import load_ipython_extension as _load_extension

    _load_extension(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from tracer.jupyter import unload_ipython_extension as _unload_extension

    _unload_extension(ipython)


__all__ = ["Tracer", "__version__", "load", "load_ipython_extension", "query", "trace"]
