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
complete entry or none, and carries the SHA-256 of its own content: an entry
damaged afterwards (a disk error, a truncated copy, an edit by hand) fails
that check when read and is computed again, with a note in the run's summary
(:attr:`ResultCache.n_damaged`); it is never trusted and never stops a run.

Input digests and when a file is not read again
-----------------------------------------------
Hashing a large volume is not free, so :class:`FileDigests` memoises each
file's digest (in ``file_digests.json`` inside the cache folder) under its
*stat signature*: device, inode, size, modification time and **status-change
time** (``st_ctime``), all in nanoseconds. A memoised digest is reused only
when the whole signature is unchanged. Size and modification time alone are
not enough: a mask edited in place keeps its size, and its modification time
can be put back (``touch -d``, ``os.utime``, ``rsync -t``, ``cp -p``, an
editor or tool that preserves it). Why the signature is enough:

1. Every change of a file's content through the kernel (``write``,
   ``truncate``, ``mmap`` write-back) sets its status-change time to the
   current time, and so does every change of its metadata, including setting
   its modification time back: ``utime`` itself updates ``st_ctime``, and no
   system call sets ``st_ctime`` to a chosen value. Replacing a file by
   another (``os.replace``, a copy, an editor's save-as-rename) changes its
   inode and its status-change time.
2. So an unchanged signature means no change since the signature was taken,
   *provided* a later change cannot carry the same timestamp. It could if it
   happened within the same tick of the file system's clock (file times come
   from a coarse clock: a few milliseconds on Linux, 1 to 2 s on some file
   systems), which is git's "racily clean" problem. Hence a digest is memoised
   only if the file's status-change time is at least :attr:`FileDigests.settle`
   seconds (2 s) older than the moment hashing began, and the signature read
   after hashing equals the one read before (the file did not change while it
   was read). Any change after that carries a later timestamp.
3. What remains assumed: the clock is not set back by more than ``settle``
   while a cache is in use, the file system keeps status-change times (POSIX
   file systems do; FAT/exFAT do not, and on Windows ``st_ctime`` is the
   creation time, so there every file is hashed every run), a network file
   system's server clock is within ``settle`` of this machine's, and nobody
   writes to the disk beneath the file system. ``FileDigests(trust_stat=False)``
   hashes every file every time for when these cannot be relied on.

A DICOM series given as a folder has for signature the digest of its files'
names and signatures (a file added, removed, renamed or changed changes it).

