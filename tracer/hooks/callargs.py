"""Recover the arguments and the result of a call from the caller's bytecode.

C callables (pickle.dump/load/dumps/loads, np.fromfile, ndarray.tofile) run without a Python
frame, so a profiler only learns "callable X was called by the CALL at byte offset `lasti` of
frame F". This module reads F's de-instrumented bytecode around that CALL. It splits the
instructions that pushed the operands into one straight-line slice per argument, turns each slice
into a small expression tree, and evaluates only the leaves that have no side effects: names,
constants, module attributes, plain instance and class attributes, constant subscripts of exact
dict/list/tuple, str + str, Path / str, and f-strings of str/int/float/Path. A call inside an
argument is never re-executed. It becomes an `OpenCall` that says what would have been called
with what, and `file_of` reads the path out of it. `result_target` tells where the value of the
call goes: a variable that can be read once the store has run, the frame's own return value, or
nowhere that can be read cheaply.

Supported bytecode: CPython 3.11 (PRECALL, KW_NAMES, LOAD_METHOD), 3.12 (LOAD_ATTR method bit,
KW_NAMES) and 3.13 (CALL_KW, NULL pushed after the callable, superinstructions). Analyses are
cached per code object, keyed by id(code); the cache pins the code object so that the id cannot
be reused (`clear_caches` drops everything). No function here raises, and none runs user code,
except `os.fspath` in `file_of` on a PathLike that is not a stdlib path type. This module is on
the hot path and imports the standard library only.
"""

from __future__ import annotations

import dis
import io
import os
import pathlib
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tracer.hooks import framelocals

__all__ = [
    "MISSING",
    "OpenCall",
    "Unknown",
    "call_arguments",
    "call_receiver",
    "callee_is_static",
    "clear_caches",
    "file_of",
    "read_store",
    "result_ready_offset",
    "result_target",
]

_PY = sys.version_info[:2]


class _Missing:
    """Type of `MISSING`: "no such variable", unlike a variable that holds None."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(frozen=True, repr=False)
class Unknown:
    """A leaf that could not be evaluated without side effects; `what` says which one."""

    what: str

    def __repr__(self) -> str:
        return f"<?{self.what}>"


@dataclass(frozen=True)
class OpenCall:
    """A call expression found inside the arguments. It was not executed.

    `func` is the dotted name as written ("open", "gzip.open", "p.open"). `callee` is the
    callable that the name resolves to, looked up without side effects (or an `Unknown`).
    `receiver` is the object the last attribute was looked up on: the module for `gzip.open`,
    `p` for `p.open`, None for a bare name. Only func, args and kwargs take part in equality.
    """

    func: str
    args: tuple
    kwargs: dict
    callee: Any = field(default=None, compare=False, repr=False)
    receiver: Any = field(default=None, compare=False, repr=False)


_new = object.__new__


def _open_call(func: str, args: tuple, kwargs: dict, callee: Any, receiver: Any) -> OpenCall:
    """OpenCall(...) at half the cost: a frozen dataclass __init__ sets fields one by one."""
    oc = _new(OpenCall)
    oc.__dict__.update(func=func, args=args, kwargs=kwargs, callee=callee, receiver=receiver)
    return oc


# ----------------------------------------------------------------------------- decoded bytecode


class _Ins:
    """One instruction: dis.Instruction without the costly fields, superinstructions split."""

    __slots__ = ("op", "arg", "argval", "offset", "target", "jump", "next_offset")

    def __init__(
        self,
        op: str,
        arg: int | None,
        argval: Any,
        offset: int,
        target: bool,
        jump: bool,
        next_offset: int | None,
    ) -> None:
        self.op = op
        self.arg = arg
        self.argval = argval
        self.offset = offset
        self.target = target
        self.jump = jump
        self.next_offset = next_offset


class _CodeInfo:
    """Everything cached for one code object. `code` pins the object behind id(code)."""

    __slots__ = ("code", "ins", "at", "plans", "statics", "targets")

    def __init__(self, code: types.CodeType) -> None:
        self.code = code
        self.ins, self.at = _decode(code)
        self.plans: dict[int, _Plan | None] = {}
        self.statics: dict[int, bool] = {}
        self.targets: dict[int, tuple[tuple | None, int | None]] = {}


_CODES: dict[int, _CodeInfo] = {}

_JUMP_OPCODES = frozenset(dis.hasjrel) | frozenset(dis.hasjabs)
_SPLIT = {
    "LOAD_FAST_LOAD_FAST": ("LOAD_FAST", "LOAD_FAST"),
    "STORE_FAST_STORE_FAST": ("STORE_FAST", "STORE_FAST"),
    "STORE_FAST_LOAD_FAST": ("STORE_FAST", "LOAD_FAST"),
}


_NB_OPS = ("+", "&", "//", "<<", "@", "*", "%", "|", "**", ">>", "-", "/", "^")
_HASARG = (
    frozenset(dis.hasarg) if hasattr(dis, "hasarg") else frozenset(range(dis.HAVE_ARGUMENT, 256))
)
_NAME_OPS = frozenset({"LOAD_NAME", "STORE_NAME", "STORE_GLOBAL", "LOAD_METHOD"})
_LOCAL_OPS = frozenset(
    {"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF", "LOAD_CLASSDEREF", "STORE_FAST", "STORE_DEREF"}
)


def _cache_table() -> list[int] | None:
    """Inline CACHE entries per opcode (a private dis table; None makes us fall back to dis)."""
    entries = getattr(dis, "_inline_cache_entries", None)
    table = [0] * 256
    if isinstance(entries, dict):  # 3.13: by name
        for name, n in entries.items():
            op = dis.opmap.get(name)
            if op is not None and op < 256:
                table[op] = n
    elif isinstance(entries, (list, tuple)) and len(entries) <= 256:  # 3.11, 3.12: by opcode
        table[: len(entries)] = entries
    else:
        return None
    return table


_CACHES = _cache_table()


# How _decode_fast resolves an opcode's argument.
_AV_NONE, _AV_CONST, _AV_LOCAL, _AV_PAIR, _AV_NAME_HI, _AV_NAME, _AV_BINOP = range(7)
_ARGVAL_KIND: dict[str, int] = {
    "LOAD_CONST": _AV_CONST,
    "KW_NAMES": _AV_CONST,
    **dict.fromkeys(_LOCAL_OPS, _AV_LOCAL),
    **dict.fromkeys(_SPLIT, _AV_PAIR),
    "LOAD_GLOBAL": _AV_NAME_HI,  # oparg >> 1: the low bit says "push NULL"
    "LOAD_ATTR": _AV_NAME_HI if _PY >= (3, 12) else _AV_NAME,  # 3.12+: low bit = method
    **dict.fromkeys(_NAME_OPS, _AV_NAME),
    "BINARY_OP": _AV_BINOP,
}
_ARGVAL_BY_OPCODE = [_ARGVAL_KIND.get(name, _AV_NONE) for name in dis.opname]


def _argval(code: types.CodeType, kind: int, arg: int, localsplus: tuple[str, ...]) -> Any:
    """The resolved argument, for the opcodes this module reads it from."""
    if kind == _AV_CONST:
        return code.co_consts[arg]
    if kind == _AV_LOCAL:
        return localsplus[arg]
    if kind == _AV_PAIR:
        return localsplus[arg >> 4], localsplus[arg & 15]
    if kind == _AV_NAME_HI:
        return code.co_names[arg >> 1]
    if kind == _AV_NAME:
        return code.co_names[arg]
    if kind == _AV_BINOP:
        return _NB_OPS[arg] if arg < len(_NB_OPS) else _NB_OPS[arg - 13] + "="
    return None


def _localsplus(code: types.CodeType) -> tuple[str, ...]:
    """Names indexed by LOAD_FAST/LOAD_DEREF opargs (3.11+): locals, cells, free variables.
    A cell that is also an argument is stored once, at the argument's slot."""
    varnames = code.co_varnames
    cells = tuple(c for c in code.co_cellvars if c not in varnames)
    return varnames + cells + code.co_freevars


