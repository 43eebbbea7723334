"""Pure functions over the lineage model, shared by every view and exporter.

Nothing here draws or prints: these functions take a `Lineage` and return plain data. `Flow`
answers "who feeds whom" among the top-level ops (the ops user code made directly), with one
*primary* input per op, so a view can lay a pipeline out as lanes. `column_lineage` follows
every column of every node back to the columns of the files read (OpenLineage's
IDENTITY / TRANSFORMATION / AGGREGATION, and the dataset-wide FILTER / JOIN / GROUP_BY / SORT).
`find_artifact` and `artifact_steps` answer "where did this file or model come from".
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from tracer.catalog import families as fam
from tracer.lineage.graph import FileRecord, Lineage, Node, Op

# -- what ops mean: their family (catalog/families.py), never their names --------------------------

# Kind preference when choosing an op's primary input (lower first).
_KIND_RANK = {"model": 0, "DataFrame": 1, "ndarray": 2, "Series": 3}

# An op's "direct" column transformations, as OpenLineage names them.
IDENTITY, TRANSFORMATION, AGGREGATION = fam.SAME, fam.TRANSFORMED, fam.AGGREGATED
FILTER, JOIN, GROUP_BY, SORT = "FILTER", "JOIN", "GROUP_BY", "SORT"
_STRENGTH = {IDENTITY: 0, TRANSFORMATION: 1, AGGREGATION: 2}
# The role of a folded op's input that only its later ops took (`Fold.fed_by`).
LOOP = "loop"


def relative_path(path: str, cwd: str | None) -> str:
    """A path as the run saw it: relative to its working directory `cwd` when inside it."""
    if cwd:
        try:
            r = os.path.relpath(path, cwd)
        except ValueError:
            return path
        if not r.startswith(".."):
            return r
    return path


def param_value(op: Op, name: str) -> object:
    """A parameter's value parsed back from its repr (a str, a list of str...), or None when
    the repr is no literal (a callable, a truncated list)."""
    text = op.params.get(name)
    if text is None:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def param_columns(op: Op, *names: str) -> list[str]:
    """Column names given in parameters `names` (a label or a list of labels)."""
    out: list[str] = []
    for name in names:
        value = param_value(op, name)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, (list, tuple)):
            out.extend(v for v in value if isinstance(v, str))
    return out


def takes_mask(op: Op) -> bool:
    """Whether `op`'s inputs after the first choose which of its rows it keeps: a row filter's
    do (`df[df.a > 3]`: the mask); a split's do not (`train_test_split(X, y)` splits `y` alike,
    at random)."""
    return op.family == fam.ROW_FILTER


def _makes_groups(op: Op) -> bool:
    """The op that groups a frame (`df.groupby(k)`), not one applied to its groups."""
    return op.family == fam.GROUP and not op.meaning.on_group


def file_of(lineage: Lineage, op: Op) -> FileRecord | None:
    """The FILE record of an op that read or wrote a file."""
    for f in lineage.files:
        if f.op == op.seq:
            return f
    return None


# -- who feeds whom ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """One input of a top-level op: the node (None for an inferred link) and the top-level op
    that made it (None: the node came from outside the traced code)."""

    node: str | None
    producer: int | None
    via: str | None = None  # "file" when the link goes through a file written then read
    inferred: bool = False


@dataclass
class Flow:
    """The data flow among top-level ops, with one primary input ("home") per op.

    `home[seq]` is the op whose output this op mainly works on, or a source key: "file:<path>"
    for a read, "object:<node id>" for an input of unknown origin, "new:<seq>" for an op that
    made data from nothing traced. A view draws each op once, under its home, and refers to it
    from its other inputs (`references`). In a folded lineage, a fold whose later ops took the
    output of another fold (a loop going round) is referred to from there too, as `LOOP`.
    """

    lineage: Lineage
    top: list[Op] = field(default_factory=list)
    top_of: dict[int, int] = field(default_factory=dict)
    refs: dict[int, list[Ref]] = field(default_factory=dict)
    home: dict[int, int | str] = field(default_factory=dict)
    kids: dict[int | str, list[int]] = field(default_factory=dict)
    references: dict[int | str, list[tuple[int, str]]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    nested: dict[int, list[Op]] = field(default_factory=dict)

    @classmethod
    def of(cls, lineage: Lineage) -> Flow:
        flow = cls(lineage)
        flow._build()
        return flow

    def _build(self) -> None:
        lin = self.lineage
        by_seq = {op.seq: op for op in lin.ops}
        for op in lin.ops:  # ops are in seq order; a parent's seq is below its children's
            parent = op.parent
            if parent is not None and parent in by_seq:
                self.top_of[op.seq] = self.top_of.get(parent, parent)
                self.nested.setdefault(self.top_of[op.seq], []).append(op)
            else:
                self.top_of[op.seq] = op.seq
                self.top.append(op)
        writes: dict[str, int] = {}
        for op in self.top:
            self.refs[op.seq] = self._refs(op, writes)
            f = file_of(lin, op)
            if f is not None and f.mode == "write":
                writes[f.path] = op.seq
        for op in self.top:
            h = self._home(op)
            self.home[op.seq] = h
            self.kids.setdefault(h, []).append(op.seq)
            if isinstance(h, str) and h not in self.sources:
                self.sources.append(h)
            for r in self.refs[op.seq]:
                target: int | str | None = r.producer
                if target is None and r.node is not None:
                    target = f"object:{r.node}"
                if target is None or target == h:
                    continue
                role = self.role_of(op, r)
                self.references.setdefault(target, []).append((op.seq, role))
                if isinstance(target, str) and target not in self.sources:
                    self.sources.append(target)
        # a folded op whose later ops took data from another fold: a loop going round
        for op in self.top:
            for seq in op.fold.fed_by if op.fold is not None else ():
                src = self.top_of.get(seq)
                if src is not None and src != op.seq and src != self.home[op.seq]:
                    self.references.setdefault(src, []).append((op.seq, LOOP))
        # a source with only references (an unfitted model made outside) sorts by first use
        first_use: dict[str, int] = {}
        for key, seqs in self.kids.items():
            if isinstance(key, str):
                first_use[key] = min(seqs)
        for key, uses in self.references.items():
            if isinstance(key, str):
                first_use[key] = min(first_use.get(key, 1 << 62), *(s for s, _ in uses))
        self.sources.sort(key=lambda k: first_use.get(k, 0))

    def _producer(self, node_id: str) -> int | None:
        op = self.lineage.producer(node_id)
        return None if op is None else self.top_of.get(op.seq)

    def _refs(self, op: Op, writes: dict[str, int]) -> list[Ref]:
        refs: list[Ref] = []
        seen: set[str] = set()
        for nid in op.inputs:
            if nid not in seen:
                seen.add(nid)
                refs.append(Ref(nid, self._producer(nid)))
        # inputs of nested ops made outside this op (a lambda reading another frame)
        for child in self.nested.get(op.seq, ()):
            for nid in child.inputs:
                p = self._producer(nid)
                if nid in seen or p == op.seq:
                    continue
                seen.add(nid)
                refs.append(Ref(nid, p))
        f = file_of(self.lineage, op)
        if f is not None and f.mode == "read" and f.path in writes:
            refs.append(Ref(f.node, writes[f.path], via="file"))
        if not refs and op.meaning.on_group and op.callsite is not None:
            # GroupBy objects are not nodes: link `df.groupby(k)[c].sum()` through its call site
            for prev in reversed(self.top):
                if prev.seq >= op.seq:
                    continue
                if prev.callsite != op.callsite or prev.thread != op.thread:
                    break
                if prev.meaning.grouped:
                    refs.append(Ref(None, prev.seq, inferred=True))
                    break
        return refs

    def _home(self, op: Op) -> int | str:
        refs = self.refs[op.seq]
        made = [r for r in refs if r.producer is not None]
        if made:
            if op.meaning.keeps_rows and refs[0].producer is not None:
                return refs[0].producer
            if any(r.via == "file" for r in made):
                return next(r.producer for r in made if r.via == "file")  # type: ignore[return-value]
            # fit hangs under the data it learns from; predict/transform under their model
            fitting = op.family == fam.FIT
            best = min(
                made,
                key=lambda r: (
                    self._rank(r.node) + (9 if fitting and self._rank(r.node) == 0 else 0)
                ),
            )
            return best.producer  # type: ignore[return-value]
        f = file_of(self.lineage, op)
        if f is not None and f.mode == "read":
            return f"file:{f.path}"
        if refs and refs[0].node is not None:
            return f"object:{refs[0].node}"
        return f"new:{op.seq}"

    def _rank(self, node_id: str | None) -> int:
        node = self.lineage.nodes.get(node_id or "")
        return _KIND_RANK.get(node.kind, 4) if node else 5

    def role_of(self, op: Op, ref: Ref) -> str:
        """How `op` uses an input that is not its home: "mask", "model", "right"..."""
        node = self.lineage.nodes.get(ref.node or "")
        if ref.via == "file":
            return "file"
        if takes_mask(op) and node is not None and node.kind in ("Series", "ndarray"):
            return "mask"
        if node is not None and node.kind == "model":
            return "model"
        if op.family == fam.JOIN:
            return "right"
        if op.family == fam.FIT and node is not None and node.kind in ("Series", "ndarray"):
            return "target"
        return "input"

    def subtree_size(self, key: int | str, _memo: dict[int | str, int] | None = None) -> int:
        memo = {} if _memo is None else _memo
        # iterative post-order: pipelines can be thousands of ops long
        order: list[int | str] = []
        stack: list[int | str] = [key]
        while stack:
            k = stack.pop()
            if k in memo:
                continue
            order.append(k)
            stack.extend(c for c in self.kids.get(k, ()) if c not in memo)
        for k in reversed(order):
            memo[k] = (0 if isinstance(k, str) else 1) + sum(
                memo.get(c, 1) for c in self.kids.get(k, ())
            )
        return memo[key]


def untracked(flow: Flow) -> list[Op]:
    """The top-level calls that touched no data tracer follows, in call order: no input, no
    output, no file, nothing made inside them or linked to them, no error (`pd.to_datetime`
    of a literal string, `pickle.dumps` of a dict, partial or not: on 3.11, ctrace cannot see
    what `pickle.dumps` returns). A view may list them apart, quietly."""
    lin = flow.lineage
    return [
        op
        for op in flow.top
        if not (op.inputs or op.outputs or op.error or (op.facts or {}).get("lost"))
        and not (flow.refs.get(op.seq) or flow.kids.get(op.seq) or flow.references.get(op.seq))
        and not flow.nested.get(op.seq)
        and file_of(lin, op) is None
    ]


def source_node(lineage: Lineage, key: str) -> Node | None:
    if key.startswith("object:"):
        return lineage.nodes.get(key.partition(":")[2])
    return None


# -- column lineage ---------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Origin:
    """A column of a source dataset that a column depends on, and how."""

    source: str  # a file path, or "object:<node id>" for data of unknown origin
    field: str
    how: str  # IDENTITY | TRANSFORMATION | AGGREGATION, or FILTER | JOIN | GROUP_BY | SORT


@dataclass
class ColumnInfo:
    """Where each column of one node comes from, and which columns shaped the whole node."""

    columns: dict[str, frozenset[Origin]]
    indirect: frozenset[Origin]
    # a fitted model: what its target (y) came from; every prediction depends on it too
    target: frozenset[Origin] = frozenset()

    def all_direct(self) -> frozenset[Origin]:
        out: set[Origin] = set(self.target)
        for s in self.columns.values():
            out |= s
        return frozenset(out)


def _paired(
    infos: list[ColumnInfo], nodes: list[Node | None]
) -> list[tuple[ColumnInfo, Node | None]]:
    """Each input's ColumnInfo with its node (None for inputs inferred without a node)."""
    return list(zip(infos, nodes + [None] * (len(infos) - len(nodes)), strict=False))


