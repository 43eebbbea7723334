"""`diff` on synthetic logs: an edited line's ops pair up as changed ops, the first divergent
line with its downstream, later independent lines, a run that stopped, and the view's words."""

from __future__ import annotations

import io

from rich.console import Console

from tracer.events.format import Kind
from tracer.events.writer import LogWriter
from tracer.lineage.load import load
from tracer.renderers.store_views import diff_view
from tracer.store.diff import compare


class Run:
    """A log of one script written op by op: each op one output DataFrame of `rows` rows."""

    def __init__(self, path, run_id: str) -> None:
        self.w = LogWriter(path)
        self.path = str(path)
        self.w.record(
            [
                Kind.HEADER,
                {
                    "run_id": run_id,
                    "script": "/src/job.py",
                    "argv": ["/src/job.py"],
                    "cwd": "/src",
                    "host": "h",
                    "started": "2030-01-01T00:00:00Z",
                    "pid": 1,
                    "python": "3.12.1",
                    "backend": "sysmon",
                },
            ]
        )
        self.seq = 0

    def op(self, name, line, code, rows, inputs=(), params=None, fp=None, write=None):
        """One op at `line` whose source line is `code`; returns its output node (None for a
        write). `fp` defaults to one derived from the code, so edited code changes values."""
        self.seq += 1
        out = [] if write else [self.seq]
        if not write:
            self.w.record([Kind.SCHEMA, self.seq, ["x"], ["int64"]])
            self.w.record(
                [
                    Kind.NODE,
                    self.seq,
                    "DataFrame",
                    "pandas.DataFrame",
                    [rows, 1],
                    self.seq,
                    fp or f"fp-{code}-{rows}",
                    1,
                    self.seq,
                    self.seq,
                ]
            )
        self.w.record([Kind.CALLSITE, self.seq, "/src/job.py", line, "main", code])
        facts = {"file": [write[0], "write"]} if write else {}
        self.w.record(
            [
                Kind.OP,
                self.seq,
                name,
                f"pandas.{name}",
                None,
                list(inputs),
                out,
                self.seq,
                0,
                0,
                10,
                params or {},
                facts,
            ]
        )
        if write:
            self.w.record(
                [Kind.FILE, self.seq, write[0], "write", "csv", 10, write[1], inputs[0], 1]
            )
        return None if write else self.seq

    def finish(self, status="ok"):
        self.w.record(
            [
                Kind.TRAILER,
                {
                    "ended": "2030-01-01T00:00:09Z",
                    "status": status,
                    "exit_code": 0 if status == "ok" else 1,
                    "duration_s": 1.0,
                    "counts": {"ops": self.seq},
                },
            ]
        )
        self.w.close()
        return load(self.path)


def script(tmp_path, name, limit, *, extra_line=False, status="ok", stop_after=None):
    """read (100 rows) -> filter `x > limit` (keeps 100 - limit) -> assign -> to_csv, and with
    `extra_line` a head(5) of the read -> to_csv after them (independent of the filter)."""
    r = Run(tmp_path / f"{name}.tlog", name)
    kept = 100 - limit
    n = raw = r.op("read_csv", 1, "df = pd.read_csv('in.csv')", 100, fp="fp-in")
    m = r.op("gt", 2, f"df = df[df.x > {limit}]", 100, [n], {"other": str(limit)})
    n = r.op("filter", 2, f"df = df[df.x > {limit}]", kept, [n, m], fp=f"fp-kept-{kept}")
    if stop_after != "filter":
        n = r.op("assign", 3, "df = df.assign(y=1)", kept, [n], fp=f"fp-y-{kept}")
        r.op("to_csv", 4, "df.to_csv('out.csv')", kept, [n], write=("/src/out.csv", f"h{kept}"))
    if extra_line:
        h = r.op("head", 5, "top = raw.head(5)", 5, [raw], fp="fp-top-5")
        r.op("to_csv", 6, "top.to_csv('top.csv')", 5, [h], write=("/src/top.csv", "t5"))
    return r.finish(status)


