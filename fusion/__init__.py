"""Fusion of imaging, pathology and clinical data into per-cancer models.

Owns the cohort runner (executor, cache, resume, failure log), the study
pipeline, screening of new patients and the ``nomofuse`` command line.
"""

__all__: list[str] = []
