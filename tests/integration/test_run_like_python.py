"""`tracer run` must be indistinguishable from plain python.

Each differential test writes a small program into a temporary directory, runs it there once with
``python ...`` and once with the command under test (``tracer_cmd()``), and compares stdout, exit
status, stderr (minus tracer's own ``tracer:`` lines: the whole traceback text, not just its tail)
and the files the program wrote. Both runs use the same directory, so paths in the output are the
same; the directory is put back as it was between the two runs.

A few tests at the end call ScriptRunner in this process to check the Outcome fields, which the
subprocess tests cannot see.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tracer.exceptions import NoSource
from tracer.runner import Outcome, ScriptRunner

# Files that do not count as "written by the program".
IGNORED_PARTS = frozenset({"__pycache__"})

ENV = {
    **os.environ,
    "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ from the first run for the second to reuse
    "PYTHONHASHSEED": "0",
}
for _name in ("PYTHONSAFEPATH", "PYTHONINSPECT", "PYTHONSTARTUP"):
    ENV.pop(_name, None)


@functools.cache
def tracer_cmd() -> list[str]:
    """The command under test; the target and its arguments are appended to it.

    `-q`: tracer says nothing, so stderr must be python's to the byte.
    """
    return [sys.executable, "-m", "tracer", "run", "-q"]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    written: dict[str, bytes | None]  # relative path -> new content, None if deleted


def write(root: Path, relpath: str, source: str) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not IGNORED_PARTS.intersection(p.relative_to(root).parts)
    }


def run_cmd(cmd: Sequence[str], cwd: Path, stdin: bytes) -> Result:
    # tracer keeps its logs in ./.tracer unless told otherwise: elsewhere, so that any file
    # that differs between the two runs is one the program wrote.
    env = {**ENV, "TRACER_HOME": str(cwd.with_name(cwd.name + "-tracer-home"))}
    before = snapshot(cwd)
    proc = subprocess.run(list(cmd), cwd=cwd, input=stdin, capture_output=True, env=env, timeout=60)
    after = snapshot(cwd)
    written = {
        name: after.get(name)
        for name in before.keys() | after.keys()
        if before.get(name) != after.get(name)
    }
    # Put the directory back, so that the next run starts from the same state.
    for name in written:
        if name in before:
            (cwd / name).write_bytes(before[name])
        else:
            (cwd / name).unlink()
    return Result(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
        written,
    )


def without_tracer_lines(stderr: str) -> str:
    return "".join(
        line for line in stderr.splitlines(keepends=True) if not line.startswith("tracer:")
    )


def run_both(cwd: Path, *argv: str, stdin: bytes = b"") -> tuple[Result, Result]:
    """Run `python ARGV` and `tracer_cmd() ARGV` in `cwd`."""
    python = run_cmd([sys.executable, *argv], cwd, stdin)
    traced = run_cmd([*tracer_cmd(), *argv], cwd, stdin)
    return python, traced


def assert_same(python: Result, traced: Result, *, same_status: bool = True) -> None:
    assert traced.stdout == python.stdout
    assert without_tracer_lines(traced.stderr) == python.stderr
    assert traced.written == python.written
    if same_status:
        assert traced.returncode == python.returncode


# --- Scripts ---------------------------------------------------------------------------------


def test_normal_run_prints_writes_files_and_runs_atexit(tmp_path: Path) -> None:
    # GIVEN a script with a main block, an output file and an atexit handler
    write(
        tmp_path,
        "script.py",
        """
        import atexit
        atexit.register(print, "atexit ran")

        def main():
            with open("out.txt", "w") as f:
                f.write("rows=3\\n")
            print("hello from main")

        if __name__ == "__main__":
            main()
        """,
    )
    # WHEN it runs under python and under tracer
    python, traced = run_both(tmp_path, "script.py")
    # THEN both behave the same
    assert python.returncode == 0 and python.stdout == "hello from main\natexit ran\n"
    assert python.written == {"out.txt": b"rows=3\n"}
    assert_same(python, traced)


def test_uncaught_exception_traceback_and_status(tmp_path: Path) -> None:
    write(
        tmp_path,
        "script.py",
        """
        print("before")
        value = int("7")
        raise ValueError("bad value")
        """,
    )
    python, traced = run_both(tmp_path, "script.py")
    assert python.returncode == 1
    assert python.stderr.startswith("Traceback (most recent call last):\n")
    assert python.stderr.endswith("ValueError: bad value\n")
    assert_same(python, traced)


def test_exception_nested_three_deep_with_chaining(tmp_path: Path) -> None:
    # GIVEN an exception raised three calls deep, re-raised from a handler
    write(
        tmp_path,
        "script.py",
        """
        class StageError(Exception):
            pass

        def load(path):
            return {"a": 1}[path]

        def transform(path):
            try:
                return load(path)
            except KeyError as exc:
                raise StageError(f"cannot load {path}") from exc

        def pipeline():
            return transform("missing.csv") + 1

        pipeline()
        """,
    )
    python, traced = run_both(tmp_path, "script.py")
    # THEN every frame, both tracebacks and the chaining line are identical
    _, cause, final = python.stderr.split("Traceback (most recent call last):\n")
    assert cause.startswith(f'  File "{tmp_path / "script.py"}", line 9, in transform\n')
    assert final.startswith(f'  File "{tmp_path / "script.py"}", line 16, in <module>\n')
    assert "The above exception was the direct cause" in cause
    assert python.stderr.endswith("StageError: cannot load missing.csv\n")
    assert_same(python, traced)


@pytest.mark.parametrize(
    ("call", "status", "stderr"),
    [
        ("sys.exit(3)", 3, ""),
        ('sys.exit("msg")', 1, "msg\n"),
        ("sys.exit()", 0, ""),
        ("sys.exit(0)", 0, ""),
        ("raise SystemExit(None)", 0, ""),
    ],
)
def test_sys_exit(tmp_path: Path, call: str, status: int, stderr: str) -> None:
    write(tmp_path, "script.py", f"import sys\nprint('out')\n{call}\nprint('unreachable')\n")
    python, traced = run_both(tmp_path, "script.py")
    assert (python.returncode, python.stderr, python.stdout) == (status, stderr, "out\n")
    assert_same(python, traced)


def test_argv_passthrough_including_option_like_args(tmp_path: Path) -> None:
    write(tmp_path, "train.py", "import sys\nprint(sys.argv)\n")
    args = ["--epochs", "3", "-x", "-m", "mod", "--", "--help", ""]
    python, traced = run_both(tmp_path, "train.py", *args)
    assert python.stdout == repr(["train.py", *args]) + "\n"
    assert_same(python, traced)


def test_reading_stdin(tmp_path: Path) -> None:
    write(
        tmp_path,
        "script.py",
        """
        import sys
        first = input()
        rest = sys.stdin.read()
        print(first.upper(), rest.split())
        """,
    )
    python, traced = run_both(tmp_path, "script.py", stdin=b"hello\nworld again\n")
    assert python.stdout == "HELLO ['world', 'again']\n"
    assert_same(python, traced)


def test_module_globals_and_sys_path(tmp_path: Path) -> None:
    # GIVEN a script printing everything python sets up for __main__
    write(
        tmp_path,
        "script.py",
        '''
        """The docstring."""
        import builtins, sys
        print(list(globals()))
        print(__name__, __file__, __doc__, __spec__, __package__, __cached__)
        print(type(__loader__).__name__, __loader__.name, __loader__.path)
        print(__builtins__ is builtins, sys.modules["__main__"].__dict__ is globals())
        print(sys.argv, sys.path)
        def f(x: int) -> None: ...
        print(f.__annotations__)  # tracer's own `from __future__` imports must not leak in
        ''',
    )
    python, traced = run_both(tmp_path, "script.py", "a")
    assert f"__main__ {tmp_path / 'script.py'} The docstring. None None None\n" in python.stdout
    assert_same(python, traced)


@pytest.mark.parametrize("target", ["sub/tool.py", "./sub/../sub/tool.py"])
def test_script_in_subdirectory_by_relative_path(tmp_path: Path, target: str) -> None:
    # GIVEN a script importing a sibling module, which only works if sys.path[0] is its directory
    write(tmp_path, "sub/helper.py", "NAME = 'helper'\n")
    write(
        tmp_path,
        "sub/tool.py",
        """
        import sys
        import helper
        print(sys.argv[0], __file__, sys.path[0], helper.NAME)
        """,
    )
    python, traced = run_both(tmp_path, target)
    assert python.stdout.endswith(f"{tmp_path / 'sub'} helper\n")
    assert_same(python, traced)


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="POSIX symlinks")
def test_symlinked_script_gets_its_real_directory_on_sys_path(tmp_path: Path) -> None:
    write(tmp_path, "real/helper.py", "NAME = 'real helper'\n")
    write(
        tmp_path, "real/tool.py", "import sys, helper\nprint(__file__, sys.path[0], helper.NAME)\n"
    )
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "tool.py").symlink_to(tmp_path / "real" / "tool.py")
    python, traced = run_both(tmp_path, "links/tool.py")
    assert python.stdout == f"{tmp_path / 'links/tool.py'} {tmp_path / 'real'} real helper\n"
    assert_same(python, traced)


def test_class_defined_in_script_pickles_round_trip(tmp_path: Path) -> None:
    write(
        tmp_path,
        "script.py",
        """
        import pickle
        from dataclasses import dataclass

        @dataclass
        class Point:
            x: int
            y: int

        with open("point.pkl", "wb") as f:
            pickle.dump([Point(1, 2)], f)
        with open("point.pkl", "rb") as f:
            loaded = pickle.load(f)
        print(loaded, type(loaded[0]) is Point, Point.__module__)
        """,
    )
    python, traced = run_both(tmp_path, "script.py")
    assert python.stdout == "[Point(x=1, y=2)] True __main__\n"
    assert "point.pkl" in python.written
    assert_same(python, traced)


def test_spawned_workers_return_instances_of_script_classes(tmp_path: Path) -> None:
    # GIVEN objects of a script-defined class built in spawned workers (they come back pickled
    # as __mp_main__.Box, which is what the __mp_main__ alias is for)
    write(
        tmp_path,
        "script.py",
        """
        import multiprocessing

        class Box:
            def __init__(self, n):
                self.n = n

        def make(n):
            return Box(n * 10)

        if __name__ == "__main__":
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                # A result the parent cannot unpickle would make a plain map() hang.
                boxes = pool.map_async(make, [1, 2]).get(timeout=30)
            print([b.n for b in boxes], type(boxes[0]) is Box)
        """,
    )
    python, traced = run_both(tmp_path, "script.py")
    assert python.stdout == "[10, 20] True\n"
    assert_same(python, traced)


def test_keyboard_interrupt(tmp_path: Path) -> None:
    write(tmp_path, "script.py", "def work():\n    raise KeyboardInterrupt\n\nwork()\n")
    python, traced = run_both(tmp_path, "script.py")
    # THEN the traceback is identical; python dies of SIGINT (-2) and tracer's command either
    # does the same or exits 130: both are failures
    assert python.stderr.endswith("KeyboardInterrupt\n")
    assert python.returncode != 0 and traced.returncode != 0
    assert_same(python, traced, same_status=False)


def test_syntax_error_in_script(tmp_path: Path) -> None:
    write(tmp_path, "script.py", "print('never')\ndef broken(:\n    pass\n")
    python, traced = run_both(tmp_path, "script.py")
    assert python.returncode == 1 and python.stderr.endswith("SyntaxError: invalid syntax\n")
    assert_same(python, traced)


def test_coding_cookie_and_bom(tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nprint(ascii('caf\xe9'))\nraise ValueError('\xe9')\n"
    )
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbfprint(ascii('\xc3\xa9t\xc3\xa9'))\n")
    for script in ("latin.py", "bom.py"):
        python, traced = run_both(tmp_path, script)
        assert "\\xe9" in python.stdout
        assert_same(python, traced)


def test_user_excepthook_is_used(tmp_path: Path) -> None:
    write(
        tmp_path,
        "script.py",
        """
        import sys

        def hook(kind, value, tb):
            frames = []
            while tb is not None:
                frames.append(tb.tb_frame.f_code.co_name)
                tb = tb.tb_next
            print("custom hook:", kind.__name__, value, frames, file=sys.stderr)

        sys.excepthook = hook

        def inner():
            raise RuntimeError("boom")

        inner()
        """,
    )
    python, traced = run_both(tmp_path, "script.py")
    assert python.stderr == "custom hook: RuntimeError boom ['<module>', 'inner']\n"
    assert_same(python, traced)


@pytest.mark.parametrize(
    ("hook_body", "status"),
    [
        ("raise RuntimeError('hook broke')", 1),  # "Error in sys.excepthook:" + both tracebacks
        ("sys.exit(7)", 7),  # the hook decides the exit status
        (None, 1),  # "sys.excepthook is missing"
    ],
)
def test_failing_or_missing_excepthook(tmp_path: Path, hook_body: str | None, status: int) -> None:
    if hook_body is None:
        setup = "del sys.excepthook"
    else:
        setup = f"def hook(kind, value, tb):\n    {hook_body}\nsys.excepthook = hook"
    write(tmp_path, "script.py", f"import sys\n{setup}\nraise ValueError('original')\n")
    python, traced = run_both(tmp_path, "script.py")
    assert python.returncode == status
    assert_same(python, traced)


def test_safe_path_flag_adds_no_directory(tmp_path: Path) -> None:
    # GIVEN python -P (or PYTHONSAFEPATH): neither the script's directory nor the cwd is added
    write(tmp_path, "sub/script.py", "import os, sys\nprint(sys.path)\n")
    python = run_cmd([sys.executable, "-P", "sub/script.py"], tmp_path, b"")
    command = tracer_cmd()
    traced = run_cmd([command[0], "-P", *command[1:], "sub/script.py"], tmp_path, b"")
    assert str(tmp_path) not in python.stdout
    assert_same(python, traced)


def test_directory_and_zip_with_main(tmp_path: Path) -> None:
    source = (
        "import sys\nprint(sys.argv[0], __file__, sys.path[0], __spec__.name)\nraise OSError(2)\n"
    )
    write(tmp_path, "app/__main__.py", source)
    with zipfile.ZipFile(tmp_path / "app.pyz", "w") as archive:
        archive.writestr("__main__.py", source)
    for target in ("app", "app.pyz"):
        python, traced = run_both(tmp_path, target, "x")
        assert python.returncode == 1 and "__main__.py" in python.stdout
        assert_same(python, traced)


# --- Modules ---------------------------------------------------------------------------------


def make_packages(root: Path) -> None:
    """`pkg` with a plain module and a failing one; `app` with a __main__."""
    write(root, "pkg/__init__.py", "import sys\nprint('pkg init, argv:', sys.argv)\n")
    write(
        root,
        "pkg/mod.py",
        """
        import sys
        print(list(globals()))
        print(__name__, __file__, __spec__.name, __package__, __cached__)
        print(type(__loader__).__name__, sys.argv, sys.path[0])

        def fail():
            raise LookupError("no such key")

        if __name__ == "__main__" and "--fail" in sys.argv:
            fail()
        """,
    )
    write(root, "app/__init__.py", "")
    write(
        root,
        "app/__main__.py",
        "import sys\nfrom . import helpers\nprint('app', __spec__.name, sys.argv, helpers.X)\n",
    )
    write(root, "app/helpers.py", "X = 42\n")


def test_dash_m_module(tmp_path: Path) -> None:
    make_packages(tmp_path)
    python, traced = run_both(tmp_path, "-m", "pkg.mod", "--epochs", "3")
    assert f"{tmp_path / 'pkg' / 'mod.py'}', '--epochs', '3'] {tmp_path}\n" in python.stdout
    assert_same(python, traced)


def test_dash_m_package_runs_its_main(tmp_path: Path) -> None:
    make_packages(tmp_path)
    python, traced = run_both(tmp_path, "-m", "app", "x")
    assert python.stdout == f"app app.__main__ {[str(tmp_path / 'app' / '__main__.py'), 'x']} 42\n"
    assert_same(python, traced)


def test_dash_m_uncaught_exception(tmp_path: Path) -> None:
    # python -m shows runpy's frames ("<frozen runpy>") above the module's: so must tracer
    make_packages(tmp_path)
    python, traced = run_both(tmp_path, "-m", "pkg.mod", "--fail")
    assert python.returncode == 1 and python.stderr.endswith("LookupError: no such key\n")
    assert_same(python, traced)


# --- Nothing to run --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["missing.py"], "missing.py"),
        (["sub/missing.py", "a"], os.path.join("sub", "missing.py")),
        (["-m", "no_such_module"], "no_such_module"),
        (["-m", "pkg.no_such_module"], "pkg.no_such_module"),
        (["-m", "pkg"], "pkg.__main__"),
        (["emptydir"], "emptydir"),
    ],
)
def test_nothing_to_run_is_one_line_without_traceback(
    tmp_path: Path, argv: list[str], needle: str
) -> None:
    make_packages(tmp_path)
    (tmp_path / "emptydir").mkdir()
    python, traced = run_both(tmp_path, *argv)
    assert python.returncode != 0
    # THEN tracer fails with one line naming the target, and runs nothing (pkg/__init__ included)
    assert traced.returncode != 0
    assert traced.stdout == ""
    assert len(traced.stderr.splitlines()) == 1, traced.stderr
    assert needle in traced.stderr
    assert "Traceback" not in traced.stderr


# --- Outcome, in process ---------------------------------------------------------------------


@pytest.fixture
def in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run scripts in this process without leaving their __main__ or sys.last_* behind."""
    monkeypatch.chdir(tmp_path)
    saved_modules = {name: sys.modules.get(name) for name in ("__main__", "__mp_main__")}
    last_names = ("last_exc", "last_type", "last_value", "last_traceback")
    saved_last = {name: getattr(sys, name) for name in last_names if hasattr(sys, name)}
    yield tmp_path
    for name, module in saved_modules.items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module
    for name in last_names:
        if name in saved_last:
            setattr(sys, name, saved_last[name])
        elif hasattr(sys, name):
            delattr(sys, name)


