"""The lineage tree: sources (files read, data of unknown origin) through ops to outputs.

Layout. Each source owns a *lane*: the ops that work on its data, one per line, in order, as
siblings under it. Where the data forks (a column pulled out for a mask, a table written to a
file), the side branch hangs under the op it forks from, marked ⤷, with its own lane inside.
An op with several inputs (a filter by a mask, a merge, a fit) is drawn once, under its
primary input, and referenced (↪) from the others. Ops made inside another op (an assign's
lambdas) are summarised on one dim line under it.

`LineageTree(lineage).render()` returns a rich renderable; `GroupedTree` groups the ops under
the user function that made them; `ArtifactTree` walks one file's or model's ancestry back to
its sources. All widths come from the console: nothing here assumes a terminal size.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from tracer.lineage.graph import Lineage, Op
from tracer.lineage.processors import (
    FILTER,
    LOOP,
    Artifact,
    ColumnInfo,
    ColumnLineage,
    Flow,
    Origin,
    artifact_ops,
    file_of,
    source_node,
    takes_mask,
    untracked,
)
from tracer.renderers import text as tx
from tracer.renderers.layout import Trimmed, wrap
from tracer.renderers.text import Part

BRANCH = "\u2937 "  # ⤷
REFERENCE = "\u21aa "  # ↪
LOOP_BACK = "\u21bb "  # ↻
NESTED = "\u2504 "  # ┄
GUIDE_STYLE = "bright_black"

# Colour of each part of an op line, by its tag (text.Part).
PART_STYLES = {
    "count": "bold cyan",
    "hint": "italic bright_black",
    "shape": "",
    "arrow": "bright_black",
    "rows": "red",
    "added": "green",
    "removed": "red",
    "renamed": "yellow",
    "dtype": "yellow",
    "file": "magenta",
    "model": "blue",
    "note": "bright_black",
    "error": "bold red",
    "site": "bright_black",
}
# Colour of an op's name by what it does.
NAME_STYLES = {
    "read": "bold green",
    "write": "bold magenta",
    "model": "bold blue",
    "rows": "bold yellow",
    "columns": "bold cyan",
    "error": "bold red",
    "other": "bold",
}


class OpLine:
    """One line: `left` text, and `right` (the call site) flush with the right edge. When
    both do not fit, `left` wraps (`layout.wrap`: a path breaks after a slash) in the room that
    `right` leaves (or `short`, a shorter right side, leaves); on a very narrow console `right`
    goes last."""

    def __init__(
        self, left: Text, right: Text | None = None, short: Text | None = None, hang: int = 2
    ) -> None:
        self.left = left
        self.right = right
        self.short = short
        self.hang = hang  # continuation lines are indented this much

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        left = self.left
        rights = [r for r in (self.right, self.short) if r is not None and r.plain]
        if not rights:
            yield left
            return
        for right in rights:
            gap = width - left.cell_len - right.cell_len
            if gap >= 2:
                line = left.copy()
                line.append(" " * gap)
                line.append_text(right)
                yield line
                return
        right = rights[-1]
        room = width - right.cell_len - 2
        if room >= 24 + self.hang:
            first, *rest = wrap(left, room, room - self.hang)
            first.append(" " * (width - first.cell_len - right.cell_len))
            first.append_text(right)
            yield first
            for line in rest:
                yield Text(" " * self.hang) + line
            return
        line = left.copy()
        line.append("  ")
        line.append_text(right)
        yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        total = self.left.cell_len + (self.right.cell_len + 2 if self.right else 0)
        return Measurement(min(total, 20), total)


def styled(parts: Iterable[Part], name_style: str = "bold") -> tuple[Text, Text, Text]:
    """(left, right, short right) rich texts of an op line's parts; the site goes right."""
    left = Text()
    right = Text()
    short = Text()
    first = True
    prev_tag = ""
    for p in parts:
        if p.tag == "site":
            right.append(p.text, PART_STYLES["site"])
            short.append(p.text.rpartition("  ")[2], PART_STYLES["site"])
            continue
        if not first:
            left.append(" " if p.tag == "arrow" or prev_tag == "arrow" else "  ")
        style = name_style if p.tag == "name" else PART_STYLES.get(p.tag, "")
        left.append(p.text, style)
        first = False
        prev_tag = p.tag
    return left, right, short


