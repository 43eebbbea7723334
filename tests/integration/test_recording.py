"""What the recorder keeps, on real scripts run in subprocesses on every backend: pickle and
joblib round trips, in-place versions, the recording rule's edge cases, threads, a killed run,
and failures inside tracer itself."""

from __future__ import annotations

import shutil
import signal

import pytest
from support import (
    SCRIPTS,
    backends,
    export_json,
    node,
    ops_named,
    run_cli,
    run_plain,
    run_traced,
)


@pytest.fixture(params=backends())
def backend(request):
    return request.param


def copy_script(tmp_path, *names):
    for name in names:
        shutil.copy(SCRIPTS / name, tmp_path / name)


def test_pickle_and_joblib_round_trips_link_objects_to_files(tmp_path, backend):
    copy_script(tmp_path, "persist_roundtrip.py")
    plain = run_plain(["persist_roundtrip.py"], tmp_path)
    r = run_traced(["persist_roundtrip.py"], tmp_path, backend)
    assert r.returncode == 0, r.stderr
    assert r.stdout == plain.stdout
    doc = export_json(r.log)
    files = {(f["relpath"], f["mode"]): f for f in doc["files"]}
    # with open(...) as f: pickle.dump(df, f)   and   pickle.load(open("df.pkl", "rb"))
    (frame,) = ops_named(doc, "DataFrame")
    assert files[("df.pkl", "write")]["node"] == frame["outputs"][0]
    loads = ops_named(doc, "pickle.load")
    assert files[("df.pkl", "read")]["node"] == loads[0]["outputs"][0]
    assert node(doc, loads[0]["outputs"][0])["shape"] == [10, 2]
    # pickle.dump(model, open(...)) then `with open(...) as fh: model = pickle.load(fh)`
    (fit,) = ops_named(doc, "fit")
    model = fit["outputs"][0]
    assert files[("m.pkl", "write")]["node"] == model
    assert files[("m.pkl", "write")]["size"] == (tmp_path / "m.pkl").stat().st_size > 0
    assert node(doc, loads[1]["outputs"][0])["kind"] == "model"
    assert files[("m.pkl", "read")]["node"] == loads[1]["outputs"][0]
    # joblib
    assert files[("m.joblib", "write")]["node"] == model
    (jload,) = ops_named(doc, "joblib.load")
    assert files[("m.joblib", "read")]["node"] == jload["outputs"][0]
    # a class defined in the script round-trips, and its file is hashed complete
    assert files[("box.pkl", "write")]["size"] == (tmp_path / "box.pkl").stat().st_size
    assert node(doc, loads[2]["outputs"][0])["type"] == "__main__.Box"
    # numpy files, C callables included
    assert files[("a.npy", "read")]["node"] == ops_named(doc, "np.load")[0]["outputs"][0]
    assert files[("a.bin", "write")]["node"] == ops_named(doc, "np.tofile")[0]["inputs"][0]
    assert files[("a.bin", "read")]["node"] == ops_named(doc, "np.fromfile")[0]["outputs"][0]
    # every file hash is the file as it ended up
    for f in doc["files"]:
        assert f["size"] == (tmp_path / f["relpath"]).stat().st_size


def test_in_place_changes_make_versions_of_one_object(tmp_path, backend):
    copy_script(tmp_path, "mutations.py")
    r = run_traced(["mutations.py"], tmp_path, backend)
    assert r.returncode == 0, r.stderr
    doc = export_json(r.log)
    names = [op["op"] for op in doc["ops"] if op["parent"] is None]
    assert names == [
        "DataFrame",
        "getitem",
        "mul",
        "setitem",
        "getitem",
        "eq",
        "loc_setitem",
        "insert",
        "pop",
        "delitem",
        "set_columns",
        "at_setitem",
    ]
    versions = []
    for op in doc["ops"]:
        if op["op"] in (
            "setitem",
            "loc_setitem",
            "insert",
            "pop",
            "delitem",
            "set_columns",
            "at_setitem",
        ):
            before, after = node(doc, op["inputs"][0]), node(doc, op["outputs"][0])
            assert after["version"] == before["version"] + 1
            assert after["origin"] == op["seq"]
            versions.append(after["version"])
    assert versions == [2, 3, 4, 5, 6, 7, 8]
    (setitem,) = ops_named(doc, "setitem")
    assert setitem["cols_added"] == ["d"]
    (rename,) = ops_named(doc, "set_columns")
    assert rename["cols_renamed"] == {"e": "E", "a": "A", "d": "D"}
    (pop,) = ops_named(doc, "pop")
    assert pop["cols_removed"] == ["c"] and node(doc, pop["outputs"][1])["kind"] == "Series"


