"""Kaplan–Meier estimator with Greenwood standard errors, as ``survival::survfit``.

The counts, the product-limit curve, the Greenwood sum and the rule past
follow-up are those of :mod:`nomogram._survival`; this module adds the
confidence limits, quantiles and the result object.

Private: the public entry points are :func:`nomogram.risk_groups` and
:func:`nomogram.decision_curve`; :class:`KaplanMeier` objects are reachable from
their results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .checks import check_option, check_survival_y, survival_outcome
from ._survival import KMSteps, km_steps

__all__ = ["KaplanMeier", "kaplan_meier"]


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan–Meier curve evaluated at every distinct observed time.

    Attributes
    ----------
    time : ndarray of shape (m,)
        Distinct observed times (events and censorings), ascending, as ``survfit$time``.
    n_risk, n_event, n_censor : ndarray of shape (m,)
        Patients at risk just before each time, events and censorings at it.
    surv : ndarray of shape (m,)
        :math:`\\hat S(t) = \\prod_{t_j \\le t} (1 - d_j / n_j)`.
    std_err : ndarray of shape (m,)
        Standard error of :math:`\\hat S` (Greenwood), as ``summary(survfit)$std.err``:
        :math:`\\hat S(t) \\sqrt{\\sum_{t_j \\le t} d_j / (n_j (n_j - d_j))}`.
    std_err_cumhaz : ndarray of shape (m,)
        The square root alone, which is what ``survfit(...)$std.err`` stores.
    lower, upper : ndarray of shape (m,)
        Pointwise confidence limits (``conf_type``; NaN where undefined, as survfit's NA).
    conf_level : float
    conf_type : str
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    std_err: np.ndarray
    std_err_cumhaz: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    conf_level: float
    conf_type: str

    @property
    def n(self) -> int:
        """Number of patients."""
        return int(self.n_risk[0]) if len(self.n_risk) else 0

    def summary(self) -> pd.DataFrame:
        """The curve, one row per distinct time: ``time, n.risk, n.event, n.censor, surv,
        std.err, lower, upper`` (survfit's names; same as :meth:`table`)."""
        return self.table()

    def plot(self, ax=None, **kwargs):
        """Draw with :class:`nomogram.displays.KaplanMeierDisplay`; returns the display."""
        from .displays.kaplan_meier import KaplanMeierDisplay

        return KaplanMeierDisplay.from_result(self, ax=ax, **kwargs)

    def table(self) -> pd.DataFrame:
        """The curve as a DataFrame with survfit's column names."""
        return pd.DataFrame(
            {
                "time": self.time,
                "n.risk": self.n_risk,
                "n.event": self.n_event,
                "n.censor": self.n_censor,
                "surv": self.surv,
                "std.err": self.std_err,
                "lower": self.lower,
                "upper": self.upper,
            }
        )

    def quantile(self, q: float = 0.5) -> tuple[float, float, float]:
        """Survival time quantile and its confidence limits, as ``quantile.survfit``.

        The ``q`` quantile is the first time :math:`\\hat S(t) \\le 1 - q`; its
        limits are where the lower and upper pointwise confidence curves reach
        that level (Brookmeyer & Crowley 1982 by inversion of the pointwise
        band). NaN when a curve never gets that low. ``q = 0.5`` is the median.

        Returns
        -------
        (estimate, lower, upper) : tuple of float
        """
        if not 0 < q < 1:
            raise ValueError(f"KaplanMeier.quantile: q must be in (0, 1); got {q}.")
        tol = np.sqrt(np.finfo(float).eps)
        x = np.r_[0.0, self.time]
        return (
            _findq(x, np.r_[0.0, 1 - self.surv], q, tol),
            _findq(x, np.r_[0.0, 1 - self.lower], q, tol),
            _findq(x, np.r_[0.0, 1 - self.upper], q, tol),
        )

    def at(self, times) -> pd.DataFrame:
        """Survival, its standard error and CI at arbitrary times (step function).

        Follows ``summary(survfit, times = ...)``: the estimate at ``t`` is the
        one at the last observed time ``<= t``; ``n.risk`` is the number with
        follow-up ``>= t``. Times after the last observed time give NaN
        estimates (survfit drops them unless ``extend = TRUE``; the rule of
        :mod:`nomogram._survival`); times before the first give survival 1
        with zero standard error.

        Parameters
        ----------
        times : array-like of float

        Returns
        -------
        pandas.DataFrame
            Columns ``time, n.risk, surv, std.err, lower, upper``.
        """
        times = np.atleast_1d(np.asarray(times, dtype=float))
        steps = self._steps()
        surv, se, lower, upper = (
            steps.at(times, v, before=b)
            for v, b in ((self.surv, 1.0), (self.std_err, 0.0), (self.lower, 1.0), (self.upper, 1.0))
        )
        return pd.DataFrame(
            {"time": times, "n.risk": steps.n_risk_at(times), "surv": surv, "std.err": se, "lower": lower,
             "upper": upper}
        )

    def _steps(self) -> KMSteps:
        last = self.time[-1] if len(self.time) else -np.inf
        return KMSteps(time=self.time, n_risk=self.n_risk, n_event=self.n_event, n_censor=self.n_censor,
                       surv=self.surv, last=np.asarray(last))


def _findq(x: np.ndarray, y: np.ndarray, p: float, tol: float) -> float:
    """First time the cumulative curve ``y`` (non-decreasing, NaN allowed) reaches ``p``.

    survfit's rule: with :math:`k_1` the first index where ``y + tol >= p`` and
    :math:`k_2` the first where ``y - tol >= p``, the answer is the mean of
    ``x[k1]`` and ``x[k2]`` (so a curve flat exactly at ``p`` gives the midpoint
    of the flat stretch); NaN if ``y`` never reaches ``p``; the midpoint with
    the last time when it ends exactly at ``p``.
    """
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return float("nan")
    xmax = x[-1]
    _, first = np.unique(y, return_index=True)  # drop repeated values, keep first (NaNs kept once)
    keep = np.sort(first)
    nan_idx = np.flatnonzero(np.isnan(y))
    if len(nan_idx):
        keep = np.union1d(keep[~np.isnan(y[keep])], nan_idx[:1])
    x, y = x[keep], y[keep]
    with np.errstate(invalid="ignore"):
        i1 = np.flatnonzero(y + tol >= p)
        i2 = np.flatnonzero(y - tol >= p)
    if len(i1) == 0 or len(i2) == 0:
        q = float("nan")
    else:
        q = (x[i1[0]] + x[i2[0]]) / 2
    if not np.isnan(y[-1]) and abs(p - y[-1]) < tol and len(i1):
        q = (x[i1[0]] + xmax) / 2
    return float(q)


def _confidence_limits(surv, se_h, z, conf_type):
    """survfit's pointwise limits from S and the SE of the cumulative hazard."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "log":
            lower = np.exp(np.log(surv) - z * se_h)
            upper = np.minimum(np.exp(np.log(surv) + z * se_h), 1.0)
            undefined = (surv == 0) | ~np.isfinite(se_h)
        elif conf_type == "log-log":
            xx = np.log(-np.log(surv))
            t1 = np.exp(-np.exp(xx + z * se_h / np.log(surv)))
            t2 = np.exp(-np.exp(xx - z * se_h / np.log(surv)))
            lower, upper = np.minimum(t1, t2), np.maximum(t1, t2)
            undefined = (surv == 0) | (surv == 1) | ~np.isfinite(se_h)
        else:  # plain
            se_s = surv * se_h
            lower = np.maximum(surv - z * se_s, 0.0)
            upper = np.minimum(surv + z * se_s, 1.0)
            undefined = ~np.isfinite(se_h)
    lower = np.where(undefined, np.nan, lower)
    upper = np.where(undefined, np.nan, upper)
    return lower, upper


@survival_outcome
def kaplan_meier(y, *, conf_level: float = 0.95, conf_type: str = "log") -> KaplanMeier:
    """Kaplan–Meier estimate with Greenwood variance and pointwise confidence limits.

    .. math::

        \\hat S(t) = \\prod_{t_j \\le t} \\Big(1 - \\frac{d_j}{n_j}\\Big), \\qquad
        \\widehat{\\mathrm{se}}\\{\\hat H(t)\\} =
        \\sqrt{\\sum_{t_j \\le t} \\frac{d_j}{n_j (n_j - d_j)}}

    ``conf_type="log"`` (survfit's default) gives
    :math:`\\hat S \\exp(\\pm z_{1-\\alpha/2}\\, \\widehat{\\mathrm{se}})` with the
    upper limit capped at 1; ``"log-log"`` and ``"plain"`` follow survfit too.

    Parameters
    ----------
    y : DataFrame [time, event], (n, 2) array or structured array
        Survival outcome: follow-up times and events (1 = event, 0 =
        censored). Censorings tied with events are at risk at that time.
    conf_level : float, default 0.95
    conf_type : {"log", "log-log", "plain"}, default "log"

    Returns
    -------
    KaplanMeier

    References
    ----------
    Kaplan EL, Meier P (1958) JASA 53:457-481. Greenwood M (1926). Therneau TM,
    R package survival, ``survfit.formula`` (``conf.type = "log"`` default).
    """
    check_option(conf_type, {"log", "log-log", "plain"}, name="conf_type", caller="kaplan_meier")
    time, event = check_survival_y(y, caller="kaplan_meier", require_event=False)
    if len(time) == 0:
        raise ValueError("kaplan_meier received no patients (empty group).")
    steps = km_steps(time, event)
    surv = steps.surv
    se_h = np.sqrt(steps.var_cumhaz())
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    lower, upper = _confidence_limits(surv, se_h, z, conf_type)
    with np.errstate(invalid="ignore"):
        se_s = surv * se_h
    return KaplanMeier(
        time=steps.time,
        n_risk=steps.n_risk,
        n_event=steps.n_event,
        n_censor=steps.n_censor,
        surv=surv,
        std_err=se_s,
        std_err_cumhaz=se_h,
        lower=lower,
        upper=upper,
        conf_level=conf_level,
        conf_type=conf_type,
    )
