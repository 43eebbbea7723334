"""tracer.hooks.callargs on real frames: arguments and results of C calls from the bytecode.

A small recorder installs `sys.setprofile` (every Python) or a sys.monitoring tool (3.12+) around
the user code of one test. On the call of a watched C callable it asks `call_arguments` and
`callee_is_static`; on its return it asks `result_target` and reads the stored variable with
`read_store` at the next event of the same frame, as the real backends do.
"""

from __future__ import annotations

import collections
import dis
import gzip
import importlib
import io
import os
import pathlib
import pickle
import sys
import tempfile
import types
from dataclasses import dataclass
from typing import Any

import pytest

from tracer.hooks import callargs
from tracer.hooks.callargs import (
    MISSING,
    OpenCall,
    Unknown,
    call_arguments,
    call_receiver,
    callee_is_static,
    file_of,
    read_store,
    result_ready_offset,
    result_target,
)

try:
    import numpy as np
except ImportError:  # pragma: no cover - numpy is a dependency, but keep the module importable
    np = None

try:
    import pandas as pd
except ImportError:  # pragma: no cover
    pd = None

HAS_MONITORING = sys.version_info >= (3, 12)
BACKENDS = ["setprofile"] + (["monitoring"] if HAS_MONITORING else [])

PICKLE_FUNCS = {
    id(f): f"pickle.{f.__name__}" for f in (pickle.dump, pickle.load, pickle.dumps, pickle.loads)
}


def watched_name(func: Any) -> str | None:
    """Name of a watched C callable (bound C methods arrive as new objects every time)."""
    name = PICKLE_FUNCS.get(id(func))
    if name is not None:
        return name
    if np is not None:
        if func is np.fromfile:
            return "np.fromfile"
        if func is np.ndarray.tofile or (
            type(func) is types.BuiltinMethodType
            and func.__name__ == "tofile"
            and isinstance(func.__self__, np.ndarray)
        ):
            return "ndarray.tofile"
    return None


def probe_name(func: Any) -> str | None:
    """Watch `id(...)` as a side-effect-free probe for argument evaluation tests."""
    return "id" if func is id else None


# ----------------------------------------------------------------------------- the recorder


@dataclass
class Rec:
    func: str
    code_name: str
    lasti: int
    args: tuple[list, dict] | None
    static: bool
    receiver: Any
    arg0: Any = MISSING  # monitoring only: the real first argument from the CALL event
    target: tuple | None = None
    ready_offset: int | None = None
    result: Any = MISSING
    result_at_ready: Any = MISSING  # monitoring only: read by a one-shot INSTRUCTION event