class _Base:
    def __init__(
        self, lineage: Lineage, flow: Flow | None = None, columns: ColumnLineage | None = None
    ) -> None:
        self.lineage = lineage
        self.flow = flow or Flow.of(lineage)
        self._columns = columns
        self.referenced: set[int] = {
            seq for uses in self.flow.references.values() for seq, _ in uses
        }

    @property
    def columns(self) -> ColumnLineage:
        if self._columns is None:
            self._columns = ColumnLineage(self.lineage, self.flow)
        return self._columns

    # -- pieces ----------------------------------------------------------------------------

    def filter_by(self, op: Op) -> list[str]:
        """The source columns a row filter's mask was computed from."""
        if op.filter_columns or not takes_mask(op) or len(op.inputs) < 2:
            return []
        fields: list[str] = []
        for nid in op.inputs[1:]:
            for o in sorted(self.columns.of(nid).all_direct()):
                if o.field and o.field not in fields:
                    fields.append(o.field)
        return fields

    def op_label(self, op: Op, marker: str = "", show_seq: bool = False) -> OpLine:
        via_file = any(r.via == "file" for r in self.flow.refs.get(op.seq, ()))
        parts = tx.op_parts(
            op,
            self.lineage,
            self.filter_by(op),
            nested=self.flow.nested.get(op.seq, []),
            read_file=via_file,
        )
        if show_seq or op.seq in self.referenced:
            parts.insert(1, Part(f"#{op.seq}", "note"))
        left, right, short = styled(parts, NAME_STYLES[tx.category(op, self.lineage)])
        if marker:
            left = Text(marker, style="bright_black") + left
        return OpLine(left, right, short)

    def add_nested(self, node: Tree, op: Op) -> None:
        """The ops made inside `op`, compact: one dim line per source line."""
        children = self.flow.nested.get(op.seq, [])
        if not children:
            return
        lines: dict[tuple[str, int] | None, list[Op]] = {}
        for child in children:
            cs = child.callsite
            key = (cs.file, cs.line) if cs is not None else None
            lines.setdefault(key, []).append(child)
        same = (
            op.callsite is not None
            and len(lines) == 1
            and (op.callsite.file, op.callsite.line) in lines
        )
        for key, ops in lines.items():
            words = []
            for c in ops:
                h = tx.hint(c)
                word = f"{c.op} {h}" if h else c.op
                if c.count != op.count:  # folded: not once per op it sits in
                    word += f" {tx.TIMES}{tx.num(c.count)}"
                words.append(word)
            left = Text(NESTED + " \u00b7 ".join(words), style="bright_black")
            right = None
            if key is not None and not same:
                right = Text(f":{key[1]}", style="bright_black")
            node.add(OpLine(left, right))

    def add_references(self, node: Tree, key: int | str) -> None:
        for seq, role in self.flow.references.get(key, ()):
            target = self.lineage.op(seq)
            if role == LOOP:
                text = Text(LOOP_BACK + "back to ", style="bright_black")
                text.append(f"{target.op} #{seq}", style="bright_black bold")
                node.add(text)
                continue
            text = Text(REFERENCE, style="bright_black")
            text.append(f"{target.op} #{seq}", style="bright_black bold")
            if role != "input":
                text.append(f"  as {role}", style="bright_black")
            node.add(text)

    def header(self, title: str | None = None, what: str | None = None) -> Text:
        lin = self.lineage
        run = lin.run
        t = Text()
        t.append(title or tx.run_title(lin), style="bold")
        status = tx.run_status(lin)
        colour = {"ok": "green", "error": "red", "interrupted": "yellow"}.get(run.status, "yellow")
        bits: list[tuple[str, str]] = [(status, colour)]
        dur = tx.run_duration(lin)
        if dur:
            bits.append((dur, ""))
        n_top = len(self.flow.top)
        n_all = len(lin.ops)
        if lin.folded is not None:
            n_top, n_all = lin.folded.top_ops, lin.folded.ops
        ops = tx.plural(n_top, "op")
        if n_all > n_top:
            ops += f" (+{tx.num(n_all - n_top)} nested)"
        bits.append((ops, ""))
        if what:
            bits.append((what, ""))
        for text, style in bits:
            t.append("  \u00b7  ", style="bright_black")
            t.append(text, style=style or "bright_black")
        return t

    def notes(self) -> list[Text]:
        """The lines under the header: the run did not finish; the view is folded."""
        lin = self.lineage
        out = []
        if lin.damage is not None or lin.run.status == "unfinished":
            out.append(
                Text(
                    "\u26a0 the run did not finish: this is what it recorded before it stopped",
                    style="yellow",
                )
            )
        if lin.folded is not None:
            out.append(fold_note(lin, "one row per repeated site with"))
        return out

    def source_label(self, key: str) -> Text:
        lin = self.lineage
        kind, _, rest = key.partition(":")
        t = Text()
        if kind == "file":
            f = next((x for x in lin.files if x.path == rest and x.mode == "read"), None)
            path = tx.rel(rest, lin)
            head, sep, base = path.rpartition("/")
            if sep:
                t.append(head + sep, style="green")
            t.append(base, style="bold green")
            if f is not None:
                t.append("  " + tx.file_details(f), style="bright_black")
            return t
        if kind == "object":
            node = source_node(lin, key)
            what = tx.source_label(key, lin)
            t.append(
                what, style="bold blue" if node is not None and node.kind == "model" else "bold"
            )
            t.append("  " + tx.origin_text(key, lin), style="bright_black")
            return t
        t.append("new data", style="bold")
        t.append("  made in the script from values", style="bright_black")
        return t


