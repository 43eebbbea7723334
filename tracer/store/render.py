"""Terminal views of the store's answers, drawn with rich: the runs table, the `why` tree and
the `diff` summary. Each takes a model (rows, `why.Answer`, `diff.RunDiff`) and a Console."""

from __future__ import annotations

import os
from datetime import datetime

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from tracer.lineage.graph import Lineage, Op
from tracer.store.diff import Change, Pair, RunDiff
from tracer.store.index import FileRow, RunRow
from tracer.store.why import Answer, Source, Writer

HASH_CHARS = 16  # hex digits shown in trees (reports show whole hashes)


# -- small formatters ---------------------------------------------------------------------------

def when(iso: str | None) -> str:
    """An ISO 8601 UTC time as local 'YYYY-MM-DD HH:MM:SS'."""
    if not iso:
        return "?"
    try:
        t = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return t.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def shown_path(path: str, cwd: str | None = None) -> str:
    """Relative to the working directory when inside it, else absolute."""
    base = cwd or os.getcwd()
    try:
        rel = os.path.relpath(path, base)
    except ValueError:
        return path
    return path if rel.startswith(os.pardir) else rel


def short_hash(digest: str | None) -> str:
    if not digest:
        return "no hash"
    algo, _, hexd = digest.rpartition(":")
    return f"{algo}:{hexd[:HASH_CHARS]}…" if len(hexd) > HASH_CHARS else digest


def short_id(run_id: str | None) -> str:
    """The random part of a run id ("20261124025008-e74f2362" -> "e74f2362"): enough to name
    the run in `diff` and `report`, which accept any unique part."""
    if not run_id:
        return "?"
    return run_id.rpartition("-")[2] or run_id


