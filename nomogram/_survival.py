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

__all__ = ["KMSteps", "km_steps", "km_survival_at", "censoring_survival", "RiskSets"]


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


def _counts(time, event, weights):
    """Distinct times and (weighted) totals and events at each; weights None, (n,) or (k, n)."""
    ut, inv = np.unique(time, return_inverse=True)
    m = len(ut)
    if weights is None:
        return ut, np.bincount(inv, minlength=m).astype(float), np.bincount(inv, weights=event, minlength=m)
    w = np.asarray(weights, dtype=float)
    if w.ndim == 1:
        return ut, np.bincount(inv, weights=w, minlength=m), np.bincount(inv, weights=w * event, minlength=m)
    # one curve per row: cumulative sums over time-sorted rows, read at the end of each tied block
    order = np.argsort(time, kind="mergesort")
    ends = np.r_[np.flatnonzero(np.diff(time[order]) != 0), len(time) - 1]
    ws = w[:, order]
    cs_all = np.cumsum(ws, axis=1)[:, ends]
    cs_ev = np.cumsum(ws * event[order], axis=1)[:, ends]
    return ut, np.diff(cs_all, axis=1, prepend=0.0), np.diff(cs_ev, axis=1, prepend=0.0)


def km_steps(time, event, weights=None) -> KMSteps:
    """Kaplan–Meier counts and survival at every distinct time (module docstring).

    Parameters
    ----------
    time, event : ndarray of shape (n,)
        Follow-up times and 0/1 events.
    weights : ndarray of shape (n,) or (k, n), optional
        Frequency weights (copies of a row); 0/1 rows select subsets. A 2-D
        array gives one curve per row.

    Returns
    -------
    KMSteps
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    ut, total, d = _counts(time, event, weights)
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


def censoring_survival(time, event) -> KMSteps:
    """Kaplan–Meier of the censoring distribution :math:`\\hat G`, deaths leaving first at ties.

    The returned :class:`KMSteps` counts censorings as its events and the
    patients at risk after the deaths of each time as at risk, so
    ``.at(t)`` is :math:`\\hat G(t)` and ``.at(t, left=True)`` is :math:`\\hat G(t-)`.
    """
    km = km_steps(time, event)
    at_risk = km.n_risk - km.n_event
    with np.errstate(divide="ignore", invalid="ignore"):
        G = np.cumprod(np.where(km.n_censor > 0, 1.0 - km.n_censor / at_risk, 1.0))
    return KMSteps(time=km.time, n_risk=at_risk, n_event=km.n_censor, n_censor=km.n_event, surv=G, last=km.last)


class RiskSets:
    """Time-sorted rows and event-time bookkeeping for Cox partial-likelihood sums.

    Parameters
    ----------
    time, event : array-like of shape (n,)
        In the original row order; :attr:`order` sorts them by time, deaths
        before censorings at a tied time (module docstring).

    Attributes
    ----------
    order : ndarray of shape (n,)
        Row order: ``time[order]`` ascending.
    time, event : ndarray of shape (n,)
        Sorted.
    event_times : ndarray of shape (J,)
        Distinct event times.
    start : ndarray of shape (J,)
        First sorted row of each risk set (rows ``start[j]:`` have ``time >= event_times[j]``).
    death_rows, death_group : ndarray of shape (n_deaths,)
        Sorted rows of the deaths and the event time of each.
    n_deaths : ndarray of shape (J,)
        Deaths at each event time.
    axis : int
        Axis of the rows in the arrays given to the sums (0; 1 for
        :class:`nomogram._resample.CoxRiskSetsBatch`, one resample per row).
    """

    axis = 0

    def __init__(self, time, event):
        time = np.asarray(time, dtype=float)
        event = np.asarray(event, dtype=float)
        self.order = np.lexsort((-event, time))
        self.time = time[self.order]
        self.event = event[self.order]
        self.n = len(time)
        self.event_times = np.unique(self.time[self.event > 0])
        self.start = np.searchsorted(self.time, self.event_times, side="left")
        self.death_rows = np.flatnonzero(self.event > 0)
        self.death_group = np.searchsorted(self.event_times, self.time[self.death_rows])
        J = len(self.event_times)
        self.n_deaths = np.bincount(self.death_group, minlength=J).astype(float)
        # first death of each event time (deaths of one time are contiguous)
        self.group_first = np.searchsorted(self.death_group, np.arange(J))

    def at_risk_sum(self, a: np.ndarray, axis: int | None = None) -> np.ndarray:
        """Risk-set sums :math:`\\sum_{T_i \\ge t_j} a_i` at every event time (rows in sorted order)."""
        axis = self.axis if axis is None else axis
        if len(self.start) == 0:
            return np.take(a, np.arange(0), axis=axis)
        seg = np.add.reduceat(a, self.start, axis=axis)
        return np.flip(np.cumsum(np.flip(seg, axis=axis), axis=axis), axis=axis)

    def death_sum(self, a: np.ndarray, axis: int | None = None) -> np.ndarray:
        """Sums :math:`\\sum_{T_i = t_j, \\delta_i = 1} a_i` over the deaths of every event time."""
        axis = self.axis if axis is None else axis
        if len(self.start) == 0:
            return np.take(a, np.arange(0), axis=axis)
        return np.add.reduceat(np.take(a, self.death_rows, axis=axis), self.group_first, axis=axis)

    def cumulative_at_rows(self, increments: np.ndarray) -> np.ndarray:
        """:math:`\\sum_{t_j \\le T_i} \\mathrm{inc}_j` for every sorted row (0 before the first event).

        ``increments`` has the event times on its last axis.
        """
        cum = np.cumsum(increments, axis=-1)
        return step_function_at(self.event_times, cum, self.time, before=0.0)
