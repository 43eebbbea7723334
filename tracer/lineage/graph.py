"""The lineage model: plain dataclasses built from a log, with no I/O and no rendering.

A `Node` is one version of one data object; an `Op` is one recorded call, linking input nodes
to output nodes; a `FileRecord` ties a file read or written to an op and a node. Everything a
renderer or an exporter needs is here, already computed (shapes, row and column changes).

A *folded* lineage (`lineage.fold`, what the views draw when a call site repeats) keeps one op
per call site that repeats, standing for all the ops made there: its `Op.fold` holds their
count and totals (every op of a folded lineage has one, of one op when it stands for itself),
and `Lineage.folded` what the whole log held.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tracer.catalog import meaning_of
from tracer.catalog.families import NO_MEANING, Meaning


@dataclass
class CallSite:
    file: str
    line: int
    function: str
    code: str


@dataclass
class Node:
    id: str
    kind: str
    type: str
    shape: list[int] | None
    columns: list[str] | None
    dtypes: list[str] | None
    fingerprint: str | None
    version: int
    origin: int | None
    object: int

    @property
    def rows(self) -> int | None:
        return self.shape[0] if self.shape else None


@dataclass
class FileRecord:
    path: str
    relpath: str
    mode: str
    format: str | None
    size: int | None
    hash: str | None
    op: int
    node: str | None
    mtime_ns: int | None = None


@dataclass
class Op:
    seq: int
    op: str
    qualname: str
    parent: int | None
    inputs: list[str]
    outputs: list[str]
    callsite: CallSite | None
    thread: str
    start_ns: int
    duration_ns: int
    params: dict[str, str]
    facts: dict[str, Any]
    # Computed from the nodes and facts by the builder:
    shape_in: list[list[int] | None] = field(default_factory=list)
    shape_out: list[list[int] | None] = field(default_factory=list)
    rows_in: int | None = None
    rows_out: int | None = None
    rows_dropped: int | None = None
    dropped_labels: list[Any] | None = None
    cols_added: list[str] = field(default_factory=list)
    cols_removed: list[str] = field(default_factory=list)
    cols_renamed: dict[str, str] = field(default_factory=dict)
    dtype_changes: dict[str, list[str]] = field(default_factory=dict)
    derived_from: dict[str, list[str]] = field(default_factory=dict)
    filter_columns: list[str] = field(default_factory=list)
    file: dict[str, str] | None = None
    children: list[int] = field(default_factory=list)
    fold: Fold | None = None  # in a folded lineage: the ops this one stands for
    # What the op does to rows and columns, as the log says (format 1.2), else as the catalog
    # infers it from the op's name: every view asks this, never the name.
    meaning: Meaning = NO_MEANING

    def __post_init__(self) -> None:
        if self.meaning is NO_MEANING:
            self.meaning = meaning_of(self.op, self.qualname)

    @property
    def family(self) -> str:
        return self.meaning.family

    @property
    def count(self) -> int:
        """How many recorded ops this op stands for (1 unless folded)."""
        return self.fold.count if self.fold is not None else 1

    @property
    def partial(self) -> bool:
        return bool(self.facts.get("partial"))

    @property
    def error(self) -> str | None:
        return self.facts.get("error")


# In a folded lineage, the node id of every input made by an op that was not kept.
ELIDED = "earlier"


@dataclass
class Fold:
    """The ops of one call site that a folded op stands for; the op itself is the first of them.

    Totals run over all of them. A folded op's own `rows_dropped` is the total too; its other
    fields (shapes, columns, params, file) are the first op's, and `last_in` / `last_out` are
    the main input and output of the last one.
    """

    count: int = 1
    rows_in: int = 0
    rows_out: int = 0
    rows_dropped: int = 0
    dropping: int = 0  # ops that dropped rows
    cols_added: int = 0
    cols_removed: int = 0
    cols_renamed: int = 0
    dtype_changes: int = 0
    errors: int = 0
    files: int = 0  # FILE records of these ops (Lineage.files keeps the first op's)
    duration_ns: int = 0
    last_seq: int = 0
    last_in: Node | None = None
    last_out: Node | None = None
    fed_by: list[int] = field(default_factory=list)  # folds whose output later ops took in


@dataclass
class Folding:
    """What a folded lineage's log held in all (`Lineage.folded`): the views count from here."""

    ops: int = 0
    top_ops: int = 0
    last_seq: int = 0
    kinds: Counter[str] = field(default_factory=Counter)  # nodes, by kind
    objects: Counter[str] = field(default_factory=Counter)  # objects (first versions), by kind
    op_names: Counter[str] = field(default_factory=Counter)
    files_read: int = 0
    files_written: int = 0
    errors: int = 0  # ops that raised, and ERROR records
    elided: int = 0  # inputs of kept ops made by ops no longer known (node id ELIDED)
    sites: int = 0  # groups of ops folding looked at: call sites (by op name and thread)


@dataclass
class Run:
    id: str | None
    script: str | None
    argv: list[str]
    cwd: str | None
    python: str | None
    backend: str | None
    tracer_version: str | None
    started: str | None
    ended: str | None
    status: str  # "ok" | "error" | "interrupted" | "unfinished"
    exit_code: int | None
    error: str | None
    header: dict[str, Any] = field(default_factory=dict)
    trailer: dict[str, Any] | None = None


@dataclass
class Lineage:
    path: str
    run: Run
    nodes: dict[str, Node]
    ops: list[Op]
    files: list[FileRecord]
    errors: list[dict[str, Any]]
    damage: Any = None  # events.reader.Damage when the log ends early or is corrupt
    children: list[dict[str, Any]] = field(default_factory=list)  # merged child-process logs
    folded: Folding | None = None  # set when built by folding (see the module docstring)

    def op(self, seq: int) -> Op:
        return self._by_seq[seq]

    def __post_init__(self) -> None:
        self._by_seq = {op.seq: op for op in self.ops}

    def roots(self) -> Iterator[Op]:
        """Top-level ops (made directly by user code), in call order."""
        return (op for op in self.ops if op.parent is None)

    def producer(self, node_id: str) -> Op | None:
        node = self.nodes.get(node_id)
        if node is None or node.origin is None:
            return None
        return self._by_seq.get(node.origin)

    def ancestry(self, node_id: str) -> list[Op]:
        """Every op the node depends on, nearest first (breadth first, each once)."""
        seen: set[int] = set()
        order: list[Op] = []
        frontier = [node_id]
        while frontier:
            nxt = []
            for nid in frontier:
                op = self.producer(nid)
                if op is None or op.seq in seen:
                    continue
                seen.add(op.seq)
                order.append(op)
                nxt.extend(op.inputs)
            frontier = nxt
        return order
