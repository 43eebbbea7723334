"""The log on disk: LogWriter and LogReader agree, and the reader survives any file.

The reader's promises are tested at their edges: a log cut at every byte offset reads as
exactly the records before the cut; random bytes, bit flips and absurd length prefixes never
raise past the constructor, never hang and never allocate without bound; a killed writer
leaves a readable prefix. The sample under tests/data/ must read the same forever.
"""

from __future__ import annotations

import contextlib
import errno
import os
import runpy
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import types
from pathlib import Path

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracer.events import format
from tracer.events import reader as reader_module
from tracer.events import writer as writer_module
from tracer.events.format import FIELDS, PREAMBLE, PREAMBLE_SIZE, Kind
from tracer.events.reader import Damage, LogReader, read_all
from tracer.events.writer import LogWriter, RecordError
from tracer.exceptions import LogFormatError

REPO = Path(__file__).resolve().parents[2]
SAMPLE_1_0 = REPO / "tests" / "data" / "format-1.0.tlog"
SAMPLE_1_1 = REPO / "tests" / "data" / "format-1.1.tlog"
SAMPLE_1_2 = REPO / "tests" / "data" / "format-1.2.tlog"

HEADER_META = {"tracer": "test", "argv": ["x.py"], "start_ns": 1}

# One complete record of every kind, fields in format order.
ONE_OF_EACH: dict[Kind, list] = {
    Kind.HEADER: format.header(HEADER_META),
    Kind.CALLSITE: format.callsite(1, "x.py", 3, "<module>", "df = pd.read_csv('a.csv')"),
    Kind.SCHEMA: format.schema(2, ["a", "b"], ["int64", "object"]),
    Kind.NODE: format.node(3, "frame", "pandas.DataFrame", [10, 2], 2, b"\x01\x02", 1, 7, 1),
    Kind.OP: format.op(
        7,
        "read_csv",
        "pandas.read_csv",
        None,
        [],
        [3],
        1,
        0,
        123,
        456,
        {"sep": "','"},
        {"rows": 10},
        1,
    ),
    Kind.FILE: format.file(7, "a.csv", "r", "csv", 100, "xxh3:ab", 3, 99),
    Kind.ERROR: format.error(5, "fingerprint", "boom ünïcode"),
    Kind.TRAILER: format.trailer({"status": "ok", "exit_code": 0, "counts": {"ops": 1}}),
    Kind.FINGERPRINT: format.fingerprint(3, b"\xff" * 16),
    Kind.THREAD: format.thread(1, "worker-1"),
    Kind.STRING: format.string(4, "pandas.core.frame.DataFrame.dropna"),
    Kind.MEANING: format.meaning(1, {"family": "read"}),
}


def as_read(rec: list) -> tuple[Kind, dict]:
    """What the reader yields for a complete record."""
    kind = Kind(rec[0])
    return kind, dict(zip(FIELDS[kind], rec[1:], strict=True))


def op(seq: int, note: str = "") -> list:
    return format.op(
        seq, "op", "m.f", None, [seq], [seq + 1], None, 0, seq, 1, {"n": note}, {}, None
    )


def pack(rec: list) -> bytes:
    return msgpack.packb(rec, use_bin_type=True)


def write_log(path: Path, records: list[list], *, flush_every: int = 0) -> None:
    with LogWriter(path) as w:
        w.record([Kind.HEADER, HEADER_META])
        for i, rec in enumerate(records, 1):
            w.record(rec)
            if flush_every and i % flush_every == 0:
                w.flush()


def read(path: Path) -> tuple[list[tuple[Kind, dict]], LogReader]:
    _, records, reader = read_all(path)
    return records, reader


# -- round trips -------------------------------------------------------------------------------


def test_every_kind_round_trips(tmp_path):
    # GIVEN one record of every kind, written in one flush
    log = tmp_path / "run.tlog"
    body = [rec for kind, rec in ONE_OF_EACH.items() if kind not in (Kind.HEADER, Kind.TRAILER)]
    write_log(log, [*body, ONE_OF_EACH[Kind.TRAILER]])
    # WHEN it is read back
    header, records, reader = read_all(log)
    # THEN every field comes back as written, and the log is complete
    assert set(ONE_OF_EACH) == set(Kind), "add the new kind to ONE_OF_EACH"
    assert header == HEADER_META
    assert reader.version == format.FORMAT_VERSION
    assert records == [as_read(r) for r in [*body, ONE_OF_EACH[Kind.TRAILER]]]
    assert all(type(kind) is Kind for kind, _ in records)
    assert reader.damage is None
    assert reader.finished
    assert reader.trailer == ONE_OF_EACH[Kind.TRAILER][1]


def test_many_records_across_many_flushes(tmp_path):
    log = tmp_path / "run.tlog"
    w = LogWriter(log)
    w.record([Kind.HEADER, HEADER_META])
    for seq in range(5000):
        w.record(op(seq, "x" * (seq % 40)))
        if seq % 7 == 0:
            w.flush()
    w.close()
    assert w.bytes_written == log.stat().st_size
    records, reader = read(log)
    assert [rec["seq"] for _, rec in records] == list(range(5000))
    assert records[123] == as_read(op(123, "x" * (123 % 40)))
    assert reader.damage is None and not reader.finished


