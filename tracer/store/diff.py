"""`diff A B`: align two runs' ops and say where their data first diverges, and what follows.

Ops are aligned by call site and op: (file name, function, source line text, op name), so
an edit elsewhere in the script that shifts line numbers does not break the alignment; the
two key sequences are matched with difflib (longest matching blocks). Between those blocks a
second pass pairs the ops of an *edited* line: same file, function and op, at the same line
or on a line whose text is mostly the same; such a pair differs by its code. What is left
is ops only one run made. An aligned pair differs when the code of its line or the data
differ: the content hash of a file read or written, rows in or out, the output's columns or
dtypes, the output fingerprints (content or Merkle-derived, so a changed input cell shows at
every op downstream), or an error. A different path with the same content, parameters or
timings alone do not count (parameters are shown as notes).

The first differing op and the ops after it on the same line make the first divergent
`Site` (the unit a person edits); every later op that uses data derived from it is
downstream; the remaining differences are grouped into sites of their own.

`compare(a, b)` is pure: it takes two `Lineage`s and returns a `RunDiff`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
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

    @property
    def rows_shift(self) -> int | None:
        """B's rows minus A's: of the output when both runs know it, else of the input (a
        write, a fit, a call that failed in one run); None for an op only one run made."""
        if self.a is None or self.b is None:
            return None
        for x, y in ((self.a.rows_out, self.b.rows_out), (self.a.rows_in, self.b.rows_in)):
            if x is not None and y is not None:
                return y - x
        return None


@dataclass
class Site:
    """Consecutive pairs on one source line (its number in A and in B, None for a run that
    made none of its ops), from the first that differs, and the ops downstream of them."""

    file: str | None
    line_a: int | None
    line_b: int | None
    pairs: list[Pair]
    downstream: list[Pair] = field(default_factory=list)  # later ops using data derived from it

    def code(self, side: str) -> str | None:
        ops = [p.a if side == "a" else p.b for p in self.pairs]
        return next((_code(op) for op in ops if op is not None and op.callsite), None)

    @property
    def edited(self) -> bool:
        """Both runs ran this line and its text differs."""
        a, b = self.code("a"), self.code("b")
        return a is not None and b is not None and a != b

    @property
    def differing(self) -> list[Pair]:
        return [p for p in self.pairs if p.differs]


@dataclass
class FileChange:
    path: str  # relative path as written by run A (or B)
    a: str | None  # hash in A (None: not written there)
    b: str | None
    op_a: int | None = None  # the op that wrote it last, in A
    op_b: int | None = None


@dataclass
class RunDiff:
    a: Lineage
    b: Lineage
    pairs: list[Pair]
    first: Pair | None
    files: list[FileChange]  # written files whose content differs
    outcome: Change | None  # status / exit code
    notes: list[Change]  # environment differences (python, libraries, backend)
    site: Site | None = None  # the line of the first divergence
    downstream: list[Pair] = field(default_factory=list)  # its downstream (site.downstream)
    others: list[Site] = field(default_factory=list)  # later differing lines, not caused by it
    # The last ops of one run that the other never reached because it stopped (error,
    # interrupted): "A" or "B" (the run that made them) and the ops.
    unreached: tuple[str, list[Pair]] | None = None

    @property
    def equivalent(self) -> bool:
        return self.first is None and not self.files and self.outcome is None

    @property
    def differing(self) -> list[Pair]:
        return [p for p in self.pairs if p.differs]

    def files_of(self, site: Site) -> list[FileChange]:
        """The differing written files whose last write is at the site or downstream of it."""
        ops = site.pairs + site.downstream
        seqs_a = {p.a.seq for p in ops if p.a is not None}
        seqs_b = {p.b.seq for p in ops if p.b is not None}
        return [f for f in self.files if f.op_a in seqs_a or f.op_b in seqs_b]


# An edited line is still the same call site when this much of its text is unchanged
# (difflib ratio): `x > 2000` -> `x > 3000` is, a different statement is not.
SAME_LINE_RATIO = 0.6


def op_key(op: Op) -> Key:
    site = op.callsite
    if site is None:
        return (None, None, None, op.op, op.qualname)
    code = _code(op) or site.line
    return (os.path.basename(site.file), site.function, code, op.op)


def _code(op: Op) -> str | None:
    """The op's source line with runs of blanks made one (indentation does not count)."""
    site = op.callsite
    return " ".join(site.code.split()) if site is not None and site.code else None


