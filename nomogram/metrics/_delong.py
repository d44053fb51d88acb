"""DeLong tests comparing two AUCs (``pROC::roc.test(method="delong")``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import check_binary_y, check_discrimination, check_option, check_scores, pandas_index
from ._roc import _check_conf_level, _delong_var, delong_placements

__all__ = ["DelongTestResult", "delong_test", "delong_test_unpaired"]

_ALTERNATIVES = ("two.sided", "less", "greater")


@dataclass
class DelongTestResult:
    """Result of a DeLong test of AUC1 = AUC2.

    Attributes
    ----------
    statistic : float
        Z (paired) or D (unpaired, referred to a t distribution with ``df``).
    p_value : float
    auc1, auc2, difference : float
        ``difference = auc1 - auc2``.
    se : float
        Standard error of the difference.
    lower, upper : float
        Confidence interval of the difference, ``difference -/+ z * se`` (the
        normal pivot of DeLong 1988 that pROC reports for the paired test;
        pROC reports no interval for the unpaired test, the one given here
        uses the same normal pivot).
    df : float or None
        Welch-type degrees of freedom (unpaired test only).
    paired : bool
    alternative : str
    conf_level : float
    """

    statistic: float
    p_value: float
    auc1: float
    auc2: float
    difference: float
    se: float
    lower: float
    upper: float
    df: float | None
    paired: bool
    alternative: str
    conf_level: float

    @property
    def method(self) -> str:
        return (
            "DeLong's test for two correlated ROC curves"
            if self.paired
            else "DeLong's test for two ROC curves"
        )

    def summary(self) -> pd.DataFrame:
        """One-row table with AUCs, difference, its CI, statistic, df and p-value."""
        return pd.DataFrame(
            [
                {
                    "AUC1": self.auc1,
                    "AUC2": self.auc2,
                    "difference": self.difference,
                    "se": self.se,
                    "lower": self.lower,
                    "upper": self.upper,
                    "statistic": self.statistic,
                    "df": self.df,
                    "p_value": self.p_value,
                    "alternative": self.alternative,
                    "method": self.method,
                }
            ]
        )


def _split(y, score, direction, caller, name, index=None):
    yy = check_binary_y(y, caller=caller, index=index, against="the scores")
    s = check_scores(score, n=len(yy), name=name, caller=caller, index=index)
    cases, controls = s[yy == 1], s[yy == 0]
    if len(cases) < 2 or len(controls) < 2:
        raise ValueError(
            f"{caller}: DeLong's test needs at least 2 cases and 2 controls; got "
            f"{len(cases)} case(s) and {len(controls)} control(s)."
        )
    out = delong_placements(cases, controls, direction)
    check_discrimination(float(out[0]), score=s, what=f"the AUC of {name}", caller=caller, direction_param=True)
    return out


def _check_test_options(alternative, direction, conf_level, caller):
    """Check the ``alternative``, ``direction`` and ``conf_level`` of a DeLong test; return ``conf_level`` as float."""
    check_option(alternative, _ALTERNATIVES, name="alternative", caller=caller)
    check_option(direction, ("<", ">"), name="direction", caller=caller)
    return _check_conf_level(conf_level, caller)


def _p(stat, alternative, dist):
    if alternative == "two.sided":
        return float(2 * dist.cdf(-abs(stat)))
    if alternative == "greater":
        return float(dist.cdf(-stat))
    return float(dist.cdf(stat))


def delong_test(
    y,
    score1,
    score2,
    *,
    alternative="two.sided",
    conf_level=0.95,
    direction="<",
) -> DelongTestResult:
    """Paired DeLong test of two correlated AUCs (two scores on the same patients).

    With placement values :math:`V^{(k)}_{10}, V^{(k)}_{01}` of score
    :math:`k = 1, 2`, the covariance matrix of :math:`(\\hat\\theta_1,
    \\hat\\theta_2)` is :math:`S = S_{10}/m + S_{01}/n` with
    :math:`S_{10}[k, l] = \\sum_i (V^{(k)}_{10,i} - \\hat\\theta_k)
    (V^{(l)}_{10,i} - \\hat\\theta_l) / (m - 1)` (and :math:`S_{01}`
    likewise over controls with :math:`n - 1`). With :math:`L = (1, -1)`,

    .. math::

        Z = \\frac{\\hat\\theta_1 - \\hat\\theta_2}{\\sqrt{L S L^T}},

    referred to N(0, 1); the CI of the difference is
    :math:`\\hat\\theta_1 - \\hat\\theta_2 \\pm z_{1-\\alpha/2} \\sqrt{L S L^T}`.
    A zero difference with zero variance gives Z = 0, as in pROC.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary outcome.
    score1, score2 : array-like of shape (n,)
    alternative : {"two.sided", "less", "greater"}, default "two.sided"
        "greater": AUC1 > AUC2.
    conf_level : float, default 0.95
    direction : {"<", ">"}, default "<"
        Applied to both scores (pROC warns when the directions differ).

    Returns
    -------
    DelongTestResult

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL. Biometrics 1988;44:837-45.
    R: ``pROC::roc.test(roc1, roc2, method="delong", paired=TRUE)``.

    Examples
    --------
    >>> y = [0, 0, 0, 1, 1, 1, 0, 1]
    >>> r = delong_test(y, [.1, .3, .2, .8, .6, .7, .5, .4], [.2, .1, .4, .6, .9, .3, .5, .8])
    >>> round(r.difference, 4)
    0.0625
    """
    caller = "delong_test"
    conf_level = _check_test_options(alternative, direction, conf_level, caller)
    idx = pandas_index(score1, score2)
    t1, x1, y1 = _split(y, score1, direction, caller, "score1", idx)
    t2, x2, y2 = _split(y, score2, direction, caller, "score2", idx)
    m, n = len(x1), len(y1)
    dx1, dx2, dy1, dy2 = x1 - t1, x2 - t2, y1 - t1, y2 - t2
    sx = np.array([[dx1 @ dx1, dx1 @ dx2], [dx2 @ dx1, dx2 @ dx2]]) / (m - 1)
    sy = np.array([[dy1 @ dy1, dy1 @ dy2], [dy2 @ dy1, dy2 @ dy2]]) / (n - 1)
    s = sx / m + sy / n
    ll = np.array([1.0, -1.0])
    sig = float(np.sqrt(max(ll @ s @ ll, 0.0)))
    d = t1 - t2
    if sig == 0.0:
        z = 0.0 if d == 0 else np.sign(d) * np.inf
    else:
        z = d / sig
    crit = stats.norm.ppf(1 - (1 - conf_level) / 2)
    return DelongTestResult(
        float(z), _p(z, alternative, stats.norm), t1, t2, d, sig, float(d - crit * sig),
        float(d + crit * sig), None, True, alternative, conf_level,
    )


def delong_test_unpaired(
    y1,
    score1,
    y2,
    score2,
    *,
    alternative="two.sided",
    conf_level=0.95,
    direction="<",
) -> DelongTestResult:
    """Unpaired DeLong test of two AUCs from independent samples.

    With :math:`S_R, S_S` the DeLong variances of the two AUCs and
    :math:`N_R, N_S` the sample sizes,

    .. math::

        D = \\frac{\\hat\\theta_R - \\hat\\theta_S}{\\sqrt{S_R + S_S}},\\qquad
        df = \\frac{(S_R + S_S)^2}{S_R^2/(N_R - 1) + S_S^2/(N_S - 1)},

    and the p-value comes from Student's t with ``df`` degrees of freedom
    (exactly what pROC does).

    Parameters
    ----------
    y1, score1 : array-like
        Outcome and score of the first sample.
    y2, score2 : array-like
        Outcome and score of the second, independent, sample.
    alternative : {"two.sided", "less", "greater"}
    conf_level : float, default 0.95
    direction : {"<", ">"}, default "<"

    Returns
    -------
    DelongTestResult

    References
    ----------
    R: ``pROC::roc.test(roc1, roc2, method="delong", paired=FALSE)``.
    """
    caller = "delong_test_unpaired"
    conf_level = _check_test_options(alternative, direction, conf_level, caller)
    tr, xr, yr = _split(y1, score1, direction, caller, "score1", pandas_index(score1))
    ts, xs, ys = _split(y2, score2, direction, caller, "score2", pandas_index(score2))
    sr = _delong_var(xr, yr, tr)
    ss = _delong_var(xs, ys, ts)
    nr, ns = len(xr) + len(yr), len(xs) + len(ys)
    sig = float(np.sqrt(sr + ss))
    d = tr - ts
    stat = d / sig if sig > 0 else (0.0 if d == 0 else np.sign(d) * np.inf)
    df = float((sr + ss) ** 2 / (sr**2 / (nr - 1) + ss**2 / (ns - 1))) if sig > 0 else np.nan
    crit = stats.norm.ppf(1 - (1 - conf_level) / 2)
    p = _p(stat, alternative, stats.t(df)) if np.isfinite(df) else (1.0 if d == 0 else 0.0)
    return DelongTestResult(
        float(stat), p, tr, ts, d, sig, float(d - crit * sig), float(d + crit * sig), df, False,
        alternative, conf_level,
    )
