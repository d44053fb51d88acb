"""Fusion of imaging, pathology and clinical data into per-cancer models.

Owns the cohort runner (executor, cache, resume, failure log), the study
pipeline, screening of new patients and the ``nomofuse`` command line.
"""

__all__: list[str] = [
    # cohort runner (fusion.cohort, fusion.manifest, fusion.cache)
    "run_cohort",
    "CohortResult",
    "check_manifest",
    "read_manifest",
    "ManifestError",
    "ResultCache",
    "FileDigests",
    "cache_key",
]

# Imported on first use, so that ``nomofuse --help`` does not pay for pandas.
_LAZY = {
    "run_cohort": "cohort", "CohortResult": "cohort",
    "check_manifest": "manifest", "read_manifest": "manifest", "ManifestError": "manifest",
    "ResultCache": "cache", "FileDigests": "cache", "cache_key": "cache",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
