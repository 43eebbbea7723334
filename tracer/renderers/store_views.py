"""Terminal views of the store's answers, drawn with rich: the runs table, the `why` tree and
the `diff` summary. Each takes a model (rows, `why.Answer`, `diff.RunDiff`) and a Console."""

from __future__ import annotations

import os
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from tracer.catalog import families as fam
from tracer.lineage.graph import Lineage, Op
from tracer.store.diff import Change, FileChange, Pair, RunDiff, Site
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
    """Say what differs as a person would: the first line whose ops differ and what changed
    there (its code, the rows it keeps), then the effect downstream in one sentence, then
    the written files, the other lines that differ on their own, and the outcome."""
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
    site = d.site
    headline = Text("different", style="bold red")
    if site is not None:
        headline.append(f": {_site_name(site)}: {_site_effect(site)}; "
                        f"{_downstream_effect(site.downstream, d.unreached)}")
    console.print(headline)
    shown: set[str] = set()
    if site is not None:
        console.print()
        _site_detail(site, console)
        if site.downstream:
            console.print(Text.assemble(("Downstream: ", "bold"),
                                        f"{_count(len(site.downstream), 'op')}"
                                        f"{_lines(site.downstream)}: "
                                        f"{_names([p.op.op for p in site.downstream])}"))
            _downstream_detail(site.downstream, console, max_rows)
        _files(d.files_of(site), console, shown, max_rows)
    if d.others:
        console.print(Text("Also different, not caused by it:", style="bold"))
        # the same line saying the same again (a loop) is one bullet with a count
        said: dict[str, list[Site]] = {}
        for other in d.others:
            said.setdefault(f"{_site_name(other)}: {_site_effect(other)}; "
                            f"{_downstream_effect(other.downstream, None)}", []).append(other)
        for text, sites in list(said.items())[:max_rows]:
            console.print(f"  • {text}" + (f" ({len(sites):,} times)" if len(sites) > 1 else ""))
            _files(d.files_of(sites[0]), console, shown, max_rows, bullet="    – ")
        if len(said) > max_rows:
            console.print(f"  • … and {len(said) - max_rows} more lines")
    _files(d.files, console, shown, max_rows)
    _outcome(d, console)
    _notes(d, console)


def _where(site: Site) -> str:
    """`script.py line 5`, with `(line 6 in B)` when an edit above moved it."""
    where = f"{site.file or '?'} line {site.line_a if site.line_a is not None else site.line_b}"
    if None not in (site.line_a, site.line_b) and site.line_a != site.line_b:
        where += f" (line {site.line_b} in B)"
    return where


def _site_name(site: Site) -> str:
    where = _where(site)
    if site.edited:
        return where + " changed"
    if site.line_b is None:
        return where + " (A only)"
    if site.line_a is None:
        return where + " (B only)"
    return where


def _site_effect(site: Site) -> str:
    """What the line's ops now do differently, in a few words (the line's own change)."""
    differing = site.differing
    for p in reversed(differing):  # the innermost call that failed: nested ops come later
        error = next((c for c in p.changes if c.what == "error"), None)
        if error is not None:
            side, message = ("A", error.a) if error.b == "-" else ("B", error.b)
            return f"{p.op.op} fails in {side} only ({message})"
        if (p.a is None or p.b is None) and p.op.error:
            return f"{p.op.op} fails in {'A' if p.b is None else 'B'} ({p.op.error})"
    rows = [p for p in differing if p.a is not None and p.b is not None and
            any(c.what == "rows" for c in p.changes)]
    if rows:
        return _rows_effect(rows[-1], subject=True)  # the line's last row change is its result
    only_a = [p.op.op for p in differing if p.b is None]
    only_b = [p.op.op for p in differing if p.a is None]
    if only_a and only_b:
        last_a = next(p.a for p in reversed(differing) if p.b is None and p.a is not None)
        last_b = next(p.b for p in reversed(differing) if p.a is None and p.b is not None)
        became = f"{_names(only_a)} became {_names(only_b)}"
        if None in (last_a.rows_out, last_b.rows_out) or last_a.rows_out == last_b.rows_out:
            return became
        shift = (last_b.rows_out or 0) - (last_a.rows_out or 0)
        return f"{became}, giving {_count(abs(shift), _more_or_fewer(shift))}"
    if only_a or only_b:
        side, other = ("A", "B") if only_a else ("B", "A")
        return f"{side} runs {_names(only_a or only_b)} there, {other} does not"
    for p in differing:
        for c in p.changes:
            if c.what.startswith("input file"):
                return f"{p.op.op} reads {c.what[len('input file '):]} with different content"
            if c.what.startswith(("columns", "dtypes")):
                return f"{p.op.op} now gives different {c.what.split()[0]}"
    changed = [p for p in differing if any(c.what.startswith("fingerprint") for c in p.changes)]
    if changed:
        return f"{changed[-1].op.op} now gives different values"
    return "the data are the same"


