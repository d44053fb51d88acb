"""Result cache: content keys, memoised digests, atomic entries."""

from __future__ import annotations

import hashlib
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


def test_digests_are_memoised_by_path_size_and_mtime_across_runs(tmp_path):
    p = tmp_path / "vol.nrrd"
    p.write_bytes(b"abc" * 1000)
    store = tmp_path / "memo.json"
    d = FileDigests(store)
    first = d.digest(p)
    assert d.digest(p) == first and d.n_hashed == 1
    d.save()
    d2 = FileDigests(store)  # a later run
    assert d2.digest(p) == first and d2.n_hashed == 0
    p.write_bytes(b"abd" * 1000)  # same size, new content and mtime
    st = os.stat(p)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert d2.digest(p) == hashlib.sha256(b"abd" * 1000).hexdigest() and d2.n_hashed == 1
    (store).write_text("{not json")  # a damaged memo is only a lost shortcut
    assert FileDigests(store).digest(p) == hashlib.sha256(b"abd" * 1000).hexdigest()
    with pytest.raises(FileNotFoundError):
        d2.digest(tmp_path / "missing.nrrd")


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