def _make_ins(
    op: str,
    arg: int | None,
    argval: Any,
    offset: int,
    target: bool,
    jump: bool,
    nxt: int | None,
    out: list[_Ins],
) -> None:
    if op in _SPLIT:
        first, second = _SPLIT[op]
        out.append(_Ins(first, None, argval[0], offset, target, False, nxt))
        out.append(_Ins(second, None, argval[1], offset, False, False, nxt))
    else:
        out.append(_Ins(op, arg, argval, offset, target, jump, nxt))


def _decode(code: types.CodeType) -> tuple[list[_Ins], dict[int, int]]:
    """Instructions of `code`, from co_code (unspecialised, de-instrumented bytecode).

    A direct walk over co_code is several times faster than dis.get_instructions; `_decode_dis`
    is the obvious implementation it is tested against and the fallback if dis's tables change.
    """
    if _CACHES is None:
        return _decode_dis(code)
    try:
        return _decode_fast(code, _CACHES)
    except Exception:
        return _decode_dis(code)


_BACKWARD_JUMPS = frozenset(
    op for op, name in enumerate(dis.opname) if "JUMP_BACKWARD" in name and op in _JUMP_OPCODES
)
_JREL = frozenset(dis.hasjrel)


def _decode_fast(code: types.CodeType, caches: list[int]) -> tuple[list[_Ins], dict[int, int]]:
    co = code.co_code
    localsplus = _localsplus(code)
    opname, hasarg, jumps, ext_op = dis.opname, _HASARG, _JUMP_OPCODES, dis.EXTENDED_ARG
    kinds = _ARGVAL_BY_OPCODE
    # Relative jumps count from the end of the instruction's caches (3.12+; 3.11's jumps have
    # no caches and its dis ignores them), backward ones go back; the same rule as dis.
    jump_caches = _PY >= (3, 12)
    out: list[_Ins] = []
    at: dict[int, int] = {}
    labels: list[int] = []
    n = len(co)
    i = 0
    ext = 0
    while i < n:
        opcode = co[i]
        nxt = i + 2 + 2 * caches[opcode]
        at[i] = len(out)
        is_jump = opcode in jumps
        arg: int | None
        if opcode in hasarg:
            arg = full = co[i + 1] | ext
            ext = full << 8 if opcode == ext_op else 0
            kind = kinds[opcode]
            argval = _argval(code, kind, full, localsplus) if kind else None
            if is_jump:
                if opcode in _JREL:
                    delta = -full if opcode in _BACKWARD_JUMPS else full
                    labels.append((nxt if jump_caches else i + 2) + 2 * delta)
                else:
                    labels.append(2 * full)
        else:
            arg = argval = None
            ext = 0
        op = opname[opcode]
        if op in _SPLIT:
            _make_ins(op, arg, argval, i, False, False, nxt if nxt < n else None, out)
        else:
            out.append(_Ins(op, arg, argval, i, False, is_jump, nxt if nxt < n else None))
        i = nxt
    for label in labels:
        k = at.get(label)
        if k is not None:
            out[k].target = True
    return out, at


def _decode_dis(code: types.CodeType) -> tuple[list[_Ins], dict[int, int]]:
    """The slow obvious decoder: dis.get_instructions, dis's own argument resolution."""
    raw = list(dis.get_instructions(code))
    out: list[_Ins] = []
    at: dict[int, int] = {}
    for k, i in enumerate(raw):
        nxt = raw[k + 1].offset if k + 1 < len(raw) else None
        at[i.offset] = len(out)
        op = i.opname
        argval = None
        if op == "KW_NAMES":  # 3.11's dis leaves it unresolved
            argval = code.co_consts[i.arg or 0]
        elif op == "BINARY_OP":
            argval = i.argrepr
        elif (
            op in _LOCAL_OPS
            or op in _NAME_OPS
            or op in _SPLIT
            or op in ("LOAD_CONST", "LOAD_GLOBAL", "LOAD_ATTR")
        ):
            argval = i.argval
        _make_ins(
            op, i.arg, argval, i.offset, i.is_jump_target, i.opcode in _JUMP_OPCODES, nxt, out
        )
    return out, at


def _info(code: types.CodeType) -> _CodeInfo:
    info = _CODES.get(id(code))
    if info is None or info.code is not code:
        info = _CODES[id(code)] = _CodeInfo(code)
    return info


def clear_caches() -> None:
    """Forget every analysed code object (and unpin it)."""
    _CODES.clear()