class Recorder:
    """Records watched C calls of the code run inside `with recorder:`."""

    def __init__(self, backend: str, watch=watched_name) -> None:
        self.backend = backend
        self.watch = watch
        self.records: list[Rec] = []
        self._open: dict[int, list[Rec]] = {}  # id(frame) -> records of calls not returned yet
        self._stores: dict[int, tuple[types.FrameType, Rec]] = {}  # result read at next event
        self._returns: dict[int, Rec] = {}  # result is the frame's return value
        self._oneshot: dict[int, tuple[int, types.FrameType, Rec]] = {}
        self._tool: int | None = None

    # -- shared logic
    def _on_call(self, frame: types.FrameType, lasti: int, func: Any, arg0: Any) -> None:
        self._resolve(frame)
        name = self.watch(func)
        if name is None:
            return
        rec = Rec(
            name,
            frame.f_code.co_name,
            lasti,
            call_arguments(frame, lasti),
            callee_is_static(frame.f_code, lasti),
            call_receiver(frame, lasti),
            arg0,
        )
        self.records.append(rec)
        self._open.setdefault(id(frame), []).append(rec)

    def _on_c_return(self, frame: types.FrameType, lasti: int, func: Any) -> Rec | None:
        if self.watch(func) is None:
            self._resolve(frame)
            return None
        stack = self._open.get(id(frame))
        if not stack:
            return None
        rec = stack.pop()
        assert rec.lasti == lasti
        rec.target = result_target(frame.f_code, lasti)
        rec.ready_offset = result_ready_offset(frame.f_code, lasti)
        if rec.target and rec.target[0] == "store":
            self._stores[id(frame)] = (frame, rec)
        elif rec.target == ("return",):
            self._returns[id(frame)] = rec
        return rec

    def _resolve(self, frame: types.FrameType) -> None:
        pending = self._stores.pop(id(frame), None)
        if pending is not None:
            pending[1].result = read_store(frame, pending[1].target)

    def _on_return(self, frame: types.FrameType, value: Any) -> None:
        self._resolve(frame)
        rec = self._returns.pop(id(frame), None)
        if rec is not None:
            rec.result = value

    # -- sys.setprofile
    def _profile(self, frame: types.FrameType, event: str, arg: Any) -> None:
        if event == "c_call":
            self._on_call(frame, frame.f_lasti, arg, MISSING)
        elif event == "c_return":
            self._on_c_return(frame, frame.f_lasti, arg)
        elif event == "call":
            if frame.f_back is not None:
                self._resolve(frame.f_back)
        elif event == "return":
            self._on_return(frame, arg)
        else:
            self._resolve(frame)

    # -- sys.monitoring
    def _mon_call(self, code: types.CodeType, offset: int, func: Any, arg0: Any) -> None:
        self._on_call(sys._getframe(1), offset, func, arg0)

    def _mon_c_return(self, code: types.CodeType, offset: int, func: Any, arg0: Any) -> None:
        frame = sys._getframe(1)
        rec = self._on_c_return(frame, offset, func)
        if rec is not None and rec.ready_offset is not None:
            mon = sys.monitoring
            self._oneshot[id(code)] = (rec.ready_offset, frame, rec)
            mon.set_local_events(self._tool, code, mon.events.INSTRUCTION)

    def _mon_instruction(self, code: types.CodeType, offset: int) -> Any:
        mon = sys.monitoring
        state = self._oneshot.get(id(code))
        if state is None or state[0] != offset:
            return None
        del self._oneshot[id(code)]
        _, frame, rec = state
        rec.result_at_ready = read_store(frame, rec.target)
        mon.set_local_events(self._tool, code, 0)
        return None

    def _mon_py_return(self, code: types.CodeType, offset: int, value: Any) -> None:
        self._on_return(sys._getframe(1), value)

    def __enter__(self) -> Recorder:
        if self.backend == "setprofile":
            sys.setprofile(self._profile)
            return self
        mon = sys.monitoring
        tool = next(i for i in (4, 3, 5, 1, 2, 0) if mon.get_tool(i) is None)
        mon.use_tool_id(tool, "tracer-test-callargs")
        self._tool = tool
        try:
            ev = mon.events
            mon.register_callback(tool, ev.CALL, self._mon_call)
            mon.register_callback(tool, ev.C_RETURN, self._mon_c_return)
            mon.register_callback(tool, ev.PY_RETURN, self._mon_py_return)
            mon.register_callback(tool, ev.INSTRUCTION, self._mon_instruction)
            mon.set_events(tool, ev.CALL | ev.C_RETURN | ev.C_RAISE | ev.PY_RETURN)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.backend == "setprofile":
            sys.setprofile(None)
            return
        mon = sys.monitoring
        tool = self._tool
        assert tool is not None
        try:
            mon.set_events(tool, 0)
            for _, frame, _rec in self._oneshot.values():
                mon.set_local_events(tool, frame.f_code, 0)
            for event in (
                mon.events.CALL,
                mon.events.C_RETURN,
                mon.events.PY_RETURN,
                mon.events.INSTRUCTION,
            ):
                mon.register_callback(tool, event, None)
        finally:
            mon.free_tool_id(tool)
            self._tool = None

    def one(self, func: str) -> Rec:
        found = [r for r in self.records if r.func == func]
        assert len(found) == 1, (func, self.records)
        return found[0]


@pytest.fixture(autouse=True)
def no_hook_left_behind():
    tools = [sys.monitoring.get_tool(i) for i in range(6)] if HAS_MONITORING else []
    yield
    assert sys.getprofile() is None
    if HAS_MONITORING:
        assert [sys.monitoring.get_tool(i) for i in range(6)] == tools


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def tmp(tmp_path) -> str:
    return str(tmp_path)


def make_df():
    if pd is not None:
        return pd.DataFrame({"a": range(5), "b": [x * 0.5 for x in range(5)]})
    return {"a": list(range(5))}


def check_result(rec: Rec, backend: str, expected: Any) -> None:
    assert rec.result is expected
    if backend == "monitoring" and rec.target and rec.target[0] == "store":
        assert rec.result_at_ready is expected


# ----------------------------------------------------------------------------- user code
# One function per pattern of research Q4. They are ordinary module-level functions, so the
# recorder sees them exactly as it sees a user script.


