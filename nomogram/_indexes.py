"""Scalar predictive-accuracy indexes shared by fits, ``validate`` and ``calibrate``.

Numbers only (arrays in, floats out). Formulas follow rms ``lrm.fit`` and
``val.prob``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = ["gini_mean_difference", "c_index_binary", "nagelkerke_r2", "brier_score"]


def gini_mean_difference(x) -> float:
    """Gini's mean difference, ``mean |x_i - x_j|`` over all pairs ``i != j``.

    Computed in O(n log n) from the order statistics:
    :math:`\\frac{2}{n(n-1)} \\sum_i (2i - n - 1) x_{(i)}`.
    rms reports it as ``g`` (on the linear predictor) and ``gp`` (on probabilities).
    """
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    if n < 2:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(2.0 * np.sum((2 * i - n - 1) * x) / (n * (n - 1)))


def c_index_binary(score, y) -> float:
    """Concordance probability (ROC area) of ``score`` for a 0/1 outcome; ties count 1/2."""
    score = np.asarray(score, dtype=float)
    y = np.asarray(y, dtype=float)
    n1 = y.sum()
    n0 = len(y) - n1
    r = rankdata(score)
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def nagelkerke_r2(lr_chi2: float, loglik_null: float, n: int) -> float:
    """Nagelkerke's R2: ``(1 - exp(-LR/n)) / (1 - exp(2 * loglik_null / n))``."""
    return float((1 - np.exp(-lr_chi2 / n)) / (1 - np.exp(2 * loglik_null / n)))


def brier_score(p, y) -> float:
    """Mean squared difference between predicted risk and the 0/1 outcome."""
    p = np.asarray(p, dtype=float)
    return float(np.mean((p - np.asarray(y, dtype=float)) ** 2))
