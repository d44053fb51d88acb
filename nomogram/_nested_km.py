"""Kaplan–Meier survival at one time in nested subsets of patients, compiled with numba.

Patients are added one at a time in a given order (e.g. by decreasing score);
after the first ``m`` of them, for each requested ``m``, the Kaplan–Meier
estimate at ``t`` of those ``m`` patients is wanted. This is what the
Kaplan–Meier (Heagerty) time-dependent ROC needs at every cut-off of a score
(:math:`\\hat S(t \\mid X > c)` and :math:`\\hat S(t \\mid X \\le c)`) and what
the survival decision curve needs at every threshold (:math:`\\hat S(t \\mid
\\hat p \\ge p_t)`). One curve per subset costs O(n) each, O(n^2) in all; here
the counts are updated as patients are added (O(1) each) and the estimate is
the product over the :math:`J_t` distinct event times up to ``t`` only:
O(n + m J_t) time, O(n) memory.

The numbers are those of :func:`nomogram._survival.km_steps` on each subset
followed by :meth:`~nomogram._survival.KMSteps.at` (same factors
:math:`1 - d_k / n_k`, multiplied in time order), including the rule past
follow-up: NaN when ``t`` is after the subset's last time, or its last value
with ``extend=True`` (1 for an empty subset).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["km_at_nested"]


@numba.njit(cache=True, nogil=True)
def _nested(order, k_risk, k_event, times, cuts, t, J, extend):
    """Kaplan–Meier at ``t`` of the first ``cuts[c]`` patients of ``order``.

    ``k_risk[i]``: the number of the J event times up to ``t`` at which
    patient ``i`` is at risk; ``k_event[i]``: the index of its event time, or -1.
    """
    cnt = np.zeros(J + 1)           # added patients at risk at exactly the first k event times
    dead = np.zeros(J)
    n_risk = np.zeros(J)
    out = np.empty(cuts.shape[0])
    added = 0
    last = -np.inf
    for c in range(cuts.shape[0]):
        m = cuts[c]
        while added < m:
            i = order[added]
            cnt[k_risk[i]] += 1.0
            if k_event[i] >= 0:
                dead[k_event[i]] += 1.0
            if times[i] > last:
                last = times[i]
            added += 1
        if m == 0:
            out[c] = 1.0 if extend else np.nan
            continue
        if t > last and not extend:
            out[c] = np.nan
            continue
        acc = 0.0
        for k in range(J, 0, -1):   # at risk at event time k-1: patients with k_risk >= k
            acc += cnt[k]
            n_risk[k - 1] = acc
        s = 1.0
        for k in range(J):
            if dead[k] > 0.0:
                s *= 1.0 - dead[k] / n_risk[k]
        out[c] = s
    return out


def km_at_nested(time, event, order, sizes, t: float, *, extend: bool = False) -> np.ndarray:
    """Kaplan–Meier :math:`\\hat S(t)` of the first ``sizes[c]`` patients of ``order``, for each ``c``.

    Parameters
    ----------
    time, event : ndarray of shape (n,)
    order : ndarray of int, shape (n,)
        The order in which patients join the subsets.
    sizes : array-like of int
        Subset sizes, nondecreasing.
    t : float
    extend : bool, default False
        Past a subset's last time: NaN (False) or its last value (True).

    Returns
    -------
    ndarray of shape (len(sizes),)
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    etimes = np.unique(time[(event > 0) & (time <= t)])
    k_risk = np.searchsorted(etimes, time, side="right").astype(np.int64)   # event times <= T_i
    k_event = np.where((event > 0) & (time <= t), np.searchsorted(etimes, time), -1).astype(np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    return _nested(np.asarray(order, dtype=np.int64), k_risk, k_event, time, sizes, float(t), len(etimes),
                   bool(extend))
