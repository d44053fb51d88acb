"""The cohort runner: one per-case function over every case of a manifest.

This is the single mechanism that cohort-scale steps share (radiomics over
image/mask pairs, tile features over slides). It knows nothing about what a
case computes; it knows how to

* run cases in parallel: a local process pool (one case per task, ``jobs``
  worker processes each limited to one thread so N workers use N cores), or a
  Dask cluster when a scheduler address is given (a SLURM cluster started with
  dask-jobqueue works the same way);
* skip what is already done: each finished case is stored in a
  content-addressed cache (:mod:`fusion.cache`), so a re-run, or a run after a
  crash or a kill, computes only the missing cases, and a changed parameter or
  input file never reuses a stale result;
* keep going: a failing case is recorded (case id, stage, error type and
  message) and the others run; a case that kills its worker process (a
  segmentation fault, ``os._exit``, the out-of-memory killer) is retried alone
  and, if it kills it again, recorded as failed at stage ``"worker"``;
* report: a progress bar while running and a :class:`CohortResult` with the
  feature table, the failures and a summary.

Examples
--------
>>> def area(case_id, side):                     # doctest: +SKIP
...     return {"area": float(side) ** 2}
>>> cases = pd.DataFrame({"case_id": ["a", "b"], "side": [1, 2]})  # doctest: +SKIP
>>> run_cohort(area, cases, file_columns=(), jobs=2).features      # doctest: +SKIP
  case_id  area
0       a   1.0
1       b   4.0
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import multiprocessing
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ._cohort_worker import run_case, init_worker
from .cache import FileDigests, ResultCache, atomic_write_bytes, cache_key

__all__ = ["CohortResult", "run_cohort", "errors_path", "FAILURE_COLUMNS"]

#: Columns of the failures table and of the ``.errors.csv`` file.
FAILURE_COLUMNS = ["case_id", "row", "stage", "error_type", "message"]


@dataclass
class _Task:
    case_id: str
    row: int
    key: str | None
    kwargs: dict


@dataclass
class CohortResult:
    """What a cohort run produced.

    Attributes
    ----------
    features : pandas.DataFrame
        One row per successful case, in manifest order; ``case_id`` is the
        first column, then the per-case function's outputs (columns in the
        order the first successful case returned them).
    failures : pandas.DataFrame
        One row per failed case with columns ``case_id``, ``row`` (manifest
        row, header = row 1), ``stage``, ``error_type``, ``message``.
    n_cases, n_computed, n_cached : int
        Cases in the manifest, computed in this run, read from the cache.
    seconds : float
        Wall time of the run.
    compute_seconds : dict
        case id -> seconds the per-case function took (computed cases only).
    cache_dir : pathlib.Path or None
        Where the per-case results are cached.
    outputs : dict
        Paths written by :meth:`write` (``"features"``, ``"errors"``).
    """

    features: pd.DataFrame
    failures: pd.DataFrame
    n_cases: int
    n_computed: int
    n_cached: int
    seconds: float
    compute_seconds: dict = field(default_factory=dict)
    cache_dir: Path | None = None
    tracebacks: dict = field(default_factory=dict, repr=False)
    outputs: dict = field(default_factory=dict)

    @property
    def n_failed(self) -> int:
        return len(self.failures)

    @property
    def n_succeeded(self) -> int:
        return len(self.features)

    def summary(self) -> pd.DataFrame:
        """Counts of the run as a table (index: cases, succeeded, computed, from cache, failed)."""
        counts = {
            "cases": self.n_cases,
            "succeeded": self.n_succeeded,
            "computed": self.n_computed,
            "from cache": self.n_cached,
            "failed": self.n_failed,
        }
        return pd.DataFrame({"count": counts})

    def failure_reasons(self) -> pd.DataFrame:
        """Failures counted by stage and error type (most frequent first)."""
        if self.failures.empty:
            return pd.DataFrame(columns=["stage", "error_type", "count"])
        return (
            self.failures.groupby(["stage", "error_type"]).size().rename("count")
            .sort_values(ascending=False).reset_index()
        )

    def write(self, out: str | os.PathLike, errors: str | os.PathLike | None = None) -> dict:
        """Write the features (Parquet) and the failures (CSV), each atomically.

        Parameters
        ----------
        out : path
            The Parquet file of features.
        errors : path, optional
            Defaults to :func:`errors_path` of ``out`` (``features.parquet.errors.csv``
            next to ``features.parquet``). Always written, with only a header
            when nothing failed, so an old errors file never outlives its run.

        Returns
        -------
        dict
            ``{"features": Path, "errors": Path}``, also stored in ``outputs``.
        """
        import io

        out = Path(out)
        errors = Path(errors) if errors is not None else errors_path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        try:
            self.features.to_parquet(tmp, index=False)
            os.replace(tmp, out)
        finally:
            if tmp.exists():
                tmp.unlink()
        buf = io.StringIO()
        self.failures.to_csv(buf, index=False)
        atomic_write_bytes(errors, buf.getvalue().encode())
        self.outputs = {"features": out, "errors": errors}
        return self.outputs

    def report(self, name: str = "cohort", max_failures: int = 20) -> str:
        """The end-of-run summary as text: counts, failures with reasons, output paths."""
        lines = [
            f"{name}: {self.n_succeeded} of {self.n_cases} cases succeeded "
            f"({self.n_computed} computed, {self.n_cached} from cache), "
            f"{self.n_failed} failed, in {self.seconds:.1f} s."
        ]
        if self.n_failed:
            lines.append("failed cases (case_id, stage, error):")
            for rec in self.failures.head(max_failures).itertuples(index=False):
                msg = " ".join(str(rec.message).split())
                if len(msg) > 160:
                    msg = msg[:157] + "..."
                lines.append(f"  {rec.case_id} [row {rec.row}] {rec.stage}: {rec.error_type}: {msg}")
            if self.n_failed > max_failures:
                lines.append(f"  ... and {self.n_failed - max_failures} more (see the errors file)")
            reasons = ", ".join(
                f"{r.count} at {r.stage} ({r.error_type})"
                for r in self.failure_reasons().itertuples(index=False)
            )
            lines.append(f"failure reasons: {reasons}")
        if self.outputs:
            feats = self.outputs.get("features")
            if feats is not None:
                lines.append(f"features: {feats} ({_count(self.n_succeeded, 'row')}, "
                             f"{_count(self.features.shape[1], 'column')})")
            if self.outputs.get("errors") is not None:
                lines.append(f"errors:   {self.outputs['errors']} ({_count(self.n_failed, 'row')})")
        if self.cache_dir is not None:
            lines.append(f"cache:    {self.cache_dir}")
        return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def errors_path(out: str | os.PathLike) -> Path:
    """Errors file that goes with an output file: ``features.parquet`` -> ``features.parquet.errors.csv``."""
    out = Path(out)
    return out.with_name(out.name + ".errors.csv")


def function_identity(function: Callable) -> str:
    """``module:qualname`` of a per-case function plus a digest of the code behind it.

    Part of the cache key. The digest covers every ``.py`` file of the
    function's top-level package (``imaging/`` for ``imaging.radiomics.extract_case``),
    or the module's own file outside a package: editing the code that computes
    a result (during development, when the package version does not move)
    invalidates the cached results, including edits to helpers the function
    calls in sibling modules.
    """
    import importlib

    base = function
    while hasattr(base, "func"):  # functools.partial
        base = base.func
    module = getattr(base, "__module__", None) or "?"
    name = getattr(base, "__qualname__", type(base).__name__)
    h = hashlib.sha256()
    try:
        top = importlib.import_module(module.split(".")[0])
        if "." in module and getattr(top, "__path__", None):
            files = sorted(p for d in top.__path__ for p in Path(d).rglob("*.py"))
        else:
            files = [Path(inspect.getsourcefile(base))]
        for f in files:
            h.update(str(f.name).encode())
            h.update(f.read_bytes())
    except (ImportError, TypeError, OSError):  # builtins, code without source
        pass
    return f"{module}:{name}:{h.hexdigest()[:16]}"


def run_cohort(
    function: Callable[..., Mapping],
    cases: pd.DataFrame,
    *,
    file_columns: Sequence[str] = ("image", "mask", "organ_mask"),
    option_columns: Sequence[str] | None = None,
    kwargs: Mapping | None = None,
    key_params=None,
    versions: Mapping[str, str] | None = None,
    jobs: int = 1,
    scheduler=None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    desc: str = "cases",
    default_stage: str = "compute",
    stages: Mapping[type, str] | Sequence[tuple[type, str]] = (),
    single_thread_itk: bool | None = None,
    start_method: str | None = None,
) -> CohortResult:
    """Run ``function`` once per case, in parallel, with caching and failure records.

    Each case calls ``function(case_id, **files, **options, **kwargs)`` where
    ``files`` and ``options`` come from the case's row (blank cells are left
    out, so the function's defaults apply) and must return a dict of
    output name -> value (a scalar per name: the row of the feature table).

    Parameters
    ----------
    function : callable
        The per-case function. It must be importable by name (a module-level
        function or a :func:`functools.partial` of one), since worker
        processes receive it by reference. To name the stage a failure
        happened in, raise an exception with a ``stage`` attribute.
    cases : pandas.DataFrame
        A checked manifest (:func:`fusion.manifest.check_manifest`): a unique
        ``case_id`` per row; file columns hold absolute paths.
    file_columns : sequence of str
        Columns holding input files: passed to ``function`` as paths and keyed
        in the cache by their *content*. Columns absent from ``cases`` are ignored.
    option_columns : sequence of str, optional
        Other columns passed to ``function`` (and part of the key). Default:
        every column that is neither ``case_id`` nor a file column.
    kwargs : mapping, optional
        Keyword arguments shared by every case (e.g. ``params``, ``regions``).
    key_params : object, optional
        What identifies ``kwargs`` in the cache key, JSON-able. Defaults to
        ``kwargs``; pass the *content* of a parameter file rather than its path.
    versions : mapping, optional
        Library versions that make up the key (e.g. pyradiomics, numpy).
    jobs : int, default 1
        Worker processes of the local pool (ignored with ``scheduler``).
    scheduler : str or distributed.Client, optional
        A Dask scheduler address (``"tcp://host:8786"``) or a ``Client``:
        cases run on that cluster instead of the local pool.
    cache_dir : path, optional
        Folder of the result cache; ``None`` disables caching.
    progress : bool, default True
        Show a progress bar (tqdm) or, without tqdm, a counter on stderr.
    desc : str
        Label of the progress bar.
    default_stage : str, default "compute"
        Stage recorded for an exception that names none.
    stages : mapping of exception class -> stage name, optional
        How to name the stage of exceptions that carry no ``stage``
        attribute, e.g. ``{ImageReadError: "read", GeometryMismatchError:
        "geometry"}``; the first class the exception is an instance of wins
        (list subclasses first). ``OSError`` for a missing file is ``"read"``.
    single_thread_itk : bool, optional
        Limit ITK (SimpleITK filters, used by pyradiomics) to one thread in
        each worker. Default: when ``jobs > 1``, so that N workers use N cores
        instead of N x cores threads; with one worker ITK may use every core.
        BLAS and OpenMP are always limited to one thread per worker.
    start_method : {"fork", "forkserver", "spawn"}, optional
        How the local pool starts workers. Default: ``"fork"`` where the
        platform has it (Linux: Python 3.11's own default; a worker starts in
        milliseconds), else ``"spawn"``. The workers are forked before the
        runner starts any thread of its own (progress bar included). With
        ``"forkserver"`` or ``"spawn"`` each worker re-imports the main module
        and the per-case function's module (about a second with pandas and
        SimpleITK), the price of not inheriting a multi-threaded parent's state.

    Returns
    -------
    CohortResult

    Notes
    -----
    The cache key of a case is ``sha256(file contents, options, key_params,
    versions, function identity)`` (:func:`fusion.cache.cache_key`); it never
    involves the case's row or file names. Failures are not cached: a re-run
    retries them.
    """
    if not isinstance(cases, pd.DataFrame) or "case_id" not in cases.columns:
        raise TypeError(
            "run_cohort expects the cases as a DataFrame with a 'case_id' column "
            "(see fusion.manifest.check_manifest)."
        )
    if cases["case_id"].duplicated().any():
        dups = sorted(cases["case_id"][cases["case_id"].duplicated()].astype(str).unique())
        raise ValueError(f"case ids must be unique; repeated: {dups}. Run check_manifest first.")
    jobs = int(jobs)
    if jobs < 1:
        raise ValueError(f"The 'jobs' parameter of run_cohort must be >= 1. Got {jobs} instead.")
    kwargs = dict(kwargs or {})
    file_columns = [c for c in file_columns if c in cases.columns]
    if option_columns is None:
        option_columns = [c for c in cases.columns if c != "case_id" and c not in file_columns]
    else:
        missing = [c for c in option_columns if c not in cases.columns]
        if missing:
            raise ValueError(f"option_columns {missing} are not columns of the cases table.")
    key_params = kwargs if key_params is None else key_params
    stages = tuple(stages.items()) if isinstance(stages, Mapping) else tuple(stages)
    identity = function_identity(function)

    t_start = time.perf_counter()
    cache = ResultCache(cache_dir) if cache_dir is not None else None
    digests = FileDigests(Path(cache_dir) / "file_digests.json" if cache_dir is not None else None)

    results: dict[str, dict] = {}
    failures: dict[str, dict] = {}
    tracebacks: dict[str, str] = {}
    compute_seconds: dict[str, float] = {}
    counters = {"cached": 0, "computed": 0}
    cache_errors: list[str] = []
    bar = _Progress(len(cases), desc, enabled=progress)

    def fail(case_id, row, stage, error_type, message, tb=""):
        failures[case_id] = {
            "case_id": case_id, "row": row, "stage": stage,
            "error_type": error_type, "message": message,
        }
        if tb:
            tracebacks[case_id] = tb
        bar.update(failed=True)

    def plan() -> Iterator[_Task]:
        """Cases still to compute; records cache hits and unreadable inputs on the way."""
        last_save = time.monotonic()
        for idx, rec in zip(cases.index, cases.to_dict("records")):
            case_id = str(rec["case_id"])
            row = _row_number(idx)
            files = {c: rec[c] for c in file_columns if not _blank(rec.get(c))}
            options = {c: rec[c] for c in option_columns if not _blank(rec.get(c))}
            key = None
            if cache is not None:
                try:
                    file_keys = {c: digests.digest(p) for c, p in files.items()}
                except OSError as exc:
                    missing = getattr(exc, "filename", None) or exc
                    role = next((c for c, p in files.items() if str(p) == str(missing)), "input")
                    fail(case_id, row, "read", type(exc).__name__,
                         f"cannot read {role} file '{missing}': {exc.strerror or exc}; "
                         "fix the path in the manifest or restore the file.")
                    continue
                key = cache_key(file_keys, options=options, params=key_params,
                                versions=versions, function=identity)
                hit = cache.get(key)
                if hit is not None:
                    results[case_id] = hit
                    counters["cached"] += 1
                    bar.update()
                    continue
                if time.monotonic() - last_save > 30:
                    digests.save()
                    last_save = time.monotonic()
            else:
                missing = [(c, p) for c, p in files.items() if not os.path.exists(p)]
                if missing:
                    c, p = missing[0]
                    fail(case_id, row, "read", "FileNotFoundError",
                         f"cannot read {c} file '{p}': No such file or directory; "
                         "fix the path in the manifest or restore the file.")
                    continue
            yield _Task(case_id, row, key, {**files, **options, **kwargs})

    if scheduler is not None:
        bar.start()
        outcomes = _run_dask(function, plan(), scheduler, (default_stage, stages))
    else:
        if single_thread_itk is None:
            single_thread_itk = jobs > 1
        tasks = plan()
        if jobs > 1:
            # Longest cases first (input bytes as the proxy), so no large case starts
            # last and runs alone while the other workers idle.
            tasks = sorted(tasks, key=_input_bytes, reverse=True)
        outcomes = _run_local(function, tasks, jobs, (default_stage, stages), start_method,
                              single_thread_itk, on_start=bar.start)
    try:
        for task, (status, payload, seconds) in outcomes:
            if status == "ok":
                results[task.case_id] = payload
                compute_seconds[task.case_id] = seconds
                counters["computed"] += 1
                if cache is not None and task.key is not None:
                    try:
                        cache.put(task.key, payload, case_id=task.case_id)
                    except (OSError, TypeError, ValueError) as exc:  # full disk, odd value
                        if not cache_errors:
                            warnings.warn(f"could not cache the result of case {task.case_id!r} "
                                          f"({type(exc).__name__}: {exc}); the run goes on, "
                                          "but a re-run will compute such cases again.",
                                          RuntimeWarning, stacklevel=2)
                        cache_errors.append(task.case_id)
                bar.update()
            else:
                fail(task.case_id, task.row, payload["stage"], payload["error_type"],
                     payload["message"], payload.get("traceback", ""))
    finally:
        outcomes.close()
        digests.save()
        bar.close()

    order = [str(c) for c in cases["case_id"]]
    features = _feature_table([(c, results[c]) for c in order if c in results])
    failures_df = pd.DataFrame(
        [failures[c] for c in order if c in failures], columns=FAILURE_COLUMNS
    )
    return CohortResult(
        features=features,
        failures=failures_df,
        n_cases=len(cases),
        n_computed=counters["computed"],
        n_cached=counters["cached"],
        seconds=time.perf_counter() - t_start,
        compute_seconds=compute_seconds,
        cache_dir=Path(cache_dir) if cache_dir is not None else None,
        tracebacks=tracebacks,
    )


def _feature_table(pairs: list[tuple[str, dict]]) -> pd.DataFrame:
    columns: dict[str, None] = {}
    for _, res in pairs:
        for k in res:
            if k != "case_id":
                columns.setdefault(k, None)
    data = {"case_id": pd.Series([c for c, _ in pairs], dtype=object)}
    for col in columns:
        data[col] = [res.get(col) for _, res in pairs]
    df = pd.DataFrame(data)
    for col in columns:  # numbers as float64 (None -> NaN); anything else left as it is
        if df[col].dtype == object:
            converted = pd.to_numeric(df[col], errors="coerce")
            if converted.notna().sum() == df[col].notna().sum():
                df[col] = converted.astype(float)
    return df


def _row_number(index) -> int:
    """Manifest row as a spreadsheet shows it (header = row 1); -1 for a non-integer index."""
    try:
        return int(index) + 2
    except (TypeError, ValueError):
        return -1


def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()


# ----------------------------------------------------------------- executors
def _input_bytes(task: "_Task") -> int:
    """Total size of the files a task reads (0 for values that are not files)."""
    total = 0
    for value in task.kwargs.values():
        if isinstance(value, (str, os.PathLike)):
            try:
                total += os.path.getsize(value)
            except OSError:
                pass
    return total


def _run_local(function, tasks: Iterable[_Task], jobs: int, naming: tuple,
               start_method: str | None, single_itk: bool, on_start: Callable[[], None] = lambda: None
               ) -> Iterator[tuple[_Task, tuple]]:
    """Run tasks on a local process pool; yields (task, outcome) as they finish.

    At most ``2 * jobs`` cases are in flight, so memory stays bounded for a
    large cohort and, when a worker process dies, only those cases are
    affected: each is then re-run alone in a process of its own, so the
    case that kills its worker is found and recorded while the others finish.

    No pool is started when every case comes from the cache. ``on_start`` is
    called once the workers exist (the progress bar's thread starts then, so
    workers are forked from a single-threaded parent).
    """
    if start_method is None:
        methods = multiprocessing.get_all_start_methods()
        start_method = "fork" if "fork" in methods else "spawn"
    ctx = multiprocessing.get_context(start_method)

    def new_pool(n):
        pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx,
                                   initializer=init_worker, initargs=(single_itk,))
        pool.submit(os.getpid)  # starts the workers now, before any progress-bar thread
        return pool

    pending = iter(tasks)
    first = next(pending, None)
    if first is None:  # everything came from the cache (or failed before computing)
        on_start()
        return
    pool = new_pool(jobs)
    on_start()
    pending = itertools.chain([first], pending)
    inflight: dict = {}
    exhausted = False
    try:
        while True:
            crashed: list[_Task] = []
            while not exhausted and len(inflight) < 2 * jobs:
                task = next(pending, None)
                if task is None:
                    exhausted = True
                    break
                try:
                    fut = pool.submit(run_case, function, task.case_id, task.kwargs, *naming)
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
                    yield task, _run_isolated(function, task, naming, ctx, single_itk)
                pool = new_pool(jobs)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_isolated(function, task: _Task, naming: tuple, ctx, single_itk: bool) -> tuple:
    """Run one case alone in its own process; a death of that process is this case's doing."""
    from multiprocessing.connection import wait as wait_ready

    from ._cohort_worker import run_case_to_pipe

    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=run_case_to_pipe, daemon=True,
                       args=(send, single_itk, function, task.case_id, task.kwargs, *naming))
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