class LineageTree(_Base):
    """The whole run as a tree of lanes (see the module docstring). Branches nest at most
    `MAX_DEPTH` deep; a deeper one is drawn as a lane of its own at the end, marked with the
    op it forks from."""

    MAX_DEPTH = 12

    def render(self) -> RenderableType:
        flow = self.flow
        self._sizes: dict[int | str, int] = {}
        self._deferred: list[int] = []
        # calls that touched no tracked data are no source of anything: one line at the end
        quiet = untracked(flow)
        skip = {op.seq for op in quiet}
        root = Tree(Text(""), guide_style=GUIDE_STYLE, hide_root=True)
        for key in flow.sources:
            if key.startswith("new:"):
                # data made from values: the op that made it heads its own lane
                for seq in flow.kids.get(key, []):
                    if seq in skip:
                        continue
                    op = self.lineage.op(seq)
                    node = root.add(self.op_label(op))
                    self.add_nested(node, op)
                    self._owner(node, seq, 1)
                continue
            node = root.add(self.source_label(key))
            self._owner(node, key, 1)
        while self._deferred:  # branches that would have nested too deep
            seq = self._deferred.pop(0)
            op = self.lineage.op(seq)
            node = root.add(self.op_label(op, marker=BRANCH))
            home = self.flow.home.get(seq)
            if isinstance(home, int):
                node.add(
                    Text(
                        f"\u2190 continues from {self.lineage.op(home).op} #{home}",
                        style="bright_black",
                    )
                )
                self.referenced.add(home)
            self.add_nested(node, op)
            self._owner(node, seq, 1)
        items: list[RenderableType] = [self.header(), *self.notes()]
        if root.children:
            items.append(root)
        elif not quiet:
            items.append(Text("(no operations were recorded)", style="bright_black"))
        if quiet:
            items.append(Text(tx.untracked_text(quiet), style="bright_black"))
        return Trimmed(Group(*items))

    def _main(self, key: int | str) -> int | None:
        kids = self.flow.kids.get(key, [])
        if not kids:
            return None
        if len(kids) == 1:
            return kids[0]
        memo = self._sizes
        sizes = {k: self.flow.subtree_size(k, memo) for k in kids}
        best = max(kids, key=lambda k: (sizes[k], -k))
        return best if sizes[best] > 1 else None

    def _owner(self, node: Tree, key: int | str, depth: int) -> None:
        """`node` owns the lane that starts after `key` (a source or a branch's first op)."""
        main = self._main(key)
        for k in self.flow.kids.get(key, []):
            if k != main:
                self._branch(node, k, depth + 1)
        self.add_references(node, key)
        if main is not None:
            self._lane(node, main, depth)

    def _lane(self, container: Tree, seq: int | None, depth: int) -> None:
        while seq is not None:
            op = self.lineage.op(seq)
            node = container.add(self.op_label(op))
            self.add_nested(node, op)
            main = self._main(seq)
            for k in self.flow.kids.get(seq, []):
                if k != main:
                    self._branch(node, k, depth + 1)
            self.add_references(node, seq)
            seq = main

    def _branch(self, container: Tree, seq: int, depth: int) -> None:
        if depth > self.MAX_DEPTH:
            self._deferred.append(seq)
            container.add(
                Text(
                    f"{REFERENCE}{self.lineage.op(seq).op} #{seq}  continues below",
                    style="bright_black",
                )
            )
            self.referenced.add(seq)
            return
        op = self.lineage.op(seq)
        node = container.add(self.op_label(op, marker=BRANCH))
        self.add_nested(node, op)
        self._owner(node, seq, depth)


