"""Where the cases of a cohort run: a local process pool or a Dask cluster.

Both executors take an iterable of :class:`Task` and yield ``(task, outcome)``
pairs as cases finish, where ``outcome`` is what :func:`fusion.cohort.worker.run_case`
returns. Each task is yielded exactly once, whatever happens to the worker
that ran it.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from .worker import CaseSpec, init_worker, run_case

__all__ = ["Task", "run_local", "run_dask", "available_cores"]


@dataclass
class Task:
    """One case to compute.

    Attributes
    ----------
    case_id, row, key
        The case's id, manifest row and cache key (``None`` without a cache).
    kwargs : dict
        The per-case function's keyword arguments.
    signatures : dict
        Input role -> stat signature of the file when the case was planned
        (:meth:`fusion.cohort.FileDigests.signature`).
    files : dict
        Input role -> path.
    """

    case_id: str
    row: int
    key: str | None
    kwargs: dict
    signatures: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. a SLURM allocation), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def input_bytes(task: Task) -> int:
    """Total size of the files a task reads (0 for values that are not files)."""
    total = 0
    for value in task.kwargs.values():
        if isinstance(value, (str, os.PathLike)):
            try:
                total += os.path.getsize(value)
            except OSError:
                pass
    return total


def run_local(spec: CaseSpec, tasks: Iterable[Task], jobs: int, start_method: str | None,
              on_start: Callable[[], None] = lambda: None,
              prepare: Callable[[], CaseSpec] | None = None) -> Iterator[tuple[Task, tuple]]:
    """Run tasks on a local process pool; yields (task, outcome) as they finish.

    Workers end when this process ends, however it ends (see
    :func:`fusion.cohort.worker.init_worker`).

    At most ``2 * jobs`` cases are in flight, so memory stays bounded for a
    large cohort and, when a worker process dies, only those cases are
    affected: each is then re-run alone in a process of its own, so the
    case that kills its worker is found and recorded while the others finish.

    No pool is started when every case comes from the cache. ``prepare`` is
    called once, just before the pool starts (the runner imports the per-case
    function there, so a fully cached run never imports it), and returns the
    spec to use. ``on_start`` is called once the workers exist (the progress
    bar's thread starts then, so workers are forked from a single-threaded parent).
    """
    if start_method is None:
        methods = multiprocessing.get_all_start_methods()
        start_method = "fork" if "fork" in methods else "spawn"
    ctx = multiprocessing.get_context(start_method)

    pending = iter(tasks)
    first = next(pending, None)
    if first is None:  # everything came from the cache (or failed before computing)
        on_start()
        return
    if prepare is not None:
        spec = prepare()

    parent = os.getpid()

    def new_pool(n):
        pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=init_worker,
                                   initargs=(spec.worker_init, spec.limit_threads, parent))
        pool.submit(os.getpid)  # starts the workers now, before any progress-bar thread
        return pool

    pool = new_pool(jobs)
    on_start()
    pending = itertools.chain([first], pending)
    inflight: dict = {}
    exhausted = False
    try:
        while True:
            crashed: list[Task] = []
            while not exhausted and len(inflight) < 2 * jobs:
                task = next(pending, None)
                if task is None:
                    exhausted = True
                    break
                try:
                    fut = pool.submit(run_case, spec, task.case_id, task.kwargs)
                except BrokenProcessPool:  # a worker died since the last check
                    crashed.append(task)
                    break
                inflight[fut] = task
            if not inflight and not crashed:
                break
            if not crashed:
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = inflight.pop(fut)
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool:
                        crashed.append(task)
                        continue
                    yield task, outcome
            if crashed:
                # The pool is broken: every case still in it fails the same way.
                for fut, task in list(inflight.items()):
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool:
                        crashed.append(task)
                    else:
                        yield task, outcome
                inflight.clear()
                pool.shutdown(wait=True, cancel_futures=True)
                for task in crashed:
                    yield task, run_isolated(spec, task, ctx)
                pool = new_pool(jobs)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_isolated(spec: CaseSpec, task: Task, ctx) -> tuple:
    """Run one case alone in its own process; a death of that process is this case's doing."""
    from multiprocessing.connection import wait as wait_ready

    from .worker import run_case_to_pipe

    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=run_case_to_pipe, daemon=True,
                       args=(send, spec, task.case_id, task.kwargs, os.getpid()))
    proc.start()
    send.close()
    try:
        wait_ready([recv, proc.sentinel])
        try:
            return recv.recv()
        except EOFError:
            pass
        proc.join()
        code = proc.exitcode
        if code is not None and code < 0:
            import signal

            try:
                how = f"killed by signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exit code {code}"
        return "error", {
            "stage": "worker",
            "error_type": "WorkerDied",
            "message": (
                f"the worker process running this case died ({how}), also when run alone: "
                "a crash in native code, os._exit, or the out-of-memory killer (SIGKILL); "
                "run this case alone with --jobs 1 to see its output"
            ),
            "traceback": "",
        }, 0.0
    finally:
        recv.close()
        proc.join(timeout=5)


def run_dask(spec: CaseSpec, tasks: Iterable[Task], scheduler,
             prepare: Callable[[], CaseSpec] | None = None,
             on_start: Callable[[], None] = lambda: None) -> Iterator[tuple[Task, tuple]]:
    """Run tasks on a Dask cluster; yields (task, outcome) as they finish.

    Each case is one Dask task with a unique key (``pure=False``), so a case
    is never merged with another and each future is yielded exactly once.
    When a worker dies (killed, lost node), the scheduler reschedules the
    cases it held on the other workers; a case whose workers die repeatedly
    ends as ``KilledWorker`` (after ``distributed.scheduler.allowed-failures``
    retries) and is recorded at stage ``"worker"``. Dask's nanny starts
    worker processes with ``OMP_NUM_THREADS=1`` (and MKL, OpenBLAS); the
    worker initialiser runs once per worker process, before its first case.

    The client is created only when a case must be computed, so a fully
    cached run never contacts the scheduler. ``on_start`` is called once the
    client is connected (or when there is nothing to compute).
    """
    pending = iter(tasks)
    first = next(pending, None)
    if first is None:
        on_start()
        return
    if prepare is not None:
        spec = prepare()
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        raise ImportError("running on a Dask cluster needs the 'distributed' package; "
                          "install it with: pip install \"dask[distributed]\"") from exc

    own = not isinstance(scheduler, Client)
    if own:
        try:
            client = Client(scheduler)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({type(exc).__name__}: "
                f"{exc}); start it (dask scheduler) or fix the address. No case was computed."
            ) from exc
        except ValueError as exc:  # an address distributed cannot parse
            raise ValueError(
                f"the Dask scheduler address {scheduler!r} is not one distributed understands "
                f"({exc}); give it as 'tcp://HOST:PORT'.") from exc
    else:
        client = scheduler
    on_start()
    futures: dict = {}
    try:
        for task in itertools.chain([first], pending):
            fut = client.submit(run_case, spec, task.case_id, task.kwargs, pure=False,
                                key=f"nomofuse-case-{task.case_id}-{os.urandom(4).hex()}")
            futures[fut] = task
        for fut in as_completed(list(futures)):
            task = futures.pop(fut)
            try:
                outcome = fut.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker, lost connection...
                outcome = ("error", {"stage": "worker", "error_type": type(exc).__name__,
                                     "message": str(exc) or repr(exc), "traceback": ""}, 0.0)
            yield task, outcome
    finally:
        if futures:
            client.cancel(list(futures))
        if own:
            client.close()
