"""The run index: a SQLite cache of the logs in `<home>/runs/`, for questions across runs.

`Store(home)` opens `<home>/index.sqlite` (creating `<home>` 0o700 and the file 0o600), and
`sync()` brings it up to date with the logs: new or changed logs are (re)indexed, rows of
deleted logs dropped. Every store command syncs first, so the index is only ever a cache: a
missing file is recreated, and one that is not a tracer index, is corrupt or has another
SCHEMA_VERSION is thrown away and rebuilt from the logs, with one note on stderr.

Concurrency: the database is in WAL mode with a busy timeout, and every log is written in its
own short `BEGIN IMMEDIATE` transaction (delete its old rows, insert the new ones), so
concurrent runs indexing at their end, and commands syncing meanwhile, serialise without
corrupting anything; the same log indexed twice at once ends up indexed once. The file itself
is only ever created or deleted under an exclusive `flock` on `<home>/index.lock`, which every
user of the index holds shared: nobody deletes a database another process has open.
"""

from __future__ import annotations

import glob
import json
import os
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tracer.exceptions import CommandError, LogFormatError
from tracer.home import tracer_home
from tracer.store.extract import RunFacts, extract
from tracer.store.schema import APPLICATION_ID, SCHEMA_VERSION, TABLES

try:
    import fcntl
except ImportError:  # Windows: no flock; SQLite's own locking still protects the rows
    fcntl = None  # type: ignore[assignment]

INDEX_NAME = "index.sqlite"
LOCK_NAME = "index.lock"
BUSY_TIMEOUT_S = 60.0
# A log that cannot be opened yet may be a run that is just starting: say nothing about it
# until it has been quiet this long.
YOUNG_LOG_S = 120.0


class _Corrupt(Exception):
    """The index file cannot be used as it is: rebuild it (the message says why)."""


@dataclass
class RunRow:
    """One indexed run, as the commands show it."""

    id: int
    run_id: str | None
    log: str
    script: str | None
    argv: list[str]
    cwd: str | None
    host: str | None
    pid: int | None
    python: str | None
    backend: str | None
    started: str | None
    ended: str | None
    status: str
    exit_code: int | None
    error: str | None
    duration_s: float | None
    ops: int
    partial: int
    errors: int
    files_in: int
    files_out: int
    damage: str | None

    @property
    def name(self) -> str:
        """The script's file name (or the module / program name)."""
        return os.path.basename(self.script or "?") or "?"

    @property
    def running(self) -> bool:
        """An unfinished run whose process is still alive on this host."""
        return self.status == "unfinished" and _alive(self.host, self.pid)


@dataclass
class FileRow:
    id: int
    run: int
    op: int
    op_name: str | None
    site: str | None
    path: str
    mode: str
    hash: str | None
    size: int | None
    format: str | None
    node: str | None
    steps: list[str]
    approx: bool


@dataclass
class SyncStats:
    indexed: int = 0
    dropped: int = 0
    skipped: int = 0