def test_recording_rule_edge_cases(tmp_path, backend):
    copy_script(tmp_path, "rules.py", "rules_helper.py")
    plain = run_plain(["rules.py"], tmp_path)
    r = run_traced(["rules.py"], tmp_path, backend)
    assert r.returncode == 0, r.stderr
    assert r.stdout == plain.stdout
    doc = export_json(r.log)
    # row-wise apply over 500 rows: the two column reads are recorded once, with a count
    (apply,) = ops_named(doc, "apply")
    children = [op for op in doc["ops"] if op["parent"] == apply["seq"]]
    assert [(c["op"], c["params"]["key"]) for c in children] == [
        ("getitem", "'a'"),
        ("getitem", "'b'"),
    ]
    assert len(doc["ops"]) < 20
    # the caught KeyError is an op that failed, and the stack stayed sound
    failed = [op for op in ops_named(doc, "getitem") if op["params"].get("key") == "'missing'"]
    assert len(failed) == 1 and failed[0]["outputs"] == []
    # a helper module of the user's is user code; describe's internals are not recorded
    (dropna,) = ops_named(doc, "dropna")
    assert dropna["callsite"]["file"].endswith("rules_helper.py") and dropna["parent"] is None
    (reset,) = ops_named(doc, "reset_index")
    assert reset["inputs"] == dropna["outputs"]
    (describe,) = ops_named(doc, "describe")
    assert describe["parent"] is None
    assert not [op for op in doc["ops"] if op["parent"] == describe["seq"]]
    assert all(op["parent"] in (None, apply["seq"]) for op in doc["ops"])


def test_ops_in_threads_are_recorded_with_their_thread(tmp_path, backend):
    copy_script(tmp_path, "threads.py")
    r = run_traced(["threads.py"], tmp_path, backend)
    assert r.returncode == 0, r.stderr
    doc = export_json(r.log)
    dropnas = ops_named(doc, "dropna")
    assert len(dropnas) == 400
    per_thread = {}
    for op in dropnas:
        assert op["parent"] is None
        per_thread[op["thread"]] = per_thread.get(op["thread"], 0) + 1
    assert per_thread == {f"worker-{i}": 100 for i in range(4)}
    (fillna,) = ops_named(doc, "fillna")
    assert fillna["thread"] == "MainThread"


def test_a_killed_run_leaves_a_readable_log(tmp_path, backend):
    copy_script(tmp_path, "killed.py")
    r = run_traced(["killed.py"], tmp_path, backend)
    assert r.returncode == -signal.SIGKILL
    assert r.stdout == "before kill\n"
    doc = export_json(r.log)
    assert doc["run"]["status"] == "unfinished" and doc["run"]["ended"] is None
    assert [op["op"] for op in doc["ops"]] == ["DataFrame", "dropna", "getitem", "gt", "filter"]
    assert ops_named(doc, "filter")[0]["rows_out"] == 2


