"""Facts about a file read or written by the traced program: where, how big, when, what.

`file_facts(path)` returns the absolute path (symlinks kept as written), size, mtime_ns,
the xxh3_128 of the full content and the format guessed from the name, or None when the
path is not a readable regular file. It never raises.

Content hashes are cached by (absolute path, size, mtime_ns, inode), so asking again about
an unchanged file costs one stat. The content is streamed in 1 MiB chunks into one reused
buffer: memory stays bounded for multi-GB files.

A file rewritten with the same size within one tick of the filesystem clock keeps its
mtime_ns, so its stat key alone cannot tell the two contents apart (git calls this "racy
clean"). A hash is therefore cached for good only if the file's mtime was older than the
clock's granularity when hashing started; otherwise the next ask hashes the file once more.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import xxhash

CHUNK_SIZE = 1 << 20
CACHE_SIZE = 4096

# How far apart two writes can be and still get the same mtime_ns. Linux filesystems
# stamp with the kernel's coarse clock (a few ms); FAT, HFS+ and some network filesystems
# stamp whole seconds (FAT: two), which shows as an mtime_ns that is a multiple of 1 s.
_FINE_TICK_NS = 50_000_000
_COARSE_TICK_NS = 2_000_000_000

_clock = time.time_ns  # the wall clock the filesystem stamps with (a test seam)


@dataclass(frozen=True)
class FileFacts:
    path: str  # absolute, normalised (os.path.abspath; symlinks are not resolved)
    size: int
    mtime_ns: int
    hash: str  # "xxh3_128:<32 hex>" of the full content
    format: str  # see guess_format


_Key = tuple[str, int, int, int]
_cache: OrderedDict[_Key, FileFacts] = OrderedDict()
_lock = threading.Lock()


def file_facts(path: str | os.PathLike[str] | os.PathLike[bytes] | bytes) -> FileFacts | None:
    """Facts about the regular file at `path`, or None if there is none we can read."""
    try:
        abspath = os.path.abspath(os.fsdecode(path))
        st = os.stat(abspath)
        if not stat.S_ISREG(st.st_mode):
            return None
        key = _key(abspath, st)
        with _lock:
            facts = _cache.get(key)
            if facts is not None:
                _cache.move_to_end(key)
                return facts
        return _hash_and_cache(abspath, key)
    except Exception:  # OSError, bad path types, NUL in the path...
        return None


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _key(abspath: str, st: os.stat_result) -> _Key:
    return (abspath, st.st_size, st.st_mtime_ns, st.st_ino)


def _hash_and_cache(abspath: str, key: _Key) -> FileFacts | None:
    # A file changing while we read it gives a hash of neither version: hash again until
    # the stat before and after agree (a few times, then report what we read, uncached).
    for _attempt in range(3):
        started = _clock()
        digest = hash_content(abspath)
        st = os.stat(abspath)
        after = _key(abspath, st)
        if after == key:
            break
        key = after
    else:
        return _facts(abspath, key, digest)
    facts = _facts(abspath, key, digest)
    mtime_ns = key[2]
    tick = _COARSE_TICK_NS if mtime_ns % 1_000_000_000 == 0 else _FINE_TICK_NS
    if mtime_ns + tick < started:
        with _lock:
            _cache[key] = facts
            if len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return facts


def _facts(abspath: str, key: _Key, digest: str) -> FileFacts:
    return FileFacts(abspath, key[1], key[2], digest, guess_format(abspath))


def hash_content(path: str) -> str:
    """'xxh3_128:<32 hex>' of the file's content, read in CHUNK_SIZE pieces."""
    h = xxhash.xxh3_128()
    buf = bytearray(CHUNK_SIZE)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(view[:n])
    return "xxh3_128:" + h.hexdigest()


_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xlsb": "excel",
    ".xls": "excel",
    ".ods": "excel",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
    ".npy": "npy",
    ".npz": "npz",
    ".txt": "txt",
    ".text": "txt",
    ".feather": "feather",
    ".ftr": "feather",
    ".h5": "hdf",
    ".hdf": "hdf",
    ".hdf5": "hdf",
    ".he5": "hdf",
    ".orc": "orc",
    ".xml": "xml",
    ".html": "html",
    ".htm": "html",
}

# Compression suffixes pandas, numpy and joblib infer and strip: data.csv.gz is csv.
_COMPRESSION = frozenset({".gz", ".bz2", ".xz", ".zst", ".zip", ".tar", ".lzma", ".z"})


def guess_format(path: str) -> str:
    """The data format named by the file name: csv, tsv, parquet, ..., or "other"."""
    name = os.path.basename(os.fsdecode(path)).lower()
    stem, ext = os.path.splitext(name)
    if ext in _COMPRESSION:
        stem, ext = os.path.splitext(stem)
    return _FORMATS.get(ext, "other")
