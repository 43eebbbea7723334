"""The layout of the run index (`<home>/index.sqlite`): SCHEMA_VERSION and the tables.

The index is a cache of the logs under `<home>/runs/`: every row can be rebuilt from them, so a
schema change never migrates anything. A database whose `user_version` is not SCHEMA_VERSION
(or whose `application_id` is not ours) is thrown away and rebuilt from the logs.

Schema history:

    1  first release: runs, files (every FILE record, with the steps that made each write),
       derivations (which reads each written file depends on), skipped (unreadable logs, so
       each is reported once), meta.
"""

from __future__ import annotations

SCHEMA_VERSION = 1
APPLICATION_ID = 0x54524331  # "TRC1": tells a tracer index from any other SQLite file

TABLES = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    run_id         TEXT,               -- the header's run id (what users type)
    log            TEXT NOT NULL UNIQUE,  -- absolute path of the log
    log_size       INTEGER NOT NULL,   -- size and mtime when indexed: a changed log is re-read
    log_mtime_ns   INTEGER NOT NULL,
    script         TEXT,
    argv           TEXT,               -- JSON list
    cwd            TEXT,
    host           TEXT,
    pid            INTEGER,
    python         TEXT,
    backend        TEXT,
    tracer_version TEXT,
    started        TEXT,               -- ISO 8601 UTC, sorts as text
    ended          TEXT,
    status         TEXT NOT NULL,      -- ok | error | interrupted | unfinished
    exit_code      INTEGER,
    error          TEXT,
    duration_s     REAL,
    ops            INTEGER NOT NULL,
    partial        INTEGER NOT NULL,   -- ops recorded with what was known
    errors         INTEGER NOT NULL,   -- tracer's own errors
    files_in       INTEGER NOT NULL,   -- distinct paths read
    files_out      INTEGER NOT NULL,   -- distinct paths written
    damage         TEXT                -- why reading stopped early, if it did
);
CREATE INDEX runs_run_id ON runs (run_id);
CREATE INDEX runs_started ON runs (started);
CREATE TABLE files (
    id       INTEGER PRIMARY KEY,
    run      INTEGER NOT NULL,         -- runs.id
    op       INTEGER NOT NULL,         -- the op's seq in its run
    op_name  TEXT,
    site     TEXT,                     -- "script.py:12 main()"
    path     TEXT NOT NULL,            -- absolute
    mode     TEXT NOT NULL,            -- read | write
    hash     TEXT,                     -- "xxh3_128:<hex>" of the whole content, NULL if unknown
    size     INTEGER,
    format   TEXT,
    node     TEXT,                     -- the data node read or written
    mtime_ns INTEGER,
    steps    TEXT,                     -- writes: JSON list of the top-level ops that made it
    approx   INTEGER NOT NULL DEFAULT 0  -- writes: inputs guessed (every earlier read)
);
CREATE INDEX files_hash ON files (hash, mode);
CREATE INDEX files_path ON files (path, mode);
CREATE INDEX files_run ON files (run);
CREATE TABLE derivations (
    run    INTEGER NOT NULL,           -- runs.id
    output INTEGER NOT NULL,           -- files.id of a write
    input  INTEGER NOT NULL            -- files.id of a read it depends on
);
CREATE INDEX derivations_output ON derivations (output);
CREATE INDEX derivations_run ON derivations (run);
CREATE TABLE skipped (
    log          TEXT PRIMARY KEY,
    log_size     INTEGER NOT NULL,
    log_mtime_ns INTEGER NOT NULL,
    reason       TEXT NOT NULL
);
"""
