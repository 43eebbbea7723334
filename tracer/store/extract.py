"""Read one log into the facts the index keeps: the run, its files, and what each write came from.

`extract(path)` streams the log with `LogReader` (bounded memory per record) and keeps only
what the index needs: each op's name, parent, inputs and call site, each node's origin, and
the FILE records; the lineage model's `Builder` reads the call sites, files, errors and
trailer, and the interned strings (an op's name may be one). For every file written it then
walks the written node's ancestry (node → the op that made it → that op's inputs → ...) and
collects the reads found on the way: those are the inputs of that write. A write whose node is
unknown gets every earlier read of the run instead, marked `approx`.

It raises `LogFormatError` only for a file that is no readable log at all; a log that stops
early (a killed run, a damaged tail) gives what it holds, with `damage` set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from tracer.events.format import Kind
from tracer.events.reader import LogReader
from tracer.lineage.build import Builder

MAX_STEPS = 40  # op names kept per write (the count is always exact)


@dataclass
class FileFact:
    op: int
    op_name: str | None
    site: str | None
    path: str
    mode: str
    hash: str | None
    size: int | None
    format: str | None
    node: str | None
    mtime_ns: int | None
    steps: list[str] = field(default_factory=list)
    n_steps: int = 0
    inputs: list[int] = field(default_factory=list)  # indexes into RunFacts.files (reads)
    approx: bool = False


@dataclass
class RunFacts:
    log: str
    log_size: int
    log_mtime_ns: int
    run_id: str | None
    script: str | None
    argv: list[str]
    cwd: str | None
    host: str | None
    pid: int | None
    python: str | None
    backend: str | None
    tracer_version: str | None
    started: str | None
    ended: str | None
    status: str
    exit_code: int | None
    error: str | None
    duration_s: float | None
    ops: int
    partial: int
    errors: int
    files: list[FileFact]
    damage: str | None

    @property
    def files_in(self) -> int:
        return len({f.path for f in self.files if f.mode == "read"})

    @property
    def files_out(self) -> int:
        return len({f.path for f in self.files if f.mode == "write"})


@dataclass(slots=True)
class _Op:
    name: Any  # as recorded: inline, or the id of a STRING record (see _name)
    parent: int | None
    inputs: tuple[int, ...]
    site: int | None


# Kinds the lineage model's Builder reads for us: it resolves their interned strings. OP and NODE
# records, nearly all of a log, are kept here in the little the index needs: building the model's
# Op and Node objects for each would take several times as long as reading the log.
_BUILT = frozenset({Kind.STRING, Kind.CALLSITE, Kind.FILE, Kind.ERROR, Kind.TRAILER})


def extract(path: str) -> RunFacts:
    path = os.path.abspath(path)
    st = os.stat(path)
    ops: dict[int, _Op] = {}
    origins: dict[int, int | None] = {}
    partial = 0
    with LogReader(path) as reader:
        header = reader.header
        builder = Builder(header, path)
        for kind, r in reader.records():
            if kind == Kind.OP:
                seq = r["seq"]
                if type(seq) is not int:
                    continue
                inputs = tuple(i for i in (r["inputs"] or ()) if type(i) is int)
                ops[seq] = _Op(r["op"], r["parent"], inputs, r["site"])
                facts = r["facts"] if isinstance(r["facts"], dict) else {}
                if facts.get("partial") or facts.get("lost"):
                    partial += 1
            elif kind == Kind.NODE:
                if type(r["id"]) is int:
                    origins[r["id"]] = r["origin"] if type(r["origin"]) is int else None
            elif kind in _BUILT:
                if kind != Kind.FILE or (isinstance(r["path"], str) and type(r["op"]) is int):
                    builder.add(kind, r)
        damage = reader.damage.detail if reader.damage is not None else None

    cwd = header.get("cwd") if isinstance(header.get("cwd"), str) else None
    files: list[FileFact] = []
    for f in builder.files:
        fpath = f.path
        if not os.path.isabs(fpath) and cwd:
            fpath = os.path.join(cwd, fpath)
        op = ops.get(f.op)
        mode = {"r": "read", "w": "write"}.get(f.mode, f.mode)
        files.append(
            FileFact(
                op=f.op,
                op_name=_name(builder, op.name) if op is not None else None,
                site=_site(builder, op.site) if op is not None else None,
                path=os.path.normpath(fpath),
                mode=str(mode),
                hash=f.hash if isinstance(f.hash, str) else None,
                size=f.size if type(f.size) is int else None,
                format=f.format if isinstance(f.format, str) else None,
                node=f.node,
                mtime_ns=f.mtime_ns if type(f.mtime_ns) is int else None,
            )
        )
    _derive_inputs(files, ops, origins, builder)

    trailer = builder.trailer
    t: dict[str, Any] = trailer if isinstance(trailer, dict) else {}
    counts: dict[str, Any] = t["counts"] if isinstance(t.get("counts"), dict) else {}
    duration = t.get("duration_s")
    return RunFacts(
        log=path,
        log_size=st.st_size,
        log_mtime_ns=st.st_mtime_ns,
        run_id=_str(header.get("run_id")),
        script=_str(header.get("script")),
        argv=[str(a) for a in header.get("argv") or []],
        cwd=cwd,
        host=_str(header.get("host")),
        pid=header.get("pid") if type(header.get("pid")) is int else None,
        python=_str(header.get("python")),
        backend=_str(header.get("backend")),
        tracer_version=_str(header.get("tracer_version")),
        started=_str(header.get("started")),
        ended=_str(t.get("ended")),
        status=(_str(t.get("status")) or "ok") if trailer is not None else "unfinished",
        exit_code=t.get("exit_code") if type(t.get("exit_code")) is int else None,
        error=_str(t.get("error")),
        duration_s=float(duration) if isinstance(duration, (int, float)) else None,
        ops=max(len(ops), int(counts.get("ops") or 0)) if trailer else len(ops),
        partial=partial,
        errors=len(builder.errors),
        files=files,
        damage=damage,
    )


def _site(builder: Builder, site_id: int | None) -> str | None:
    """Where an op was called, as the index shows it: `prep.py:12 clean()`."""
    site = builder.sites.get(site_id) if site_id is not None else None
    if site is None:
        return None
    return f"{os.path.basename(str(site.file))}:{site.line} {site.function or '?'}()"


def _name(builder: Builder, name: Any) -> str:
    """An op's name as the index keeps it: recorded inline, or interned (the id of a STRING
    record, which the builder has read)."""
    return str(builder.text(name))


def _derive_inputs(
    files: list[FileFact], ops: dict[int, _Op], origins: dict[int, int | None], builder: Builder
) -> None:
    reads_by_op: dict[int, list[int]] = {}
    for i, f in enumerate(files):
        if f.mode == "read":
            reads_by_op.setdefault(f.op, []).append(i)
    for f in files:
        if f.mode != "write":
            continue
        node = int(f.node[1:]) if f.node else None
        if node is None or node not in origins:
            f.approx = True
            f.inputs = [i for i, g in enumerate(files) if g.mode == "read" and g.op < f.op]
            f.steps = [f.op_name or "?"]
            f.n_steps = 1
            continue
        seen: set[int] = set()
        stack = [node]
        visited_nodes: set[int] = set()
        while stack:
            n = stack.pop()
            if n in visited_nodes:
                continue
            visited_nodes.add(n)
            seq = origins.get(n)
            if seq is None or seq in seen:
                continue
            seen.add(seq)
            op = ops.get(seq)
            if op is not None:
                stack.extend(op.inputs)
        # The write op itself, and the top-level ops of the chain (nested reads inside an
        # assign lambda belong to their assign).
        top = sorted(s for s in seen if _top(s, ops) == s)
        f.steps = [_name(builder, ops[s].name) for s in top[:MAX_STEPS]] + [f.op_name or "?"]
        f.n_steps = len(top) + 1
        inputs: list[int] = []
        for s in sorted(seen):
            inputs.extend(reads_by_op.get(s, ()))
        f.inputs = inputs


def _top(seq: int, ops: dict[int, _Op]) -> int:
    hops = 0
    while True:
        op = ops.get(seq)
        if op is None or op.parent is None or op.parent not in ops or hops > 1000:
            return seq
        seq, hops = op.parent, hops + 1


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