def compare(a: Lineage, b: Lineage) -> RunDiff:
    ka = [op_key(op) for op in a.ops]
    kb = [op_key(op) for op in b.ops]
    # The common head and tail are aligned as they are: difflib costs time quadratic in the
    # repeats of a key (the ops of a loop), and an edit is usually one short stretch.
    head = 0
    while head < min(len(ka), len(kb)) and ka[head] == kb[head]:
        head += 1
    tail = 0
    while tail < min(len(ka), len(kb)) - head and ka[-1 - tail] == kb[-1 - tail]:
        tail += 1
    pairs = [_pair(a, b, a.ops[i], b.ops[i]) for i in range(head)]
    matcher = difflib.SequenceMatcher(
        None, ka[head : len(ka) - tail], kb[head : len(kb) - tail], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        i1, i2, j1, j2 = i1 + head, i2 + head, j1 + head, j2 + head
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=False):
                pairs.append(_pair(a, b, a.ops[i], b.ops[j]))
        else:
            pairs.extend(_realign(a, b, a.ops[i1:i2], b.ops[j1:j2]))
    for k in range(tail, 0, -1):
        pairs.append(_pair(a, b, a.ops[-k], b.ops[-k]))
    first = next((p for p in pairs if p.differs), None)
    d = RunDiff(a, b, pairs, first, _written_files(a, b), _outcome(a, b), _environment(a, b))
    if first is not None:
        _group(d)
    return d


def _group(d: RunDiff) -> None:
    """Sites in order of their first differing op, each with its downstream, in one pass:
    every node an op makes is labelled with the site its data derive from (the earliest,
    when several); an aligned op that reads a labelled node is downstream of that site, a
    differing op that reads none (or is only in one run) starts the next site."""
    pairs = d.pairs
    sites: list[Site] = []
    labels: tuple[dict[str, int], dict[str, int]] = ({}, {})  # node id -> site, in A and B
    skip: set[int] = set()  # where a run stopped: not sites, not downstream
    i = 0
    while i < len(pairs):
        p = pairs[i]
        source = None if id(p) in skip else _source(d.a, p, labels)
        if source is not None:
            _label(p, source, labels)
            if p.a is not None and p.b is not None:
                sites[source].downstream.append(p)
                i += 1
                continue
        if not p.differs or id(p) in skip:
            i += 1
            continue
        def downstream_of_another(q: Pair) -> bool:  # (this site is not labelled yet)
            return _source(d.a, q, labels) is not None

        n = len(sites)
        site = _site(pairs, i, downstream_of_another)
        for q in site.pairs:
            _label(q, n, labels)
        sites.append(site)
        i += len(site.pairs)
        if n == 0:
            d.unreached = _unreached(d.a, d.b, pairs[i:])
            skip.update(id(q) for q in (d.unreached[1] if d.unreached else []))
    d.site, d.others = sites[0], sites[1:]
    d.downstream = d.site.downstream
    for p in d.downstream:
        p.downstream = True


def _source(a: Lineage, p: Pair, labels: tuple[dict[str, int], dict[str, int]]) -> int | None:
    """The earliest site whose data the op reads, in either run (None: none). Nested ops
    read their parent's argument: they follow their parent's inputs."""
    found = [labels[0][n] for n in (p.a.inputs if p.a else ()) if n in labels[0]]
    found += [labels[1][n] for n in (p.b.inputs if p.b else ()) if n in labels[1]]
    if not found and p.a is not None and p.a.parent is not None:
        try:
            parent = a.op(p.a.parent)
        except KeyError:
            parent = None
        if parent is not None:
            found = [labels[0][n] for n in parent.inputs if n in labels[0]]
    return min(found, default=None)


def _label(p: Pair, site: int, labels: tuple[dict[str, int], dict[str, int]]) -> None:
    for op, made in ((p.a, labels[0]), (p.b, labels[1])):
        for n in op.outputs if op is not None else ():
            made[n] = min(made.get(n, site), site)


def _unreached(a: Lineage, b: Lineage, pairs: list[Pair]) -> tuple[str, list[Pair]] | None:
    """The trailing ops only one run made, when the other run did not end ok: they are where
    it stopped, not code it lacks."""
    for side, other in (("A", b), ("B", a)):
        tail: list[Pair] = []
        for p in reversed(pairs):
            if (p.b if side == "A" else p.a) is not None:
                break
            tail.append(p)
        if tail and other.run.status != "ok":
            return side, tail[::-1]
    return None


