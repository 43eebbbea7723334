"""Folding (tracer/lineage/fold.py): long logs drawn one row per call site, in bounded memory.

The folded lineage is checked against the plain one built from the same log (the slow obvious
implementation is the oracle): every count and total must agree, for whole logs and for logs
torn at any byte. The folded views are compared with exact text at a fixed width, colour off.
The logs are synthetic (tools/make_big_log.py) and small: folding is forced with `fold_above`.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from rich.console import Console
from support import ROOT, traced_demo

from tracer.events.format import Kind
from tracer.events.writer import LogWriter
from tracer.lineage import fold as folding
from tracer.lineage.graph import Lineage, Op
from tracer.lineage.load import load, merge_children
from tracer.lineage.processors import Flow
from tracer.renderers.live import WRITER_GONE, Follower
from tracer.renderers.summary import Counts, RunSummary
from tracer.renderers.tree import GroupedTree, LineageTree

sys.path.insert(0, str(ROOT / "tools"))
from make_big_log import write_loop_log  # noqa: E402

WIDTH = 100


def render(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=WIDTH, color_system=None)
    console.print(renderable)
    return render_text(console)


def render_text(console: Console) -> str:
    out = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in out.splitlines()) + "\n"


@pytest.fixture(scope="module")
def housing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return traced_demo(tmp_path_factory) / ".tracer" / "runs" / "demo.tlog"


def assert_same_counts(folded: Lineage, full: Lineage) -> None:
    """What a folded lineage says about the whole log is what the plain one says."""
    assert folded.folded is not None and full.folded is None
    a, b = Counts.of(folded), Counts.of(full)
    for name in (
        "kinds",
        "top_ops",
        "nested_ops",
        "rows_dropped",
        "cols_added",
        "cols_removed",
        "cols_renamed",
        "dtype_changes",
        "by_name",
        "reads",
        "writes",
        "errors",
    ):
        assert getattr(a, name) == getattr(b, name), name
    assert a.dropping == b.dropping == len(b.filters)
    assert sum(op.count for op in folded.ops) == len(full.ops)
    assert folded.folded.last_seq == max((op.seq for op in full.ops), default=0)
    assert len(Flow.of(folded).top) <= len(Flow.of(full).top)

    # every op a plain lineage has is counted in exactly one fold, of its site and name
    def where(op: Op) -> tuple[object, ...]:
        cs = op.callsite
        return (cs.file, cs.line, cs.function, op.op) if cs is not None else (op.op,)

    assert {where(op) for op in folded.ops} == {where(op) for op in full.ops}


# -- the oracle ---------------------------------------------------------------------------------


def test_folded_counts_match_the_plain_lineage(tmp_path: Path):
    # GIVEN the log of a loop of 40 rounds WHEN it is read folded and plain THEN they agree
    log = write_loop_log(str(tmp_path / "loop.tlog"), 40)
    folded, full = folding.fold(log.path), load(log.path)
    assert_same_counts(folded, full)
    assert len(folded.ops) == 9  # read_csv, dropna, getitem, gt, filter, assign (+2), to_csv


def test_folded_counts_match_on_a_real_run(housing: Path):
    # GIVEN the housing demo's log, real recorder output (files, models, nested ops, masks)
    assert_same_counts(folding.fold(housing), load(housing))


def test_torn_logs_fold_as_far_as_they_go(tmp_path: Path):
    # GIVEN a log torn at many points, inside records and between an op's children and itself
    whole = write_loop_log(str(tmp_path / "whole.tlog"), 5).path
    data = Path(whole).read_bytes()
    torn = tmp_path / "torn.tlog"
    for end in range(300, len(data), 97):
        torn.write_bytes(data[:end])
        # WHEN it is read folded THEN it says what the plain reading says, damage included
        folded, full = folding.fold(torn), load(torn)
        assert_same_counts(folded, full)
        assert folded.damage == full.damage
        assert folded.run.status == full.run.status == "unfinished"


def test_ops_whose_parent_never_came_are_top_level(tmp_path: Path):
    # GIVEN a run killed inside an assign: its lambda's ops are in the log, the assign is not
    path = tmp_path / "killed.tlog"
    with LogWriter(path) as w:
        w.record([Kind.HEADER, {"script": "/w/k.py", "cwd": "/w", "argv": ["k.py"]}])
        w.record([Kind.CALLSITE, 1, "/w/k.py", 3, "<lambda>", "df.assign(c=lambda d: d['a'])"])
        w.record([Kind.SCHEMA, 1, ["a"], ["int64"]])
        w.record([Kind.NODE, 1, "DataFrame", "pandas.DataFrame", [5, 1], 1, None, 1, None, 1])
        for seq in (2, 3, 4):
            w.record([Kind.NODE, seq, "Series", "pandas.Series", [5], 1, None, 1, seq, seq])
            w.record([Kind.OP, seq, "getitem", "x", 1, [1], [seq], 1, 0, 0, 0, {}, {}])
    # WHEN it is folded THEN the getitems (one site) are one top-level row, as plain sees them
    folded, full = folding.fold(path), load(path)
    assert_same_counts(folded, full)
    (op,) = folded.ops
    assert (op.op, op.count, op.parent) == ("getitem", 3, 1)
    assert [o.seq for o in Flow.of(folded).top] == [2]


def write_applies(path: Path, calls: list[tuple[int, int]]) -> None:
    """A log of top-level `apply` calls, each (its line, how many getitems its lambda made)."""
    with LogWriter(path) as w:
        w.record([Kind.HEADER, {"script": "/w/h.py", "cwd": "/w", "argv": ["h.py"]}])
        w.record([Kind.CALLSITE, 1, "/w/h.py", 9, "<lambda>", "lambda r: r['a']"])
        for line in sorted({line for line, _ in calls}):
            w.record([Kind.CALLSITE, line, "/w/h.py", line, "<module>", "df.apply(f)"])
        w.record([Kind.SCHEMA, 1, ["a"], ["int64"]])
        w.record([Kind.NODE, 1, "DataFrame", "pandas.DataFrame", [5, 1], 1, None, 1, None, 1])
        seq, node = 0, 1
        for line, inner in calls:
            seq += 1
            apply = seq
            for _ in range(inner):  # written before the op they were made in
                seq += 1
                node += 1
                w.record([Kind.NODE, node, "Series", "pandas.Series", [5], 1, None, 1, seq, node])
                w.record([Kind.OP, seq, "getitem", "x", apply, [1], [node], 1, 0, seq, 1, {}, {}])
            node += 1
            w.record(
                [Kind.NODE, node, "DataFrame", "pandas.DataFrame", [5, 1], 1, None, 1, apply, node]
            )
            w.record([Kind.OP, apply, "apply", "y", None, [1], [node], line, 0, apply, 1, {}, {}])


@pytest.mark.parametrize(
    "calls, rows",
    [
        # a helper called twice: two rows, each with the op made inside it
        (
            [(3, 1), (3, 1)],
            [
                (1, "apply", 1, None),
                (2, "getitem", 1, 1),
                (3, "apply", 1, None),
                (4, "getitem", 1, 3),
            ],
        ),
        # one apply whose lambda repeats, one whose lambda made two ops
        (
            [(3, 3), (4, 2)],
            [
                (1, "apply", 1, None),
                (2, "getitem", 3, 1),
                (5, "apply", 1, None),
                (6, "getitem", 1, 5),
                (7, "getitem", 1, 5),
            ],
        ),
        # called twice, its lambda repeating inside: the two calls cannot be told apart
        ([(3, 3), (3, 3)], [(1, "apply", 2, None), (2, "getitem", 6, 1)]),
        # called three times: everything inside folds with it
        ([(3, 1), (3, 2), (3, 1)], [(1, "apply", 3, None), (2, "getitem", 4, 1)]),
    ],
)
def test_what_folds_inside_an_op(tmp_path: Path, calls: list, rows: list):
    # GIVEN apply calls whose lambdas made ops WHEN folded THEN (seq, op, count, parent) per row
    path = tmp_path / "applies.tlog"
    write_applies(path, calls)
    folded, full = folding.fold(path), load(path)
    assert_same_counts(folded, full)
    assert [(op.seq, op.op, op.count, op.parent) for op in folded.ops] == rows


# -- what stays bounded ----------------------------------------------------------------------


def test_memory_is_bounded_by_folds_not_ops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # GIVEN small caps WHEN a long loop is folded THEN only the folds' nodes and the caps remain
    monkeypatch.setattr(folding, "RECENT_NODES", 16)
    monkeypatch.setattr(folding, "RECENT_OPS", 16)
    log = write_loop_log(str(tmp_path / "loop.tlog"), 500)
    from tracer.events.reader import LogReader

    with LogReader(log.path) as reader:
        builder = folding.FoldingBuilder(reader.header, log.path)
        for kind, record in reader.records():
            builder.add(kind, record)
            assert len(builder.nodes.recent) <= 32 and len(builder.fold_of) <= 32
            assert len(builder.nodes) <= 20 and len(builder.firsts) <= 9
        lineage = builder.finish(reader.damage)
    assert sum(op.count for op in lineage.ops) == log.ops
    assert lineage.folded is not None and lineage.folded.elided == 0


def test_an_input_made_long_before_is_marked_elided(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # GIVEN a loop that keeps its 3rd result aside and writes it after 100 more rounds, with
    # room for only a few recent nodes (the 2nd op of a site is kept until the site repeats)
    monkeypatch.setattr(folding, "RECENT_NODES", 4)
    path = tmp_path / "aside.tlog"
    with LogWriter(path) as w:
        w.record([Kind.HEADER, {"script": "/w/a.py", "cwd": "/w", "argv": ["a.py"]}])
        w.record([Kind.CALLSITE, 1, "/w/a.py", 4, "<module>", "df = df.dropna()"])
        w.record([Kind.CALLSITE, 2, "/w/a.py", 7, "<module>", "kept.to_csv('k.csv')"])
        w.record([Kind.SCHEMA, 1, ["a"], ["int64"]])
        w.record([Kind.NODE, 1, "DataFrame", "pandas.DataFrame", [500, 1], 1, None, 1, None, 1])
        for seq in range(1, 101):
            rows = [500 - seq, 1]
            w.record(
                [Kind.NODE, seq + 1, "DataFrame", "pandas.DataFrame", rows, 1, None, 1, seq, 1]
            )
            w.record([Kind.OP, seq, "dropna", "x", None, [seq], [seq + 1], 1, 0, 0, 0, {}, {}])
        w.record([Kind.OP, 101, "to_csv", "y", None, [4], [], 2, 0, 0, 0, {}, {}])
        w.record([Kind.FILE, 101, "/w/k.csv", "write", "csv", 99, None, 4, None])
    # WHEN it is shown folded THEN the written data is a source marked as made earlier
    lineage = load(path, fold_above=0)
    assert lineage.folded is not None and lineage.folded.elided == 1
    assert render(LineageTree(lineage).render()) == (
        "a.py  ·  did not finish  ·  101 ops\n"
        "⚠ the run did not finish: this is what it recorded before it stopped\n"
        "folded: 101 ops from 2 call sites, one row per repeated site with ×N; every op: "
        "tracer export\n"
        "DataFrame 500 × 1  origin not recorded\n"
        "└── dropna  ×100  500 × 1 → 499 × 1  … 401 × 1 → 400 × 1  −100 rows in all"
        "                        :4\n"
        "earlier data  1 input made by ops not kept when folding\n"
        "└── to_csv  earlier data → k.csv  99 B"
        "                                                            :7\n"
    )


# -- the views -------------------------------------------------------------------------------


LOOP_TREE = """\
loop.py  ·  ok  ·  1 min 00 s  ·  32 ops (+12 nested)
folded: 44 ops from 9 call sites, one row per repeated site with ×N; every op: tracer export
data.csv  csv · 12.3 kB · xxh3_128 abababab
├── read_csv → 1,018 × 2                                                                          :2
├── dropna  #2  ×6  1,018 × 2 → 1,017 × 2  … 1,011 × 3 → 1,010 × 3  −6 rows in all                :4
│   └── ⤷ getitem  ×6  'a'  1,017 × 2 → Series 1,017  … 1,010 × 3 → Series 1,010                  :5
│       └── gt  ×6  > 0  1,017 → 1,017  … 1,010 → 1,010                                           :5
│           └── ↪ filter #5  as mask
├── filter  #5  ×6  1,017 × 2 → 1,016 × 2  … 1,010 × 3 → 1,010 × 3  −2 rows in all  by a          :5
├── assign  ×6  1,016 × 2 → 1,016 × 3  … 1,010 × 3 → 1,010 × 3  +c ← a                            :6
│   ├── ┄ getitem 'a' · mul * 2
│   └── ↻ back to dropna #2
└── to_csv  1,010 × 3 → out.csv  54.3 kB                                                          :7
"""

LOOP_BY_FUNCTION = """\
loop.py  ·  ok  ·  1 min 00 s  ·  32 ops (+12 nested)  ·  by function
folded: 44 ops from 9 call sites, one row per repeated site with ×N; every op: tracer export
<module>  loop.py  32 ops
├── read_csv  #1 → 1,018 × 2                                                                      :2
├── dropna  #2  ×6  1,018 × 2 → 1,017 × 2  … 1,011 × 3 → 1,010 × 3  −6 rows in all                :4
├── getitem  #3  ×6  'a'  1,017 × 2 → Series 1,017  … 1,010 × 3 → Series 1,010                    :5
├── gt  #4  ×6  > 0  1,017 → 1,017  … 1,010 → 1,010                                               :5
├── filter  #5  ×6  1,017 × 2 → 1,016 × 2  … 1,010 × 3 → 1,010 × 3  −2 rows in all  by a  ←       :5
│     dropna #2
├── assign  #6  ×6  1,016 × 2 → 1,016 × 3  … 1,010 × 3 → 1,010 × 3  +c ← a                        :6
│   └── ┄ getitem 'a' · mul * 2
└── to_csv  #44  1,010 × 3 → out.csv  54.3 kB                                                     :7
"""

LOOP_SUMMARY = """\
loop.py  ·  ok  ·  1 min 00 s  ·  2024-01-01 00:00:00 UTC
Data tracked      19 DataFrames · 24 Series
Transformations   32 transformations  (+12 nested inside them)
Rows filtered     8 ops dropped rows: dropna ×6 −6 :4 · filter ×6 −2 :5
Column changes    +1 added · −0 removed · 0 renamed · 0 dtype changes
Operations        getitem 12 · assign 6 · dropna 6 · filter 6 · gt 6 · mul 6 · read_csv 1 · to_csv 1
Files             data.csv  → DataFrame 1,018 × 2  read_csv #1
                  out.csv   ← DataFrame 1,010 × 3  to_csv #44
