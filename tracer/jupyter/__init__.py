"""IPython / Jupyter integration: `%load_ext tracer` (or `%load_ext tracer.jupyter`) adds the
`%lineage_start`, `%lineage_stop`, `%lineage_summary`, `%lineage_show` and `%%lineage` magics
(see `tracer.jupyter.magics`).

IPython is imported only when the extension is loaded: `import tracer`, `import tracer.jupyter`
and `tracer.jupyter.session` never import it.
"""

from __future__ import annotations

from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    """Called by `%load_ext`: register the lineage magics on this shell."""
    from tracer.jupyter.magics import register

    register(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Called by `%unload_ext`: stop a running session so its log is complete."""
    from tracer.jupyter.magics import unregister

    unregister(ipython)


__all__ = ["load_ipython_extension", "unload_ipython_extension"]