def _realign(la: Lineage, lb: Lineage, xs: list[Op], ys: list[Op]) -> list[Pair]:
    """Pairs for ops the exact keys left unmatched: an edited line's ops in both runs are one
    changed op each (`_same_site`), anything else was made by one run only."""
    def loose(op: Op) -> Key:
        return op_key(op)[:2] + op_key(op)[3:]

    out: list[Pair] = []
    matcher = difflib.SequenceMatcher(None, [loose(x) for x in xs], [loose(y) for y in ys],
                                      autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for x, y in zip(xs[i1:i2], ys[j1:j2], strict=True):
                out.extend([_pair(la, lb, x, y)] if _same_site(x, y) else
                           [Pair(x, None), Pair(None, y)])
        else:
            out.extend(_interleave(xs[i1:i2], ys[j1:j2]))
    return out


def _interleave(xs: list[Op], ys: list[Op]) -> list[Pair]:
    """One-sided pairs in line order where both runs' ops are in one file, so the ops of one
    edited line sit together (A's first on a tie), else A's ops then B's."""
    out: list[Pair] = []
    i = j = 0
    while i < len(xs) or j < len(ys):
        if j == len(ys):
            out.append(Pair(xs[i], None))
            i += 1
        elif i == len(xs) or _before(ys[j], xs[i]):
            out.append(Pair(None, ys[j]))
            j += 1
        else:
            out.append(Pair(xs[i], None))
            i += 1
    return out


def _before(y: Op, x: Op) -> bool:
    sx, sy = x.callsite, y.callsite
    return sx is not None and sy is not None and sx.file == sy.file and sy.line < sx.line


def _same_site(x: Op, y: Op) -> bool:
    if x.callsite is None or y.callsite is None:
        return False
    if x.callsite.line == y.callsite.line:
        return True
    ratio = difflib.SequenceMatcher(None, _code(x) or "", _code(y) or "").ratio()
    return ratio >= SAME_LINE_RATIO


def _line(op: Op | None) -> int | None:
    return op.callsite.line if op is not None and op.callsite is not None else None


def _file(p: Pair) -> str | None:
    site = p.op.callsite
    return os.path.basename(site.file) if site is not None else None


def _site(pairs: list[Pair], start: int, stop: Callable[[Pair], bool]) -> Site:
    """The pairs from `start` on that lie on the same line (in each run that made them), up
    to one that `stop`s it (downstream of another site).

    A line one run made alone takes the other run's ops only on the same line number: an op
    removed at line 3 and one added at line 3 are an edit, not one added at line 10."""
    first = pairs[start]
    site = Site(_file(first), _line(first.a), _line(first.b), [first])
    if site.file is None:
        return site
    for p in pairs[start + 1:]:
        if _file(p) != site.file or not (
            _fits(_line(p.a), site.line_a, site.line_b)
            and _fits(_line(p.b), site.line_b, site.line_a)
        ) or stop(p):
            break
        site.line_a = site.line_a if site.line_a is not None else _line(p.a)
        site.line_b = site.line_b if site.line_b is not None else _line(p.b)
        site.pairs.append(p)
    return site


def _fits(line: int | None, own: int | None, other: int | None) -> bool:
    """An op's line fits a site's line in its run (or, when that run made none of the
    site's ops yet, the other run's line)."""
    return line is None or line == (own if own is not None else other)


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
    if _code(a) != _code(b):
        p.changes.append(Change("code", _code(a) or "-", _code(b) or "-"))
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


def _written_files(a: Lineage, b: Lineage) -> list[FileChange]:
    def finals(lineage: Lineage) -> dict[str, tuple[str | None, int]]:
        out: dict[str, tuple[str | None, int]] = {}
        for f in lineage.files:
            if f.mode == "write":
                out[f.relpath] = (f.hash, f.op)
        return out

    wa, wb = finals(a), finals(b)
    changes = []
    for path in list(wa) + [p for p in wb if p not in wa]:
        (ha, oa), (hb, ob) = wa.get(path, (None, None)), wb.get(path, (None, None))
        if ha != hb:
            changes.append(FileChange(path, ha, hb, oa, ob))
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
