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