# What each modelled opcode pops and pushes. The same table drives the backward slicing and
# the forward simulation, so the two always agree. Anything not listed ends the analysis.
_FIXED_IO: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("NOP", "EXTENDED_ARG", "PRECALL", "KW_NAMES"), (0, 0)),
    **dict.fromkeys(
        (
            "PUSH_NULL",
            "LOAD_CONST",
            "LOAD_FAST",
            "LOAD_FAST_CHECK",
            "LOAD_DEREF",
            "LOAD_CLASSDEREF",
            "LOAD_NAME",
            "LOAD_CLOSURE",
        ),
        (0, 1),
    ),
    "LOAD_METHOD": (1, 2),
    **dict.fromkeys(
        (
            "BINARY_OP",
            "BINARY_SUBSCR",
            "COMPARE_OP",
            "IS_OP",
            "CONTAINS_OP",
            "FORMAT_WITH_SPEC",
            "SET_FUNCTION_ATTRIBUTE",
        ),
        (2, 1),
    ),
    "BINARY_SLICE": (3, 1),
    **dict.fromkeys(
        (
            "UNARY_NEGATIVE",
            "UNARY_NOT",
            "UNARY_INVERT",
            "UNARY_POSITIVE",
            "TO_BOOL",
            "LIST_TO_TUPLE",
            "CALL_INTRINSIC_1",
            "FORMAT_SIMPLE",
            "CONVERT_VALUE",
        ),
        (1, 1),
    ),
    **dict.fromkeys(
        (
            "LIST_EXTEND",
            "LIST_APPEND",
            "STORE_FAST",
            "STORE_NAME",
            "STORE_GLOBAL",
            "STORE_DEREF",
            "POP_TOP",
            "RETURN_VALUE",
        ),
        (1, 0),
    ),
}
_N_POP_1_PUSH = frozenset({"BUILD_TUPLE", "BUILD_LIST", "BUILD_SET", "BUILD_STRING", "BUILD_SLICE"})


def _io(x: _Ins) -> tuple[int, int] | None:
    op, arg = x.op, x.arg
    r = _FIXED_IO.get(op)
    if r is not None:
        return r
    if arg is None:
        return (1, 1) if op == "MAKE_FUNCTION" else None  # 3.13: no flags
    if op == "LOAD_GLOBAL":
        return 0, 1 + (arg & 1)
    if op == "LOAD_ATTR":
        return 1, 1 + (arg & 1 if _PY >= (3, 12) else 0)
    if op in _N_POP_1_PUSH:
        return arg, 1
    if op == "CALL":
        return arg + 2, 1
    if op == "CALL_KW":
        return arg + 3, 1
    if op == "CALL_FUNCTION_EX":
        return 3 + (arg & 1), 1
    if op == "FORMAT_VALUE":
        return (2 if arg & 4 else 1), 1
    if op == "COPY":
        return arg, arg + 1
    if op == "SWAP":
        return arg, arg
    if op == "BUILD_MAP":
        return 2 * arg, 1
    if op == "BUILD_CONST_KEY_MAP":
        return arg + 1, 1
    if op == "MAKE_FUNCTION":
        return 1 + bin(arg & 0xF).count("1"), 1
    return None


def _operand_start(ins: list[_Ins], end: int, need: int, check_targets: bool) -> int | None:
    """Index where the `need` top stack items pushed by ins[:end] start being computed.

    In post-fix code every proper suffix of an operand has a net stack effect <= 0, so the first
    point backwards where the effect reaches `need` starts the operands. Jumps (and, for
    arguments, jump targets) mean the operands are not straight-line code.
    """
    s = 0
    p = end - 1
    while p >= 0:
        x = ins[p]
        if x.jump or (check_targets and x.target):
            return None
        io_ = _io(x)
        if io_ is None:
            return None
        s += io_[1] - io_[0]
        if s == need:
            return p
        if s > need:
            return None
        p -= 1
    return None


def _call_index(info: _CodeInfo, lasti: int) -> int | None:
    k = info.at.get(lasti)
    if k is None:
        return None
    ins = info.ins
    if ins[k].op == "PRECALL" and k + 1 < len(ins):  # 3.11: tolerate the PRECALL's offset
        k += 1
    return k


# ----------------------------------------------------------------------------- expression trees
# Nodes are tuples: ("const", v), ("fast"|"deref"|"global"|"name", name), ("attr", base, name),
# ("mattr", base, name) + ("self", base) for a method-form load, ("subscr", base, key),
# ("binop", op, a, b), ("is", invert, a, b), ("fmt", conversion, spec|None, value),
# ("conv", conversion, value) (3.13's CONVERT_VALUE, folded into the next "fmt"), ("fstr", parts),
# ("seq", "tuple"|"list", items), ("splat", node), ("call", callee, args, kw), and
# ("opaque", what) for a value we model but never evaluate. _NULL is the NULL stack marker.

_NULL = ("null",)
_NAME_LOADS = {
    "LOAD_FAST": "fast",
    "LOAD_FAST_CHECK": "fast",
    "LOAD_DEREF": "deref",
    "LOAD_CLASSDEREF": "deref",
    "LOAD_GLOBAL": "global",
    "LOAD_NAME": "name",
}
_OPAQUE = {
    "COMPARE_OP": "compare",
    "CONTAINS_OP": "in",
    "BINARY_SLICE": "[:]",
    "BUILD_SET": "set",
    "BUILD_SLICE": "slice",
    "BUILD_MAP": "dict",
    "BUILD_CONST_KEY_MAP": "dict",
    "UNARY_NEGATIVE": "-",
    "UNARY_NOT": "not",
    "UNARY_INVERT": "~",
    "UNARY_POSITIVE": "+",
    "TO_BOOL": "bool",
    "MAKE_FUNCTION": "function",
    "SET_FUNCTION_ATTRIBUTE": "function",
    "CALL_FUNCTION_EX": "call(*)",
}
_INTRINSIC_LIST_TO_TUPLE = 6


class _Fail(Exception):
    """The slice uses something this module does not model."""


