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


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
