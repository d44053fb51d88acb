"""Result cache: content keys, memoised digests, atomic entries."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from fusion.cohort import cache as cache_mod
from fusion.cohort.cache import FileDigests, ResultCache, cache_key, file_sha256


def test_file_digest_is_the_content_sha256_read_in_chunks(tmp_path):
    p = tmp_path / "big.bin"
    data = os.urandom(3 * (1 << 20) + 123)  # spans several 1 MiB chunks
    p.write_bytes(data)
    assert file_sha256(p) == hashlib.sha256(data).hexdigest()
    assert file_sha256(p, chunk_size=1000) == hashlib.sha256(data).hexdigest()


def test_digests_are_memoised_by_stat_signature_and_an_in_place_edit_is_seen(tmp_path):
    p = tmp_path / "mask.nrrd"
    p.write_bytes(b"abc" * 1000)
    store = tmp_path / "memo.json"
    # a file changed less than `settle` seconds before hashing is never memoised (racy window)
    fresh = FileDigests(store)
    assert fresh.digest(p) == fresh.digest(p) and fresh.n_hashed == 2
    d = FileDigests(store, settle=0)
    first = d.digest(p)
    assert d.digest(p) == first and d.n_hashed == 1
    d.save()
    d2 = FileDigests(store, settle=0)  # a later run: the memo is trusted while nothing changed
    assert d2.digest(p) == first and d2.n_hashed == 0
    # edited in place: same size, modification time put back (touch -d, rsync -t, cp -p)
    st = os.stat(p)
    with open(p, "r+b") as fh:
        fh.write(b"abd")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (os.stat(p).st_size, os.stat(p).st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert d2.digest(p) == hashlib.sha256(b"abd" + b"abc" * 999).hexdigest() and d2.n_hashed == 1
    # replaced by another file with the same size and times (a copy, a rename): another inode
    other = tmp_path / "other.nrrd"
    other.write_bytes(b"xyz" * 1000)
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(other, p)
    assert d2.digest(p) == hashlib.sha256(b"xyz" * 1000).hexdigest() and d2.n_hashed == 2
    # trust_stat=False reads every time
    slow = FileDigests(store, settle=0, trust_stat=False)
    slow.digest(p), slow.digest(p)
    assert slow.n_hashed == 2
    # a damaged memo, or one of the old (path, size, mtime) format, is only a lost shortcut
    for text in ("{not json", json.dumps({str(p): [3000, st.st_mtime_ns, "0" * 64]}), "[1, 2]",
                 json.dumps({"format": FileDigests.FORMAT, "version": 2,
                             "files": {str(p): {"signature": 5, "sha256": None}}})):
        store.write_text(text)
        again = FileDigests(store, settle=0)
        assert again.digest(p) == hashlib.sha256(b"xyz" * 1000).hexdigest()
        assert again.n_hashed == 1
    with pytest.raises(FileNotFoundError):
        d2.digest(tmp_path / "missing.nrrd")


def test_a_dicom_folder_signature_sees_each_file(tmp_path):
    series = tmp_path / "CT"
    series.mkdir()
    for i in range(3):
        (series / f"{i}.dcm").write_bytes(bytes([i]) * 100)
    sig, _ = FileDigests.signature(series)
    d = FileDigests(settle=0)
    first = d.digest(series)
    assert d.digest(series) == first and d.n_hashed == 1
    st = os.stat(series / "1.dcm")
    (series / "1.dcm").write_bytes(b"\x07" * 100)  # same size, time put back
    os.utime(series / "1.dcm", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert FileDigests.signature(series)[0] != sig
    assert d.digest(series) != first and d.n_hashed == 2


def test_a_damaged_cache_entry_is_recomputed_never_trusted(tmp_path):
    c = ResultCache(tmp_path / "c")
    key = "cd" + "0" * 62
    c.put(key, {"x": 1.5, "n": 3}, case_id="p1")
    assert c.get(key) == {"x": 1.5, "n": 3} and c.n_damaged == 0
    good = c.path(key).read_text()
    damaged = [
        good.replace("1.5", "2.5"),                                   # a value changed
        good[: len(good) // 2],                                       # truncated
        json.dumps({**json.loads(good), "result": "x"}),              # wrong type
        "\xff\xfe garbage",                                            # not JSON
        "[" * 100_000 + "]" * 100_000,                                # deeply nested
        json.dumps({**json.loads(good), "result": {"x": 9.0, "n": 3}}),  # edited, checksum kept
    ]
    for n, text in enumerate(damaged, start=1):
        c.path(key).write_text(text, encoding="utf-8", errors="surrogateescape")
        assert c.get(key) is None and c.n_damaged == n, text[:60]
    c.path(key).write_bytes(b"\x00" * 10)  # binary
    assert c.get(key) is None and c.n_damaged == len(damaged) + 1
    assert c.get("ef" + "0" * 62) is None and c.n_damaged == len(damaged) + 1  # missing: not damaged


def test_an_unwritable_cache_folder_is_refused_before_anything(tmp_path):
    from fusion.exceptions import OutputError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder.*--cache-dir.*--no-cache"):
        ResultCache(blocker)
    with pytest.raises(OutputError, match="cannot write in the result cache folder"):
        ResultCache(blocker / "sub")
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(OutputError, match="cannot write in the result cache folder"):
            ResultCache(ro)


def test_cache_key_depends_on_content_params_versions_not_order():
    files = {"image": "1" * 64, "mask": "2" * 64}
    k = cache_key(files, options={"label": 1}, params={"a": 1, "b": [1, 2]},
                  versions={"numpy": "2.0"}, function="f")
    assert len(k) == 64
    same = cache_key(dict(reversed(list(files.items()))), options={"label": 1},
                     params={"b": [1, 2], "a": 1}, versions={"numpy": "2.0"}, function="f")
    assert same == k
    changed = [
        cache_key({**files, "mask": "3" * 64}, options={"label": 1}, params={"a": 1, "b": [1, 2]},
                  versions={"numpy": "2.0"}, function="f"),
        cache_key(files, options={"label": 2}, params={"a": 1, "b": [1, 2]},
                  versions={"numpy": "2.0"}, function="f"),
        cache_key(files, options={"label": 1}, params={"a": 1, "b": [2, 1]},
                  versions={"numpy": "2.0"}, function="f"),
        cache_key(files, options={"label": 1}, params={"a": 1, "b": [1, 2]},
                  versions={"numpy": "2.1"}, function="f"),
        cache_key(files, options={"label": 1}, params={"a": 1, "b": [1, 2]},
                  versions={"numpy": "2.0"}, function="g"),
    ]
    assert len({k, *changed}) == 6


def test_entries_are_written_atomically(tmp_path, monkeypatch):
    c = ResultCache(tmp_path / "c")
    key = "ab" + "0" * 62
    c.put(key, {"x": 1.0, "y": float("nan")}, case_id="p1")
    got = c.get(key)
    assert got["x"] == 1.0 and got["y"] != got["y"]  # NaN survives

    def crash(src, dst):  # the process dies between writing the temp file and the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_mod.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        c.put(key, {"x": 2.0}, case_id="p1")
    monkeypatch.undo()
    assert c.get(key)["x"] == 1.0  # the old entry, complete
    assert [p.name for p in (tmp_path / "c" / "ab").iterdir()] == [f"{key}.json"]  # no temp left
    # a truncated entry (damaged disk) is treated as missing, never trusted
    c.path(key).write_text('{"key": "' + key + '", "resu')
    assert c.get(key) is None and key not in c
