"""The lineage model: plain dataclasses built from a log, with no I/O and no rendering.

A `Node` is one version of one data object; an `Op` is one recorded call, linking input nodes
to output nodes; a `FileRecord` ties a file read or written to an op and a node. Everything a
renderer or an exporter needs is here, already computed (shapes, row and column changes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


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

    @property
    def partial(self) -> bool:
        return bool(self.facts.get("partial"))

    @property
    def error(self) -> str | None:
        return self.facts.get("error")


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