def run_in_process(root: Path, source: str, *args: str) -> Outcome:
    write(root, "script.py", source)
    runner = ScriptRunner("script.py", args)
    runner.prepare()
    return runner.run()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = 1\n", Outcome("ok", 0, None, None)),
        ("raise ValueError('bad value')\n", Outcome("error", 1, 1, "ValueError: bad value")),
        ("class Oops(Exception): pass\nraise Oops\n", Outcome("error", 1, 1, "Oops")),
        (
            "import json\njson.loads('')\n",
            Outcome(
                "error",
                1,
                1,
                "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
            ),
        ),
        ("import sys\nsys.exit(3)\n", Outcome("error", 3, 3, None)),
        ("import sys\nsys.exit('msg')\n", Outcome("error", 1, "msg", "msg")),
        ("import sys\nsys.exit()\n", Outcome("ok", 0, None, None)),
        ("raise SystemExit(0)\n", Outcome("ok", 0, 0, None)),
        ("raise KeyboardInterrupt\n", Outcome("interrupted", 130, 130, "KeyboardInterrupt")),
        ("def f(:\n", Outcome("error", 1, 1, "SyntaxError: invalid syntax (script.py, line 1)")),
    ],
)
def test_outcome(in_process: Path, source: str, expected: Outcome) -> None:
    assert run_in_process(in_process, source) == expected


