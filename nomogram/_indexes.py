"""Predictive-accuracy indexes shared by fits, ``validate`` and ``calibrate``, each computed once.

Numbers only (arrays in, floats or arrays out). Formulas follow rms
``lrm.fit``, ``val.prob`` and Hmisc ``somers2``/``GiniMd``. The weighted
forms (frequency weights, one resample per row) serve the batched resampling
of :mod:`nomogram._resample`; the scalar forms are them with unit weights.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

__all__ = [
    "gini_mean_difference",
    "binned_c_index",
    "nagelkerke_r2",
    "brier_score",
    "harrell_c_survival",
    "weighted_gini_md",
    "gini_md_sorted",
    "weighted_somers_dxy",
    "somers_dxy_sorted",
]


def gini_mean_difference(x) -> float:
    """Gini's mean difference, ``mean |x_i - x_j|`` over all pairs ``i != j`` (NaN for n < 2).

    :func:`weighted_gini_md` with unit weights, O(n log n).
    rms reports it as ``g`` (on the linear predictor) and ``gp`` (on probabilities).
    """
    x = np.asarray(x, dtype=float).ravel()
    if len(x) < 2:
        return float("nan")
    return float(weighted_gini_md(x[None], 1.0)[0])


def binned_c_index(p, y) -> float:
    """rms ``lrm.fit``'s C index: probabilities binned as ``int(5000 p + 1)`` (ties within a bin count 1/2).

    ``p`` is first clipped to ``[expit(-30), expit(30)]``; C is the
    concordance probability of the bins with the 0/1 outcome ``y``
    (:func:`weighted_somers_dxy`, ``C = (Dxy + 1) / 2``).
    """
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    bins = np.floor(5000.0 * np.clip(p, expit(-30), expit(30)) + 1.0)
    return float(weighted_somers_dxy(bins[None], y, np.ones((1, len(y))))[0] + 1) / 2


def nagelkerke_r2(lr_chi2, loglik_null, n):
    """Nagelkerke's R2 ``(1 - exp(-LR/n)) / (1 - exp(2 * loglik_null / n))``.

    ``loglik_null`` is the null log-likelihood (not -2 LL). Arrays give arrays
    (one per resample), scalars a float.
    """
    r2 = (1 - np.exp(-np.asarray(lr_chi2, dtype=float) / n)) / (1 - np.exp(2 * np.asarray(loglik_null, dtype=float) / n))
    return float(r2) if np.ndim(r2) == 0 else r2


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


# --------------------------------------------------------------------------- weighted (batched) forms
def weighted_gini_md(x: np.ndarray, w: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """Gini's mean difference of each row of ``x`` with frequency weights ``w``.

    Equal to Hmisc ``GiniMd`` of the sample in which row ``i`` is copied
    ``w_i`` times: with the values sorted and :math:`C_i` the total weight
    before :math:`x_{(i)}`, :math:`N = \\sum w`,

    .. math:: \\mathrm{GMD} = \\frac{2}{N(N-1)} \\sum_i w_i x_{(i)} (2 C_i + w_i - N).
    """
    x = np.atleast_2d(x)
    w = np.broadcast_to(w, x.shape)
    o = np.argsort(x, axis=1) if order is None else order
    return gini_md_sorted(np.take_along_axis(x, o, axis=1), np.take_along_axis(w, o, axis=1))


def gini_md_sorted(xs: np.ndarray, ws: np.ndarray) -> np.ndarray:
    """:func:`weighted_gini_md` of rows already sorted increasingly."""
    N = ws.sum(axis=1)
    C = np.cumsum(ws, axis=1) - ws
    tot = np.sum(ws * xs * (2 * C + ws - N[:, None]), axis=1)
    return 2.0 * tot / (N * (N - 1))


def _tie_groups(xs: np.ndarray) -> np.ndarray:
    """Global group id of each element of the row-sorted array ``xs`` (ties share an id)."""
    B, n = xs.shape
    new = np.ones((B, n), bool)
    new[:, 1:] = xs[:, 1:] != xs[:, :-1]
    return np.cumsum(new.ravel()).reshape(B, n) - 1


def weighted_somers_dxy(x: np.ndarray, y: np.ndarray, w: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """Somers' ``Dxy = 2 C - 1`` of each row of ``x`` for a 0/1 outcome, frequency weights ``w``.

    :math:`C = \\sum_{i: y=1} \\sum_{j: y=0} w_i w_j ([x_i > x_j] + \\tfrac12 [x_i = x_j]) / (W_1 W_0)`,
    which is Hmisc ``somers2`` on the sample with copied rows.
    """
    x = np.atleast_2d(x)
    w = np.broadcast_to(w, x.shape)
    o = np.argsort(x, axis=1) if order is None else order
    return somers_dxy_sorted(np.take_along_axis(x, o, axis=1), y[o], np.take_along_axis(w, o, axis=1))


def somers_dxy_sorted(xs: np.ndarray, ys: np.ndarray, ws: np.ndarray) -> np.ndarray:
    """:func:`weighted_somers_dxy` of rows sorted increasingly by ``xs`` (``ys``, ``ws`` alike)."""
    B, n = xs.shape
    if not np.any(xs[:, 1:] == xs[:, :-1]):
        # no ties: each event is concordant with the non-event weight sorted before it
        w0 = ws * (1 - ys)
        w1 = ws * ys
        below = np.cumsum(w0, axis=1) - w0
        num = np.einsum("ij,ij->i", w1, below)
        return 2.0 * num / (w1.sum(axis=1) * w0.sum(axis=1)) - 1.0
    gid = _tie_groups(xs).ravel()
    G = gid[-1] + 1
    w1 = np.bincount(gid, weights=(ws * ys).ravel(), minlength=G)
    w0 = np.bincount(gid, weights=(ws * (1 - ys)).ravel(), minlength=G)
    # row of each group, and cumulative non-event weight before the group within its row
    grow = np.zeros(G, int)
    grow[gid] = np.repeat(np.arange(B), n)
    c0 = np.cumsum(w0) - w0
    first = np.searchsorted(grow, np.arange(B))
    c0 = c0 - c0[first][grow]
    num = np.bincount(grow, weights=w1 * (c0 + 0.5 * w0), minlength=B)
    W1 = np.bincount(grow, weights=w1, minlength=B)
    W0 = np.bincount(grow, weights=w0, minlength=B)
    return 2.0 * num / (W1 * W0) - 1.0
