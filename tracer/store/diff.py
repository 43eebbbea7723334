"""`diff A B`: align two runs' ops and say where their data first diverges, and what follows.

Ops are aligned by call site and op: (file name, function, source line text, op name), so
an edit elsewhere in the script that shifts line numbers does not break the alignment; the
two key sequences are matched with difflib (longest matching blocks), which also finds ops
only one run made. An aligned pair differs when the data differ: the content hash of a file
read or written, rows in or out, the output's columns or dtypes, the output fingerprints
(content or Merkle-derived, so a changed input cell shows at every op downstream), or an
error. A different path with the same content, parameters or timings alone do not count.

`compare(a, b)` is pure: it takes two `Lineage`s and returns a `RunDiff`.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Any

from tracer.lineage.graph import FileRecord, Lineage, Op

Key = tuple[Any, ...]


@dataclass
class Change:
    what: str  # "input file", "written file", "rows", "columns", "dtypes", "fingerprint", ...
    a: str
    b: str


@dataclass
class Pair:
    a: Op | None
    b: Op | None
    changes: list[Change] = field(default_factory=list)
    notes: list[Change] = field(default_factory=list)  # differences that are not divergence
    downstream: bool = False  # follows from the first divergence

    @property
    def differs(self) -> bool:
        return bool(self.changes) or self.a is None or self.b is None

    @property
    def op(self) -> Op:
        op = self.a or self.b
        assert op is not None
        return op


@dataclass
class FileChange:
    path: str  # relative path as written by run A (or B)
    a: str | None  # hash in A (None: not written there)
    b: str | None


@dataclass
class RunDiff:
    a: Lineage
    b: Lineage
    pairs: list[Pair]
    first: Pair | None
    files: list[FileChange]  # written files whose content differs
    outcome: Change | None  # status / exit code
    notes: list[Change]  # environment differences (python, libraries, backend)

    @property
    def equivalent(self) -> bool:
        return self.first is None and not self.files and self.outcome is None

    @property
    def differing(self) -> list[Pair]:
        return [p for p in self.pairs if p.differs]


def op_key(op: Op) -> Key:
    site = op.callsite
    if site is None:
        return (None, None, None, op.op, op.qualname)
    code = " ".join(site.code.split()) if site.code else site.line
    return (os.path.basename(site.file), site.function, code, op.op)


def compare(a: Lineage, b: Lineage) -> RunDiff:
    ka = [op_key(op) for op in a.ops]
    kb = [op_key(op) for op in b.ops]
    pairs: list[Pair] = []
    matcher = difflib.SequenceMatcher(None, ka, kb, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=False):
                pairs.append(_pair(a, b, a.ops[i], b.ops[j]))
        else:
            pairs.extend(Pair(op, None) for op in a.ops[i1:i2])
            pairs.extend(Pair(None, op) for op in b.ops[j1:j2])
    first = next((p for p in pairs if p.differs), None)
    if first is not None:
        _mark_downstream(a, b, pairs, first)
    return RunDiff(a, b, pairs, first, _written_files(a, b), _outcome(a, b), _environment(a, b))


def _pair(la: Lineage, lb: Lineage, a: Op, b: Op) -> Pair:
    p = Pair(a, b)
    fa, fb = _files_of(la, a.seq), _files_of(lb, b.seq)
    for fx, fy in zip(fa, fb, strict=False):
        what = "input file" if fx.mode == "read" else "written file"
        if fx.hash != fy.hash:
            p.changes.append(Change(f"{what} {os.path.basename(fx.path)}", _h(fx.hash),
                                    _h(fy.hash)))
        if fx.relpath != fy.relpath:
            p.notes.append(Change(f"{what} path", fx.relpath, fy.relpath))
    if len(fa) != len(fb):
        p.changes.append(Change("files", str(len(fa)), str(len(fb))))
    if (a.rows_in, a.rows_out) != (b.rows_in, b.rows_out):
        p.changes.append(Change("rows", _rows(a), _rows(b)))
    outs_a = [la.nodes.get(n) for n in a.outputs]
    outs_b = [lb.nodes.get(n) for n in b.outputs]
    if len(outs_a) != len(outs_b):
        p.changes.append(Change("outputs", str(len(outs_a)), str(len(outs_b))))
    for i, (x, y) in enumerate(zip(outs_a, outs_b, strict=False)):
        label = "" if len(outs_a) == 1 else f" (output {i + 1})"
        if x is None or y is None:
            continue
        if x.kind != y.kind:
            p.changes.append(Change("kind" + label, x.kind, y.kind))
        if x.shape != y.shape and x.shape and y.shape and x.shape[1:] != y.shape[1:]:
            p.changes.append(Change("shape" + label, str(x.shape), str(y.shape)))
        if x.columns != y.columns:
            p.changes.append(Change("columns" + label, _cols(x.columns, y.columns),
                                    _cols(y.columns, x.columns)))
        elif x.dtypes != y.dtypes:
            p.changes.append(Change("dtypes" + label, _dtypes(x, y), _dtypes(y, x)))
        if x.fingerprint != y.fingerprint:
            p.changes.append(Change("fingerprint" + label, _h(x.fingerprint), _h(y.fingerprint)))
    if a.error != b.error:
        p.changes.append(Change("error", a.error or "-", b.error or "-"))
    if a.partial != b.partial:
        p.notes.append(Change("partial", str(a.partial), str(b.partial)))
    if a.params != b.params:
        keys = sorted(set(a.params) | set(b.params))
        diff = [k for k in keys if a.params.get(k) != b.params.get(k)]
        p.notes.append(Change("parameters " + ", ".join(diff),
                              "; ".join(f"{k}={a.params.get(k, '-')}" for k in diff),
                              "; ".join(f"{k}={b.params.get(k, '-')}" for k in diff)))
    return p


def _files_of(lineage: Lineage, seq: int) -> list[FileRecord]:
    return [f for f in lineage.files if f.op == seq]


def _mark_downstream(a: Lineage, b: Lineage, pairs: list[Pair], first: Pair) -> None:
    """Flag the later differences that depend on the first one (through data, in either run)."""
    tainted_a: set[str] = set(first.a.outputs) if first.a else set()
    tainted_b: set[str] = set(first.b.outputs) if first.b else set()
    started = False
    for p in pairs:
        if p is first:
            started = True
            continue
        if not started:
            continue
        hit = (p.a is not None and any(n in tainted_a for n in p.a.inputs)) or (
            p.b is not None and any(n in tainted_b for n in p.b.inputs)
        )
        # Nested ops read from their parent's argument: they follow their parent.
        if not hit and p.a is not None and p.a.parent is not None:
            try:
                parent = a.op(p.a.parent)
            except KeyError:
                parent = None
            hit = parent is not None and any(n in tainted_a for n in parent.inputs)
        if hit:
            p.downstream = True
            if p.a is not None:
                tainted_a.update(p.a.outputs)
            if p.b is not None:
                tainted_b.update(p.b.outputs)


def _written_files(a: Lineage, b: Lineage) -> list[FileChange]:
    def finals(lineage: Lineage) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for f in lineage.files:
            if f.mode == "write":
                out[f.relpath] = f.hash
        return out

    wa, wb = finals(a), finals(b)
    changes = []
    for path in list(wa) + [p for p in wb if p not in wa]:
        if wa.get(path) != wb.get(path):
            changes.append(FileChange(path, wa.get(path), wb.get(path)))
    return changes


def _outcome(a: Lineage, b: Lineage) -> Change | None:
    ra, rb = a.run, b.run
    if (ra.status, ra.exit_code) == (rb.status, rb.exit_code):
        return None
    return Change("outcome", _status(ra.status, ra.exit_code), _status(rb.status, rb.exit_code))


def _environment(a: Lineage, b: Lineage) -> list[Change]:
    notes = []
    for label, x, y in [
        ("python", a.run.python, b.run.python),
        ("backend", a.run.backend, b.run.backend),
        ("tracer", a.run.tracer_version, b.run.tracer_version),
    ]:
        if x != y:
            notes.append(Change(label, str(x), str(y)))
    la = (a.run.trailer or {}).get("libraries") or {}
    lb = (b.run.trailer or {}).get("libraries") or {}
    for lib in sorted(set(la) | set(lb)):
        if la.get(lib) != lb.get(lib):
            notes.append(Change(lib, str(la.get(lib, "-")), str(lb.get(lib, "-"))))
    return notes


def _status(status: str, code: int | None) -> str:
    return status if code in (None, 0) else f"{status} (exit {code})"


def _h(value: str | None) -> str:
    return value if value else "-"


def _rows(op: Op) -> str:
    return f"{_n(op.rows_in)} → {_n(op.rows_out)}"


def _n(v: int | None) -> str:
    return "?" if v is None else f"{v:,}"


def _cols(x: list[str] | None, y: list[str] | None) -> str:
    """What run X's columns have that Y's lack (or their order, when the sets agree)."""
    if x is None:
        return "-"
    only = [c for c in x if c not in (y or [])]
    if only:
        return "has " + ", ".join(only)
    if y is not None and set(x) == set(y):
        return "order " + ", ".join(x)
    return "-"


def _dtypes(x: Any, y: Any) -> str:
    triples = zip(x.columns or [], x.dtypes or [], y.dtypes or [], strict=False)
    pairs = [f"{c}: {d}" for c, d, e in triples if d != e]
    return ", ".join(pairs) or ", ".join(x.dtypes or [])
