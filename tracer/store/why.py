"""`why FILE`: where exactly this content of a file came from, across runs and scripts.

`explain(store, path)` hashes the file as it is now and looks the hash up among the writes the
index knows. The run that wrote this content (preferring a write to this same path, then the
newest) is its origin; the reads that write depends on (found in the run's lineage) are its
inputs, and each input is explained the same way, using only runs that started no later than
the run that read it — down to raw files no recorded run wrote. The answer is a plain tree of
`Source`s; `tracer.renderers.store_views` draws it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from tracer.fingerprint.files import file_facts
from tracer.store.index import FileRow, RunRow, Store

Match = tuple[FileRow, RunRow]


@dataclass
class Writer:
    run: RunRow
    file: FileRow  # the write record
    inputs: list[Source] = field(default_factory=list)
    others: int = 0  # other runs that wrote the same content
    repeat: bool = False  # explained earlier in the tree


@dataclass
class Source:
    """One file content in the answer."""

    path: str
    hash: str | None
    size: int | None
    state: str  # written | raw | changed | unhashed
    writer: Writer | None = None
    last_write: Match | None = None  # state "changed": the last recorded write of this path
    written_as: str | None = None  # the writer wrote this content under another path


@dataclass
class Answer:
    path: str
    exists: bool
    hash: str | None
    size: int | None
    verdict: str  # written | changed | raw | unknown | missing
    root: Source | None = None
    last_write: Match | None = None  # changed / missing: the last recorded write of this path
    readers: list[Match] = field(default_factory=list)


class _Explainer:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.seen: set[int] = set()
        self._writes: dict[str, list[Match]] = {}

    def writes(self, digest: str) -> list[Match]:
        if digest not in self._writes:
            self._writes[digest] = self.store.writes_of_hash(digest)
        return self._writes[digest]

    def written(self, match: Match, path: str, others: int) -> Source:
        f, run = match
        writer = Writer(run, f, others=others)
        src = Source(path, f.hash, f.size, "written", writer,
                     written_as=f.path if f.path != path else None)
        if f.id in self.seen:
            writer.repeat = True
            return src
        self.seen.add(f.id)
        writer.inputs = [self.input(i, run) for i in self.store.inputs_of(f)]
        return src

    def input(self, read: FileRow, reader: RunRow) -> Source:
        if read.hash is None:
            return Source(read.path, None, read.size, "unhashed")
        before = [
            (f, r) for f, r in self.writes(read.hash)
            if (r.started or "") <= (reader.started or "")
            and not (r.id == reader.id and f.op > read.op)
        ]
        if before:
            best = _best(before, read.path)
            return self.written(best, read.path, len({r.id for _, r in before}) - 1)
        earlier = [
            (f, r) for f, r in self.store.writes_of_path(read.path)
            if (r.started or "") <= (reader.started or "")
        ]
        if earlier:
            return Source(read.path, read.hash, read.size, "changed", last_write=earlier[0])
        return Source(read.path, read.hash, read.size, "raw")


def _best(matches: list[Match], path: str) -> Match:
    """A write to this same path first, then the newest (matches come newest first)."""
    for m in matches:
        if m[0].path == path:
            return m
    return matches[0]


def explain(store: Store, path: str) -> Answer:
    abspath = os.path.normpath(os.path.abspath(path))
    facts = file_facts(abspath)
    ex = _Explainer(store)
    if facts is None:
        writes = store.writes_of_path(abspath)
        answer = Answer(abspath, False, None, None, "missing",
                        last_write=writes[0] if writes else None)
        if writes:
            answer.root = ex.written(writes[0], abspath, 0)
        return answer
    answer = Answer(abspath, True, facts.hash, facts.size, "unknown")
    writes = ex.writes(facts.hash)
    if writes:
        answer.verdict = "written"
        others = len({r.id for _, r in writes}) - 1
        answer.root = ex.written(_best(writes, abspath), abspath, others)
        return answer
    path_writes = store.writes_of_path(abspath)
    answer.readers = store.reads_of_hash(facts.hash)
    if path_writes:
        answer.verdict = "changed"
        answer.last_write = path_writes[0]
        answer.root = ex.written(path_writes[0], abspath, 0)
    elif answer.readers:
        answer.verdict = "raw"
    return answer