def _rows_effect(p: Pair, subject: bool = False) -> str:
    """For an aligned op whose row counts differ: what it now does, as the subject of a
    sentence (`the filter now drops 2,299 more rows`), or the counts (`keeps 1,339 of 20,433
    rows (was 3,638)`)."""
    assert p.a is not None and p.b is not None
    a, b = p.a, p.b
    rule = a.meaning.filter_by[0] if a.meaning.filter_by else None
    name = "the filter" if rule in (fam.MASK, fam.EXPRESSION) else a.op
    filtering = a.family == fam.ROW_FILTER
    if filtering and a.rows_in == b.rows_in and None not in (a.rows_in, a.rows_out, b.rows_out):
        more = (a.rows_out or 0) - (b.rows_out or 0)
        kept = f"keeps {_num(b.rows_out)} of {_num(b.rows_in)} rows (was {_num(a.rows_out)})"
        if not subject:
            return kept
        verb = f"drops {_count(more, 'more row')}" if more > 0 else (
            f"keeps {_count(-more, 'more row')}")
        return f"{name} now {verb}"
    shift = p.rows_shift
    what = f"{_rows(a)} rows (A) vs {_rows(b)} (B)"
    if not subject or not shift:
        return what
    verb = "reads" if a.rows_in is None else "gives"
    return f"{name} now {verb} {_count(abs(shift), 'more row' if shift > 0 else 'fewer row')}"


def _downstream_effect(ds: list[Pair], unreached: tuple[str, list[Pair]] | None) -> str:
    """One clause for the ops downstream of a line: the row shift they share, or how many of
    them differ."""
    differing = [p for p in ds if p.differs]
    if not differing:
        if unreached is not None:
            return f"{'B' if unreached[0] == 'A' else 'A'} stops there"
        return "nothing downstream differs"
    shifts = [s for p in ds if (s := p.rows_shift) is not None]
    moved = list(dict.fromkeys(s for s in shifts if s))
    if moved and all(shifts):
        if len(moved) == 1:
            return f"everything downstream has {_count(abs(moved[0]), _more_or_fewer(moved[0]))}"
        if all(s < 0 for s in moved) or all(s > 0 for s in moved):
            sizes = [f"{abs(s):,}" for s in moved]
            by = (", ".join(sizes[:-1]) + " or " + sizes[-1] if len(sizes) <= 3
                  else ", ".join(sizes[:3]) + ", …")
            return f"everything downstream has {'more' if moved[0] > 0 else 'fewer'} rows (by {by})"
        return "every op downstream has a different row count"
    if not moved:
        return (f"{_count(len(differing), 'op')} downstream "
                f"{'sees' if len(differing) == 1 else 'see'} different values, same row counts")
    rows = sum(1 for s in shifts if s)
    return f"{rows} of {_count(len(shifts), 'op')} downstream have different row counts"


def _downstream_detail(ds: list[Pair], console: Console, max_rows: int) -> None:
    """Row shifts grouped by size (one bullet, not one per op), then columns, fits."""
    by_shift: dict[int, list[Pair]] = {}
    for p in ds:
        if p.rows_shift:
            by_shift.setdefault(p.rows_shift, []).append(p)
    if len(by_shift) > 1:
        for shift, ps in list(by_shift.items())[:max_rows]:
            console.print(f"  • {_count(abs(shift), _more_or_fewer(shift))} at "
                          f"{_count(len(ps), 'op')}: {_names([p.op.op for p in ps])}"
                          f"{_lines(ps)}")
    columns = [(p, c) for p in ds for c in p.changes if c.what.startswith(("columns", "dtypes"))]
    for p, c in columns[:max_rows]:
        console.print(f"  • {c.what} at {_op_title(p)}: A {c.a}; B {c.b}")
    for p in ds:
        if p.op.family == fam.FIT and p.differs:
            console.print(f"  • the model fitted at {_site(p.op)} was trained on different data")


def _site_detail(site: Site, console: Console) -> None:
    """The line's code in both runs (once when unchanged) and one bullet per differing op."""
    callsite = site.pairs[0].op.callsite
    console.print(Text(f"{_where(site)}, in {callsite.function if callsite else '?'}():",
                       style="bold"))
    code_a, code_b = site.code("a"), site.code("b")
    if site.edited:
        console.print(Text.assemble("    ", ("A ", "bold"), (code_a or "", "dim")))
        console.print(Text.assemble("    ", ("B ", "bold"), (code_b or "", "dim")))
    elif code_a or code_b:
        console.print(Text("    " + (code_a or code_b or ""), style="dim"))
    changed = [(p, _pair_changes(p)) for p in site.differing]
    for p, what in changed:
        if what:
            console.print(f"  • {p.op.op}: {what}")
    if not any(what for _, what in changed):
        console.print("  • the same data in both runs")