def _simulate(sl: list[_Ins], results: int = 1) -> list[tuple]:
    """Forward-run a straight-line slice on a symbolic stack; it must leave `results` nodes."""
    st: list[tuple] = []
    kwnames: tuple = ()

    def pop(n: int = 1) -> list[tuple]:
        if n > len(st):
            raise _Fail("stack underflow")
        if n == 0:
            return []
        items = st[-n:]
        del st[-n:]
        return items

    for x in sl:
        op = x.op
        if op in ("NOP", "EXTENDED_ARG", "PRECALL"):
            continue
        if op == "KW_NAMES":
            kwnames = x.argval
        elif op in _NAME_LOADS:
            node = (_NAME_LOADS[op], x.argval)
            if op == "LOAD_GLOBAL" and x.arg is not None and x.arg & 1:
                st.extend((node, _NULL) if _PY >= (3, 13) else (_NULL, node))
            else:
                st.append(node)
        elif op == "LOAD_CONST":
            st.append(("const", x.argval))
        elif op == "PUSH_NULL":
            st.append(_NULL)
        elif op == "LOAD_CLOSURE":
            st.append(("opaque", "cell"))
        elif op in ("LOAD_ATTR", "LOAD_METHOD"):
            (base,) = pop()
            if op == "LOAD_METHOD" or (_PY >= (3, 12) and x.arg is not None and x.arg & 1):
                st.extend((("mattr", base, x.argval), ("self", base)))
            else:
                st.append(("attr", base, x.argval))
        elif op == "BINARY_SUBSCR":
            base, key = pop(2)
            st.append(("subscr", base, key))
        elif op == "BINARY_OP":
            a, b = pop(2)
            st.append(("binop", str(x.argval).strip(), a, b))
        elif op == "IS_OP":
            a, b = pop(2)
            st.append(("is", bool(x.arg), a, b))
        elif op in ("BUILD_TUPLE", "BUILD_LIST"):
            st.append(("seq", "tuple" if op == "BUILD_TUPLE" else "list", tuple(pop(x.arg or 0))))
        elif op in ("LIST_EXTEND", "LIST_APPEND"):
            (item,) = pop()
            if x.arg != 1 or not st or st[-1][:2] != ("seq", "list"):
                raise _Fail(op)
            add = ("splat", item) if op == "LIST_EXTEND" else item
            st[-1] = ("seq", "list", st[-1][2] + (add,))
        elif op == "LIST_TO_TUPLE" or (
            op == "CALL_INTRINSIC_1" and x.arg == _INTRINSIC_LIST_TO_TUPLE
        ):
            (lst,) = pop()
            st.append(
                ("seq", "tuple", lst[2]) if lst[:2] == ("seq", "list") else ("opaque", "tuple")
            )
        elif op == "FORMAT_VALUE":
            flags = x.arg or 0
            spec = pop()[0] if flags & 4 else None
            (value,) = pop()
            st.append(("fmt", flags & 3, spec, value))
        elif op == "CONVERT_VALUE":  # 3.13: always followed by FORMAT_SIMPLE/_WITH_SPEC
            (value,) = pop()
            st.append(("conv", x.arg or 0, value))
        elif op in ("FORMAT_SIMPLE", "FORMAT_WITH_SPEC"):
            spec = pop()[0] if op == "FORMAT_WITH_SPEC" else None
            (value,) = pop()
            if value[0] == "conv":
                st.append(("fmt", value[1], spec, value[2]))
            else:
                st.append(("fmt", 0, spec, value))
        elif op == "BUILD_STRING":
            st.append(("fstr", tuple(pop(x.arg or 0))))
        elif op in ("CALL", "CALL_KW"):
            names = kwnames
            kwnames = ()
            if op == "CALL_KW":
                (kn,) = pop()
                if kn[0] != "const" or not isinstance(kn[1], tuple):
                    raise _Fail("CALL_KW names")
                names = kn[1]
            args = pop(x.arg or 0)
            lower, upper = pop(2)
            if lower is _NULL:
                callee = upper
            elif upper is _NULL:
                callee = lower
            elif lower[0] == "mattr" and upper[0] == "self":
                callee = ("attr", lower[1], lower[2])
            else:
                raise _Fail("callable")
            npos = len(args) - len(names)
            if npos < 0:
                raise _Fail("keywords")
            st.append(
                ("call", callee, tuple(args[:npos]), tuple(zip(names, args[npos:], strict=False)))
            )
        elif op == "COPY":
            depth = x.arg or 0
            if not 1 <= depth <= len(st):
                raise _Fail("COPY")
            st.append(st[-depth])
        elif op == "SWAP":
            depth = x.arg or 0
            if not 2 <= depth <= len(st):
                raise _Fail("SWAP")
            st[-1], st[-depth] = st[-depth], st[-1]
        elif op in ("STORE_FAST", "STORE_NAME", "STORE_GLOBAL", "STORE_DEREF"):
            pop()  # a walrus inside the argument: the value stays the expression's value
        elif op in _OPAQUE or op == "CALL_INTRINSIC_1":
            io_ = _io(x)
            if io_ is None or io_[1] != 1:
                raise _Fail(op)
            pop(io_[0])
            st.append(("opaque", _OPAQUE.get(op, op.lower())))
        else:
            raise _Fail(op)
    if len(st) != results or any(node[0] == "conv" for node in st):
        raise _Fail("stack shape")
    return st


def _dotted(node: tuple) -> str:
    tag = node[0]
    if tag in ("fast", "deref", "global", "name"):
        return str(node[1])
    if tag in ("attr", "mattr"):
        return f"{_dotted(node[1])}.{node[2]}"
    if tag == "call":
        return f"{_dotted(node[1])}()"
    if tag == "subscr":
        return f"{_dotted(node[1])}[]"
    if tag == "const":
        return repr(node[1])[:40]
    if tag == "binop":
        return str(node[1])
    if tag == "opaque":
        return str(node[1])
    return tag


# ----------------------------------------------------------------------------- evaluation


def _probe_locals_type() -> type:
    return type(sys._getframe().f_locals)


_PROXY_TYPE: Any = _probe_locals_type()  # dict on 3.11/3.12, FrameLocalsProxy on 3.13+


class _Env:
    """The frame an expression is evaluated in; f_locals is fetched once, only if needed."""

    __slots__ = ("frame", "_locals", "glb", "blt")

    def __init__(self, frame: types.FrameType) -> None:
        self.frame = frame
        self._locals: Any = MISSING
        self.glb = frame.f_globals
        self.blt = frame.f_builtins

    def locals(self) -> Any:
        loc = self._locals
        if loc is MISSING:
            loc = self._locals = framelocals.read(self.frame)
        return loc

    def close(self) -> None:
        """Done evaluating: the frame's snapshot of its locals is emptied (framelocals.py)."""
        if self._locals is not MISSING:
            framelocals.release(self.frame, self._locals)
            self._locals = MISSING


def _lookup(mapping: Any, name: str) -> Any:
    """mapping[name] or MISSING, never running user code (custom mappings are not read)."""
    if issubclass(type(mapping), dict):
        return dict.get(mapping, name, MISSING)
    if type(mapping) is _PROXY_TYPE:
        return mapping.get(name, MISSING)
    return MISSING


_Ev = Callable[[_Env], Any]

_PATH_TYPES = (
    pathlib.PurePath,
    pathlib.PurePosixPath,
    pathlib.PureWindowsPath,
    pathlib.Path,
    pathlib.PosixPath,
    pathlib.WindowsPath,
)


def _is_path(v: object) -> bool:
    t = type(v)
    for pt in _PATH_TYPES:
        if t is pt:
            return True
    return False


_TYPE_DICT = type.__dict__["__dict__"]
_TYPE_MRO = type.__dict__["__mro__"]
_OBJECT_GETATTRIBUTE = object.__dict__["__getattribute__"]
_TYPE_GETATTRIBUTE = type.__dict__["__getattribute__"]
# C types whose __getattribute__ slot is the generic lookup (SimpleNamespace is a common config).
_GENERIC_GETATTRIBUTES = tuple(
    t.__dict__.get("__getattribute__", _OBJECT_GETATTRIBUTE)
    for t in (object, types.SimpleNamespace)
)


