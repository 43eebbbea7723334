"""`tracer export --to json|mermaid|dot|html|svg`: each format is well formed, says what the
tree says, and survives column names and paths full of characters those formats parse."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support import run_cli as tracer
from support import run_traced, traced_demo

from tracer.lineage.load import load
from tracer.renderers.json_export import write_json

NASTY = """\
import pandas as pd
df = pd.DataFrame({'a "quoted" <col>': [1, 2, 3], "b#1 & `tick` | {x}": [4.0, None, 6.0]})
df = df.dropna()
df = df.rename(columns={'a "quoted" <col>': "a;b[c](d)"})
df.to_csv('out "weird" <name> #1.csv', index=False)
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("formats")
    demo = traced_demo(tmp_path_factory) / ".tracer" / "runs" / "demo.tlog"
    (cwd / "demo.tlog").symlink_to(demo)
    (cwd / "nasty.py").write_text(NASTY)
    assert run_traced(["nasty.py"], cwd, log="nasty.tlog").returncode == 0
    return cwd


def export(cwd: Path, *args: str) -> str:
    p = tracer("export", *args, cwd=cwd)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_json_is_the_contract_unchanged(runs: Path):
    # GIVEN a log WHEN exported as JSON THEN the bytes are json_export's, to stdout and to -o
    expected = io.StringIO()
    write_json(load(runs / "demo.tlog"), expected)
    assert export(runs, "demo.tlog", "--to", "json") == expected.getvalue()
    assert export(runs, "demo.tlog") == expected.getvalue()  # json is the default
    export(runs, "demo.tlog", "--to", "json", "-o", "out.json")
    assert (runs / "out.json").read_text() == expected.getvalue()
    assert json.loads(expected.getvalue())["format"] == "tracer-lineage/1"


# Mermaid: what GitHub's renderer needs. Every node is `id<open>"label"<close>`, every edge is
# `a --> b` or `a -->|"label"| b`, and no label holds a raw quote, < > or backtick.
_NODE = re.compile(r'^    (\w+)(\[\(|\(\[|\[)"([^"]*)"(\)\]|\]\)|\])$')
_EDGE = re.compile(r'^    (\w+) -->(?:\|"([^"]*)"\|)? (\w+)$')
_CLASS = re.compile(r"^    (classDef \w+ [\w:#,-]+|class [\w,]+ \w+)$")


def check_mermaid(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in lines[1:]:
        if m := _NODE.match(line):
            assert not re.search(r"[<>`]", m.group(3).replace("<br/>", "")), line
            nodes[m.group(1)] = m.group(3)
        elif m := _EDGE.match(line):
            edges.append((m.group(1), m.group(3)))
        else:
            assert _CLASS.match(line), f"not Mermaid this test knows: {line!r}"
    for a, b in edges:
        assert a in nodes and b in nodes
    return nodes, edges


def test_mermaid(runs: Path):
    nodes, edges = check_mermaid(export(runs, "demo.tlog", "--to", "mermaid"))
    labels = list(nodes.values())
    assert any(label.startswith("examples/data/housing.csv") for label in labels)
    assert any(label.startswith("housing_out/model.joblib") for label in labels)
    assert any(
        label.startswith("dropna<br/>20,640 × 10 → 20,433 × 10 −207 rows") for label in labels
    )
    assert len(edges) >= len(nodes) - 2


def test_mermaid_escapes_nasty_names(runs: Path):
    text = export(runs, "nasty.tlog", "--to", "mermaid")
    nodes, _ = check_mermaid(text)
    assert any("#quot;weird#quot; #lt;name#gt; #35;1.csv" in label for label in nodes.values())


def test_mermaid_from_the_output_extension(runs: Path):
    export(runs, "demo.tlog", "-o", "lineage.mmd")
    check_mermaid((runs / "lineage.mmd").read_text())


def test_dot(runs: Path):
    text = export(runs, "nasty.tlog", "--to", "dot")
    assert text.startswith("digraph lineage {") and text.rstrip().endswith("}")
    assert '\\"weird\\"' in text
    demo = export(runs, "demo.tlog", "--to", "dot")
    assert '"s1" -> "op1";' in demo and 'label="mask"' in demo
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed: the syntax was checked by hand only")
    for source in (text, demo):
        p = subprocess.run(
            ["dot", "-Tsvg"], input=source, capture_output=True, text=True, timeout=60
        )
        assert p.returncode == 0, p.stderr
        ET.fromstring(p.stdout)


def test_svg_is_the_tree_and_reproducible(runs: Path):
    a = export(runs, "demo.tlog", "--to", "svg")
    b = export(runs, "demo.tlog", "-o", "tree.svg") or (runs / "tree.svg").read_text()
    assert a == b
    root = ET.fromstring(a)
    assert root.tag.endswith("svg")
    text = "".join(root.itertext()).replace("\u00a0", " ")
    assert "tracer · housing_pipeline.py" in text
    assert "read_csv" in text and "joblib.dump" in text


def test_html_is_the_tree(runs: Path):
    html = export(runs, "demo.tlog", "--to", "html", "--width", "120")
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "read_csv" in html and "housing_out/model.joblib" in html
    assert "<style" in html or "style=" in html


def test_width_too_small(runs: Path):
    p = tracer("export", "demo.tlog", "--to", "svg", "--width", "10", cwd=runs)
    assert p.returncode == 2 and p.stderr.startswith("tracer: error: --width")


def test_unwritable_output(runs: Path):
    p = tracer(
        "export", "demo.tlog", "--to", "dot", "-o", str(runs / "no" / "such" / "x.dot"), cwd=runs
    )
    assert p.returncode == 2
    assert p.stderr.startswith("tracer: error: cannot write") and "Traceback" not in p.stderr
