"""Scalar predictive-accuracy indexes shared by fits, ``validate`` and ``calibrate``.

Numbers only (arrays in, floats out). Formulas follow rms ``lrm.fit`` and
``val.prob``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = ["gini_mean_difference", "c_index_binary", "nagelkerke_r2", "brier_score", "harrell_c_survival"]


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


def _later_strictly_smaller(vals: np.ndarray) -> np.ndarray:
    """For each position i, the number of positions j > i with ``vals[j] < vals[i]``.

    Bottom-up merge sort in which every level is one vectorised ``searchsorted``
    over all blocks at once: O(n log^2 n) in NumPy, no Python loop over rows.
    ``vals`` are non-negative integer ranks.
    """
    n = len(vals)
    counts = np.zeros(n, dtype=np.int64)
    ids = np.arange(n)
    v = vals.astype(np.int64).copy()
    big = np.int64(n + 1)
    w = 1
    pos = np.arange(n)
    while w < n:
        block = pos // (2 * w)
        in_right = (pos % (2 * w)) >= w
        key = block * big + v
        right_keys = key[in_right]  # sorted: blocks ascending, values sorted in each half
        left = ~in_right
        lo = np.searchsorted(right_keys, block[left] * big, side="left")
        hi = np.searchsorted(right_keys, key[left], side="left")
        counts[ids[left]] += hi - lo
        order = np.argsort(key, kind="stable")
        v, ids = v[order], ids[order]
        w *= 2
    return counts


def harrell_c_survival(time, event, risk) -> float:
    """Harrell's C for a risk score (higher = shorter survival), O(n log^2 n).

    A pair is usable when the shorter time is an event; a censored time equal
    to an event time counts as longer; pairs of tied event times are not
    usable; tied risks count 1/2. This is the C of rms ``cph`` (``Dxy = 2C - 1``)
    and of ``lifelines.utils.concordance_index(time, -risk, event)``.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float) > 0
    risk = np.asarray(risk, dtype=float)
    t_rank = np.unique(time, return_inverse=True)[1]
    key = 2 * t_rank + (~event).astype(np.int64)  # censored sort after events at the same time
    s_rank = np.unique(risk, return_inverse=True)[1]
    n_s = s_rank.max() + 1
    # later = larger key; within equal keys order so tied-key rows never count
    asc = np.lexsort((s_rank, key))
    n_less = np.empty(len(time), dtype=np.int64)
    n_less[asc] = _later_strictly_smaller(s_rank[asc])
    desc = np.lexsort((-s_rank, key))
    n_greater = np.empty(len(time), dtype=np.int64)
    n_greater[desc] = _later_strictly_smaller((n_s - 1 - s_rank)[desc])
    sorted_keys = np.sort(key)
    n_total = len(key) - np.searchsorted(sorted_keys, key, side="right")
    conc = n_less[event].sum()
    disc = n_greater[event].sum()
    tied = n_total[event].sum() - conc - disc
    usable = conc + disc + tied
    return float((conc + 0.5 * tied) / usable)