def with_open_dump(df, path):
    with open(path, "wb") as f:
        pickle.dump(df, f, protocol=4)
    return f


def dump_open_inline(obj, path):
    pickle.dump(obj, open(path + ".2", "wb"))


def load_cfg_subscript(cfg):
    with open(cfg["out"], "rb") as fh:
        model = pickle.load(fh)
    return fh, model


def dump_path_div(model, out):
    pickle.dump(model, open(out / "x.pkl", "wb"))


def load_fstring(tmp):
    loaded = pickle.load(open(f"{tmp}/m.pkl", "rb"))
    return loaded


def loads_dumps(loaded):
    loaded2 = pickle.loads(pickle.dumps(loaded))
    return loaded2


def callable_from_variable(seq, obj, path):
    for fn in seq:
        fn(obj, open(path + ".3", "wb"))


def keyword_file(obj, f):
    pickle.dump(obj, file=f)


def closure_store(path):
    with open(path, "rb") as fh:
        model = pickle.load(fh)

    def get():
        return model

    return get


def global_store(path):
    global G_LOADED
    with open(path, "rb") as fh:
        G_LOADED = pickle.load(fh)


def return_plain(fh):
    return pickle.load(fh)


def return_in_with(path):
    with open(path, "rb") as fh:
        return pickle.load(fh)


def print_result(fh):
    print(pickle.load(fh))


def conditional_argument(obj, other, f, flag):
    pickle.dump(obj if flag else other, f)


def conditional_keyword(obj, f, fast):
    pickle.dump(obj, f, protocol=4 if fast else 2)


def star_args(args):
    pickle.dump(*args)


def chained_store(blob):
    x = y = pickle.loads(blob)
    return x, y


def store_then_load(blob, out):
    # One line, so that 3.13 fuses the store with the next load: STORE_FAST_LOAD_FAST
    value = pickle.loads(blob); out.append(value)  # noqa: E702 # fmt: skip


def nested_keyword_open(obj, path):
    pickle.dump(obj, open(path, mode="wb"), protocol=2)


def gzip_and_join(obj, tmp):
    pickle.dump(obj, gzip.open(os.path.join(tmp, "g.pkl.gz"), "wb"))


def path_method_open(obj, p):
    pickle.dump(obj, p.open("wb"))


MODULE_SRC = """\
import pickle
with open(path, "rb") as fh:
    model = pickle.load(fh)
blob = pickle.dumps(model, protocol=2)
"""


# ----------------------------------------------------------------------------- pattern tests


def test_with_open_dump_names_and_keyword(backend, tmp):
    # GIVEN a DataFrame dumped into a file opened by a with statement
    df, path = make_df(), os.path.join(tmp, "m.pkl")
    # WHEN
    with Recorder(backend) as r:
        f = with_open_dump(df, path)
    # THEN the object and the file object come back by identity, the keyword by value
    rec = r.one("pickle.dump")
    pos, kw = rec.args
    assert len(pos) == 2 and pos[0] is df and pos[1] is f
    assert kw == {"protocol": 4}
    assert file_of(pos[1]) == path
    assert rec.static is True
    assert rec.target is None
    assert rec.receiver is pickle
    if backend == "monitoring":
        assert rec.arg0 is df


def test_nested_open_is_not_executed(backend, tmp):
    obj, path = {"a": 1}, os.path.join(tmp, "m.pkl")
    with Recorder(backend) as r:
        dump_open_inline(obj, path)
    pos, kw = r.one("pickle.dump").args
    assert pos[0] is obj
    assert pos[1] == OpenCall("open", (path + ".2", "wb"), {})
    assert pos[1].callee is open and pos[1].receiver is None
    assert kw == {}
    assert file_of(pos[1]) == path + ".2"


def test_dict_subscript_path_and_stored_result(backend, tmp):
    path = os.path.join(tmp, "m.pkl")
    with open(path, "wb") as f:
        pickle.dump({"k": [1, 2]}, f)
    with Recorder(backend) as r:
        fh, model = load_cfg_subscript({"out": path})
    rec = r.one("pickle.load")
    assert rec.args == ([fh], {}) and rec.args[0][0] is fh
    assert file_of(rec.args[0][0]) == path
    assert rec.target == ("store", "fast", "model")
    check_result(rec, backend, model)
    assert model == {"k": [1, 2]}


