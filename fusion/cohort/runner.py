"""The cohort runner: one per-case function over every case of a manifest.

This is the single mechanism that cohort-scale steps share (radiomics over
image/mask pairs, tile features over slides). It knows nothing about what a
case computes (it imports nothing of :mod:`imaging` or :mod:`pathology`); it
knows how to

* check before computing: everything that can be checked before the first
  case is (the cache folder can be written, the scheduler address reads as
  one, the command's ``check`` of the settings every case gets, e.g. a
  pyradiomics parameter file against pyradiomics' schema), so a run that
  cannot work fails at once, with nothing computed;
* run cases in parallel: a local process pool (one case per task, ``jobs``
  worker processes each limited to one thread so N workers use N cores; never
  more workers than cores available or cases to compute, with a note), or a
  Dask cluster when a scheduler address is given (a SLURM cluster started with
  dask-jobqueue works the same way). A domain that needs more set-up per
  worker (ITK's thread count, a GPU) passes a ``worker_init`` hook. Local
  workers end with the run, also when it is killed with SIGKILL
  (:func:`fusion.cohort.worker.init_worker`);
* skip what is already done: each finished case is stored in a
  content-addressed cache (:mod:`fusion.cohort.cache`), so a re-run, or a run
  after a crash or a kill, computes only the missing cases, and a changed
  parameter or input file never reuses a stale result (inputs are keyed by
  content; see :mod:`fusion.cohort.cache` for when a file is not read again).
  An input that changes while its case runs fails that case rather than
  store a result of unknown content. A per-case function
  that writes files (one HDF5 per slide) declares them with
  ``output_columns``: their size and SHA-256 are kept with the result, and a
  cached result whose file was deleted or changed is computed again;
* keep going: a failing case is recorded (case id, stage, error type and
  message; stages follow the protocol of :mod:`fusion.cohort.worker`) and the
  others run; a case that kills its worker process (a segmentation fault,
  ``os._exit``, the out-of-memory killer) is retried alone and, if it kills it
  again, recorded as failed at stage ``"worker"``;
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
import importlib
import importlib.util
import inspect
import numbers
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pandas as pd

from .cache import FileDigests, ResultCache, cache_key, output_record
from .executors import Task, available_cores, input_bytes, run_dask, run_local
from .progress import Progress
from .result import CohortResult
from .worker import CaseSpec, resolve

__all__ = ["run_cohort", "function_identity"]


def function_identity(function: Callable | str) -> str:
    """``module:qualname`` of a per-case function plus a digest of the code behind it.

    Part of the cache key. The digest covers every ``.py`` file of the
    function's top-level package (``imaging/`` for ``imaging.radiomics.extract_case``),
    or the module's own file outside a package: editing the code that computes
    a result (during development, when the package version does not move)
    invalidates the cached results, including edits to helpers the function
    calls in sibling modules.

    ``function`` may be a callable (a module-level function or a
    :func:`functools.partial` of one) or its ``"module:qualname"`` reference;
    both give the same identity, and a reference is identified without
    importing its module.
    """
    if isinstance(function, str):
        module, _, name = function.partition(":")
        base = None
    else:
        base = function
        while hasattr(base, "func"):  # functools.partial
            base = base.func
        module = getattr(base, "__module__", None) or "?"
        name = getattr(base, "__qualname__", type(base).__name__)
    h = hashlib.sha256()
    for f in _source_files(module, base):
        try:
            data = f.read_bytes()
        except OSError:  # frozen modules, code without source
            continue
        h.update(str(f.name).encode())
        h.update(data)
    return f"{module}:{name}:{h.hexdigest()[:16]}"


def _source_files(module: str, base) -> list[Path]:
    top = module.split(".")[0]
    try:
        loaded = sys.modules.get(top)
        if loaded is not None:
            locations = list(getattr(loaded, "__path__", []) or [])
            origin = getattr(loaded, "__file__", None)
        else:  # not imported yet: find its files without running it
            spec = importlib.util.find_spec(top)
            if spec is None:
                return []
            locations = list(spec.submodule_search_locations or [])
            origin = spec.origin
        if "." in module and locations:
            return sorted(p for d in locations for p in Path(d).rglob("*.py"))
        if base is not None:
            return [Path(inspect.getsourcefile(base))]
        return [Path(origin)] if origin and os.path.isfile(origin) else []
    except (ImportError, TypeError, OSError, ValueError):  # builtins, code without source
        return []


def run_cohort(
    function: Callable[..., Mapping] | str,
    cases: pd.DataFrame,
    *,
    file_columns: Sequence[str],
    id_column: str = "case_id",
    option_columns: Sequence[str] | None = None,
    output_columns: Sequence[str] = (),
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
    worker_init: Callable[[], object] | str | None = None,
    start_method: str | None = None,
    check: Callable[..., object] | str | None = None,
) -> CohortResult:
    """Run ``function`` once per case, in parallel, with caching and failure records.

    Each case calls ``function(case_id, **files, **options, **kwargs)`` where
    ``files`` and ``options`` come from the case's row (blank cells are left
    out, so the function's defaults apply) and must return a dict of
    output name -> value (a scalar per name: the row of the feature table).

    Parameters
    ----------
    function : callable or str
        The per-case function, or its ``"module:qualname"`` reference (e.g.
        ``"imaging.radiomics:extract_case"``). It must be importable by name (a
        module-level function or a :func:`functools.partial` of one), since
        worker processes receive it by reference. A reference is imported only
        when a case has to be computed, so a fully cached run does not pay for
        the function's imports. To name the stage a failure happened in, raise
        an exception with a ``stage`` attribute (:mod:`fusion.cohort.worker`).
    cases : pandas.DataFrame
        A checked manifest (:func:`fusion.cohort.check_manifest`): a unique
        id per row in ``id_column``; file columns hold absolute paths.
    file_columns : sequence of str
        Columns holding input files: passed to ``function`` as paths, keyed in
        the cache by their *content*, and checked to exist before a case starts
        (on the worker too). Columns absent from ``cases`` are ignored (an
        optional input); ``()`` when the cases read no file.
    id_column : str, default "case_id"
        The column of case ids; the first column of the feature and failure tables.
    option_columns : sequence of str, optional
        Other columns passed to ``function`` (and part of the key). Default:
        every column that is neither the id nor a file column.
    output_columns : sequence of str, optional
        Keys of the function's result whose values are paths of files the
        function wrote (``"features_path"`` for one HDF5 per slide). Each must
        exist where the runner runs (a shared file system with Dask) or the
        case fails at stage ``"output"``; their size and SHA-256 are stored
        with the cached result, and a cached result whose file is missing or
        changed is not reused (the case is computed again). With outputs, the
        case id is part of the cache key (output files are named after it).
        The function should write each file atomically (a temporary name,
        then :func:`os.replace`).
    kwargs : mapping, optional
        Keyword arguments shared by every case (e.g. ``params``, ``regions``).
    key_params : object, optional
        What identifies ``kwargs`` in the cache key, JSON-able. Defaults to
        ``kwargs``; pass the *content* of a parameter file rather than its
        path, and include every setting that changes a result or an output
        file's location.
    versions : mapping, optional
        Library versions that make up the key (e.g. pyradiomics, numpy).
    jobs : int, default 1
        Worker processes of the local pool (ignored with ``scheduler``). At
        most as many are started as there are CPU cores this process may use
        (:func:`fusion.cohort.executors.available_cores`) and cases to
        compute; the result's ``notes`` say when fewer were started.
    scheduler : str or distributed.Client, optional
        A Dask scheduler address (``"tcp://host:8786"``) or a ``Client``:
        cases run on that cluster instead of the local pool.
    cache_dir : path, optional
        Folder of the result cache; ``None`` disables caching. It is created
        and checked to be writable before anything else
        (:class:`~fusion.exceptions.OutputError` otherwise).
    progress : bool, default True
        Show a progress bar (tqdm) or, without tqdm, a counter on stderr.
    desc : str
        Label of the progress bar.
    default_stage : str, default "compute"
        Stage recorded for an exception that names none.
    stages : mapping of exception class -> stage name, optional
        Stage names for exceptions that carry no ``stage`` attribute; the
        first class the exception is an instance of wins (list subclasses
        first). ``OSError`` for a missing file is ``"read"``.
    worker_init : callable or str, optional
        Called with no argument once in each worker process before its first
        case (a ``"module:qualname"`` reference or an importable callable),
        after BLAS and OpenMP are limited to one thread per local worker:
        e.g. ``imaging.radiomics.limit_itk_threads`` so that N workers doing
        ITK filtering use N cores. If it raises, the cases of that worker fail
        at stage ``"setup"``.
    check : callable or str, optional
        Called once as ``check(**kwargs)`` (a ``"module:qualname"`` reference
        or an importable callable) in this process, after the first case not
        found in the cache and before any case is computed; it raises (a
        ``ValueError`` with the fix) if the settings every case gets cannot
        work, e.g. a parameter file that pyradiomics' schema refuses. The
        error is raised by ``run_cohort``: no case is computed. Like the
        per-case function, it is not imported by a fully cached run.
    start_method : {"fork", "forkserver", "spawn"}, optional
        How the local pool starts workers. Default: ``"fork"`` where the
        platform has it (Linux: Python 3.11's own default; a worker starts in
        milliseconds), else ``"spawn"``. The workers are forked before the
        runner starts any thread of its own (progress bar included). With
        ``"forkserver"`` or ``"spawn"`` each worker re-imports the main module
        and the per-case function's module, the price of not inheriting a
        multi-threaded parent's state.

    Returns
    -------
    CohortResult

    Raises
    ------
    OutputError
        The cache folder cannot be created or written.
    ValueError
        Bad arguments, a scheduler address that is not one, or what ``check`` raised.
    ConnectionError
        The Dask scheduler cannot be reached (raised before any case runs).

    Notes
    -----
    The cache key of a case is ``sha256(file contents, options, key_params,
    versions, function identity)`` (:func:`fusion.cohort.cache_key`); it never
    involves the case's row or file names (nor its id, unless it declares
    output files). Failures are not cached: a re-run retries them.
    """
    if not isinstance(id_column, str) or not id_column:
        raise TypeError(f"The 'id_column' parameter of run_cohort must be a column name. "
                        f"Got {id_column!r} instead.")
    if not isinstance(cases, pd.DataFrame) or id_column not in cases.columns:
        raise TypeError(
            f"run_cohort expects the cases as a DataFrame with a {id_column!r} column "
            "(see fusion.cohort.check_manifest)."
        )
    if cases[id_column].duplicated().any():
        dups = sorted(cases[id_column][cases[id_column].duplicated()].astype(str).unique())
        raise ValueError(f"{id_column} values must be unique; repeated: {dups}. "
                         "Run check_manifest first.")
    for name, value in (("file_columns", file_columns), ("output_columns", output_columns)):
        if isinstance(value, str) or not all(isinstance(c, str) for c in value):
            raise TypeError(
                f"The '{name}' parameter of run_cohort must be a sequence of column names, "
                f"e.g. ('image', 'mask'). Got {value!r} instead."
            )
    if not (callable(function) or isinstance(function, str)):
        raise TypeError("The 'function' parameter of run_cohort must be a callable or a "
                        f"'module:qualname' reference. Got {type(function).__name__} instead.")
    if isinstance(function, str):
        module, _, qualname = function.partition(":")
        if not module or not qualname:
            raise ValueError(
                "The 'function' parameter of run_cohort must read 'module:name' when given "
                f"as text (e.g. 'imaging.radiomics:extract_case'). Got {function!r} instead.")
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np_integer())) or jobs < 1:
        raise ValueError(f"The 'jobs' parameter of run_cohort must be an integer >= 1. "
                         f"Got {jobs!r} instead.")
    jobs = int(jobs)
    if isinstance(scheduler, str):
        scheduler = check_scheduler_address(scheduler)
    kwargs = dict(kwargs or {})
    file_columns = [c for c in file_columns if c in cases.columns]
    output_columns = list(output_columns)
    if option_columns is None:
        option_columns = [c for c in cases.columns if c != id_column and c not in file_columns]
    else:
        missing = [c for c in option_columns if c not in cases.columns]
        if missing:
            raise ValueError(f"option_columns {missing} are not columns of the cases table.")
    key_params = kwargs if key_params is None else key_params
    stages = tuple(stages.items()) if isinstance(stages, Mapping) else tuple(stages)
    identity = function_identity(function)
    spec = CaseSpec(function=function, default_stage=default_stage, stages=stages,
                    file_args=tuple(file_columns), worker_init=worker_init)

    prepared: list[CaseSpec] = []

    def prepare() -> CaseSpec:
        """Import the function and check the settings (once: only when a case must be computed)."""
        if not prepared:
            if check is not None:
                resolve(check)(**kwargs)
            prepared.append(CaseSpec(function=resolve(function), default_stage=default_stage,
                                     stages=stages, file_args=tuple(file_columns),
                                     worker_init=worker_init))
        return prepared[0]

    t_start = time.perf_counter()
    # The cache folder is checked (created, writable) before anything else.
    cache = ResultCache(cache_dir) if cache_dir is not None else None
    digests = FileDigests(Path(cache_dir) / "file_digests.json" if cache_dir is not None else None)
    if cache is not None:
        cache.digests = digests
    notes: list[str] = []

    results: dict[str, dict] = {}
    failures: dict[str, dict] = {}
    tracebacks: dict[str, str] = {}
    compute_seconds: dict[str, float] = {}
    counters = {"cached": 0, "computed": 0}
    cache_errors: list[str] = []
    bar = Progress(len(cases), desc, enabled=progress)

    def fail(case_id, row, stage, error_type, message, tb=""):
        failures[case_id] = {
            id_column: case_id, "row": row, "stage": stage,
            "error_type": error_type, "message": message,
        }
        if tb:
            tracebacks[case_id] = tb
        bar.update(failed=True)

    def plan() -> Iterator[Task]:
        """Cases still to compute; records cache hits and unreadable inputs on the way."""
        last_save = time.monotonic()
        first = True
        for idx, rec in zip(cases.index, cases.to_dict("records")):
            case_id = str(rec[id_column])
            row = _row_number(idx)
            files = {c: rec[c] for c in file_columns if not _blank(rec.get(c))}
            options = {c: rec[c] for c in option_columns if not _blank(rec.get(c))}
            key = None
            try:
                # Signatures first: a file changed after this point fails its case (see below).
                signatures = {c: FileDigests.signature(p)[0] for c, p in files.items()}
                file_keys = ({c: digests.digest(p) for c, p in files.items()}
                             if cache is not None else {})
            except OSError as exc:
                missing = getattr(exc, "filename", None) or exc
                role = next((c for c, p in files.items() if str(p) == str(missing)), "input")
                fail(case_id, row, "read", type(exc).__name__,
                     f"cannot read {role} file '{missing}': {exc.strerror or exc}; "
                     "fix the path in the manifest or restore the file.")
                continue
            if cache is not None:
                key = cache_key(file_keys, options=options, params=key_params,
                                versions=versions, function=identity,
                                case_id=case_id if output_columns else None,
                                outputs=output_columns or None)
                hit = cache.get(key)
                if hit is not None:
                    results[case_id] = hit
                    counters["cached"] += 1
                    bar.update()
                    continue
                if time.monotonic() - last_save > 30:
                    save_digests()
                    last_save = time.monotonic()
            if first:  # the first case to compute: import the function, check the settings
                prepare()
                first = False
            yield Task(case_id, row, key, {**files, **options, **kwargs}, signatures, files)

    def save_digests() -> None:
        try:
            digests.save()
        except OSError as exc:  # a full or read-only disk: a lost shortcut, not a lost run
            note = (f"could not save the input digests in '{digests.store}' "
                    f"({exc.strerror or exc}); the next run will read the inputs again.")
            if note not in notes:
                notes.append(note)

    def changed_inputs(task: Task) -> list[str]:
        """Input files whose stat signature changed since the case was planned."""
        changed = []
        for c, p in task.files.items():
            try:
                now = FileDigests.signature(p)[0]
            except OSError:
                now = None
            if now != task.signatures.get(c):
                changed.append(f"{c} file '{p}'")
        return changed

    try:
        if scheduler is not None:
            if jobs > 1:
                notes.append(f"jobs={jobs} is ignored with a Dask scheduler: the cluster's "
                             "workers run the cases.")
            outcomes = run_dask(spec, plan(), scheduler, prepare=prepare, on_start=bar.start)
        else:
            tasks = plan()
            workers = 1
            if jobs > 1:
                # Longest cases first (input bytes as the proxy), so no large case starts
                # last and runs alone while the other workers idle.
                tasks = sorted(tasks, key=input_bytes, reverse=True)
                workers = _clamp_workers(jobs, len(tasks), notes)
            outcomes = run_local(spec, tasks, workers, start_method, on_start=bar.start,
                                 prepare=prepare)
    except BaseException:
        save_digests()
        bar.close()
        raise
    try:
        for task, (status, payload, seconds) in outcomes:
            if status == "ok":
                changed = changed_inputs(task)
                if changed:
                    status, payload = "error", {
                        "stage": "read", "error_type": "InputChanged",
                        "message": (f"case {task.case_id!r}: {', '.join(changed)} changed while "
                                    "the case ran, so the result is of unknown content and was "
                                    "not kept; run again once the files are final.")}
            if status == "ok" and output_columns:
                written, problem = _check_outputs(task.case_id, payload, output_columns, digests)
                if problem:
                    status, payload = "error", {"stage": "output", "error_type": "OutputError",
                                                "message": problem}
            else:
                written = None
            if status == "ok":
                results[task.case_id] = payload
                compute_seconds[task.case_id] = seconds
                counters["computed"] += 1
                if cache is not None and task.key is not None:
                    try:
                        cache.put(task.key, payload, case_id=task.case_id, outputs=written)
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
        save_digests()
        bar.close()
    if cache is not None and cache.n_damaged:
        notes.append(f"{cache.n_damaged} cache entr{'y was' if cache.n_damaged == 1 else 'ies were'}"
                     f" damaged (unreadable, or not matching their own checksum) and the "
                     f"case{'' if cache.n_damaged == 1 else 's'} computed again.")

    order = [str(c) for c in cases[id_column]]
    features = _feature_table([(c, results[c]) for c in order if c in results], id_column)
    failure_columns = [id_column, "row", "stage", "error_type", "message"]
    failures_df = pd.DataFrame([failures[c] for c in order if c in failures],
                               columns=failure_columns)
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
        id_column=id_column,
        n_stale=cache.n_stale if cache is not None else 0,
        notes=notes,
    )


def _clamp_workers(jobs: int, n_tasks: int, notes: list[str]) -> int:
    """Worker processes to start: at most the cores available and the cases to compute."""
    workers = jobs
    cores = available_cores()
    if workers > cores:
        notes.append(f"jobs={jobs} is more than the {cores} CPU core{'s' if cores != 1 else ''} "
                     f"this run may use; started {cores} worker process"
                     f"{'es' if cores != 1 else ''}.")
        workers = cores
    if n_tasks and workers > n_tasks:
        notes.append(f"only {n_tasks} case{'s' if n_tasks != 1 else ''} to compute; started "
                     f"{n_tasks} worker process{'es' if n_tasks != 1 else ''}, not {workers}.")
        workers = n_tasks
    return max(1, workers)


def np_integer():
    """numpy's integer type when numpy is loaded (pandas loads it), else ``int``."""
    np = sys.modules.get("numpy")
    return np.integer if np is not None else int


