"""Protocols between the layers: what a hook backend needs from the recorder, and back."""

from __future__ import annotations

import types
from typing import Any, Protocol


class CCall:
    """What a backend knows about a C call it saw: the callable, where, and maybe arg 0."""

    __slots__ = ("func", "lasti", "arg0")
    NO_ARG = object()

    def __init__(self, func: object, lasti: int, arg0: object = NO_ARG) -> None:
        self.func = func
        self.lasti = lasti
        self.arg0 = arg0


class Sink(Protocol):
    """Receives the calls the recording rule keeps. Implemented by `tracer.recorder.Recorder`."""

    def op_start(
        self,
        entry: Any,
        frame: types.FrameType | None,
        caller: types.FrameType,
        within: object | None,
        ccall: CCall | None,
    ) -> object | None:
        """A recorded call starts, inside the one whose token is `within` (None: at the top).
        Returns a token for op_end, or None to not record it."""

    def op_end(
        self,
        token: object,
        value: object,
        error: BaseException | bool | None,
        *,
        lost: bool = False,
        result_known: bool = True,
        suppressed: int = 0,
    ) -> None:
        """The call returned `value`, or raised `error` (True when the exception is unknown)."""

    def internal_error(self, where: str, exc: BaseException) -> None:
        """Something in tracer failed while handling an event; never raise from here."""


class Backend(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...
