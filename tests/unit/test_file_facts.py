"""tracer.fingerprint.files: path, size, mtime, content hash and format of a file."""

from __future__ import annotations

import dataclasses
import os
import pathlib

import pytest
import xxhash

from tracer.fingerprint import files
from tracer.fingerprint.files import FileFacts, file_facts, guess_format

AN_HOUR_AGO_NS = 3600 * 10**9


@pytest.fixture(autouse=True)
def empty_cache():
    files.clear_cache()
    yield
    files.clear_cache()


@pytest.fixture
def hash_reads(monkeypatch) -> list[str]:
    """Paths whose content was hashed (read in full), in order."""
    reads: list[str] = []
    real = files.hash_content

    def counting(path: str) -> str:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(files, "hash_content", counting)
    return reads


def write(path: pathlib.Path, data: bytes, age_ns: int = AN_HOUR_AGO_NS) -> pathlib.Path:
    """Write `data` and date the file `age_ns` in the past (out of the racy window)."""
    path.write_bytes(data)
    mtime = os.stat(path).st_mtime_ns - age_ns
    os.utime(path, ns=(mtime, mtime))
    return path


def expected_hash(data: bytes) -> str:
    return "xxh3_128:" + xxhash.xxh3_128_hexdigest(data)


def test_facts_of_a_file(tmp_path):
    # GIVEN a csv file
    data = b"a,b\n1,2\n"
    path = write(tmp_path / "data.csv", data)
    # WHEN asked about it
    facts = file_facts(path)
    # THEN every fact is right
    st = os.stat(path)
    assert facts == FileFacts(
        path=str(path),
        size=len(data),
        mtime_ns=st.st_mtime_ns,
        hash=expected_hash(data),
        format="csv",
    )


def test_facts_are_frozen(tmp_path):
    facts = file_facts(write(tmp_path / "x.txt", b"x"))
    assert facts is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.size = 0  # type: ignore[misc]


def test_relative_path_becomes_absolute_and_normalised(tmp_path, monkeypatch):
    write(tmp_path / "x.json", b"{}")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    facts = file_facts("../sub/./../x.json")
    assert facts is not None and facts.path == str(tmp_path / "x.json")


def test_symlink_is_kept_in_the_path_and_its_target_hashed(tmp_path):
    # GIVEN a link to a file
    target = write(tmp_path / "target.parquet", b"PAR1")
    link = tmp_path / "link.parquet"
    link.symlink_to(target)
    # WHEN asked about the link
    facts = file_facts(link)
    # THEN the path is the link's, the content the target's
    assert facts is not None
    assert facts.path == str(link)
    assert facts.hash == expected_hash(b"PAR1")


def test_bytes_and_pathlike_paths(tmp_path):
    path = write(tmp_path / "a.npy", b"\x93NUMPY")
    by_str = file_facts(str(path))
    assert by_str is not None
    assert file_facts(os.fsencode(path)) == by_str
    assert file_facts(path) == by_str


@pytest.mark.parametrize(
    "make_path",
    [
        lambda tmp: tmp / "missing.csv",
        lambda tmp: tmp,  # a directory
        lambda tmp: str(tmp / "bad\x00name.csv"),
        lambda tmp: 42,
        lambda tmp: None,
        lambda tmp: "/dev/null",  # not a regular file
    ],
    ids=["missing", "directory", "nul-in-path", "int", "None", "device"],
)
def test_no_regular_file_gives_none(tmp_path, make_path):
    assert file_facts(make_path(tmp_path)) is None


def test_unreadable_file_gives_none(tmp_path, monkeypatch):
    # GIVEN a file whose content cannot be read (root ignores chmod, so fail the open)
    path = write(tmp_path / "secret.csv", b"x")

    def denied(path: str) -> str:
        raise PermissionError(path)

    monkeypatch.setattr(files, "hash_content", denied)
    # THEN None, no exception
    assert file_facts(path) is None


def test_unchanged_file_is_hashed_once(tmp_path, hash_reads):
    # GIVEN a file asked about once
    path = write(tmp_path / "big.pkl", b"x" * 10_000)
    first = file_facts(path)
    # WHEN asked again, also through another spelling of the same path
    again = file_facts(path)
    other_spelling = file_facts(str(tmp_path / "." / "big.pkl"))
    # THEN the content was read once; the cache answered the rest
    assert first == again == other_spelling
    assert hash_reads == [str(path)]


