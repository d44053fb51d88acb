"""A whole nomogram study from one YAML file.

- :mod:`fusion.study.config`: the study file, its schema and validator
  (:func:`load_study`, :class:`StudyConfig`, :func:`example_path`).
- :mod:`fusion.study.pipeline`: :func:`run_study` (``nomofuse run``), stage by
  stage with a record of what each stage depends on (:mod:`fusion.study.stages`),
  over :mod:`fusion.study.patients`, :mod:`fusion.study.features` and
  :mod:`fusion.study.evaluation`.
- :mod:`fusion.study.bundle`: the screening bundle and :func:`screen`
  (``nomofuse screen``).
- :mod:`fusion.study.report`: the self-contained ``report.html``.
- :mod:`fusion.study.demo_data`: a seeded synthetic bone-metastasis cohort
  (clinical table, CT-like volumes, pyramidal slides) for ``nomofuse demo``.
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
    "run_study",
    "StudyRun",
    "screen",
    "ScreenResult",
    "make_demo_cohort",
    "render_report",
    "write_report",
    "ReportContent",
]

from .._lazy import lazy_attributes

# Imported on first use (pandas, matplotlib and the modality packages load only when needed).
_LAZY = {
    "run_study": "pipeline", "StudyRun": "pipeline",
    "screen": "bundle", "ScreenResult": "bundle",
    "make_demo_cohort": "demo_data",
    "render_report": "report", "write_report": "report", "ReportContent": "report",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