def _mro_lookup(tp: type, name: str) -> Any:
    for klass in _TYPE_MRO.__get__(tp, type(tp)):
        d = _TYPE_DICT.__get__(klass, type(klass))
        if name in d:
            return d[name]
    return MISSING


def _is_data_descriptor(v: object) -> bool:
    tp = type(v)
    return _mro_lookup(tp, "__set__") is not MISSING or _mro_lookup(tp, "__delete__") is not MISSING


def _has_get(v: object) -> bool:
    return _mro_lookup(type(v), "__get__") is not MISSING


def _class_value(v: Any, instance: Any, owner: type) -> Any:
    """What `owner.x` / `instance.x` gives for a class-dict value `v`, if that is side-effect
    free; MISSING otherwise."""
    tv = type(v)
    if tv is types.FunctionType:
        return v if instance is MISSING else types.MethodType(v, instance)
    if tv is staticmethod:
        return v.__func__
    if tv is classmethod:
        return types.MethodType(v.__func__, owner)
    if instance is not MISSING and (
        tv is types.MethodDescriptorType or tv is types.WrapperDescriptorType
    ):
        return v.__get__(instance, owner)  # binds a C method: no user code
    if not _has_get(v):
        return v
    return MISSING


def _static_attr(obj: Any, name: str) -> Any:
    """`obj.name` if it can be read without running user code, else MISSING.

    Modules: their __dict__ (never a module __getattr__). Classes: a plain value or function in a
    class __dict__ along the MRO. Instances of classes with the default __getattribute__: a slot,
    the instance __dict__, then a plain value or function in a class __dict__. Properties and
    other descriptors are never invoked.
    """
    # isinstance() is avoided on purpose: when the type test fails it reads obj.__class__,
    # which runs a user __getattribute__.
    tp = type(obj)
    if tp is Unknown or obj is MISSING:
        return MISSING
    if issubclass(tp, types.ModuleType):
        d = _OBJECT_GETATTRIBUTE(obj, "__dict__")
        return dict.get(d, name, MISSING) if type(d) is dict else MISSING
    if issubclass(tp, type):
        if _mro_lookup(tp, "__getattribute__") is not _TYPE_GETATTRIBUTE:
            return MISSING
        meta = _mro_lookup(tp, name)
        if meta is not MISSING and _is_data_descriptor(meta):
            return MISSING
        for klass in _TYPE_MRO.__get__(obj, tp):
            d = _TYPE_DICT.__get__(klass, type(klass))
            if name in d:
                return _class_value(d[name], MISSING, obj)
        return MISSING
    getattribute = _mro_lookup(tp, "__getattribute__")
    if not any(getattribute is g for g in _GENERIC_GETATTRIBUTES):
        return MISSING
    cls_attr = _mro_lookup(tp, name)
    if cls_attr is not MISSING and _is_data_descriptor(cls_attr):
        if type(cls_attr) is types.MemberDescriptorType:  # __slots__ entry: a plain read
            try:
                return cls_attr.__get__(obj, tp)
            except AttributeError:
                return MISSING
        return MISSING
    dict_descr = _mro_lookup(tp, "__dict__")
    if type(dict_descr) is types.GetSetDescriptorType or (
        type(dict_descr) is types.MemberDescriptorType  # SimpleNamespace
    ):
        d = dict_descr.__get__(obj, tp)
        if type(d) is dict:
            v = dict.get(d, name, MISSING)
            if v is not MISSING:
                return v
    if cls_attr is MISSING:
        return MISSING
    return _class_value(cls_attr, obj, tp)


_SAFE_SCALARS = (str, int, float, bool, bytes, type(None))
_FMT_NUMBERS = re.compile(r"\d+")
_MAX_STR = 1 << 16


def _is_safe_scalar(v: object) -> bool:
    t = type(v)
    for st in _SAFE_SCALARS:
        if t is st:
            return True
    return False


def _format(conv: int, spec: Any, v: Any) -> Any:
    """f-string formatting of str/int/float/bool/None/Path values; MISSING for anything else."""
    try:
        return _format_safe(conv, spec, v)
    except (TypeError, ValueError):  # a spec the type rejects: Python itself would raise
        return MISSING


def _format_safe(conv: int, spec: Any, v: Any) -> Any:
    if spec is not None:
        if type(spec) is not str or len(spec) > 32:
            return MISSING
        if any(int(n) > 1000 for n in _FMT_NUMBERS.findall(spec)):  # no giant paddings
            return MISSING
    if _is_path(v):
        v = repr(v) if conv == 2 else ascii(v) if conv == 3 else str(v)
    elif _is_safe_scalar(v) and type(v) is not bytes:
        if conv == 1:
            v = str(v)
        elif conv == 2:
            v = repr(v)
        elif conv == 3:
            v = ascii(v)
    else:
        return MISSING
    if type(v) is str and len(v) > _MAX_STR:
        return MISSING
    return format(v, spec or "")


