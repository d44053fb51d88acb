"""Content-addressed cache of per-case results.

A per-case result is stored under a key that is the SHA-256 of

* the SHA-256 of the *content* of every input file of the case (never its
  name or its row in the manifest: renaming a file or reordering the manifest
  keeps the results, editing a mask does not),
* the case's non-file options (e.g. the mask label),
* the run's parameters, by content (a params file is hashed by its text, so
  editing it invalidates the cache even under the same name),
* the versions of the libraries that compute the result (pyradiomics, numpy,
  SimpleITK, nomofuse...) and the identity of the per-case function,
* for a case that writes output files (one HDF5 per slide), its id and the
  names of its outputs.

A per-case result may point to files the case wrote. Their size and SHA-256
are stored in the entry at write time (``outputs``), and :meth:`ResultCache.get`
reuses the result only if every such file is still there, with the same size
and content: a deleted or truncated output makes the case be computed again.

Each entry is one JSON file written atomically (a temporary file in the same
folder, then :func:`os.replace`), so a run killed mid-write leaves either the
complete entry or none. Hashing a large volume is not free, so file digests
are memoised by (absolute path, size, modification time) in
``file_digests.json`` inside the cache folder, and a re-run reads no image
twice.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path

__all__ = ["FileDigests", "ResultCache", "cache_key", "file_sha256", "atomic_write_bytes",
           "output_record"]

_CHUNK = 1 << 20  # 1 MiB


def file_sha256(path: str | os.PathLike, chunk_size: int = _CHUNK) -> str:
    """SHA-256 hex digest of a file's content, read in chunks (constant memory).

    A DICOM series given as a folder is hashed file by file in sorted order
    (names relative to the folder and contents).
    """
    path = Path(path)
    h = hashlib.sha256()
    if path.is_dir():
        for sub in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(str(sub.relative_to(path)).encode())
            h.update(b"\0")
            h.update(file_sha256(sub, chunk_size).encode())
        return h.hexdigest()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The bytes go to a temporary file in the same folder (same file system),
    are flushed to disk, and the temporary file is renamed over ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class FileDigests:
    """Content digests of files, memoised by (absolute path, size, mtime).

    Parameters
    ----------
    store : path, optional
        JSON file where the memo is kept between runs. ``None`` keeps it in
        memory only.

    Notes
    -----
    A file rewritten within the file system's timestamp resolution with the
    same size would keep its old digest; ``mtime_ns`` makes that window
    nanoseconds on modern file systems (as ``make`` and ``rsync`` accept).
    """

    def __init__(self, store: str | os.PathLike | None = None):
        self.store = Path(store) if store is not None else None
        self._memo: dict[str, list] = {}
        self._dirty = False
        self._lock = threading.Lock()
        self.n_hashed = 0  # files actually read (for tests and the summary)
        if self.store is not None and self.store.is_file():
            try:
                self._memo = json.loads(self.store.read_text(encoding="utf-8"))
            except (OSError, ValueError):  # a corrupt memo is only a lost shortcut
                self._memo = {}

    def digest(self, path: str | os.PathLike) -> str:
        """SHA-256 of the file's content (raises ``FileNotFoundError`` if it is missing)."""
        p = os.path.abspath(path)
        st = os.stat(p)
        if os.path.isdir(p):
            # a folder (DICOM series): stamp = its files' sizes and mtimes
            stamp = [0, 0]
            for sub in sorted(Path(p).rglob("*")):
                if sub.is_file():
                    s = sub.stat()
                    stamp = [stamp[0] + s.st_size, max(stamp[1], s.st_mtime_ns)]
        else:
            stamp = [st.st_size, st.st_mtime_ns]
        with self._lock:
            hit = self._memo.get(p)
        if hit is not None and hit[:2] == stamp:
            return hit[2]
        value = file_sha256(p)
        with self._lock:
            self._memo[p] = [*stamp, value]
            self._dirty = True
            self.n_hashed += 1
        return value

    def save(self) -> None:
        """Write the memo (atomically) if it changed."""
        if self.store is None or not self._dirty:
            return
        with self._lock:
            data = json.dumps(self._memo, sort_keys=True).encode()
            self._dirty = False
        atomic_write_bytes(self.store, data)


def _canonical(obj):
    """A JSON-able, order-independent form of ``obj`` (for hashing)."""
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(_canonical(v) for v in obj)
    if isinstance(obj, float):
        return repr(obj) if not math.isfinite(obj) else obj
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    if hasattr(obj, "item"):  # numpy scalar
        return _canonical(obj.item())
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return repr(obj)


