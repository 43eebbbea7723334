"""The run store: the logs in `<home>/runs/` and a SQLite index of them, for questions that
span runs (`tracer runs`, `why`, `diff`, `report`, `clear`, `index`).

`index_run(log_path, home)` is what `tracer run` calls at its end; commands open the index
with `open_store(home)`, which first brings it in step with the logs. Nothing here renders:
the store's views are `tracer.renderers.store_views` (terminal), `tracer.renderers.report` and
`tracer.renderers.report_markup` (report).
"""

from __future__ import annotations

from tracer.store.index import FileRow, RunRow, Store, index_run, open_store
from tracer.store.schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "FileRow", "RunRow", "Store", "index_run", "open_store"]