def test_same_size_change_with_new_mtime_is_rehashed(tmp_path, hash_reads):
    # GIVEN a cached file
    path = write(tmp_path / "data.csv", b"a,b\n1,2\n")
    before = file_facts(path)
    # WHEN its content changes without changing its size, and its mtime moves
    write(path, b"a,b\n1,3\n", age_ns=AN_HOUR_AGO_NS // 2)
    after = file_facts(path)
    # THEN it is hashed again and the hash follows the content
    assert before is not None and after is not None
    assert before.size == after.size and before.mtime_ns != after.mtime_ns
    assert after.hash == expected_hash(b"a,b\n1,3\n") != before.hash
    assert len(hash_reads) == 2


def test_replaced_file_with_same_size_and_mtime_is_rehashed_by_inode(tmp_path, hash_reads):
    # GIVEN a cached file, replaced by a new file (new inode) of same size and same mtime
    path = write(tmp_path / "data.csv", b"old")
    before = file_facts(path)
    assert before is not None
    replacement = tmp_path / "tmp.csv"
    replacement.write_bytes(b"new")
    os.utime(replacement, ns=(before.mtime_ns, before.mtime_ns))
    os.replace(replacement, path)
    # WHEN asked again THEN the content is read again
    after = file_facts(path)
    assert after is not None and after.hash == expected_hash(b"new")
    assert len(hash_reads) == 2


def test_freshly_written_file_is_not_trusted_from_cache(tmp_path, hash_reads, monkeypatch):
    # GIVEN a file whose mtime is as recent as the clock: a same-size rewrite within the
    # same filesystem tick would keep its (size, mtime_ns, inode) key
    path = tmp_path / "fresh.csv"
    path.write_bytes(b"v1")
    mtime = os.stat(path).st_mtime_ns
    monkeypatch.setattr(files, "_clock", lambda: mtime + 1_000_000)  # 1 ms later
    first = file_facts(path)
    # WHEN it is rewritten with the same size, and the same mtime
    path.write_bytes(b"v2")
    os.utime(path, ns=(mtime, mtime))
    second = file_facts(path)
    # THEN the second ask hashed again and saw the new content
    assert first is not None and second is not None
    assert second.hash == expected_hash(b"v2") != first.hash
    assert len(hash_reads) == 2
    # AND once the clock has moved past the tick, the hash is cached
    monkeypatch.setattr(files, "_clock", lambda: mtime + 10**9)
    file_facts(path)
    file_facts(path)
    assert len(hash_reads) == 3


def test_file_changing_while_hashed_is_hashed_again(tmp_path, monkeypatch):
    # GIVEN a file that another writer appends to while we hash it the first time
    path = write(tmp_path / "growing.jsonl", b"{}\n")
    real = files.hash_content
    calls = []

    def racing(p: str) -> str:
        calls.append(p)
        digest = real(p)
        if len(calls) == 1:
            write(path, b"{}\n{}\n", age_ns=AN_HOUR_AGO_NS // 2)
        return digest

    monkeypatch.setattr(files, "hash_content", racing)
    # WHEN asked
    facts = file_facts(path)
    # THEN the facts describe the file as it ended up
    assert facts is not None
    assert facts.size == 6 and facts.hash == expected_hash(b"{}\n{}\n")
    assert len(calls) == 2


def test_content_is_streamed_in_chunks(tmp_path, monkeypatch):
    # GIVEN a chunk far smaller than the file
    data = os.urandom(100_003)
    path = write(tmp_path / "blob.npz", data)
    monkeypatch.setattr(files, "CHUNK_SIZE", 4096)
    # THEN the streamed hash equals the one-shot hash
    facts = file_facts(path)
    assert facts is not None and facts.hash == expected_hash(data)


def test_empty_file(tmp_path):
    facts = file_facts(write(tmp_path / "empty.txt", b""))
    assert facts is not None and facts.size == 0 and facts.hash == expected_hash(b"")


def test_cache_is_bounded(tmp_path, monkeypatch, hash_reads):
    monkeypatch.setattr(files, "CACHE_SIZE", 2)
    paths = [write(tmp_path / f"f{i}.csv", b"%d" % i) for i in range(3)]
    for p in paths:
        file_facts(p)
    file_facts(paths[0])  # evicted (least recently used): read again
    file_facts(paths[2])  # still cached
    assert hash_reads == [str(p) for p in paths] + [str(paths[0])]


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("data.csv", "csv"),
        ("DATA.CSV", "csv"),
        ("data.csv.gz", "csv"),
        ("data.csv.zip", "csv"),
        ("data.tsv", "tsv"),
        ("data.tab", "tsv"),
        ("data.parquet", "parquet"),
        ("data.pq", "parquet"),
        ("data.json", "json"),
        ("data.json.bz2", "json"),
        ("data.jsonl", "jsonl"),
        ("data.ndjson", "jsonl"),
        ("book.xlsx", "excel"),
        ("book.xls", "excel"),
        ("book.ods", "excel"),
        ("model.pkl", "pickle"),
        ("model.pickle", "pickle"),
        ("model.pkl.xz", "pickle"),
        ("model.joblib", "joblib"),
        ("model.joblib.z", "joblib"),
        ("arr.npy", "npy"),
        ("arrs.npz", "npz"),
        ("notes.txt", "txt"),
        ("table.feather", "feather"),
        ("store.h5", "hdf"),
        ("store.hdf5", "hdf"),
        ("table.orc", "orc"),
        ("doc.xml", "xml"),
        ("page.html", "html"),
        ("page.htm", "html"),
        ("archive.zip", "other"),
        ("README", "other"),
        (".csv", "other"),
        ("dir.csv/file", "other"),
        ("/abs/dir/x.parquet", "parquet"),
    ],
)
def test_guess_format(name, fmt):
    assert guess_format(name) == fmt
