"""ROC curve, AUC and its confidence interval, as R's pROC computes them.

Conventions (pROC's):

* ``direction="<"``: controls have lower scores than cases, i.e. a higher
  score means a higher risk of the event. A patient is called positive when
  ``score >= threshold`` (``score > threshold`` at the mid-point thresholds
  used below). ``direction=">"`` is the reverse (cases have lower scores).
  ``direction="auto"`` is what ``pROC::roc`` does by default: ``"<"`` when
  ``median(controls) <= median(cases)``, else ``">"``. The default here is
  ``"<"`` because predicted risks and linear predictors are always oriented
  that way, and "auto" silently flips an AUC below 0.5 to above it, which
  hides a model that is worse than chance on new data.
* Thresholds are ``-Inf``, the mid-points between consecutive distinct scores,
  and ``+Inf`` (``pROC:::roc_utils_thresholds``).
* Points are ordered by increasing specificity (decreasing sensitivity):
  thresholds increase for ``"<"`` and decrease for ``">"``, as in
  ``roc$thresholds``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import (check_binary_y, check_discrimination, check_group_sizes, check_option, check_random_state,
                      check_scores, pandas_index)

__all__ = [
    "RocCurve",
    "RocAucResult",
    "roc_curve",
    "roc_auc_ci",
    "delong_placements",
    "sensitivity_ci",
]

_DIRECTIONS = ("<", ">", "auto")


def _check_conf_level(conf_level, caller):
    if not (isinstance(conf_level, (int, float)) and 0 < float(conf_level) < 1):
        raise ValueError(
            f"The 'conf_level' parameter of {caller} must be a number in (0, 1); "
            f"got {conf_level!r}. Use e.g. conf_level=0.95."
        )
    return float(conf_level)


def _check_n_boot(n_boot, caller):
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 2:
        raise ValueError(
            f"The 'n_boot' parameter of {caller} must be an integer >= 2; got {n_boot!r}."
        )
    return int(n_boot)


def _cases_controls(y, score, direction, caller, name="score"):
    """Validate inputs and return ``(cases, controls, direction)`` with direction resolved."""
    idx = pandas_index(score)
    yy = check_binary_y(y, caller=caller, index=idx, against="the scores")
    s = check_scores(score, n=len(yy), name=name, caller=caller, index=idx)
    check_option(direction, _DIRECTIONS, name="direction", caller=caller)
    cases = s[yy == 1]
    controls = s[yy == 0]
    if direction == "auto":
        direction = "<" if np.median(controls) <= np.median(cases) else ">"
    return cases, controls, direction


def _oriented(cases, controls, direction):
    """Scores flipped so that cases are expected to score higher ("<")."""
    if direction == ">":
        return -cases, -controls
    return cases, controls


def delong_placements(cases, controls, direction="<"):
    """DeLong placement values by mid-ranks (Sun & Xu 2014), O(n log n).

    For case :math:`i` and control :math:`j` (scores oriented so that cases
    are expected higher),

    .. math::

        V_{10}(X_i) = \\frac{1}{n}\\sum_j \\psi(X_i, Y_j), \\qquad
        V_{01}(Y_j) = \\frac{1}{m}\\sum_i \\psi(X_i, Y_j),

    with :math:`\\psi(x, y) = 1` if :math:`x > y`, 1/2 if equal, 0 otherwise.
    With :math:`R_i` the mid-rank of an observation among all
    :math:`m + n` scores and :math:`R^X_i` (:math:`R^Y_j`) its mid-rank
    among the cases (controls) only, :math:`V_{10}(X_i) = (R_i - R^X_i)/n`
    and :math:`V_{01}(Y_j) = 1 - (R_j - R^Y_j)/m`. The AUC is
    :math:`\\hat\\theta = \\bar V_{10} = \\bar V_{01}`.

    Parameters
    ----------
    cases, controls : array-like of shape (m,), (n,)
    direction : {"<", ">"}

    Returns
    -------
    theta : float
    v10 : ndarray of shape (m,)
    v01 : ndarray of shape (n,)

    References
    ----------
    Sun X, Xu W. Fast implementation of DeLong's algorithm for comparing the
    areas under correlated receiver operating characteristic curves. IEEE
    Signal Process Lett 2014;21:1389-93. pROC ``delongPlacementsCpp``.
    """
    x, yv = _oriented(np.asarray(cases, float), np.asarray(controls, float), direction)
    m, n = len(x), len(yv)
    # R_i - R^X_i is the number of controls below X_i plus half the tied
    # controls; two sorts and binary searches give these mid-rank differences
    # directly (same O(n log n), without ranking the pooled sample).
    # Queries are searched in sorted order (cache friendly), then put back.
    ox, oy = np.argsort(x), np.argsort(yv)
    sx, sy = x[ox], yv[oy]
    v10 = np.empty(m)
    v01 = np.empty(n)
    lo, hi = np.searchsorted(sy, sx, side="left"), np.searchsorted(sy, sx, side="right")
    v10[ox] = (lo + 0.5 * (hi - lo)) / n
    lo, hi = np.searchsorted(sx, sy, side="left"), np.searchsorted(sx, sy, side="right")
    v01[oy] = 1.0 - (lo + 0.5 * (hi - lo)) / m
    return float(v10.mean()), v10, v01


def _delong_var(v10, v01, theta):
    m, n = len(v10), len(v01)
    sx = np.sum((v10 - theta) ** 2) / (m - 1)
    sy = np.sum((v01 - theta) ** 2) / (n - 1)
    return sx / m + sy / n


@dataclass
class RocCurve:
    """Empirical ROC curve (pROC's ``roc`` object).

    Attributes
    ----------
    thresholds, sensitivities, specificities : ndarray
        One entry per threshold, ordered by increasing specificity.
    auc : float
    direction : {"<", ">"}
    n_cases, n_controls : int
    """

    thresholds: np.ndarray
    sensitivities: np.ndarray
    specificities: np.ndarray
    auc: float
    direction: str
    n_cases: int
    n_controls: int

    def summary(self) -> pd.DataFrame:
        """Coordinates as a table (threshold, sensitivity, specificity)."""
        return pd.DataFrame(
            {
                "threshold": self.thresholds,
                "sensitivity": self.sensitivities,
                "specificity": self.specificities,
            }
        )

    def plot(self, ax=None, **kwargs):
        """Draw with :class:`nomogram.displays.RocDisplay`; returns the display."""
        from ..displays.roc import RocDisplay

        return RocDisplay.from_result(self, ax=ax, **kwargs)

    def sensitivity_at(self, specificity) -> np.ndarray:
        """Sensitivity at given specificities, interpolated as ``pROC::coords(input="specificity")``.

        Where a specificity is attained exactly, the first such point (the
        highest sensitivity) is returned; otherwise the sensitivity is
        interpolated linearly between the two neighbouring points.
        """
        return _se_at_sp(self.sensitivities, self.specificities, specificity)


def _thresholds(values):
    u = np.unique(values)
    lo = np.concatenate([[-np.inf], u])
    hi = np.concatenate([u, [np.inf]])
    with np.errstate(invalid="ignore", over="ignore"):
        t = (lo + hi) / 2
        t2 = lo / 2 + hi / 2  # pROC guards against overflow the same way
    return np.where(np.abs(t) > 1e100, t2, t)


def _curve_points(cases, controls, direction):
    """(thresholds, se, sp) ordered by increasing specificity."""
    t = _thresholds(np.concatenate([cases, controls]))
    sc = np.sort(cases)
    so = np.sort(controls)
    m, n = len(sc), len(so)
    if direction == "<":
        tp = m - np.searchsorted(sc, t, side="left")  # cases >= t
        tn = np.searchsorted(so, t, side="left")  # controls < t
        order = slice(None)
    else:
        tp = np.searchsorted(sc, t, side="right")  # cases <= t
        tn = n - np.searchsorted(so, t, side="right")  # controls > t
        order = slice(None, None, -1)
    return t[order], (tp / m)[order], (tn / n)[order]


def _se_at_sp(se, sp, values):
    """pROC ``coords(x=values, input="specificity", ret="sensitivity")``; sp non-decreasing."""
    values = np.atleast_1d(np.asarray(values, float))
    if (values < sp.min()).any() or (values > sp.max()).any():
        raise ValueError(
            f"specificities must lie in [{sp.min()}, {sp.max()}]; got {values.tolist()}."
        )
    first_eq = np.searchsorted(sp, values, side="left")
    first_eq_c = np.minimum(first_eq, len(sp) - 1)
    exact = sp[first_eq_c] == values
    nxt = np.minimum(np.searchsorted(sp, values, side="right"), len(sp) - 1)
    prv = np.maximum(nxt - 1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        prop = (values - sp[nxt]) / (sp[prv] - sp[nxt])
        interp = se[nxt] + prop * (se[prv] - se[nxt])
    return np.where(exact, se[first_eq_c], interp)


def roc_curve(y, score, *, direction="<") -> RocCurve:
    """Empirical ROC curve with pROC's thresholds and conventions.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary outcome; the larger of the two values is the event (case).
    score : array-like of shape (n,)
        Predicted risk, linear predictor or marker.
    direction : {"<", ">", "auto"}, default "<"
        ``"<"``: controls < cases (higher score = event). See module docstring.

    Returns
    -------
    RocCurve

    References
    ----------
    Robin X, et al. pROC: an open-source package for R and S+ to analyze and
    compare ROC curves. BMC Bioinformatics 2011;12:77.

    Examples
    --------
    >>> roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).auc
    0.75
    """
    cases, controls, direction = _cases_controls(y, score, direction, "roc_curve")
    t, se, sp = _curve_points(cases, controls, direction)
    theta, _, _ = delong_placements(cases, controls, direction)
    check_discrimination(theta, score=np.concatenate([cases, controls]), caller="roc_curve", direction_param=True)
    return RocCurve(t, se, sp, theta, direction, len(cases), len(controls))


@dataclass
class RocAucResult:
    """AUC with a confidence interval.

    Attributes
    ----------
    auc, lower, upper : float
    se : float
        DeLong standard error (``sqrt(var(roc, method="delong"))``) for
        ``method="delong"``; standard deviation of the bootstrap AUCs for
        ``method="bootstrap"``.
    method : {"delong", "bootstrap"}
    conf_level : float
    direction : {"<", ">"}
    n_cases, n_controls : int
    n_boot : int or None
    boot_median : float or None
        Median of the bootstrap AUCs (pROC prints it as the middle value).
    """

    auc: float
    lower: float
    upper: float
    se: float
    method: str
    conf_level: float
    direction: str
    n_cases: int
    n_controls: int
    n_boot: int | None = None
    boot_median: float | None = None
    boot_aucs: np.ndarray | None = field(default=None, repr=False)

    def summary(self) -> pd.DataFrame:
        """One-row table: AUC, se, lower, upper, method, conf_level, n_cases, n_controls."""
        return pd.DataFrame(
            [
                {
                    "AUC": self.auc,
                    "se": self.se,
                    "lower": self.lower,
                    "upper": self.upper,
                    "method": self.method,
                    "conf_level": self.conf_level,
                    "direction": self.direction,
                    "n_cases": self.n_cases,
                    "n_controls": self.n_controls,
                }
            ]
        )


def _boot_aucs(cases, controls, direction, n_boot, rng, chunk_cells=4_000_000):
    """Stratified bootstrap AUCs (cases and controls resampled separately)."""
    x, yv = _oriented(cases, controls, direction)
    m, n = len(x), len(yv)
    out = np.empty(n_boot)
    rows = max(1, chunk_cells // (m + n))
    done = 0
    while done < n_boot:
        b = min(rows, n_boot - done)
        # controls first then cases, as pROC's stratified.ci.auc draws them
        yi = rng.integers(0, n, size=(b, n))
        xi = rng.integers(0, m, size=(b, m))
        z = np.concatenate([x[xi], yv[yi]], axis=1)
        r = stats.rankdata(z, axis=1)
        out[done : done + b] = (r[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n)
        done += b
    return out


def roc_auc_ci(
    y,
    score,
    method="delong",
    conf_level=0.95,
    n_boot=2000,
    random_state=None,
    *,
    direction="<",
) -> RocAucResult:
    """Area under the ROC curve with a DeLong or stratified-bootstrap confidence interval.

    DeLong (``method="delong"``, as ``pROC::ci.auc(method="delong")``):

    .. math::

        S = \\frac{S_{10}}{m} + \\frac{S_{01}}{n},\\quad
        S_{10} = \\frac{\\sum_i (V_{10}(X_i) - \\hat\\theta)^2}{m - 1},\\quad
        S_{01} = \\frac{\\sum_j (V_{01}(Y_j) - \\hat\\theta)^2}{n - 1},

    CI :math:`= \\hat\\theta \\pm z_{1-\\alpha/2} \\sqrt{S}`, truncated to
    [0, 1]. Placement values :math:`V` come from mid-ranks in
    O(n log n) (:func:`delong_placements`).

    Bootstrap (``method="bootstrap"``, as ``pROC::ci.auc(method="bootstrap",
    boot.stratified=TRUE)``): cases and controls are resampled separately
    ``n_boot`` times with the direction held fixed; the CI is the
    :math:`\\alpha/2` and :math:`1-\\alpha/2` quantiles (R's type 7) of the
    bootstrap AUCs. The random streams differ from R's, so the bounds agree
    with pROC only up to Monte-Carlo error.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary outcome (larger value = case).
    score : array-like of shape (n,)
    method : {"delong", "bootstrap"}, default "delong"
    conf_level : float, default 0.95
    n_boot : int, default 2000
    random_state : None, int or numpy.random.Generator
    direction : {"<", ">", "auto"}, default "<"
        ``"<"`` means controls < cases: higher scores indicate the event.

    Returns
    -------
    RocAucResult

    References
    ----------
    DeLong ER, DeLong DM, Clarke-Pearson DL. Comparing the areas under two or
    more correlated receiver operating characteristic curves: a
    nonparametric approach. Biometrics 1988;44:837-45.
    Sun X, Xu W. IEEE Signal Process Lett 2014;21:1389-93.
    Carpenter J, Bithell J. Bootstrap confidence intervals. Stat Med
    2000;19:1141-64. R: ``pROC::ci.auc``.

    Examples
    --------
    >>> r = roc_auc_ci([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> round(r.auc, 4)
    0.8889
    """
    caller = "roc_auc_ci"
    check_option(method, ("delong", "bootstrap"), name="method", caller=caller)
    conf_level = _check_conf_level(conf_level, caller)
    cases, controls, direction = _cases_controls(y, score, direction, caller)
    m, n = len(cases), len(controls)
    check_group_sizes({"cases": m, "controls": n}, caller=caller, what=f"the {method} interval of the AUC")
    theta, v10, v01 = delong_placements(cases, controls, direction)
    check_discrimination(theta, score=np.concatenate([cases, controls]), caller=caller, direction_param=True)
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    if method == "delong":
        se = float(np.sqrt(_delong_var(v10, v01, theta)))
        lo, hi = theta - z * se, theta + z * se
        return RocAucResult(
            float(theta), float(max(lo, 0.0)), float(min(hi, 1.0)), se, "delong", conf_level,
            direction, m, n,
        )
    n_boot = _check_n_boot(n_boot, caller)
    rng = check_random_state(random_state)
    aucs = _boot_aucs(cases, controls, direction, n_boot, rng)
    a = (1 - conf_level) / 2
    lo, med, hi = np.quantile(aucs, [a, 0.5, 1 - a])
    return RocAucResult(
        float(theta), float(lo), float(hi), float(aucs.std(ddof=1)), "bootstrap", conf_level,
        direction, m, n, n_boot, float(med), aucs,
    )


def sensitivity_ci(
    y,
    score,
    specificities=None,
    *,
    conf_level=0.95,
    n_boot=2000,
    random_state=None,
    direction="<",
) -> pd.DataFrame:
    """Bootstrap confidence band of sensitivity at fixed specificities (``pROC::ci.se``).

    For each of ``n_boot`` stratified resamples the ROC curve is rebuilt and
    its sensitivity read at each specificity with
    :meth:`RocCurve.sensitivity_at` (exact point or linear interpolation, as
    ``pROC::coords(input="specificity")``); the band is the percentile
    interval of these sensitivities.

    Parameters
    ----------
    y, score : array-like of shape (n,)
    specificities : array-like, default ``numpy.arange(11) * 0.1`` (pROC's ``seq(0, 1, .1)``)
    conf_level : float, default 0.95
    n_boot : int, default 2000
    random_state : None, int or numpy.random.Generator
    direction : {"<", ">", "auto"}, default "<"

    Returns
    -------
    pandas.DataFrame
        Columns ``specificity``, ``sensitivity`` (of the observed curve),
        ``lower``, ``median``, ``upper``.

    References
    ----------
    R: ``pROC::ci.se(boot.stratified=TRUE)``.
    """
    caller = "sensitivity_ci"
    conf_level = _check_conf_level(conf_level, caller)
    n_boot = _check_n_boot(n_boot, caller)
    cases, controls, direction = _cases_controls(y, score, direction, caller)
    check_group_sizes({"cases": len(cases), "controls": len(controls)}, caller=caller,
                      what="the bootstrap band of sensitivity")
    sp_grid = np.arange(11) * 0.1 if specificities is None else np.asarray(specificities, float)
    if ((sp_grid < 0) | (sp_grid > 1)).any():
        raise ValueError(f"{caller}: specificities must lie in [0, 1]; got {sp_grid.tolist()}.")
    _, se0, sp0 = _curve_points(cases, controls, direction)
    observed = _se_at_sp(se0, sp0, sp_grid)
    rng = check_random_state(random_state)
    m, n = len(cases), len(controls)
    boots = np.empty((n_boot, len(sp_grid)))
    for b in range(n_boot):
        c0 = controls[rng.integers(0, n, n)]
        c1 = cases[rng.integers(0, m, m)]
        _, se, sp = _curve_points(c1, c0, direction)
        boots[b] = _se_at_sp(se, sp, sp_grid)
    a = (1 - conf_level) / 2
    q = np.quantile(boots, [a, 0.5, 1 - a], axis=0)
    return pd.DataFrame(
        {"specificity": sp_grid, "sensitivity": observed, "lower": q[0], "median": q[1], "upper": q[2]}
    )
