"""Fold the ops that repeat at one call site into one row, while reading a log.

A loop in user code that makes the same pandas call a thousand or a million times records as
many ops: drawn one per line they say nothing, and held all at once they take gigabytes.
`FoldingBuilder` reads the same records as `Builder`, but groups the ops of one call site, op
name and thread (and, for ops made inside another op, the same top-level group). A group of
`MIN_REPEAT` ops or more *folds*: it collapses into its first op, which keeps a running `Fold`
of them all: how many, rows in, out and dropped, column changes, the last one's shapes, and
which other groups fed the later ones (a loop going round). A group of fewer ops is kept op by
op, as `Builder` keeps it: a helper called twice is drawn twice. Inside a group that folds,
every group folds with it (their ops' parents are one row now). Inside one that does not, a
group folds when it repeats itself; and when that happens inside a pair of ops (a helper called
twice, whose lambda repeats), the pair folds too, as the two could not be told apart.

Whether a group folds is known once its `MIN_REPEAT`th op arrives, or at the end: until then
its ops after the first are held apart (a `Single`, at most `MIN_REPEAT` - 2 a group), and
references to them are resolved when the group is settled (`alias`).

Memory is bounded by the number of groups plus fixed caps, never by the number of ops:

- the nodes that first and held ops take and make are kept; of the others, only the
  `RECENT_NODES` (to twice that) last made or used (data made in a loop is used soon after);
- which group each of the last `RECENT_OPS` ops went to (for node origins and FILE records);
- ops made inside another op wait for it (it is written after them): one outer op's worth.

A first op whose input was evicted before it was kept takes instead the node id `ELIDED`
("earlier data", counted in `Folding.elided`): made earlier, by an op the folded lineage no
longer knows. Only the kept ops' FILE records are kept; the others are counted.

`load(path, fold_above=N)` (build.py) folds a log of more than N ops, and a shorter one when a
call site repeats (`may_fold`): what the views draw.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tracer.events.format import Kind
from tracer.lineage.build import Builder
from tracer.lineage.graph import ELIDED, Fold, Folding, Lineage, Node, Op

# The views fold a log of more ops than this whole, streaming: beyond it a tree drawn op by op
# is unreadable anyway, and building it costs about 0.3 ms and 5 kB an op. A shorter log is
# read whole first, and folded when one of its call sites repeats.
FOLD_ABOVE = 5_000
# A group of this many ops folds into one row: a helper called twice is still drawn twice, a
# loop of three rounds is one row a site.
MIN_REPEAT = 3
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


@dataclass(slots=True)
class Single:
    """An op held apart while its group may stay unfolded: its group's first op's seq, its own
    totals (a `Fold` of one), and how many of its inputs became `ELIDED`."""

    op: Op
    group: int
    fold: Fold
    elided: int = 0


class FoldingBuilder(Builder):
    """`Builder` that folds what repeats: see the module docstring. Feed it with `add`, then
    `finish()` returns a folded `Lineage` (its `folded` says what the log held)."""

    def __init__(self, header: dict[str, Any], path: str = "") -> None:
        super().__init__(header, path)
        self.nodes: NodeStore = NodeStore()
        self.schemas = Recent(RECENT_SCHEMAS)  # type: ignore[assignment]  # get, []= only
        self.totals = Folding()
        self.folds: dict[tuple[Any, ...], Op] = {}  # (top group, site, op, thread) -> first op
        self.firsts: dict[int, Op] = {}  # the first ops, by seq
        self.top_of: dict[int, int] = {}  # first op's seq -> its top-level group's first op's
        self.fed_from: dict[int, set[int]] = {}  # first op's seq -> the ops it took input from
        self.fold_of: Recent[int, Op] = Recent(RECENT_OPS)  # recent op's seq -> its first op
        self.waiting: dict[int, list[Waiting]] = {}  # parent seq -> ops made inside it
        self.waiting_seqs: set[int] = set()
        self.waiting_files: dict[int, list[dict[str, Any]]] = {}
        # Groups not settled yet (fewer than MIN_REPEAT ops so far):
        self.singles: dict[int, Single] = {}  # held op's seq -> it
        self.held: dict[int, list[Single]] = {}  # first op's seq -> the ops held in its group
        self.alone: dict[int, Fold] = {}  # first op's seq -> its own totals, while ops are held
        # Settled: a held op whose group folded stands for its first op; one that did not
        # is an op of its own.
        self.alias: dict[int, int] = {}
        self.apart: dict[int, Op] = {}

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
            if r.get("version", 1) == 1:  # a new object, not a new version of one
                self.totals.objects[r["kind"]] += 1
        elif kind == Kind.FILE:
            self._file(r)
            return None
        elif kind == Kind.ERROR:
            self.totals.errors += 1
            if len(self.errors) >= MAX_ERRORS:
                return None
        return super().add(kind, r)

    # -- what the live views ask while the log grows ------------------------------------------

    def group_of(self, seq: int) -> Op | None:
        """The first op of the group that op `seq` went to (None: not placed yet, or too long
        ago); its `fold.count` is how many ops the group has had so far."""
        return self.fold_of.get(seq)

    def inside(self, first: Op) -> list[Op]:
        """The first ops of the groups made inside top-level group `first`, in call order."""
        return [
            op for s, op in self.firsts.items() if s != first.seq and self.top_of[s] == first.seq
        ]

    def view(self) -> Lineage:
        """What the builder holds so far, to draw ops as they arrive: the run, the nodes still
        known, the files of the ops kept so far, the totals; no ops (`finish` has them)."""
        lineage = Lineage(self.path, self.run_info(), self.nodes, [], self.files, self.errors, None)
        lineage.folded = self.totals
        return lineage

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
        """Place the ops made inside op `seq` (in the group of `first`), and theirs, recursively."""
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
        """Put `op` in its group (a new one if it is the first); returns the group's first op."""
        key = (None if top is None else top.seq, site, op.op, thread)
        first = self.folds.get(key)
        held = False
        if first is None:
            first = self._first(key, op, ins, outs, top)
        else:
            assert first.fold is not None
            n = first.fold.count + 1  # this op's number in its group
            if n < MIN_REPEAT:
                self._hold(first, op, ins, outs)
                held = True
            elif n == MIN_REPEAT:
                self._settle(first, folds=True)
            if top is None:
                self._fed_by(first, ins)
        assert first.fold is not None
        tally(first.fold, op, ins, outs)
        seq = op.seq
        self.fold_of[seq] = first
        if not held:
            for node in outs:  # their producer, from now on, is the group's first op
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
        """`op` starts a group: keep it and its nodes."""
        op.fold = Fold(count=0)
        self.folds[key] = op
        self.firsts[op.seq] = op
        self.top_of[op.seq] = op.seq if top is None else top.seq
        self.fed_from[op.seq], elided = self._keep(op, ins, outs)
        self.totals.elided += elided
        return op

    def _hold(self, first: Op, op: Op, ins: list[Node | None], outs: list[Node | None]) -> None:
        """Keep `op`, a later op of `first`'s group, apart until the group is settled."""
        assert first.fold is not None
        if first.seq not in self.alone:  # the first op's own totals, before the group's
            self.alone[first.seq] = dataclasses.replace(first.fold, fed_by=[])
        own = Fold(count=0)
        tally(own, op, ins, outs)
        _, elided = self._keep(op, ins, outs)
        single = Single(op, first.seq, own, elided)
        self.singles[op.seq] = single
        self.held.setdefault(first.seq, []).append(single)

    def _keep(
        self, op: Op, ins: list[Node | None], outs: list[Node | None]
    ) -> tuple[set[int], int]:
        """Keep a first or held op's nodes, and resolve its parent and its inputs' producers
        now, while they are known. An input made by an op no longer known becomes `ELIDED`.
        Returns (the producers, how many inputs became ELIDED)."""
        if op.parent is not None:
            parent = self._kept(op.parent)
            if parent is not None:
                op.parent = parent
        fed: set[int] = set()
        elided = 0
        inputs = op.inputs
        for i, (nid, node) in enumerate(zip(inputs, ins, strict=False)):
            producer = None if node is None else self._producer(node)
            if node is None and not self.nodes.recent.forgotten:
                continue  # never recorded: as `Builder` leaves it
            if node is None or (producer is None and node.origin is not None):
                # made earlier by an op no longer known: one "earlier data" for them all
                inputs[i] = ELIDED
                elided += 1
                continue
            self.nodes.keep(nid, node)
            if producer is not None:
                node.origin = producer
                fed.add(producer)
        for nid, node in zip(op.outputs, outs, strict=False):
            if node is not None:
                self.nodes.keep(nid, node)
        return fed, elided

    def _kept(self, seq: int) -> int | None:
        """The seq of the op that stands for op `seq` now: itself when it is a first or a held
        op, else its group's first op (None: an op no longer known)."""
        if seq in self.firsts or seq in self.singles:
            return seq
        alias = self.alias.get(seq)
        if alias is not None:
            return alias
        first = self.fold_of.get(seq)
        return None if first is None else first.seq

    def _producer(self, node: Node) -> int | None:
        origin = node.origin
        return None if origin is None else self._kept(origin)

    def _fed_by(self, first: Op, ins: list[Node | None]) -> None:
        """Remember the ops (of groups other than its own) that fed a later op of a group."""
        fold = first.fold
        assert fold is not None
        known = self.fed_from[first.seq]
        for node in ins:
            if node is None:
                continue
            producer = self._producer(node)
            if producer is None or producer in known:
                continue
            single = self.singles.get(producer)
            if (single.group if single is not None else producer) == first.seq:
                continue
            known.add(producer)
            if len(fold.fed_by) < MAX_FED_BY:
                fold.fed_by.append(producer)

    def _settle(self, first: Op, folds: bool) -> None:
        """Settle a group whose later ops were held: it folds (they become its first op), or
        they stay ops of their own, each with its own totals (the first op too)."""
        alone = self.alone.pop(first.seq, None)
        for single in self.held.pop(first.seq, ()):
            seq = single.op.seq
            del self.singles[seq]
            if folds:
                self.alias[seq] = first.seq
            else:
                single.op.fold = single.fold
                self.apart[seq] = single.op
                self.totals.elided += single.elided
        if not folds and alone is not None:
            first.fold = alone

    def _settle_all(self) -> None:
        """At the end, settle the groups of fewer than MIN_REPEAT ops: a top-level one folds
        when a group inside it repeats (else its ops could not be told apart), and a group
        inside a folded one folds with it; the others stay op by op."""
        top_of = self.top_of
        firsts = self.firsts
        folded_tops = set()
        for s, op in firsts.items():
            assert op.fold is not None
            top = firsts[top_of[s]]
            if op.fold.count >= MIN_REPEAT and top.fold is not None and top.fold.count > 1:
                folded_tops.add(top.seq)
        for s in list(self.held):
            self._settle(firsts[s], folds=top_of[s] in folded_tops)

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
        single = self.singles.get(seq)
        if single is not None:
            single.fold.files += 1
        elif first.seq == seq:
            alone = self.alone.get(seq)
            if alone is not None:
                alone.files += 1
        else:
            return
        super().add(Kind.FILE, r)  # a kept op's (the held ones' are dropped if they fold)

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
        self._settle_all()
        alias = self.alias
        ops = {**self.firsts, **self.apart}
        used = {nid for op in ops.values() for nid in (*op.inputs, *op.outputs)}
        nodes = {nid: node for nid, node in self.nodes.items() if nid in used}
        for node in nodes.values():
            if node.origin in alias:
                node.origin = alias[node.origin]
        for op in ops.values():
            if op.parent in alias:
                op.parent = alias[op.parent]
            fold = op.fold
            assert fold is not None
            if fold.fed_by:  # held ops that folded were remembered by their own seq
                known = {op.seq}  # the group itself, and what its first op took in
                for i in op.inputs:
                    got = nodes.get(i)
                    if got is not None and got.origin is not None:
                        known.add(got.origin)
                fed: list[int] = []
                for s in fold.fed_by:
                    s = alias.get(s, s)
                    if s not in known:
                        known.add(s)
                        fed.append(s)
                fold.fed_by = fed
            as_row(op)
        self.files = [f for f in self.files if f.op in ops]
        self.ops = ops
        lineage = super().finish(damage)
        lineage.nodes = nodes
        self.totals.sites = len(self.folds)
        lineage.folded = self.totals
        return lineage


