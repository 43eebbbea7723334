"""Fold a long log into a bounded lineage while reading it: one op per call site.

A loop in user code that makes the same pandas call a million times records a million ops:
drawn one per line they say nothing, and held all at once they take gigabytes. `FoldingBuilder`
reads the same records as `Builder`, but the ops of one call site, op name and thread (and,
for ops made inside another op, the same folded parent) collapse into the first of them, which
keeps a running `Fold` of them all: how many, rows in, out and dropped, column changes, the last
one's shapes, and which other folds fed the later ones (a loop going round).

Memory is bounded by the number of folds plus fixed caps, never by the number of ops:

- the nodes that first ops take and make are kept; of the others, only the `RECENT_NODES`
  (to twice that) last made or used (data made in a loop is used soon after it is made);
- which fold each of the last `RECENT_OPS` ops went to (for node origins and FILE records);
- ops made inside another op wait for it (it is written after them): one outer op's worth.

A first op whose input was evicted before it was kept takes instead the node id `ELIDED`
("earlier data", counted in `Folding.elided`): made earlier, by an op the folded lineage no
longer knows. Only the first op's FILE records are kept; the others are counted.

`load(path, fold_above=N)` (build.py) folds a log once it holds more than N ops.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Generic, TypeVar

from tracer.events.format import Kind
from tracer.lineage.build import Builder
from tracer.lineage.graph import ELIDED, Fold, Folding, Lineage, Node, Op

# The views (`tracer show`, `tracer summary`) fold a log of more ops than this: beyond it a
# tree drawn op by op is unreadable anyway, and building it costs about 0.3 ms and 5 kB an op.
FOLD_ABOVE = 5_000
RECENT_NODES = 4_096
RECENT_OPS = 4_096
RECENT_SCHEMAS = 1_024
MAX_ERRORS = 100  # ERROR records kept (all are counted)
MAX_FED_BY = 8  # other folds remembered as feeding one fold's later ops

K = TypeVar("K")
V = TypeVar("V")
_MISSING: Any = object()


class Recent(Generic[K, V]):
    """A mapping that keeps between `size` and 2 × `size` of its most recently set or got
    items: two generations of plain dicts, the older dropped whole when the newer fills up (an
    LRU at the cost of a dict lookup or two)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.new: dict[K, V] = {}
        self.old: dict[K, V] = {}
        self.forgotten = 0  # items dropped so far

    def __setitem__(self, key: K, value: V) -> None:
        new = self.new
        new[key] = value
        if len(new) >= self.size:
            self.forgotten += len(self.old)
            self.old, self.new = new, {}

    def get(self, key: K, default: Any = None) -> Any:
        value: Any = self.new.get(key, _MISSING)
        if value is _MISSING:
            value = self.old.pop(key, _MISSING)
            if value is _MISSING:
                return default
            self[key] = value
        return value

    def __len__(self) -> int:
        return len(self.new) + len(self.old)


class NodeStore(dict[str, Node]):
    """The folding builder's nodes: the dict holds the kept ones (the lineage's nodes); new
    nodes go to an LRU of recent ones; `get` looks in both."""

    def __init__(self) -> None:
        super().__init__()
        self.recent: Recent[str, Node] = Recent(RECENT_NODES)

    def __setitem__(self, nid: str, node: Node) -> None:
        self.recent[nid] = node

    def get(self, nid: str, default: Any = None) -> Any:
        node = dict.get(self, nid)
        if node is None:
            recent = self.recent
            node = recent.new.get(nid)
            if node is None:
                node = recent.old.pop(nid, None)
                if node is None:
                    return default
                recent[nid] = node
        return node

    def keep(self, nid: str, node: Node) -> None:
        dict.__setitem__(self, nid, node)


# An op made inside another op, waiting for it: (op, site id, thread no, input nodes, output
# nodes), its nodes looked up as it arrived.
Waiting = tuple[Op, Any, Any, list[Node | None], list[Node | None]]