def _compile(node: tuple) -> _Ev:
    """Turn an expression tree into a closure env -> value (or an Unknown)."""
    tag = node[0]
    unknown = Unknown(_dotted(node))

    if tag == "const":
        value = node[1]
        return lambda env: value

    if tag in ("fast", "deref"):
        name = node[1]

        def ev_local(env: _Env) -> Any:
            v = _lookup(env.locals(), name)
            return unknown if v is MISSING else v

        return ev_local

    if tag == "global":
        name = node[1]

        def ev_global(env: _Env) -> Any:
            v = _lookup(env.glb, name)
            if v is MISSING:
                v = _lookup(env.blt, name)
            return unknown if v is MISSING else v

        return ev_global

    if tag == "name":
        name = node[1]

        def ev_name(env: _Env) -> Any:
            v = _lookup(env.locals(), name)
            if v is MISSING:
                v = _lookup(env.glb, name)
                if v is MISSING:
                    v = _lookup(env.blt, name)
            return unknown if v is MISSING else v

        return ev_name

    if tag in ("attr", "mattr"):
        base = _compile(node[1])
        attr = node[2]

        def ev_attr(env: _Env) -> Any:
            v = _static_attr(base(env), attr)
            return unknown if v is MISSING else v

        return ev_attr

    if tag == "subscr":
        base, key = _compile(node[1]), _compile(node[2])

        def ev_subscr(env: _Env) -> Any:
            b, k = base(env), key(env)
            tb = type(b)
            if tb is dict and _is_safe_scalar(k):
                return dict.get(b, k, unknown)
            if (tb is list or tb is tuple) and (type(k) is int or type(k) is bool):
                return b[k] if -len(b) <= k < len(b) else unknown
            return unknown

        return ev_subscr

    if tag == "binop":
        op, left, right = node[1], _compile(node[2]), _compile(node[3])
        if op == "+":

            def ev_add(env: _Env) -> Any:
                a, b = left(env), right(env)
                if type(a) is str and type(b) is str and len(a) + len(b) <= _MAX_STR:
                    return a + b
                return unknown

            return ev_add
        if op == "/":

            def ev_div(env: _Env) -> Any:
                a, b = left(env), right(env)
                if (_is_path(a) and (type(b) is str or _is_path(b))) or (
                    type(a) is str and _is_path(b)
                ):
                    return a / b
                return unknown

            return ev_div
        return lambda env: unknown

    if tag == "is":
        invert, left, right = node[1], _compile(node[2]), _compile(node[3])

        def ev_is(env: _Env) -> Any:
            a, b = left(env), right(env)
            if type(a) is Unknown or type(b) is Unknown:
                return unknown
            return (a is not b) if invert else (a is b)

        return ev_is

    if tag == "fmt":
        conv, value = node[1], _compile(node[3])
        spec = _compile(node[2]) if node[2] is not None else None

        def ev_fmt(env: _Env) -> Any:
            v = _format(conv, spec(env) if spec is not None else None, value(env))
            return unknown if v is MISSING else v

        return ev_fmt

    if tag == "fstr":
        parts = tuple(_compile(p) for p in node[1])

        def ev_fstr(env: _Env) -> Any:
            vals = [p(env) for p in parts]
            for v in vals:
                if type(v) is not str:
                    return unknown
            s = "".join(vals)
            return s if len(s) <= _MAX_STR else unknown

        return ev_fstr

    if tag == "seq":
        as_tuple = node[1] == "tuple"
        items = tuple(
            (True, _compile(i[1])) if i[0] == "splat" else (False, _compile(i)) for i in node[2]
        )

        def ev_seq(env: _Env) -> Any:
            out: list = []
            for splat, item in items:
                v = item(env)
                if not splat:
                    out.append(v)
                elif type(v) is tuple or type(v) is list:
                    out.extend(v)
                else:
                    return unknown
            return tuple(out) if as_tuple else out

        return ev_seq

    if tag == "call":
        callee_node = node[1]
        fname = _dotted(callee_node)
        args = tuple(_compile(a) for a in node[2])
        kwargs = tuple((k, _compile(v)) for k, v in node[3])
        if callee_node[0] in ("attr", "mattr"):
            recv_ev = _compile(callee_node[1])
            attr = callee_node[2]
            callee_unknown = Unknown(fname)

            def ev_method_call(env: _Env) -> Any:
                recv = recv_ev(env)
                callee = _static_attr(recv, attr)
                return _open_call(
                    fname,
                    tuple(a(env) for a in args),
                    {k: v(env) for k, v in kwargs},
                    callee_unknown if callee is MISSING else callee,
                    recv,
                )

            return ev_method_call
        callee_ev = _compile(callee_node)

        def ev_call(env: _Env) -> Any:
            return _open_call(
                fname,
                tuple(a(env) for a in args),
                {k: v(env) for k, v in kwargs},
                callee_ev(env),
                None,
            )

        return ev_call

    return lambda env: unknown  # "opaque" and anything else we never evaluate


def _run(ev: _Ev, env: _Env) -> Any:
    try:
        return ev(env)
    except Exception:  # an evaluator bug must not cost the other arguments
        return Unknown("error")


# ----------------------------------------------------------------------------- call sites


class _Plan:
    """The compiled arguments of one call site."""

    __slots__ = ("pos", "kw", "receiver")

    def __init__(
        self, pos: tuple[_Ev, ...], kw: tuple[tuple[str, _Ev], ...], receiver: _Ev | None
    ) -> None:
        self.pos = pos
        self.kw = kw
        self.receiver = receiver


def _operands(info: _CodeInfo, lasti: int) -> tuple[int, list[tuple[int, int]], tuple, int] | None:
    """For the CALL at lasti: (index of the CALL, [(start, end) per operand], KW_NAMES names,
    index where the operands start).

    Operands are the arguments plus, for CALL_KW, the names tuple; the callable and its
    self-or-NULL slot are pushed just before them.
    """
    k = _call_index(info, lasti)
    if k is None:
        return None
    ins = info.ins
    call = ins[k]
    if call.op == "CALL" or call.op == "CALL_KW":
        n = (call.arg or 0) + (1 if call.op == "CALL_KW" else 0)
    elif call.op == "CALL_FUNCTION_EX":
        n = 1 + ((call.arg or 0) & 1)
    else:
        return None
    kwnames: tuple = ()
    j = k - 1
    while j >= 0 and ins[j].op in ("PRECALL", "KW_NAMES", "NOP", "EXTENDED_ARG"):
        if ins[j].op == "KW_NAMES":
            kwnames = ins[j].argval
        j -= 1
    end = j + 1
    slices: list[tuple[int, int]] = []
    for _ in range(n):
        p = _operand_start(ins, end, 1, check_targets=True)
        if p is None:
            return None
        slices.append((p, end))
        end = p
    slices.reverse()
    return k, slices, kwnames, end


def _plan_call(info: _CodeInfo, lasti: int) -> _Plan | None:
    found = _operands(info, lasti)
    if found is None:
        return None
    k, slices, kwnames, start = found
    ins = info.ins
    call = ins[k]
    if call.op == "CALL_FUNCTION_EX":
        return None
    try:
        exprs = [_simulate(ins[a:b])[0] for a, b in slices]
    except _Fail:
        return None
    for e in exprs:
        if e is _NULL or e[0] in ("mattr", "self"):
            return None
    if call.op == "CALL_KW":
        names = exprs.pop()
        if names[0] != "const" or not isinstance(names[1], tuple):
            return None
        kwnames = names[1]
    npos = len(exprs) - len(kwnames)
    if npos < 0:
        return None
    receiver = _receiver_expr(info, start)
    return _Plan(
        tuple(_compile(e) for e in exprs[:npos]),
        tuple((str(name), _compile(e)) for name, e in zip(kwnames, exprs[npos:], strict=True)),
        _compile(receiver) if receiver is not None else None,
    )


def _callee_slice(info: _CodeInfo, start: int) -> list[_Ins] | None:
    """The instructions that pushed the callable and its self-or-NULL slot (2 stack items)."""
    p = _operand_start(info.ins, start, 2, check_targets=False)
    if p is None:
        return None
    sl = info.ins[p:start]
    # The slice may start with a jump target (a loop or statement start), never contain one.
    if any(x.target for x in sl[1:]):
        return None
    return sl