def tally(fold: Fold, op: Op, ins: list[Node | None], outs: list[Node | None]) -> None:
    """Count `op` (with its input and output nodes) in `fold`: its totals, its last shapes."""
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


def as_row(op: Op) -> Op:
    """Make the first op of a group of several into the row that stands for them all: its
    rows dropped are the group's total, and the labels of the rows it dropped (its own, not
    the group's) go. Returns `op`."""
    fold = op.fold
    if fold is not None and fold.count > 1:
        if fold.rows_dropped or op.rows_dropped is not None:
            op.rows_dropped = fold.rows_dropped
        op.dropped_labels = None
    return op


def row_now(first: Op) -> Op:
    """The row a group that is still growing stands for so far (its first op is not changed)."""
    return as_row(copy.copy(first))


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


def repeats(count: int) -> bool:
    """Does a group of `count` ops repeat, and so fold into one row?"""
    return count >= MIN_REPEAT


def site_key(op: Op) -> tuple[int, str, str]:
    """What folding groups an op of a built lineage by: its call site, name and thread (and,
    for an op made inside another, the top-level group: not part of this key)."""
    return (id(op.callsite), op.op, op.thread)  # one CallSite object per recorded site


def may_fold(lineage: Lineage) -> bool:
    """Could folding this (plain) lineage's log fold anything: does one call site hold
    `MIN_REPEAT` ops of one name in one thread? Cheap, and never "no" when folding would fold
    something (`FoldingBuilder` groups those ops, or splits them finer)."""
    counts = Counter(site_key(op) for op in lineage.ops)
    return repeats(max(counts.values(), default=0))


def fold_repeats(path: Any, plain: Lineage) -> Lineage:
    """The log at `path` folded, if a call site repeats; else `plain`, the log read whole."""
    if not may_fold(plain):
        return plain
    folded = fold(path)
    return folded if any(op.count > 1 for op in folded.ops) else plain


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
        objects=Counter({n.object: n.kind for n in lineage.nodes.values()}.values()),
        op_names=Counter(op.op for op in lineage.ops),
        files_read=sum(1 for f in lineage.files if f.mode == "read"),
        files_written=sum(1 for f in lineage.files if f.mode != "read"),
        errors=sum(1 for op in lineage.ops if op.error) + len(lineage.errors),
        sites=len({site_key(op) for op in lineage.ops}),
    )


def add_totals(into: Folding, other: Folding) -> None:
    """Add a child process's totals to its parent's (merge_children)."""
    into.ops += other.ops
    into.top_ops += other.top_ops
    into.kinds.update(other.kinds)
    into.objects.update(other.objects)
    into.op_names.update(other.op_names)
    into.files_read += other.files_read
    into.files_written += other.files_written
    into.errors += other.errors
    into.elided += other.elided
    into.sites += other.sites
