"""Fingerprints: short, stable names for the content of a data object or of an op's result.

`fingerprint(obj)` hashes (xxh3_128) the schema of a pandas DataFrame, Series or Index or
a numpy array (kind, shape, names, dtypes, index kind) and its values on a deterministic
sample of at most 1,024 evenly spaced rows (`sampling.py`), so its cost is flat in the row
count. It is the same for equal data in every run and process, and changes when a sampled
value, the shape, a name, a dtype, the column order or the index changes; a change in a row
that is not sampled is not seen. It returns None for any other object and never raises.

`derived_fingerprint(op, params, inputs)` names an op's result without reading it: a hash
of (FINGERPRINT_VERSION, op, sorted params, input fingerprints in order), Merkle style, so
a change anywhere upstream changes every fingerprint downstream (DESIGN.md §4).

Importing this package imports neither numpy nor pandas: an object can only be theirs if
its module is already loaded, so `fingerprint` looks there first and imports the hashing
code on first use.
"""

from __future__ import annotations

import marshal
import sys
from collections.abc import Mapping, Sequence

import xxhash

from tracer.fingerprint import canonical
from tracer.fingerprint.version import FINGERPRINT_VERSION

__all__ = ["FINGERPRINT_VERSION", "derived_fingerprint", "fingerprint"]


def fingerprint(obj: object) -> str | None:
    """Return the content fingerprint (32 lowercase hex chars) of `obj`, or None.

    None for objects that are not a DataFrame, Series, Index (MultiIndex included) or
    ndarray, and when anything fails inside: a fingerprint is never worth an exception in
    the traced program.
    """
    try:
        pd = sys.modules.get("pandas")
        if pd is not None:
            if isinstance(obj, pd.DataFrame):
                from tracer.fingerprint.frames import fingerprint_frame

                return fingerprint_frame(obj)
            if isinstance(obj, pd.Series):
                from tracer.fingerprint.frames import fingerprint_series

                return fingerprint_series(obj)
            if isinstance(obj, pd.Index):
                from tracer.fingerprint.frames import fingerprint_index

                return fingerprint_index(obj)
        np = sys.modules.get("numpy")
        if np is not None and isinstance(obj, np.ndarray):
            from tracer.fingerprint.hashing import fingerprint_ndarray

            return fingerprint_ndarray(obj)
    except Exception:
        return None
    return None


# An array or frame held in an object's cell is fingerprinted as a whole, by `fingerprint`.
canonical.fingerprint_nested_with(fingerprint)


def derived_fingerprint(op: str, params: Mapping[str, str], inputs: Sequence[str | None]) -> str:
    """Return the fingerprint (32 hex chars) of the result of `op` on `inputs`.

    `params` order does not matter; `inputs` order does. An input whose fingerprint is
    unknown is None. Raises TypeError if op, a key or a value is not a str, or an input is
    neither str nor None.
    """
    items = sorted(params.items())
    ins = list(inputs)
    # (plain loops: this runs for every op, and generator expressions cost more than the hash)
    valid = type(op) is str
    for k, v in items:
        if type(k) is not str or type(v) is not str:
            valid = False
    for i in ins:
        if i is not None and type(i) is not str:
            valid = False
    if not valid:
        raise TypeError("derived_fingerprint takes str op, str params and str|None inputs")
    payload = [FINGERPRINT_VERSION, "derived", op, items, ins]
    return xxhash.xxh3_128_hexdigest(marshal.dumps(payload, 2))