def _receiver_expr(info: _CodeInfo, start: int) -> tuple | None:
    """The object the callable was looked up on, for `recv.meth(...)` forms; None otherwise."""
    sl = _callee_slice(info, start)
    if not sl:
        return None
    try:
        lower, upper = _simulate(sl, 2)
    except _Fail:
        return None
    callee = upper if lower is _NULL else lower
    if callee is not _NULL and callee[0] in ("attr", "mattr"):
        return callee[1]
    return None


def _static(info: _CodeInfo, lasti: int) -> bool:
    found = _operands(info, lasti)
    if found is None:
        return False
    sl = _callee_slice(info, found[3])
    if sl is None:
        return False
    ops = [x.op for x in sl if x.op not in ("PUSH_NULL", "NOP", "EXTENDED_ARG")]
    if not ops or any(op not in ("LOAD_ATTR", "LOAD_METHOD") for op in ops[1:]):
        return False
    if ops[0] in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF"):
        return True
    return ops[0] in ("LOAD_FAST", "LOAD_FAST_CHECK") and len(ops) >= 2


_STORE_KINDS = {
    "STORE_FAST": "fast",
    "STORE_NAME": "name",
    "STORE_GLOBAL": "global",
    "STORE_DEREF": "deref",
}
_TARGET_WALK = 40


def _find_target(info: _CodeInfo, lasti: int) -> tuple[tuple | None, int | None]:
    """Follow the call's result on the fall-through path until an instruction consumes it."""
    k = _call_index(info, lasti)
    ins = info.ins
    if k is None or ins[k].op not in ("CALL", "CALL_KW", "CALL_FUNCTION_EX"):
        return None, None
    refs = [0]  # depths from the top of the stack of the result (and of its copies)
    for x in ins[k + 1 : k + 1 + _TARGET_WALK]:
        if x.jump:
            return None, None
        io_ = _io(x)
        if io_ is None:
            return None, None
        pops, pushes = io_
        if x.op == "COPY":
            refs = [d + 1 for d in refs] + ([0] if pops - 1 in refs else [])
            continue
        if x.op == "SWAP":
            refs = [pops - 1 if d == 0 else 0 if d == pops - 1 else d for d in refs]
            continue
        if any(d < pops for d in refs):
            if x.op in _STORE_KINDS:  # pops one item: the result (or a copy of it)
                return ("store", _STORE_KINDS[x.op], x.argval), x.next_offset
            if x.op == "RETURN_VALUE":
                return ("return",), None
            return None, None
        refs = [d - pops + pushes for d in refs]
    return None, None


# ----------------------------------------------------------------------------- public API


def call_arguments(frame: types.FrameType, lasti: int) -> tuple[list, dict] | None:
    """Arguments of the CALL at byte offset `lasti` of frame.f_code, evaluated in `frame`.

    Returns (positional values, {keyword: value}); a value that could not be evaluated without
    side effects is an `Unknown`, a call inside an argument is an `OpenCall`. The receiver of
    `obj.meth(...)` is not an argument (see `call_receiver`). None when the site cannot be
    analysed: f(*a, **kw), jumps inside the arguments (conditional expressions,
    comprehensions, and/or), opcodes not modelled here, or an offset that is not a CALL.
    """
    try:
        code = frame.f_code
        info = _CODES.get(id(code))
        if info is None or info.code is not code:
            info = _info(code)
        plan = info.plans.get(lasti, MISSING)
        if plan is MISSING:
            plan = info.plans[lasti] = _plan_call(info, lasti)
        if plan is None:
            return None
        env = _Env(frame)
        try:
            return ([_run(ev, env) for ev in plan.pos], {k: _run(ev, env) for k, ev in plan.kw})
        finally:
            env.close()
    except Exception:
        return None


def call_receiver(frame: types.FrameType, lasti: int) -> Any:
    """The object whose attribute is called at `lasti`: `arr` in `arr.tofile(p)`, the module in
    `pickle.dump(...)`, evaluated without side effects. MISSING for a bare-name callable or a
    site that cannot be analysed; an `Unknown` when the receiver expression cannot be evaluated.
    """
    try:
        code = frame.f_code
        info = _CODES.get(id(code))
        if info is None or info.code is not code:
            info = _info(code)
        plan = info.plans.get(lasti, MISSING)
        if plan is MISSING:
            plan = info.plans[lasti] = _plan_call(info, lasti)
        if plan is None or plan.receiver is None:
            return MISSING
        env = _Env(frame)
        try:
            return _run(plan.receiver, env)
        finally:
            env.close()
    except Exception:
        return MISSING


def result_target(code: types.CodeType, lasti: int) -> tuple | None:
    """Where the value returned by the CALL at `lasti` goes.

    ("store", kind, name) with kind "fast", "name", "global" or "deref": read it with
    `read_store` once the store has run (3.11: at the next profile event of the frame; 3.12+: at
    `result_ready_offset`). ("return",): it becomes the frame's return value. None: it is
    consumed by something else (POP_TOP, an enclosing call, an attribute, a jump...).
    """
    try:
        info = _CODES.get(id(code))
        if info is None or info.code is not code:
            info = _info(code)
        t = info.targets.get(lasti)
        if t is None:
            t = info.targets[lasti] = _find_target(info, lasti)
        return t[0]
    except Exception:
        return None


def result_ready_offset(code: types.CodeType, lasti: int) -> int | None:
    """Byte offset of the first instruction that runs after the result of the CALL at `lasti`
    was stored (for a one-shot sys.monitoring INSTRUCTION event); None if it is not stored."""
    try:
        info = _CODES.get(id(code))
        if info is None or info.code is not code:
            info = _info(code)
        t = info.targets.get(lasti)
        if t is None:
            t = info.targets[lasti] = _find_target(info, lasti)
        return t[1]
    except Exception:
        return None


def read_store(frame: types.FrameType, target: tuple | None) -> Any:
    """The current value of the variable named by a ("store", kind, name) target, or MISSING."""
    try:
        if not target or target[0] != "store":
            return MISSING
        kind, name = target[1], target[2]
        if kind == "global":
            return _lookup(frame.f_globals, name)
        loc = framelocals.read(frame)
        try:
            return _lookup(loc, name)
        finally:
            framelocals.release(frame, loc)
    except Exception:
        return MISSING


def callee_is_static(code: types.CodeType, lasti: int) -> bool:
    """True when the callable of the call at `lasti` is a name rooted in a global, builtin,
    module-level or closure variable, optionally followed by attributes (`np.sum`, `len`,
    `pickle.dump`, `cfg.save`), or a local followed by at least one attribute (`obj.method`,
    `self.helper`): the same site keeps calling the same thing. False for a bare local
    (`fn(x)`), a subscript, a call result, or anything unanalysable.
    """
    try:
        info = _CODES.get(id(code))
        if info is None or info.code is not code:
            info = _info(code)
        r = info.statics.get(lasti)
        if r is None:
            r = info.statics[lasti] = _static(info, lasti)
        return r
    except Exception:
        return False