def test_path_division(backend, tmp):
    model, out = {"m": 1}, pathlib.Path(tmp)
    with Recorder(backend) as r:
        dump_path_div(model, out)
    pos, _ = r.one("pickle.dump").args
    assert pos[0] is model
    assert pos[1] == OpenCall("open", (out / "x.pkl", "wb"), {})
    assert type(pos[1].args[0]) is type(out)
    assert file_of(pos[1]) == os.path.join(tmp, "x.pkl")


def test_fstring_path_and_result(backend, tmp):
    with open(os.path.join(tmp, "m.pkl"), "wb") as f:
        pickle.dump([1, 2, 3], f)
    with Recorder(backend) as r:
        loaded = load_fstring(tmp)
    rec = r.one("pickle.load")
    assert rec.args == ([OpenCall("open", (f"{tmp}/m.pkl", "rb"), {})], {})
    assert file_of(rec.args[0][0]) == os.path.join(tmp, "m.pkl")
    assert rec.target == ("store", "fast", "loaded")
    check_result(rec, backend, loaded)


def test_nested_c_calls(backend):
    loaded = {"x": 1}
    with Recorder(backend) as r:
        loaded2 = loads_dumps(loaded)
    dumps, loads = r.one("pickle.dumps"), r.one("pickle.loads")
    assert dumps.args == ([loaded], {}) and dumps.args[0][0] is loaded
    assert dumps.target is None  # it goes into the enclosing call
    assert loads.args == ([OpenCall("pickle.dumps", (loaded,), {})], {})
    assert loads.args[0][0].args[0] is loaded
    assert loads.args[0][0].callee is pickle.dumps
    assert loads.target == ("store", "fast", "loaded2")
    check_result(loads, backend, loaded2)
    assert r.records == [dumps, loads]


def test_callable_from_a_variable(backend, tmp):
    obj, path = {"a": 1}, os.path.join(tmp, "m.pkl")
    with Recorder(backend) as r:
        callable_from_variable([pickle.dump], obj, path)
    rec = r.one("pickle.dump")
    assert rec.args[0][0] is obj
    assert rec.args == ([obj, OpenCall("open", (path + ".3", "wb"), {})], {})
    assert rec.static is False  # a bare local: the next iteration may call something else
    assert rec.receiver is MISSING


def test_keyword_file_argument(backend, tmp):
    obj, path = {"a": 1}, os.path.join(tmp, "k.pkl")
    with open(path, "wb") as f, Recorder(backend) as r:
        keyword_file(obj, f)
    pos, kw = r.one("pickle.dump").args
    assert pos == [obj] and pos[0] is obj
    assert list(kw) == ["file"] and kw["file"] is f
    assert file_of(kw["file"]) == path


def test_module_level_store_name(backend, tmp):
    # GIVEN a module body run by exec, as `python script.py` runs it
    path = os.path.join(tmp, "mod.pkl")
    with open(path, "wb") as f:
        pickle.dump({"mod": 1}, f)
    ns: dict[str, Any] = {"path": path}
    code = compile(MODULE_SRC, "<user-module>", "exec")
    with Recorder(backend) as r:
        exec(code, ns)
    load, dumps = r.one("pickle.load"), r.one("pickle.dumps")
    assert load.args == ([ns["fh"]], {}) and load.args[0][0] is ns["fh"]
    assert load.target == ("store", "name", "model")
    check_result(load, backend, ns["model"])
    assert dumps.args[0][0] is ns["model"] and dumps.args[1] == {"protocol": 2}
    assert dumps.target == ("store", "name", "blob")
    check_result(dumps, backend, ns["blob"])


def test_closure_variable_store_deref(backend, tmp):
    path = os.path.join(tmp, "c.pkl")
    with open(path, "wb") as f:
        pickle.dump({"c": 1}, f)
    with Recorder(backend) as r:
        get = closure_store(path)
    rec = r.one("pickle.load")
    assert rec.target == ("store", "deref", "model")
    check_result(rec, backend, get())


def test_global_variable_store_global(backend, tmp):
    path = os.path.join(tmp, "g.pkl")
    with open(path, "wb") as f:
        pickle.dump({"g": 1}, f)
    with Recorder(backend) as r:
        global_store(path)
    rec = r.one("pickle.load")
    assert rec.target == ("store", "global", "G_LOADED")
    check_result(rec, backend, G_LOADED)  # noqa: F821 - set by global_store