def check_scheduler_address(address: str) -> str:
    """A Dask scheduler address, checked for form (not reachability): ``tcp://host:8786``.

    Raises ``ValueError`` naming the address and the expected form.
    """
    import re

    text = address.strip()
    m = re.fullmatch(r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?(?P<rest>\S+)", text)
    ok = False
    if m:
        scheme, rest = (m.group("scheme") or "tcp").lower(), m.group("rest")
        if scheme in ("tcp", "tls", "ucx", "ws", "wss"):
            hp = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+)(?::(\d{1,5}))?", rest)
            ok = bool(hp) and (hp.group(2) is None or 0 < int(hp.group(2)) < 65536)
        elif scheme == "inproc":
            ok = True
    if not ok:
        raise ValueError(
            f"The scheduler address must read 'tcp://HOST:PORT' (e.g. 'tcp://10.0.0.5:8786', "
            f"as printed by 'dask scheduler' or SLURMCluster().scheduler_address). Got "
            f"{address!r} instead.")
    return text


def _check_outputs(case_id: str, result: Mapping, output_columns, digests: FileDigests):
    """Size and SHA-256 of each output file a case reported; or the problem, as text."""
    written = {}
    for col in output_columns:
        path = result.get(col)
        if not isinstance(path, (str, os.PathLike)) or not str(path):
            return None, (f"case {case_id!r}: the per-case function should return the path of "
                          f"the file it wrote under {col!r}; it returned {path!r}.")
        try:
            written[col] = output_record(path, digests)
        except OSError as exc:
            return None, (f"case {case_id!r}: output file '{path}' ({col}) that the per-case "
                          f"function reported cannot be read where the run started "
                          f"({exc.strerror or exc}); with a Dask cluster, write outputs to a "
                          "shared file system that every worker and this machine mount at "
                          "the same path.")
    return written, ""


def _feature_table(pairs: list[tuple[str, dict]], id_column: str = "case_id") -> pd.DataFrame:
    columns: dict[str, None] = {}
    for _, res in pairs:
        for k in res:
            if k != id_column:
                columns.setdefault(k, None)
    data = {id_column: pd.Series([c for c, _ in pairs], dtype=object)}
    for col in columns:
        data[col] = [res.get(col) for _, res in pairs]
    df = pd.DataFrame(data)
    for col in columns:  # numbers as float64 (None -> NaN); anything else left as it is
        if df[col].dtype == object and all(
                v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool)) for v in df[col]):
            # Only columns of numbers: pandas' to_numeric on text can crash the process
            # (pandas 2.3 segfaults on a hex digest such as "5e3412345678901234...").
            df[col] = df[col].astype(float)
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