class Store:
    """The index of one store directory. Use as a context manager, or call close()."""

    def __init__(self, home: str | None = None, *, quiet: bool = False) -> None:
        self.home = tracer_home(home)
        self.runs_dir = os.path.join(self.home, "runs")
        self.path = os.path.join(self.home, INDEX_NAME)
        self.quiet = quiet
        self.notes: list[str] = []
        os.makedirs(self.home, mode=0o700, exist_ok=True)
        self._lock_fd = os.open(os.path.join(self.home, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            self._flock(shared=True)
            self.db = self._open()
        except BaseException:
            os.close(self._lock_fd)
            raise

    # -- opening, creating, rebuilding ---------------------------------------------------------

    def _flock(self, shared: bool) -> None:
        if fcntl is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)

    def _open(self) -> sqlite3.Connection:
        if not os.path.exists(self.path):
            return self._recreate(None)
        try:
            return self._connect_checked()
        except _Corrupt as exc:
            return self._recreate(str(exc))

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                             check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        return db

    def _connect_checked(self) -> sqlite3.Connection:
        try:
            db = self._connect()
        except sqlite3.DatabaseError as exc:
            raise _Corrupt(f"it cannot be opened ({exc})") from None
        try:
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if app_id != APPLICATION_ID:
                n = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                raise _Corrupt("it is empty" if n == 0 else "it is not a tracer index")
            if version != SCHEMA_VERSION:
                raise _Corrupt(
                    f"it has schema version {version}, this tracer uses {SCHEMA_VERSION}")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("SELECT count(*) FROM runs").fetchone()
        except _Corrupt:
            db.close()
            raise
        except sqlite3.OperationalError as exc:
            db.close()
            if _busy(exc):
                raise
            raise _Corrupt(f"it cannot be read ({exc})") from None
        except sqlite3.DatabaseError as exc:
            db.close()
            raise _Corrupt(f"it is not a SQLite database ({exc})") from None
        return db

    def _recreate(self, why: str | None, force: bool = False) -> sqlite3.Connection:
        """Delete (if `why`) and create the index file, under the exclusive lock."""
        self._flock(shared=False)
        try:
            # Someone else may have done it while we waited for the lock.
            if os.path.exists(self.path) and not force:
                try:
                    return self._connect_checked()
                except _Corrupt as exc:
                    why = str(exc)
            if why is not None and os.path.exists(self.path):
                self._note(f"the run index {self.path} was rebuilt from the logs: {why}")
            # (a missing index is no news: `tracer run` leaves indexing to the first command
            # that reads the index, and that command builds it from the logs, as here)
            # A stale -wal next to a new database would be replayed into it: remove all three.
            for suffix in ("", "-wal", "-shm", "-journal"):
                try:
                    os.unlink(self.path + suffix)
                except FileNotFoundError:
                    pass
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
            db = self._connect()
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("BEGIN IMMEDIATE")
            for statement in TABLES.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO meta VALUES ('created', ?)", (_now_iso(),))
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
            return db
        finally:
            self._flock(shared=True)

    def _note(self, text: str) -> None:
        self.notes.append(text)
        if not self.quiet:
            sys.stderr.write(f"tracer: note: {text}\n")

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            os.close(self._lock_fd)  # also releases the flock

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- keeping it in step with the logs --------------------------------------------------------

    def sync(self) -> SyncStats:
        """Index new and changed logs, forget deleted ones."""
        stats = SyncStats()
        on_disk: dict[str, tuple[int, int]] = {}
        for log in glob.glob(os.path.join(glob.escape(self.runs_dir), "*.tlog")):
            st = _stat(log)
            if st is not None:
                on_disk[os.path.abspath(log)] = st
        known = {log: (size, mtime) for log, size, mtime in
                 self.db.execute("SELECT log, log_size, log_mtime_ns FROM runs")}
        skipped = {log: (size, mtime) for log, size, mtime in
                   self.db.execute("SELECT log, log_size, log_mtime_ns FROM skipped")}
        own = {os.path.basename(log): st[0] for log, st in on_disk.items()}
        for log in set(known) | set(skipped):
            if log in on_disk:
                continue
            # A log indexed from elsewhere (`tracer index LOG`, `run -o` with --home) stays
            # while it exists, unless it is the twin of one of ours: a store copied with
            # `cp -r` brings an index naming the original store's logs, which are these.
            st = _stat(log)
            twin = (
                st is not None and own.get(os.path.basename(log)) == st[0] and _in_a_store(log)
            )
            if st is None or twin:
                self._drop(log)
                stats.dropped += log in known
            else:
                on_disk[log] = st
        for log, st in sorted(on_disk.items()):
            if known.get(log) == st or skipped.get(log) == st:
                continue
            if self.index(log, st):
                stats.indexed += 1
            else:
                stats.skipped += 1
        return stats

    def index(self, log: str, st: tuple[int, int] | None = None) -> bool:
        """(Re)index one log; False (with a warning, once) when it cannot be read at all."""
        log = os.path.abspath(log)
        try:
            facts = extract(log)
        except LogFormatError as exc:
            st = st or _stat(log)
            if st is None:
                self._drop(log)
                return False
            age = time.time() - st[1] / 1e9
            if st[0] < 65536 and age < YOUNG_LOG_S:
                return False  # most likely a run that is starting: look again next time
            with self._write() as db:
                db.execute("DELETE FROM skipped WHERE log = ?", (log,))
                db.execute("INSERT INTO skipped VALUES (?, ?, ?, ?)", (log, st[0], st[1], str(exc)))
                self._delete_run(db, log)
            if not self.quiet:
                sys.stderr.write(f"tracer: warning: not indexed: {exc}\n")
            return False
        except OSError:
            self._drop(log)  # deleted under us
            return False
        self._insert(facts)
        return True

    def _drop(self, log: str) -> None:
        with self._write() as db:
            self._delete_run(db, log)
            db.execute("DELETE FROM skipped WHERE log = ?", (log,))

    @staticmethod
    def _delete_run(db: sqlite3.Connection, log: str) -> None:
        row = db.execute("SELECT id FROM runs WHERE log = ?", (log,)).fetchone()
        if row is None:
            return
        db.execute("DELETE FROM derivations WHERE run = ?", row)
        db.execute("DELETE FROM files WHERE run = ?", row)
        db.execute("DELETE FROM runs WHERE id = ?", row)

    def _insert(self, f: RunFacts) -> None:
        with self._write() as db:
            self._delete_run(db, f.log)
            db.execute("DELETE FROM skipped WHERE log = ?", (f.log,))
            cur = db.execute(
                "INSERT INTO runs (run_id, log, log_size, log_mtime_ns, script, argv, cwd, host,"
                " pid, python, backend, tracer_version, started, ended, status, exit_code, error,"
                " duration_s, ops, partial, errors, files_in, files_out, damage)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (f.run_id, f.log, f.log_size, f.log_mtime_ns, f.script, json.dumps(f.argv), f.cwd,
                 f.host, f.pid, f.python, f.backend, f.tracer_version, f.started, f.ended,
                 f.status, f.exit_code, f.error, f.duration_s, f.ops, f.partial, f.errors,
                 f.files_in, f.files_out, f.damage),
            )
            run = cur.lastrowid
            ids: list[int] = []
            for x in f.files:
                cur = db.execute(
                    "INSERT INTO files (run, op, op_name, site, path, mode, hash, size, format,"
                    " node, mtime_ns, steps, approx)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run, x.op, x.op_name, x.site, x.path, x.mode, x.hash, x.size, x.format, x.node,
                     x.mtime_ns, json.dumps(x.steps) if x.mode == "write" else None, int(x.approx)),
                )
                assert cur.lastrowid is not None
                ids.append(cur.lastrowid)
            db.executemany(
                "INSERT INTO derivations (run, output, input) VALUES (?, ?, ?)",
                [(run, ids[i], ids[j]) for i, x in enumerate(f.files) for j in x.inputs],
            )

    def rebuild(self) -> SyncStats:
        """Forget everything and index every log again (`tracer index --rebuild`)."""
        with self._write() as db:
            for table in ("derivations", "files", "runs", "skipped"):
                db.execute(f"DELETE FROM {table}")
        return self.sync()

    def forget(self, run: RunRow) -> None:
        with self._write() as db:
            self._delete_run(db, run.log)

    # -- questions -----------------------------------------------------------------------------

    def runs(self, limit: int | None = None) -> list[RunRow]:
        """Newest first (by start time)."""
        sql = f"SELECT {_RUN_COLS} FROM runs ORDER BY started DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_run(r) for r in self.db.execute(sql)]

    def run(self, id: int) -> RunRow:
        row = self.db.execute(f"SELECT {_RUN_COLS} FROM runs WHERE id = ?", (id,)).fetchone()
        return _run(row)

    def run_of_log(self, log: str) -> RunRow | None:
        row = self.db.execute(f"SELECT {_RUN_COLS} FROM runs WHERE log = ?",
                              (os.path.abspath(log),)).fetchone()
        return _run(row) if row else None

    def resolve(self, ref: str) -> RunRow:
        """A run from what a user typed: `latest`, `latest~N`, a log path, a run id or a unique
        prefix of one, or the id's hex suffix."""
        if ref == "latest" or ref.startswith("latest~"):
            n = 0
            if ref != "latest":
                try:
                    n = int(ref[len("latest~"):])
                except ValueError:
                    raise CommandError(f"bad run reference {ref!r}: use latest~N") from None
            runs = self.runs(limit=n + 1)
            if len(runs) <= n:
                count = len(runs)
                if count == 0:
                    raise CommandError(f"no runs found in {self.runs_dir} "
                                       "(run a script with `tracer run` first)")
                raise CommandError(f"{ref}: there are only {count} runs")
            return runs[n]
        if os.path.isfile(ref):
            row = self.run_of_log(ref)
            if row is None and self.index(ref):
                row = self.run_of_log(ref)
            if row is None:
                raise CommandError(f"{ref} could not be read as a tracer log")
            return row
        rows = [_run(r) for r in self.db.execute(
            f"SELECT {_RUN_COLS} FROM runs WHERE run_id = ? OR run_id LIKE ? ESCAPE '\\' "
            "OR run_id LIKE ? ESCAPE '\\' ORDER BY started DESC",
            (ref, _like(ref) + "%", "%-" + _like(ref) + "%"),
        )]
        exact = [r for r in rows if r.run_id == ref]
        if exact:
            rows = exact
        if not rows:
            raise CommandError(f"no run {ref!r} (see `tracer runs`; a log path works too)")
        if len({r.run_id for r in rows}) > 1:
            names = ", ".join(str(r.run_id) for r in rows[:5])
            raise CommandError(f"{ref!r} matches several runs: {names}")
        return rows[0]

    def writes_of_hash(self, digest: str) -> list[tuple[FileRow, RunRow]]:
        return self._files_with("f.hash = ? AND f.mode = 'write'", (digest,))

    def writes_of_path(self, path: str) -> list[tuple[FileRow, RunRow]]:
        return self._files_with("f.path = ? AND f.mode = 'write'", (path,))

    def reads_of_hash(self, digest: str) -> list[tuple[FileRow, RunRow]]:
        return self._files_with("f.hash = ? AND f.mode = 'read'", (digest,))

    def inputs_of(self, write: FileRow) -> list[FileRow]:
        """The reads a written file depends on, in op order, one per (path, hash)."""
        rows = self.db.execute(
            f"SELECT {_FILE_COLS} FROM derivations d JOIN files f ON f.id = d.input "
            "WHERE d.output = ? ORDER BY f.op, f.id", (write.id,)
        )
        out: list[FileRow] = []
        seen: set[tuple[str, str | None]] = set()
        for r in rows:
            f = _file(r)
            if (f.path, f.hash) not in seen:
                seen.add((f.path, f.hash))
                out.append(f)
        return out

    def files_of(self, run: RunRow) -> list[FileRow]:
        return [_file(r) for r in self.db.execute(
            f"SELECT {_FILE_COLS} FROM files f WHERE f.run = ? ORDER BY f.op, f.id", (run.id,))]

    def _files_with(self, where: str, params: Sequence[Any]) -> list[tuple[FileRow, RunRow]]:
        """Matching files with their runs, newest run first."""
        rows = self.db.execute(
            f"SELECT {_FILE_COLS}, {_RUN_COLS_R} FROM files f JOIN runs r ON r.id = f.run "
            f"WHERE {where} ORDER BY r.started DESC, r.id DESC, f.op DESC", tuple(params)
        ).fetchall()
        n = len(_FILE_COLS.split(","))
        return [(_file(r[:n]), _run(r[n:])) for r in rows]

    def integrity(self) -> str:
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])


