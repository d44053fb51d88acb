"""What runs inside a cohort worker process.

Kept apart from :mod:`fusion.cohort.runner` and free of heavy imports at
module level on purpose: a worker process imports this module *before* its
initialiser runs, and the thread-count environment variables only take effect
if they are set before numpy (OpenBLAS, MKL, OpenMP) is first imported in that
process.

The stage protocol
------------------
A per-case failure is recorded with the *stage* it happened in (``read``,
``geometry``, ``region``, ``tissue``, ``tiling``, ``encode``, ...), so a user
sees at a glance whether a cohort failed at reading its files or at computing.
The protocol is duck-typed, so a domain package declares its stages without
importing :mod:`fusion`:

* an exception that has a ``stage`` attribute (a non-empty ``str``, set on the
  class or on the instance) is recorded at that stage. Domain packages set it
  on their exception classes (``imaging.exceptions.ImageReadError.stage ==
  "read"``); a subclass inherits it and may override it;
* otherwise the first ``(exception class, stage)`` pair of the runner's
  ``stages`` argument that matches;
* otherwise ``"read"`` for ``FileNotFoundError``, ``IsADirectoryError`` and
  ``PermissionError``;
* otherwise the runner's ``default_stage`` (``"compute"`` unless a command
  says otherwise).

The runner adds its own stages: ``"read"`` for an input it cannot find before
starting the case (also on a Dask worker that does not see the file),
``"setup"`` for a failing worker initialiser, ``"result"`` for a per-case
function that returned something other than a mapping, ``"output"`` for an
output file the function reported but that is not there, and ``"worker"`` for
a case whose worker process died.
"""

from __future__ import annotations

import importlib
import os
import socket
import time
import traceback
from dataclasses import dataclass

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def resolve(ref):
    """The object a ``"module:qualname"`` reference names (a callable is returned as is)."""
    if not isinstance(ref, str):
        return ref
    module, _, qualname = ref.partition(":")
    if not module or not qualname:
        raise ValueError(
            f"a function reference must read 'module:name' (e.g. "
            f"'imaging.radiomics:extract_case'). Got {ref!r} instead."
        )
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class CaseSpec:
    """How every case of a run is computed: sent once with each task (plain, picklable data).

    Attributes
    ----------
    function : callable
        The per-case function, ``function(case_id, **kwargs) -> mapping``.
    default_stage : str
        Stage recorded for a failure that names none.
    stages : tuple of (exception class, str)
        Fallback stage names for exceptions without a ``stage`` attribute.
    file_args : tuple of str
        Keyword arguments that are input files: checked to exist on the worker
        before the case starts.
    worker_init : callable, str or None
        Called once per worker process before its first case.
    limit_threads : bool
        Limit BLAS and OpenMP to one thread in local worker processes.
    """

    function: object
    default_stage: str = "compute"
    stages: tuple = ()
    file_args: tuple = ()
    worker_init: object = None
    limit_threads: bool = True


# Per process: what the worker initialiser did (None: not run yet; "" ok; text: the error).
_INIT_STATE: dict = {}


