"""Cumulative/dynamic time-dependent ROC curve and AUC at a time t: one implementation, two estimators.

Cases at :math:`t` are the patients with an event by :math:`t`
(:math:`T_i \\le t`), controls those still event-free after it
(:math:`T_j > t`); a test is positive when ``score > c``. With distinct
scores :math:`v_1 < \\dots < v_K` as cut-offs the curve is
:math:`(1 - Sp(v_k), Se(v_k))` and the AUC is its trapezoidal area (ties in
the score count 1/2). Censoring before :math:`t` hides whether a patient is
a case, and the two estimators differ in how they correct for it:

``method="km"`` (Heagerty, Lumley & Pepe 2000; ``survivalROC(method="KM")``)
    Bayes' rule with Kaplan–Meier estimates in all patients and in those
    above / not above the cut-off,

    .. math::

        Se(c) = \\frac{\\{1 - \\hat S(t \\mid X > c)\\}\\, P(X > c)}{1 - \\hat S(t)}, \\qquad
        Sp(c) = \\frac{\\hat S(t \\mid X \\le c)\\, P(X \\le c)}{\\hat S(t)},

    where a subgroup whose follow-up stops before :math:`t` keeps its last
    value (``extend=True`` in :mod:`nomogram._survival`).

``method="ipcw"`` (Uno et al. 2007; Hung & Chiang 2010; scikit-survival's ``cumulative_dynamic_auc``)
    events by :math:`t` weighted by :math:`\\omega_i = 1/\\hat G(T_i)`, the
    censoring survival of :func:`nomogram._survival.censoring_survival`
    (controls all carry :math:`1/\\hat G(t)`, which cancels),

    .. math::

        Se(c) = \\frac{\\sum_i \\omega_i I(T_i \\le t, \\delta_i = 1, x_i > c)}
        {\\sum_i \\omega_i I(T_i \\le t, \\delta_i = 1)}, \\qquad
        Sp(c) = \\frac{\\sum_j I(T_j > t, x_j \\le c)}{\\sum_j I(T_j > t)},

    whose trapezoidal area is
    :math:`\\sum_i \\sum_j \\omega_i I(\\cdot)[I(x_i > x_j) + \\tfrac12 I(x_i = x_j)]
    / (\\sum_i \\omega_i I(\\cdot) \\sum_j I(T_j > t))`.

Private: the public entry points are :func:`nomogram.risk_groups.time_dependent_roc`
(``"km"``) and :func:`nomogram.metrics.time_dependent_auc` (``"ipcw"``).

References
----------
Heagerty PJ, Lumley T, Pepe MS (2000) Biometrics 56:337-344. Uno H, Cai T,
Tian L, Wei LJ (2007) JASA 102:527-37. Hung H, Chiang CT (2010) Can J Stat
38:8-26.
"""

from __future__ import annotations

import numpy as np

from ._survival import TimeGrid, censoring_survival, km_survival_at

__all__ = ["cumulative_dynamic_roc", "cumulative_dynamic_auc"]


def _ipcw_weights(time, event):
    """:math:`1/\\hat G(T_i)` for events (0 where :math:`\\hat G = 0`), 0 for censorings."""
    g = censoring_survival(time, event).at(time)
    return np.where((event == 1) & (g > 0), 1.0 / np.where(g > 0, g, 1.0), 0.0)


def _ipcw_roc(values, vid, time, event, w, t):
    """Se and Sp at each distinct score from IPCW case weights; NaN without cases or controls."""
    K = len(values)
    case = (time <= t) & (event == 1)
    ctrl = time > t
    if not case.any() or not ctrl.any():
        nan = np.full(K, np.nan)
        return nan, nan.copy()
    W = np.bincount(vid[case], weights=w[case], minlength=K)
    C = np.bincount(vid[ctrl], minlength=K).astype(float)
    se = (W.sum() - np.cumsum(W)) / W.sum()  # weight of cases scoring above each value
    sp = np.cumsum(C) / C.sum()
    return se, sp


def _km_roc(values, score, time, event, t):
    """Heagerty's Kaplan–Meier Se and Sp at each distinct score.

    The subsets above and not above the cut-offs are nested, so their
    Kaplan–Meier estimates at ``t`` come from one pass each way
    (:func:`nomogram._nested_km.km_at_nested`): O(n log n + K J_t) for K
    distinct scores and J_t distinct event times up to ``t``, O(n) memory.
    """
    from ._nested_km import km_at_nested

    n = len(score)
    S_all = float(km_survival_at(time, event, t)[0])
    n_low = np.searchsorted(np.sort(score), values, side="right")           # #{score <= c}
    S_lo = km_at_nested(time, event, np.argsort(score, kind="stable"), n_low, t, extend=True)
    S_hi = km_at_nested(time, event, np.argsort(-score, kind="stable"), (n - n_low)[::-1], t, extend=True)[::-1]
    p_hi = (n - n_low) / n
    se = (1 - S_hi) * p_hi / (1 - S_all)
    sp = S_lo * (1 - p_hi) / S_all
    return se, sp


