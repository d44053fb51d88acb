"""One run at a time per output: a lock file beside the output naming the run that holds it.

Two runs writing the same ``--out`` at once would each replace the other's
table (the last to finish wins, silently). :class:`OutputLock` prevents it:
the run holds ``<out>.lock`` from before its first case until its outputs are
written, and a second run refuses at once (or waits up to a timeout) with a
message naming the holder: host, process id, start time and command.

How the lock is held
--------------------
The lock is an exclusive :func:`fcntl.flock` on ``<out>.lock``, whose content
(JSON) names the holder. The kernel releases a ``flock`` when its holder
dies, however it dies (``kill -9`` included), so a lock is never left held by
a dead run: the next run takes the file over and says so (the previous run
ended without removing it). After locking, the run checks that the path
still names the file it locked (a run that just finished removes the file;
locking that removed file would lock nothing), and tries again otherwise.

Where ``flock`` is not available (some network file systems refuse it), the
file is created exclusively (``O_CREAT | O_EXCL``) instead; a lock file left
by a dead run on *this* host (its process id is gone, or now belongs to a
process started at another time) is then taken over with a note; one from
another host cannot be checked and is reported with the fix (remove the file
if that run is gone).

A process forked while the lock is held (a worker of the cohort runner)
closes its copy of the lock's descriptor at once (:func:`os.register_at_fork`):
a ``flock`` lives as long as any descriptor of it, so a worker that outlives
a killed run must not keep the next run out.

The lock guards the output table and its errors file; the result cache needs
none (its entries are written atomically and may be shared by several runs).
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import time
from pathlib import Path

from ..exceptions import OutputError, OutputLockedError

__all__ = ["OutputLock", "lock_path", "process_start_time"]

#: Locks this process holds by ``flock``; a forked child drops its copies (see the module text).
_HELD: set = set()


def _drop_inherited_locks() -> None:
    for lock in list(_HELD):
        fd, lock._fd, lock._mode = lock._fd, None, ""
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited_locks)


def lock_path(out: str | os.PathLike) -> Path:
    """The lock file of an output: ``features.parquet`` -> ``features.parquet.lock``."""
    out = Path(out)
    return out.with_name(out.name + ".lock")


def process_start_time(pid: int) -> str | None:
    """When process ``pid`` started, in clock ticks since boot (Linux), or ``None``.

    With the process id, it names a process uniquely: a recycled id has
    another start time.
    """
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError, ValueError):
        return None


def _process_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as fh:
            return fh.read().decode("ascii", "replace").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int, started: str | None) -> bool:
    """Is the process that wrote a lock (``pid``, start time ``started``) still running here?"""
    try:
        pid = int(pid)
        if pid <= 0:
            return False
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        pass
    except (OSError, TypeError, ValueError, OverflowError):
        return False
    if _process_state(pid) in ("Z", "X"):  # a zombie has ended
        return False
    now = process_start_time(pid)
    return not (started and now and now != started)


def _describe(holder: dict) -> str:
    if not holder:
        return "a run whose lock file cannot be read"
    parts = [f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}"]
    if holder.get("started"):
        parts.append(f"started {holder['started']}")
    if holder.get("command"):
        parts.append(f"command '{holder['command']}'")
    return ", ".join(parts)


class OutputLock:
    """Hold ``<out>.lock`` while a run writes ``out`` (a context manager).

    Parameters
    ----------
    out : path
        The output the run will write.
    wait : float, default 0
        Seconds to wait for another run's lock to be released before giving
        up; 0 refuses at once.
    command : str, optional
        What the lock file says the run is (e.g. the command line).
    poll : float, default 0.5
        Seconds between two attempts while waiting.

    Attributes
    ----------
    path : pathlib.Path
        The lock file.
    note : str
        Set when a lock left by a run that died was taken over (what it said).

    Raises
    ------
    OutputLockedError
        On :meth:`acquire`, if another live run holds the lock (after ``wait``).
    OutputError
        If the output's folder cannot be created or written.

    Examples
    --------
    >>> with OutputLock("features.parquet", command="nomofuse radiomics"):  # doctest: +SKIP
    ...     result.write("features.parquet")
    """

    def __init__(self, out: str | os.PathLike, *, wait: float = 0.0, command: str = "",
                 poll: float = 0.5):
        wait = float(wait)
        if not wait >= 0:
            raise ValueError(f"The 'wait' parameter of OutputLock must be >= 0 seconds. "
                             f"Got {wait!r} instead.")
        self.out = Path(out)
        self.path = lock_path(out)
        self.wait = wait
        self.poll = float(poll)
        self.command = command
        self.note = ""
        self._fd: int | None = None
        self._mode = ""
        self._info: dict = {}

    # ---------------------------------------------------------------- acquire
    def acquire(self) -> OutputLock:
        """Take the lock (waiting up to ``wait`` seconds); returns ``self``."""
        if self._fd is not None or self._mode:
            return self
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"cannot create the output folder '{folder}' ({exc.strerror or exc}); choose "
                "a folder you can write to with --out.") from exc
        self._info = {"host": socket.gethostname(), "pid": os.getpid(),
                      "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                      "process_start": process_start_time(os.getpid()),
                      "command": self.command, "out": str(self.out)}
        deadline = time.monotonic() + self.wait
        while True:
            holder = self._try_acquire()
            if holder is None:
                return self
            if time.monotonic() >= deadline:
                waited = f" (waited {self.wait:g} s)" if self.wait else ""
                raise OutputLockedError(
                    f"another run is writing '{self.out}'{waited}: {_describe(holder)} (lock file "
                    f"'{self.path}'). Wait for it to end, give another --out, or wait for it "
                    f"with --lock-wait SECONDS; if that run is gone, delete '{self.path}'.",
                    path=str(self.path), holder=holder)
            time.sleep(min(self.poll, max(0.0, deadline - time.monotonic())) or self.poll)

    def _try_acquire(self) -> dict | None:
        """None when the lock is ours now; else what the lock file says about its holder."""
        try:
            import fcntl
        except ImportError:  # not POSIX
            return self._try_exclusive()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise self._unwritable(exc) from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    return self._read_holder(fd)
                # flock not supported on this file system: exclusive creation instead
                os.close(fd)
                fd = None
                return self._try_exclusive()
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the holder removed the file after we opened it: try again
                os.close(fd)
                fd = None
                return self._try_acquire()
            previous = self._read_holder(fd)
            if previous and previous.get("pid") != os.getpid():
                self.note = (f"took over the lock file '{self.path}' of a run that ended "
                             f"without removing it ({_describe(previous)}).")
            self._write(fd)
            self._fd, fd = fd, None
            self._mode = "flock"
            _HELD.add(self)
            return None
        finally:
            if fd is not None:
                os.close(fd)

    def _try_exclusive(self) -> dict | None:
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self._read_file()
                if holder.get("host") == socket.gethostname() and "pid" in holder and not _alive(
                        holder["pid"], holder.get("process_start")):
                    stale = self.path.with_name(f"{self.path.name}.stale.{os.getpid()}")
                    try:
                        os.replace(self.path, stale)
                        os.unlink(stale)
                    except OSError:
                        pass
                    self.note = (f"took over the lock file '{self.path}' of a run that ended "
                                 f"without removing it ({_describe(holder)}).")
                    continue
                if not holder:
                    try:  # a lock file still being written, or left empty by a crash
                        if time.time() - os.stat(self.path).st_mtime > 60:
                            holder = {"unreadable": True}
                    except FileNotFoundError:
                        continue
                return holder or {"unreadable": True}
            except OSError as exc:
                raise self._unwritable(exc) from exc
            try:
                self._write(fd)
            finally:
                os.close(fd)
            self._mode = "exclusive"
            return None
        return self._read_file() or {"unreadable": True}

    def _unwritable(self, exc: OSError) -> OutputError:
        return OutputError(
            f"cannot write in the output folder '{self.path.parent}' ({exc.strerror or exc}); "
            "choose a folder you can write to with --out.")

    def _write(self, fd: int) -> None:
        data = json.dumps(self._info, indent=1).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        try:
            os.fsync(fd)
        except OSError:
            pass

    @staticmethod
    def _parse(data: bytes) -> dict:
        try:
            holder = json.loads(data.decode("utf-8"))
        except (ValueError, RecursionError):
            return {}
        return holder if isinstance(holder, dict) else {}

    def _read_holder(self, fd: int) -> dict:
        try:
            return self._parse(os.pread(fd, 1 << 16, 0))
        except OSError:
            return {}

    def _read_file(self) -> dict:
        try:
            with open(self.path, "rb") as fh:
                return self._parse(fh.read(1 << 16))
        except OSError:
            return {}

    # ---------------------------------------------------------------- release
    def release(self) -> None:
        """Remove the lock file and release the lock (nothing if not held)."""
        if not self._mode:
            return
        try:
            if self._mode == "exclusive" and self._read_file().get("pid") != os.getpid():
                return  # someone removed ours and took it over; leave theirs
            os.unlink(self.path)
        except OSError:
            pass
        finally:
            if self._fd is not None:
                os.close(self._fd)
            self._fd = None
            self._mode = ""
            _HELD.discard(self)

    @property
    def held(self) -> bool:
        return bool(self._mode)

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc) -> bool:
        self.release()
        return False

    def __del__(self):  # pragma: no cover - a forgotten lock is released with the object
        if getattr(self, "_fd", None) is not None and sys is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
