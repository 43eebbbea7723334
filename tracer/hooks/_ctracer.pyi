"""Type stubs for the optional C profile filter (tracer/hooks/_ctracer.c)."""

import types
from collections.abc import Callable
from typing import Any

class Profiler:
    """One thread's profile object: what `sys.getprofile()` returns on a profiled thread."""

    @property
    def state(self) -> Any: ...
    def __call__(self, frame: types.FrameType, event: str, arg: object) -> None: ...

class Hook:
    def __init__(
        self,
        code_entries: dict[int, Any],
        c_entries: dict[int, Any],
        c_method_names: set[str],
        dispatcher: Any,
        entry_for_c: Callable[[object], Any],
        is_user: Callable[[types.CodeType], bool],
        ccall_type: type,
        open_type: type,
        pending_type: type,
        return_ops: bytes,
    ) -> None: ...
    def install(self, state: Any) -> Profiler | None: ...
    def stop(self) -> int: ...
    def pause(self) -> Profiler | None: ...
    def resume(self, profiler: Profiler | None) -> None: ...
    def stats(self) -> dict[str, int]: ...
    def owns(self, obj: object) -> bool: ...

API_VERSION: int

def install_noop() -> None:
    """A C profile function that does nothing, on the calling thread (benchmarks only)."""
