"""Turning values into bytes for xxh3_128, the same bytes in every process.

Contract: equal values give equal bytes across runs, processes and Python versions, and
different values give different bytes. Nothing here may depend on id(), addresses or
Python's randomised str hash:

* numeric, bool, datetime-like and fixed-width string arrays go in as their raw buffer
  (zero copy once C-contiguous; datetime64 is viewed as int64 because numpy does not export
  it through the buffer protocol);
* structured arrays go in field by field (padding bytes may hold garbage);
* object values go in as marshal version 2 of a list. Version 2 writes no back-references
  (those came in version 3), so the bytes depend on the values only, and it has been
  byte-identical from 3.11 to 3.13. Values marshal cannot write, or can write only in a
  process-dependent way (set members come out in str-hash order), are first replaced by
  their stand-ins from `canonical.py`;
* lists of str (the common object column) go in as one NUL-joined UTF-8 string, which
  costs a quarter of marshal.

Every chunk is framed by a tag byte and its length, so that no two different sequences of
chunks can feed the hasher the same stream.
"""

from __future__ import annotations

import marshal
import struct
import sys
from typing import Any

import numpy as np
import xxhash

from tracer.fingerprint.canonical import ATOMIC, canonical_items, qualname
from tracer.fingerprint.sampling import sample_ndarray
from tracer.fingerprint.version import FINGERPRINT_VERSION

_FRAME = struct.Struct("<cQ")


def encode_strings(values: list[Any]) -> bytes | None:
    """The items joined by NUL as UTF-8, or None unless every item is a str without NUL.

    About 4x cheaper than marshal v2, which encodes each str into a new bytes object.
    Unambiguous: a list of k str without NUL has exactly k - 1 separators.
    """
    try:
        joined = "\x00".join(values)
    except TypeError:
        return None
    if joined.count("\x00") != len(values) - 1:
        return None
    return joined.encode("utf-8", "surrogatepass")


def encode_objects(values: list[Any], trusted: bool = False) -> bytes:
    """Deterministic bytes for a list of arbitrary Python values, through marshal v2.

    `trusted` says the caller knows every item is a built-in scalar or a missing-value
    marker (pandas string arrays), which skips the type scan; anything marshal refuses is
    still made canonical.
    """
    if not trusted and not ATOMIC.issuperset(map(type, values)):
        values = canonical_items(values)
    try:
        return marshal.dumps(values, 2)
    except (ValueError, TypeError):
        return marshal.dumps(canonical_items(values), 2)


class Digest:
    """An xxh3_128 hasher fed with framed chunks, starting with a header of scalars."""

    __slots__ = ("_x",)

    def __init__(self, *header: Any) -> None:
        self._x = xxhash.xxh3_128()
        self.add_objects(list(header))

    def add_bytes(self, tag: bytes, data: bytes) -> None:
        self._x.update(_FRAME.pack(tag, len(data)))
        self._x.update(data)

    def add_objects(self, values: list[Any]) -> None:
        """Add a list of any values (scalars, labels, names) through marshal v2."""
        self.add_bytes(b"o", encode_objects(values))

    def add_list(self, values: list[Any], trusted: bool = False) -> None:
        """Add a list of values that are often all str (labels, dtype names, a column)."""
        text = encode_strings(values)
        if text is not None:
            self._x.update(_FRAME.pack(b"s", len(values)))
            self.add_bytes(b"S", text)
        else:
            self.add_bytes(b"O", encode_objects(values, trusted))

    def add_array(self, v: np.ndarray, trusted: bool = False) -> None:
        """Add every element of the already-sampled array `v` (any layout, any dtype)."""
        kind = v.dtype.kind
        if kind == "O":
            self.add_list(v.reshape(-1).tolist(), trusted)
            return
        if v.dtype.names is not None:
            # Field by field: the padding between fields is not data.
            self.add_objects(list(v.dtype.names))
            for name in v.dtype.names:
                self.add_array(v[name])
            return
        if not v.flags.c_contiguous:
            v = np.ascontiguousarray(v)
        if kind in "mM":
            v = v.view(np.int64)  # numpy exports no buffer format for datetime64/timedelta64
        # The raw buffer itself: xxhash reads it in place, no tobytes() copy.
        self._x.update(_FRAME.pack(b"r", v.nbytes))
        self._x.update(v)

    def hexdigest(self) -> str:
        return self._x.hexdigest()


def fingerprint_ndarray(a: np.ndarray) -> str:
    """Fingerprint of a numpy array: type, dtype, shape and the sampled elements.

    Computed on the logical array: a view, a transpose's contiguous copy or a Fortran-order
    copy of equal values fingerprint alike.
    """
    dtype = a.dtype
    fields = str(dtype) if dtype.names is not None else None  # .str is '|V16' for all records
    d = Digest(FINGERPRINT_VERSION, "ndarray", qualname(type(a)), dtype.str, fields, *a.shape)
    sample = sample_ndarray(np.asarray(a))
    ma = sys.modules.get("numpy.ma")
    if ma is not None and isinstance(a, ma.MaskedArray):
        # The mask is data; the values under it are not (they are whatever was there).
        mask = ma.getmask(a)
        if mask is ma.nomask:
            masked = np.zeros(sample.shape, dtype=bool)
        else:
            masked = sample_ndarray(np.asarray(mask))
        if masked.any():
            sample = sample.copy()
            sample[masked] = np.zeros(1, dtype=sample.dtype)[0]
        d.add_array(masked)
    d.add_array(sample)
    return d.hexdigest()
