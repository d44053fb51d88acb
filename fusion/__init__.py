"""Fusion of imaging, pathology and clinical data into per-cancer models.

Where things are
----------------
=========================  ================================================================
``fusion.cohort``          the cohort runner: :func:`run_cohort` over a manifest (local
                           pool or Dask), content-keyed cache, resume, failure log
                           (``runner``, ``result``, ``executors``, ``worker``, ``cache``,
                           ``manifest``, ``progress``, ``versions``, ``lock``)
``fusion.commands``        the ``nomofuse`` sub-commands, one module each, and the shared
                           skeleton of cohort commands (``cohort_command.CohortCommand``)
``fusion.cli``             the ``nomofuse`` entry point (parser, ``--version``, ``--debug``);
                           exit statuses and one-line errors in ``commands.exit_status``
``fusion.exceptions``      ``UsageError``, ``OutputError``, ``OutputLockedError``
``fusion.models``          per-modality labels (cross-fitted), the early-fusion network,
                           per-cancer nomogram groups, model comparison, screening (predict)
``fusion.study``           (to come) the study file and ``nomofuse run``
=========================  ================================================================

``fusion.cache`` and ``fusion.manifest`` are the former homes of the cache and
the manifest checker; they keep their names.
"""

__all__: list[str] = [
    # cohort runner (fusion.cohort)
    "run_cohort",
    "CohortResult",
    "check_manifest",
    "read_manifest",
    "ManifestError",
    "ResultCache",
    "FileDigests",
    "cache_key",
]

from ._lazy import lazy_attributes

# Imported on first use, so that ``nomofuse --help`` does not pay for pandas.
_LAZY = {name: "cohort" for name in __all__}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
