"""The recorder: turns the calls the hooks keep into nodes, ops and files in the log.

It owns object identity. A node is one version of one data object; the registry maps
`id(obj)` to the object's current node through a weak reference, checked at every lookup (ids
are reused as soon as an object dies) and swept of dead entries as the table grows, so no
user data is ever kept alive. A call
that mutates its target (`df["x"] = ...`, `df.loc[...] = ...`, `inplace=True`, `fit`) makes a
new version of the same object whose parent is the previous version.

Each op is written when it ends (its outputs are known then); the writer is flushed when an
outermost op ends, so a killed run keeps every op that finished. Fingerprints are cheap here:
objects of unknown origin and files get content hashes, every other node a derived
(Merkle) fingerprint of its op, parameters and inputs.

Nothing here may raise into user code: the dispatcher catches and reports, and `op_end`
guards itself so one bad object costs one op, not the run.
"""

from __future__ import annotations

import linecache
import os
import threading
import time
import types
import weakref
from typing import Any

from tracer import fingerprint as fp
from tracer.catalog.entries import CONSTRUCT, FIT, READ, WRITE, Entry
from tracer.catalog.families import Meaning
from tracer.events import format as rec
from tracer.fingerprint.files import file_facts
from tracer.hooks import callargs
from tracer.hooks.dispatch import site_offset
from tracer.recorder import describe as d
from tracer.recorder import effects
from tracer.recorder.arguments import (
    bound_args,
    c_args,
    data_in,
    exc_text,
    flush_quietly,
    hold,
    is_default,
    objectlike,
    raw,
    subject_of,
    unhold,
)
from tracer.reprs import safe_repr
from tracer.types import CCall

SWEEP_MIN = 1024  # registry size at which slots of dead objects are first swept


class Slot:
    """The registry's entry for one live object."""

    __slots__ = ("ref", "node", "version", "object_no", "fingerprint", "columns")

    def __init__(
        self, ref: weakref.ref, node: int, version: int, object_no: int, fingerprint: str | None
    ) -> None:
        self.ref = ref
        self.node = node
        self.version = version
        self.object_no = object_no
        self.fingerprint = fingerprint
        self.columns: frozenset[str] | None = None  # a Series' source columns (effects.py)


class OpenOp:
    """A recorded call in progress: the token the hooks hand back at its end."""

    __slots__ = (
        "seq", "entry", "name", "meaning", "parent", "inputs", "subject", "start", "site", "thread",
        "params", "file", "handle", "partial", "fp_inputs", "mark", "caller", "in_objs", "made",
        "mutates", "unseeded", "new_slots", "before_index", "lambdas", "derived", "feeds", "seed",
        "filter_columns", "read",
    )  # fmt: skip
    seq: int
    entry: Entry
    name: str
    meaning: Meaning  # what the op does to rows and columns: it picks the facts to measure
    parent: OpenOp | None
    # No argument is held strongly while the call runs: the callee counts the references it
    # sees (pandas' Copy-on-Write checks). The subject, the input objects, a file handle and a
    # constructed object are held weakly (`arguments.hold`) and taken back when the call has
    # returned; what else the end needs was read from the arguments at the start
    # (effects.on_start).
    inputs: list[int]
    subject: Any
    start: int
    site: int
    thread: int
    params: dict[str, str]
    file: str | None
    handle: Any
    partial: bool
    fp_inputs: list[str | None]
    mark: int  # the last node id made before the op started
    caller: Any
    in_objs: Any
    made: Any  # CONSTRUCT: the object being made
    mutates: bool  # the call changes its subject (a new version of it)
    unseeded: bool  # its result is not determined by its inputs: content fingerprints
    new_slots: list[Slot]
    # set by effects.on_start:
    before_index: Any
    lambdas: dict[int, str] | None
    derived: dict[str, set[str]] | None
    feeds: str | None
    seed: frozenset[str] | None
    filter_columns: Any
    read: frozenset[str] | None


