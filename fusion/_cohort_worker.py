"""What runs inside a cohort worker process.

Kept apart from :mod:`fusion.cohort` and free of heavy imports at module level
on purpose: a worker process imports this module *before* its initializer
runs, and the thread-count environment variables only take effect if they are
set before numpy (OpenBLAS, MKL, OpenMP) is first imported in that process.
"""

from __future__ import annotations

import os
import time
import traceback

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def init_worker(single_thread_itk: bool) -> None:
    """Make one worker use one core, so that N workers use N cores.

    Without this each worker would start as many BLAS/OpenMP threads as the
    machine has cores, and two workers on two cores would fight over them
    (oversubscription) instead of running twice as fast.

    Parameters
    ----------
    single_thread_itk : bool
        Also limit ITK filters (SimpleITK, used by pyradiomics for resampling
        and image filters) to one thread. Done when several workers share the
        machine; with one worker ITK may use every core.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    try:  # for libraries already loaded (with fork, the parent's numpy)
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except Exception:  # threadpoolctl missing or failing: the variables still apply
        pass
    if single_thread_itk:
        try:
            import SimpleITK as sitk
        except ImportError:  # a per-case function that does not use ITK
            return
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)


def stage_of(exc: BaseException, default: str, stages=()) -> str:
    """The stage a per-case failure happened in.

    In order: the exception's ``stage`` attribute if it has one (e.g.
    ``"read"``, ``"geometry"``, ``"extract"``); the first entry of
    ``stages`` (pairs of exception class and stage name, subclasses first)
    that the exception is an instance of; ``"read"`` for a file that cannot
    be opened; otherwise ``default``.
    """
    stage = getattr(exc, "stage", None)
    if isinstance(stage, str) and stage:
        return stage
    for exc_type, name in stages:
        if isinstance(exc, exc_type):
            return name
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
        return "read"
    return default


def run_case(function, case_id: str, kwargs: dict, default_stage: str, stages=()):
    """Call ``function(case_id, **kwargs)`` and report the outcome as plain data.

    Exceptions are caught here, in the worker, and returned as a record
    (stage, type, message, traceback) rather than raised: an exception class
    that cannot be pickled back to the parent would otherwise break the pool.

    Returns
    -------
    tuple
        ``("ok", result_dict, seconds)`` or ``("error", record_dict, seconds)``.
    """
    t0 = time.perf_counter()
    try:
        result = function(case_id, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a record
        record = {
            "stage": stage_of(exc, default_stage, stages),
            "error_type": type(exc).__name__,
            "message": str(exc) or repr(exc),
            "traceback": traceback.format_exc(),
        }
        return "error", record, time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    if not hasattr(result, "items"):
        record = {
            "stage": "result",
            "error_type": "TypeError",
            "message": (
                f"the per-case function returned {type(result).__name__}; expected a dict "
                "of feature name -> value"
            ),
            "traceback": "",
        }
        return "error", record, seconds
    return "ok", dict(result), seconds


def run_case_to_pipe(conn, single_thread_itk: bool, function, case_id, kwargs, default_stage,
                     stages=()):
    """Entry point of a one-case process: set up like a pool worker, send the outcome back."""
    init_worker(single_thread_itk)
    conn.send(run_case(function, case_id, kwargs, default_stage, stages))
    conn.close()
