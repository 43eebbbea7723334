"""Catalog entries for numpy's file functions.

`np.save` and friends are C dispatchers in front of a Python implementation: the
implementation's frame is watched, and since the dispatcher adds no frame its caller is the
user's frame. `np.fromfile` and `ndarray.tofile` are C all the way: their arguments come from
the caller's bytecode (see hooks/callargs.py).
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

from tracer.catalog import families as f
from tracer.catalog.entries import READ, WRITE, Entry
from tracer.catalog.families import Meaning

PATH_PARAMS = ("file", "fname", "filename", "fid", "path")

PYTHON_FUNCTIONS = {
    "save": (WRITE, "npy"),
    "savez": (WRITE, "npz"),
    "savez_compressed": (WRITE, "npz"),
    "savetxt": (WRITE, "txt"),
    "load": (READ, None),
    "loadtxt": (READ, "txt"),
    "genfromtxt": (READ, "txt"),
}

_FILE_MEANINGS = {READ: Meaning(f.READ), WRITE: Meaning(f.WRITE)}


def meaning(name: str, qualname: str = "") -> Meaning:
    """What the numpy op recorded as `name` means: every numpy entry reads or writes a file."""
    short = name.removeprefix("np.")
    if short in PYTHON_FUNCTIONS:
        return _FILE_MEANINGS[PYTHON_FUNCTIONS[short][0]]
    if short == "fromfile":
        return _FILE_MEANINGS[READ]
    if short == "tofile":
        return _FILE_MEANINGS[WRITE]
    return Meaning(f.COLUMN_DERIVE)


def provide(np: types.ModuleType) -> Iterator[tuple[Any, Entry]]:
    for name, (role, fmt) in PYTHON_FUNCTIONS.items():
        fn = getattr(np, name, None)
        if fn is not None:
            yield (
                fn,
                Entry(
                    f"np.{name}",
                    f"numpy.{name}",
                    role,
                    PATH_PARAMS,
                    file_format=fmt,
                    meaning=_FILE_MEANINGS[role],
                ),
            )
    fromfile = getattr(np, "fromfile", None)
    if fromfile is not None:
        yield (
            fromfile,
            Entry(
                "np.fromfile",
                "numpy.fromfile",
                READ,
                ("0",),
                c_callable=True,
                file_format="bin",
                meaning=_FILE_MEANINGS[READ],
            ),
        )
    yield (
        (np.ndarray, "tofile"),
        Entry(
            "np.tofile",
            "numpy.ndarray.tofile",
            WRITE,
            ("0",),
            c_callable=True,
            file_format="bin",
            extra={"bound": True},
            meaning=_FILE_MEANINGS[WRITE],
        ),
    )