@pytest.mark.parametrize("user_func", [return_plain, return_in_with])
def test_return_value(backend, tmp, user_func):
    path = os.path.join(tmp, "r.pkl")
    with open(path, "wb") as f:
        pickle.dump({"r": 1}, f)
    with Recorder(backend) as r:
        if user_func is return_plain:
            with open(path, "rb") as fh:
                value = user_func(fh)
        else:
            value = user_func(path)
    rec = r.one("pickle.load")
    assert rec.target == ("return",)
    assert rec.ready_offset is None
    assert rec.result is value


def test_result_consumed_by_enclosing_call(backend, tmp, capsys):
    path = os.path.join(tmp, "p.pkl")
    with open(path, "wb") as f:
        pickle.dump("printed", f)
    with open(path, "rb") as fh, Recorder(backend) as r:
        print_result(fh)
    rec = r.one("pickle.load")
    assert rec.args == ([fh], {})
    assert rec.target is None and rec.result is MISSING
    assert capsys.readouterr().out == "printed\n"


def test_chained_assignment_reads_first_target(backend):
    blob = pickle.dumps(("t", 1))
    with Recorder(backend) as r:
        x, _ = chained_store(blob)
    rec = r.one("pickle.loads")
    assert rec.target == ("store", "fast", "x")
    check_result(rec, backend, x)


def test_store_followed_by_load(backend):
    blob = pickle.dumps([4])
    out: list = []
    with Recorder(backend) as r:
        store_then_load(blob, out)
    (value,) = out
    rec = r.one("pickle.loads")
    assert rec.args == ([blob], {})
    assert rec.target == ("store", "fast", "value")
    check_result(rec, backend, value)


def test_keywords_inside_a_nested_call(backend, tmp):
    obj, path = {"n": 1}, os.path.join(tmp, "n.pkl")
    with Recorder(backend) as r:
        nested_keyword_open(obj, path)
    pos, kw = r.one("pickle.dump").args
    assert pos == [obj, OpenCall("open", (path,), {"mode": "wb"})]
    assert kw == {"protocol": 2}
    assert file_of(pos[1]) == path


@pytest.mark.parametrize("flag", [True, False])
def test_conditional_expression_is_never_guessed(backend, tmp, flag):
    # GIVEN a conditional expression in the arguments: a jump inside the argument code
    obj, other = {"o": 1}, {"o": 2}
    with open(os.path.join(tmp, "c.pkl"), "wb") as f, Recorder(backend) as r:
        conditional_argument(obj, other, f, flag)
        conditional_keyword(obj, f, flag)
    first, second = [rec for rec in r.records if rec.func == "pickle.dump"]
    # THEN the site is not analysed, except where the compiler duplicated the tail of the
    # statement into each branch (3.12): there the straight-line code is exact
    if first.args is not None:
        assert first.args[0][0] is (obj if flag else other) and first.args[0][1] is f
    assert second.args is None
    assert first.static is False and second.static is False  # never DISABLE there


def test_star_args_is_not_analysed(backend, tmp):
    obj = {"s": 1}
    with open(os.path.join(tmp, "s.pkl"), "wb") as f, Recorder(backend) as r:
        star_args((obj, f))
    rec = r.one("pickle.dump")
    assert rec.args is None
    assert rec.receiver is MISSING
    assert rec.static is True
    if backend == "monitoring":
        assert rec.arg0 is obj


def test_gzip_open_of_os_path_join(backend, tmp):
    obj = {"z": 1}
    with Recorder(backend) as r:
        gzip_and_join(obj, tmp)
    pos, _ = r.one("pickle.dump").args
    assert pos[0] is obj
    gz = pos[1]
    assert gz == OpenCall("gzip.open", (OpenCall("os.path.join", (tmp, "g.pkl.gz"), {}), "wb"), {})
    assert gz.callee is gzip.open and gz.receiver is gzip
    assert gz.args[0].callee is os.path.join
    assert file_of(gz) == os.path.join(tmp, "g.pkl.gz")


def test_path_open_method(backend, tmp):
    obj, p = {"p": 1}, pathlib.Path(tmp) / "po.pkl"
    with Recorder(backend) as r:
        path_method_open(obj, p)
    pos, _ = r.one("pickle.dump").args
    assert pos[1] == OpenCall("p.open", ("wb",), {})
    assert pos[1].receiver is p
    assert file_of(pos[1]) == str(p)