def view(d) -> str:
    out = io.StringIO()
    diff_view(d, None, None, Console(file=out, width=200, color_system=None))
    return out.getvalue()


def test_an_edited_line_is_one_changed_op_per_op_and_everything_after_is_downstream(tmp_path):
    # GIVEN a run whose filter keeps x > 20, then one whose filter (same line) keeps x > 30
    a = script(tmp_path, "a", 20)
    b = script(tmp_path, "b", 30)
    # WHEN the runs are compared
    d = compare(a, b)
    # THEN the ops of the edited line are aligned as changed ops, none is one-sided
    assert all(p.a is not None and p.b is not None for p in d.pairs)
    assert d.site is not None and d.site.edited and (d.site.line_a, d.site.line_b) == (2, 2)
    assert [p.op.op for p in d.site.differing] == ["gt", "filter"]
    assert d.site.code("a") == "df = df[df.x > 20]" and d.site.code("b") == "df = df[df.x > 30]"
    assert [(p.op.op, p.rows_shift) for p in d.downstream] == [("assign", -10), ("to_csv", -10)]
    assert d.others == [] and not d.equivalent
    # and the view says it in one sentence, with the parameter and the kept rows
    text = view(d)
    assert (
        "different: job.py line 2 changed: the filter now drops 10 more rows; everything "
        "downstream has 10 fewer rows"
    ) in text
    assert "    A df = df[df.x > 20]\n    B df = df[df.x > 30]\n" in text
    assert "  • gt: other 20 → 30; different values\n" in text
    assert "  • filter: keeps 70 of 100 rows (was 80)\n" in text
    assert "Downstream: 2 ops at lines 3–4: assign, to_csv\n" in text
    assert "only in" not in text and "not caused by" not in text


def test_a_line_moved_by_an_edit_above_still_pairs_with_its_edit(tmp_path):
    # GIVEN B's filter line is both edited and moved down one line
    a = script(tmp_path, "a", 20)
    r = Run(tmp_path / "b.tlog", "b")
    n = r.op("read_csv", 1, "df = pd.read_csv('in.csv')", 100, fp="fp-in")
    m = r.op("gt", 3, "df = df[df.x > 30]", 100, [n], {"other": "30"})
    n = r.op("filter", 3, "df = df[df.x > 30]", 70, [n, m], fp="fp-kept-70")
    n = r.op("assign", 4, "df = df.assign(y=1)", 70, [n], fp="fp-y-70")
    r.op("to_csv", 5, "df.to_csv('out.csv')", 70, [n], write=("/src/out.csv", "h70"))
    # WHEN compared
    d = compare(a, r.finish())
    # THEN the moved, edited line is still one changed site, named by both line numbers
    assert all(p.a is not None and p.b is not None for p in d.pairs)
    assert (d.site.line_a, d.site.line_b) == (2, 3)
    assert "job.py line 2 (line 3 in B) changed: the filter now drops 10 more rows" in view(d)


def test_a_different_statement_on_another_line_is_not_paired(tmp_path):
    # GIVEN B replaced A's filter with a filter of a different statement on another line
    a = script(tmp_path, "a", 20)
    r = Run(tmp_path / "b.tlog", "b")
    n = r.op("read_csv", 1, "df = pd.read_csv('in.csv')", 100, fp="fp-in")
    r.op("gt", 9, "keep = frame.loc[frame['x'].gt(limit)]", 100, [n], {"other": "30"})
    # WHEN compared
    d = compare(a, r.finish())
    # THEN the ops are one-sided
    gts = [p for p in d.pairs if p.op.op == "gt"]
    assert [(p.a is None, p.b is None) for p in gts] == [(False, True), (True, False)]


