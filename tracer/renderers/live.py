"""Live views: replay a finished run op by op, or follow a log that a running script is
still writing.

Both print one line per top-level op as it comes (the same line as the tree's, led by the
time into the run), with the ops made inside it folded on a dim line below, so the output is
a plain, scrollable record that also reads well when piped. A transient rich `Live` footer
shows where things stand (progress and the source line of the current op for a replay; a
spinner, the counts and the writer's process for a follow); it is drawn only on a terminal.

What repeats is folded, as in `tracer show` (lineage/fold.py). A replay draws the rows of the
folded lineage: a call site that made many ops is one line with ×N, at the time of its first
op. A follow cannot know what is still to come: it prints a site's first ops as they land and,
from the one that makes the site repeat (`fold.MIN_REPEAT`), counts the others in the footer;
when the run moves on to an op that does not repeat (or ends), each site that repeated in the
meantime is one ↻ line with its totals so far, the line `tracer show` draws for it.

`Follower` reads with `LogReader.records()`, which picks up what the writer appended since the
last call, and builds the folded model incrementally with `FoldingBuilder.add`, in memory that
does not grow with the run. It stops when the TRAILER arrives, when the writer's process is
gone (the log's header has its pid), or on Ctrl-C.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from collections import Counter
from collections.abc import Callable

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from tracer.events.format import Kind
from tracer.events.reader import LogReader
from tracer.exceptions import LogFormatError
from tracer.lineage.fold import FoldingBuilder, repeats, row_now, site_key, totals_of
from tracer.lineage.graph import Lineage, Op
from tracer.renderers import text as tx
from tracer.renderers.layout import Trimmed
from tracer.renderers.tree import LOOP_BACK, NAME_STYLES, NESTED, OpLine, styled

# Exit statuses of a follow.
FINISHED, WRITER_GONE, STOPPED = 0, 1, 130

# Ops made inside an op, each with how many of them it stands for there.
Nested = list[tuple[Op, int]]


def clock(ns: int) -> str:
    s = ns / 1e9
    return f"{int(s // 60)}:{s % 60:05.2f}" if s >= 60 else f"{s:5.2f}s"


class OpStream:
    """Prints ops one line each, parents after their nested ops have been gathered."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.printed = 0

    def line(
        self, op: Op, lineage: Lineage, nested: Nested, at: int | None = None, marker: str = ""
    ) -> RenderableType:
        """`op`'s line, led by the time `at` (default: when it started) and `marker`; a nested
        op that stands for another number of ops than `op` says how many (×N)."""
        parts = tx.op_parts(op, lineage, nested=[c for c, _ in nested], read_file=True)
        left, right, short = styled(parts, NAME_STYLES[tx.category(op, lineage)])
        when = Text(f"{clock(op.start_ns if at is None else at)}  ", style="bright_black")
        when.append(marker, style="bright_black")
        rows: list[RenderableType] = [OpLine(when + left, right, short, hang=len(when.plain))]
        if nested:
            words = []
            for c, n in nested:
                h = tx.hint(c)
                word = f"{c.op} {h}" if h else c.op
                if n != op.count:
                    word += f" {tx.TIMES}{tx.num(n)}"
                words.append(word)
            pad = " " * (len(when.plain) + 2)
            rows.append(Text(pad + NESTED + " \u00b7 ".join(words), style="bright_black"))
        return Group(*rows)

    def emit(
        self, op: Op, lineage: Lineage, nested: Nested, at: int | None = None, marker: str = ""
    ) -> None:
        self.console.print(Trimmed(self.line(op, lineage, nested, at, marker)))  # copyable
        self.printed += 1


def _end_line(lineage: Lineage) -> Text:
    run = lineage.run
    t = Text()
    colour = {"ok": "green", "error": "red"}.get(run.status, "yellow")
    glyph = "\u25a0" if run.status == "ok" else "\u2717"
    t.append(f"{glyph} run ended: ", style=colour)
    t.append(tx.run_status(lineage), style="bold " + colour)
    totals = totals_of(lineage)  # every op, folded or not
    bits = [
        tx.plural(totals.top_ops, "op"),
        tx.plural(totals.files_read + totals.files_written, "file"),
    ]
    dur = tx.run_duration(lineage)
    if dur:
        bits.append(dur)
    t.append("  \u00b7  " + "  \u00b7  ".join(bits), style="bright_black")
    return t


def _title(lineage: Lineage, verb: str) -> Text:
    t = Text()
    t.append(verb, style="bold cyan")
    t.append("  ")
    t.append(tx.run_title(lineage), style="bold")
    run = lineage.run
    bits = [b for b in (run.id, f"Python {run.python}" if run.python else None, run.backend) if b]
    if bits:
        t.append("  \u00b7  " + "  \u00b7  ".join(bits), style="bright_black")
    return t


