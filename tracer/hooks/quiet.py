"""Library modules execute with the profile function off (the Python 3.11 backends).

A profile function is called for every Python call and return in the program, whatever it
does with them: importing pandas and scikit-learn makes millions of calls, and on 3.11 that
alone cost the housing demo half a second. Nothing in a library's module body is recorded
(its calls are not made from user code), so the import watcher (tracer/catalog/watcher.py)
runs each library module's body with this thread's profile function taken off, and puts it
back after. A user module imported from inside a library's import (a plugin, a pickle's
class) runs with it back on.

Only the body of the module runs in the quiet: the import that asks for it, and any watched
call it was made from (pandas imports some modules lazily, inside `to_csv` say), are outside.
sys.monitoring (3.12+) needs none of this: it meets each library function once and never
again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tracer.hooks.usercode import UserCode


class QuietImports:
    def __init__(
        self, pause: Callable[[], Any], resume: Callable[[Any], None], is_user: UserCode
    ) -> None:
        """`pause()` takes this thread's profile function off and returns what `resume()`
        needs to put it back (None: it was not ours, nothing to do)."""
        self.pause = pause
        self.resume = resume
        self.is_user = is_user
        self._tls = threading.local()  # .token: what the current quiet took off (None: none)

    def around(self, spec: Any) -> Callable[[], Any] | None:
        """How to execute the module of `spec`: in the quiet, back out of it, or (None) as is."""
        origin = spec.origin
        if not isinstance(origin, str):
            return None  # a namespace package: no body
        user = spec.has_location and self.is_user.of_file(origin)
        quiet = getattr(self._tls, "token", None) is not None
        if user and quiet:
            return self._heard
        if not user and not quiet:
            return self._quiet
        return None

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        token = self.pause()
        self._tls.token = token
        try:
            yield
        finally:
            self._tls.token = None
            self.resume(token)

    @contextmanager
    def _heard(self) -> Iterator[None]:
        token = self._tls.token
        self._tls.token = None
        self.resume(token)
        try:
            yield
        finally:
            self._tls.token = self.pause()
