"""Errors that reach the user carry a stable slug and, for the CLI, an exit code.

Nothing in the hot path raises these into user code: they are for the CLI, the log reader and
the public API, where a clear one-line message is the whole user interface.
"""

from __future__ import annotations


class TracerError(Exception):
    """Base of tracer's own errors. `slug` is stable; `exit_code` is what the CLI returns."""

    slug = "tracer-error"
    exit_code = 2


class CommandError(TracerError):
    """Bad command-line input (a missing script, an unknown option value)."""

    slug = "command"


class NoSource(CommandError):
    """The script or module to run does not exist."""

    slug = "no-source"


class LogFormatError(TracerError):
    """A file is not a tracer log, is corrupt, or has a format version we cannot read."""

    slug = "log-format"


class BackendUnavailable(CommandError):
    """A hook backend was asked for by name and this interpreter cannot run it."""

    slug = "backend-unavailable"


class LogUnwritable(CommandError):
    """The log (or the store it goes into) cannot be created where it was asked for."""

    slug = "log-unwritable"