def test_traceback_starts_at_the_users_code(
    in_process: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_in_process(in_process, "def f():\n    1 / 0\n\nf()\n")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == f'  File "{in_process / "script.py"}", line 4, in <module>'
    assert lines[-1] == "ZeroDivisionError: division by zero"


def test_argv_and_path_are_restored_after_run(in_process: Path) -> None:
    argv, path, path_contents = sys.argv, sys.path, list(sys.path)
    outcome = run_in_process(
        in_process,
        "import sys\nassert sys.argv == ['script.py', 'a']\nsys.path.append('junk')\n"
        "sys.argv = ['other']\n",
        "a",
    )
    assert outcome.status == "ok"
    assert sys.argv is argv and sys.path is path and sys.path == path_contents
    assert sys.modules["__main__"] is sys.modules["__mp_main__"]
    assert sys.modules["__main__"].__file__ == str(in_process / "script.py")


def test_prepare_raises_no_source_and_changes_nothing(in_process: Path) -> None:
    argv, path = list(sys.argv), list(sys.path)
    with pytest.raises(NoSource, match=r"^can't open file '.*missing\.py': \[Errno 2\] "):
        ScriptRunner("missing.py", ["a"]).prepare()
    with pytest.raises(NoSource, match=r"^No module named no_such_module$"):
        ScriptRunner("no_such_module", [], as_module=True).prepare()
    assert sys.argv == argv and sys.path == path


def test_runner_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys, tracer.runner\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'rich') if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60
    )
    assert proc.stdout == "[]\n", proc.stderr
