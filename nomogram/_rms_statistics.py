"""The rank and R² statistics rms prints beside ``C`` and ``R2`` (Gamma, Tau-a, ``R2(p,n)``...).

Numbers only (arrays in, floats out), used by the model fits to fill ``stats_``.

References
----------
Harrell FE. rms ``lrm.fit`` (6.5-0: Fortran ``lrmfit``; 8.2-0: ``lrm.fit.r::lrmstats``),
rms ``cph``; Hmisc ``R2Measures`` (4.8-0 and 5.3-0 are identical).
Harrell FE (2015). Regression Modeling Strategies, 2nd ed., sec. 4.5 (adjusted R²).
"""

from __future__ import annotations

import numpy as np

__all__ = ["binary_rank_statistics", "r2_measures"]


def binary_rank_statistics(score, y) -> dict:
    """C, Somers' Dxy, Goodman–Kruskal Gamma and Kendall's Tau-a of ``score`` for a 0/1 ``y``.

    Over the :math:`n_1 n_0` pairs of an event and a non-event, let :math:`n_c`
    (:math:`n_d`) be those in which the event has the higher (lower) score and
    :math:`n_t` those tied on the score. Then

    .. math::

        C = \\frac{n_c + n_t/2}{n_1 n_0},\\quad D_{xy} = \\frac{n_c - n_d}{n_1 n_0},\\quad
        \\Gamma = \\frac{n_c - n_d}{n_c + n_d},\\quad
        \\tau_a = \\frac{n_c - n_d}{n(n-1)/2}.

    rms 6.5 ``lrm`` passes the predicted probabilities binned to width 1/5000
    (``floor(5000 p)``), rms 8 the linear predictor itself; the statistics are
    the same functions of whichever score is given.

    Parameters
    ----------
    score : array-like of shape (n,)
    y : array-like of shape (n,), 0/1

    Returns
    -------
    dict with keys ``C``, ``Dxy``, ``Gamma``, ``Tau-a``
    """
    score = np.asarray(score, dtype=float)
    y = np.asarray(y, dtype=float) > 0
    s0 = np.sort(score[~y])
    s1 = score[y]
    below = np.searchsorted(s0, s1, side="left").sum(dtype=np.float64)  # non-events scored lower
    not_above = np.searchsorted(s0, s1, side="right").sum(dtype=np.float64)
    n1, n0, n = len(s1), len(s0), len(score)
    conc, tied = below, not_above - below
    disc = float(n1) * n0 - not_above
    pairs = float(n1) * n0
    return {
        "C": float((conc + 0.5 * tied) / pairs),
        "Dxy": float((conc - disc) / pairs),
        "Gamma": float((conc - disc) / (conc + disc)) if conc + disc > 0 else float("nan"),
        "Tau-a": float((conc - disc) / (n * (n - 1) / 2.0)),
    }


def r2_measures(lr: float, p: int, n: int, ess) -> dict:
    """Maddala–Cox–Snell R² and its adjusted versions at n and at the effective sample size.

    .. math::

        R^2(n) = 1 - e^{-LR/n},\\qquad R^2(p, n) = 1 - e^{-\\max(LR - p,\\,0)/n},

    and the same with ``n`` replaced by the effective sample size ``m``: for a
    binary outcome with frequencies :math:`f_k`,
    :math:`m = n (1 - \\sum_k (f_k/n)^3)` (``ess`` = the frequencies); for a
    survival outcome the number of events (``ess`` = a scalar). rms prints them
    as ``R2(686)``, ``R2(10,686)``, ``R2(506)``, ``R2(10,506)``; here the keys are
    ``R2(n)``, ``R2(p,n)``, ``R2(m)``, ``R2(p,m)``. When ``m == n`` the last two
    are NaN, as in Hmisc.

    Parameters
    ----------
    lr : float
        Likelihood-ratio chi-square of the model (rms ``Model L.R.``; for a
        penalized lrm, the penalized one that ``lrm.fit`` uses).
    p : int
        Number of regression coefficients (not the effective d.f.).
    n : int
        Number of observations.
    ess : float or sequence of float
        Number of events (scalar) or outcome frequencies.

    Returns
    -------
    dict with keys ``R2(n)``, ``R2(p,n)``, ``R2(m)``, ``R2(p,m)``
    """
    ess = np.atleast_1d(np.asarray(ess, dtype=float))
    if len(ess) == 1:
        m = float(ess[0])
    else:
        prop = ess / ess.sum()
        m = float(n * (1.0 - np.sum(prop**3)))
    out = {"R2(n)": 1 - np.exp(-lr / n), "R2(p,n)": 1 - np.exp(-max(lr - p, 0.0) / n)}
    if m == n:
        out.update({"R2(m)": np.nan, "R2(p,m)": np.nan})
    else:
        out.update({"R2(m)": 1 - np.exp(-lr / m), "R2(p,m)": 1 - np.exp(-max(lr - p, 0.0) / m)})
    return {k: float(v) for k, v in out.items()}
