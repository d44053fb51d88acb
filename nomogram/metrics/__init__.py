"""Discrimination metrics.

ROC curves and AUC with DeLong or bootstrap confidence intervals (as R's
pROC), paired and unpaired DeLong tests, the Youden cut-off with diagnostic
accuracy and CIs, multi-class reports, survival concordance (Harrell's and
Uno's C, as ``survival::concordance``), cumulative/dynamic time-dependent AUC,
and reclassification (NRI, IDI, as ``Hmisc::improveProb``; KM-based NRI at t).

Direction convention: a higher score means a higher risk of the event
(pROC's ``direction="<"``: controls < cases; ``survival::concordance(...,
reverse=TRUE)``). Every number is checked against R or scikit-learn /
scikit-survival in ``tests/metrics``.
"""

from ._concordance import (
    ConcordanceComparison,
    ConcordanceResult,
    compare_concordance,
    harrell_c,
    uno_c,
)
from ..decision_curve import DecisionCurveResult, decision_curve  # re-exported (DESIGN.md)
from ._cutoff import CutoffResult, cutoff_metrics, optimal_cutoff, proportion_ci
from ._delong import DelongTestResult, delong_test, delong_test_unpaired
from ._multiclass import MulticlassResult, multiclass_metrics
from ._reclassification import (
    ReclassificationResult,
    SurvivalIdiResult,
    SurvivalNriResult,
    reclassification,
    survival_idi,
    survival_nri,
)
from ._roc import (
    RocAucResult,
    RocCurve,
    delong_placements,
    roc_auc_ci,
    roc_curve,
    sensitivity_ci,
)
from ._time_dependent_auc import (
    TimeDependentAucResult,
    compare_time_dependent_auc,
    time_dependent_auc,
)

__all__ = [
    "ConcordanceComparison",
    "ConcordanceResult",
    "CutoffResult",
    "DecisionCurveResult",
    "DelongTestResult",
    "MulticlassResult",
    "ReclassificationResult",
    "RocAucResult",
    "RocCurve",
    "SurvivalIdiResult",
    "SurvivalNriResult",
    "TimeDependentAucResult",
    "compare_concordance",
    "compare_time_dependent_auc",
    "cutoff_metrics",
    "decision_curve",
    "delong_placements",
    "delong_test",
    "delong_test_unpaired",
    "harrell_c",
    "multiclass_metrics",
    "optimal_cutoff",
    "proportion_ci",
    "reclassification",
    "roc_auc_ci",
    "roc_curve",
    "sensitivity_ci",
    "survival_idi",
    "survival_nri",
    "time_dependent_auc",
    "uno_c",
]