def _columns_of(node: Node | None) -> list[str]:
    if node is None:
        return [""]
    if node.kind in ("DataFrame", "Series", "model") and node.columns:
        return list(node.columns)
    return [""]


_AS_CACHE: dict[tuple[frozenset[Origin], str], frozenset[Origin]] = {}


def _as(origins: Iterable[Origin], how: str) -> frozenset[Origin]:
    """Compose a step of kind `how` after `origins` (the stronger kind wins). Long pipelines
    pass the same sets along again and again: results are shared, not rebuilt."""
    fs = origins if isinstance(origins, frozenset) else frozenset(origins)
    if how == IDENTITY:
        return fs
    key = (fs, how)
    hit = _AS_CACHE.get(key)
    if hit is not None:
        return hit
    strength = _STRENGTH[how]
    out = frozenset(
        o if _STRENGTH.get(o.how, 0) >= strength else Origin(o.source, o.field, how) for o in fs
    )
    if len(_AS_CACHE) > 100_000:
        _AS_CACHE.clear()
    _AS_CACHE[key] = out
    return out


def _indirect(origins: Iterable[Origin], how: str) -> frozenset[Origin]:
    return frozenset(Origin(o.source, o.field, how) for o in origins)


_WORD = re.compile(r"`([^`]+)`|[A-Za-z_][A-Za-z_0-9]*")