def test_a_later_independent_line_is_its_own_site_with_its_own_downstream(tmp_path):
    # GIVEN B changes the assign after the filter, and a head of the raw frame
    a = script(tmp_path, "a", 20, extra_line=True)
    r = Run(tmp_path / "b.tlog", "b")
    n = raw = r.op("read_csv", 1, "df = pd.read_csv('in.csv')", 100, fp="fp-in")
    m = r.op("gt", 2, "df = df[df.x > 20]", 100, [n], {"other": "20"})
    n = r.op("filter", 2, "df = df[df.x > 20]", 80, [n, m], fp="fp-kept-80")
    n = r.op("assign", 3, "df = df.assign(y=2)", 80, [n], fp="fp-y2")
    r.op("to_csv", 4, "df.to_csv('out.csv')", 80, [n], write=("/src/out.csv", "h-y2"))
    h = r.op("head", 5, "top = raw.head(7)", 7, [raw], fp="fp-top-7")
    r.op("to_csv", 6, "top.to_csv('top.csv')", 7, [h], write=("/src/top.csv", "t7"))
    # WHEN compared
    d = compare(a, r.finish())
    # THEN line 3 is the first site, line 5 another one, each with its own write downstream
    assert (d.site.line_a, [p.op.op for p in d.site.downstream]) == (3, ["to_csv"])
    assert [(s.line_a, [p.op.op for p in s.downstream]) for s in d.others] == [(5, ["to_csv"])]
    text = view(d)
    assert (
        "different: job.py line 3 changed: assign now gives different values; 1 op "
        "downstream sees different values, same row counts"
    ) in text
    assert "Downstream: 1 op at line 4: to_csv\n  • out.csv: written with different" in text
    assert (
        "Also different, not caused by it:\n  • job.py line 5 changed: head now keeps 2 "
        "more rows; everything downstream has 2 more rows\n    – top.csv: written with "
        "different content"
    ) in text


def test_a_run_that_failed_stops_where_it_failed(tmp_path):
    # GIVEN B failed in the filter's line: its later ops never ran
    a = script(tmp_path, "a", 20)
    r = Run(tmp_path / "b.tlog", "b")
    n = r.op("read_csv", 1, "df = pd.read_csv('in.csv')", 100, fp="fp-in")
    r.w.record([Kind.CALLSITE, 2, "/src/job.py", 2, "main", "df = df[df.z > 20]"])
    r.w.record(
        [
            Kind.OP,
            2,
            "getitem",
            "pandas.getitem",
            None,
            [n],
            [],
            2,
            0,
            0,
            10,
            {},
            {"error": "KeyError: 'z'"},
        ]
    )
    d = compare(a, r.finish("error"))
    # WHEN shown
    text = view(d)
    # THEN the failure is the divergence, and A's later ops are where B stopped, not code
    assert d.others == []
    assert d.unreached is not None and d.unreached[0] == "A"
    assert "  • B stopped before 2 later ops that A ran at lines 3–4: assign, to_csv" in text
    assert "the runs ended differently: A ok, B error (exit 1)" in text


def test_the_same_difference_again_in_a_loop_is_one_bullet_with_a_count(tmp_path):
    # GIVEN a loop reading 200 files, every other one with new content in B
    def looped(name, salt):
        r = Run(tmp_path / f"{name}.tlog", name)
        for i in range(200):
            changed = salt if i % 2 else 0
            n = r.op("read_csv", 1, "df = pd.read_csv(path)", 10, fp=f"fp-{i}-{changed}")
            r.op("dropna", 2, "df = df.dropna()", 9, [n], fp=f"fpd-{i}-{changed}")
        return r.finish()

    # WHEN compared
    d = compare(looped("a", 1), looped("b", 2))
    # THEN each changed read is a site with its own dropna downstream, and the view says the
    # repeats once, counted
    assert len(d.others) == 99 and all(len(s.downstream) == 1 for s in d.others)
    text = view(d)
    assert (
        "Also different, not caused by it:\n  • job.py line 1: read_csv now gives different "
        "values; 1 op downstream sees different values, same row counts (99 times)\n"
    ) in text