def cumulative_dynamic_roc(time, event, score, t: float, *, method: str = "km"):
    """Sensitivity and specificity at every distinct score as cut-off (module docstring).

    Parameters
    ----------
    time, event, score : ndarray of shape (n,)
        Checked by the caller.
    t : float
    method : {"km", "ipcw"}

    Returns
    -------
    cutoffs, sensitivity, specificity : ndarray of shape (K,)
    """
    values, vid = np.unique(score, return_inverse=True)
    if method == "km":
        se, sp = _km_roc(values, score, time, event, t)
    else:
        se, sp = _ipcw_roc(values, vid, time, event, _ipcw_weights(time, event), t)
    return values, se, sp


def _trapezoid_area(se, sp):
    """Area under the points ``(1 - sp, se)`` ordered by cut-off, closed at (1, 1)."""
    fpr = np.r_[1.0, 1.0 - sp]
    tpr = np.r_[1.0, se]
    return float(np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2))


def _ipcw_auc_rows(time, event, vid, K, times, W, grid=None) -> np.ndarray:
    """IPCW AUC(t) under each row of frequency weights ``W`` (B, n); ``vid`` ranks the score (K values).

    The same numbers as :func:`cumulative_dynamic_auc` on the sample in which
    row ``i`` is copied ``W[b, i]`` times (censoring survival re-estimated
    under each row): the score is ranked once by the caller and every
    resample is a reweighting, O(B (n + K)). The area is computed in its
    pairwise form (module docstring): each case's IPCW weight times the
    control weight below its score plus half the control weight at it.
    ``grid``: ``TimeGrid.of(time)`` when the caller calls this for many
    batches of weights (the times are sorted once).
    """
    B = W.shape[0]
    G = censoring_survival(time, event, W, grid)
    tid = np.searchsorted(G.time, time) if grid is None else grid.inverse  # row -> its time on G's grid
    out = np.full((B, len(times)), np.nan)
    offset = np.arange(B)[:, None] * K
    for k, t in enumerate(times):
        case = np.flatnonzero((time <= t) & (event == 1))
        ctrl = np.flatnonzero(time > t)
        g = G.surv[:, tid[case]]                                            # G(T_i) of the cases
        with np.errstate(divide="ignore"):
            wc = np.where(g > 0, W[:, case] / np.where(g > 0, g, 1.0), 0.0)
        Cc = np.bincount((offset + vid[ctrl]).ravel(), weights=W[:, ctrl].ravel(), minlength=B * K)
        Cc = Cc.reshape(B, K).astype(float, copy=False)                     # float also when empty
        below = np.cumsum(Cc, axis=1)
        below -= 0.5 * Cc                                                   # ties count 1/2
        num = np.einsum("bi,bi->b", wc, np.take_along_axis(below, np.broadcast_to(vid[case], wc.shape), 1))
        tw, tc = wc.sum(axis=1), below[:, -1] + 0.5 * Cc[:, -1]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, k] = np.where((tw > 0) & (tc > 0), num / (tw * tc), np.nan)
    return out


def bootstrap_ipcw_auc(time, event, scores, times, n_boot: int, rng, chunk: int | None = None) -> np.ndarray:
    """IPCW AUC(t) of each score on ``n_boot`` bootstrap resamples of the patients.

    A resample is ``rng.integers(0, n, n)`` (the rows drawn), used as
    frequency weights: the scores are ranked once and each resample only
    reweights (:func:`_ipcw_auc_rows`), ``chunk`` resamples at a time
    (default: about 2 million weights, i.e. 40 resamples of 50,000 patients).

    Returns
    -------
    ndarray of shape (len(scores), n_boot, len(times))
        NaN where a resample has no case or no control at a time.
    """
    times = np.atleast_1d(np.asarray(times, dtype=float))
    n = len(time)
    ranked = [np.unique(x, return_inverse=True) for x in scores]
    grid = TimeGrid.of(time)                                                # sorted once, not per chunk
    chunk = max(1, 2_000_000 // max(n, 1)) if chunk is None else chunk
    out = np.empty((len(scores), n_boot, len(times)))
    for a in range(0, n_boot, chunk):
        b = min(n_boot, a + chunk)
        W = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(a, b)]).astype(float)
        for s, (values, vid) in enumerate(ranked):
            out[s, a:b] = _ipcw_auc_rows(time, event, vid, len(values), times, W, grid)
    return out


def cumulative_dynamic_auc(time, event, score, times, *, method: str = "ipcw") -> np.ndarray:
    """AUC(t) at each of ``times``: the trapezoidal area of :func:`cumulative_dynamic_roc`.

    NaN at a time without cases or controls (e.g. in a bootstrap resample).
    For ``"ipcw"`` the censoring survival is estimated once for all times.
    """
    times = np.atleast_1d(np.asarray(times, dtype=float))
    w = _ipcw_weights(time, event) if method == "ipcw" else None
    values, vid = np.unique(score, return_inverse=True)
    out = np.full(len(times), np.nan)
    for k, t in enumerate(times):
        if method == "ipcw":
            se, sp = _ipcw_roc(values, vid, time, event, w, t)
        else:
            se, sp = _km_roc(values, score, time, event, t)
        if np.all(np.isfinite(se)) and np.all(np.isfinite(sp)):
            out[k] = _trapezoid_area(se, sp)
    return out