During a run, the runner also compares each input's signature after its case
has finished with the one from before it started: a file changed meanwhile
makes the case fail ("changed while the case ran") rather than store a result
of unknown content (:mod:`fusion.cohort.runner`).
"""

from __future__ import annotations

import errno
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
    """Content digests (SHA-256) of files, memoised by stat signature (see the module docstring).

    Parameters
    ----------
    store : path, optional
        JSON file where the memo is kept between runs. ``None`` keeps it in
        memory only.
    trust_stat : bool, optional
        Reuse a memoised digest while the file's stat signature (device,
        inode, size, modification and status-change times) is unchanged.
        Default: True, except on Windows (where ``st_ctime`` is not a
        status-change time). ``False`` hashes every file on every call.
    settle : float, optional
        A digest is memoised only if the file had not changed for this many
        seconds before hashing began (the timestamp granularity margin).
        Default :attr:`SETTLE_SECONDS` (2 s).

    Attributes
    ----------
    n_hashed : int
        Files (or folders) actually read.
    """

    #: Format name of the memo file; a memo in another format is ignored (files are hashed again).
    FORMAT = "nomofuse.fusion.FileDigests"
    VERSION = 2
    #: Default of ``settle``: more than the coarsest timestamp tick of common file systems.
    SETTLE_SECONDS = 2.0

    def __init__(self, store: str | os.PathLike | None = None, *, trust_stat: bool | None = None,
                 settle: float | None = None):
        self.store = Path(store) if store is not None else None
        self.trust_stat = (os.name != "nt") if trust_stat is None else bool(trust_stat)
        self.settle = float(self.SETTLE_SECONDS if settle is None else settle)
        self._memo: dict[str, dict] = {}
        self._dirty = False
        self._lock = threading.Lock()
        self.n_hashed = 0
        if self.store is not None and self.store.is_file():
            self._memo = self._load(self.store)

    @classmethod
    def _load(cls, store: Path) -> dict:
        """The memo's valid entries (a damaged or old memo is only a lost shortcut)."""
        try:
            if store.stat().st_size > 512 * (1 << 20):
                return {}
            data = json.loads(store.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict) or data.get("format") != cls.FORMAT or \
                data.get("version") != cls.VERSION or not isinstance(data.get("files"), dict):
            return {}
        return {p: e for p, e in data["files"].items()
                if isinstance(e, dict) and isinstance(e.get("signature"), str)
                and isinstance(e.get("sha256"), str) and len(e["sha256"]) == 64}

    @staticmethod
    def signature(path: str | os.PathLike) -> tuple[str, int]:
        """Stat signature of a file or folder, and its newest status-change time (ns).

        The signature of a file is ``dev:ino:size:mtime_ns:ctime_ns``; of a
        folder, the SHA-256 of its own and each file's relative name and
        signature. Raises ``OSError`` (``FileNotFoundError``...) if it cannot be read.
        """
        st = os.stat(path)
        if not os.path.isdir(path):
            return (f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}",
                    st.st_ctime_ns)
        h = hashlib.sha256(f"dir:{st.st_dev}:{st.st_ino}:{st.st_ctime_ns}".encode())
        newest = st.st_ctime_ns
        root = Path(path)
        for sub in sorted(root.rglob("*")):
            s = sub.stat()
            if not sub.is_file():
                newest = max(newest, s.st_ctime_ns)
                continue
            h.update(f"\0{sub.relative_to(root)}\0{s.st_ino}:{s.st_size}:{s.st_mtime_ns}:"
                     f"{s.st_ctime_ns}".encode())
            newest = max(newest, s.st_ctime_ns)
        return "dir:" + h.hexdigest(), newest

    def digest(self, path: str | os.PathLike) -> str:
        """SHA-256 of the file's content (raises ``FileNotFoundError`` if it is missing).

        Raises ``OSError`` if the file keeps changing while it is read (it is
        still being written).
        """
        p = os.path.abspath(path)
        sig, newest = self.signature(p)
        if self.trust_stat:
            with self._lock:
                hit = self._memo.get(p)
            if hit is not None and hit["signature"] == sig:
                return hit["sha256"]
        for _ in range(3):
            began = time.time_ns()
            value = file_sha256(p)
            after, newest_after = self.signature(p)
            with self._lock:
                self.n_hashed += 1
            if after == sig:
                break
            sig, newest = after, newest_after  # changed while read: read it again
        else:
            raise OSError(errno.EBUSY, "the file kept changing while it was read (is it still "
                          "being written?); run again once it is complete", p)
        if self.trust_stat and newest <= began - int(self.settle * 1e9):
            with self._lock:
                self._memo[p] = {"signature": sig, "sha256": value}
                self._dirty = True
        return value

    def save(self) -> None:
        """Write the memo (atomically) if it changed. Raises ``OSError`` if it cannot."""
        if self.store is None or not self._dirty:
            return
        with self._lock:
            data = json.dumps({"format": self.FORMAT, "version": self.VERSION,
                               "files": self._memo}, sort_keys=True).encode()
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

    ``get`` returns ``None`` for a missing entry, for a damaged one (unreadable,
    not JSON, another key, or content that does not match its own SHA-256:
    counted in ``n_damaged``; the case is then computed again, never trusted),
    and for an entry whose output files are gone or changed (``n_stale``).

    Parameters
    ----------
    directory : path
        The cache folder, created if needed. It must be writable: the
        constructor checks it and raises :class:`~fusion.exceptions.OutputError`
        with the fix before any case is computed.
    digests : FileDigests, optional
        Used to check output files' SHA-256 (memoised by stat signature, so an
        unchanged file is not read again).
    """

    #: Format name written in every entry; an entry of another format is not reused.
    FORMAT = "nomofuse.fusion.ResultCache"
    VERSION = 2
    #: An entry larger than this is damaged (a per-case result is a row of a table).
    MAX_ENTRY_BYTES = 256 * (1 << 20)

    def __init__(self, directory: str | os.PathLike, digests: FileDigests | None = None):
        self.directory = Path(directory)
        _check_writable_folder(self.directory, "result cache")
        self.digests = digests if digests is not None else FileDigests()
        self.n_stale = 0    # entries not reused because an output file was missing or changed
        self.n_damaged = 0  # entries not reused because they failed their own integrity check

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    @staticmethod
    def _body_digest(entry: Mapping) -> str:
        body = {k: v for k, v in entry.items() if k != "sha256"}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def get(self, key: str) -> dict | None:
        path = self.path(key)
        try:
            if path.stat().st_size > self.MAX_ENTRY_BYTES:
                raise ValueError("entry too large")
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError):  # unreadable, not UTF-8, not JSON
            self.n_damaged += 1
            return None
        if not (isinstance(entry, dict) and entry.get("format") == self.FORMAT
                and entry.get("version") == self.VERSION and entry.get("key") == key
                and isinstance(entry.get("result"), dict)
                and entry.get("sha256") == self._body_digest(entry)):
            self.n_damaged += 1
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
        """Store ``result`` under ``key`` (with the SHA-256 of the entry's content).

        ``outputs`` maps each output name to :func:`output_record` of the file
        the case wrote; the entry is reused only while those files are intact.
        """
        entry = {
            "format": self.FORMAT,
            "version": self.VERSION,
            "key": key,
            "case_id": case_id,  # informational only: never part of the key
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "result": _json_ready(result),
        }
        if outputs:
            entry["outputs"] = {str(k): dict(v) for k, v in outputs.items()}
        # The digest is of the entry as a reader will parse it back (JSON round trip).
        entry = json.loads(json.dumps(entry))
        entry["sha256"] = self._body_digest(entry)
        atomic_write_bytes(self.path(key), json.dumps(entry).encode())

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("??/*.json"))


def _check_writable_folder(folder: Path, what: str) -> None:
    """Create ``folder`` if needed and check a file can be written in it (else OutputError)."""
    from ..exceptions import OutputError

    fix = ("give another folder with --cache-dir, or run without a cache (--no-cache)"
           if what == "result cache" else "choose a folder you can write to")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"the {what} folder '{folder}' is a file, not a folder; {fix}.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".nomofuse-write-check.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"cannot write in the {what} folder '{folder}' "
                          f"({exc.strerror or exc}); {fix}.") from exc


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