@pytest.mark.skipif(np is None, reason="numpy not installed")
def test_numpy_fromfile_and_tofile(backend, tmp):
    path = os.path.join(tmp, "a.bin")

    def user(path):
        arr = np.arange(4.0)
        arr.tofile(path)
        back = np.fromfile(path)
        return arr, back

    with Recorder(backend) as r:
        arr, back = user(path)
    tofile, fromfile = r.one("ndarray.tofile"), r.one("np.fromfile")
    assert tofile.args == ([path], {})
    assert tofile.receiver is arr
    assert tofile.static is True
    assert fromfile.args == ([path], {})
    assert fromfile.target == ("store", "fast", "back")
    check_result(fromfile, backend, back)
    if backend == "monitoring":
        assert tofile.arg0 is arr  # the CALL event passes self for a method call
        assert fromfile.arg0 == path


# ----------------------------------------------------------------------------- evaluation rules


class Config:
    kind = "class-attr"

    def __init__(self) -> None:
        self.out = "/data/out.pkl"
        self.reads = 0

    @property
    def prop(self) -> str:
        self.reads += 1
        return "from-property"

    def method(self) -> str:
        return "m"


class Slotted:
    __slots__ = ("name",)

    def __init__(self) -> None:
        self.name = "slot-value"


class Spy:
    calls: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        Spy.calls.append(name)
        return "spied"


def probe(backend: str, func, *args) -> list:
    """Run func(*args) and return what call_arguments saw for each id(...) call in it."""
    with Recorder(backend, watch=probe_name) as r:
        func(*args)
    return [rec.args[0][0] if rec.args is not None else None for rec in r.records]


def attribute_probes(cfg, slotted, spy, mod, ns):
    id(ns.out)
    id(cfg.out)
    id(cfg.kind)
    id(cfg.prop)
    id(cfg.method)
    id(slotted.name)
    id(spy.anything)
    id(mod.lazy_attr)
    id(os.sep)


def test_attribute_rules(backend):
    cfg, slotted, spy = Config(), Slotted(), Spy()
    Spy.calls.clear()
    mod = types.ModuleType("lazy")
    calls = []
    mod.__getattr__ = lambda name: calls.append(name) or "lazy!"  # PEP 562 hook
    ns = types.SimpleNamespace(out="ns.pkl")
    seen = probe(backend, attribute_probes, cfg, slotted, spy, mod, ns)
    assert seen.pop(0) == "ns.pkl"
    assert seen[0] == "/data/out.pkl"
    assert seen[1] == "class-attr"
    assert seen[2] == Unknown("cfg.prop")
    assert cfg.reads == 1  # only Python's own evaluation ran the property
    assert seen[3] == cfg.method and seen[3].__self__ is cfg  # a plain function binds
    assert seen[4] == "slot-value"
    assert seen[5] == Unknown("spy.anything")
    assert Spy.calls == ["anything"]  # only Python's own evaluation
    assert seen[6] == Unknown("mod.lazy_attr")
    assert calls == ["lazy_attr"]  # only Python's own evaluation
    assert seen[7] == os.sep


def subscript_probes(cfg, seq, dd, key):
    id(cfg["out"])
    id(cfg[key])
    id(seq[1])
    id(seq[-1])
    id(dd["missing"])
    id(cfg.get("out"))


def test_subscript_rules(backend):
    cfg, dd = {"out": "o.pkl", "in": "i.pkl"}, collections.defaultdict(list)
    seen = probe(backend, subscript_probes, cfg, ("a", "b", "c"), dd, "in")
    assert seen[:4] == ["o.pkl", "i.pkl", "b", "c"]
    assert seen[4] == Unknown("dd[]")
    assert list(dd) == ["missing"]  # inserted once, by Python itself
    assert seen[5] == OpenCall("cfg.get", ("out",), {})


def string_probes(tmp, n, x, p, name):
    id(tmp + "/a.pkl")
    id(f"{tmp}/part-{n:03d}-{x}.pkl")
    id(f"{p!r}|{name!s}|{n!r}")
    id(p / "sub" / name)
    id(n + n)
    id(f"{name}")
    id((tmp, [n, x]))
    id([*(tmp, n), x])