class GroupedTree(_Base):
    """Ops grouped under the user function that made them, in call order."""

    def render(self) -> RenderableType:
        root = Tree(Text(""), guide_style=GUIDE_STYLE, hide_root=True)
        groups: dict[str, list[Op]] = {}
        files: dict[str, str] = {}
        for op in self.flow.top:
            cs = op.callsite
            fn = cs.function if cs is not None else "?"
            groups.setdefault(fn, []).append(op)
            if cs is not None:
                files.setdefault(fn, cs.file)
        for fn, ops in groups.items():
            label = Text()
            name = tx.function_name(fn) or "<module>"
            label.append(name + ("()" if name != "<module>" else ""), style="bold")
            if fn in files:
                label.append("  " + files[fn].rpartition("/")[2], style="bright_black")
            label.append("  " + tx.plural(sum(op.count for op in ops), "op"), style="bright_black")
            group = root.add(label)
            prev: int | None = None
            for op in ops:
                node = group.add(self._line(op, prev))
                self.add_nested(node, op)
                prev = op.seq
        items: list[RenderableType] = [self.header(what="by function"), *self.notes()]
        items.append(
            root if groups else Text("(no operations were recorded)", style="bright_black")
        )
        return Trimmed(Group(*items))

    def _line(self, op: Op, prev: int | None) -> OpLine:
        line = self.op_label(op, show_seq=True)
        home = self.flow.home.get(op.seq)
        if isinstance(home, int) and home != prev:
            src = self.lineage.op(home)
            line.left.append(f"  \u2190 {src.op} #{home}", style="bright_black")
        return line