def _expr_columns(expr: str, columns: Iterable[str]) -> list[str]:
    cols = set(columns)
    found = []
    for m in _WORD.finditer(expr):
        name = m.group(1) or m.group(0)
        if name in cols and name not in found:
            found.append(name)
    return found


class ColumnLineage:
    """Column-level lineage of every node, computed forward over the ops once.

    `of(node_id)` gives a `ColumnInfo`. Sources are the files read (by path) and nodes that
    came from outside the traced code ("object:<id>"). A file written and read back in the
    same run is a source of what is read from it (the exporter asks about the file itself).
    """

    def __init__(self, lineage: Lineage, flow: Flow | None = None) -> None:
        self.lineage = lineage
        self.flow = flow or Flow.of(lineage)
        self.info: dict[str, ColumnInfo] = {}
        by_seq = {op.seq: op for op in lineage.ops}
        self._by_seq = by_seq
        for op in lineage.ops:
            self._apply(op)

    def of(self, node_id: str | None) -> ColumnInfo:
        if node_id is None:
            return ColumnInfo({}, frozenset())
        info = self.info.get(node_id)
        if info is None:
            made_by = self.lineage.producer(node_id)
            if made_by is not None and made_by.count > 1 and made_by.outputs:
                # made by a later op of a folded group: its columns come as the first op's do
                first = self.info.get(made_by.outputs[0])
                if first is not None:
                    self.info[node_id] = first
                    return first
            node = self.lineage.nodes.get(node_id)
            src = f"object:{node_id}"
            info = ColumnInfo(
                {c: frozenset({Origin(src, c, IDENTITY)}) for c in _columns_of(node)}, frozenset()
            )
            self.info[node_id] = info
        return info

    # one op: compute its outputs' ColumnInfo from its inputs'
    def _apply(self, op: Op) -> None:
        lin = self.lineage
        means = op.meaning
        f = file_of(lin, op)
        if f is not None and f.mode == "read":
            for nid in op.outputs:
                node = lin.nodes.get(nid)
                self.info[nid] = ColumnInfo(
                    {c: frozenset({Origin(f.path, c, IDENTITY)}) for c in _columns_of(node)},
                    frozenset(),
                )
            return
        inputs = [i for i in op.inputs if i in lin.nodes]
        infos = [self.of(i) for i in inputs]
        if not inputs and means.on_group:
            infos = self._groupby_inputs(op)
        indirect: set[Origin] = set()
        for info in infos:
            indirect |= info.indirect
        main = infos[0] if infos else ColumnInfo({}, frozenset())
        # dataset-wide dependencies this op adds
        if takes_mask(op):
            indirect |= self._filter_deps(op, main, infos)
        if means.sort_by:
            cols = param_columns(op, *means.sort_by)
            indirect |= _indirect(self._pick(main, cols), SORT)
        if means.family == fam.JOIN and len(infos) >= 2:
            indirect |= self._join_deps(op, infos, inputs)
        if _makes_groups(op) or (not inputs and means.on_group):
            indirect |= self._group_deps(op, infos)
        if means.family == fam.GROUP and infos:
            # a GroupBy object: the frame's columns, waiting for an aggregation
            keys = param_columns(op, means.select) if means.select else []
            grouped = {c: main.columns[c] for c in keys if c in main.columns}
            for nid in op.outputs:
                self.info[nid] = ColumnInfo(grouped or dict(main.columns), frozenset(indirect))
            return
        for nid in op.outputs:
            node = lin.nodes.get(nid)
            direct = self._direct(op, node, infos, inputs)
            target: frozenset[Origin] = frozenset()
            if means.family == fam.FIT or (node is not None and node.kind == "model"):
                target = self._target(infos, inputs)
            self.info[nid] = ColumnInfo(direct, frozenset(indirect), target)

    def _target(self, infos: list[ColumnInfo], inputs: list[str]) -> frozenset[Origin]:
        nodes = [self.lineage.nodes.get(i) for i in inputs]
        data = [i for i, n in _paired(infos, nodes) if n is None or n.kind != "model"]
        out: set[Origin] = set()
        for info in data[1:]:
            out |= info.all_direct()
        prior = [i for i, n in _paired(infos, nodes) if n is not None and n.kind == "model"]
        for info in prior:  # partial_fit / refit: the earlier targets count too
            out |= info.target
        return _as(out, AGGREGATION)

    def _groupby_inputs(self, op: Op) -> list[ColumnInfo]:
        for r in self.flow.refs.get(self.flow.top_of.get(op.seq, op.seq), ()):
            if r.inferred and r.producer is not None:
                prev = self._by_seq[r.producer]
                ins = [i for i in prev.inputs if i in self.lineage.nodes]
                if ins:
                    return [self.of(ins[0])]
                return self._groupby_inputs(prev)
        return []

    def _group_keys(self, op: Op) -> list[str]:
        """The `by` of the groupby an op belongs to (walking the inferred chain)."""
        seen = 0
        while op is not None and seen < 50:
            seen += 1
            if _makes_groups(op):
                return param_columns(op, *op.meaning.columns)
            nxt = None
            for r in self.flow.refs.get(op.seq, ()):
                if r.inferred and r.producer is not None:
                    nxt = self._by_seq[r.producer]
            if nxt is None:
                return []
            op = nxt
        return []

    def _group_deps(self, op: Op, infos: list[ColumnInfo]) -> set[Origin]:
        if not infos:
            return set()
        return set(_indirect(self._pick(infos[0], self._group_keys(op)), GROUP_BY))

    @staticmethod
    def _pick(info: ColumnInfo, cols: Iterable[str]) -> set[Origin]:
        out: set[Origin] = set()
        for c in cols:
            out |= info.columns.get(c, frozenset())
        return out

    def _filter_deps(self, op: Op, main: ColumnInfo, infos: list[ColumnInfo]) -> set[Origin]:
        cols: list[str] = list(op.filter_columns)
        rule, param = op.meaning.filter_by or ("", "")
        if not cols:
            if rule == fam.EXPRESSION:
                expr = param_value(op, param)
                if isinstance(expr, str):
                    cols = _expr_columns(expr, main.columns)
            elif rule in (fam.MISSING, fam.DUPLICATES):
                cols = param_columns(op, param) or [c for c in main.columns if c]
        out = _indirect(self._pick(main, cols), FILTER)
        # a boolean mask: the columns it was computed from
        masks: set[Origin] = set()
        for info in infos[1:]:
            masks |= info.all_direct()
        return set(out) | set(_indirect(masks, FILTER))

    def _join_deps(self, op: Op, infos: list[ColumnInfo], inputs: list[str]) -> set[Origin]:
        left, right = infos[0], infos[1]
        on = param_columns(op, "on")
        lkeys = on or param_columns(op, "left_on")
        rkeys = on or param_columns(op, "right_on")
        if not lkeys and not rkeys:
            common = [c for c in left.columns if c and c in right.columns]
            lkeys = rkeys = common
        return set(_indirect(self._pick(left, lkeys) | self._pick(right, rkeys), JOIN))

    def _direct(
        self, op: Op, node: Node | None, infos: list[ColumnInfo], inputs: list[str]
    ) -> dict[str, frozenset[Origin]]:
        lin = self.lineage
        out_cols = _columns_of(node)
        if not infos:
            src = f"object:{node.id}" if node is not None else "object:?"
            return {c: frozenset({Origin(src, c, IDENTITY)}) for c in out_cols}
        nodes = [lin.nodes.get(i) for i in inputs]
        everything: set[Origin] = set()
        for info in infos:
            everything |= info.all_direct()
        means = op.meaning
        if means.family == fam.FIT or (node is not None and node.kind == "model"):
            # a fitted model sums up every row of its data: each feature its column (the
            # target is kept apart, in ColumnInfo.target)
            data = [i for i, n in _paired(infos, nodes) if n is None or n.kind != "model"]
            model: dict[str, frozenset[Origin]] = {}
            for c in out_cols:
                feat = self._pick(data[0], [c]) if data else set()
                model[c] = _as(feat or (data[0].all_direct() if data else everything), AGGREGATION)
            return model
        if any(n is not None and n.kind == "model" for n in nodes):  # predict / transform / score
            return {c: _as(everything, TRANSFORMATION) for c in out_cols}
        how = means.column_how
        agg = how == AGGREGATION
        if means.family == fam.CAST and (node is None or node.kind != "DataFrame"):
            how = TRANSFORMATION  # a Series cast: its values change
        main = infos[0]
        derive, derive_param = means.derive or ("", "")
        renamed = {new: old for old, new in op.cols_renamed.items()}
        res: dict[str, frozenset[Origin]] = {}
        # the DataFrame constructor from a dict of Series / arrays: one input per column
        positional = (
            means.family in (fam.CONSTRUCT, fam.CONCAT)
            and node is not None
            and node.kind == "DataFrame"
            and len(infos) == len(out_cols)
            and all(len(i.columns) == 1 for i in infos)
            and not any(c in i.columns for i in infos for c in out_cols if c)
        )
        for pos, c in enumerate(out_cols):
            if positional:
                res[c] = _as(infos[pos].all_direct(), how)
                continue
            if derive == fam.KEY and c in param_columns(op, derive_param):
                value: set[Origin] = set()
                for info in infos[1:]:
                    value |= info.all_direct()
                if value or c not in op.derived_from:
                    res[c] = frozenset(value)  # a constant depends on no column
                    continue
            if c in op.derived_from:
                res[c] = self._derived(op, c, main, infos[1:])
                continue
            if derive == fam.LAMBDAS and c in op.cols_added:
                value = set()
                for info in infos[1:]:
                    value |= info.all_direct()
                res[c] = _as(value or self._nested_reads(op, main), TRANSFORMATION)
                continue
            old = renamed.get(c, c)
            if means.family == fam.JOIN and len(infos) >= 2:
                hit = self._join_column(c, infos[0], infos[1])
                if hit is not None:
                    res[c] = _as(hit, how)
                    continue
            if c in op.dtype_changes:
                cast = main.columns.get(old)
                if cast is not None:
                    res[c] = _as(cast, TRANSFORMATION)
                    continue
            hit = None
            for info in infos:
                if old in info.columns:
                    hit = info.columns[old]
                    break
            if (
                hit is None
                and len(main.columns) == 1
                and (node is None or node.kind != "DataFrame")
            ):
                hit = next(iter(main.columns.values()))  # a Series op: its one column
            if hit is None and c:
                hit = self._upstream(inputs[0] if inputs else None, c)
            if hit is None:
                res[c] = _as(everything, AGGREGATION if agg else TRANSFORMATION)
            elif (
                node is not None
                and node.kind != "DataFrame"
                and len(infos) > 1
                and not agg
                and not means.keeps_rows
            ):
                # a Series made from several inputs (a + b): both count
                res[c] = _as(everything, TRANSFORMATION)
            else:
                res[c] = _as(hit, how)
        return res

    @staticmethod
    def _join_column(c: str, left: ColumnInfo, right: ColumnInfo) -> frozenset[Origin] | None:
        if c in left.columns and c in right.columns:
            return left.columns[c] | right.columns[c]  # a key column
        if c in left.columns:
            return left.columns[c]
        if c in right.columns:
            return right.columns[c]
        for suffix, side in (("_x", left), ("_y", right)):
            if c.endswith(suffix) and c[: -len(suffix)] in side.columns:
                return side.columns[c[: -len(suffix)]]
        return None

    def _derived(
        self, op: Op, c: str, main: ColumnInfo, others: list[ColumnInfo]
    ) -> frozenset[Origin]:
        got: set[Origin] = set()
        for col in op.derived_from[c]:
            hit = main.columns.get(col)
            if hit is None:
                for info in others:
                    if col in info.columns:
                        hit = info.columns[col]
                        break
            if hit:
                got |= hit
        if not got:
            for info in others:
                got |= info.all_direct()
        return _as(got, TRANSFORMATION)

    def _nested_reads(self, op: Op, main: ColumnInfo) -> set[Origin]:
        """Columns the nested ops (an assign's lambdas) read from the frame."""
        got: set[Origin] = set()
        for child in self.flow.nested.get(op.seq, ()):
            select = child.meaning.select if child.family == fam.COLUMN_SELECT else None
            if select:
                for c in param_columns(child, select):
                    got |= main.columns.get(c, frozenset())
        return got

    def _upstream(self, node_id: str | None, col: str) -> frozenset[Origin] | None:
        """A column that reappears (an index turned back into a column by reset_index): the
        nearest node up the primary inputs that has it."""
        seen = 0
        while node_id is not None and seen < 64:
            seen += 1
            op = self.lineage.producer(node_id)
            if op is None:
                return None
            ins = [i for i in op.inputs if i in self.lineage.nodes]
            if not ins and op.meaning.on_group:
                for r in self.flow.refs.get(self.flow.top_of.get(op.seq, op.seq), ()):
                    if r.inferred and r.producer is not None:
                        prev = self._by_seq[r.producer]
                        while not prev.inputs and prev.meaning.on_group:
                            nxt = [x for x in self.flow.refs.get(prev.seq, ()) if x.inferred]
                            if not nxt or nxt[0].producer is None:
                                break
                            prev = self._by_seq[nxt[0].producer]
                        ins = [i for i in prev.inputs if i in self.lineage.nodes]
            if not ins:
                return None
            info = self.of(ins[0])
            if col in info.columns:
                return info.columns[col]
            node_id = ins[0]
        return None


