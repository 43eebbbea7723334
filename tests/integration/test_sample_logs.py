"""Logs of every released format render in every view: no view may trip over an old field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracer.cli import main

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "data").glob("format-*.tlog"))
VIEWS = [
    ["show", "--no-color"],
    ["show", "--no-color", "--summary"],
    ["show", "--no-color", "--group", "function"],
    ["summary", "--no-color"],
    ["replay", "--no-color"],
    ["report"],
    ["export", "--to", "json"],
    ["export", "--to", "mermaid"],
    ["export", "--to", "dot"],
    ["export", "--to", "openlineage"],
]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("view", VIEWS, ids=" ".join)
def test_every_view_reads_every_released_format(sample, view, capsys):
    assert main([*view, str(sample)]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and out.strip()
    if view[-1] == "openlineage":
        events = [json.loads(line) for line in out.splitlines()]
        assert events[-1]["eventType"] == "COMPLETE"
        assert events[-1]["eventTime"].startswith("2023-11-14T22:13:2")  # the sample's end


def test_a_log_of_another_engine_renders_by_the_meanings_it_carries(tmp_path, capsys):
    # GIVEN a log whose ops no catalog of tracer knows (a Polars pipeline), but which says what
    # each op means
    from tracer.events import format
    from tracer.events.writer import LogWriter

    log = tmp_path / "polars.tlog"
    frame = "polars.dataframe.frame.DataFrame"
    with LogWriter(log) as w:
        w.record(format.header({"script": "/w/p.py", "cwd": "/w", "argv": ["p.py"]}))
        w.record(format.callsite(1, "/w/p.py", 3, "<module>", "df = df.drop_nulls('amount')"))
        w.record(format.callsite(2, "/w/p.py", 4, "<module>", "df = df.sort('amount')"))
        w.record(format.schema(1, ["region", "amount"], ["str", "f64"]))
        w.record(format.node(1, "DataFrame", frame, [5, 2], 1, None, 1, None, 1))
        w.record(format.node(2, "DataFrame", frame, [3, 2], 1, None, 1, 1, 2))
        w.record(format.node(3, "DataFrame", frame, [3, 2], 1, None, 1, 2, 3))
        w.record(
            format.meaning(1, {"family": "row_filter", "columns": ["subset"], "hint": ["subset"]})
        )
        w.record(format.meaning(2, {"family": "row_reorder", "sort_by": ["by"], "hint": ["by"]}))
        w.record(format.op(1, "drop_nulls", f"{frame}.drop_nulls", None, [1], [2], 1, 0, 0, 0,
                           {"subset": "'amount'"}, {"filter_columns": ["amount"]}, 1))  # fmt: skip
        w.record(format.op(2, "sort", f"{frame}.sort", None, [2], [3], 2, 0, 0, 0,
                           {"by": "'amount'"}, {}, 2))  # fmt: skip
        w.record(format.trailer({"status": "ok", "exit_code": 0}))
    # WHEN it is shown THEN the filter reads as one: rows dropped, by which column, its hint
    assert main(["show", "--no-color", "--width", "100", str(log)]) == 0
    out = capsys.readouterr().out
    assert "drop_nulls  'amount'  5 × 2 → 3 × 2  −2 rows  by amount" in out
    assert "sort  'amount'  3 × 2 → 3 × 2" in out
    # AND the export counts the dropped rows from the shapes, as for a pandas filter
    assert main(["export", "--to", "json", str(log)]) == 0
    ops = json.loads(capsys.readouterr().out)["ops"]
    assert [(op["op"], op["rows_dropped"]) for op in ops] == [("drop_nulls", 2), ("sort", None)]