def test_large_buffer_is_written_in_chunks_without_waiting_for_flush(tmp_path):
    # The recorder flushes per outermost op; an op with a great many nested records must not
    # hold them all in memory.
    log = tmp_path / "run.tlog"
    w = LogWriter(log)
    w.record([Kind.HEADER, HEADER_META])
    big = "y" * 1000
    for seq in range(3 * writer_module.AUTOFLUSH_BYTES // 1000):
        w.record(op(seq, big))
    assert log.stat().st_size > writer_module.AUTOFLUSH_BYTES
    w.close()
    records, reader = read(log)
    assert len(records) == 3 * writer_module.AUTOFLUSH_BYTES // 1000 and reader.damage is None


def test_reader_sees_flushed_records_while_the_writer_is_open(tmp_path):
    # GIVEN a writer still running, with 3 records flushed and 1 buffered
    log = tmp_path / "live.tlog"
    w = LogWriter(log)
    w.record([Kind.HEADER, HEADER_META])
    for seq in range(3):
        w.record(op(seq))
    w.flush()
    w.record(op(3))
    # WHEN a reader opens it
    reader = LogReader(log)
    # THEN it sees exactly the flushed records, no damage, and no end
    assert [r["seq"] for _, r in reader.records()] == [0, 1, 2]
    assert reader.damage is None and not reader.finished
    # AND calling records() again picks up what was flushed since (how --follow works)
    w.record(op(4))
    w.flush()
    assert [r["seq"] for _, r in reader.records()] == [3, 4]
    assert list(reader.records()) == []
    w.record(ONE_OF_EACH[Kind.TRAILER])
    w.close()
    assert [k for k, _ in reader.records()] == [Kind.TRAILER]
    assert reader.finished
    reader.close()


def test_a_torn_tail_completes_on_the_next_read(tmp_path):
    log = tmp_path / "live.tlog"
    write_log(log, [op(0)])
    tail = pack(op(1))
    with open(log, "ab") as f:
        f.write(tail[:5])
    reader = LogReader(log)
    assert [r["seq"] for _, r in reader.records()] == [0]
    size_before_tail = log.stat().st_size - 5
    assert reader.damage == Damage(
        "truncated",
        size_before_tail,
        f"the log ends inside a record at byte {size_before_tail} (the run did not finish)",
    )
    with open(log, "ab") as f:
        f.write(tail[5:])
    assert [r["seq"] for _, r in reader.records()] == [1]
    assert reader.damage is None
    reader.close()


def test_a_caller_that_stops_early_resumes_where_it_stopped(tmp_path):
    log = tmp_path / "run.tlog"
    write_log(log, [op(seq) for seq in range(10)])
    with LogReader(log) as reader:
        for _, rec in reader.records():
            if rec["seq"] == 3:
                break
        assert [r["seq"] for _, r in reader.records()] == [4, 5, 6, 7, 8, 9]


# -- truncation --------------------------------------------------------------------------------


def test_truncation_at_every_byte_offset(tmp_path):
    # GIVEN a small complete log of ~40 records and the offsets where its records end
    body = [op(seq, "é" * (seq % 5)) for seq in range(20)]
    body += [rec for kind, rec in ONE_OF_EACH.items() if kind not in (Kind.HEADER, Kind.TRAILER)]
    body += [op(seq) for seq in range(20, 30)] + [ONE_OF_EACH[Kind.TRAILER]]
    full = tmp_path / "full.tlog"
    write_log(full, body)
    data = full.read_bytes()
    header_end = PREAMBLE_SIZE + len(pack([Kind.HEADER, HEADER_META]))
    ends = [header_end]
    for rec in body:
        ends.append(ends[-1] + len(pack(rec)))
    assert ends[-1] == len(data)
    expected = [as_read(rec) for rec in body]
    cut_log = tmp_path / "cut.tlog"
    for cut in range(len(data) + 1):
        cut_log.write_bytes(data[:cut])
        # WHEN the log is cut at this offset and read
        if cut < header_end:
            # THEN before the header is complete, the file is refused
            with pytest.raises(LogFormatError):
                LogReader(cut_log)
            continue
        records, reader = read(cut_log)
        # THEN exactly the records that end before the cut come back
        complete = sum(1 for end in ends[1:] if end <= cut)
        assert records == expected[:complete], cut
        if cut in ends:
            assert reader.damage is None, cut
        else:
            assert reader.damage is not None and reader.damage.kind == "truncated", cut
            assert reader.damage.offset == ends[complete], cut
        assert reader.finished == (cut == len(data)), cut


# -- files that are refused --------------------------------------------------------------------


def refusal(path: Path | str) -> str:
    with pytest.raises(LogFormatError) as info:
        LogReader(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_file(tmp_path):
    path = tmp_path / "nope.tlog"
    assert refusal(path) == f"no such log: {path}"


def test_directory(tmp_path):
    assert refusal(tmp_path) == f"{tmp_path} is a directory, not a tracer log"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.tlog"
    path.write_bytes(b"")
    assert refusal(path) == f"{path} is empty: not a tracer log"


@pytest.mark.parametrize(
    "data",
    [b"a,b,c\n1,2,3\n", b"\x93TRACEX\n\x01\x00", b"\x00" * 100, pack([0, {}])],
    ids=["csv", "one-byte-off", "zeros", "msgpack-without-preamble"],
)
def test_not_a_tracer_log(tmp_path, data):
    path = tmp_path / "other.tlog"
    path.write_bytes(data)
    assert refusal(path) == f"{path} is not a tracer log"


def test_unreadable_file_via_mock(tmp_path, monkeypatch):
    # We run as root, who can read a chmod 000 file: fake the refusal of open() instead.
    path = tmp_path / "secret.tlog"
    write_log(path, [])

    def deny(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(reader_module, "open", deny, raising=False)
    assert refusal(path) == f"cannot read {path}: permission denied"


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads a chmod 000 file anyway"
)
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.tlog"
    write_log(path, [])
    path.chmod(0)
    try:
        assert refusal(path) == f"cannot read {path}: permission denied"
    finally:
        path.chmod(0o600)


@pytest.mark.parametrize(
    ("major", "minor", "age"), [(2, 0, "newer"), (7, 3, "newer"), (0, 9, "older")]
)
def test_another_major_version_is_refused(tmp_path, major, minor, age):
    path = tmp_path / "other-version.tlog"
    path.write_bytes(format.MAGIC + bytes([major, minor]) + pack([Kind.HEADER, {}]))
    article = "a" if age == "newer" else "an"
    assert refusal(path) == (
        f"{path} was written by {article} {age} tracer "
        f"(log format {major}.{minor}; this tracer reads 1.x)"
    )


@pytest.mark.parametrize(
    ("after_preamble", "says"),
    [
        (b"", "ends before its header is complete"),
        (pack([Kind.HEADER, {"a": 1}])[:-1], "ends before its header is complete"),
        (pack(op(1)), "does not start with a header"),
        (pack([Kind.HEADER, "not a map"]), "does not start with a header"),
        (pack([Kind.HEADER]), "does not start with a header"),
        (pack(5), "does not start with a header"),
        (b"\xc1", "its first record is not valid"),
    ],
    ids=["preamble-only", "torn-header", "op-first", "meta-not-map", "no-meta", "int", "0xc1"],
)
def test_a_log_must_start_with_a_header(tmp_path, after_preamble, says):
    path = tmp_path / "headless.tlog"
    path.write_bytes(PREAMBLE + after_preamble)
    assert says in refusal(path)


def test_a_cut_inside_the_preamble(tmp_path):
    path = tmp_path / "cut.tlog"
    path.write_bytes(PREAMBLE[:9])
    assert refusal(path) == f"{path} ends inside its preamble (the run stopped as it started)"


# -- what a newer minor version may add --------------------------------------------------------


def test_newer_minor_version_with_unknown_kinds_and_extra_fields_reads(tmp_path):
    # GIVEN a 1.(minor+1) log with a kind this tracer does not know and an OP with two more
    # fields than it knows, and a THREAD record missing its last field
    path = tmp_path / "newer-minor.tlog"
    data = format.MAGIC + bytes([format.FORMAT_MAJOR, format.FORMAT_MINOR + 1])
    data += pack([Kind.HEADER, {"new": True}, "extra header field"])
    data += pack([42, "a kind from the future", [1, 2]])
    data += pack([*op(1), "new field", {"x": 1}])
    data += pack([Kind.THREAD, 3])
    data += pack([-1]) + pack([2**40, 1])
    data += pack([Kind.TRAILER, {"status": "ok"}, 99])
    path.write_bytes(data)
    # WHEN it is read
    header, records, reader = read_all(path)
    # THEN the unknown kinds are skipped, extra fields dropped and missing ones are None
    assert reader.version == (format.FORMAT_MAJOR, format.FORMAT_MINOR + 1)
    assert header == {"new": True}
    assert records == [
        as_read(op(1)),
        (Kind.THREAD, {"id": 3, "name": None}),
        (Kind.TRAILER, {"meta": {"status": "ok"}}),
    ]
    assert reader.damage is None and reader.finished


# -- corruption --------------------------------------------------------------------------------


def log_bytes(records: list[list]) -> bytes:
    return PREAMBLE + pack([Kind.HEADER, HEADER_META]) + b"".join(pack(r) for r in records)


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (b"\xc1", "invalid msgpack"),  # the one byte msgpack never uses
        (b"\x94\x04\x01\xc1\x02", "invalid msgpack"),  # ... inside a record
        (pack(7), "a int, not a list"),  # a bare int
        (pack("OP"), "a str, not a list"),
        (pack({"kind": 4}), "a dict, not a list"),
        (pack([]), "an empty list"),
        (pack(["OP", 1]), "its kind is a str, not an int"),
        (pack([True, 1]), "its kind is a bool, not an int"),
        (pack([1.0, 1]), "its kind is a float, not an int"),
        (pack([Kind.TRAILER, [1]]), "its TRAILER holds no map"),
        (b"\x81\x91\x01\x01", "TypeError"),  # a map whose key is a list: unhashable
        (b"\x91" * 2000, "nested too deeply"),
        (b"\xdd\xff\xff\xff\xff", "exceeds max_array_len"),
        (b"\xdf\xff\xff\xff\xff", "exceeds max_map_len"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_corruption_in_the_middle_stops_reading_there(tmp_path, bad, why):
    # GIVEN 5 good records, bad bytes, then 5 more good records
    before = [op(seq) for seq in range(5)]
    path = tmp_path / "corrupt.tlog"
    path.write_bytes(log_bytes(before) + bad + b"".join(pack(op(seq)) for seq in range(5, 10)))
    # WHEN it is read
    records, reader = read(path)
    # THEN the records before the bad bytes come back, and damage points at them
    offset = len(log_bytes(before))
    assert records == [as_read(r) for r in before]
    assert reader.damage is not None
    assert reader.damage.kind == "corrupt"
    assert reader.damage.offset == offset
    assert reader.damage.detail.startswith(f"the bytes at {offset} are not a record: ")
    assert why in reader.damage.detail
    assert not reader.finished
    # AND reading again does not go past the corruption
    with LogReader(path) as again:
        assert len(list(again.records())) == 5
        assert list(again.records()) == []
        assert again.damage == reader.damage


def test_a_record_longer_than_the_limit_is_corruption_not_a_huge_allocation(tmp_path):
    # GIVEN a str32 that claims 4 GB, followed by more bytes than the reader will buffer
    path = tmp_path / "huge.tlog"
    head = log_bytes([op(0)])
    path.write_bytes(head + b"\x92\x04\xdb\xff\xff\xff\xff")
    os.truncate(path, len(head) + format.MAX_RECORD_SIZE + (1 << 20))  # sparse zeros
    # WHEN it is read
    tracemalloc.start()
    try:
        records, reader = read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # THEN it stops at that record, having buffered no more than the limit
    assert records == [as_read(op(0))]
    assert reader.damage is not None and reader.damage.kind == "corrupt"
    assert reader.damage.offset == len(head)
    assert "larger than 64 MiB" in reader.damage.detail
    assert peak < 2 * format.MAX_RECORD_SIZE


def test_deeply_nested_huge_list_prefixes_use_bounded_memory(tmp_path):
    # Each 5-byte array32 header below the length limit makes msgpack allocate its list at
    # once: 1000 of them nested claim 32 GB. Only untouched (calloc'ed) pages: RSS stays small.
    path = tmp_path / "nested.tlog"
    nested = (b"\xdd" + format.MAX_CONTAINER_LEN.to_bytes(4, "big")) * 1000
    path.write_bytes(log_bytes([]) + nested)
    script = textwrap.dedent(
        f"""
        import resource, sys
        from tracer.events.reader import read_all
        _, records, reader = read_all({str(path)!r})
        assert records == [] and reader.damage.kind == "truncated", reader.damage
        try:  # this process's own peak (ru_maxrss keeps the forking parent's across exec)
            status = open("/proc/self/status").read()
            print(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmHWM:")))
        except OSError:
            print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) < 400 * 1024  # KiB: far below the 32 GB claimed


# -- fuzzing -----------------------------------------------------------------------------------


@contextlib.contextmanager
def no_hang(seconds: float = 5.0):
    """Fail instead of hanging: the reader must always reach the end of what it was given."""

    def alarm(signum, frame):
        raise TimeoutError(f"reading took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def read_anything(path: Path) -> tuple[list, LogReader | None]:
    """Read any file the way a user's command would: only LogFormatError may escape, and only
    from the constructor."""
    with no_hang():
        try:
            reader = LogReader(path)
        except LogFormatError as exc:
            assert "\n" not in str(exc)
            return [], None
        with reader:
            records = list(reader.records())
    size = path.stat().st_size
    for kind, rec in records:
        assert type(kind) is Kind and set(rec) == set(FIELDS[kind])
    if reader.damage is not None:
        assert reader.damage.kind in ("truncated", "corrupt")
        assert PREAMBLE_SIZE <= reader.damage.offset <= size
        assert "\n" not in reader.damage.detail
    return records, reader


FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values a recorder may put in a record: what msgpack stores natively.
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
known_kinds = st.sampled_from([k for k in Kind if k not in (Kind.HEADER, Kind.TRAILER)])
records = st.builds(
    lambda kind, fields: [kind, *fields],
    known_kinds,
    st.lists(values, max_size=14),
)


@FUZZ
@given(tail=st.binary(max_size=300))
def test_fuzz_random_bytes_after_a_valid_header(tmp_path, tail):
    path = tmp_path / "fuzz.tlog"
    path.write_bytes(log_bytes([]) + tail)
    read_anything(path)


@FUZZ
@given(data=st.binary(max_size=40))
def test_fuzz_random_bytes_after_a_valid_preamble(tmp_path, data):
    path = tmp_path / "fuzz.tlog"
    path.write_bytes(PREAMBLE + data)
    read_anything(path)


@settings(FUZZ, max_examples=60)  # generating nested values is the slow part
@given(
    body=st.lists(records, max_size=12), cut=st.integers(min_value=0), flush_every=st.integers(0, 4)
)
def test_fuzz_any_records_round_trip_and_any_cut_reads_a_prefix(tmp_path, body, cut, flush_every):
    # GIVEN records of any msgpack values, written with flushes here and there
    path = tmp_path / "fuzz.tlog"
    write_log(path, body, flush_every=flush_every)
    data = path.read_bytes()
    expected = [as_read_padded(rec) for rec in body]
    # THEN they read back as written
    got, reader = read_anything(path)
    assert got == expected and reader is not None and reader.damage is None
    # AND cut anywhere after the header, the log reads as a prefix of them
    header_end = len(log_bytes([]))
    cut = header_end + cut % (len(data) - header_end + 1)
    path.write_bytes(data[:cut])
    got, reader = read_anything(path)
    assert reader is not None
    assert got == expected[: len(got)]
    assert (reader.damage is None) == (
        cut == header_end + sum(len(pack(r)) for r in body[: len(got)])
    )


def as_read_padded(rec: list) -> tuple[Kind, dict]:
    kind = Kind(rec[0])
    names = FIELDS[kind]
    fields = (list(rec[1:]) + [None] * len(names))[: len(names)]  # pad, then drop extras
    return kind, dict(zip(names, fields, strict=True))


SAMPLE_BYTES = SAMPLE_1_0.read_bytes()


@FUZZ
@given(
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 7)), min_size=1, max_size=4)
)
def test_fuzz_bit_flips_never_raise_and_keep_the_records_before_them(tmp_path, flips):
    data = bytearray(SAMPLE_BYTES)
    positions = []
    for where, bit in flips:
        where %= len(data)
        data[where] ^= 1 << bit
        positions.append(where)
    path = tmp_path / "flipped.tlog"
    path.write_bytes(bytes(data))
    got, reader = read_anything(path)
    if reader is None:
        return
    # Every record that ends before the first flipped byte reads exactly as in the sample.
    _, original, _ = read_all(SAMPLE_1_0)
    first = min(positions)
    offset = len(PREAMBLE) + len(pack([Kind.HEADER, reader.header]))
    intact = 0
    for kind, rec in original:
        offset += len(pack([int(kind), *rec.values()]))
        if offset > first:
            break
        intact += 1
    assert got[:intact] == original[:intact]


# msgpack headers that announce a length, with the number of length bytes that follow.
LENGTH_PREFIXES = {
    b"\xd9": 1, b"\xda": 2, b"\xdb": 4,  # str8/16/32
    b"\xc4": 1, b"\xc5": 2, b"\xc6": 4,  # bin8/16/32
    b"\xdc": 2, b"\xdd": 4,  # array16/32
    b"\xde": 2, b"\xdf": 4,  # map16/32
    b"\xc7": 1, b"\xc8": 2, b"\xc9": 4,  # ext8/16/32 (+ a type byte)
}  # fmt: skip


@FUZZ
@given(
    prefix=st.sampled_from(sorted(LENGTH_PREFIXES)),
    claimed=st.integers(min_value=0, max_value=2**32 - 1),
    where=st.sampled_from(["record", "field", "nested"]),
    tail=st.binary(max_size=64),
)
def test_fuzz_huge_length_prefixes_never_allocate_what_they_claim(
    tmp_path, prefix, claimed, where, tail
):
    width = LENGTH_PREFIXES[prefix]
    claimed %= 1 << (8 * width)
    item = (
        prefix
        + claimed.to_bytes(width, "big")
        + (b"\x01" if prefix in (b"\xc7", b"\xc8", b"\xc9") else b"")
    )
    container = {
        "record": item,
        "field": b"\x93\x04\x01" + item,
        "nested": b"\x92\x04\x91\x91" + item,
    }[where]
    path = tmp_path / "huge.tlog"
    path.write_bytes(log_bytes([op(0)]) + container + tail)
    tracemalloc.start()
    try:
        got, reader = read_anything(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got[:1] == [as_read(op(0))]
    # A list of up to MAX_CONTAINER_LEN items is allocated before its items arrive (8 bytes
    # per slot); nothing else may grow with the claimed length.
    assert peak < 8 * format.MAX_CONTAINER_LEN + (4 << 20)


# -- the writer --------------------------------------------------------------------------------


def test_log_is_private_and_new_directories_too(tmp_path):
    log = tmp_path / "new" / "deeper" / "run.tlog"
    old_umask = os.umask(0o022)
    try:
        with LogWriter(log) as w:
            w.record([Kind.HEADER, HEADER_META])
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new" / "deeper").stat().st_mode) == 0o700


def test_an_existing_file_is_truncated_and_made_private(tmp_path):
    log = tmp_path / "old.tlog"
    log.write_bytes(b"x" * 1000)
    log.chmod(0o644)
    with LogWriter(log) as w:
        assert log.read_bytes() == PREAMBLE  # the preamble is written at once
        assert w.bytes_written == PREAMBLE_SIZE
        w.record([Kind.HEADER, HEADER_META])
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert log.read_bytes() == log_bytes([])


def test_writer_api(tmp_path):
    log = tmp_path / "run.tlog"
    w = LogWriter(log)
    assert w.path == str(log) and not w.closed
    w.record([Kind.HEADER, HEADER_META])
    assert log.stat().st_size == PREAMBLE_SIZE  # nothing before flush()
    w.flush()
    assert log.stat().st_size == w.bytes_written == len(log_bytes([]))
    w.close()
    w.close()  # idempotent
    assert w.closed
    w.record(op(1))  # ignored after close: a late thread at exit must not fail
    w.flush()
    assert log.read_bytes() == log_bytes([])


@pytest.mark.parametrize(
    ("rec", "says"),
    [
        ([Kind.OP, 1, object()], "cannot write OP record: can not serialize 'object' object"),
        ([Kind.FILE, 1, 2**64], "cannot write FILE record: Integer value out of range"),
        ([99, set()], "cannot write record of kind 99:"),
        ((Kind.OP, 1), "cannot write a tuple: a record is a list [kind, ...]"),
        ([], "cannot write a list: a record is a list [kind, ...]"),
        (["OP", 1], "cannot write record of kind 'OP': a record is a list [kind, ...]"),
        ([True, 1], "cannot write record of kind True: a record is a list [kind, ...]"),
    ],
)
def test_unwritable_records_raise_a_type_error_and_leave_the_log_clean(tmp_path, rec, says):
    log = tmp_path / "run.tlog"
    with LogWriter(log) as w:
        w.record([Kind.HEADER, HEADER_META])
        with pytest.raises(RecordError) as info:
            w.record(rec)
        assert isinstance(info.value, TypeError)
        assert str(info.value).startswith(says)
        w.record(op(1))
    records, reader = read(log)
    assert records == [as_read(op(1))] and reader.damage is None


class ShortWritesOs(types.SimpleNamespace):
    """The os module, but os.write writes at most 7 bytes at a time."""

    def __init__(self):
        super().__init__(**vars(os))
        self.calls = 0
        self.write = self._write

    def _write(self, fd, data):
        self.calls += 1
        return os.write(fd, bytes(data[:7]))


def test_short_writes_are_completed(tmp_path, monkeypatch):
    fake = ShortWritesOs()
    monkeypatch.setattr(writer_module, "os", fake)
    log = tmp_path / "run.tlog"
    write_log(log, [op(seq) for seq in range(20)])
    assert fake.calls > 20
    records, reader = read(log)
    assert [r["seq"] for _, r in records] == list(range(20)) and reader.damage is None


def failing_once(code: int, reached: int = 3) -> types.SimpleNamespace:
    """An `os` whose next write puts `reached` bytes in the file and fails with `code`."""
    fake = types.SimpleNamespace(**vars(os))

    def fail(fd, data):
        fake.write = os.write
        os.write(fd, bytes(data[:reached]))  # part of a record reached the disk
        raise (OSError(code, os.strerror(code)) if code else KeyboardInterrupt())

    fake.write = fail
    return fake


def test_a_failed_write_stops_the_log_with_a_trailer_saying_why(tmp_path, monkeypatch):
    log = tmp_path / "run.tlog"
    w = LogWriter(log)
    w.record([Kind.HEADER, HEADER_META])
    w.flush()
    monkeypatch.setattr(writer_module, "os", failing_once(errno.ENOSPC))
    w.record(op(1))
    w.flush()  # never raises
    monkeypatch.undo()
    w.record(op(2))
    w.flush()
    w.close()
    # THEN the torn bytes were cut off, nothing was written after the fault but a trailer
    # saying why, and the writer knows from which op the log is incomplete
    assert w.broken == writer_module.Broken("the disk was full", 1)
    assert w.broken.message("x.tlog") == (
        "the log is incomplete from op 1 on: the disk was full (x.tlog)"
    )
    records, reader = read(log)
    assert [k for k, _ in records] == [Kind.TRAILER] and reader.damage is None
    assert reader.trailer["status"] == "incomplete"
    assert reader.trailer["log_error"] == "the disk was full"


def test_a_write_that_fails_again_leaves_the_last_whole_flush(tmp_path, monkeypatch):
    log = tmp_path / "run.tlog"
    w = LogWriter(log)
    w.record([Kind.HEADER, HEADER_META])
    w.record(op(1))
    w.flush()
    fake = types.SimpleNamespace(**vars(os))

    def full(fd, data):
        os.write(fd, bytes(data[:3]))
        raise OSError(errno.EIO, "Input/output error")

    fake.write = full
    monkeypatch.setattr(writer_module, "os", fake)
    w.record(op(2))
    w.flush()
    w.close()
    monkeypatch.undo()
    records, reader = read(log)
    assert [r["seq"] for _, r in records] == [1] and reader.damage is None
    assert w.broken == writer_module.Broken("an I/O error", 2)


def test_an_interrupted_write_is_cut_back_and_retried(tmp_path, monkeypatch):
    log = tmp_path / "run.tlog"
    w = LogWriter(log)
    w.record([Kind.HEADER, HEADER_META])
    w.flush()
    monkeypatch.setattr(writer_module, "os", failing_once(0))
    w.record(op(1))
    with pytest.raises(KeyboardInterrupt):
        w.flush()
    monkeypatch.undo()
    # THEN the torn bytes were cut off and the record kept for the next flush
    assert log.stat().st_size == w.bytes_written
    w.record(op(2))
    w.flush()
    w.close()
    records, reader = read(log)
    assert [r["seq"] for _, r in records] == [1, 2] and reader.damage is None
    assert w.broken is None


def test_a_closed_descriptor_is_reopened_and_a_reused_one_never_written(tmp_path):
    log, user = tmp_path / "run.tlog", tmp_path / "user.txt"
    w = LogWriter(log)
    w.record([Kind.HEADER, HEADER_META])
    w.flush()
    os.close(w._fd)  # the program closes inherited descriptors...
    fd = os.open(user, os.O_WRONLY | os.O_CREAT)  # ...and gets the same number back
    assert fd == w._fd
    w.record(op(1))
    w.flush()
    w.close()
    os.write(fd, b"mine")  # close() left the user's descriptor alone
    os.close(fd)
    assert user.read_bytes() == b"mine"
    records, reader = read(log)
    assert [r.get("seq") for _, r in records] == [1] and w.broken is None


def test_a_log_cut_from_its_path_stops_without_writing(tmp_path):
    log, user = tmp_path / "run.tlog", tmp_path / "user.txt"
    w = LogWriter(log)
    w.record([Kind.HEADER, HEADER_META])
    w.flush()
    os.close(w._fd)
    log.rename(tmp_path / "moved.tlog")
    log.write_bytes(b"someone else's")
    fd = os.open(user, os.O_WRONLY | os.O_CREAT)
    w.record(op(1))
    w.flush()
    w.record(op(2))
    w.close()
    os.close(fd)
    assert user.read_bytes() == b"" and log.read_bytes() == b"someone else's"
    assert w.broken == writer_module.Broken("the program closed the log's descriptor", 1)


def test_a_deleted_log_stops_without_writing(tmp_path):
    log = tmp_path / "run.tlog"
    w = LogWriter(log)
    w.record([Kind.HEADER, HEADER_META])
    w.flush()
    log.unlink()
    w.record(op(7))
    w.close()
    assert w.broken == writer_module.Broken("the log was deleted during the run", 7)
    assert w.closed


def test_threads_write_whole_records(tmp_path):
    log = tmp_path / "threads.tlog"
    w = LogWriter(log)
    w.record([Kind.HEADER, HEADER_META])

    def work(thread_no):
        for i in range(500):
            w.record(op(thread_no * 1000 + i, "t" * (i % 30)))
            if i % 5 == 0:
                w.flush()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    records, reader = read(log)
    assert reader.damage is None
    assert sorted(r["seq"] for _, r in records) == [
        n * 1000 + i for n in range(8) for i in range(500)
    ]


def test_a_forked_child_writes_nothing(tmp_path):
    # GIVEN a writer with one record buffered when the process forks
    log = tmp_path / "fork.tlog"
    w = LogWriter(log)
    w.record([Kind.HEADER, HEADER_META])
    w.record(op(0))
    pid = os.fork()
    if pid == 0:  # the child: everything it does to the writer must be a no-op
        code = 1
        try:
            w.record(op(100))
            w.flush()
            w.close()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # THEN nothing of the child reached the file, and the parent's buffer is written once
    assert log.read_bytes() == PREAMBLE
    w.record(op(1))
    w.close()
    records, reader = read(log)
    assert [r["seq"] for _, r in records] == [0, 1] and reader.damage is None


def test_a_fork_the_hooks_did_not_see_writes_nothing(tmp_path, monkeypatch):
    # A fork from C skips os.register_at_fork hooks: flush() still asks for the real pid.
    log = tmp_path / "fork.tlog"
    w = LogWriter(log)
    w.record([Kind.HEADER, HEADER_META])
    fake = types.SimpleNamespace(**vars(os))
    fake.getpid = lambda: os.getpid() + 1
    monkeypatch.setattr(writer_module, "os", fake)
    w.record(op(0))
    w.flush()
    w.record(op(1))
    w.close()
    assert log.read_bytes() == PREAMBLE


KILLED_WRITER = """
import sys
from tracer.events.format import Kind
from tracer.events.writer import LogWriter

w = LogWriter(sys.argv[1])
w.record([Kind.HEADER, {"argv": sys.argv}])
w.flush()
print("ready", flush=True)
seq = 0
while True:
    w.record([Kind.OP, seq, "op", "m.f", None, [seq], [seq + 1], None, 0, seq, 1,
              {"note": "x" * (seq % 97)}, {}])
    seq += 1
    if seq % 3 == 0:
        w.flush()
"""


def test_kill_9_leaves_a_readable_prefix(tmp_path):
    # GIVEN a process writing records in a loop, flushing every 3
    log = tmp_path / "killed.tlog"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(log)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        time.sleep(0.2)
    finally:
        # WHEN it is killed with SIGKILL
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()  # type: ignore[union-attr]
    assert child.returncode == -signal.SIGKILL
    # THEN the log reads as a prefix of complete records, in order, without a trailer
    records, reader = read(log)
    seqs = [rec["seq"] for kind, rec in records]
    assert len(seqs) > 100
    assert seqs == list(range(len(seqs)))
    assert not reader.finished
    if reader.damage is None:  # every flush wrote whole groups of 3 records
        assert len(seqs) % 3 == 0
    else:
        assert reader.damage.kind == "truncated"


# -- the samples of released formats -----------------------------------------------------------

T0 = 1_700_000_000_000_000_000


def test_format_1_0_sample_still_reads():
    # This file was written by format 1.0 and must read exactly like this forever.
    header, records, reader = read_all(SAMPLE_1_0)
    assert reader.version == (1, 0)
    assert header == {
        "tracer": "0.1.0",
        "format": [1, 0],
        "python": "3.12.1",
        "pandas": "2.2.0",
        "numpy": "1.26.4",
        "backend": "sysmon",
        "argv": ["pipeline.py", "--rows", "3"],
        "cwd": "/home/ana/project",
        "start_ns": T0,
        "host": "sample-host",
        "pid": 4242,
    }
    assert [(kind.name, list(rec.values())) for kind, rec in records] == [
        ("THREAD", [0, "MainThread"]),
        ("CALLSITE", [1, "pipeline.py", 7, "<module>", 'df = pd.read_csv("sales.csv")']),
        ("SCHEMA", [1, ["region", "amount", "note"], ["object", "float64", "object"]]),
        ("NODE", [1, "frame", "pandas.DataFrame", [3, 3], 1, None, 1, None, 1]),
        (
            "OP",
            [
                1,
                "read_csv",
                "pandas.read_csv",
                None,
                [],
                [1],
                1,
                0,
                T0 + 1_000,
                250_000,
                {"filepath_or_buffer": "'sales.csv'"},
                {"rows": 3},
                None,
            ],
        ),
        ("FILE", [1, "sales.csv", "r", "csv", 57, "xxh3:9f86d081884c7d65", 1, T0 - 10**9]),
        ("FINGERPRINT", [1, b"\x00\x01\xfe\xff fingerprint bytes"]),
        ("CALLSITE", [2, "pipeline.py", 8, "<module>", "df = df.dropna()  # région → ok"]),
        ("NODE", [2, "frame", "pandas.DataFrame", [2, 3], 1, b"\x12\x34", 1, 2, 2]),
        (
            "OP",
            [
                2,
                "dropna",
                "pandas.DataFrame.dropna",
                None,
                [1],
                [2],
                2,
                0,
                T0 + 300_000,
                80_000,
                {},
                {"rows_removed": 1, "ratio": 0.5, "exact": True},
                None,
            ],
        ),
        ("NODE", [3, "series", "pandas.Series", [2], None, None, 1, 3, 3]),
        (
            "OP",
            [
                3,
                "getitem",
                "pandas.DataFrame.__getitem__",
                2,
                [2],
                [3],
                None,
                0,
                T0 + 400_000,
                5_000,
                {"key": "'amount'"},
                {},
                None,
            ],
        ),
        ("ERROR", [T0 + 500_000, "fingerprint", "could not hash column 'note': unhashable type"]),
        ("FILE", [4, "out/summary.parquet", "w", "parquet", None, None, 3, None]),
        (
            "TRAILER",
            [
                {
                    "ended": T0 + 2_000_000_000,
                    "status": "ok",
                    "exit_code": 0,
                    "error": None,
                    "counts": {"ops": 3, "nodes": 3, "files": 2, "errors": 1},
                }
            ],
        ),
    ]  # fmt: skip  (an OP of 1.0 names no MEANING: its last field reads as None)
    assert reader.damage is None and reader.finished


def test_format_1_1_sample_still_reads():
    # Format 1.1 added the compact form of an op's dropped row labels (dropped_deltas).
    header, records, reader = read_all(SAMPLE_1_1)
    assert reader.version == (1, 1) and header["format"] == [1, 1]
    ops = [rec for kind, rec in records if kind == Kind.OP]
    dropna = next(rec for rec in ops if rec["op"] == "dropna")
    assert dropna["facts"]["dropped_deltas"] == [1]
    assert format.labels_of(dropna["facts"]) == [1]
    assert reader.damage is None and reader.finished


def test_format_1_2_sample_still_reads():
    # Format 1.2 added MEANING records, which OPs name by id: what each op means.
    from tracer.catalog import families as fam
    from tracer.catalog.families import Meaning
    from tracer.lineage.load import load

    header, records, reader = read_all(SAMPLE_1_2)
    assert reader.version == (1, 2) and header["format"] == [1, 2]
    meanings = {rec["id"]: rec["meaning"] for kind, rec in records if kind == Kind.MEANING}
    ops = {rec["op"]: rec for kind, rec in records if kind == Kind.OP}
    assert meanings[ops["dropna"]["meaning"]]["family"] == "row_filter"
    assert reader.damage is None and reader.finished
    # the model reads them; a field from a newer tracer is ignored, the rest kept
    lineage = load(SAMPLE_1_2)
    by_name = {op.op: op.meaning for op in lineage.ops}
    assert by_name["read_csv"] == Meaning(fam.READ)
    assert by_name["dropna"].filter_by == (fam.MISSING, "subset")
    assert by_name["getitem"] == Meaning(fam.COLUMN_SELECT, select="key")


@pytest.mark.parametrize(
    "labels",
    [[5], [0, 1, 2, 3], [3, 17, 18, 20_000, 20_001], [9, 4, -2, 2**40], ["a", "b"], [1, "x"], []],
)
def test_dropped_labels_read_back_in_either_form(labels):
    facts = format.label_facts(labels)
    assert format.labels_of(facts) == labels
    packed = pack(facts)
    if labels and all(type(x) is int for x in labels):
        assert "dropped_deltas" in facts
        assert len(packed) <= len(pack({"dropped_labels": labels}))
    assert format.labels_of({"dropped_labels": labels}) == labels  # a 1.0 log's form


def test_close_integer_labels_take_about_a_byte_each():
    labels = list(range(20_000, 20_640, 3))  # 214 labels of 3 bytes each, 3 apart
    assert len(pack(format.label_facts(labels))) < 1.2 * len(labels)


def test_samples_exist_for_the_current_format():
    name = f"format-{format.FORMAT_MAJOR}.{format.FORMAT_MINOR}.tlog"
    assert (REPO / "tests" / "data" / name).exists(), "run tools/make_sample_log.py"


# -- tools/dump_log.py -------------------------------------------------------------------------


def dump_log_main():
    return runpy.run_path(str(REPO / "tools" / "dump_log.py"), run_name="dump_log")["main"]


def test_dump_log_prints_every_record(capsys):
    assert dump_log_main()([str(SAMPLE_1_0)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "# log format 1.0"
    assert lines[1].startswith("HEADER meta={'tracer': '0.1.0'")
    assert lines[2] == "THREAD id=0 name='MainThread'"
    assert lines[-1] == "# complete"
    assert len(lines) == 2 + 15 + 1


def test_dump_log_reports_damage_and_refusals(tmp_path, capsys):
    log = tmp_path / "torn.tlog"
    log.write_bytes(log_bytes([op(0)]) + pack(op(1))[:-2])
    assert dump_log_main()([str(log)]) == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith("# truncated: the log ends inside")
    assert dump_log_main()([str(tmp_path / "missing.tlog")]) == 2
    assert capsys.readouterr().err == f"error: no such log: {tmp_path / 'missing.tlog'}\n"


# -- a signal handler that flushes, in the middle of a flush --------------------------------------


@pytest.mark.parametrize("when", ["before", "after", "half"])
def test_a_flush_interrupted_by_a_flushing_handler_loses_and_repeats_nothing(
    tmp_path, monkeypatch, when
):
    # GIVEN a flush of two ops, interrupted by a SIGTERM-like handler that records a trailer,
    # flushes and ends the process (here: stops the interrupted write from going on)
    path = tmp_path / "t.tlog"
    w = writer_module.LogWriter(path)
    w.record([Kind.HEADER, HEADER_META])
    w.record(op(1))
    w.record(op(2))
    real = writer_module._write_all

    class Died(BaseException):
        pass

    def interrupted(fd, data):
        monkeypatch.setattr(writer_module, "_write_all", real)
        if when == "after":
            real(fd, data)
        elif when == "half":
            real(fd, data[: len(data) // 2])
        w.record([Kind.TRAILER, {"status": "terminated"}])  # the handler
        w.close()
        raise Died

    monkeypatch.setattr(writer_module, "_write_all", interrupted)
    # WHEN the flush is interrupted before, halfway through or after its write
    with pytest.raises(Died):
        w.flush()
    # THEN the log holds every record once, in order, and reads to the end
    header, records, reader = read_all(path)
    assert [r["seq"] for k, r in records if k == Kind.OP] == [1, 2]
    assert [k for k, _ in records][-1] == Kind.TRAILER
    assert reader.damage is None and reader.finished
