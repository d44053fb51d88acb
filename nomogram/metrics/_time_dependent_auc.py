"""Cumulative/dynamic time-dependent AUC with inverse probability of censoring weights."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import check_discrimination, check_random_state, check_scores, check_survival_y, check_times, pandas_index
from .._time_dependent_roc import bootstrap_ipcw_auc, cumulative_dynamic_auc
from ._roc import _check_conf_level, _check_n_boot

__all__ = ["TimeDependentAucResult", "time_dependent_auc", "compare_time_dependent_auc"]


@dataclass
class TimeDependentAucResult:
    """Cumulative/dynamic AUC(t) at several times.

    Attributes
    ----------
    times, auc : ndarray
    lower, upper, se : ndarray
        Bootstrap percentile interval and bootstrap SD (NaN without bootstrap).
    n_cases, n_controls : ndarray of int
        Events by t and patients still event-free after t.
    conf_level : float
    n_boot : int
    """

    times: np.ndarray
    auc: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    se: np.ndarray
    n_cases: np.ndarray
    n_controls: np.ndarray
    conf_level: float
    n_boot: int
    boot_aucs: np.ndarray | None = field(default=None, repr=False)

    def summary(self) -> pd.DataFrame:
        """One row per time: time, AUC, se, lower, upper, n_cases, n_controls."""
        return pd.DataFrame({
            "time": self.times, "AUC": self.auc, "se": self.se, "lower": self.lower,
            "upper": self.upper, "n_cases": self.n_cases, "n_controls": self.n_controls,
        })


def time_dependent_auc(
    y,
    score,
    times,
    *,
    conf_level=0.95,
    n_boot=1000,
    random_state=None,
) -> TimeDependentAucResult:
    """Cumulative/dynamic AUC(t) with IPCW (Uno et al. 2007; Hung & Chiang 2010).

    Cases at t: events by t (:math:`T_i \\le t, \\delta_i = 1`); controls:
    patients event-free after t (:math:`T_j > t`). Cases are weighted by
    :math:`\\omega_i = 1/\\hat G(T_i)`, the Kaplan-Meier estimate of the
    censoring survival (deaths before censorings at tied times, G
    right-continuous):

    .. math::

        \\widehat{AUC}(t) = \\frac{\\sum_i \\sum_j \\omega_i I(T_i \\le t, \\delta_i = 1)
        I(T_j > t)\\,[I(x_i > x_j) + \\tfrac12 I(x_i = x_j)]}
        {\\sum_i \\omega_i I(T_i \\le t, \\delta_i = 1) \\cdot \\sum_j I(T_j > t)}

    which is scikit-survival's ``cumulative_dynamic_auc`` with the censoring
    distribution estimated on the same patients (computed as the area under
    the IPCW curve of :mod:`nomogram._time_dependent_roc`, the module that
    also holds the Kaplan–Meier ROC of :func:`nomogram.risk_groups.time_dependent_roc`). The confidence interval is
    the percentile interval over ``n_boot`` bootstrap resamples of patients
    (G re-estimated in each); ``timeROC``'s iid-representation se is not
    implemented. The score is ranked once and each resample is a
    reweighting of the patients (frequency weights), O(n) per resample.

    Parameters
    ----------
    y : DataFrame [time, event], structured array or tuple (time, event)
    score : array-like of shape (n,)
        Higher = higher risk (e.g. predicted risk 1 - S(t), linear predictor).
    times : float or array-like
        Times at which AUC is wanted; each must lie within follow-up.
    conf_level : float, default 0.95
    n_boot : int, default 1000
        0 skips the bootstrap (lower/upper/se are NaN).
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    TimeDependentAucResult

    References
    ----------
    Uno H, Cai T, Tian L, Wei LJ. Evaluating prediction rules for t-year
    survivors with censored regression models. J Am Stat Assoc
    2007;102:527-37. Hung H, Chiang CT. Estimation methods for time-dependent
    AUC models with survival data. Can J Stat 2010;38:8-26.
    Blanche P, Dartigues JF, Jacqmin-Gadda H. Stat Med 2013;32:5381-97
    (``timeROC``).
    """
    caller = "time_dependent_auc"
    conf_level = _check_conf_level(conf_level, caller)
    idx = pandas_index(score)
    time, event = check_survival_y(y, caller=caller, index=idx, against="the scores")
    x = check_scores(score, n=len(time), caller=caller, index=idx)
    times = check_times(times, caller=caller)
    bad = (times < time.min()) | (times >= time.max()) | ~np.isfinite(times)
    if bad.any():
        raise ValueError(
            f"{caller}: times must lie within follow-up [{time.min()}, {time.max()}); "
            f"got {times[bad].tolist()}."
        )
    n_cases = np.array([np.sum((time <= t) & (event == 1)) for t in times])
    n_controls = np.array([np.sum(time > t) for t in times])
    if (n_cases == 0).any():
        raise ValueError(
            f"{caller}: no event by time(s) {times[n_cases == 0].tolist()}; choose later times."
        )
    auc = cumulative_dynamic_auc(time, event, x, times, method="ipcw")
    for t, a_t in zip(times, np.atleast_1d(auc)):
        check_discrimination(float(a_t), score=x, what=f"the AUC at time {t:g}", caller=caller, survival=True)
    nan = np.full(len(times), np.nan)
    if n_boot == 0:
        return TimeDependentAucResult(times, auc, nan, nan.copy(), nan.copy(), n_cases,
                                      n_controls, conf_level, 0)
    n_boot = _check_n_boot(n_boot, caller)
    rng = check_random_state(random_state)
    boots = bootstrap_ipcw_auc(time, event, [x], times, n_boot, rng)[0]
    a = (1 - conf_level) / 2
    lo = np.nanquantile(boots, a, axis=0)
    hi = np.nanquantile(boots, 1 - a, axis=0)
    se = np.nanstd(boots, axis=0, ddof=1)
    return TimeDependentAucResult(times, auc, lo, hi, se, n_cases, n_controls, conf_level,
                                  n_boot, boots)


def compare_time_dependent_auc(
    y,
    score1,
    score2,
    times,
    *,
    conf_level=0.95,
    n_boot=1000,
    random_state=None,
) -> pd.DataFrame:
    """Difference of two models' cumulative/dynamic AUC(t) on the same patients.

    Both AUCs are recomputed on the same ``n_boot`` bootstrap resamples of
    patients (censoring distribution re-estimated in each); the difference
    has the bootstrap SD as se, the percentile interval as CI, and a two-sided
    p-value from :math:`Z = \\Delta / se` referred to N(0, 1).

    Parameters
    ----------
    y : survival outcome
    score1, score2 : array-like of shape (n,)
        Higher = higher risk.
    times : float or array-like
    conf_level : float, default 0.95
    n_boot : int, default 1000
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        One row per time: time, AUC1, AUC2, difference, se, lower, upper, Z, p_value.
    """
    caller = "compare_time_dependent_auc"
    conf_level = _check_conf_level(conf_level, caller)
    n_boot = _check_n_boot(n_boot, caller)
    idx = pandas_index(score1, score2)
    time, event = check_survival_y(y, caller=caller, index=idx, against="the scores")
    x1 = check_scores(score1, n=len(time), name="score1", caller=caller, index=idx)
    x2 = check_scores(score2, n=len(time), name="score2", caller=caller, index=idx)
    r1 = time_dependent_auc((time, event), x1, times, n_boot=0)
    r2 = time_dependent_auc((time, event), x2, times, n_boot=0)
    rng = check_random_state(random_state)
    both = bootstrap_ipcw_auc(time, event, [x1, x2], r1.times, n_boot, rng)
    diffs = both[0] - both[1]
    a = (1 - conf_level) / 2
    d = r1.auc - r2.auc
    se = np.nanstd(diffs, axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, d / se, 0.0)
    return pd.DataFrame({
        "time": r1.times, "AUC1": r1.auc, "AUC2": r2.auc, "difference": d, "se": se,
        "lower": np.nanquantile(diffs, a, axis=0), "upper": np.nanquantile(diffs, 1 - a, axis=0),
        "Z": z, "p_value": 2 * stats.norm.cdf(-np.abs(z)),
    })
