"""The tracer log format: MAGIC, FORMAT_VERSION and the layout of every record.

A log file is::

    MAGIC (8 bytes) | major (1 byte) | minor (1 byte) | record | record | ...

where each record is one msgpack array whose first item is its kind (a small int). Records are
positional lists, not dicts: a per-op record must stay well under 300 bytes. Readers refuse a
log whose major version they do not know and ignore record kinds (and trailing list items) they
do not know within a major version, so a minor bump may add kinds or append fields.

Never unpickle or eval anything read from a log: records hold only msgpack scalars, lists and
maps of them.

Format history (keep every released version readable; samples live in tests/data/):

    1.0  first release: HEADER, CALLSITE, SCHEMA, NODE, OP, FILE, ERROR, TRAILER, FINGERPRINT,
         THREAD, STRING. Repeated strings (an OP's qualname, a CALLSITE's file) may be given as
         the int id of a STRING record written before them; a fingerprint may be 16 raw bytes
         (xxh3_128) instead of 32 hex characters. Readers accept both forms.
    1.1  an OP's facts may give its dropped row labels, when they are all integers, as
         `dropped_deltas`: the first label, then the difference of each label from the one
         before it (mostly 1-byte ints, where the labels themselves take 3 or 5 bytes each).
         `labels_of(facts)` reads either form; 1.0 readers simply show no labels.
    1.2  MEANING records say what an op means (its family: how its output rows and columns
         relate to its inputs', and the parameters that name columns); an OP gains a trailing
         `meaning` field, the id of one. Readers of older logs infer the meaning from the op
         name, once, through the catalog (`tracer.catalog.meaning_of`).
"""

from __future__ import annotations

from enum import IntEnum
from itertools import accumulate
from typing import Any

MAGIC = b"\x93TRACER\n"
FORMAT_MAJOR = 1
FORMAT_MINOR = 2
FORMAT_VERSION = (FORMAT_MAJOR, FORMAT_MINOR)
PREAMBLE = MAGIC + bytes([FORMAT_MAJOR, FORMAT_MINOR])
PREAMBLE_SIZE = len(PREAMBLE)

# Size limits shared by the writer and the reader (not part of the byte layout). A writer refuses
# a record bigger than MAX_RECORD_SIZE; a reader treats a bigger one, or a list or map claiming
# more than MAX_CONTAINER_LEN items, as corruption, so a damaged length prefix cannot make it
# allocate without bound. Real records are a few hundred bytes.
MAX_RECORD_SIZE = 64 * 1024 * 1024
MAX_CONTAINER_LEN = 1 << 22


class Kind(IntEnum):
    """The first item of every record. Values are part of the format: never renumber."""

    HEADER = 0
    CALLSITE = 1
    SCHEMA = 2
    NODE = 3
    OP = 4
    FILE = 5
    ERROR = 6
    TRAILER = 7
    FINGERPRINT = 8  # a fingerprint computed after its node was written
    THREAD = 9
    STRING = 10  # an interned string: later records refer to it by id
    MEANING = 11  # what an op means (catalog/families.py), interned: OPs refer to it by id


# -- one constructor per record kind ----------------------------------------------------------
# Each writes its record's fields in the order of its parameters; FIELDS (what readers zip
# with) is read from these signatures, so the layout is written once. Repeated strings may be
# given as the int id of a STRING record written before them, a fingerprint as 16 raw bytes.


def header(meta: dict[str, Any]) -> list[Any]:
    """Run metadata: tracer and library versions, argv, cwd, backend, start time..."""
    return [Kind.HEADER, meta]


def callsite(id: int, file: Any, line: int, function: Any, code: str) -> list[Any]:
    return [Kind.CALLSITE, id, file, line, function, code]


def schema(id: int, columns: list[str] | None, dtypes: list[str] | None) -> list[Any]:
    return [Kind.SCHEMA, id, columns, dtypes]


def node(
    id: int,
    kind: str,
    type: Any,
    shape: list[int] | None,
    schema: int | None,
    fingerprint: bytes | str | None,
    version: int,
    origin: int | None,
    object: int,
) -> list[Any]:
    return [Kind.NODE, id, kind, type, shape, schema, fingerprint, version, origin, object]


def op(
    seq: int,
    op: Any,
    qualname: Any,
    parent: int | None,
    inputs: list[int],
    outputs: list[int],
    site: int | None,
    thread: int,
    start_ns: int,
    duration_ns: int,
    params: dict[str, str],
    facts: dict[str, Any],
    meaning: int | None,
) -> list[Any]:
    """One finished call. `meaning`: the id of a MEANING record (1.2; absent before)."""
    return [
        Kind.OP, seq, op, qualname, parent, inputs, outputs, site, thread, start_ns,
        duration_ns, params, facts, meaning,
    ]  # fmt: skip


def file(
    op: int,
    path: str,
    mode: str,
    format: str | None,
    size: int | None,
    hash: str | None,
    node: int | None,
    mtime_ns: int | None,
) -> list[Any]:
    return [Kind.FILE, op, path, mode, format, size, hash, node, mtime_ns]


def error(time_ns: int, where: str, message: str) -> list[Any]:
    return [Kind.ERROR, time_ns, where, message]


def trailer(meta: dict[str, Any]) -> list[Any]:
    """End of run: ended, status, exit_code, error, counts."""
    return [Kind.TRAILER, meta]


def fingerprint(node: int, fingerprint: bytes | str) -> list[Any]:
    return [Kind.FINGERPRINT, node, fingerprint]


def thread(id: int, name: str) -> list[Any]:
    return [Kind.THREAD, id, name]


def string(id: int, text: str) -> list[Any]:
    return [Kind.STRING, id, text]


def meaning(id: int, meaning: dict[str, Any]) -> list[Any]:
    """An op meaning: family and the parameters that name columns (`Meaning.to_record`)."""
    return [Kind.MEANING, id, meaning]


CONSTRUCTORS = {
    Kind.HEADER: header, Kind.CALLSITE: callsite, Kind.SCHEMA: schema, Kind.NODE: node,
    Kind.OP: op, Kind.FILE: file, Kind.ERROR: error, Kind.TRAILER: trailer,
    Kind.FINGERPRINT: fingerprint, Kind.THREAD: thread, Kind.STRING: string,
    Kind.MEANING: meaning,
}  # fmt: skip

# Field names of each positional record, in order, after the kind. Readers zip with these;
# missing trailing fields read as None, extra trailing fields are ignored.
FIELDS: dict[Kind, tuple[str, ...]] = {
    kind: make.__code__.co_varnames[: make.__code__.co_argcount]
    for kind, make in CONSTRUCTORS.items()
}


# -- fields with a compact form -------------------------------------------------------------------


def label_facts(labels: list[Any]) -> dict[str, list[Any]]:
    """The OP facts that hold dropped row `labels`: deltas when they are all integers."""
    if labels and all(type(x) is int for x in labels):
        return {"dropped_deltas": [labels[0], *(b - a for a, b in zip(labels, labels[1:]))]}
    return {"dropped_labels": labels}


def labels_of(facts: dict[str, Any]) -> list[Any] | None:
    """The dropped row labels an OP's facts hold, in either form (None: not recorded)."""
    deltas = facts.get("dropped_deltas")
    if isinstance(deltas, list) and all(type(x) is int for x in deltas):
        return list(accumulate(deltas))
    labels = facts.get("dropped_labels")
    return labels if isinstance(labels, list) else None