class ArtifactTree(_Base):
    """One artifact's ancestry, nearest step first, back to the files it came from; then
    which columns of which source fed it."""

    def __init__(self, lineage: Lineage, artifact: Artifact, flow: Flow | None = None) -> None:
        super().__init__(lineage, flow)
        self.artifact = artifact
        self.referenced = set()
        self._claimed: dict[int, int | None] = {}

    def render(self) -> RenderableType:
        items: list[RenderableType] = [self.header(what="ancestry"), *self.notes()]
        return Trimmed(Group(*items, *self._ancestry()))

    def _ancestry(self) -> list[RenderableType]:
        """The artifact's tree, then its sources (unless it has no recorded origin)."""
        art = self.artifact
        lin = self.lineage
        label = Text()
        if art.file is not None:
            path = tx.file_text(art.file, lin)
            head, sep, base = path.rpartition("/")
            style = "magenta" if art.file.mode == "write" else "green"
            if sep:
                label.append(head + sep, style=style)
            label.append(base, style="bold " + style)
            label.append("  " + tx.file_details(art.file), style="bright_black")
        else:
            node = lin.nodes.get(art.node or "")
            label.append(art.label, style="bold blue")
            if node is not None and node.columns:
                # only what a model was trained on are features; a frame has columns
                word = "feature" if node.kind == "model" else "column"
                label.append(f"  {tx.plural(len(node.columns), word)}", style="bright_black")
        root = Tree(label, guide_style=GUIDE_STYLE)
        start = art.op.seq if art.op is not None else None
        if start is not None:
            start = self.flow.top_of.get(start, start)
        if start is None:
            root.add(Text("its origin was not recorded", style="bright_black"))
            return [root]
        if art.file is not None and art.file.mode == "read":
            # a file the run read: its history is whatever wrote it earlier in the run
            writer = next(
                (r.producer for r in self.flow.refs.get(start, ()) if r.via == "file"), None
            )
            if writer is None:
                root.add(
                    Text("read by the run, not written by it: a raw source", style="bright_black")
                )
                return [root, self._sources_table(art.node)]
        self._claim(start)
        self.referenced = {s for s, parent in self._claimed.items() if parent == -1}
        self._walk(root, start, lane=True)
        return [root, self._sources_table(art.node)]

    # claims: which op draws which input, spine first (so the spine owns shared ancestors)
    def _inputs(self, seq: int) -> list[int]:
        refs = self.flow.refs.get(seq, ())
        home = self.flow.home.get(seq)
        prods = [r.producer for r in refs if r.producer is not None]
        ordered = ([home] if isinstance(home, int) and home in prods else []) + [
            p for p in prods if p != home
        ]
        out: list[int] = []
        for p in ordered:
            if p not in out:
                out.append(p)
        return out

    def _claim(self, start: int) -> None:
        owner: dict[int, int | None] = {start: None}
        order: list[int] = []
        # the spine: primary inputs all the way back
        queue = [start]
        while queue:
            seq = queue.pop(0)
            order.append(seq)
            ins = self._inputs(seq)
            for i, p in enumerate(ins):
                if p not in owner:
                    owner[p] = seq
                    if i == 0:
                        queue.insert(0, p)
                    else:
                        queue.append(p)
        self._owner_of = owner
        # ops drawn under one consumer and used by others too are referenced there
        users: dict[int, int] = {}
        for seq in owner:
            for p in self._inputs(seq):
                users[p] = users.get(p, 0) + 1
        self._claimed = {s: (-1 if users.get(s, 0) > 1 else 0) for s in owner}

    def _walk(self, container: Tree, seq: int, lane: bool) -> None:
        while True:
            op = self.lineage.op(seq)
            node = container.add(self.op_label(op, marker="" if lane else BRANCH))
            self.add_nested(node, op)
            ins = self._inputs(seq)
            mine = [p for p in ins if self._owner_of.get(p) == seq]
            main = mine[0] if mine and ins and mine[0] == ins[0] else None
            for p in ins:
                if p == main:
                    continue
                if p in mine:
                    self._walk(node, p, lane=False)
                else:
                    ref = Text(REFERENCE, style="bright_black")
                    ref.append(f"{self.lineage.op(p).op} #{p}", style="bright_black bold")
                    node.add(ref)
            self._sources_of(node, op)
            if main is None:
                return
            if not lane:
                container = node
                lane = True
            seq = main

    def _sources_of(self, node: Tree, op: Op) -> None:
        f = file_of(self.lineage, op)
        if (
            f is not None
            and f.mode == "read"
            and not any(r.via == "file" for r in self.flow.refs.get(op.seq, ()))
        ):
            label = Text("\u2190 ", style="bright_black")
            path = tx.rel(f.path, self.lineage)
            label.append(path, style="bold green")
            label.append("  " + tx.file_details(f), style="bright_black")
            node.add(label)
        for r in self.flow.refs.get(op.seq, ()):
            if r.producer is None and r.node is not None:
                label = Text("\u2190 ", style="bright_black")
                key = f"object:{r.node}"
                label.append(tx.source_label(key, self.lineage), style="bold")
                label.append("  " + tx.origin_text(key, self.lineage), style="bright_black")
                node.add(label)

    def _sources_table(self, node_id: str | None) -> RenderableType:
        """Which columns of which source fed the artifact: its values, and its rows."""
        info = self.columns.of(node_id)
        direct: dict[str, set[str]] = {}
        for o in info.all_direct():
            direct.setdefault(o.source, set()).add(o.field)
        shaped: dict[str, dict[str, set[str]]] = {}
        for o in info.indirect:
            shaped.setdefault(o.source, {}).setdefault(o.how, set()).add(o.field)
        out: list[RenderableType] = [Text(""), Text("Sources", style="bold")]
        keys = sorted(set(direct) | set(shaped), key=lambda k: (k.startswith("object:"), k))
        for src in keys:
            is_obj = src.startswith("object:")
            name = tx.source_label(src, self.lineage) if is_obj else tx.rel(src, self.lineage)
            head = Text("  ")
            head.append(name, style="bold" if is_obj else "bold green")
            f = next((x for x in self.lineage.files if x.path == src and x.mode == "read"), None)
            if f is not None:
                head.append("  " + tx.file_details(f), style="bright_black")
            elif is_obj:
                head.append("  " + tx.origin_text(src, self.lineage), style="bright_black")
            out.append(head)
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bright_black", no_wrap=True)
            grid.add_column(overflow="fold")  # column names are copied too: never cut short
            all_cols = self._source_columns(src)
            fields = sorted(x for x in direct.get(src, ()) if x)
            if fields:
                grid.add_row("    values from", self._cols(fields, all_cols))
            for how, word in (
                (FILTER, "rows filtered by"),
                ("JOIN", "joined on"),
                ("GROUP_BY", "grouped by"),
                ("SORT", "sorted by"),
            ):
                cols = sorted(x for x in shaped.get(src, {}).get(how, ()) if x)
                if cols:
                    grid.add_row("    " + word, self._cols(cols, all_cols))
            out.append(grid)
        node = self.lineage.nodes.get(node_id or "")
        mapping = self._column_map(info, model=node is not None and node.kind == "model")
        if mapping is not None:
            out += [Text(""), mapping]
        return Group(*out)

    def _source_columns(self, src: str) -> list[str]:
        f = next((x for x in self.lineage.files if x.path == src and x.node), None)
        node = self.lineage.nodes.get(f.node or "") if f is not None else None
        return list(node.columns or []) if node is not None else []

    @staticmethod
    def _cols(cols: list[str], all_cols: list[str]) -> Text:
        if all_cols and set(cols) >= set(all_cols) and len(all_cols) > 3:
            return Text(f"all {len(all_cols)} columns")
        return Text(", ".join(cols))

    def _column_map(self, info: ColumnInfo, model: bool) -> RenderableType | None:
        """Each column of the artifact, the source columns it came from and how (identity,
        transformation, aggregation). A `model`'s columns are the features it was trained on,
        then its target: that is what they are, so that is what the table says (the export
        calls the way a feature feeds a model AGGREGATION, in OpenLineage's fixed words)."""
        if not info.columns or list(info.columns) == [""]:
            return None
        table = Table(
            box=None, show_header=True, header_style="bold", pad_edge=False, padding=(0, 2, 0, 0)
        )
        table.add_column("Trained on" if model else "Columns", overflow="fold")
        table.add_column("from", overflow="fold")
        if not model:
            table.add_column("how", no_wrap=True)
        rows = list(info.columns.items())
        if info.target:
            rows.append(("(target)", info.target))
        for col, origins in rows:
            srcs = _group_fields(origins)
            cells = [
                Text(col or "(values)", style="bold"),
                Text(
                    "; ".join(f"{self._src_name(s)}: {', '.join(fs)}" for s, fs in srcs) or "\u2014"
                ),
            ]
            if not model:
                hows = sorted({o.how for o in origins}, key=list(_HOW_COLOURS).index)
                how = hows[-1].lower() if hows else "constant"
                cells.append(Text(how, style=_HOW_COLOURS.get(how.upper(), "")))
            table.add_row(*cells)
        return table

    def _src_name(self, src: str) -> str:
        if src.startswith("object:"):
            return tx.source_label(src, self.lineage)
        return tx.rel(src, self.lineage).rpartition("/")[2]


