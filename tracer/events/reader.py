"""Read a tracer log: a strict check of its preamble and header, then a tolerant record stream.

`LogReader(path)` refuses, with one clear line in a `LogFormatError`, anything it cannot read at
all: a missing or unreadable file, a file that is not a tracer log, a log of another major
format version, a log without a header. After that nothing raises: `records()` streams the
records (as ``(Kind, {field: value})``) through a msgpack `Unpacker` fed in fixed-size chunks,
so memory stays bounded for a log of any length, and it stops at the first torn or invalid byte
and says why in `damage`. A torn tail is what a killed run leaves; corruption is anything else.

`records()` reads up to the current end of the file. Called again, it picks up what the writer
has appended since (a torn tail may then complete): this is how a live view follows a run.

Only msgpack scalars, lists and maps are ever decoded: nothing is unpickled or evaluated.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass

import msgpack

from tracer.events import format
from tracer.events.format import Kind
from tracer.exceptions import LogFormatError

READ_CHUNK = 256 * 1024

# How to decode each known kind: kind number -> (Kind, ((field name, index in the record), ...),
# length of a complete record). A dict comprehension over the pairs is about twice as fast as
# dict(zip(names, record[1:])), which matters at millions of records.
_SPECS = {
    int(kind): (kind, tuple((name, i) for i, name in enumerate(fields, 1)), len(fields) + 1)
    for kind, fields in format.FIELDS.items()
}


@dataclass
class Damage:
    """Why reading stopped before the end of the file."""

    kind: str  # "truncated": the file ends inside a record; "corrupt": bytes that are no record
    offset: int  # byte offset in the file where the problem starts
    detail: str  # one human line


class LogReader:
    """Open a log, check it, and stream its records. See the module docstring."""

    header: dict
    version: tuple[int, int]
    damage: Damage | None
    trailer: dict | None

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path: str = os.fsdecode(os.fspath(path))
        self.damage = None
        self.trailer = None
        self._file = _open(self.path)
        try:
            self.version = self._read_preamble()
            self._unpacker = msgpack.Unpacker(
                use_list=True,
                raw=False,
                strict_map_key=False,  # whatever the writer can pack must read back
                max_buffer_size=format.MAX_RECORD_SIZE + READ_CHUNK,
                max_array_len=format.MAX_CONTAINER_LEN,
                max_map_len=format.MAX_CONTAINER_LEN,
            )
            self._fed = 0  # bytes of the file after the preamble given to the unpacker
            self._pos = 0  # where the next record starts, counted like _fed
            self._corrupt = False
            self.header = self._read_header()
        except BaseException:
            self._file.close()
            raise

    @property
    def finished(self) -> bool:
        """True once `records()` has read the TRAILER: the traced run ended normally."""
        return self.trailer is not None

    def records(self) -> Iterator[tuple[Kind, dict]]:
        """Yield every record after the header up to the current end of the file.

        Unknown kinds are skipped, missing trailing fields read as None and extra ones are
        dropped. Sets `damage` when it stops at a torn tail or at corruption (None otherwise);
        never raises for anything in the file.
        """
        if self._corrupt:
            return
        self.damage = None
        unpacker = self._unpacker
        tell = unpacker.tell
        specs = _SPECS
        pos = self._pos  # where the next record starts
        try:
            while True:
                try:
                    for obj in unpacker:
                        start, pos = pos, tell()
                        if type(obj) is not list or not obj or type(obj[0]) is not int:
                            pos = start
                            self._set_corrupt(start, _not_a_record(obj))
                            return
                        spec = specs.get(obj[0])
                        if spec is None:
                            continue  # a kind from a newer minor version
                        kind, pairs, size = spec
                        if len(obj) < size:
                            obj.extend([None] * (size - len(obj)))
                        rec = {name: obj[i] for name, i in pairs}
                        if kind is Kind.TRAILER:
                            if type(rec["meta"]) is not dict:
                                pos = start
                                self._set_corrupt(start, "its TRAILER holds no map")
                                return
                            self.trailer = rec["meta"]
                        yield kind, rec
                except Exception as exc:  # msgpack's errors, MemoryError for a huge list, ...
                    self._set_corrupt(pos, _why(exc))
                    return
                if not self._feed(pos):
                    break
        finally:
            self._pos = pos  # also when the caller stops early: the next call resumes here
        if self._fed > pos and not self._corrupt:
            offset = format.PREAMBLE_SIZE + pos
            self.damage = Damage(
                "truncated",
                offset,
                f"the log ends inside a record at byte {offset} (the run did not finish)",
            )

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> LogReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        major, minor = self.version
        return f"<LogReader {self.path!r} format {major}.{minor}>"

    # -- internals -----------------------------------------------------------------------------

    def _feed(self, pos: int) -> bool:
        """Give the unpacker the next chunk of the file. False at the end of the file, or when
        the pending record outgrows the buffer (then `damage` says so)."""
        try:
            chunk = self._file.read(READ_CHUNK)
        except OSError as exc:
            self._set_corrupt(self._fed, f"read error: {exc.strerror}")
            return False
        if not chunk:
            return False
        try:
            self._unpacker.feed(chunk)
        except msgpack.BufferFull:
            self._set_corrupt(
                pos,
                f"a record larger than {format.MAX_RECORD_SIZE >> 20} MiB (a damaged length?)",
            )
            return False
        self._fed += len(chunk)
        return True

    def _set_corrupt(self, pos: int, why: str) -> None:
        """Stop for good at `pos` (counted after the preamble, like the unpacker counts)."""
        offset = format.PREAMBLE_SIZE + pos
        self._corrupt = True
        self.damage = Damage("corrupt", offset, f"the bytes at {offset} are not a record: {why}")

    def _read_preamble(self) -> tuple[int, int]:
        data = b""
        while len(data) < format.PREAMBLE_SIZE:
            try:
                chunk = self._file.read(format.PREAMBLE_SIZE - len(data))
            except OSError as exc:
                raise LogFormatError(f"cannot read {self.path}: {exc.strerror}") from None
            if not chunk:
                break
            data += chunk
        magic = format.MAGIC
        if not data:
            raise LogFormatError(f"{self.path} is empty: not a tracer log")
        if data[: len(magic)] != magic[: len(data)]:
            raise LogFormatError(f"{self.path} is not a tracer log")
        if len(data) < format.PREAMBLE_SIZE:
            raise LogFormatError(
                f"{self.path} ends inside its preamble (the run stopped as it started)"
            )
        major, minor = data[len(magic)], data[len(magic) + 1]
        if major != format.FORMAT_MAJOR:
            age = "a newer" if major > format.FORMAT_MAJOR else "an older"
            raise LogFormatError(
                f"{self.path} was written by {age} tracer (log format {major}.{minor}; "
                f"this tracer reads {format.FORMAT_MAJOR}.x)"
            )
        return major, minor

    def _read_header(self) -> dict:
        while True:
            try:
                obj = next(self._unpacker)
                break
            except StopIteration:
                if not self._feed(0):
                    if self.damage is not None:
                        detail = self.damage.detail
                        raise LogFormatError(f"{self.path} is corrupt: {detail}") from None
                    raise LogFormatError(
                        f"{self.path} ends before its header is complete "
                        "(the run stopped as it started)"
                    ) from None
            except Exception as exc:
                raise LogFormatError(
                    f"{self.path} is corrupt: its first record is not valid ({_why(exc)})"
                ) from None
        if (
            type(obj) is not list
            or len(obj) < 2
            or type(obj[0]) is not int
            or obj[0] != Kind.HEADER
            or type(obj[1]) is not dict
        ):
            raise LogFormatError(f"{self.path} is corrupt: it does not start with a header")
        self._pos = self._unpacker.tell()
        return obj[1]


def read_all(path: str | os.PathLike[str]) -> tuple[dict, list[tuple[Kind, dict]], LogReader]:
    """Read a whole log: ``(header, records, reader)``; `reader.damage` and `reader.trailer`
    tell how it ended. The file is closed."""
    with LogReader(path) as reader:
        records = list(reader.records())
    return reader.header, records, reader


def _open(path: str) -> io.FileIO:
    """Open for reading, raw and unbuffered (so a follower sees appended bytes)."""
    try:
        return open(path, "rb", buffering=0)
    except FileNotFoundError:
        raise LogFormatError(f"no such log: {path}") from None
    except IsADirectoryError:
        raise LogFormatError(f"{path} is a directory, not a tracer log") from None
    except PermissionError:
        if os.path.isdir(path):  # what Windows says for a directory
            raise LogFormatError(f"{path} is a directory, not a tracer log") from None
        raise LogFormatError(f"cannot read {path}: permission denied") from None
    except OSError as exc:
        raise LogFormatError(f"cannot read {path}: {exc.strerror or exc}") from None


def _why(exc: BaseException) -> str:
    if isinstance(exc, msgpack.FormatError):
        return "invalid msgpack"
    if isinstance(exc, msgpack.StackError):
        return "lists nested too deeply"
    if isinstance(exc, MemoryError):
        return "a list too large to hold in memory"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _not_a_record(obj: object) -> str:
    if type(obj) is list:
        if not obj:
            return "an empty list"
        return f"its kind is a {type(obj[0]).__name__}, not an int"
    return f"a {type(obj).__name__}, not a list [kind, ...]"
