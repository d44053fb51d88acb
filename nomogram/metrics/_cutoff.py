"""Optimal cut-off (Youden) and diagnostic accuracy at a cut-off, with CIs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import check_binary_y, check_option, check_random_state, check_scores, pandas_index
from ._roc import _check_conf_level, _check_n_boot, _curve_points

__all__ = ["CutoffResult", "optimal_cutoff", "cutoff_metrics", "proportion_ci"]


def proportion_ci(x, n, conf_level=0.95, method="wilson"):
    """Confidence interval of a binomial proportion ``x / n``.

    Wilson score interval (``method="wilson"``; R ``prop.test(x, n, correct=FALSE)``):

    .. math::

        \\frac{x + z^2/2}{n + z^2} \\pm \\frac{z}{n + z^2}
        \\sqrt{\\frac{x (n - x)}{n} + \\frac{z^2}{4}}

    Clopper-Pearson exact interval (``method="clopper-pearson"``; R
    ``binom.test``): :math:`B(\\alpha/2; x, n - x + 1)` and
    :math:`B(1 - \\alpha/2; x + 1, n - x)` with :math:`B` the beta quantile
    (0 and 1 at the boundaries).

    Returns
    -------
    (lower, upper) : tuple of float; (nan, nan) when ``n == 0``.

    References
    ----------
    Wilson EB. J Am Stat Assoc 1927;22:209-12. Clopper CJ, Pearson ES.
    Biometrika 1934;26:404-13. Brown LD, Cai TT, DasGupta A. Stat Sci
    2001;16:101-33.
    """
    check_option(method, ("wilson", "clopper-pearson"), name="method", caller="proportion_ci")
    if n == 0:
        return (np.nan, np.nan)
    a = 1 - conf_level
    if method == "wilson":
        z = stats.norm.ppf(1 - a / 2)
        centre = (x + z * z / 2) / (n + z * z)
        half = z / (n + z * z) * np.sqrt(x * (n - x) / n + z * z / 4)
        lo = 0.0 if x == 0 else float(max(centre - half, 0.0))  # exact 0 / 1 at the boundaries
        hi = 1.0 if x == n else float(min(centre + half, 1.0))
        return (lo, hi)
    lo = 0.0 if x == 0 else float(stats.beta.ppf(a / 2, x, n - x + 1))
    hi = 1.0 if x == n else float(stats.beta.ppf(1 - a / 2, x + 1, n - x))
    return (lo, hi)


def optimal_cutoff(y, score, *, method="youden", direction="<"):
    """Cut-off maximising Youden's J = sensitivity + specificity - 1.

    The candidate thresholds are pROC's: mid-points between consecutive
    distinct scores (``pROC::coords(roc, "best", best.method="youden")``).

    Parameters
    ----------
    y, score : array-like of shape (n,)
    method : {"youden"}
    direction : {"<", ">"}, default "<" (higher score = event)

    Returns
    -------
    thresholds : ndarray
        All thresholds attaining the maximum, in pROC's order (increasing
        specificity). Usually one; pROC returns all of them too.
    """
    check_option(method, ("youden",), name="method", caller="optimal_cutoff")
    check_option(direction, ("<", ">"), name="direction", caller="optimal_cutoff")
    idx = pandas_index(score)
    yy = check_binary_y(y, caller="optimal_cutoff", index=idx, against="the scores")
    s = check_scores(score, n=len(yy), caller="optimal_cutoff", index=idx)
    t, se, sp = _curve_points(s[yy == 1], s[yy == 0], direction)
    crit = se + sp
    return t[crit == crit.max()]


def _counts(yy, s, threshold, direction):
    pos = s >= threshold if direction == "<" else s <= threshold
    tp = int(np.sum(pos & (yy == 1)))
    fp = int(np.sum(pos & (yy == 0)))
    fn = int(np.sum(~pos & (yy == 1)))
    tn = int(np.sum(~pos & (yy == 0)))
    return tp, fp, tn, fn


def _f1(tp, fp, fn):
    den = 2 * tp + fp + fn
    return 2 * tp / den if den > 0 else 0.0


@dataclass
class CutoffResult:
    """Diagnostic accuracy at one cut-off.

    Attributes
    ----------
    threshold : float
    method : str
        "youden" or "fixed".
    tp, fp, tn, fn : int
    table : pandas.DataFrame
        Index sensitivity, specificity, ppv, npv, accuracy, f1; columns
        estimate, lower, upper, ci_method.
    tied_thresholds : ndarray
        All thresholds with the maximal Youden index (Youden only).
    conf_level : float
    """

    threshold: float
    method: str
    tp: int
    fp: int
    tn: int
    fn: int
    table: pd.DataFrame
    tied_thresholds: np.ndarray
    conf_level: float
    direction: str

    @property
    def youden_index(self) -> float:
        return float(self.table.loc["sensitivity", "estimate"] + self.table.loc["specificity", "estimate"] - 1)

    def summary(self) -> pd.DataFrame:
        """The table of metrics with their CIs (a copy)."""
        return self.table.copy()


def cutoff_metrics(
    y,
    score,
    threshold="youden",
    *,
    conf_level=0.95,
    ci_method="wilson",
    n_boot=2000,
    random_state=None,
    direction="<",
) -> CutoffResult:
    """Sensitivity, specificity, PPV, NPV, accuracy and F1 at a cut-off, with CIs.

    A patient is classified positive when ``score >= threshold``
    (``direction="<"``) or ``score <= threshold`` (``">"``), as
    ``pROC::coords(input="threshold")`` does.

    * sensitivity = TP/(TP+FN), specificity = TN/(TN+FP), PPV = TP/(TP+FP),
      NPV = TN/(TN+FN), accuracy = (TP+TN)/n: binomial proportions with a
      Wilson score interval (default) or the exact Clopper-Pearson interval
      (``ci_method="clopper-pearson"``); the threshold is held fixed (its
      selection is not accounted for, as in pROC's ``coords``).
    * F1 = 2TP/(2TP+FP+FN): percentile interval over ``n_boot`` bootstrap
      resamples of patients, threshold held fixed.

    Parameters
    ----------
    y, score : array-like of shape (n,)
    threshold : "youden" or float, default "youden"
        "youden": the first threshold maximising sensitivity + specificity
        (pROC ``coords("best", best.method="youden")``).
    conf_level : float, default 0.95
    ci_method : {"wilson", "clopper-pearson"}, default "wilson"
    n_boot : int, default 2000
    random_state : None, int or numpy.random.Generator
    direction : {"<", ">"}, default "<"

    Returns
    -------
    CutoffResult

    References
    ----------
    Youden WJ. Index for rating diagnostic tests. Cancer 1950;3:32-5.
    R: ``pROC::coords``, ``prop.test(correct=FALSE)``, ``binom.test``.
    """
    caller = "cutoff_metrics"
    conf_level = _check_conf_level(conf_level, caller)
    check_option(ci_method, ("wilson", "clopper-pearson"), name="ci_method", caller=caller)
    check_option(direction, ("<", ">"), name="direction", caller=caller)
    n_boot = _check_n_boot(n_boot, caller)
    idx = pandas_index(score)
    yy = check_binary_y(y, caller=caller, index=idx, against="the scores")
    s = check_scores(score, n=len(yy), caller=caller, index=idx)
    if isinstance(threshold, str):
        check_option(threshold, ("youden",), name="threshold", caller=caller)
        tied = optimal_cutoff(yy, s, direction=direction)
        thr, method = float(tied[0]), "youden"
    else:
        try:
            thr = float(threshold)
        except (TypeError, ValueError):
            raise ValueError(
                f"The 'threshold' parameter of {caller} must be 'youden' or a number; "
                f"got {threshold!r}."
            ) from None
        tied, method = np.array([thr]), "fixed"
    tp, fp, tn, fn = _counts(yy, s, thr, direction)
    rows = {}
    for name, x, n in [
        ("sensitivity", tp, tp + fn),
        ("specificity", tn, tn + fp),
        ("ppv", tp, tp + fp),
        ("npv", tn, tn + fn),
        ("accuracy", tp + tn, tp + tn + fp + fn),
    ]:
        lo, hi = proportion_ci(x, n, conf_level, ci_method)
        rows[name] = (x / n if n else np.nan, lo, hi, ci_method)
    # Resampling patients with replacement makes the four cell counts of the
    # resample multinomial(n, observed cell proportions): draw them directly.
    rng = check_random_state(random_state)
    nn = len(yy)
    cells = rng.multinomial(nn, np.array([tp, fp, tn, fn]) / nn, size=n_boot)
    den = 2 * cells[:, 0] + cells[:, 1] + cells[:, 3]
    f1b = np.where(den > 0, 2 * cells[:, 0] / np.maximum(den, 1), 0.0)
    a = (1 - conf_level) / 2
    lo, hi = np.quantile(f1b, [a, 1 - a])
    rows["f1"] = (_f1(tp, fp, fn), float(lo), float(hi), "bootstrap percentile")
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "lower", "upper", "ci_method"])
    return CutoffResult(thr, method, tp, fp, tn, fn, table, np.asarray(tied), conf_level, direction)