class FoldingBuilder(Builder):
    """`Builder` for logs too long to hold: see the module docstring. Feed it with `add`,
    then `finish()` returns a folded `Lineage` (its `folded` says what the log held)."""

    def __init__(self, header: dict[str, Any], path: str = "") -> None:
        super().__init__(header, path)
        self.nodes: NodeStore = NodeStore()
        self.schemas = Recent(RECENT_SCHEMAS)  # type: ignore[assignment]  # get, []= only
        self.totals = Folding()
        self.folds: dict[tuple[Any, ...], Op] = {}  # (top fold, site, op, thread) -> first op
        self.firsts: dict[int, Op] = {}  # the first ops, by seq
        self.top_of: dict[int, int] = {}  # first op's seq -> its top-level fold's first op's
        self.fed_from: dict[int, set[int]] = {}  # first op's seq -> the folds it took input from
        self.fold_of: Recent[int, Op] = Recent(RECENT_OPS)  # recent op's seq -> its first op
        self.waiting: dict[int, list[Waiting]] = {}  # parent seq -> ops made inside it
        self.waiting_seqs: set[int] = set()
        self.waiting_files: dict[int, list[dict[str, Any]]] = {}

    def add(self, kind: int, r: dict[str, Any]) -> Op | None:
        if kind == Kind.OP:
            op = self._new_op(r)
            get = self.nodes.get
            ins = [get(i) for i in op.inputs]
            outs = [get(i) for i in op.outputs]
            self._derive(op, ins, outs)
            self._arrived(op, r["site"], r["thread"], ins, outs)
            return op
        if kind == Kind.NODE:
            self.totals.kinds[r["kind"]] += 1
        elif kind == Kind.FILE:
            self._file(r)
            return None
        elif kind == Kind.ERROR:
            self.totals.errors += 1
            if len(self.errors) >= MAX_ERRORS:
                return None
        return super().add(kind, r)

    # -- ops ------------------------------------------------------------------------------------

    def _arrived(
        self, op: Op, site: Any, thread: Any, ins: list[Node | None], outs: list[Node | None]
    ) -> None:
        t = self.totals
        t.ops += 1
        t.op_names[op.op] += 1
        if op.seq > t.last_seq:
            t.last_seq = op.seq
        if op.error:
            t.errors += 1
        if op.parent is None:
            t.top_ops += 1
            first = self._place(op, site, thread, ins, outs, None)
            self._place_waiting(op.seq, first)
            return
        parent = self.fold_of.get(op.parent)
        if parent is not None:  # its parent is in already (not the recorder's order, but fine)
            top = self.firsts[self.top_of[parent.seq]]
            self._place_waiting(op.seq, self._place(op, site, thread, ins, outs, top))
            return
        self.waiting.setdefault(op.parent, []).append((op, site, thread, ins, outs))
        self.waiting_seqs.add(op.seq)

    def _place_waiting(self, seq: int, first: Op) -> None:
        """Place the ops made inside op `seq` (folded into `first`), and theirs, recursively."""
        stack = [(seq, first)]
        while stack:
            s, parent_first = stack.pop()
            top = self.firsts[self.top_of[parent_first.seq]]
            for op, site, thread, ins, outs in self.waiting.pop(s, ()):
                self.waiting_seqs.discard(op.seq)
                stack.append((op.seq, self._place(op, site, thread, ins, outs, top)))

    def _place(
        self,
        op: Op,
        site: Any,
        thread: Any,
        ins: list[Node | None],
        outs: list[Node | None],
        top: Op | None,
    ) -> Op:
        """Fold `op` into its fold (a new one if it is the first); returns the fold's first op."""
        key = (None if top is None else top.seq, site, op.op, thread)
        first = self.folds.get(key)
        if first is None:
            first = self._first(key, op, ins, outs, top)
        elif top is None:
            self._fed_by(first, ins)
        fold = first.fold
        assert fold is not None
        fold.count += 1
        fold.last_seq = op.seq
        fold.duration_ns += op.duration_ns
        if op.rows_in is not None:
            fold.rows_in += op.rows_in
        if op.rows_out is not None:
            fold.rows_out += op.rows_out
        if op.rows_dropped:
            fold.rows_dropped += op.rows_dropped
            fold.dropping += 1
        if op.cols_added or op.cols_removed or op.cols_renamed or op.dtype_changes:
            fold.cols_added += len(op.cols_added)
            fold.cols_removed += len(op.cols_removed)
            fold.cols_renamed += len(op.cols_renamed)
            fold.dtype_changes += len(op.dtype_changes)
        if op.error:
            fold.errors += 1
        last_in = None
        for node in ins:
            if node is not None and node.kind != "model":
                last_in = node
                break
        fold.last_in = last_in
        fold.last_out = outs[0] if outs else None
        seq = op.seq
        self.fold_of[seq] = first
        for node in outs:  # their producer, from now on, is the fold
            if node is not None and node.origin == seq:
                node.origin = first.seq
        if seq in self.waiting_files:
            for r in self.waiting_files.pop(seq):
                self._file(r)
        return first

    def _first(
        self,
        key: tuple[Any, ...],
        op: Op,
        ins: list[Node | None],
        outs: list[Node | None],
        top: Op | None,
    ) -> Op:
        """`op` starts a fold: keep it and its nodes, with their producers resolved now."""
        op.fold = Fold(count=0)
        self.folds[key] = op
        self.firsts[op.seq] = op
        self.top_of[op.seq] = op.seq if top is None else top.seq
        if op.parent is not None:
            parent = self.fold_of.get(op.parent)
            if parent is not None:
                op.parent = parent.seq
        fed: set[int] = set()
        inputs = op.inputs
        for i, (nid, node) in enumerate(zip(inputs, ins, strict=False)):
            producer = None if node is None else self._producer(node)
            if node is None and not self.nodes.recent.forgotten:
                continue  # never recorded: as `Builder` leaves it
            if node is None or (producer is None and node.origin is not None):
                # made earlier by an op no longer known: one "earlier data" for them all
                inputs[i] = ELIDED
                self.totals.elided += 1
                continue
            self.nodes.keep(nid, node)
            if producer is not None:
                node.origin = producer.seq
                fed.add(producer.seq)
        self.fed_from[op.seq] = fed
        for nid, node in zip(op.outputs, outs, strict=False):
            if node is not None:
                self.nodes.keep(nid, node)
        return op

    def _producer(self, node: Node) -> Op | None:
        origin = node.origin
        if origin is None:
            return None
        return self.firsts.get(origin) or self.fold_of.get(origin)

    def _fed_by(self, first: Op, ins: list[Node | None]) -> None:
        """Remember the folds (other than its own and its first op's) that fed a later op."""
        fold = first.fold
        assert fold is not None
        known = self.fed_from[first.seq]
        for node in ins:
            if node is None:
                continue
            producer = self._producer(node)
            if producer is None or producer.seq in known or producer is first:
                continue
            known.add(producer.seq)
            if len(fold.fed_by) < MAX_FED_BY:
                fold.fed_by.append(producer.seq)

    # -- files ----------------------------------------------------------------------------------

    def _file(self, r: dict[str, Any]) -> None:
        seq = r["op"]
        if seq in self.waiting_seqs:  # its op waits for its parent: count it once placed
            self.waiting_files.setdefault(seq, []).append(r)
            return
        t = self.totals
        if r["mode"] == "read":
            t.files_read += 1
        else:
            t.files_written += 1
        first = self.firsts.get(seq) or self.fold_of.get(seq)
        if first is None:
            return
        assert first.fold is not None
        first.fold.files += 1
        if first.seq == seq:
            super().add(Kind.FILE, r)

    # -- the end --------------------------------------------------------------------------------

    def finish(self, damage: Any = None) -> Lineage:
        # Ops whose parent never came (the run was killed inside it) are top-level ops, as
        # `Builder` sees them. Finishing again (a growing log) is not supported.
        while self.waiting:
            parent = min(self.waiting)
            for op, site, thread, ins, outs in self.waiting.pop(parent):
                self.waiting_seqs.discard(op.seq)
                self.totals.top_ops += 1
                self._place_waiting(op.seq, self._place(op, site, thread, ins, outs, None))
        for first in self.firsts.values():
            fold = first.fold
            assert fold is not None
            if fold.count > 1:
                if fold.rows_dropped or first.rows_dropped is not None:
                    first.rows_dropped = fold.rows_dropped
                first.dropped_labels = None  # the first op's: not the fold's
        self.ops = self.firsts
        lineage = super().finish(damage)
        lineage.nodes = dict(lineage.nodes)
        lineage.folded = self.totals
        return lineage