def test_failures_inside_the_recorder_never_reach_the_script(tmp_path):
    copy_script(tmp_path, "inject_failure.py")
    r = run_plain(["inject_failure.py", "run.tlog"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "(2, 1) 4.0\n"
    # tracer said once that it gave up, and the log holds the errors and a proper end
    assert r.stderr.count("tracer:") == 1 and "tracing stopped" in r.stderr
    from tracer.events.reader import LogReader

    reader = LogReader(tmp_path / "run.tlog")
    kinds = [kind.name for kind, _ in reader.records()]
    assert kinds.count("ERROR") >= 20 and kinds[-1] == "TRAILER"
    assert reader.trailer["detached"] is True


def test_code_compiled_from_strings_belongs_to_the_module_it_runs_in(tmp_path, backend):
    copy_script(tmp_path, "generated_code.py", "generated_helper.py")
    plain = run_plain(["generated_code.py"], tmp_path)
    r = run_traced(
        ["generated_code.py"], tmp_path, backend, options=["--exclude", "generated_helper.py"]
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == plain.stdout == "3 4 0 3\n"
    doc = export_json(r.log)
    # the user's exec in their globals and in a fresh namespace: recorded, at a <string> site
    (dropna,) = ops_named(doc, "dropna")
    (fillna,) = ops_named(doc, "fillna")
    assert dropna["callsite"]["file"] == fillna["callsite"]["file"] == "<string>"
    assert dropna["rows_out"] == 3 and fillna["parent"] is None
    # the user's dataclass: its generated __init__ called the default factory (user code)
    frames = [op for op in ops_named(doc, "DataFrame") if op["parent"] is None]
    assert len(frames) == 2
    # the excluded module's exec-made helper is library code: its dropna / reset_index are not
    assert not ops_named(doc, "reset_index")


def test_imports_a_library_makes_are_quiet_but_a_user_module_it_imports_is_not(tmp_path, backend):
    names = ("quiet_imports.py", "quiet_lib_helper.py", "quiet_broken_helper.py")
    copy_script(tmp_path, *names, "quiet_plugin_helper.py")
    plain = run_plain(["quiet_imports.py"], tmp_path)
    libraries = ["--exclude", "quiet_lib_helper.py", "--exclude", "quiet_broken_helper.py"]
    r = run_traced(["quiet_imports.py"], tmp_path, backend, options=libraries)
    assert r.returncode == 0, r.stderr
    assert r.stdout == plain.stdout == "import failed: no backend\n2 2 1\n"
    doc = export_json(r.log)
    # the user module's fillna, run inside the library's import: recorded at its own line
    (fillna,) = ops_named(doc, "fillna")
    assert fillna["callsite"]["file"].endswith("quiet_plugin_helper.py")
    assert fillna["parent"] is None
    # the library's own dropna is not the user's; the script's, after a failed import, is
    (dropna,) = ops_named(doc, "dropna")
    assert dropna["callsite"]["file"].endswith("quiet_imports.py") and dropna["rows_out"] == 2


def test_transpose_and_the_method_forms_of_operators_are_ops(tmp_path, backend):
    # GIVEN a script that transposes and computes with method calls instead of operators
    (tmp_path / "ops.py").write_text(
        "import pandas as pd\n"
        "df = pd.DataFrame({'a': [1.0, 2.0, 3.0], 'b': [4.0, 5.0, 6.0]})\n"
        "wide = df.T\n"
        "back = wide.transpose()\n"
        "ratio = df['a'].div(df['b'])\n"
        "shifted = df.add(10).rsub(1)\n"
        "big = df['b'].gt(4)\n"
        "df['r'] = ratio.mul(100)\n"
        "print(wide.shape, back.shape, round(ratio.sum(), 4), shifted.iloc[0, 0], int(big.sum()))\n"
    )
    # WHEN it runs under tracer THEN it prints what python prints
    plain = run_plain(["ops.py"], tmp_path)
    r = run_traced(["ops.py"], tmp_path, backend)
    assert r.returncode == 0, r.stderr
    assert r.stdout == plain.stdout
    # AND every call is an op with its shapes, and the derived column knows its sources
    doc = export_json(r.log)
    top = [(op["op"], op["shape_in"], op["shape_out"]) for op in doc["ops"] if op["parent"] is None]
    assert [t for t in top if t[0] in ("T", "transpose")] == [
        ("T", [[3, 2]], [[2, 3]]),
        ("transpose", [[2, 3]], [[3, 2]]),
    ]
    names = [name for name, _, _ in top][:12]  # (then the print line's sum, iloc...)
    assert names == ["DataFrame", "T", "transpose", "getitem", "getitem", "truediv", "add",
                     "rsub", "getitem", "gt", "mul", "setitem"]  # fmt: skip
    (setitem,) = ops_named(doc, "setitem")
    assert setitem["derived_from"] == {"r": ["a", "b"]}
    (gt,) = ops_named(doc, "gt")
    assert gt["params"] == {"other": "4"}
    shown = run_cli("show", "--no-color", "--width", "120", str(r.log), cwd=tmp_path).stdout
    assert "rsub  - 1" in shown and "gt  > 4" in shown and "add  + 10" in shown