def test_string_path_and_sequence_rules(backend):
    p = pathlib.Path("/base")
    seen = probe(backend, string_probes, "/t", 7, 1.5, p, "f.pkl")
    assert seen[0] == "/t/a.pkl"
    assert seen[1] == "/t/part-007-1.5.pkl"
    assert seen[2] == f"{p!r}|f.pkl|7"
    assert seen[3] == p / "sub" / "f.pkl"
    assert seen[4] == Unknown("+")
    assert seen[5] == "f.pkl"
    assert seen[6] == ("/t", [7, 1.5])
    assert seen[7] == ["/t", 7, 1.5]


def unknown_probes(obj, n):
    id(-n)
    id(n * 2)
    id(lambda: n)
    id(obj)
    id(undefined_name)  # noqa: F821
    return None


def test_unknown_leaves_do_not_break_the_call(backend):
    obj = object()
    with Recorder(backend, watch=probe_name) as r:
        with pytest.raises(NameError):
            unknown_probes(obj, 3)
    seen = [rec.args[0][0] for rec in r.records]
    assert seen[0] == Unknown("-") and seen[1] == Unknown("*")
    assert seen[2] == Unknown("function")
    assert seen[3] is obj
    assert len(seen) == 4  # id(undefined_name) raised before the call


def walrus_probe(path):
    id(target := path + ".w")
    return target


def test_walrus_inside_argument(backend):
    seen = probe(backend, walrus_probe, "/w")
    assert seen == ["/w.w"]


# ----------------------------------------------------------------------------- callee_is_static


def static_np_sum(x):
    return np.sum(x)


def static_len(x):
    return len(x)


def static_method(obj):
    return obj.method()


def static_chain(obj):
    return obj.a.b(1)


def static_module_chain(x):
    return os.path.join(x)


def static_deref():
    def inner(x):
        return helper(x)

    def helper(x):
        return x

    return inner


def dynamic_local(fn, x):
    return fn(x)


def dynamic_subscript(fns, x):
    return fns[0](x)


def dynamic_call_result(make, x):
    return make()(x)


def dynamic_global_call_result(x):
    return make_global()(x)  # noqa: F821


def outer_call_offset(func) -> int:
    """Offset of the last (outermost) call instruction of func."""
    calls = [
        i.offset
        for i in dis.get_instructions(func.__code__)
        if i.opname in ("CALL", "CALL_KW", "CALL_FUNCTION_EX")
    ]
    return calls[-1]


@pytest.mark.parametrize(
    "func, expected",
    [
        pytest.param(static_np_sum, True, marks=pytest.mark.skipif(np is None, reason="numpy")),
        (static_len, True),
        (static_method, True),
        (static_chain, True),
        (static_module_chain, True),
        (static_deref(), True),
        (star_args, True),
        (dynamic_local, False),
        (dynamic_subscript, False),
        (dynamic_call_result, False),
        (dynamic_global_call_result, False),
        (callable_from_variable, False),
    ],
)
def test_callee_is_static(func, expected):
    assert callee_is_static(func.__code__, outer_call_offset(func)) is expected
    assert callee_is_static(func.__code__, outer_call_offset(func)) is expected  # cached


def test_callee_is_static_at_a_live_c_call():
    seen = []

    def prof(frame, event, arg):
        if event == "c_call" and arg is len:
            seen.append(callee_is_static(frame.f_code, frame.f_lasti))

    sys.setprofile(prof)
    try:
        static_len([1])
    finally:
        sys.setprofile(None)
    assert seen == [True]


def test_not_a_call_offset():
    code = static_len.__code__
    assert callee_is_static(code, 0) is False
    assert result_target(code, 0) is None
    assert result_target(code, 10_001) is None
    assert result_ready_offset(code, 0) is None


# ----------------------------------------------------------------------------- file_of


def test_file_of_paths_and_file_objects(tmp):
    path = os.path.join(tmp, "f.bin")
    assert file_of("rel/x.pkl") == os.path.abspath("rel/x.pkl")
    assert file_of(b"rel/y.pkl") == os.path.abspath("rel/y.pkl")
    assert file_of(pathlib.Path(tmp) / "p.pkl") == os.path.join(tmp, "p.pkl")
    with open(path, "wb") as f:
        assert file_of(f) == path
    with open(path) as f:
        assert file_of(f) == path
    with io.BufferedWriter(io.FileIO(path, "w")) as bw:
        assert file_of(bw) == path
    with gzip.open(path + ".gz", "wb") as gz:
        assert file_of(gz) == path + ".gz"
    with tempfile.NamedTemporaryFile(dir=tmp) as nt:
        assert file_of(nt) == nt.name
    assert file_of(sys.__stdout__) is None  # "<stdout>" is no path
    assert file_of(io.BytesIO()) is None
    assert file_of(io.BufferedWriter(io.BytesIO())) is None
    assert file_of(3) is None
    assert file_of(None) is None
    assert file_of(Unknown("x")) is None
    assert file_of(MISSING) is None
    assert file_of(object()) is None


