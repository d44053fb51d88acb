"""Discrimination metrics: ROC/AUC with DeLong and bootstrap CIs, DeLong tests,
optimal cut-offs, multi-class reports, survival concordance (Harrell, Uno),
time-dependent AUC and reclassification (NRI, IDI).

Every number is checked against R (pROC, survival, Hmisc) or scikit-learn /
scikit-survival in ``tests/metrics``.
"""

from ._delong import DelongTestResult, delong_test, delong_test_unpaired
from ._roc import RocAucResult, RocCurve, delong_placements, roc_auc_ci, roc_curve, sensitivity_ci

__all__ = [
    "DelongTestResult",
    "RocAucResult",
    "RocCurve",
    "delong_placements",
    "delong_test",
    "delong_test_unpaired",
    "roc_auc_ci",
    "roc_curve",
    "sensitivity_ci",
]