# -- artifacts --------------------------------------------------------------------------------


@dataclass
class Artifact:
    """What `tracer show --artifact` asked about: a file (read or written) or a model."""

    label: str
    node: str | None
    file: FileRecord | None
    op: Op | None  # the op that wrote the file (or made the node)


def find_artifact(lineage: Lineage, name: str) -> Artifact | None:
    """A file written (or read) by the run, by path, path relative to the run's directory or
    file name; else a model (or any node) by its type's name ("LinearRegression") or id."""
    import os

    wanted = name.rstrip("/")
    cwd = lineage.run.cwd or os.getcwd()
    candidates = [os.path.normpath(os.path.join(cwd, wanted)), os.path.abspath(wanted)]
    files = sorted(lineage.files, key=lambda f: (f.mode != "write", -f.op))
    for test in (
        lambda f: f.path in candidates or f.path == wanted,
        lambda f: f.relpath == wanted,
        lambda f: f.path.endswith(os.sep + wanted),
        lambda f: os.path.basename(f.path) == os.path.basename(wanted),
    ):
        for f in files:
            if test(f):
                op = lineage.op(f.op) if f.op in {o.seq for o in lineage.ops} else None
                return Artifact(
                    f.relpath if not f.relpath.startswith("..") else f.path, f.node, f, op
                )
    nodes = list(lineage.nodes.values())
    if wanted in lineage.nodes:
        node = lineage.nodes[wanted]
        return Artifact(
            f"{short_type(node.type)} {node.id}", node.id, None, lineage.producer(node.id)
        )
    matches = [
        n for n in nodes if n.kind == "model" and short_type(n.type).lower() == wanted.lower()
    ]
    if not matches:
        matches = [n for n in nodes if short_type(n.type).lower() == wanted.lower()]
    if matches:
        # the latest version of the newest such object: a fitted model, not the bare one
        node = max(matches, key=lambda n: (n.origin or 0, n.version))
        return Artifact(short_type(node.type), node.id, None, lineage.producer(node.id))
    return None


def short_type(type_name: str) -> str:
    return type_name.rpartition(".")[2] or type_name


def artifact_ops(lineage: Lineage, flow: Flow, start: int) -> list[int]:
    """Every top-level op `start` depends on (itself included), through files written and
    read back too, nearest first."""
    order: list[int] = []
    seen = {start}
    frontier = [start]
    while frontier:
        nxt: list[int] = []
        for seq in frontier:
            order.append(seq)
            for r in flow.refs.get(seq, ()):
                if r.producer is not None and r.producer not in seen:
                    seen.add(r.producer)
                    nxt.append(r.producer)
        frontier = nxt
    return order


def iter_top(lineage: Lineage) -> Iterator[Op]:
    by_seq = {op.seq for op in lineage.ops}
    return (op for op in lineage.ops if op.parent is None or op.parent not in by_seq)