Folded            44 ops from 9 call sites, counted in full, listed per site with ×N; every op:
                  tracer export
"""


@pytest.fixture
def loop(tmp_path: Path) -> Lineage:
    return load(write_loop_log(str(tmp_path / "loop.tlog"), 6).path, fold_above=0)


def test_folded_tree(loop: Lineage):
    # GIVEN six rounds of a loop, folded WHEN drawn THEN one row per call site: how many ops,
    # the first and last shapes, rows dropped in all, and the loop going back to its start
    assert render(LineageTree(loop).render()) == LOOP_TREE


def test_folded_tree_by_function(loop: Lineage):
    assert render(GroupedTree(loop).render()) == LOOP_BY_FUNCTION


def test_folded_summary(loop: Lineage):
    assert render(RunSummary(loop).render()) == LOOP_SUMMARY


def test_a_short_log_folds_only_when_a_site_repeats(tmp_path: Path):
    # GIVEN logs of one and two rounds of the loop (no call site made more than two ops: a
    # helper called twice), and of three rounds, all far below the threshold
    once, twice, thrice = (write_loop_log(str(tmp_path / f"{n}.tlog"), n).path for n in (1, 2, 3))
    # WHEN they are loaded for the views THEN the first two are the plain lineage, drawn as ever
    for log in (once, twice):
        assert load(log, fold_above=folding.FOLD_ABOVE).folded is None
        plain = render(LineageTree(load(log)).render())
        assert render(LineageTree(load(log, fold_above=folding.FOLD_ABOVE)).render()) == plain
    # AND three rounds fold, one row per site
    lineage = load(thrice, fold_above=folding.FOLD_ABOVE)
    assert lineage.folded is not None
    assert sorted(op.count for op in lineage.ops) == [1, 1, 3, 3, 3, 3, 3, 3, 3]


def without_fold_note(text: str) -> str:
    return "".join(line for line in text.splitlines(True) if not line.startswith("folded: "))


@pytest.mark.parametrize("rounds", [1, 2])
def test_sites_that_do_not_repeat_fold_into_the_plain_lineage(tmp_path: Path, rounds: int):
    # GIVEN a log where no call site made MIN_REPEAT ops WHEN it is folded all the same THEN
    # every op is a row of its own, drawn as the plain lineage draws it (the note aside)
    log = write_loop_log(str(tmp_path / "loop.tlog"), rounds).path
    folded, full = folding.fold(log), load(log)
    assert_same_counts(folded, full)
    assert [(op.seq, op.count, op.parent) for op in folded.ops] == [
        (op.seq, 1, op.parent) for op in full.ops
    ]
    assert folded.nodes.keys() <= full.nodes.keys()
    assert [f.op for f in folded.files] == [f.op for f in full.files]
    for view in (LineageTree, GroupedTree):
        assert without_fold_note(render(view(folded).render())) == render(view(full).render())


def test_a_real_run_without_repeats_folds_into_the_plain_lineage(housing: Path):
    folded, full = folding.fold(housing), load(housing)
    assert all(op.count == 1 for op in folded.ops) and len(folded.ops) == len(full.ops)
    assert without_fold_note(render(LineageTree(folded).render())) == render(
        LineageTree(full).render()
    )
    assert load(housing, fold_above=folding.FOLD_ABOVE).folded is None


FOLLOWED = """\
follow  h.py
 0.00s  apply  5 × 1 → 5 × 1                                                                      :3
          ┄ getitem
 0.00s  apply  5 × 1 → 5 × 1                                                                      :3
          ┄ getitem
 0.00s  ↻ apply  ×4  5 × 1 → 5 × 1                                                                :3
            ┄ getitem
 0.00s  apply  5 × 1 → 5 × 1                                                                      :4
          ┄ getitem ×5