_HOW_COLOURS = {"IDENTITY": "green", "TRANSFORMATION": "yellow", "AGGREGATION": "cyan"}


def _group_fields(origins: Iterable[Origin]) -> list[tuple[str, list[str]]]:
    by: dict[str, list[str]] = {}
    for o in sorted(origins):
        fields = by.setdefault(o.source, [])
        if o.field not in fields:
            fields.append(o.field or "(values)")
    return sorted(by.items())


def fold_note(lineage: Lineage, how: str, lead: str = "folded: ") -> Text:
    """ "folded: 999,994 ops from 9 call sites, <how> ×N; every op: tracer export"."""
    folded = lineage.folded
    assert folded is not None
    t = Text(lead, style="bright_black")
    t.append(f"{tx.plural(folded.ops, 'op')} from {tx.plural(folded.sites, 'call site')}")
    t.append(f", {how} ")
    t.append(f"{tx.TIMES}N", style=PART_STYLES["count"])
    t.append("; every op: ")
    t.append("tracer export", style="bold")
    return t


def tree_for(lineage: Lineage, group: str | None = None) -> RenderableType:
    if group == "function":
        return GroupedTree(lineage).render()
    return LineageTree(lineage).render()


def artifact_ops_for(lineage: Lineage, flow: Flow, art: Artifact) -> list[int]:
    if art.op is None:
        return []
    return artifact_ops(lineage, flow, flow.top_of.get(art.op.seq, art.op.seq))
