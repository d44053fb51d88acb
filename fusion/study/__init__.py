"""A whole nomogram study from one YAML file.

- :mod:`fusion.study.config`: the study file, its schema and validator
  (:func:`load_study`, :class:`StudyConfig`, :func:`example_path`).
- :mod:`fusion.study.demo_data`: a seeded synthetic bone-metastasis cohort
  (clinical table, CT-like volumes, pyramidal slides) for ``nomofuse demo``.
- :mod:`fusion.study.report`: the self-contained ``report.html``.
"""

from .config import (
    EXAMPLES,
    Settings,
    StudyConfig,
    StudyFileError,
    example_path,
    load_study,
    parse_study,
    schema_reference,
)

__all__ = [
    "EXAMPLES",
    "Settings",
    "StudyConfig",
    "StudyFileError",
    "example_path",
    "load_study",
    "parse_study",
    "schema_reference",
]
