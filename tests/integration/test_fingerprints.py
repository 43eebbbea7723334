"""Fingerprints and file hashes across runs: identical for identical inputs, and one changed
cell in the input CSV changes the file hash and every fingerprint downstream of it."""

from __future__ import annotations

import shutil

from support import EXAMPLES, export_json, run_traced

SCRIPT = """\
import pandas as pd
df = pd.read_csv("input.csv")
df = df.dropna()
df = df.assign(ratio=lambda d: d["total_rooms"] / d["households"])
df = df[df["population"] > 3]
df.to_csv("out.csv", index=False)
"""


def fingerprints(doc):
    by_id = {n["id"]: n for n in doc["nodes"]}
    return [[by_id[i]["fingerprint"] for i in op["outputs"]] for op in doc["ops"]]


def run(tmp_path, name):
    r = run_traced(["pipe.py"], tmp_path, log=f"{name}.tlog")
    assert r.returncode == 0, r.stderr
    return export_json(r.log)


def test_same_input_same_fingerprints_changed_cell_changes_downstream(tmp_path):
    shutil.copy(EXAMPLES / "data" / "housing.csv", tmp_path / "input.csv")
    (tmp_path / "pipe.py").write_text(SCRIPT)
    first, second = run(tmp_path, "a"), run(tmp_path, "b")
    assert fingerprints(first) == fingerprints(second)
    assert [f["hash"] for f in first["files"]] == [f["hash"] for f in second["files"]]
    assert all(fp for fps in fingerprints(first) for fp in fps)

    # WHEN one cell of the input changes (a row far from any sample position)
    lines = (tmp_path / "input.csv").read_text().splitlines()
    fields = lines[12346].split(",")
    fields[4] = str(float(fields[4]) + 1)  # total_rooms
    lines[12346] = ",".join(fields)
    (tmp_path / "input.csv").write_text("\n".join(lines) + "\n")
    third = run(tmp_path, "c")
    # THEN the input hash and every fingerprint after the read differ
    assert third["files"][0]["hash"] != first["files"][0]["hash"]
    for before, after in zip(fingerprints(first), fingerprints(third)):
        if before:
            assert before != after