def test_file_of_open_calls(tmp):
    path = os.path.join(tmp, "o.pkl")
    p = pathlib.Path(path)
    assert file_of(OpenCall("open", (path, "wb"), {}, open)) == path
    assert file_of(OpenCall("io.open", (p,), {}, io.open, io)) == path
    assert file_of(OpenCall("open", (), {"file": path}, open)) == path
    assert file_of(OpenCall("gz.open", (path,), {}, gzip.open, gzip)) == path  # an alias
    assert file_of(OpenCall("p.open", ("wb",), {}, p.open, p)) == path
    assert file_of(OpenCall("Path.open", (p, "wb"), {}, pathlib.Path.open, pathlib.Path)) == path
    assert file_of(OpenCall("p.open", ("wb",), {}, Unknown("p.open"), p)) == path
    assert (
        file_of(
            OpenCall(
                "open", (OpenCall("os.path.join", (tmp, "o.pkl"), {}, os.path.join),), {}, open
            )
        )
        == path
    )
    assert (
        file_of(OpenCall("open", (OpenCall("Path", (tmp, "o.pkl"), {}, pathlib.Path),), {}, open))
        == path
    )
    raw = OpenCall("io.FileIO", (path, "w"), {}, io.FileIO, io)
    assert file_of(OpenCall("io.BufferedWriter", (raw,), {}, io.BufferedWriter, io)) == path
    assert file_of(OpenCall("open", (Unknown("x"),), {}, open)) is None
    assert file_of(OpenCall("open", (3,), {}, open)) is None
    assert file_of(OpenCall("print", (path,), {}, print)) is None
    assert file_of(OpenCall("open", (path,), {})) == path  # by name when callee is unknown


# ----------------------------------------------------------------------------- robustness


def test_never_raises_on_odd_input():
    frame = sys._getframe()
    assert call_arguments(frame, -1) is None
    assert call_arguments(None, 0) is None  # type: ignore[arg-type]
    assert call_receiver(None, 0) is MISSING  # type: ignore[arg-type]
    assert result_target(None, 0) is None  # type: ignore[arg-type]
    assert callee_is_static(None, 0) is False  # type: ignore[arg-type]
    assert read_store(frame, ("store", "fast", "no_such_name")) is MISSING
    assert read_store(frame, None) is MISSING
    assert read_store(None, ("store", "fast", "x")) is MISSING  # type: ignore[arg-type]


def test_unknown_and_missing_reprs():
    assert repr(Unknown("cfg.prop")) == "<?cfg.prop>"
    assert repr(MISSING) == "MISSING"
    assert not MISSING


def test_cache_pins_code_objects():
    ns: dict[str, Any] = {}
    exec("def f(x):\n    return len(x)\n", ns)
    code = ns.pop("f").__code__
    offset = outer_call_offset(types.FunctionType(code, {}))
    assert callee_is_static(code, offset) is True
    assert callargs._CODES[id(code)].code is code
    callargs.clear_caches()
    assert id(code) not in callargs._CODES


def _all_code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _all_code_objects(const)


@pytest.mark.parametrize(
    "module",
    ["json.decoder", "pathlib", "argparse", "dataclasses", "tracer.hooks.callargs", __name__],
)
def test_fast_decoder_matches_dis(module):
    # The fast co_code walk must agree with dis.get_instructions on real code.
    if callargs._CACHES is None:
        pytest.skip("this Python's dis has no cache table: the dis decoder is used")
    src_file = importlib.import_module(module).__file__
    with open(src_file, encoding="utf-8") as fh:
        top = compile(fh.read(), src_file, "exec")
    for code in _all_code_objects(top):
        fast_ins, fast_at = callargs._decode_fast(code, callargs._CACHES)
        dis_ins, dis_at = callargs._decode_dis(code)
        assert fast_at == dis_at, code.co_name
        fields = ("op", "arg", "argval", "offset", "target", "jump", "next_offset")
        assert [tuple(getattr(x, f) for f in fields) for x in fast_ins] == [
            tuple(getattr(x, f) for f in fields) for x in dis_ins
        ], code.co_name