def cache_key(
    files: Mapping[str, str | None],
    *,
    options: Mapping | None = None,
    params=None,
    versions: Mapping[str, str] | None = None,
    function: str = "",
    case_id: str | None = None,
    outputs=None,
) -> str:
    """SHA-256 key of one case's computation.

    Parameters
    ----------
    files : mapping of role -> content digest
        E.g. ``{"image": file_sha256(image), "mask": ...}``; ``None`` for an
        absent optional file. Digests, not paths: the key never depends on
        where a file lives or on the case's row.
    options : mapping, optional
        The case's non-file inputs (mask label, PET fields...).
    params : object, optional
        The run's parameters, JSON-able (mappings are hashed order-independently).
    versions : mapping, optional
        Library name -> version string.
    function : str
        Identity of the per-case function (``module:qualname`` and a digest of its source).
    case_id : str, optional
        Only for a case that writes output files named after it: then two
        cases with the same inputs do not share one result (and its files).
    outputs : sequence of str, optional
        Names of the result's output-file entries.

    Returns
    -------
    str
        64 hexadecimal characters.
    """
    payload = {
        "files": _canonical(dict(files)),
        "options": _canonical(dict(options or {})),
        "params": _canonical(params),
        "versions": _canonical(dict(versions or {})),
        "function": function,
    }
    if case_id is not None:
        payload["case_id"] = str(case_id)
    if outputs:
        payload["outputs"] = sorted(str(o) for o in outputs)
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


class ResultCache:
    """Per-case results, one JSON file per key under ``directory/ab/<key>.json``.

    ``get`` returns ``None`` for a missing or unreadable entry (an unreadable
    entry cannot come from this class, which writes atomically, but a disk
    could still be damaged: the case is then recomputed, not trusted), and for
    an entry whose output files are gone or changed (counted in ``n_stale``).

    Parameters
    ----------
    directory : path
        The cache folder (created if needed).
    digests : FileDigests, optional
        Used to check output files' SHA-256 (memoised by path, size and
        modification time, so an unchanged file is not read again).
    """

    def __init__(self, directory: str | os.PathLike, digests: FileDigests | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.digests = digests if digests is not None else FileDigests()
        self.n_stale = 0  # entries not reused because an output file was missing or changed

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        try:
            entry = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key or "result" not in entry:
            return None
        outputs = entry.get("outputs") or {}
        if not isinstance(outputs, dict) or not all(
                self._intact(rec) for rec in outputs.values()):
            self.n_stale += 1
            return None
        return entry["result"]

    def _intact(self, record) -> bool:
        """Is an output file still what the case wrote (same size, same SHA-256)?"""
        try:
            path, size, sha = record["path"], int(record["size"]), record["sha256"]
            return os.path.getsize(path) == size and self.digests.digest(path) == sha
        except (OSError, KeyError, TypeError, ValueError):
            return False

    def put(self, key: str, result: Mapping, *, case_id: str | None = None,
            outputs: Mapping[str, Mapping] | None = None) -> None:
        """Store ``result`` under ``key``.

        ``outputs`` maps each output name to :func:`output_record` of the file
        the case wrote; the entry is reused only while those files are intact.
        """
        entry = {
            "key": key,
            "case_id": case_id,  # informational only: never part of the key
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "result": _json_ready(result),
        }
        if outputs:
            entry["outputs"] = {str(k): dict(v) for k, v in outputs.items()}
        atomic_write_bytes(self.path(key), json.dumps(entry).encode())

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("??/*.json"))


def output_record(path: str | os.PathLike, digests: FileDigests | None = None) -> dict:
    """What identifies an output file a case wrote: absolute path, size and SHA-256.

    Raises ``OSError`` (``FileNotFoundError``...) if the file cannot be read.
    """
    p = os.path.abspath(path)
    size = os.path.getsize(p)
    sha = digests.digest(p) if digests is not None else file_sha256(p)
    return {"path": p, "size": size, "sha256": sha}


def _json_ready(result: Mapping) -> dict:
    out = {}
    for k, v in result.items():
        if hasattr(v, "item") and getattr(v, "ndim", 0) == 0:
            v = v.item()
        elif hasattr(v, "tolist"):
            v = v.tolist()
        out[str(k)] = v
    return out
