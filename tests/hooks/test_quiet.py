"""Library modules execute in the quiet; a user module imported from one is heard again."""

from __future__ import annotations

import json
import threading
import types

from tracer.hooks.quiet import QuietImports
from tracer.hooks.usercode import UserCode


class FakeProfile:
    """Stands for a backend: the thread's profile function is on or off."""

    def __init__(self) -> None:
        self.on = True
        self.log: list[str] = []

    def pause(self) -> object:
        if not self.on:
            return None
        self.on = False
        self.log.append("pause")
        return "profiler"

    def resume(self, token: object) -> None:
        if token is not None and not self.on:
            self.on = True
            self.log.append("resume")


def spec(origin: str | None) -> types.SimpleNamespace:
    return types.SimpleNamespace(origin=origin, has_location=origin is not None)


LIBRARY, USER = json.__file__, __file__


def test_a_library_body_is_quiet_and_a_user_module_inside_it_is_heard():
    p = FakeProfile()
    q = QuietImports(p.pause, p.resume, UserCode())
    assert q.around(spec(USER)) is None  # user code, heard: nothing to change
    with q.around(spec(LIBRARY))():
        assert not p.on
        assert q.around(spec(LIBRARY)) is None  # already quiet
        assert q.around(spec(None)) is None  # a namespace package
        with q.around(spec(USER))():
            assert p.on  # the user's module body is profiled
            with q.around(spec(LIBRARY))():
                assert not p.on
            assert p.on
        assert not p.on
    assert p.on
    assert p.log == ["pause", "resume", "pause", "resume", "pause", "resume"]


def test_a_failing_import_still_puts_the_profile_function_back():
    p = FakeProfile()
    q = QuietImports(p.pause, p.resume, UserCode())
    try:
        with q.around(spec(LIBRARY))():
            raise ImportError("no backend")
    except ImportError:
        pass
    assert p.on and q.around(spec(LIBRARY)) is not None


def test_the_quiet_is_per_thread():
    p = FakeProfile()
    q = QuietImports(p.pause, p.resume, UserCode())
    seen = []
    with q.around(spec(LIBRARY))():
        t = threading.Thread(target=lambda: seen.append(q.around(spec(LIBRARY)) is not None))
        t.start()
        t.join()
    assert seen == [True]  # another thread is not in this thread's quiet