def fold(path: Any) -> Lineage:
    """Read a log into a folded `Lineage`, streaming (see the module docstring)."""
    import os

    from tracer.events.reader import LogReader

    with LogReader(path) as reader:
        builder = FoldingBuilder(reader.header, os.fspath(path))
        add = builder.add
        for kind, record in reader.records():
            add(kind, record)
        return builder.finish(reader.damage)


def totals_of(lineage: Lineage) -> Folding:
    """What a lineage holds, counted as `FoldingBuilder` counts (for merging logs, folded or
    not)."""
    if lineage.folded is not None:
        return lineage.folded
    parents = {op.seq for op in lineage.ops}
    return Folding(
        ops=len(lineage.ops),
        top_ops=sum(1 for op in lineage.ops if op.parent is None or op.parent not in parents),
        last_seq=max(parents, default=0),
        kinds=Counter(n.kind for n in lineage.nodes.values()),
        op_names=Counter(op.op for op in lineage.ops),
        files_read=sum(1 for f in lineage.files if f.mode == "read"),
        files_written=sum(1 for f in lineage.files if f.mode != "read"),
        errors=sum(1 for op in lineage.ops if op.error) + len(lineage.errors),
    )


def add_totals(into: Folding, other: Folding) -> None:
    """Add a child process's totals to its parent's (merge_children)."""
    into.ops += other.ops
    into.top_ops += other.top_ops
    into.kinds.update(other.kinds)
    into.op_names.update(other.op_names)
    into.files_read += other.files_read
    into.files_written += other.files_written
    into.errors += other.errors
    into.elided += other.elided
