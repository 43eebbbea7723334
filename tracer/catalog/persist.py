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

from tracer.catalog import families as f
from tracer.catalog.entries import READ, TRANSFORM, WRITE, Entry
from tracer.catalog.families import Meaning

# Whatever is pickled is data here, whatever its type: these parameters carry it.
OBJECTS = {"objects": ("0", "obj", "value")}
MEANINGS = {
    "dump": Meaning(f.WRITE),
    "load": Meaning(f.READ),
    "dumps": Meaning(f.COLUMN_DERIVE),  # an object to bytes (not data tracer follows)
    "loads": Meaning(f.COLUMN_DERIVE),
}


def meaning(name: str, qualname: str = "") -> Meaning:
    """What `pickle.dump`, `joblib.load`... mean."""
    return MEANINGS.get(name.rpartition(".")[2], MEANINGS["loads"])


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
            meaning=MEANINGS["dump"],
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
            meaning=MEANINGS["load"],
        ),
    )
    yield (
        pickle.dumps,
        Entry(
            "pickle.dumps",
            "pickle.dumps",
            TRANSFORM,
            c_callable=True,
            extra=OBJECTS,
            meaning=MEANINGS["dumps"],
        ),
    )
    yield (
        pickle.loads,
        Entry(
            "pickle.loads",
            "pickle.loads",
            TRANSFORM,
            c_callable=True,
            extra=OBJECTS,
            meaning=MEANINGS["loads"],
        ),
    )


def provide_joblib(joblib: types.ModuleType) -> Iterator[tuple[Any, Entry]]:
    yield (
        joblib.dump,
        Entry(
            "joblib.dump",
            "joblib.dump",
            WRITE,
            ("filename",),
            file_format="joblib",
            extra=OBJECTS,
            meaning=MEANINGS["dump"],
        ),
    )
    yield (
        joblib.load,
        Entry(
            "joblib.load",
            "joblib.load",
            READ,
            ("filename",),
            file_format="joblib",
            extra=OBJECTS,
            meaning=MEANINGS["load"],
        ),
    )
