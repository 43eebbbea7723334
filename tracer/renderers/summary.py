"""The summary of a run: what was tracked, what changed, which files became which data.

`RunSummary(lineage).render()` is the block `tracer show --summary` and `tracer summary`
print; `print_run_summary(lineage, file)` is the short one `tracer run` ends with (on stderr,
so a script's stdout stays its own).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import IO

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from tracer.lineage.graph import Lineage, Op
from tracer.lineage.processors import Flow, short_type
from tracer.renderers import text as tx
from tracer.renderers.layout import Trimmed, Wrapped


@dataclass
class Counts:
    """The numbers of a summary, computed once (pure: tested without rich)."""

    kinds: Counter[str]  # nodes (versions of objects) by kind, as a folded log counts them
    top_ops: int
    nested_ops: int
    filters: list[Op]
    rows_dropped: int
    cols_added: int
    cols_removed: int
    cols_renamed: int
    dtype_changes: int
    by_name: Counter[str]
    reads: int
    writes: int
    errors: int
    objects: Counter[str] | None = None  # distinct objects by kind

    @property
    def tracked(self) -> Counter[str]:
        """What was tracked, by kind, as the views say it: objects, not versions (a frame
        changed in place, or a model made then fitted, is one object in two versions: "2
        models" for one fitted model is wrong)."""
        return self.objects if self.objects is not None else self.kinds

    @property
    def dropping(self) -> int:
        """How many ops dropped rows (a folded op stands for several)."""
        return sum(op.fold.dropping if op.fold is not None else 1 for op in self.filters)

    @classmethod
    def of(cls, lineage: Lineage, flow: Flow | None = None) -> Counts:
        flow = flow or Flow.of(lineage)
        top = flow.top
        filters = [op for op in top if op.rows_dropped]
        folded = lineage.folded
        if folded is not None:  # one op per call site: count from the fold totals
            folds = [op.fold for op in top if op.fold is not None]
            return cls(
                kinds=folded.kinds,
                objects=folded.objects,
                top_ops=folded.top_ops,
                nested_ops=folded.ops - folded.top_ops,
                filters=filters,
                rows_dropped=sum(op.rows_dropped or 0 for op in filters),
                cols_added=sum(f.cols_added for f in folds),
                cols_removed=sum(f.cols_removed for f in folds),
                cols_renamed=sum(f.cols_renamed for f in folds),
                dtype_changes=sum(f.dtype_changes for f in folds),
                by_name=folded.op_names,
                reads=folded.files_read,
                writes=folded.files_written,
                errors=folded.errors,
            )
        kinds = Counter(n.kind for n in lineage.nodes.values())
        return cls(
            kinds=kinds,
            top_ops=len(top),
            nested_ops=len(lineage.ops) - len(top),
            filters=filters,
            rows_dropped=sum(op.rows_dropped or 0 for op in filters),
            cols_added=sum(len(op.cols_added) for op in top),
            cols_removed=sum(len(op.cols_removed) for op in top),
            cols_renamed=sum(len(op.cols_renamed) for op in top),
            dtype_changes=sum(len(op.dtype_changes) for op in top),
            by_name=Counter(op.op for op in lineage.ops),
            reads=sum(1 for f in lineage.files if f.mode == "read"),
            writes=sum(1 for f in lineage.files if f.mode != "read"),
            errors=sum(1 for op in lineage.ops if op.error) + len(lineage.errors),
            objects=Counter({n.object: n.kind for n in lineage.nodes.values()}.values()),
        )


_KIND_WORDS = (
    ("DataFrame", "DataFrame", "DataFrames"),
    ("Series", "Series", "Series"),
    ("ndarray", "array", "arrays"),
    ("model", "model", "models"),
    ("object", "other object", "other objects"),
)


def kinds_text(kinds: Counter[str]) -> str:
    bits = []
    for kind, one, many in _KIND_WORDS:
        n = kinds.get(kind, 0)
        if n:
            bits.append(f"{tx.num(n)} {one if n == 1 else many}")
    return " \u00b7 ".join(bits) or "nothing"


class RunSummary:
    """The summary block (see the module docstring)."""

    def __init__(self, lineage: Lineage, flow: Flow | None = None) -> None:
        self.lineage = lineage
        self.flow = flow or Flow.of(lineage)
        self.counts = Counts.of(lineage, self.flow)

    def render(self) -> RenderableType:
        lin, c = self.lineage, self.counts
        grid = Table.grid(padding=(0, 3))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        grid.add_row("Data tracked", kinds_text(c.tracked))
        ops = tx.plural(c.top_ops, "transformation")
        if c.nested_ops:
            ops += f"  (+{tx.num(c.nested_ops)} nested inside them)"
        grid.add_row("Transformations", ops)
        grid.add_row("Rows filtered", self._filters())
        grid.add_row("Column changes", self._columns())
        grid.add_row("Operations", self._ops())
        grid.add_row("Files", self._files())
        if c.errors:
            grid.add_row(
                Text("Errors", style="bold red"),
                Text(tx.plural(c.errors, "op raised", "ops raised"), style="red"),
            )
        if lin.folded is not None:
            from tracer.renderers.tree import fold_note

            grid.add_row("Folded", fold_note(lin, "counted in full, listed per site with", ""))
        header = Text()
        header.append(tx.run_title(lin), style="bold")
        for bit, style in self._status_bits():
            header.append("  \u00b7  ", style="bright_black")
            header.append(bit, style=style)
        return Trimmed(Group(header, grid))

    def _status_bits(self) -> list[tuple[str, str]]:
        lin = self.lineage
        colour = {"ok": "green", "error": "red"}.get(lin.run.status, "yellow")
        bits = [(tx.run_status(lin), colour)]
        dur = tx.run_duration(lin)
        if dur:
            bits.append((dur, "bright_black"))
        if lin.run.started:
            bits.append(
                (lin.run.started.replace("T", " ").rstrip("Z")[:19] + " UTC", "bright_black")
            )
        return bits

    def _filters(self) -> RenderableType:
        c = self.counts
        if not c.filters:
            return Text("none", style="bright_black")
        t = Text()
        t.append(tx.plural(c.dropping, "op"), style="bold")
        t.append(" dropped rows: ", style="bright_black")
        for i, op in enumerate(c.filters[:6]):
            if i:
                t.append(" \u00b7 ", style="bright_black")
            t.append(op.op, style="bold")
            if op.count > 1:
                t.append(f" {tx.TIMES}{tx.num(op.count)}", style="cyan")
            t.append(f" {tx.MINUS}{tx.num(op.rows_dropped)}", style="red")
            if op.callsite is not None:
                t.append(f" :{op.callsite.line}", style="bright_black")
        if len(c.filters) > 6:
            t.append(f" \u00b7 {len(c.filters) - 6} more", style="bright_black")
        return t

    def _columns(self) -> RenderableType:
        c = self.counts
        t = Text()
        t.append(
            f"+{tx.num(c.cols_added)} added", style="green" if c.cols_added else "bright_black"
        )
        t.append(" \u00b7 ", style="bright_black")
        t.append(
            f"{tx.MINUS}{tx.num(c.cols_removed)} removed",
            style="red" if c.cols_removed else "bright_black",
        )
        t.append(" \u00b7 ", style="bright_black")
        t.append(
            f"{tx.num(c.cols_renamed)} renamed",
            style="yellow" if c.cols_renamed else "bright_black",
        )
        t.append(" \u00b7 ", style="bright_black")
        t.append(
            tx.plural(c.dtype_changes, "dtype change"),
            style="yellow" if c.dtype_changes else "bright_black",
        )
        return t

    def _ops(self) -> RenderableType:
        t = Text()
        items = sorted(self.counts.by_name.items(), key=lambda kv: (-kv[1], kv[0]))
        for i, (name, n) in enumerate(items):
            if i:
                t.append(" \u00b7 ", style="bright_black")
            t.append(name, style="bold")
            t.append(f" {tx.num(n)}", style="bright_black")
        return t or Text("none", style="bright_black")

    def _files(self) -> RenderableType:
        lin = self.lineage
        if not lin.files:
            return Text("none", style="bright_black")
        rows = []
        for f in lin.files:
            node = lin.nodes.get(f.node or "")
            what = tx.node_text(node) if node is not None else "?"
            if node is not None and node.kind not in ("model", "object"):
                what = f"{node.kind} {what}"
            reading = f.mode == "read"
            op = next((o for o in lin.ops if o.seq == f.op), None)
            rows.append(
                (
                    Text(tx.file_text(f, lin), style="green" if reading else "magenta"),
                    Text("\u2192 " if reading else "\u2190 ", style="bright_black") + Text(what),
                    Text(f"{op.op} #{op.seq}" if op is not None else "", style="bright_black"),
                )
            )
        folded = lin.folded
        more = folded.files_read + folded.files_written - len(lin.files) if folded else 0
        tail = Text(f"and {tx.plural(more, 'more file')}", style="bright_black")
        return FileList(rows, tail if more > 0 else None)


class FileList:
    """The files of a run, one a row: its path, what it held, the op that read or wrote it.
    In three columns when they fit the width; else each path on a line of its own (wrapped
    after a slash if it must be, never cut: paths are what users copy), its details under it."""

    GAP = 2

    def __init__(self, rows: list[tuple[Text, Text, Text]], tail: Text | None = None) -> None:
        self.rows = rows
        self.tail = tail
        self.widths = [max(cell.cell_len for cell in column) for column in zip(*rows)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if sum(self.widths) + self.GAP * 2 <= options.max_width:
            table = Table.grid(padding=(0, self.GAP))
            for _ in self.widths:
                table.add_column(no_wrap=True)
            for row in self.rows:
                table.add_row(*row)
            yield table
        else:
            for path, what, op in self.rows:
                yield Wrapped(path)
                yield Wrapped(Text(" " * self.GAP) + what + Text(" " * self.GAP) + op)
        if self.tail is not None:
            yield self.tail

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        paths = [Measurement.get(console, options, Wrapped(p)) for p, _, _ in self.rows]
        return Measurement(max(m.minimum for m in paths), sum(self.widths) + self.GAP * 2).clamp(
            max_width=options.max_width
        )


def print_run_summary(lineage: Lineage, file: IO[str]) -> None:
    """The few lines `tracer run` ends with: what the run did, in brief. Honours NO_COLOR and
    the width of `file` when it is a terminal."""
    console = Console(file=file, highlight=False, soft_wrap=False)
    console.print(run_summary(lineage))


def run_summary(lineage: Lineage) -> RenderableType:
    flow = Flow.of(lineage)
    c = Counts.of(lineage, flow)
    head = Text()
    head.append("tracer", style="bold cyan")
    head.append("  ")
    head.append(tx.run_title(lineage), style="bold")
    colour = {"ok": "green", "error": "red"}.get(lineage.run.status, "yellow")
    head.append("  \u00b7  ", style="bright_black")
    head.append(tx.run_status(lineage), style=colour)
    dur = tx.run_duration(lineage)
    if dur:
        head.append(f"  \u00b7  {dur}", style="bright_black")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bright_black", no_wrap=True)
    grid.add_column()
    line = Text()
    bits: list[tuple[str, str]] = [(tx.plural(c.top_ops, "op"), "")]
    frames = c.tracked.get("DataFrame", 0)
    if frames:
        bits.append((tx.plural(frames, "DataFrame"), ""))
    if c.filters:
        bits.append((tx.plural(c.dropping, "row filter"), "yellow"))
    if c.cols_added or c.cols_removed:
        bits.append((f"+{c.cols_added} {tx.MINUS}{c.cols_removed} columns", ""))
    if c.errors:
        bits.append((tx.plural(c.errors, "error"), "red"))
    for i, (bit, style) in enumerate(bits):
        if i:
            line.append(" \u00b7 ", style="bright_black")
        line.append(bit, style=style)
    grid.add_row("  tracked", line)
    for mode, word, style in (("read", "  read", "green"), ("write", "  wrote", "magenta")):
        files = [f for f in lineage.files if (f.mode == "read") == (mode == "read")]
        if not files:
            continue
        t = Text()
        seen: list[str] = []
        for f in files:
            path = tx.file_text(f, lineage)
            if path not in seen:
                seen.append(path)
        for i, path in enumerate(seen[:4]):
            if i:
                t.append(", ", style="bright_black")
            t.append(path, style=style)
        more = len(seen) - 4
        folded = lineage.folded
        if folded is not None:  # it keeps the first op's files of each call site only
            more = max(more, 0) + (folded.files_read if mode == "read" else folded.files_written)
            more -= len(files)
        if more > 0:
            t.append(f" and {more} more", style="bright_black")
        grid.add_row(word, Wrapped(t))
    models = [n for n in lineage.nodes.values() if n.kind == "model" and n.origin is not None]
    if models:
        names = sorted({short_type(n.type) for n in models})
        grid.add_row("  models", Text(", ".join(names), style="blue"))
    return Trimmed(Group(head, grid))