def _run_dask(function, tasks: Iterable[_Task], scheduler, naming: tuple
              ) -> Iterator[tuple[_Task, tuple]]:
    """Run tasks on a Dask cluster; yields (task, outcome) as they finish.

    Dask's nanny already starts worker processes with ``OMP_NUM_THREADS=1``
    (and MKL, OpenBLAS); give each worker one thread per core it should use.
    A case whose worker dies repeatedly ends as ``KilledWorker`` (Dask retries
    it ``distributed.scheduler.allowed-failures`` times first) and is recorded
    at stage ``"worker"``.
    """
    from distributed import Client, as_completed

    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        futures = {}
        for task in tasks:
            fut = client.submit(run_case, function, task.case_id, task.kwargs, *naming,
                                pure=False, key=f"nomofuse-case-{task.case_id}-{os.urandom(4).hex()}")
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
        if own:
            client.close()


# ------------------------------------------------------------------ progress
class _Progress:
    """tqdm progress bar when tqdm is installed, else a counter on stderr.

    Counts from the first update but shows nothing until :meth:`start`:
    tqdm starts a monitor thread, and worker processes are best forked from a
    parent that has no thread yet.
    """

    def __init__(self, total: int, desc: str, enabled: bool = True):
        self.total, self.desc, self.enabled = total, desc, enabled
        self.n = self.failed = 0
        self._bar = None
        self._started = False
        self._last = 0.0

    def start(self) -> None:
        if self._started or not self.enabled:
            self._started = True
            return
        self._started = True
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._show()
            return
        self._bar = tqdm(total=self.total, initial=self.n, desc=self.desc, unit="case",
                         file=sys.stderr, dynamic_ncols=True)
        if self.failed:
            self._bar.set_postfix(failed=self.failed)

    def update(self, failed: bool = False) -> None:
        self.n += 1
        self.failed += bool(failed)
        if not self.enabled or not self._started:
            return
        if self._bar is not None:
            if failed:
                self._bar.set_postfix(failed=self.failed, refresh=False)
            self._bar.update(1)
            return
        now = time.monotonic()
        if now - self._last > 0.5 or self.n == self.total:
            self._last = now
            self._show()

    def _show(self) -> None:
        sys.stderr.write(f"\r{self.desc}: {self.n}/{self.total} ({self.failed} failed)")
        sys.stderr.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        self.start()
        if self._bar is not None:
            self._bar.close()
        else:
            self._show()
            sys.stderr.write("\n")