class Replayer:
    """Replays a finished (or killed) run's ops in order, paced by their recorded times
    divided by `speed` (0: no pauses). Pauses are capped at `max_pause` seconds."""

    def __init__(
        self,
        console: Console,
        lineage: Lineage,
        speed: float = 1.0,
        max_pause: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.console = console
        self.lineage = lineage
        self.speed = speed
        self.max_pause = max_pause
        self.sleep = sleep

    def run(self) -> int:
        lin = self.lineage
        seqs = {o.seq for o in lin.ops}
        top = [op for op in lin.ops if op.parent is None or op.parent not in seqs]
        nested: dict[int, Nested] = {}
        tops = {op.seq for op in top}
        parent_of = {op.seq: op.parent for op in lin.ops}
        for op in lin.ops:
            if op.seq in tops:
                continue
            p = op.parent
            while p is not None and p not in tops:
                p = parent_of.get(p)
            if p is not None:
                nested.setdefault(p, []).append((op, op.count))
        stream = OpStream(self.console)
        self.console.print(Trimmed(_title(lin, "replay")))
        total_ns = max((op.start_ns + op.duration_ns for op in lin.ops), default=0)
        state: dict[str, int] = {"i": 0, "at": 0}
        current: list[Op] = []

        def footer() -> RenderableType:
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True)
            grid.add_column(width=30)
            grid.add_column(no_wrap=True, style="bright_black")
            i = state["i"]
            grid.add_row(
                Text("\u25b6 replay", style="bold cyan"),
                ProgressBar(total=max(len(top), 1), completed=i, width=30),
                f"{i}/{len(top)} ops  {clock(state['at'])} / {clock(total_ns)}"
                + (f"  \u00d7{self.speed:g}" if self.speed else ""),
            )
            op = current[-1] if current else None
            if op is not None and op.callsite is not None and op.callsite.code:
                return Group(
                    grid, Text("  " + tx.clip(op.callsite.code, 100), style="bright_black")
                )
            return grid

        prev_ns = top[0].start_ns if top else 0
        with Live(
            get_renderable=footer,
            console=self.console,
            transient=True,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        ) as live:
            for op in top:
                if self.speed > 0:
                    pause = min((op.start_ns - prev_ns) / 1e9 / self.speed, self.max_pause)
                    if pause > 0:
                        self.sleep(pause)
                prev_ns = op.start_ns
                stream.emit(op, lin, nested.get(op.seq, []))
                state["i"] += 1
                state["at"] = op.start_ns + op.duration_ns
                current[:] = [op]
                live.refresh()
        if not top:
            self.console.print(Text("(no operations were recorded)", style="bright_black"))
        if lin.run.trailer is not None:
            self.console.print(Trimmed(_end_line(lin)))
        else:
            self.console.print(
                Text("\u2717 the log ends here: the run did not finish", style="yellow")
            )
        return 0