# ----------------------------------------------------------------------------- file_of

_OPENER_NAMES = frozenset(
    {
        "open",
        "io.open",
        "io.FileIO",
        "gzip.open",
        "gzip.GzipFile",
        "bz2.open",
        "bz2.BZ2File",
        "lzma.open",
        "lzma.LZMAFile",
        "codecs.open",
        "Path.open",
        "pathlib.Path.open",
    }
)
_WRAPPER_NAMES = frozenset(
    {
        "io.BufferedReader",
        "io.BufferedWriter",
        "io.BufferedRandom",
        "io.TextIOWrapper",
    }
)
_JOIN_NAMES = frozenset({"os.path.join"})
_PATH_CTOR_NAMES = frozenset(
    {
        "Path",
        "PurePath",
        "pathlib.Path",
        "pathlib.PurePath",
        "PosixPath",
        "pathlib.PosixPath",
        "WindowsPath",
        "pathlib.WindowsPath",
    }
)
_OPENER_ATTRS = (
    ("builtins", "open"),
    ("io", "open"),
    ("io", "FileIO"),
    ("io", "open_code"),
    ("gzip", "open"),
    ("gzip", "GzipFile"),
    ("bz2", "open"),
    ("bz2", "BZ2File"),
    ("lzma", "open"),
    ("lzma", "LZMAFile"),
    ("codecs", "open"),
)
_WRAPPER_ATTRS = (
    ("io", "BufferedReader"),
    ("io", "BufferedWriter"),
    ("io", "BufferedRandom"),
    ("io", "TextIOWrapper"),
)


def _known(callee: Any, pairs: tuple[tuple[str, str], ...]) -> bool:
    """Is `callee` one of module.attr, looking only at modules the program has imported."""
    for mod_name, attr in pairs:
        mod = sys.modules.get(mod_name)
        if mod is not None and dict.get(mod.__dict__, attr, MISSING) is callee:
            return True
    return False


def _classify(call: OpenCall) -> str | None:
    """'open' (first argument names the file), 'wrap' (first argument is a raw stream),
    'join' (os.path.join), 'path' (a pathlib constructor) or None."""
    callee = call.callee
    if callee is not None and type(callee) is not Unknown:
        if _known(callee, _OPENER_ATTRS) or callee is pathlib.Path.open:
            return "open"
        if _known(callee, _WRAPPER_ATTRS):
            return "wrap"
        if callee is os.path.join:
            return "join"
        for pt in _PATH_TYPES:
            if callee is pt:
                return "path"
        if type(callee) is types.MethodType and callee.__func__ is pathlib.Path.open:
            return "open"
        return None
    func = call.func
    if func in _OPENER_NAMES:
        return "open"
    if func in _WRAPPER_NAMES:
        return "wrap"
    if func in _JOIN_NAMES:
        return "join"
    if func in _PATH_CTOR_NAMES:
        return "path"
    if func.endswith(".open") and _is_path(call.receiver):
        return "open"
    return None


def _pathish(v: Any, depth: int) -> str | None:
    """`v` as a path string if it is one (or a path built by a known pure call)."""
    tv = type(v)
    if tv is str:
        return v
    if tv is bytes:
        return os.fsdecode(v)
    if _is_path(v) or tv is os.DirEntry:
        return os.fspath(v)
    if tv is OpenCall and depth < 8:
        kind = _classify(v)
        if kind in ("join", "path") and not v.kwargs and v.args:
            parts = [_pathish(a, depth + 1) for a in v.args]
            if all(p is not None for p in parts):
                return os.path.join(*parts)  # type: ignore[arg-type]
        return None
    if issubclass(tv, os.PathLike) and not issubclass(tv, io.IOBase):
        p = os.fspath(v)
        return p if type(p) is str else os.fsdecode(p) if type(p) is bytes else None
    return None


def _file_path(v: Any, depth: int) -> str | None:
    if depth > 8 or type(v) is Unknown or v is None or v is MISSING:
        return None
    p = _pathish(v, depth)
    if p is not None:
        return p
    if type(v) is OpenCall:
        kind = _classify(v)
        if kind == "open":
            if (
                v.func.endswith(".open")
                and _is_path(v.receiver)
                and type(v.callee) is not types.FunctionType
            ):
                return os.fspath(v.receiver)  # p.open(...)
            first = v.kwargs.get("file", v.kwargs.get("filename", MISSING))
            if first is MISSING:
                first = v.args[0] if v.args else MISSING
            return _file_path(first, depth + 1) if first is not MISSING else None
        if kind == "wrap":
            first = v.kwargs.get("raw", v.kwargs.get("buffer", MISSING))
            if first is MISSING:
                first = v.args[0] if v.args else MISSING
            return _file_path(first, depth + 1) if first is not MISSING else None
        return None
    if type(v) is int or type(v) is bool:
        return None  # a file descriptor names no path
    if issubclass(type(v), io.IOBase):
        try:
            name = v.name  # read like Python does: stdlib file types compute it from .raw
        except Exception:
            name = MISSING
        if type(name) is str and name.startswith("<") and name.endswith(">"):
            return None  # <stdout>, <stdin>, <fdopen>: not a path
        if name is MISSING:  # e.g. a BufferedWriter around something without a name
            for attr in ("raw", "buffer", "fileobj"):
                inner = _static_attr(v, attr)
                if inner is not MISSING and inner is not v:
                    return _file_path(inner, depth + 1)
            return None
        return _pathish(name, depth + 1)
    name = _static_attr(v, "name")  # tempfile wrappers and other file-likes: plain attrs only
    if name is not MISSING and (type(name) is str or _is_path(name) or type(name) is bytes):
        return _pathish(name, depth + 1)
    return None


def file_of(value: Any) -> str | None:
    """Absolute path named by a file-like argument, or None.

    Accepts a str/bytes/os.PathLike path, an open file object (its .name; a buffered or text
    wrapper is followed to the raw file), an `OpenCall` of open/io.open/gzip.open/bz2.open/
    lzma.open/codecs.open/Path.open/io.FileIO (its first argument, or the receiver of
    `p.open()`), of a Buffered*/TextIOWrapper constructor (followed to the wrapped stream), and
    paths built by os.path.join(...) or Path(...) of plain strings. The path is made absolute
    against the current directory at the time of the call.
    """
    try:
        p = _file_path(value, 0)
        return os.path.abspath(p) if p else None
    except Exception:
        return None
