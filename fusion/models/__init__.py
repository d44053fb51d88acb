"""Fusion models: per-modality labels, the early-fusion network, per-cancer nomogram groups,
model comparison and screening of new patients.

Heavy dependencies (torch, xgboost, matplotlib) load only when a model that
needs them is fitted or read.
"""

__all__ = [
    "ModalityLabel",
    "EarlyFusion",
    "NomogramGroup",
    "compare_models",
    "compare_predictions",
    "ModelComparison",
    "score_table",
    "score_csv",
    "ScoringSummary",
    "load_model",
    "AGGREGATES",
    "aggregate_rows",
    "make_multicancer_cohort",
]

from .._lazy import lazy_attributes

_LAZY = {
    "ModalityLabel": "labels",
    "EarlyFusion": "network",
    "NomogramGroup": "group",
    "compare_models": "comparison", "compare_predictions": "comparison", "ModelComparison": "comparison",
    "score_table": "screening", "score_csv": "screening", "ScoringSummary": "screening",
    "load_model": "model_files",
    "AGGREGATES": "_patients", "aggregate_rows": "_patients",
    "make_multicancer_cohort": "synthetic",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