class Follower:
    """Tails a log while its script runs (see the module docstring)."""

    def __init__(
        self,
        console: Console,
        path: str,
        poll: float = 0.1,
        wait: float = 10.0,
        alive: Callable[[dict], bool] | None = None,
    ) -> None:
        self.console = console
        self.path = path
        self.poll = poll
        self.wait = wait
        self.alive = alive or writer_alive

    def run(self) -> int:
        reader = self._open()
        try:
            return self._follow(reader)
        finally:
            reader.close()

    def _open(self) -> LogReader:
        """Open the log, waiting (up to `wait` seconds) for a run that is just starting to
        create it and write its header."""
        deadline = time.monotonic() + self.wait
        shown = False
        while True:
            try:
                return LogReader(self.path)
            except LogFormatError as exc:
                if time.monotonic() >= deadline or not _may_still_come(self.path):
                    raise exc from None
                if not shown:
                    self.console.print(
                        Text(f"waiting for {self.path} \u2026", style="bright_black")
                    )
                    shown = True
                time.sleep(self.poll)

    def _follow(self, reader: LogReader) -> int:
        builder = FoldingBuilder(reader.header, self.path)
        stream = OpStream(self.console)
        header = reader.header
        self.console.print(Trimmed(_title(builder.view(), "follow")))
        waiting: dict[int, list[Op]] = {}  # nested ops whose parent has not landed yet
        done: set[int] = set()
        # sites repeating since the last line printed: first op of the group -> its last op
        repeating: dict[int, tuple[Op, Op]] = {}
        status = {"text": "waiting for the first op"}

        def footer() -> RenderableType:
            pid = header.get("pid")
            totals = builder.totals
            t = Text()
            t.append(f"following {tx.run_title(builder.view())}", style="bold")
            if pid:
                t.append(f" (pid {pid})", style="bright_black")
            t.append(
                f"  {tx.plural(totals.top_ops, 'op')} \u00b7 "
                f"{tx.plural(totals.files_read + totals.files_written, 'file')}  "
                f"{status['text']}",
                style="bright_black",
            )
            if repeating:
                loops = " \u00b7 ".join(
                    f"{first.op} {tx.TIMES}{tx.num(first.count)}" for first, _ in repeating.values()
                )
                t.append(f"  {LOOP_BACK}{tx.clip(loops, 60)}", style="cyan")
            return Spinner("dots", text=t, style="cyan")

        def flush(view: Lineage) -> None:
            """One ↻ line for each site that repeated since the last line printed."""
            for first, last in repeating.values():
                inside = [(c, c.count) for c in builder.inside(first)]
                stream.emit(row_now(first), view, inside, at=last.start_ns, marker=LOOP_BACK)
            repeating.clear()

        def drain() -> None:
            # (op, its parent as recorded, its group's first op and size when it landed)
            landed: list[tuple[Op, int | None, Op | None, int]] = []
            for kind, record in reader.records():
                op = builder.add(kind, record)
                if op is not None and kind == Kind.OP:
                    group = builder.group_of(op.seq)
                    count = group.count if group is not None else 0
                    landed.append((op, record["parent"], group, count))
            if not landed:
                return
            view = builder.view()
            for op, parent, group, count in landed:
                if parent is not None and parent not in done:
                    # nested: shown with its parent (which is written after it)
                    waiting.setdefault(parent, []).append(op)
                    continue
                if parent is not None:
                    stream.emit(alone(op), view, [])  # a late nested op: on its own line
                    continue
                nested = self._gather(op.seq, waiting)
                if group is not None and repeats(count):
                    # a site that repeats: its ops are counted, drawn when it stops
                    repeating[group.seq] = (group, op)
                    continue
                flush(view)
                stream.emit(alone(op), view, self._fold_nested(nested))
                done.add(op.seq)
            status["text"] = "waiting for more"

        code = FINISHED
        try:
            with Live(
                get_renderable=footer,
                console=self.console,
                transient=True,
                refresh_per_second=8,
                redirect_stdout=False,
                redirect_stderr=False,
            ):
                while True:
                    drain()
                    if reader.finished:
                        break
                    if not self.alive(header):
                        drain()  # what it wrote just before it went
                        if reader.finished:
                            break
                        code = WRITER_GONE
                        break
                    time.sleep(self.poll)
        except KeyboardInterrupt:
            code = STOPPED
        flush(builder.view())
        lineage = builder.finish()
        for ops in waiting.values():  # nested ops whose parent never landed
            for op in ops:
                stream.emit(alone(op), lineage, [])
        if code == FINISHED:
            self.console.print(Trimmed(_end_line(lineage)))
        elif code == WRITER_GONE:
            pid = header.get("pid")
            self.console.print(
                Text(
                    f"\u2717 the writer (pid {pid}) is gone and the log has no end: "
                    "the run did not finish",
                    style="yellow",
                )
            )
        else:
            self.console.print(Text("stopped following (the run goes on)", style="yellow"))
        return code

    @staticmethod
    def _gather(seq: int, waiting: dict[int, list[Op]]) -> list[Op]:
        """The nested ops of `seq`, grandchildren included, in call order."""
        out: list[Op] = []
        stack = [seq]
        while stack:
            s = stack.pop()
            for op in waiting.pop(s, []):
                out.append(op)
                stack.append(op.seq)
        return sorted(out, key=lambda o: o.seq)

    @staticmethod
    def _fold_nested(nested: list[Op]) -> Nested:
        """An op's nested ops; those of a site that repeats inside it are one word with ×N
        (as `tracer show` folds them under an op that does not repeat)."""
        counts = Counter(site_key(op) for op in nested)
        out: Nested = []
        seen: set[tuple[int, str, str]] = set()
        for op in nested:
            key = site_key(op)
            if not repeats(counts[key]):
                out.append((op, 1))
            elif key not in seen:
                seen.add(key)
                out.append((op, counts[key]))
        return out


def alone(op: Op) -> Op:
    """An op drawn as itself, whatever the group it started has become since (a follow draws
    the first op of a site as it lands, before the others are folded into it)."""
    return dataclasses.replace(op, fold=None) if op.fold is not None else op


def _may_still_come(path: str) -> bool:
    """A log that is missing, empty or shorter than its header may still be being created."""
    try:
        return os.path.getsize(path) < 64 * 1024
    except OSError:
        return True


def writer_alive(header: dict) -> bool:
    """Is the process that writes this log still running? (True when it cannot be told: a log
    from another machine, or a platform without signals.)"""
    pid = header.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return True
    host = header.get("host")
    if host and host != socket.gethostname():
        return True
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A process that has exited but not been reaped still answers kill(pid, 0)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    # the state follows the command name in parentheses, which may itself hold spaces
    return stat[stat.rfind(b")") + 2 :][:1] == b"Z"
