"""Cohort-scale work: one per-case function over every case of a manifest.

=====================  ==========================================================
module                 holds
=====================  ==========================================================
``runner``             :func:`run_cohort` (plan, cache look-up, execution, tables)
``result``             :class:`CohortResult` (features, failures, report, write)
``manifest``           :func:`check_manifest`, :func:`read_manifest`, :class:`ManifestError`
``cache``              :class:`ResultCache`, :class:`FileDigests`, :func:`cache_key`
``lock``               :class:`OutputLock` (one run at a time per output)
``executors``          the local process pool and the Dask executor
``worker``             what runs in a worker process; the *stage* protocol of errors
``progress``           the progress bar
``versions``           library versions for cache keys; nomofuse's own version
=====================  ==========================================================

Everything here is domain-free: it imports nothing of :mod:`imaging` or
:mod:`pathology`. A command that runs a cohort is built on
:class:`fusion.commands.cohort_command.CohortCommand`.
"""

__all__ = [
    "run_cohort",
    "CohortResult",
    "errors_path",
    "FAILURE_COLUMNS",
    "function_identity",
    "check_manifest",
    "read_manifest",
    "ManifestError",
    "ResultCache",
    "FileDigests",
    "cache_key",
    "file_sha256",
    "output_record",
    "OutputLock",
    "lock_path",
    "check_output_path",
    "available_cores",
]

from .._lazy import lazy_attributes

# Imported on first use, so that ``nomofuse --help`` does not pay for pandas.
_LAZY = {
    "run_cohort": "runner", "function_identity": "runner",
    "CohortResult": "result", "errors_path": "result", "FAILURE_COLUMNS": "result",
    "check_manifest": "manifest", "read_manifest": "manifest", "ManifestError": "manifest",
    "ResultCache": "cache", "FileDigests": "cache", "cache_key": "cache",
    "file_sha256": "cache", "output_record": "cache",
    "OutputLock": "lock", "lock_path": "lock", "check_output_path": "result",
    "available_cores": "executors",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
