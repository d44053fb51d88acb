"""Survival building blocks, computed once: Kaplan–Meier counts and curves, step functions, Cox risk sets.

Every Kaplan–Meier estimate of :mod:`nomogram` (``kaplan_meier``, the
decision curve, risk groups and their time-dependent ROC, ``calibrate``'s
grouped Kaplan–Meier, the Kaplan–Meier NRI, the log-rank test) and every
censoring survival :math:`\\hat G` (Uno's C, time-dependent AUC, IPCW IDI)
comes from :func:`km_steps`; every Cox partial-likelihood sum (``fit_cox``,
the baseline hazard and its variance, the batched bootstrap refits of
``validate``/``calibrate``, the LASSO Cox path) from :class:`RiskSets`.

Kaplan–Meier
------------
For the distinct observed times :math:`t_1 < \\dots < t_m` (events and
censorings) with, under frequency weights :math:`w_i` (1 by default),
:math:`n_j = \\sum_{T_i \\ge t_j} w_i` at risk, :math:`d_j` events and
:math:`c_j` censorings at :math:`t_j`:

.. math::

    \\hat S(t) = \\prod_{t_j \\le t} \\Big(1 - \\frac{d_j}{n_j}\\Big), \\qquad
    \\widehat{\\mathrm{var}}\\,\\hat H(t) = \\sum_{t_j \\le t} \\frac{d_j}{n_j (n_j - d_j)}
    \\quad \\text{(Greenwood)}.

A censoring tied with an event is at risk at that time. The censoring
survival (the "reverse" Kaplan–Meier used for inverse probability of
censoring weights) lets the deaths at a tied time leave first, as survival's
``fastkm1`` and scikit-survival do:
:math:`\\hat G(t) = \\prod_{t_j \\le t} (1 - c_j / (n_j - d_j))`.

Evaluating a curve at times (the rule past follow-up)
-----------------------------------------------------
:meth:`KMSteps.at` evaluates a right-continuous step function at any number
of times in :math:`O((n + m) \\log n)`: the value at :math:`t` is the one at
the last step time :math:`\\le t` (1 before the first); ``left=True`` gives
the left limit :math:`S(t-)` (last step time :math:`< t`). Past follow-up,
i.e. for :math:`t > \\tau` with :math:`\\tau` the last observed time (event
or censoring) of the patients the curve is estimated on, the curve is
**undefined: NaN**. That is survival's rule: ``summary(survfit(...), times =
t)`` with its default ``extend = FALSE`` leaves such times out. A caller that
wants the last value carried forward says so with ``extend=True``
(``survfit``'s ``extend = TRUE``); :math:`t = \\tau` is within follow-up.
A set without patients has no curve: NaN everywhere, or 1 (the empty
product) with ``extend=True``. ``tol`` moves every comparison with a time by
``tol`` (rms compares ``t <= u + 1e-6``).

Cox risk sets
-------------
:class:`RiskSets` sorts rows by time with, at a tied time, deaths before
censorings (survival's order; ties of both kinds keep the original row
order). The risk set of event time :math:`t_j` is every row with
:math:`T_i \\ge t_j`, a contiguous tail of the sorted rows; risk-set sums
:math:`\\sum_{T_i \\ge t_j} a_i` are sums over the segments between
consecutive event times accumulated from the last event time backwards, and
death sums :math:`\\sum_{T_i = t_j, \\delta_i = 1} a_i` sum the deaths of each
event time. Arrays may carry further axes (covariates, their products, one
resample per row of a batch).

References
----------
Kaplan EL, Meier P (1958) JASA 53:457-481. Therneau TM, R package survival:
``survfit``, ``summary.survfit`` (``extend``), ``coxph`` (``coxfit6``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["KMSteps", "TimeGrid", "km_steps", "km_survival_at", "km_at_by_group", "censoring_survival", "RiskSets"]


@dataclass(frozen=True)
class KMSteps:
    """Kaplan–Meier counts and curve at every distinct observed time.

    With batched weights every array except ``time`` has a leading axis: one
    curve per row of weights, all on the same time grid.

    Attributes
    ----------
    time : ndarray of shape (m,)
        Distinct observed times, ascending.
    n_risk, n_event, n_censor : ndarray of shape (..., m)
        (Weighted) numbers at risk just before, events and censorings at each time.
    surv : ndarray of shape (..., m)
        :math:`\\hat S` at each time (or :math:`\\hat G` for :func:`censoring_survival`).
    last : ndarray of shape (...)
        Last observed time :math:`\\tau` with positive weight (``-inf`` for an empty set).
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    last: np.ndarray

    def var_cumhaz(self) -> np.ndarray:
        """Greenwood variance of the cumulative hazard at each time, :math:`\\sum d/(n(n-d))`."""
        with np.errstate(divide="ignore", invalid="ignore"):
            inc = np.where(self.n_event > 0, self.n_event / (self.n_risk * (self.n_risk - self.n_event)), 0.0)
        return np.cumsum(inc, axis=-1)

    def at(self, t, values=None, *, extend: bool = False, left: bool = False, tol: float = 0.0,
           before: float = 1.0) -> np.ndarray:
        """Step function ``values`` (default :attr:`surv`) at times ``t`` (module rule).

        Parameters
        ----------
        t : float or array-like of shape (k,)
        values : ndarray of shape (..., m), optional
            Values at :attr:`time` (e.g. ``np.sqrt(self.var_cumhaz())``).
        extend : bool, default False
            Carry the last value past follow-up instead of NaN.
        left : bool, default False
            Left limit: the value at the last time ``< t``.
        tol : float, default 0
            Times within ``tol`` after a step count as at it.
        before : float, default 1
            Value before the first time.

        Returns
        -------
        ndarray of shape (..., k)
        """
        values = self.surv if values is None else np.asarray(values, dtype=float)
        return step_function_at(self.time, values, t, end=self.last, extend=extend, left=left, tol=tol,
                                before=before)

    def n_risk_at(self, t) -> np.ndarray:
        """Patients with follow-up ``>= t`` (0 past follow-up), as ``summary(survfit)$n.risk``."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        pos = np.searchsorted(self.time, t, side="left")
        padded = np.concatenate([self.n_risk, np.zeros(self.n_risk.shape[:-1] + (1,))], axis=-1)
        return padded[..., pos]


def step_function_at(step_times, values, t, *, end=None, extend: bool = False, left: bool = False,
                     tol: float = 0.0, before: float = 1.0) -> np.ndarray:
    """Right-continuous step function at times ``t``, undefined (NaN) after ``end``.

    ``values[..., j]`` holds on ``[step_times[j], step_times[j + 1])``;
    ``before`` before the first step; NaN where ``t > end + tol`` unless
    ``extend`` (``end`` None: never). See the module docstring.
    """
    step_times = np.asarray(step_times, dtype=float)
    values = np.asarray(values, dtype=float)
    t = np.atleast_1d(np.asarray(t, dtype=float))
    if left:
        idx = np.searchsorted(step_times, t - tol, side="left") - 1
    else:
        idx = np.searchsorted(step_times, t + tol, side="right") - 1
    if values.shape[-1] == 0:
        out = np.full(values.shape[:-1] + t.shape, float(before))
    else:
        out = values[..., np.clip(idx, 0, None)]
        out = np.where(idx < 0, before, out)
    if end is not None and not extend:
        end = np.asarray(end, dtype=float)
        out = np.where(t > end[..., None] + tol, np.nan, out)
    return out


@dataclass(frozen=True)
class TimeGrid:
    """The distinct times of ``time`` and where each row sits among them, sorted once.

    For curves recomputed under many weightings of the same patients (a
    bootstrap by frequency weights): :func:`km_steps` and
    :func:`censoring_survival` take it instead of sorting the times again
    for every batch of weights.

    Attributes
    ----------
    time : ndarray of shape (m,)
        Distinct times, ascending.
    inverse : ndarray of shape (n,)
        Each row's index into ``time``.
    order : ndarray of shape (n,)
        A stable ascending order of the rows by time.
    ends : ndarray of shape (m,)
        Position in ``order`` of the last row of each distinct time.
    """

    time: np.ndarray
    inverse: np.ndarray
    order: np.ndarray
    ends: np.ndarray

    @classmethod
    def of(cls, time) -> "TimeGrid":
        time = np.asarray(time, dtype=float)
        ut, inv = np.unique(time, return_inverse=True)
        order = np.argsort(time, kind="mergesort")
        ends = np.r_[np.flatnonzero(np.diff(time[order]) != 0), len(time) - 1] if len(time) else np.zeros(0, int)
        return cls(ut, inv, order, ends)


def _counts(time, event, weights, grid: TimeGrid | None = None):
    """Distinct times and (weighted) totals and events at each; weights None, (n,) or (k, n)."""
    if grid is None:
        ut, inv = np.unique(time, return_inverse=True)
    else:
        ut, inv = grid.time, grid.inverse
    m = len(ut)
    if weights is None:
        return ut, np.bincount(inv, minlength=m).astype(float), np.bincount(inv, weights=event, minlength=m)
    w = np.asarray(weights, dtype=float)
    if w.ndim == 1:
        return ut, np.bincount(inv, weights=w, minlength=m), np.bincount(inv, weights=w * event, minlength=m)
    # one curve per row: cumulative sums over time-sorted rows, read at the end of each tied block
    grid = TimeGrid.of(time) if grid is None else grid
    order, ends = grid.order, grid.ends
    ws = w[:, order]
    cs_all = np.cumsum(ws, axis=1)[:, ends]
    cs_ev = np.cumsum(ws * event[order], axis=1)[:, ends]
    return ut, np.diff(cs_all, axis=1, prepend=0.0), np.diff(cs_ev, axis=1, prepend=0.0)


def km_steps(time, event, weights=None, grid: TimeGrid | None = None) -> KMSteps:
    """Kaplan–Meier counts and survival at every distinct time (module docstring).

    Parameters
    ----------
    time, event : ndarray of shape (n,)
        Follow-up times and 0/1 events.
    weights : ndarray of shape (n,) or (k, n), optional
        Frequency weights (copies of a row); 0/1 rows select subsets. A 2-D
        array gives one curve per row.
    grid : TimeGrid, optional
        ``TimeGrid.of(time)``, when the caller reuses it for many batches
        of weights (the times are then not sorted again).

    Returns
    -------
    KMSteps
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    ut, total, d = _counts(time, event, weights, grid)
    n_risk = total.sum(axis=-1, keepdims=True) - np.cumsum(total, axis=-1) + total
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(d > 0, 1.0 - d / n_risk, 1.0), axis=-1)
    has = total > 0
    if len(ut):
        last_idx = has.shape[-1] - 1 - np.argmax(has[..., ::-1], axis=-1)
        last = np.where(has.any(axis=-1), ut[last_idx], -np.inf)
    else:
        last = np.full(total.shape[:-1], -np.inf)
    return KMSteps(time=ut, n_risk=n_risk, n_event=d, n_censor=total - d, surv=surv, last=np.asarray(last))