# -- the one call `tracer run` makes at its end ---------------------------------------------------

def index_run(log_path: str, home: str | None = None) -> None:
    """Index one finished log into `<home>/index.sqlite`. Never raises: a log that cannot be
    read is skipped with a one-line warning, and so is an index that cannot be written."""
    try:
        with Store(home, quiet=True) as store:
            store.quiet = False
            store.index(log_path)
    except Exception as exc:  # the run itself succeeded: never fail it over its index
        try:
            sys.stderr.write(f"tracer: warning: could not index {log_path}: "
                             f"{type(exc).__name__}: {exc}\n")
        except Exception:
            pass


def _in_a_store(log: str) -> bool:
    """Is `log` in the runs/ folder of a store (`<home>/runs/x.tlog` beside an index)?"""
    home = os.path.dirname(os.path.dirname(log))
    return os.path.basename(os.path.dirname(log)) == "runs" and os.path.exists(
        os.path.join(home, INDEX_NAME)
    )


def open_store(home: str | None = None) -> Store:
    """Open and sync the index, as every store command does first. A database that turns out
    to be damaged inside (not just at its header) is rebuilt once. A command never creates a
    store: without one it is a CommandError."""
    if not os.path.isdir(tracer_home(home)):
        raise CommandError(f"no tracer store at {tracer_home(home)} (run a script with "
                           "`tracer run` first, or give --home / $TRACER_HOME)")
    store = Store(home)
    try:
        store.sync()
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and _busy(exc):
            store.close()
            raise CommandError(f"the run index {store.path} is busy: {exc}") from None
        store.close()
        store = Store(home)
        store.db.close()
        store.db = store._recreate(f"it is damaged ({exc})", force=True)
        store.sync()
    return store


# -- rows ---------------------------------------------------------------------------------------

_RUN_FIELDS = ("id", "run_id", "log", "script", "argv", "cwd", "host", "pid", "python", "backend",
               "started", "ended", "status", "exit_code", "error", "duration_s", "ops", "partial",
               "errors", "files_in", "files_out", "damage")
_RUN_COLS = ", ".join(_RUN_FIELDS)
_RUN_COLS_R = ", ".join("r." + c for c in _RUN_FIELDS)
_FILE_COLS = "f.id, f.run, f.op, f.op_name, f.site, f.path, f.mode, f.hash, f.size, f.format, " \
             "f.node, f.steps, f.approx"


def _run(r: Sequence[Any]) -> RunRow:
    d = dict(zip(_RUN_FIELDS, r, strict=False))
    d["argv"] = json.loads(d["argv"]) if d["argv"] else []
    return RunRow(**d)


def _file(r: Sequence[Any]) -> FileRow:
    return FileRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
                   json.loads(r[11]) if r[11] else [], bool(r[12]))


def _busy(exc: Exception) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _alive(host: str | None, pid: int | None) -> bool:
    import socket

    if pid is None or host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True
