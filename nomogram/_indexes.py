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


def harrell_c_survival(time, event, risk) -> float:
    """Harrell's C for a risk score (higher = shorter survival), O(n log n).

    A pair is usable when the shorter time is an event; a censored time equal
    to an event time counts as longer; pairs of tied event times are not
    usable; tied risks count 1/2. This is the C of rms ``cph`` (``Dxy = 2C - 1``)
    and of ``lifelines.utils.concordance_index(time, -risk, event)``; the pairs
    are counted by :func:`nomogram._pair_counts.concordance_counts` (Fenwick tree).
    """
    from ._pair_counts import concordance_counts

    (conc, disc, tied), _ = concordance_counts(time, event, risk, influence=False)
    return float((conc + 0.5 * tied) / (conc + disc + tied))


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
    """:func:`weighted_gini_md` of rows already sorted increasingly (one compiled pass per row)."""
    from ._sorted_indexes import gini_md_rows

    xs = np.atleast_2d(xs)
    return gini_md_rows(np.ascontiguousarray(xs, dtype=float),
                        np.ascontiguousarray(np.broadcast_to(ws, xs.shape), dtype=float))


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
    """:func:`weighted_somers_dxy` of rows sorted increasingly by ``xs`` (``ys``, ``ws`` alike).

    One compiled pass per row over the tie groups of ``xs``: each group's
    event weight is concordant with the non-event weight of the groups below
    it and tied with half of its own.
    """
    from ._sorted_indexes import somers_dxy_rows

    xs = np.atleast_2d(xs)
    return somers_dxy_rows(np.ascontiguousarray(xs, dtype=float),
                           np.ascontiguousarray(np.broadcast_to(ys, xs.shape), dtype=float),
                           np.ascontiguousarray(np.broadcast_to(ws, xs.shape), dtype=float))
