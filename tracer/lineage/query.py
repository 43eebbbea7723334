"""Ask a run's lineage questions from Python: what made this file, what was made from this
table, which source columns does this column come from.

`query(source)` takes a log path, a `Lineage` (from `tracer.load`), a `Tracer` (running or
stopped), or nothing (the notebook session of the `%lineage_*` magics). A live source is read
again from its log whenever the log has grown (the writer flushes after every outermost op),
so a notebook can ask mid-session. A live source is any `LiveSession` (a `Tracer` is one): the
query asks it only where its log is and which node a live object is now. Answers are the
model's own dataclasses (`Op`, `Node`, `FileRecord`) and the column processor's `Origin`; lists
of ops are always in call order.

A *target* (what a question is about) is a file path (absolute, relative to the run's working
directory or to ours, or a unique file name), a node id ("n12"), a `Node`, or, in a live
session only, a live object: its current version, as the session says (`node_of`).
Data links between ops are those of `processors.Flow` (inputs, reads inside nested calls,
files written then read back, groupby chains), so the answers agree with `tracer show`.

Notebook cells are compiled with made-up file names (`<ipython-input-7-…>`, or ipykernel's
`/tmp/ipykernel_<pid>/<hash>.py`, the same for every run of the same code). The magics keep
a `CellMap` (which execution ran which cell file, and which ops it made) in a small JSON file
beside the log, `<log>.cells.json`, so `In[7]:3` can replace the file name anywhere.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tracer.exceptions import TracerError
from tracer.lineage.graph import FileRecord, Lineage, Node, Op
from tracer.lineage.processors import (
    AGGREGATION,
    IDENTITY,
    TRANSFORMATION,
    ColumnLineage,
    Flow,
    Origin,
    relative_path,
)

if TYPE_CHECKING:
    from tracer.events.reader import LogReader
    from tracer.lineage.build import Builder

__all__ = [
    "Cell",
    "CellMap",
    "LiveLog",
    "LiveSession",
    "Query",
    "QueryError",
    "query",
    "relabel_cells",
    "remember",
]

CELLS_SUFFIX = ".cells.json"
CELLS_FORMAT = 1
_STRENGTH = {IDENTITY: 0, TRANSFORMATION: 1, AGGREGATION: 2}  # a composed step: the stronger
_IPYTHON_INPUT = re.compile(r"^<ipython-input-(\d+)-[0-9a-f]+>$")


class QueryError(TracerError, LookupError):
    """A query named something the run does not have (a file, a node, an unseen object)."""

    slug = "query"


@runtime_checkable
class LiveSession(Protocol):
    """What a live query asks of the session that is tracing (`tracer.api.Tracer`)."""

    log_path: str  # the run's log, read again whenever it has grown

    def node_of(self, obj: object) -> int | None:
        """The node number live object `obj` has now (None: never seen)."""


# -- notebook cells ---------------------------------------------------------------------------


@dataclass
class Cell:
    """One execution of a notebook cell: `In[number]`, compiled as `file`, made ops
    `first_seq`..`last_seq` (none when `last_seq < first_seq`)."""

    number: int
    file: str
    first_seq: int
    last_seq: int


@dataclass
class CellMap:
    """Which cell execution each call site belongs to. Empty for a script's log."""

    cells: list[Cell] = field(default_factory=list)

    def add(self, cell: Cell) -> None:
        self.cells.append(cell)

    def number_of(self, op: Op) -> int | None:
        """The execution count of the cell whose code made `op`, or None (not a cell).

        A function defined in cell 3 and called from cell 5 is cell 3's code: the call site
        is where the code is. When several executions share a file name (ipykernel names a
        cell by a hash of its code, so re-running a cell reuses the name), the execution that
        made the op wins, else the latest one before it.
        """
        cs = op.callsite
        if cs is None:
            return None
        same = [c for c in self.cells if c.file == cs.file]
        if not same:
            m = _IPYTHON_INPUT.match(cs.file)
            return int(m.group(1)) if m else None
        for c in same:
            if c.first_seq <= op.seq <= c.last_seq:
                return c.number
        before = [c for c in same if c.first_seq <= op.seq]
        return (before[-1] if before else same[0]).number

    def label(self, op: Op) -> str | None:
        """`In[7]:3` for an op made by line 3 of cell 7; None outside cells."""
        n = self.number_of(op)
        if n is None or op.callsite is None:
            return None
        return f"In[{n}]:{op.callsite.line}"

    @staticmethod
    def path_for(log: str | os.PathLike[str]) -> str:
        return os.fspath(log) + CELLS_SUFFIX

    @classmethod
    def load(cls, log: str | os.PathLike[str]) -> CellMap:
        """The map saved beside `log`; empty if there is none or it cannot be read."""
        try:
            with open(cls.path_for(log), encoding="utf-8") as f:
                doc = json.load(f)
            if doc.get("format") != CELLS_FORMAT:
                return cls()
            return cls([Cell(int(n), str(file), int(a), int(b)) for n, file, a, b in doc["cells"]])
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return cls()

    def save(self, log: str | os.PathLike[str]) -> None:
        """Write the map beside `log` (atomically, private like the log itself)."""
        path = self.path_for(log)
        tmp = f"{path}.{os.getpid()}.tmp"
        doc = {
            "format": CELLS_FORMAT,
            "cells": [[c.number, c.file, c.first_seq, c.last_seq] for c in self.cells],
        }
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        os.replace(tmp, path)