def _pair_changes(p: Pair) -> str:
    """What differs at one op besides its code ("" for nothing): parameters, rows, files."""
    if p.a is None or p.b is None:
        rows = f" ({_rows(p.op)} rows)" if p.op.rows_out is not None else ""
        fails = f" (fails: {p.op.error})" if p.op.error else ""
        return f"only in {'A' if p.b is None else 'B'}{rows}{fails}"
    error = next((c for c in p.changes if c.what == "error"), None)
    if error is not None:  # rows and outputs of a failed call say nothing more
        return f"error: A {error.a}; B {error.b}"
    parts = []
    keys = sorted(set(p.a.params) | set(p.b.params))
    for k in keys:
        if p.a.params.get(k) != p.b.params.get(k):
            parts.append(f"{k} {p.a.params.get(k, '-')} → {p.b.params.get(k, '-')}")
    for c in p.changes:
        if c.what == "rows":
            parts.append(_rows_effect(p))
        elif c.what.startswith(("input file", "written file")):
            parts.append(f"{c.what}: different content ({short_hash(c.a)} vs {short_hash(c.b)})")
        elif c.what.startswith("fingerprint"):
            if not any(x.what == "rows" or x.what.startswith(("columns", "dtypes", "input"))
                       for x in p.changes):
                parts.append("different values")
        elif c.what != "code":
            parts.append(f"{c.what}: A {c.a}; B {c.b}")
    return "; ".join(parts)


def _files(files: list[FileChange], console: Console, shown: set[str], most: int,
           bullet: str = "  • ") -> None:
    """Bullets for the written files not shown yet (each under the line that caused it), at
    most `most` of them."""
    new = [f for f in files if f.path not in shown]
    shown.update(f.path for f in new)
    if len(new) > most:
        console.print(f"{bullet}{len(new):,} written files differ, among them:")
    for f in new[:most]:
        if f.a is None or f.b is None:
            console.print(f"{bullet}{f.path}: written only by {'B' if f.a is None else 'A'}")
        else:
            console.print(f"{bullet}{f.path}: written with different content "
                          f"({short_hash(f.a)} vs {short_hash(f.b)})")


def _outcome(d: RunDiff, console: Console) -> None:
    if d.unreached is not None:
        side, ps = d.unreached
        other = "B" if side == "A" else "A"
        console.print(f"  • {other} stopped before {_count(len(ps), 'later op')} that {side} ran"
                      f"{_lines(ps)}: {_names([p.op.op for p in ps])}")
    same = [path for path, (x, y) in _writes(d).items() if x is not None and x == y]
    if same:
        console.print(f"  • written with the same content in both runs: {', '.join(same)}")
    if d.outcome is not None:
        console.print(f"  • the runs ended differently: A {d.outcome.a}, B {d.outcome.b}")


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _more_or_fewer(shift: int) -> str:
    return "more row" if shift > 0 else "fewer row"


def _num(v: int | None) -> str:
    return "?" if v is None else f"{v:,}"


def _rows(op: Op) -> str:
    return f"{_num(op.rows_in)} → {_num(op.rows_out)}"


def _names(names: list[str], most: int = 6) -> str:
    """Distinct op names in order of first use: `assign, getitem, rename, …`."""
    unique = list(dict.fromkeys(names))
    return ", ".join(unique[:most]) + (", …" if len(unique) > most else "")


def _lines(pairs: list[Pair]) -> str:
    """` at lines 5–7` of run A, with B's when they differ (an edit above shifted them)."""
    def span(side: str) -> str:
        ops = [p.a if side == "a" else p.b for p in pairs]
        lines = [op.callsite.line for op in ops if op is not None and op.callsite is not None]
        if not lines:
            return ""
        lo, hi = min(lines), max(lines)
        return f"line {lo}" if lo == hi else f"lines {lo}–{hi}"

    a, b = span("a"), span("b")
    if not a:
        return ""
    return f" at {a}" + (f" ({b} in B)" if b and b != a else "")


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


def _op_title(p: Pair) -> str:
    if p.a is not None and p.b is not None:
        where = f"op {p.a.seq}" if p.a.seq == p.b.seq else f"op {p.a.seq} (B: {p.b.seq})"
        return f"{where} {p.op.op} at {_site(p.op)}"
    side = "A" if p.b is None else "B"
    return f"op {p.op.seq} {p.op.op} at {_site(p.op)}, only in {side}"


__all__ = ["Change", "diff_view", "runs_table", "why_view"]
