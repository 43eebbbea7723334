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
"""

from __future__ import annotations

from enum import IntEnum
from itertools import accumulate
from typing import Any

MAGIC = b"\x93TRACER\n"
FORMAT_MAJOR = 1
FORMAT_MINOR = 1
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

    HEADER = 0  # [0, {run metadata}]
    CALLSITE = 1  # [1, site_id, file, line, function, source_line]
    SCHEMA = 2  # [2, schema_id, [column names], [dtype strings]]
    NODE = 3  # [3, node_id, kind, type, shape|None, schema_id|None, fingerprint|None,
    #            version, origin_seq|None, object_no]
    OP = 4  # [4, seq, op, qualname, parent_seq|None, [input node ids], [output node ids],
    #          site_id|None, thread_no, start_ns, duration_ns, {param: repr}, {facts}]
    FILE = 5  # [5, op_seq, path, mode, format, size|None, hash|None, node_id|None, mtime_ns|None]
    ERROR = 6  # [6, time_ns, where, message]
    TRAILER = 7  # [7, {end of run: ended, status, exit_code, error, counts}]
    FINGERPRINT = 8  # [8, node_id, fingerprint]  (computed after the node was written)
    THREAD = 9  # [9, thread_no, thread name]
    STRING = 10  # [10, string_id, text]  (interned: referred to by id in later records)


# Field names of each positional record, in order, after the kind. Readers zip with these;
# missing trailing fields read as None, extra trailing fields are ignored.
FIELDS: dict[Kind, tuple[str, ...]] = {
    Kind.HEADER: ("meta",),
    Kind.CALLSITE: ("id", "file", "line", "function", "code"),
    Kind.SCHEMA: ("id", "columns", "dtypes"),
    Kind.NODE: (
        "id",
        "kind",
        "type",
        "shape",
        "schema",
        "fingerprint",
        "version",
        "origin",
        "object",
    ),
    Kind.OP: (
        "seq",
        "op",
        "qualname",
        "parent",
        "inputs",
        "outputs",
        "site",
        "thread",
        "start_ns",
        "duration_ns",
        "params",
        "facts",
    ),
    Kind.FILE: ("op", "path", "mode", "format", "size", "hash", "node", "mtime_ns"),
    Kind.ERROR: ("time_ns", "where", "message"),
    Kind.TRAILER: ("meta",),
    Kind.FINGERPRINT: ("node", "fingerprint"),
    Kind.THREAD: ("id", "name"),
    Kind.STRING: ("id", "text"),
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
