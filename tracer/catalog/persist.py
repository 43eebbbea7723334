"""Catalog entries for pickle and joblib.

pickle's functions are C callables: no frame, so their arguments are read from the caller's
bytecode and their result from the variable it is stored into. joblib's are plain Python.
For C entries, `path_params` name positions ("1" = the second positional argument) or
keywords.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

from tracer.catalog.entries import READ, TRANSFORM, WRITE, Entry

# Whatever is pickled is data here, whatever its type: these parameters carry it.
OBJECTS = {"objects": ("0", "obj", "value")}


def provide_pickle(pickle: types.ModuleType) -> Iterator[tuple[Any, Entry]]:
    yield (
        pickle.dump,
        Entry(
            "pickle.dump",
            "pickle.dump",
            WRITE,
            ("1", "file"),
            c_callable=True,
            file_format="pickle",
            extra=OBJECTS,
        ),
    )
    yield (
        pickle.load,
        Entry(
            "pickle.load",
            "pickle.load",
            READ,
            ("0", "file"),
            c_callable=True,
            file_format="pickle",
            extra=OBJECTS,
        ),
    )
    yield (
        pickle.dumps,
        Entry("pickle.dumps", "pickle.dumps", TRANSFORM, c_callable=True, extra=OBJECTS),
    )
    yield (
        pickle.loads,
        Entry("pickle.loads", "pickle.loads", TRANSFORM, c_callable=True, extra=OBJECTS),
    )


def provide_joblib(joblib: types.ModuleType) -> Iterator[tuple[Any, Entry]]:
    yield (
        joblib.dump,
        Entry(
            "joblib.dump", "joblib.dump", WRITE, ("filename",), file_format="joblib", extra=OBJECTS
        ),
    )
    yield (
        joblib.load,
        Entry(
            "joblib.load", "joblib.load", READ, ("filename",), file_format="joblib", extra=OBJECTS
        ),
    )