✗ the writer (pid None) is gone and the log has no end: the run did not finish
"""


def test_follow_folds_a_site_once_it_repeats(tmp_path: Path):
    # GIVEN a log of four calls of one apply, then one of another whose lambda made 5 ops
    path = tmp_path / "applies.tlog"
    write_applies(path, [(3, 1)] * 4 + [(4, 5)])
    # WHEN it is followed (no trailer: the writer is gone once it is read)
    console = Console(file=io.StringIO(), width=WIDTH, color_system=None, _environ={})
    assert Follower(console, str(path), alive=lambda header: False).run() == WRITER_GONE
    # THEN the first two calls are drawn as they landed, the others folded into one ↻ row with
    # the totals once the run moved on; the lambda that repeated inside one call is one word
    assert render_text(console) == FOLLOWED


def test_child_logs_fold_into_a_folded_run(tmp_path: Path):
    # GIVEN a short run whose child process looped (its log beside the parent's)
    parent = write_loop_log(str(tmp_path / "run.tlog"), 1, header={"run_id": "parent-run"})
    kids = tmp_path / "run.children"
    kids.mkdir()
    child = write_loop_log(
        str(kids / "child-77.tlog"), 30, header={"parent_run_id": "parent-run", "pid": 77}
    )
    from tracer.children import child_logs

    paths = child_logs(parent.path, recursive=True)
    assert [os.path.basename(p) for p in paths] == ["child-77.tlog"]
    # WHEN both are merged for the views THEN the result is folded and counts both logs
    merged = merge_children(load(parent.path, fold_above=20), paths, fold_above=20)
    assert merged.folded is not None
    assert merged.folded.ops == parent.ops + child.ops
    assert merged.folded.last_seq == parent.ops + child.ops
    kid = [op for op in merged.ops if op.thread == "pid 77/MainThread"]
    assert [op.count for op in kid if op.op == "dropna"] == [30]
    assert min(op.seq for op in kid) == parent.ops + 1
    text = render(LineageTree(merged).render())
    assert f"folded: {parent.ops + child.ops} ops from 18 call sites" in text


def test_a_folded_log_counts_objects_as_the_plain_one_does(tmp_path: Path):
    # GIVEN a loop that changes frames in place (new versions of the same objects)
    path = write_loop_log(str(tmp_path / "loop.tlog"), 6).path
    # WHEN counted folded and plain THEN the same objects (a version is not another object)
    plain, folded = Counts.of(load(path)), Counts.of(load(path, fold_above=0))
    assert folded.tracked == plain.tracked
    assert folded.tracked["DataFrame"] < folded.kinds["DataFrame"]