def relabel_cells(lineage: Lineage, cells: CellMap | None = None) -> Lineage:
    """A copy of `lineage` whose call sites in notebook cells read `In[7]` instead of the
    cell's file name, for views that print `file:line` (`tracer.renderers`). Nodes and files
    are shared; ops are copied only where their call site changes."""
    cells = cells if cells is not None else CellMap.load(lineage.path)
    ops = []
    changed = False
    for op in lineage.ops:
        n = cells.number_of(op)
        if n is None or op.callsite is None:
            ops.append(op)
            continue
        site = dataclasses.replace(op.callsite, file=f"In[{n}]")
        ops.append(dataclasses.replace(op, callsite=site))
        changed = True
    if not changed:
        return lineage
    return Lineage(
        lineage.path, lineage.run, lineage.nodes, ops, lineage.files, lineage.errors, lineage.damage
    )


# -- a log that is still being written -------------------------------------------------------


class LiveLog:
    """The lineage of a log that may still grow, read incrementally: `lineage()` reads only
    what was appended since the last call (and rebuilds nothing when nothing was)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._reader: LogReader | None = None
        self._builder: Builder | None = None
        self._lineage: Lineage | None = None
        self._size = -1

    def lineage(self) -> Lineage:
        from tracer.events.reader import LogReader
        from tracer.lineage.build import Builder

        try:
            size = os.stat(self.path).st_size
        except OSError as exc:
            raise QueryError(f"cannot read the log {self.path}: {exc.strerror}") from None
        if self._lineage is not None and size == self._size:
            return self._lineage
        if self._reader is None:
            self._reader = LogReader(self.path)
            self._builder = Builder(self._reader.header, self.path)
        assert self._builder is not None
        for kind, record in self._reader.records():
            self._builder.add(kind, record)
        self._size = size
        self._lineage = self._builder.finish(self._reader.damage)  # repeatable as a log grows
        return self._lineage

    @property
    def last_seq(self) -> int:
        """The highest op number in the log so far (0 before the first op)."""
        ops = self.lineage().ops
        return ops[-1].seq if ops else 0

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


# -- the query --------------------------------------------------------------------------------


@dataclass
class _Target:
    """What a question is about: a node, or a file (with the node it was written from)."""

    node: str | None
    path: str | None = None


class Query:
    """Questions about one run. Build it with `query()`.

    >>> q = tracer.query("run.tlog")
    >>> [op.op for op in q.ancestry("out/features.csv")]
    ['read_csv', 'dropna', 'assign', 'to_csv']
    """

    def __init__(
        self,
        lineage: Lineage | None = None,
        *,
        session: LiveSession | None = None,
        cells: CellMap | None = None,
    ) -> None:
        if (lineage is None) == (session is None):
            raise TypeError("Query needs a Lineage or a live session")
        self._fixed = lineage
        self.session = session
        self._live = LiveLog(session.log_path) if session is not None else None
        path = lineage.path if lineage is not None else session.log_path  # type: ignore[union-attr]
        self._cells = cells
        self._cells_path = path
        self._cells_read: tuple[int | None, CellMap] | None = None
        self._for: Lineage | None = None
        self._flow: Flow | None = None
        self._columns: ColumnLineage | None = None
        self._consumers: dict[str, list[int]] = {}
        self._users: dict[int, list[int]] = {}

    # -- what the run holds ----------------------------------------------------------------
    @property
    def lineage(self) -> Lineage:
        """The run's model; for a live session, re-read if the log has grown."""
        lin = self._fixed if self._live is None else self._live.lineage()
        assert lin is not None
        if lin is not self._for:
            self._index(lin)
        return lin

    @property
    def live(self) -> bool:
        return self._live is not None

    @property
    def ops(self) -> list[Op]:
        """Every op, nested ones included, in call order."""
        return self.lineage.ops

    @property
    def nodes(self) -> dict[str, Node]:
        """Every node (one version of one data object) by id, in the order they were made."""
        return self.lineage.nodes

    @property
    def files(self) -> list[FileRecord]:
        """Every file read or written, in call order."""
        return self.lineage.files

    @property
    def cells(self) -> CellMap:
        """The notebook cells of the run (empty for a script), re-read when the magics
        update the map beside the log."""
        if self._cells is not None:
            return self._cells
        try:
            stamp: int | None = os.stat(CellMap.path_for(self._cells_path)).st_mtime_ns
        except OSError:
            stamp = None
        if self._cells_read is None or self._cells_read[0] != stamp:
            self._cells_read = (stamp, CellMap.load(self._cells_path))
        return self._cells_read[1]

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    def __repr__(self) -> str:
        lin = self.lineage
        kind = "live " if self.live else ""
        counts = f"{len(lin.ops)} ops, {len(lin.nodes)} nodes, {len(lin.files)} files"
        return f"<{kind}Query {lin.path!r}: {counts}>"

    # -- questions --------------------------------------------------------------------------
    def node(self, target: Any) -> Node:
        """The node a target names: for a file, the data written to it (or read from it)."""
        lin = self.lineage
        t = self._target(target)
        if t.node is None or t.node not in lin.nodes:
            raise QueryError(f"no data recorded for {_show(target)}")
        return lin.nodes[t.node]

    def producer(self, target: Any) -> Op | None:
        """The op that made the target (None for data from outside the traced code)."""
        lin = self.lineage
        t = self._target(target)
        if t.path is not None:
            write = self._last_write(t.path)
            return lin.op(write) if write is not None else None
        return lin.producer(t.node) if t.node is not None else None

    def ancestry(self, target: Any, *, nested: bool = False) -> list[Op]:
        """Every op the target depends on, its producer included, in call order.

        Ops are those made by user code directly; `nested=True` adds the calls made inside
        them (an assign's lambdas). A file read but never written has no ancestry in the run.
        """
        t = self._target(target)
        lin = self.lineage
        flow = self._flow
        assert flow is not None
        start: int | None
        if t.path is not None:
            start = self._last_write(t.path)
        else:
            op = lin.producer(t.node) if t.node is not None else None
            start = flow.top_of.get(op.seq) if op is not None else None
        if start is None:
            return []
        seen = {start}
        frontier = [start]
        while frontier:
            nxt = []
            for seq in frontier:
                for ref in flow.refs.get(seq, ()):
                    p = ref.producer
                    if p is not None and p not in seen:
                        seen.add(p)
                        nxt.append(p)
            frontier = nxt
        return self._ops(seen, nested)

    def descendants(self, target: Any, *, nested: bool = False) -> list[Op]:
        """Every op that used the target, directly or through what was made from it (files
        written and read back included), in call order."""
        self.lineage  # noqa: B018 - refresh a live session
        t = self._target(target)
        if t.path is not None:
            reads = [f.op for f in self.files if f.path == t.path and f.mode == "read"]
            first = sorted({self._top(seq) for seq in reads})
        else:
            first = list(self._consumers.get(t.node or "", ()))
        seen = set(first)
        frontier = list(first)
        while frontier:
            nxt = []
            for seq in frontier:
                for user in self._users.get(seq, ()):
                    if user not in seen:
                        seen.add(user)
                        nxt.append(user)
            frontier = nxt
        return self._ops(seen, nested)

    def columns_of(self, target: Any) -> dict[str, list[Origin]]:
        """For each column of the target, the source columns it was computed from.

        An `Origin` names a source (the path of a file read, or "object:<node id>" for data
        from outside the traced code), a column of it, and how: IDENTITY (copied), or
        TRANSFORMATION / AGGREGATION (computed from it). Follows renames, column selections,
        assign / setitem expressions and joins through the whole run.
        """
        node = self.node(target)
        info = self._column_lineage().of(node.id)
        return {col: sorted(self._through_files(origins)) for col, origins in info.columns.items()}

    def _through_files(self, origins: Iterable[Origin], depth: int = 0) -> set[Origin]:
        """Origins in a file this run wrote (and read back) replaced by where that file's
        columns came from: the answer names the run's real sources."""
        columns = self._column_lineage()
        out: set[Origin] = set()
        for o in origins:
            write = self._last_write(o.source) if depth < 16 else None
            if write is None:
                out.add(o)
                continue
            rec = next(
                f
                for f in self.files
                if f.path == o.source and f.mode != "read" and self._top(f.op) == write
            )
            upstream = columns.of(rec.node).columns.get(o.field) if rec.node else None
            if not upstream:
                out.add(o)
                continue
            for u in self._through_files(upstream, depth + 1):
                how = o.how if _STRENGTH.get(o.how, 0) >= _STRENGTH.get(u.how, 0) else u.how
                out.add(Origin(u.source, u.field, how))
        return out

    def where(self, op: Op) -> str:
        """An op's call site: "In[7]:3" in a notebook cell, else "file.py:12"."""
        label = self.cells.label(op)
        if label is not None:
            return label
        cs = op.callsite
        if cs is None:
            return "?"
        return f"{relative_path(cs.file, self.lineage.run.cwd)}:{cs.line}"

    # -- internals ------------------------------------------------------------------------
    def _index(self, lin: Lineage) -> None:
        flow = Flow.of(lin)
        consumers: dict[str, list[int]] = {}
        users: dict[int, list[int]] = {}
        for top in flow.top:
            for ref in flow.refs.get(top.seq, ()):
                if ref.node is not None and ref.via is None:
                    lst = consumers.setdefault(ref.node, [])
                    if top.seq not in lst:
                        lst.append(top.seq)
                if ref.producer is not None and ref.producer != top.seq:
                    lst = users.setdefault(ref.producer, [])
                    if top.seq not in lst:
                        lst.append(top.seq)
        self._for, self._flow, self._consumers, self._users = lin, flow, consumers, users
        self._columns = None  # computed on the first column question

    def _column_lineage(self) -> ColumnLineage:
        lin = self.lineage
        if self._columns is None:
            self._columns = ColumnLineage(lin, self._flow)
        return self._columns

    def _top(self, seq: int) -> int:
        assert self._flow is not None
        return self._flow.top_of.get(seq, seq)

    def _ops(self, seqs: set[int], nested: bool) -> list[Op]:
        lin = self.lineage
        assert self._flow is not None
        if nested:
            seqs = seqs | {s for s, top in self._flow.top_of.items() if top in seqs}
        return [op for op in lin.ops if op.seq in seqs]

    def _last_write(self, path: str) -> int | None:
        writes = [f.op for f in self.files if f.path == path and f.mode != "read"]
        return self._top(max(writes)) if writes else None

    def _target(self, x: Any) -> _Target:
        lin = self.lineage
        if isinstance(x, Node):
            return _Target(x.id)
        if isinstance(x, Op):
            raise TypeError("ask about what an op made (a node id, a Node) or a file, not the Op")
        if isinstance(x, str) and x in lin.nodes:
            return _Target(x)
        if isinstance(x, (str, os.PathLike)):
            path = self._file(os.fspath(x))
            written = [f for f in lin.files if f.path == path and f.mode != "read"]
            read = [f for f in lin.files if f.path == path and f.mode == "read"]
            rec = max(written, key=lambda f: f.op) if written else read[0]
            return _Target(rec.node, path)
        node = self._live_node(x)
        return _Target(node)

    def _file(self, name: str) -> str:
        """The recorded path a file name means: exact, relative to the run's directory or
        ours, then a unique path suffix or file name."""
        lin = self.lineage
        paths = list(dict.fromkeys(f.path for f in lin.files))
        cwd = lin.run.cwd or os.getcwd()
        exact = {os.path.normpath(os.path.join(cwd, name)), os.path.abspath(name)}
        for p in paths:
            if p in exact or p == name:
                return p
        tail = os.sep + os.path.normpath(name).lstrip(os.sep)
        for test in (
            lambda p: p.endswith(tail),
            lambda p: os.path.basename(p) == os.path.basename(name),
        ):
            hits = [p for p in paths if test(p)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise QueryError(
                    f"{name!r} matches several files: "
                    + ", ".join(relative_path(p, cwd) for p in hits)
                )
        more = ", …" if len(paths) > 6 else ""
        known = ", ".join(relative_path(p, cwd) for p in paths[:6]) + more
        hint = f" (files: {known})" if paths else ""
        raise QueryError(f"no node or file {name!r} in this run{hint}")

    def _live_node(self, obj: Any) -> str:
        if self.session is None:
            raise QueryError(
                f"{_show(obj)} is not a node id or a file of this run; a live object can be "
                "looked up only in a live session (tracer.query(t) with the Tracer that traced it)"
            )
        number = self.session.node_of(obj)
        if number is None:
            raise QueryError(f"this {type(obj).__name__} was never seen by the tracer")
        node = f"n{number}"
        if node not in self.lineage.nodes:
            raise QueryError(f"{node} is not in the log yet (the op that made it is still running)")
        return node


def _show(x: Any) -> str:
    if isinstance(x, (str, os.PathLike)):
        return repr(os.fspath(x))
    return f"this {type(x).__name__}"


# -- entry point ------------------------------------------------------------------------------

_remembered: LiveSession | None = None


def remember(session: LiveSession | None) -> None:
    """Make `session` (a `Tracer`) what `query()` asks about when given nothing (the notebook
    magics call this when a session starts)."""
    global _remembered
    _remembered = session


def query(source: Any = None) -> Query:
    """A `Query` on `source`: a log path, a `Lineage`, a `Tracer` (live: re-read as its log
    grows), or None for the notebook session of the `%lineage_*` magics (running or last)."""
    if source is None:
        source = _remembered
        if source is None:
            raise QueryError(
                "no notebook session to ask about: give a log path, a Lineage "
                "(tracer.load) or a Tracer"
            )
    if isinstance(source, Query):
        return source
    if isinstance(source, Lineage):
        return Query(source)
    if isinstance(source, LiveSession):
        if not os.path.exists(source.log_path):
            raise QueryError("this Tracer has not been started: it has no log yet")
        return Query(session=source)
    if isinstance(source, (str, os.PathLike)):
        from tracer.lineage.load import load

        return Query(load(source))
    raise TypeError(
        f"cannot query a {type(source).__name__}: give a log path, a Lineage or a Tracer"
    )
