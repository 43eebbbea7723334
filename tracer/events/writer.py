"""Append records to a tracer log: buffered in memory, one ``write(2)`` per flush.

`LogWriter` packs each record with msgpack as soon as it is given (so the caller learns at once
that a value cannot be written) and keeps the packed bytes in a list. `flush()` joins them and
hands them to the kernel in one ``os.write`` on a raw file descriptor: what reached the kernel
sits in the page cache and survives ``kill -9`` of the traced process, and because every write
holds whole records a killed run leaves at worst a torn last record, which the reader reports.
There is no fsync: a power loss may lose the tail, a crash of the process does not.

The recorder calls `flush()` once per outermost op. The buffer is also flushed when it passes
`AUTOFLUSH_BYTES`, so a long op full of nested records cannot grow it without bound.

A log that cannot be written any more (a full disk, EIO, a file-size limit, a deleted log, a
descriptor the program closed) never fails the program: at the first failed write the writer
cuts the file back to its last whole flush, tries to end it with a TRAILER saying why (status
"incomplete"), and stops writing for good; `broken` says why and from which op the log lacks
records, for the one line `Tracer.stop` prints. Before each write it checks (one fstat per
flush) that its descriptor still is the file it opened: a program that closed it may have got
the same number back from its own next open(), and tracer must never write into the user's
file. A closed descriptor is replaced by reopening the path when that still is the same file.

The log is private to its user: a new file gets mode 0o600 and new parent directories 0o700.
A forked child inherits the writer but must never write into its parent's log: after a fork
`record()` and `flush()` do nothing in the child, and `close()` only closes its descriptor.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections import deque
from dataclasses import dataclass

import msgpack

from tracer.events import format

AUTOFLUSH_BYTES = 1 << 20
TRAILER_ROOM_FLUSHES = 16  # how many of its last flushes a broken log may give up for a trailer

# The pid of this process, updated in a forked child before any Python code runs there. A
# writer compares it with the pid it was opened in: one attribute and one global lookup per
# record instead of a getpid() system call. flush() still asks the kernel, in case something
# forked from C without running the at-fork hooks.
_pid = os.getpid()


def _after_fork_in_child() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_after_fork_in_child)


_KIND_TYPES = frozenset({int, format.Kind})


class RecordError(TypeError):
    """A record holds a value the log cannot store (only msgpack scalars, lists and maps)."""


# Why a log could not be written, by errno: what the stderr line and the trailer say.
_REASONS = {
    errno.ENOSPC: "the disk was full",
    errno.EDQUOT: "the disk quota was exceeded",
    errno.EFBIG: "the log reached the file-size limit",
    errno.EIO: "an I/O error",
    errno.EROFS: "the file system became read-only",
    errno.EBADF: "the program closed the log's descriptor",
}
CUT = _REASONS[errno.EBADF]
DELETED = "the log was deleted during the run"


@dataclass
class Broken:
    """Why a writer stopped writing, and the seq of the first op the log lacks (None: no op)."""

    reason: str
    from_op: int | None = None

    def message(self, path: str) -> str:
        """The one stderr line (without "tracer: ") saying what the log lacks, and why."""
        where = f"from op {self.from_op} on" if self.from_op is not None else "at its end"
        return f"the log is incomplete {where}: {self.reason} ({path})"


class LogWriter:
    """Write one tracer log. Thread-safe; `record()` and `flush()` are no-ops after a fork."""

    def __init__(self, path: str | os.PathLike[str], *, exclusive: bool = False) -> None:
        """`exclusive`: fail with FileExistsError rather than replace an existing file."""
        self.path: str = os.path.abspath(os.fsdecode(os.fspath(path)))
        _make_private_dirs(os.path.dirname(self.path))
        flags = os.O_RDWR | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
        fd = os.open(self.path, flags, 0o600)
        try:
            # O_CREAT leaves the mode of an existing file alone: make an old log private too
            # (but never chmod a device such as /dev/null).
            st = os.fstat(fd)
            if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) != 0o600:
                os.fchmod(fd, 0o600)
            _write_all(fd, format.PREAMBLE)
        except BaseException:
            os.close(fd)
            raise
        self._fd: int | None = fd
        self._identity = (st.st_dev, st.st_ino)  # what _fd must still be before any write
        self.broken: Broken | None = None
        # The pid that may write; None once closed. One comparison covers closed and forked.
        self._owner: int | None = _pid
        self.bytes_written: int = len(format.PREAMBLE)
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._inflight: list[bytes] | None = None  # records being written (see _flush)
        self._inflight_at = 0
        # Where the last few flushes began (never the header's): a broken log gives up its last
        # ops, whole, to make room for a trailer that says why it ends (see _end_with_trailer).
        self._starts: deque[int] = deque(maxlen=TRAILER_ROOM_FLUSHES)
        self._pack = msgpack.Packer(use_bin_type=True).pack
        # Reentrant: a signal handler that records (a trailer on SIGTERM, say) may interrupt
        # record() or flush() in the same thread; a plain Lock would deadlock there.
        self._lock = threading.RLock()

    @property
    def closed(self) -> bool:
        return self._fd is None

    def record(self, rec: list) -> None:
        """Pack `rec` (``[kind, field, ...]``) and buffer it. Raises `RecordError` if unpackable."""
        if self._owner != _pid:
            return  # closed, or we are a forked child
        if type(rec) is not list or not rec or type(rec[0]) not in _KIND_TYPES:
            # The reader would take this for corruption and stop reading the log there.
            raise RecordError(f"cannot write {_describe(rec)}: a record is a list [kind, ...]")
        with self._lock:
            try:
                data = self._pack(rec)
            except (TypeError, ValueError, OverflowError) as exc:
                raise RecordError(
                    f"cannot write {_describe(rec)}: {exc} (a log holds only None, bool, "
                    "int up to 64 bits, float, str, bytes, and lists and dicts of them)"
                ) from None
            if len(data) > format.MAX_RECORD_SIZE:
                raise RecordError(
                    f"cannot write {_describe(rec)}: {len(data)} bytes is more than the "
                    f"{format.MAX_RECORD_SIZE} a reader accepts"
                )
            self._buffer.append(data)
            self._buffered += len(data)
            if self._buffered >= AUTOFLUSH_BYTES:
                self._flush()

    def flush(self) -> None:
        """Write everything buffered in one ``os.write`` (more only if the kernel writes less)."""
        if self._owner != _pid:
            return
        with self._lock:
            self._flush()

    def close(self) -> None:
        """Flush and close. Idempotent; in a forked child it closes the descriptor only."""
        if self._owner != _pid or self._owner != os.getpid():
            # Closed, or a forked child: never flush, and never take the lock, which a thread
            # of the parent may have held at the fork and nobody here will release.
            fd, self._fd, self._owner = self._fd, None, None
            self._buffer, self._buffered = [], 0
            self._close_if_ours(fd)
            return
        with self._lock:
            if self._fd is None:
                return
            try:
                self._flush()
            finally:
                fd, self._fd = self._fd, None  # (a flush may have reopened the log)
                self._owner = None
                self._buffer = []
                self._buffered = 0
                self._close_if_ours(fd)

    def _flush(self) -> None:
        # Caller holds the lock. Swap the buffer out first: a reentrant record() from a signal
        # handler then lands in the new buffer instead of being written twice or lost. The
        # swapped-out records stay reachable as `_inflight` until they are written: a handler
        # that flushes and then ends the process (SIGTERM: tracer/faults.py) writes them first.
        if self._inflight is not None:
            self._write_inflight()
        if not self._buffer:
            return
        buffer = self._inflight = self._buffer
        self._inflight_at = self.bytes_written  # the file's end: only this writer writes it
        self._buffer, self._buffered = [], 0
        if os.getpid() != self._owner or self._fd is None:
            self._owner = self._inflight = None  # forked from C, without at-fork hooks
            return
        data = b"".join(buffer)
        start = self.bytes_written
        if not self._still_ours():
            self._inflight = None
            return
        try:
            if self._inflight is buffer:  # (not written meanwhile by a signal handler)
                _write_all(self._fd, data)
                self._inflight = None
        except OSError as exc:
            # A full disk, EIO, a file-size limit: stop for good and never raise (the program
            # must end as under python). What is lost starts with this flush's first op.
            self._inflight = None
            self._break(_REASONS.get(exc.errno, exc.strerror or str(exc)), buffer, start)
            return
        except BaseException:
            self._inflight = None
            # A KeyboardInterrupt just as os.write returned (a notebook's Ctrl-C): keep the
            # records for the next flush, cut back to the last whole one (see _cut_back).
            if self._cut_back(start, len(data)) is False:
                self._buffer[:0] = buffer
                self._buffered += len(data)
            raise
        self.bytes_written = max(self.bytes_written, start + len(data))
        if start > format.PREAMBLE_SIZE:
            self._starts.append(start)

    def _cut_back(self, start: int, size: int) -> bool | None:
        """After a failed or interrupted write of `size` bytes at `start`: True if they all
        reached the file after all; else cut it back to `start` (part of a record followed by
        anything would be misread as that record's tail) and return False. If even that fails,
        stop writing for good and return None (the reader then reports a torn tail)."""
        try:
            end = os.lseek(self._fd, 0, os.SEEK_CUR)  # type: ignore[arg-type]
            if end == start + size:
                self.bytes_written = end
                return True
            if end != start:
                os.ftruncate(self._fd, start)  # type: ignore[arg-type]
                os.lseek(self._fd, start, os.SEEK_SET)  # type: ignore[arg-type]
        except BaseException:
            self._owner = None
            return None
        return False

    def _break(self, reason: str, lost: list[bytes], start: int | None = None) -> None:
        """Stop writing for good: `lost` could not be written. When the file is still ours
        (`start` given: the failed write began there), cut it back and try to end it with a
        trailer that says why; freeing the torn tail often leaves room for it."""
        self.broken = Broken(reason, _first_op(b"".join(lost)))
        self._owner = None
        self._buffer, self._buffered = [], 0
        self.record = self._count_lost  # type: ignore[method-assign]
        if start is None:
            return
        cut = self._cut_back(start, sum(map(len, lost)))
        if cut is None:
            return
        if cut:  # it all reached the file after all: what is lost starts later
            self.broken.from_op = None
        self._end_with_trailer(reason)

    def _end_with_trailer(self, reason: str) -> None:
        """End a broken log with a TRAILER saying why, so that its reader can tell. On a full
        disk or at a size limit there may be no room for it: give up the last flushes, whole
        ops, one by one until it fits (a few KiB free a disk block), and count them as lost."""
        why = {
            "status": "incomplete",
            "error": f"the log stops here: {reason}",
            "log_error": reason,
        }
        data = self._pack(format.trailer(why))
        fd = self._fd
        assert fd is not None and self.broken is not None
        while True:
            try:
                _write_all(fd, data)
                self.bytes_written += len(data)
                return
            except OSError:
                if self._cut_back(self.bytes_written, len(data)) is not False or not self._starts:
                    return  # it fits nowhere, or cannot even be cut back: the log just ends
            start = self._starts.pop()
            try:
                given_up = os.pread(fd, self.bytes_written - start, start)
                os.ftruncate(fd, start)
                os.lseek(fd, start, os.SEEK_SET)
            except OSError:
                return
            self.bytes_written = start
            first = _first_op(given_up)
            if first is not None:
                self.broken.from_op = first

    def _count_lost(self, rec: list) -> None:
        """`record` once broken: write nothing, but note the first op the log lacks."""
        broken = self.broken
        if broken is not None and broken.from_op is None and rec and rec[0] == format.Kind.OP:
            broken.from_op = rec[1]

    def _still_ours(self) -> bool:
        """Is `_fd` still the log? If the program closed it (and maybe opened a file of its own
        under the same number), reopen the log by path when the path still is that file; else
        stop writing (`broken`). One fstat per flush."""
        try:
            st = os.fstat(self._fd)  # type: ignore[arg-type]
            if (st.st_dev, st.st_ino) == self._identity:
                if st.st_nlink == 0:
                    self._break(DELETED, self._inflight or [])
                    return False
                return True
        except OSError:
            pass
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError:
            fd = None
        if fd is not None:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) == self._identity and st.st_size == self.bytes_written:
                os.lseek(fd, self.bytes_written, os.SEEK_SET)
                self._fd = fd  # the old number is not ours to close: it may be the user's
                return True
            os.close(fd)
        self._fd = None
        self._break(CUT, self._inflight or [])
        return False

    def _close_if_ours(self, fd: int | None) -> None:
        """Close `fd` unless the program closed it first (its number may be the user's now)."""
        if fd is None:
            return
        try:
            st = os.fstat(fd)
        except OSError:
            return
        if (st.st_dev, st.st_ino) == self._identity:
            os.close(fd)

    def _write_inflight(self) -> None:
        """A flush interrupted by a signal handler that flushes: write what it was writing,
        unless its write already happened (the file's end tells)."""
        buffer, self._inflight = self._inflight, None
        if buffer is self._buffer:  # interrupted mid-swap: the records are still the buffer
            self._buffer, self._buffered = [], 0
        if buffer is None or self._fd is None:
            return
        data = b"".join(buffer)
        done = os.lseek(self._fd, 0, os.SEEK_CUR) - self._inflight_at
        if 0 <= done < len(data):
            _write_all(self._fd, data[done:])
        self.bytes_written = self._inflight_at + len(data)

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self.bytes_written} bytes written"
        return f"<LogWriter {self.path!r} {state}>"


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (regular files rarely write less; pipes may)."""
    written = os.write(fd, data)
    if written == len(data):
        return
    view = memoryview(data)
    while written < len(data):
        written += os.write(fd, view[written:])


def _first_op(data: bytes) -> int | None:
    """The seq of the first OP in packed whole records (only read when a write failed)."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
    unpacker.feed(data)
    for rec in unpacker:
        if rec[0] == format.Kind.OP:
            return rec[1]
    return None


_FAULT = os.environ.get("TRACER_TEST_LOG_FAULT")
if _FAULT:  # a test's fault point, read once at import: no cost when unset
    _real_write_all = _write_all

    def _write_all(fd: int, data: bytes) -> None:  # noqa: F811
        """`TRACER_TEST_LOG_FAULT=EIO@4096`: writes past byte 4096 of the log fail with EIO,
        after writing up to it (as a full disk does)."""
        name, _, limit = _FAULT.partition("@")
        room = int(limit) - os.lseek(fd, 0, os.SEEK_CUR)
        if len(data) <= room:
            return _real_write_all(fd, data)
        if room > 0:
            _real_write_all(fd, data[:room])
        code = getattr(errno, name)
        raise OSError(code, os.strerror(code))


def _make_private_dirs(directory: str) -> None:
    """Create `directory` and any missing parents with mode 0o700 (os.makedirs gives
    intermediate directories the default mode)."""
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            if not os.path.isdir(d):  # a file where a folder should be
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), d) from None


def _describe(rec: object) -> str:
    """Name a record for an error message: its kind, never its (possibly large) values."""
    if type(rec) is list and rec:
        kind = rec[0]
        if type(kind) in _KIND_TYPES and kind in _KIND_NAMES:
            return f"{_KIND_NAMES[kind]} record"
        return f"record of kind {repr(kind)[:40]}"
    return f"a {type(rec).__name__}"


_KIND_NAMES = {int(k): k.name for k in format.Kind}
