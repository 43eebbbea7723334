"""tracer: automatic data lineage for pandas / numpy / scikit-learn pipelines.

Public API only: `trace()`, `Tracer`, `load()` and `__version__`.
"""

from __future__ import annotations

from tracer._version import __version__ as __version__