def size(n: int | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def status(run: RunRow) -> Text:
    if run.status == "ok" and run.damage is None:
        return Text("ok", style="green")
    if run.status == "unfinished":
        label = "running" if run.running else "unfinished"
        return Text(label, style="yellow")
    text = run.status if run.exit_code in (None, 0) else f"{run.status} ({run.exit_code})"
    if run.damage is not None and run.status != "unfinished":
        text += ", damaged log"
    return Text(text, style="red" if run.status != "ok" else "yellow")


def steps(names: list[str], total: int | None = None) -> str:
    total = total if total is not None else len(names)
    if len(names) <= 7:
        chain = " → ".join(names)
    else:
        chain = " → ".join(names[:3]) + " → … → " + " → ".join(names[-3:])
    return f"{total} step{'s' if total != 1 else ''}: {chain}"


# -- tracer runs --------------------------------------------------------------------------------

def runs_table(runs: list[RunRow], console: Console) -> None:
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1))
    table.add_column("started", no_wrap=True)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("script", style="bold", overflow="ellipsis", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for name in ("duration", "ops", "in", "out"):
        table.add_column(name, justify="right", no_wrap=True)
    for r in runs:
        table.add_row(when(r.started)[:16], short_id(r.run_id), r.name, status(r),
                      duration(r.duration_s), str(r.ops), str(r.files_in), str(r.files_out))
    console.print(table)


# -- tracer why ---------------------------------------------------------------------------------

def why_view(answer: Answer, console: Console) -> None:
    path = shown_path(answer.path)
    if answer.verdict == "written":
        assert answer.root is not None and answer.root.writer is not None
        w = answer.root.writer
        console.print(Text.assemble(
            (path, "bold"), f" was written by run {w.run.run_id} ({w.run.name}, "
            f"{when(w.run.started)}): exactly this content."))
    elif answer.verdict == "changed":
        assert answer.last_write is not None
        f, r = answer.last_write
        console.print(Text.assemble(
            (path, "bold"), (" changed after the run that wrote it", "bold red"),
            f": run {r.run_id} ({r.name}, {when(r.started)}) wrote {short_hash(f.hash)}, "
            f"the file is now {short_hash(answer.hash)}. No recorded run wrote its current "
            "content."))
        _readers(answer, console)
        console.print("What the last recorded version came from:")
    elif answer.verdict == "missing":
        if answer.last_write is None:
            console.print(Text.assemble((path, "bold"),
                                        " does not exist and no recorded run wrote it."))
            return
        f, r = answer.last_write
        console.print(Text.assemble(
            (path, "bold"), (" no longer exists", "bold red"),
            f"; it was last written by run {r.run_id} ({r.name}, {when(r.started)}):"))
    elif answer.verdict == "raw":
        console.print(Text.assemble(
            (path, "bold"), " was written by no recorded run: it is a raw input."))
        _readers(answer, console)
        return
    else:
        console.print(Text.assemble(
            (path, "bold"), f" ({short_hash(answer.hash)}) was neither written nor read by any "
            "recorded run."))
        return
    assert answer.root is not None
    digest = answer.hash if answer.verdict == "written" else None
    tree = Tree(_file_label(answer.root, digest), guide_style="dim")
    _grow(tree, answer.root)
    console.print(tree)


def _readers(answer: Answer, console: Console) -> None:
    if not answer.readers:
        return
    runs = {r.id: r for _, r in answer.readers}
    latest = answer.readers[0][1]
    console.print(f"Its current content was read by {len(runs)} run{'s' if len(runs) != 1 else ''}"
                  f" (latest: {latest.name}, run {latest.run_id}, {when(latest.started)}).")


def _file_label(src: Source, digest: str | None = None) -> Text:
    text = Text.assemble((shown_path(src.path), "bold"), "  ",
                         (short_hash(digest or src.hash), "dim"))
    if src.size is not None:
        text.append(f"  {size(src.size)}", "dim")
    if src.written_as:
        text.append(f"  (written as {shown_path(src.written_as)})", "dim")
    if src.state == "raw":
        text.append("  raw input: no recorded run wrote it", "green")
    elif src.state == "unhashed":
        text.append("  not hashed: cannot follow", "yellow")
    elif src.state == "changed" and src.last_write is not None:
        f, r = src.last_write
        text.append(f"  changed after run {r.run_id} ({r.name}) wrote it "
                    f"({short_hash(f.hash)}): no recorded run wrote this content", "red")
    elif src.writer is not None and src.writer.repeat:
        text.append("  (explained above)", "dim")
    return text


def _grow(tree: Tree, src: Source) -> None:
    w = src.writer
    if w is None or w.repeat:
        return
    branch = tree.add(_run_label(w))
    for child in w.inputs:
        sub = branch.add(_file_label(child))
        _grow(sub, child)


def _run_label(w: Writer) -> Text:
    r, f = w.run, w.file
    text = Text.assemble((r.name, "bold cyan"), f"  run {r.run_id} · ", status(r),
                         f" · {when(r.started)}")
    if w.others:
        text.append(f" (and {w.others} other run{'s' if w.others != 1 else ''} wrote the same)",
                    "dim")
    text.append(f"\n{f.op_name or '?'} at {f.site or '?'}")
    if len(f.steps) > 1:
        text.append(f" after {steps(f.steps[:-1], len(f.steps) - 1)}")
    if f.approx:
        text.append("\ninputs approximate: the written object was not tracked", "yellow")
    if not w.inputs:
        text.append("\nno file inputs recorded", "dim")
    return text


def _fmt_file(f: FileRow) -> str:
    return f"{shown_path(f.path)} {short_hash(f.hash)}"


# -- tracer diff --------------------------------------------------------------------------------

def diff_view(d: RunDiff, run_a: RunRow | None, run_b: RunRow | None, console: Console,
              max_rows: int = 12) -> None:
    console.print(Text.assemble(("A ", "bold"), _run_line(d.a, run_a)))
    console.print(Text.assemble(("B ", "bold"), _run_line(d.b, run_b)))
    aligned = sum(1 for p in d.pairs if p.a is not None and p.b is not None)
    if d.equivalent:
        written = sum(1 for f in d.a.files if f.mode == "write")
        console.print(Text.assemble(
            ("equivalent", "bold green"),
            f": {aligned} ops aligned by call site, with the same input files, rows, columns, "
            f"dtypes and fingerprints; {written} file write{'s' if written != 1 else ''} with "
            "identical content."))
        _notes(d, console)
        return
    console.print(Text("different", style="bold red"))
    if d.first is not None:
        console.print()
        console.print(Text.assemble(("First divergence: ", "bold"), _op_title(d.first)))
        if d.first.op.callsite is not None and d.first.op.callsite.code:
            console.print(Text("    " + d.first.op.callsite.code.strip(), style="dim"))
        console.print(_changes_table(d.first))
    console.print()
    console.print(Text("What follows:", style="bold"))
    later = [p for p in d.differing if p is not d.first]
    downstream = [p for p in later if p.downstream]
    other = [p for p in later if not p.downstream]
    if d.first is not None:
        after = len(d.pairs) - 1 - d.pairs.index(d.first)
        console.print(f"  • {len(later)} of {after} later ops differ; {len(downstream)} of them "
                      "use data derived from the first divergence")
    only_a = [p for p in d.pairs if p.b is None]
    only_b = [p for p in d.pairs if p.a is None]
    if only_a or only_b:
        console.print(f"  • ops only in A: {len(only_a)}, only in B: {len(only_b)} "
                      "(the code differs)")
    rows = [p for p in later if any(c.what == "rows" for c in p.changes)]
    for p in rows[:max_rows]:
        c = next(c for c in p.changes if c.what == "rows")
        console.print(f"  • rows at {_op_title(p, plain=True)}: {c.a} (A) vs {c.b} (B)")
    if len(rows) > max_rows:
        console.print(f"  • … and {len(rows) - max_rows} more ops with other row counts")
    for p in later:
        if any(c.what.startswith(("columns", "dtypes")) for c in p.changes):
            c = next(c for c in p.changes if c.what.startswith(("columns", "dtypes")))
            console.print(f"  • {c.what} at {_op_title(p, plain=True)}: A {c.a}; B {c.b}")
    fits = [p for p in d.differing if p.op.op == "fit" and p.a is not None and p.b is not None]
    for p in fits:
        console.print(f"  • the model fitted at {_site(p.op)} was trained on different data")
    for f in d.files:
        if f.a is None or f.b is None:
            console.print(f"  • {f.path}: written only by {'B' if f.a is None else 'A'}")
        else:
            console.print(f"  • {f.path}: written with different content "
                          f"({short_hash(f.a)} vs {short_hash(f.b)})")
    if other:
        p = other[0]
        console.print(f"  • {len(other)} other difference{'s' if len(other) != 1 else ''} not "
                      f"caused by the first, starting at {_op_title(p, plain=True)}")
    same = [path for path, (x, y) in _writes(d).items() if x is not None and x == y]
    if same:
        console.print(f"  • written with the same content in both runs: {', '.join(same)}")
    if d.outcome is not None:
        console.print(f"  • the runs ended differently: A {d.outcome.a}, B {d.outcome.b}")
    _notes(d, console)


def _writes(d: RunDiff) -> dict[str, tuple[str | None, str | None]]:
    a = {f.relpath: f.hash for f in d.a.files if f.mode == "write"}
    b = {f.relpath: f.hash for f in d.b.files if f.mode == "write"}
    return {p: (a.get(p), b.get(p)) for p in list(a) + [p for p in b if p not in a]}


def _notes(d: RunDiff, console: Console) -> None:
    if d.notes:
        console.print(Text("Environment: " + "; ".join(f"{c.what} {c.a} vs {c.b}" for c in d.notes),
                           style="dim"))


def _run_line(lineage: Lineage, row: RunRow | None) -> Text:
    run = lineage.run
    text = Text.assemble(f"run {run.id} ", (os.path.basename(run.script or "?"), "bold"),
                         f" · {when(run.started)} · ")
    text.append_text(status(row) if row is not None else Text(run.status))
    text.append(f" · {len(lineage.ops)} ops · {shown_path(lineage.path)}", "dim")
    return text


def _site(op: Op) -> str:
    site = op.callsite
    if site is None:
        return "?"
    return f"{os.path.basename(site.file)}:{site.line} {site.function}()"


def _op_title(p: Pair, plain: bool = False) -> str:
    if p.a is not None and p.b is not None:
        where = f"op {p.a.seq}" if p.a.seq == p.b.seq else f"op {p.a.seq} (B: {p.b.seq})"
        return f"{where} {p.op.op} at {_site(p.op)}"
    side = "A" if p.b is None else "B"
    return f"op {p.op.seq} {p.op.op} at {_site(p.op)}, only in {side}"


def _changes_table(p: Pair) -> Table | Group:
    if p.a is None or p.b is None:
        return Group(Text(f"    this op is only in run {'A' if p.b is None else 'B'}: "
                          "the code that ran differs here"))
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 2, 0, 4))
    table.add_column("what", no_wrap=True)
    table.add_column("A / B", overflow="fold")
    for c in p.changes:
        table.add_row(c.what, Text.assemble(("A ", "bold"), c.a, "\n", ("B ", "bold"), c.b))
    for c in p.notes:
        table.add_row(Text(c.what, style="dim"),
                      Text.assemble(("A ", "dim bold"), (c.a, "dim"), "\n", ("B ", "dim bold"),
                                    (c.b, "dim")))
    return table


__all__ = ["Change", "diff_view", "runs_table", "why_view"]