def km_survival_at(time, event, t, *, weights=None, extend: bool = False, tol: float = 0.0,
                   chunk: int = 256) -> np.ndarray:
    """Kaplan–Meier :math:`\\hat S(t)` at times ``t`` (NaN past follow-up unless ``extend``).

    With 2-D ``weights`` (one subset or resample per row) the curves are
    built ``chunk`` rows at a time (memory ``chunk * n`` floats).

    Returns
    -------
    ndarray of shape (len(t),) or (k, len(t))
    """
    t = np.atleast_1d(np.asarray(t, dtype=float))
    if weights is None or np.ndim(weights) == 1:
        return km_steps(time, event, weights).at(t, extend=extend, tol=tol)
    w = np.asarray(weights, dtype=float)
    out = np.empty((w.shape[0], len(t)))
    for a in range(0, w.shape[0], chunk):
        out[a:a + chunk] = km_steps(time, event, w[a:a + chunk]).at(t, extend=extend, tol=tol)
    return out


def km_at_by_group(time, event, groups, n_groups: int, t: float, *, weights=None, tol: float = 0.0,
                   extend: str | bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier :math:`\\hat S(t)` and its Greenwood SE of :math:`\\hat H(t)` at one time in every group.

    The same numbers as :func:`km_steps` on each group's rows followed by
    :meth:`KMSteps.at` (``surv`` and ``sqrt(var_cumhaz())`` with ``before=0``),
    for all groups at once: one sort by (group, time), O(n log n), instead of
    one curve per group.

    Parameters
    ----------
    time, event : ndarray of shape (n,)
    groups : ndarray of int, shape (n,)
        Group of each row, ``0 .. n_groups - 1``.
    n_groups : int
    t : float
    weights : ndarray of shape (n,), optional
        Frequency weights; rows with weight 0 are left out.
    tol : float, default 0
        As in :meth:`KMSteps.at`.
    extend : bool or "at_zero", default False
        Past a group's last follow-up time: NaN, the last value (True), or the
        last value only where the curve has reached 0 (``"at_zero"``: rms
        ``groupkm``).

    Returns
    -------
    surv, se : ndarray of shape (n_groups,)
        NaN for a group without rows (or past follow-up, see ``extend``).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    groups = np.asarray(groups, dtype=np.int64)
    w = np.ones(len(time)) if weights is None else np.asarray(weights, dtype=float)
    keep = w > 0
    time, event, groups, w = time[keep], event[keep], groups[keep], w[keep]
    surv = np.full(n_groups, np.nan)
    se = np.full(n_groups, np.nan)
    if len(time) == 0:
        return surv, se
    o = np.lexsort((time, groups))
    ts, gs, ws, es = time[o], groups[o], w[o], event[o]
    start = np.flatnonzero(np.r_[True, (gs[1:] != gs[:-1]) | (ts[1:] != ts[:-1])])
    gb, tb = gs[start], ts[start]                       # one block per (group, distinct time)
    tot = np.add.reduceat(ws, start)
    dead = np.add.reduceat(ws * es, start)
    first = np.flatnonzero(np.r_[True, gb[1:] != gb[:-1]])   # first block of each present group
    present = gb[first]
    before = np.cumsum(tot) - tot
    before -= np.repeat(before[first], np.diff(np.r_[first, len(gb)]))
    group_total = np.add.reduceat(tot, first)
    n_risk = np.repeat(group_total, np.diff(np.r_[first, len(gb)])) - before
    use = tb <= t + tol
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(use & (dead > 0), 1.0 - dead / n_risk, 1.0)
        inc = np.where(use & (dead > 0), dead / (n_risk * (n_risk - dead)), 0.0)
    s_g = np.multiply.reduceat(factor, first)           # the product up to the last time <= t
    v_g = np.add.reduceat(inc, first)
    last_block = np.r_[first[1:], len(gb)] - 1
    past = t > tb[last_block] + tol
    if extend == "at_zero":
        with np.errstate(divide="ignore", invalid="ignore"):
            full = np.multiply.reduceat(np.where(dead > 0, 1.0 - dead / n_risk, 1.0), first)
        carry = full == 0
    else:
        carry = np.full(len(first), bool(extend))
    s_g = np.where(past & ~carry, np.nan, s_g)
    v_g = np.where(past & ~carry, np.nan, v_g)
    surv[present] = s_g
    se[present] = np.sqrt(v_g)
    return surv, se


def censoring_survival(time, event, weights=None, grid: TimeGrid | None = None) -> KMSteps:
    """Kaplan–Meier of the censoring distribution :math:`\\hat G`, deaths leaving first at ties.

    The returned :class:`KMSteps` counts censorings as its events and the
    patients at risk after the deaths of each time as at risk, so
    ``.at(t)`` is :math:`\\hat G(t)` and ``.at(t, left=True)`` is :math:`\\hat G(t-)`.
    ``weights`` and ``grid`` as in :func:`km_steps` (2-D weights: one curve per row, e.g. per
    bootstrap resample).
    """
    km = km_steps(time, event, weights, grid)
    at_risk = km.n_risk - km.n_event
    with np.errstate(divide="ignore", invalid="ignore"):
        G = np.cumprod(np.where(km.n_censor > 0, 1.0 - km.n_censor / at_risk, 1.0), axis=-1)
    return KMSteps(time=km.time, n_risk=at_risk, n_event=km.n_censor, n_censor=km.n_event, surv=G, last=km.last)


class RiskSets:
    """Time-sorted rows and event-time bookkeeping for Cox partial-likelihood sums.

    Parameters
    ----------
    time, event : array-like of shape (n,)
        In the original row order; :attr:`order` sorts them by time, deaths
        before censorings at a tied time (module docstring).
    strata : array-like of int of shape (n,), optional
        Stratum code of each row (survival's ``strata()``, rms ``strat()``): rows
        are sorted by stratum first, and the risk set of an event time holds
        only the rows of its own stratum at risk then. Event times are then
        (stratum, time) pairs, stratum by stratum, each stratum's in time order.

    Attributes
    ----------
    order : ndarray of shape (n,)
        Row order: ``time[order]`` ascending (within each stratum).
    time, event : ndarray of shape (n,)
        Sorted.
    strata : ndarray of shape (n,)
        Sorted stratum codes (all 0 without strata).
    event_times, event_strata : ndarray of shape (J,)
        Distinct event times (and their strata; without strata all 0 and the
        times distinct and ascending).
    start, stop : ndarray of shape (J,)
        Sorted rows ``start[j]:stop[j]`` form the risk set of event time ``j``
        (``stop`` is the end of its stratum; ``n`` without strata).
    death_rows, death_group : ndarray of shape (n_deaths,)
        Sorted rows of the deaths and the event time of each.
    n_deaths : ndarray of shape (J,)
        Deaths at each event time.
    axis : int
        Axis of the rows in the arrays given to the sums (0; 1 for
        :class:`nomogram._resample.CoxRiskSetsBatch`, one resample per row).
    """

    axis = 0

    def __init__(self, time, event, strata=None):
        time = np.asarray(time, dtype=float)
        event = np.asarray(event, dtype=float)
        codes = np.zeros(len(time), dtype=int) if strata is None else np.asarray(strata).astype(int)
        self.stratified = strata is not None and len(np.unique(codes)) > 1
        self.order = np.lexsort((-event, time, codes)) if self.stratified else np.lexsort((-event, time))
        self.time = time[self.order]
        self.event = event[self.order]
        self.strata = codes[self.order]
        self.n = len(time)
        self.death_rows = np.flatnonzero(self.event > 0)
        dt, ds = self.time[self.death_rows], self.strata[self.death_rows]
        new = np.r_[True, (dt[1:] != dt[:-1]) | (ds[1:] != ds[:-1])] if len(dt) else np.zeros(0, bool)
        # deaths of one (stratum, time) are contiguous: number them in sorted order
        self.death_group = np.cumsum(new) - 1
        self.group_first = np.flatnonzero(new)
        self.event_times = dt[self.group_first]
        self.event_strata = ds[self.group_first]
        J = len(self.event_times)
        self.n_deaths = np.bincount(self.death_group, minlength=J).astype(float)
        # rows of each stratum: lo[s]:hi[s] (sorted by stratum)
        self._levels, lo = np.unique(self.strata, return_index=True)
        hi = np.r_[lo[1:], self.n]
        k = np.searchsorted(self._levels, self.event_strata)
        self._bounds = (lo, hi)
        self.stop = hi[k] if J else np.zeros(0, int)
        self.start = np.array([lo[kk] + np.searchsorted(self.time[lo[kk]:hi[kk]], t, side="left")
                               for kk, t in zip(k, self.event_times)], dtype=int) if self.stratified else \
            np.searchsorted(self.time, self.event_times, side="left")

    def _stratum_blocks(self):
        """``(rows, events)``: the sorted rows and the event times of each stratum that has events."""
        lo, hi = self._bounds
        for kk, level in enumerate(self._levels):
            ev = np.flatnonzero(self.event_strata == level)
            if len(ev):
                yield slice(lo[kk], hi[kk]), slice(ev[0], ev[-1] + 1)

    def at_risk_sum(self, a: np.ndarray, axis: int | None = None) -> np.ndarray:
        """Risk-set sums :math:`\\sum_{T_i \\ge t_j} a_i` at every event time (rows in sorted order)."""
        axis = self.axis if axis is None else axis
        if len(self.start) == 0:
            return np.take(a, np.arange(0), axis=axis)
        if not self.stratified:
            seg = np.add.reduceat(a, self.start, axis=axis)
            return np.flip(np.cumsum(np.flip(seg, axis=axis), axis=axis), axis=axis)
        parts = []
        for rows, ev in self._stratum_blocks():
            block = np.take(a, np.arange(rows.start, rows.stop), axis=axis)
            seg = np.add.reduceat(block, self.start[ev] - rows.start, axis=axis)
            parts.append(np.flip(np.cumsum(np.flip(seg, axis=axis), axis=axis), axis=axis))
        return np.concatenate(parts, axis=axis)

    def death_sum(self, a: np.ndarray, axis: int | None = None) -> np.ndarray:
        """Sums :math:`\\sum_{T_i = t_j, \\delta_i = 1} a_i` over the deaths of every event time."""
        axis = self.axis if axis is None else axis
        if len(self.start) == 0:
            return np.take(a, np.arange(0), axis=axis)
        return np.add.reduceat(np.take(a, self.death_rows, axis=axis), self.group_first, axis=axis)

    def cumsum_by_stratum(self, increments: np.ndarray) -> np.ndarray:
        """Cumulative sums over event times (last axis), restarting in each stratum."""
        increments = np.asarray(increments, dtype=float)
        if not self.stratified:
            return np.cumsum(increments, axis=-1)
        out = np.empty_like(increments)
        for _, ev in self._stratum_blocks():
            out[..., ev] = np.cumsum(increments[..., ev], axis=-1)
        return out

    def cumulative_at_rows(self, increments: np.ndarray) -> np.ndarray:
        """:math:`\\sum_{t_j \\le T_i} \\mathrm{inc}_j` for every sorted row (0 before the first event).

        ``increments`` has the event times on its last axis; with strata the
        sum runs over the event times of the row's own stratum.
        """
        if not self.stratified:
            cum = np.cumsum(increments, axis=-1)
            return step_function_at(self.event_times, cum, self.time, before=0.0)
        increments = np.asarray(increments, dtype=float)
        out = np.zeros(increments.shape[:-1] + (self.n,))
        for rows, ev in self._stratum_blocks():
            cum = np.cumsum(increments[..., ev], axis=-1)
            out[..., rows] = step_function_at(self.event_times[ev], cum, self.time[rows], before=0.0)
        return out