def limit_threads() -> None:
    """Make one worker use one core, so that N workers use N cores.

    Without this each worker would start as many BLAS/OpenMP threads as the
    machine has cores, and two workers on two cores would fight over them
    (oversubscription) instead of running twice as fast.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    try:  # for libraries already loaded (with fork, the parent's numpy)
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except Exception:  # threadpoolctl missing or failing: the variables still apply
        pass


def init_worker(worker_init=None, threads: bool = True, parent_pid: int | None = None) -> None:
    """Initialiser of a local worker process: end with the run, one thread, the domain's hook.

    Parameters
    ----------
    worker_init : callable or "module:qualname", optional
        Called with no argument once in this process (e.g.
        ``imaging.radiomics.limit_itk_threads``, which limits ITK filters to
        one thread). A failure is not raised here (it would break the whole
        pool); every case of this process then fails at stage ``"setup"``.
    threads : bool, default True
        Limit BLAS and OpenMP to one thread (:func:`limit_threads`).
    parent_pid : int, optional
        The process that runs the cohort: this worker ends when it ends
        (:func:`die_with_parent`).
    """
    import signal

    # The parent may turn SIGTERM into a clean interrupt; a worker dies of it as usual.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if parent_pid is not None:
        die_with_parent(parent_pid)
    if threads:
        limit_threads()
    _run_worker_init(worker_init)


#: Seconds between two checks that the run's process is still there.
PARENT_POLL_SECONDS = 0.5


def die_with_parent(parent_pid: int) -> None:
    """End this process as soon as the process ``parent_pid`` (the run) has ended.

    A worker that outlives its run (the run killed with ``kill -9``, the
    out-of-memory killer, a node's job ending) would otherwise go on computing
    for nobody, holding its memory, until its case ends, and then wait for
    more. Two mechanisms, so that it holds however the worker was started:

    * on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills this
      process the moment its parent ends (with the ``fork`` and ``spawn``
      start methods the parent is the run), even while it runs native code.
      Strictly, the signal comes when the parent *thread* that started the
      worker ends: the pool is started, and shut down, by the thread running
      :func:`fusion.cohort.run_cohort`, which outlives its workers;
    * everywhere, a daemon thread that checks every
      :data:`PARENT_POLL_SECONDS` that the parent process has not changed
      (``os.getppid()``: an orphan is adopted by another process) and that
      ``parent_pid`` is still alive (it is not the direct parent with the
      ``forkserver`` start method), and ends the process with ``os._exit``
      otherwise.
    """
    import signal
    import sys
    import threading

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no libc prctl: the thread below still works
            pass
    ppid = os.getppid()

    def gone() -> bool:
        if os.getppid() != ppid:
            return True
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # exists (not ours to signal)
            return False
        try:  # a killed parent that nobody has reaped yet is a zombie
            with open(f"/proc/{parent_pid}/stat", "rb") as fh:
                return fh.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
        except (OSError, IndexError):
            return False

    if gone():  # the run ended before this worker started
        os._exit(1)

    def watch():
        import time

        while not gone():
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="nomofuse-parent-watch", daemon=True).start()


def _run_worker_init(worker_init) -> str:
    """Run the hook once per process; return "" or the error it raised."""
    if worker_init is None:
        return ""
    token = worker_init if isinstance(worker_init, str) else repr(worker_init)
    if token not in _INIT_STATE:
        try:
            resolve(worker_init)()
            _INIT_STATE[token] = ""
        except Exception as exc:  # noqa: BLE001 - reported with every case of this process
            _INIT_STATE[token] = f"{type(exc).__name__}: {exc}"
    return _INIT_STATE[token]


def stage_of(exc: BaseException, default: str, stages=()) -> str:
    """The stage a per-case failure happened in (see the module's stage protocol)."""
    stage = getattr(exc, "stage", None)
    if isinstance(stage, str) and stage:
        return stage
    for exc_type, name in stages:
        if isinstance(exc, exc_type):
            return name
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
        return "read"
    return default


def _error(stage, error_type, message, tb="") -> dict:
    return {"stage": stage, "error_type": error_type, "message": message, "traceback": tb}


def _unseen_inputs(spec: CaseSpec, kwargs: dict) -> list[tuple[str, str]]:
    out = []
    for name in spec.file_args:
        path = kwargs.get(name)
        if isinstance(path, (str, os.PathLike)) and not os.path.exists(path):
            out.append((name, os.fspath(path)))
    return out


def run_case(spec: CaseSpec, case_id: str, kwargs: dict):
    """Call ``spec.function(case_id, **kwargs)`` and report the outcome as plain data.

    Exceptions are caught here, in the worker, and returned as a record
    (stage, type, message, traceback) rather than raised: an exception class
    that cannot be pickled back to the parent would otherwise break the pool.

    Returns
    -------
    tuple
        ``("ok", result_dict, seconds)`` or ``("error", record_dict, seconds)``.
    """
    t0 = time.perf_counter()
    init_error = _run_worker_init(spec.worker_init)
    if init_error:
        return "error", _error(
            "setup", "WorkerInitError",
            f"the worker initialiser {spec.worker_init!r} failed on {socket.gethostname()} "
            f"(pid {os.getpid()}): {init_error}; no case can run in this worker process."), 0.0
    unseen = _unseen_inputs(spec, kwargs)
    if unseen:
        shown = ", ".join(f"{name} file '{path}'" for name, path in unseen)
        return "error", _error(
            "read", "FileNotFoundError",
            f"case {case_id!r}: {shown} not found on worker {socket.gethostname()} "
            f"(pid {os.getpid()}), although it existed where the run started. Every worker "
            "must see the inputs at the same path (a shared file system mounted at the same "
            "place on every node), or the file was moved or deleted during the run."), 0.0
    try:
        result = resolve(spec.function)(case_id, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a record
        record = _error(stage_of(exc, spec.default_stage, spec.stages), type(exc).__name__,
                        str(exc) or repr(exc), traceback.format_exc())
        return "error", record, time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    if not hasattr(result, "items"):
        return "error", _error(
            "result", "TypeError",
            f"the per-case function returned {type(result).__name__}; expected a dict "
            "of output name -> value"), seconds
    return "ok", dict(result), seconds


def run_case_to_pipe(conn, spec: CaseSpec, case_id, kwargs, parent_pid: int | None = None):
    """Entry point of a one-case process: set up like a pool worker, send the outcome back."""
    init_worker(spec.worker_init, spec.limit_threads, parent_pid)
    conn.send(run_case(spec, case_id, kwargs))
    conn.close()