class Recorder:
    def __init__(
        self,
        writer: Any,
        *,
        rows_full: bool = False,
        values: bool = False,
        defaults: dict[int, dict[str, Any]] | None = None,
    ) -> None:
        self.writer = writer
        self.defaults = defaults if defaults is not None else {}
        self.rows_full = rows_full
        self.values = values
        self._lock = threading.RLock()
        self._slots: dict[int, Slot] = {}
        self._sweep_at = SWEEP_MIN
        self._seq = 0
        self._nodes = 0
        self._objects = 0
        self._sites: dict[tuple[int, int], tuple[int, types.CodeType, str]] = {}
        self._schemas: dict[tuple, int] = {}
        self._threads: dict[int, int] = {}
        self._strings: dict[str, int] = {}
        self._meanings: dict[Meaning, int] = {}
        self._pending_files: list[tuple[Any, OpenOp, int | None]] = []
        self._t0 = time.perf_counter_ns()
        self.counts = {"ops": 0, "nodes": 0, "files": 0, "errors": 0, "lost": 0, "partial": 0}

    # -- the Sink protocol ------------------------------------------------------------------
    def op_start(
        self,
        entry: Entry,
        frame: types.FrameType | None,
        caller: types.FrameType,
        within: object | None,
        ccall: CCall | None,
    ) -> OpenOp | None:
        """`within`: the token of the recorded call this one is made inside (see Sink)."""
        parent = within if type(within) is OpenOp else None
        if ccall is None:
            args = bound_args(frame)
            partial = False
        else:
            args, partial = c_args(entry, caller, ccall)
        name = entry.op_name(args)
        if name is None:
            return None
        op = OpenOp()
        op.entry, op.name, op.parent, op.partial = entry, name, parent, partial
        op.meaning = means = entry.meaning_of(name)
        op.caller = caller
        op.subject = subject = subject_of(entry, args)
        op.mutates = entry.mutates(args)
        op.unseeded = means.seed is not None and args.get(means.seed) is None
        op.start = time.perf_counter_ns()
        defaults = self.defaults.get(id(frame.f_code)) if frame is not None else None
        with self._lock:
            op.site, source = self._site(caller)
            op.params, data = self._split_args(
                entry, args, subject, defaults, None if self.values else source
            )
            self._seq += 1
            op.seq = self._seq
            op.thread = self._thread()
            op.mark = self._nodes
            op.inputs = []
            op.fp_inputs = []
            op.in_objs = []  # held for the op's duration only (effects read their columns)
            for obj in data:
                slot = self._node_of(obj, parent)
                if slot is not None and slot.node not in op.inputs:
                    op.inputs.append(slot.node)
                    op.fp_inputs.append(slot.fingerprint)
                    op.in_objs.append(obj)
            effects.on_start(op, args, self._columns_of)
        op.caller = None  # the frame is not ours to keep
        op.file = op.handle = None
        if entry.path_params:
            self._find_file(op, args)
        # (held weakly through the call: see OpenOp)
        op.subject = hold(subject)
        op.in_objs = [hold(obj) for obj in op.in_objs]
        op.handle = hold(op.handle)
        op.made = hold(args.get("self")) if entry.role == CONSTRUCT else None
        return op

    def op_end(
        self,
        token: object,
        value: object,
        error: Any,
        *,
        lost: bool = False,
        result_known: bool = True,
        suppressed: int = 0,
    ) -> None:
        op = token
        assert isinstance(op, OpenOp)
        duration = time.perf_counter_ns() - op.start
        subject, op.subject = unhold(op.subject), None
        in_objs, op.in_objs = [unhold(obj) for obj in op.in_objs], None
        op.handle = unhold(op.handle)
        op.new_slots = []
        finished = error is None and not lost
        outputs: list[int] = []
        facts: dict[str, Any] = {}
        if finished:
            try:
                with self._lock:
                    outputs = self._outputs(op, value, subject, result_known)
            except Exception as exc:  # a strange object: keep the op, say what failed
                self.internal_error(f"outputs of {op.name}", exc)
                op.partial = True
            try:
                facts = effects.on_end(
                    op,
                    value,
                    subject,
                    in_objs,
                    op.new_slots,
                    self._columns_of,
                    full=self.rows_full,
                    values=self.values,
                )
            except Exception as exc:
                self.internal_error(f"diff of {op.name}", exc)
        self._how_it_ended(op, facts, error, lost, result_known, suppressed)
        with self._lock:
            self.writer.record(
                rec.op(
                    op.seq,
                    self._string(op.name),
                    self._string(op.entry.qualname),
                    op.parent.seq if op.parent is not None else None,
                    op.inputs,
                    outputs,
                    op.site,
                    op.thread,
                    op.start - self._t0,
                    duration,
                    op.params,
                    facts,
                    self._meaning(op.meaning),
                )
            )
            self.counts["ops"] += 1
            if op.parent is None:
                self._check_pending_files()
            if op.file is not None and finished:
                self._file_done(op, outputs)
            if op.parent is None:
                self.writer.flush()
        op.handle = op.made = None  # no reference to user data outlives the op

    def _how_it_ended(
        self,
        op: OpenOp,
        facts: dict[str, Any],
        error: Any,
        lost: bool,
        result_known: bool,
        suppressed: int,
    ) -> None:
        """The facts every op may have: an error, a lost end, a partial view, repeats, its file."""
        if error is not None:
            facts["error"] = "exception" if error is True else exc_text(error)
        if lost:
            facts["lost"] = True
            self.counts["lost"] += 1
        if not result_known and op.entry.role != WRITE:
            op.partial = True  # a result we could not see (a writer's result is just None)
        if op.partial:
            facts["partial"] = True
            self.counts["partial"] += 1
        if suppressed:
            facts["repeats"] = suppressed
        if op.file is not None:
            facts["file"] = [op.file, op.entry.role]
        if op.mutates:
            facts["inplace"] = True

    def internal_error(self, where: str, exc: BaseException) -> None:
        self.counts["errors"] += 1
        try:
            with self._lock:
                self.writer.record(rec.error(time.time_ns(), where, exc_text(exc)))
        except Exception:
            pass

    def close(self) -> None:
        """End of run: hash files whose handles are still open, write what is buffered."""
        with self._lock:
            self._check_pending_files(final=True)
            self.writer.flush()

    # -- arguments ----------------------------------------------------------------------------
    def _split_args(
        self,
        entry: Entry,
        args: dict[str, Any],
        subject: Any,
        defaults: dict[str, Any] | None,
        source: str | None,
    ) -> tuple[dict[str, str], list[Any]]:
        """Parameters (name -> short repr) and the data objects among the arguments.

        Parameters left at their default value are not shown: they say nothing about this call.
        Values not written in the call's line of code (`source`) are shown by type only (see
        reprs.py); file names are always shown.
        """
        params: dict[str, str] = {}
        data: list[Any] = []
        if subject is not None and d.kind_of(subject) is not None:
            data.append(subject)
        hidden = entry.hide
        objects = entry.objects
        for name, value in args.items():
            if name == "self" or name in hidden:
                continue
            if defaults is not None and name in defaults and is_default(value, defaults[name]):
                continue
            if d.kind_of(value) is not None or (name in objects and objectlike(value)):
                if value is not subject:
                    data.append(value)
                continue
            found = data_in(value)
            if found:
                data.extend(found)
                if len(found) == len(value):  # a plain collection of data objects
                    continue
            if name == "data" and not self.values and isinstance(value, (list, tuple, dict)):
                params[name] = (
                    f"<{type(value).__name__} len={len(value)}>"  # literal data: no values
                )
            elif name in entry.path_params:
                params[name] = safe_repr(value)
            else:
                params[name] = safe_repr(value, source=source)
        return params, data

    def _find_file(self, op: OpenOp, args: dict[str, Any]) -> None:
        for name in op.entry.path_params:
            value = args.get(name)
            if value is None:
                continue
            path = callargs.file_of(value)
            if path is not None:
                op.file = path
                if not isinstance(value, (str, os.PathLike)) and hasattr(value, "closed"):
                    op.handle = value
                return
            if isinstance(value, callargs.Unknown):
                op.partial = True
        if op.entry.c_callable:
            op.partial = True

    # -- nodes ----------------------------------------------------------------------------------
    def _node_of(self, obj: Any, parent: OpenOp | None = None) -> Slot | None:
        """The current node of `obj`. An object never seen before is external, unless it turns
        up inside a recorded call (assign's lambdas get assign's working copy): then that call
        made it."""
        slot = self._slots.get(id(obj))
        if slot is not None and slot.ref() is obj:
            return slot
        kind = d.kind_of(obj) or (d.OBJECT if objectlike(obj) else None)
        if kind is None:
            return None
        if parent is not None:
            fingerprint = fp.derived_fingerprint(
                parent.name, {"#internal": str(self._nodes - parent.mark)}, parent.fp_inputs
            )
            return self._new_node(obj, kind, origin=parent.seq, fingerprint=fingerprint)
        return self._new_node(obj, kind, origin=None, fingerprint=fp.fingerprint(obj))

    def _new_node(
        self,
        obj: Any,
        kind: str,
        origin: int | None,
        fingerprint: str | None,
        previous: Slot | None = None,
    ) -> Slot | None:
        try:
            ref = weakref.ref(obj)
        except TypeError:
            return None
        self._nodes += 1
        node = self._nodes
        if previous is not None:
            version, object_no = previous.version + 1, previous.object_no
        else:
            self._objects += 1
            version, object_no = 1, self._objects
        slot = Slot(ref, node, version, object_no, fingerprint)
        self._slots[id(obj)] = slot
        if len(self._slots) >= self._sweep_at:
            self._sweep()
        try:
            shape, columns, dtypes = d.describe(obj, kind)
        except Exception as exc:
            self.internal_error(f"describe {d.type_name(obj)}", exc)
            shape = columns = dtypes = None
        schema = (
            self._schema(columns, dtypes) if (columns is not None or dtypes is not None) else None
        )
        self.writer.record(
            rec.node(
                node,
                kind,
                self._string(d.type_name(obj)),
                shape,
                schema,
                raw(fingerprint),
                version,
                origin,
                object_no,
            )
        )
        self.counts["nodes"] += 1
        return slot

    def node_of_object(self, obj: Any) -> int | None:
        """The current node number of a live object, if the tracer has seen it (never makes one)."""
        slot = self._slots.get(id(obj))
        if slot is not None and slot.ref() is obj:
            return slot.node
        return None

    def _columns_of(self, obj: Any) -> frozenset[str] | None:
        """The source columns recorded for a live object (a Series taken from a frame...)."""
        slot = self._slots.get(id(obj))
        if slot is not None and slot.ref() is obj and slot.columns is not None:
            return slot.columns
        if d.kind_of(obj) == d.DATAFRAME:
            return frozenset(map(str, obj.columns))  # a row-wise function of a frame reads it all
        return None

    def _sweep(self) -> None:
        """Forget the slots of objects that have died (the lock is held).

        Slots are not evicted one by one from weakref callbacks: a callback per object costs
        more than the whole table check, which runs when the table has doubled since the last
        one (amortised O(1) per node). A dead slot is harmless meanwhile: every lookup checks
        that the slot's referent is the very object asked about, since ids are reused.
        """
        self._slots = {k: s for k, s in self._slots.items() if s.ref() is not None}
        self._sweep_at = max(SWEEP_MIN, 2 * len(self._slots))

    def _outputs(self, op: OpenOp, value: Any, subject: Any, result_known: bool) -> list[int]:
        entry = op.entry
        outputs: list[int] = []
        material = {k: v for k, v in op.params.items() if k not in entry.path_params}
        derived = fp.derived_fingerprint(op.name, material, op.fp_inputs)
        if entry.role == CONSTRUCT:
            target = unhold(op.made)
            kind = d.kind_of(target)
            if kind is not None:
                slot = self._new_node(target, kind, op.seq, derived)
                if slot is not None:
                    outputs.append(slot.node)
                    op.new_slots.append(slot)
            return outputs
        if op.mutates and subject is not None:
            previous = self._slots.get(id(subject))
            if previous is not None and previous.ref() is subject:
                kind = d.kind_of(subject) or d.OBJECT
                slot = self._new_node(subject, kind, op.seq, derived, previous)
                if slot is not None:
                    outputs.append(slot.node)
                    slot.columns = previous.columns
                    if entry.role == FIT:
                        op.new_slots.append(slot)  # a model learns its columns from its X
            if entry.role == FIT or value is subject:
                return outputs
        if not result_known:
            return outputs
        if d.kind_of(value) is not None or (entry.objects and objectlike(value)):
            results = [value]
        else:
            results = data_in(value)
        for obj in results:
            slot = self._slots.get(id(obj))
            previous = None
            if slot is not None and slot.ref() is obj:
                if slot.node <= op.mark:
                    if slot.node not in outputs and slot.node not in op.inputs:
                        outputs.append(slot.node)  # a known object handed back (a cached one)
                    continue
                previous = slot  # made inside this call and seen by a nested one: finished now
            kind = d.kind_of(obj) or (d.OBJECT if entry.objects else None)
            if kind is None:
                continue
            if entry.role == READ or op.unseeded:
                own = fp.fingerprint(obj)
                fingerprint = fp.derived_fingerprint(op.name, material, [self._file_hash(op), own])
            else:
                fingerprint = (
                    derived
                    if len(outputs) == 0
                    else fp.derived_fingerprint(
                        op.name, {**material, "#output": str(len(outputs))}, op.fp_inputs
                    )
                )
            slot = self._new_node(obj, kind, op.seq, fingerprint, previous)
            if slot is not None:
                outputs.append(slot.node)
                op.new_slots.append(slot)
        return outputs

    # -- files ----------------------------------------------------------------------------------
    def _file_hash(self, op: OpenOp) -> str | None:
        if op.file is None:
            return None
        facts = file_facts(op.file)
        return facts.hash if facts is not None else None

    def _file_done(self, op: OpenOp, outputs: list[int]) -> None:
        role = op.entry.role
        if role == READ:
            node = outputs[0] if outputs else None
        else:
            node = op.inputs[0] if op.inputs else None
        if role == WRITE and op.entry.c_callable and op.handle is None:
            # `pickle.dump(m, open(p, "wb"))`: the file closes when the call's temporary dies,
            # after this event; hash it at the next check.
            self._pending_files.append((None, op, node))
            return
        if role == WRITE and op.handle is not None and not getattr(op.handle, "closed", True):
            # Still open (`with open(p, "wb") as f: pickle.dump(m, f)`): hash once it is closed.
            self._pending_files.append((hold(op.handle), op, node))
            return
        self._write_file(op, node)

    def _write_file(self, op: OpenOp, node: int | None) -> None:
        path = op.file
        assert path is not None
        facts = file_facts(path)
        fmt = op.entry.file_format or (facts.format if facts is not None else None)
        if facts is None:
            record = rec.file(op.seq, path, op.entry.role, fmt, None, None, node, None)
        else:
            record = rec.file(
                op.seq,
                path,
                op.entry.role,
                fmt or facts.format,
                facts.size,
                facts.hash,
                node,
                facts.mtime_ns,
            )
        self.writer.record(record)
        self.counts["files"] += 1

    def _check_pending_files(self, final: bool = False) -> None:
        if not self._pending_files:
            return
        keep = []
        for ref, op, node in self._pending_files:
            handle = unhold(ref)
            if final or handle is None or getattr(handle, "closed", True):
                if handle is not None and not getattr(handle, "closed", True):
                    flush_quietly(handle)
                self._write_file(op, node)
            else:
                keep.append((ref, op, node))
        self._pending_files = keep

    # -- interning --------------------------------------------------------------------------
    def _site(self, caller: types.FrameType) -> tuple[int, str]:
        """(call site id, its line of code); a CALLSITE record the first time."""
        code = caller.f_code
        key = (id(code), site_offset(caller))
        hit = self._sites.get(key)
        if hit is not None:
            return hit[0], hit[2]
        site = len(self._sites) + 1
        line = caller.f_lineno or code.co_firstlineno
        source = linecache.getline(code.co_filename, line).strip()
        self._sites[key] = (site, code, source)
        if len(source) > 200:
            source = source[:199] + "…"
        function = getattr(code, "co_qualname", code.co_name)
        self.writer.record(
            rec.callsite(site, self._string(code.co_filename), line, self._string(function), source)
        )
        return site, self._sites[key][2]

    def _schema(self, columns: list[str] | None, dtypes: list[str] | None) -> int:
        key = (tuple(columns) if columns is not None else None, tuple(dtypes) if dtypes else None)
        schema = self._schemas.get(key)
        if schema is None:
            schema = self._schemas[key] = len(self._schemas) + 1
            self.writer.record(rec.schema(schema, columns, dtypes))
        return schema

    def _string(self, text: str) -> int:
        """The id of an interned string; a STRING record the first time (the lock is held)."""
        sid = self._strings.get(text)
        if sid is None:
            sid = self._strings[text] = len(self._strings) + 1
            self.writer.record(rec.string(sid, text))
        return sid

    def _meaning(self, meaning: Meaning) -> int:
        """The id of an op meaning; a MEANING record the first time (the lock is held)."""
        mid = self._meanings.get(meaning)
        if mid is None:
            mid = self._meanings[meaning] = len(self._meanings) + 1
            self.writer.record(rec.meaning(mid, meaning.to_record()))
        return mid

    def _thread(self) -> int:
        ident = threading.get_ident()
        number = self._threads.get(ident)
        if number is None:
            number = self._threads[ident] = len(self._threads)
            self.writer.record(rec.thread(number, threading.current_thread().name))
        return number
