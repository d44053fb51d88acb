"""Survival risk groups from a prognostic score: cut-off, Kaplan–Meier, log-rank, hazard ratio.

:func:`risk_groups` splits patients at a fitted or fixed cut-off of a score
(a nomogram's total points or linear predictor) and returns a
:class:`RiskGroups` result with everything a survival figure and its legend
report: Kaplan–Meier curves per group (``survival::survfit``), numbers at risk,
the log-rank test (``survdiff``), the Cox hazard ratio between groups
(``coxph``, Efron ties) and landmark survival with confidence intervals.
:class:`nomogram.displays.KaplanMeierDisplay` draws it.
"""

from __future__ import annotations

import warnings

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .checks import (
    align_y,
    check_option,
    check_scores,
    check_survival_y,
    check_times,
    pandas_index,
    python_value,
    renamed_attribute,
    renamed_parameter,
    survival_outcome,
    warn_deprecated,
)
from ._cph_fit import fit_cox
from ._kaplan_meier import KaplanMeier, kaplan_meier
from ._logrank import LogRankResult, logrank_test
from ._survival import km_survival_at
from ._time_dependent_roc import cumulative_dynamic_roc

__all__ = [
    "risk_groups",
    "RiskGroups",
    "maxstat_cutoff",
    "MaxstatResult",
    "time_dependent_roc",
    "hazard_ratio_table",
]


# --------------------------------------------------------------------------- maxstat
@dataclass(frozen=True)
class MaxstatResult:
    """Maximally selected log-rank statistic (``maxstat.test(smethod="LogRank")``).

    Attributes
    ----------
    cutoff : float
        Estimated cut-point: patients with ``score <= cutoff`` form one group.
    statistic : float
        :math:`M = \\max_c |S_c - E_c| / \\sqrt{V_c}`.
    p_value : float
        Lausen & Schumacher (1992) approximation (``pmethod = "Lau92"``).
    cuts, stats : ndarray
        Candidate cut-points and their standardized statistics.
    minprop, maxprop : float
    """

    cutoff: float
    statistic: float
    p_value: float
    cuts: np.ndarray
    stats: np.ndarray
    minprop: float
    maxprop: float

    def summary(self) -> pd.DataFrame:
        """One row: ``cutoff``, ``statistic``, ``p_value``, ``minprop``, ``maxprop``, ``n_cuts``."""
        return pd.DataFrame(
            {
                "cutoff": [self.cutoff],
                "statistic": [self.statistic],
                "p_value": [self.p_value],
                "minprop": [self.minprop],
                "maxprop": [self.maxprop],
                "n_cuts": [len(self.cuts)],
            }
        )


def _logrank_scores(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Log-rank (Savage) scores as ``exactRankTests::cscores`` computes them for maxstat.

    :math:`a_i = \\delta_i - \\sum_{j: t_j \\le t_i} \\delta_j / (n - r_j + 1)` where
    :math:`r_j` is the rank of :math:`t_j` with ties given the *largest* rank.
    Without ties the denominator is the number at risk and the sum is the
    Nelson–Aalen estimate; with ties each tied event is divided by the number
    at risk after the tied block plus one (cscores' convention, kept so the
    statistic agrees with ``maxstat.test``).
    """
    n = len(time)
    ut, inv = np.unique(time, return_inverse=True)
    d = np.bincount(inv, weights=event, minlength=len(ut))
    c = np.bincount(inv, minlength=len(ut))
    max_rank = np.cumsum(c)  # largest rank within each block of tied times
    H = np.cumsum(d / (n - max_rank + 1))
    return event - H[inv]


def _p_lausen92(b: float, minprop: float, maxprop: float) -> float:
    """Lausen & Schumacher (1992) upper bound on P(M > b) under the null.

    .. math::

        p \\approx \\frac{4 \\varphi(b)}{b} + \\varphi(b)\\Big(b - \\frac{1}{b}\\Big)
        \\log\\frac{\\varepsilon_2 (1 - \\varepsilon_1)}{(1 - \\varepsilon_2)\\varepsilon_1},

    with :math:`\\varepsilon_1, \\varepsilon_2` = ``minprop``, ``maxprop``; 1 when
    :math:`b < 1`, truncated at 0 (as ``maxstat:::pLausen92``).
    """
    if b < 1:
        return 1.0
    db = stats.norm.pdf(b)
    p = 4 * db / b + db * (b - 1 / b) * np.log((maxprop * (1 - minprop)) / ((1 - maxprop) * minprop))
    return float(max(p, 0.0))


@survival_outcome
def maxstat_cutoff(y, score, *, minprop: float = 0.1, maxprop: float = 0.9) -> MaxstatResult:
    """Cut-off maximizing the standardized log-rank statistic, with a corrected p-value.

    For each candidate cut-point :math:`c` (distinct score values leaving at
    least ``floor(n * minprop)`` and at most ``floor(n * maxprop)`` patients with
    ``score <= c``), with log-rank scores :math:`a_i` and
    :math:`m = \\#\\{score \\le c\\}`:

    .. math::

        S_c = \\sum_{score_i \\le c} a_i, \\quad E_c = \\frac{m}{n}\\sum a_i, \\quad
        V_c = \\frac{m (n - m)}{n^2 (n - 1)}\\Big(n \\sum a_i^2 - (\\sum a_i)^2\\Big),

    :math:`M = \\max_c |S_c - E_c| / \\sqrt{V_c}` (first maximizer) and the
    p-value of Lausen & Schumacher (1992), which corrects for the search over
    cut-points.

    Parameters
    ----------
    y : DataFrame [time, event], (n, 2) array or structured array
        Survival outcome.
    score : array-like of shape (n,)
    minprop, maxprop : float, default 0.1, 0.9

    Returns
    -------
    MaxstatResult

    References
    ----------
    Lausen B, Schumacher M (1992) Biometrics 48:73-85. Hothorn T, Lausen B (2003)
    Comput Stat Data Anal 43:121-137. R package maxstat, ``maxstat.test(...,
    smethod = "LogRank", pmethod = "Lau92")``.
    """
    caller = "maxstat_cutoff"
    idx = pandas_index(score)
    time, event = check_survival_y(y, caller=caller, index=idx, against="the scores")
    score = check_scores(score, n=len(time), caller=caller, index=idx)
    if not 0 < minprop < maxprop < 1:
        raise ValueError(f"{caller}: need 0 < minprop < maxprop < 1; got {minprop}, {maxprop}.")
    a = _logrank_scores(time, event)
    n = len(a)
    order = np.argsort(score, kind="mergesort")
    xs, ys = score[order], a[order]
    new_value = np.r_[True, xs[1:] != xs[:-1]]
    m = np.flatnonzero(new_value)  # m = number of patients below each new value
    lo, hi = max(1, int(np.floor(n * minprop))), int(np.floor(n * maxprop))
    m = m[(m >= lo) & (m <= hi)]
    if len(m) == 0:
        raise ValueError(
            f"{caller}: no cut-point leaves between {minprop:.0%} and {maxprop:.0%} of the "
            f"{n} patients on one side; the score has {len(np.unique(score))} distinct values. "
            "Lower minprop / raise maxprop, or use another cut-off."
        )
    ss = ys.sum()
    E = m / n * ss
    V = m * (n - m) / (n**2 * (n - 1)) * (n * np.sum(ys**2) - ss**2)
    T = np.abs((np.cumsum(ys)[m - 1] - E) / np.sqrt(V))
    best = int(np.argmax(T))
    M = float(T[best])
    return MaxstatResult(
        cutoff=float(xs[m[best] - 1]),
        statistic=M,
        p_value=_p_lausen92(M, minprop, maxprop),
        cuts=xs[m - 1],
        stats=T,
        minprop=minprop,
        maxprop=maxprop,
    )


# --------------------------------------------------------------------------- time-dependent ROC
@renamed_parameter("t", "horizon")
@survival_outcome
def time_dependent_roc(y, score, horizon: float) -> pd.DataFrame:
    """Cumulative/dynamic ROC at time ``horizon`` (:math:`t`) by the Kaplan–Meier method.

    Cases are patients with :math:`T \\le t`, controls those with :math:`T > t`;
    with the test positive when ``score > c`` (Heagerty, Lumley & Pepe 2000):

    .. math::

        Se(c) = \\frac{\\{1 - \\hat S(t \\mid X > c)\\}\\, P(X > c)}{1 - \\hat S(t)}, \\qquad
        Sp(c) = \\frac{\\hat S(t \\mid X \\le c)\\, P(X \\le c)}{\\hat S(t)},

    :math:`\\hat S` Kaplan–Meier (within a subgroup whose follow-up stops
    before ``t``, its last value, as ``survfit`` with ``extend = TRUE``).
    Computed by :mod:`nomogram._time_dependent_roc` (``method="km"``), which
    also holds the IPCW estimator behind :func:`nomogram.metrics.time_dependent_auc`.

    Parameters
    ----------
    y : DataFrame [time, event], (n, 2) array or structured array
        Survival outcome.
    score : array-like of shape (n,)
    horizon : float
        The time :math:`t` (old name: ``t``).

    Returns
    -------
    pandas.DataFrame
        Columns ``cutoff, sensitivity, specificity, youden`` over the distinct scores.

    References
    ----------
    Heagerty PJ, Lumley T, Pepe MS (2000) Biometrics 56:337-344.
    """
    caller = "time_dependent_roc"
    idx = pandas_index(score)
    time, event = check_survival_y(y, caller=caller, index=idx, against="the scores")
    t = horizon
    score = check_scores(score, n=len(time), caller=caller, index=idx)
    S_all = float(km_survival_at(time, event, t)[0])
    if np.isnan(S_all):
        raise ValueError(f"{caller}: no follow-up reaches horizon={t}; largest time is {time.max():g}.")
    if S_all in (0.0, 1.0):
        raise ValueError(
            f"{caller}: Kaplan-Meier survival at horizon={t} is {S_all:g}; there are no "
            f"{'controls' if S_all == 0 else 'cases'} at that time. Choose another horizon."
        )
    cuts, se, sp = cumulative_dynamic_roc(time, event, score, t, method="km")
    return pd.DataFrame({"cutoff": cuts, "sensitivity": se, "specificity": sp, "youden": se + sp - 1})


# --------------------------------------------------------------------------- hazard ratio

@survival_outcome
def hazard_ratio_table(y, group, *, reference=None, conf_level: float = 0.95) -> pd.DataFrame:
    """Cox hazard ratio of each group against a reference group (Efron ties).

    :math:`HR = e^{\\hat\\beta}`, CI :math:`e^{\\hat\\beta \\pm z\\,se}`, Wald p,
    as ``summary(coxph(Surv(time, event) ~ group))``.

    Parameters
    ----------
    y : DataFrame [time, event], (n, 2) array or structured array
        Survival outcome.
    group : array-like of shape (n,)
    reference : label, optional
        Reference group; default the first in sorted order.
    conf_level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        Index: group; columns ``n, events, hr, hr_lower, hr_upper, p_value`` (the
        reference row has HR 1 and NaN limits). A group without events has no
        finite hazard ratio: its row (every row, if it is the reference) is NaN,
        with a :class:`~nomogram.exceptions.SeparationWarning` and the reason in
        ``attrs["note"]``.
    """
    caller = "hazard_ratio_table"
    time, event = check_survival_y(y, caller=caller)
    # a pandas group is matched to a pandas y by index label, never by position
    group = np.asarray(align_y(group, pandas_index(y), caller=caller, what="group", against="y"))
    if group.ndim != 1 or len(group) != len(time):
        raise ValueError(f"{caller}: group has {len(group)} values but y has {len(time)}.")
    missing = pd.isna(group)
    if missing.any():
        raise ValueError(f"{caller}: group has {int(missing.sum())} missing value(s) (first at row "
                         f"{int(np.flatnonzero(missing)[0])}); drop those patients or give them a group.")
    levels = list(pd.unique(np.sort(group)))
    if len(levels) < 2:
        raise ValueError(f"{caller}: group has a single level {[python_value(v) for v in levels]}; a hazard ratio "
                         "compares at least two groups.")
    if reference is None:
        reference = levels[0]
    check_option(reference, levels, name="reference", caller=caller)
    others = [lv for lv in levels if lv != reference]
    X = np.column_stack([(group == lv).astype(float) for lv in others])
    fit = fit_cox(X, time, event, ties="efron")
    se = np.sqrt(np.diag(fit.cov))
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    # a group without events has no finite hazard ratio (monotone likelihood): coxph's stopping
    # rule returns exp(+-20) with a CI of [0, inf]; report it as not estimable instead
    no_events = [lv for lv in levels if event[group == lv].sum() == 0]
    rows = [{"group": reference, "hr": 1.0, "hr_lower": np.nan, "hr_upper": np.nan, "p_value": np.nan}]
    for j, lv in enumerate(others):
        b = fit.coef[j]
        if lv in no_events or reference in no_events:
            rows.append({"group": lv, "hr": np.nan, "hr_lower": np.nan, "hr_upper": np.nan, "p_value": np.nan})
            continue
        rows.append(
            {
                "group": lv,
                "hr": float(np.exp(b)),
                "hr_lower": float(np.exp(b - z * se[j])),
                "hr_upper": float(np.exp(b + z * se[j])),
                "p_value": float(2 * stats.norm.sf(abs(b / se[j]))),
            }
        )
    if no_events:
        from .exceptions import SeparationWarning

        if reference in no_events:
            note = (f"the reference group {python_value(reference)!r} has no event, so the hazard ratio of every group "
                    "against it is not estimable (monotone likelihood) and is reported as NaN. Pass reference= a group "
                    "with events, merge groups, or compare the Kaplan-Meier curves and the log-rank test.")
        else:
            note = (f"group(s) {[python_value(v) for v in no_events]} have no event: their hazard ratio against "
                    f"{python_value(reference)!r} is not estimable (monotone likelihood) and is reported as NaN. Merge "
                    "groups, choose another cut-off, or compare the Kaplan-Meier curves and the log-rank test.")
        warnings.warn(f"hazard_ratio_table: {note}", SeparationWarning, stacklevel=3)
    out = pd.DataFrame(rows).set_index("group")
    out.insert(0, "events", [float(event[group == g].sum()) for g in out.index])
    out.insert(0, "n", [int((group == g).sum()) for g in out.index])
    out.attrs["note"] = note if no_events else ""
    out.attrs["coef"] = fit.coef
    out.attrs["se"] = se
    return out


# --------------------------------------------------------------------------- result
class RiskGroups:
    """Result of :func:`risk_groups`.

    Attributes
    ----------
    cutoff : float
        Patients with ``score > cutoff`` are high risk.
    method : str
        How the cut-off was chosen (``"median"``, ``"youden"``, ``"maxstat"``, ``"fixed"``).
    labels : tuple of str
        (low, high) group names.
    group : ndarray of shape (n,)
        Each patient's group label.
    km : dict of str to KaplanMeier
        Kaplan–Meier curve per group.
    logrank : LogRankResult
    hazard_ratio : pandas.DataFrame
        From :func:`hazard_ratio_table`, high against low.
    landmark_times : ndarray
    maxstat : MaxstatResult or None
        Present for ``cutoff="maxstat"``.
    roc : pandas.DataFrame or None
        Time-dependent ROC used for ``cutoff="youden"``.
    horizon : float or None
        Time of that ROC.
    time, event : ndarray of shape (n,)
        The observed times and event indicators.
    """

    t = renamed_attribute("t", "horizon")

    def __init__(self, *, time, event, score, cutoff, method, labels, landmark_times, conf_level,
                 maxstat=None, roc=None, horizon=None):
        self.time = time
        self.event = event
        self.score = score
        self.cutoff = float(cutoff)
        self.method = method
        self.labels = tuple(labels)
        self.horizon = horizon
        high = score > cutoff
        self.group = np.where(high, labels[1], labels[0])
        for lab, mask in zip(labels, (~high, high)):
            if not mask.any():
                raise ValueError(
                    f"risk_groups: the cut-off {cutoff:g} leaves the '{lab}' group empty "
                    f"(score range [{score.min():g}, {score.max():g}]); choose another cut-off."
                )
        self.conf_level = conf_level
        self.km: dict[str, KaplanMeier] = {
            lab: kaplan_meier((time[mask], event[mask]), conf_level=conf_level)
            for lab, mask in zip(labels, (~high, high))
        }
        self.logrank: LogRankResult = logrank_test((time, event), high.astype(int))
        self.hazard_ratio = hazard_ratio_table((time, event), self.group, reference=labels[0],
                                               conf_level=conf_level)
        self.hazard_ratio.index = pd.Index([labels[0], labels[1]], name="group")
        self.landmark_times = np.asarray(landmark_times, float)
        self.maxstat = maxstat
        self.roc = roc

    def __repr__(self) -> str:
        hr = self.hazard_ratio.iloc[1]
        return (
            f"RiskGroups(method={self.method!r}, cutoff={self.cutoff:.6g}, "
            f"n={dict(zip(self.labels, self.hazard_ratio['n']))}, HR={hr['hr']:.3g} "
            f"[{hr['hr_lower']:.3g}, {hr['hr_upper']:.3g}], log-rank p={self.logrank.p_value:.3g})"
        )

    def numbers_at_risk(self, times: Sequence[float]) -> pd.DataFrame:
        """Patients still at risk (follow-up ``>= t``) per group at each time.

        Returns
        -------
        pandas.DataFrame
            Index: group; columns: the times.
        """
        times = np.asarray(times, dtype=float)
        rows = {lab: self.km[lab].at(times)["n.risk"].astype(int).tolist() for lab in self.labels}
        return pd.DataFrame.from_dict(rows, orient="index", columns=times).rename_axis("group")

    def landmark_table(self, times: Sequence[float] | None = None) -> pd.DataFrame:
        """Kaplan–Meier survival with CI per group at landmark times.

        As ``summary(survfit(...), times = times)``: NaN after a group's last follow-up.

        Returns
        -------
        pandas.DataFrame
            Columns ``group, time, n_risk, survival, std_err, lower, upper``.
        """
        times = self.landmark_times if times is None else np.asarray(times, float)
        frames = []
        for lab in self.labels:
            d = self.km[lab].at(times)
            d.insert(0, "group", lab)
            frames.append(d)
        out = pd.concat(frames, ignore_index=True)
        return out.rename(columns={"n.risk": "n_risk", "surv": "survival", "std.err": "std_err"})

    def summary(self) -> pd.DataFrame:
        """One row per group: n, events, median survival with CI (``quantile.survfit``),
        HR (95 % CI), log-rank p, and survival (lower, upper) at each landmark time."""
        hr = self.hazard_ratio
        out = hr[["n", "events", "hr", "hr_lower", "hr_upper", "p_value"]].copy()
        med = [self.km[lab].quantile(0.5) for lab in self.labels]
        out.insert(2, "median_survival", [m[0] for m in med])
        out.insert(3, "median_lower", [m[1] for m in med])
        out.insert(4, "median_upper", [m[2] for m in med])
        out["logrank_chisq"] = self.logrank.chisq
        out["logrank_p"] = self.logrank.p_value
        lm = self.landmark_table()
        for t in self.landmark_times:
            sub = lm[lm["time"] == t].set_index("group")
            out[f"survival_{t:g}"] = sub["survival"]
            out[f"lower_{t:g}"] = sub["lower"]
            out[f"upper_{t:g}"] = sub["upper"]
        return out

    def plot(self, ax=None, **kwargs):
        """Draw the curves with :class:`nomogram.displays.KaplanMeierDisplay`; returns the display."""
        from .displays.kaplan_meier import KaplanMeierDisplay

        return KaplanMeierDisplay.from_result(self, ax=ax, **kwargs)


@renamed_parameter("t", "horizon")
@survival_outcome
def risk_groups(
    y,
    score,
    cutoff="median",
    *,
    horizon: float | None = None,
    landmarks: Sequence[float] | None = None,
    time_unit: str = "days",
    year: float | None = None,
    labels: tuple[str, str] = ("low", "high"),
    minprop: float = 0.1,
    maxprop: float = 0.9,
    conf_level: float = 0.95,
) -> RiskGroups:
    """Split patients into low and high risk at a cut-off of a prognostic score.

    Patients with ``score > cutoff`` are high risk. The cut-off is

    - ``"median"``: the median score;
    - ``"youden"``: the score maximizing :math:`Se(c) + Sp(c) - 1` of the
      cumulative/dynamic time-dependent ROC at ``horizon`` (Kaplan–Meier method,
      :func:`time_dependent_roc`); requires ``horizon``;
    - ``"maxstat"``: the maximally selected log-rank cut-point with the
      Lausen–Schumacher (1992) corrected p-value (:func:`maxstat_cutoff`);
    - a number: a fixed cut-off (e.g. one fitted on a training cohort, applied
      unchanged to a validation cohort).

    A cut-off fitted on the same data over-states the separation
    (optimism): report the corrected p-value for ``"maxstat"`` and validate a
    fitted cut-off on other data.

    Parameters
    ----------
    y : DataFrame [time, event], (n, 2) array or structured array
        Survival outcome: follow-up time (> 0) and event indicator (1 = event).
    score : array-like of shape (n,)
        Higher = higher risk (total points, linear predictor, predicted risk).
    cutoff : {"median", "youden", "maxstat"} or float, default "median"
    horizon : float, optional
        Time of the ROC for ``"youden"`` (old name: ``t``).
    landmarks : sequence of float, optional
        Times for landmark survival. Default 1, 2 and 3 years in ``time_unit``.
    time_unit : {"days", "weeks", "months", "years"}, default "days"
        Unit of the survival times (a year is 365.25 days, 365.25 / 7 weeks, 12 months).
    year : float, optional
        Deprecated: the length of a year in the unit of the times; pass ``time_unit``.
    labels : (str, str), default ("low", "high")
    minprop, maxprop : float
        Smallest and largest fraction of patients below the cut-point for ``"maxstat"``.
    conf_level : float, default 0.95

    Returns
    -------
    RiskGroups

    References
    ----------
    survival: ``survfit`` (log CI), ``survdiff``, ``coxph`` (Efron). maxstat:
    ``maxstat.test(pmethod = "Lau92")``. Heagerty PJ, Lumley T, Pepe MS (2000)
    Biometrics 56:337-344. Altman DG et al. (1994) J Natl Cancer Inst 86:829-835
    (dangers of optimal cut-points).

    Examples
    --------
    >>> rg = risk_groups(df[["time", "cens"]], points, cutoff="maxstat")  # doctest: +SKIP
    >>> rg.summary()  # doctest: +SKIP
    """
    caller = "risk_groups"
    idx = pandas_index(score)
    time, event = check_survival_y(y, caller=caller, index=idx, against="the scores")
    t = horizon
    score = check_scores(score, n=len(time), caller=caller, index=idx)
    if t is not None and cutoff != "youden":
        raise ValueError(f"{caller}: horizon= is the time of the ROC of cutoff='youden' and has no use with "
                         f"cutoff={cutoff!r}; leave it out (landmarks= sets the survival times reported).")
    if len(labels) != 2 or labels[0] == labels[1]:
        raise ValueError(f"{caller}: labels must be two different names; got {labels!r}.")
    maxstat = roc = None
    if isinstance(cutoff, str):
        method = check_option(cutoff, {"median", "youden", "maxstat"}, name="cutoff", caller=caller)
        if method == "median":
            value = float(np.median(score))
        elif method == "youden":
            if t is None:
                raise ValueError(
                    f"{caller}: cutoff='youden' needs horizon=<time> for the time-dependent ROC "
                    "(e.g. horizon=3 * 365.25 for 3 years when time is in days)."
                )
            roc = time_dependent_roc((time, event), score, t)
            value = float(roc["cutoff"].iloc[int(np.argmax(roc["youden"].to_numpy()))])
        else:
            maxstat = maxstat_cutoff((time, event), score, minprop=minprop, maxprop=maxprop)
            value = maxstat.cutoff
    elif isinstance(cutoff, (int, float, np.floating, np.integer)) and not isinstance(cutoff, bool):
        method = "fixed"
        value = float(cutoff)
        if not np.isfinite(value):
            raise ValueError(f"{caller}: a fixed cutoff must be finite; got {cutoff!r}.")
    else:
        raise TypeError(
            f"{caller}: cutoff must be 'median', 'youden', 'maxstat' or a number; got "
            f"{type(cutoff).__name__} {cutoff!r}."
        )
    units = {"days": 365.25, "weeks": 365.25 / 7, "months": 12.0, "years": 1.0}
    check_option(time_unit, units, name="time_unit", caller=caller)
    if year is not None:
        warn_deprecated(f"The 'year' parameter of {caller} was deprecated", "pass time_unit='days', 'weeks', 'months' or "
                        "'years' (or landmarks=[...] in the unit of the times)", stacklevel=3)
    else:
        year = units[time_unit]
    # survival past the last follow-up time is NaN (not estimated): say so, for the default years too
    landmarks = check_times((np.array([1.0, 2.0, 3.0]) * year) if landmarks is None else landmarks,
                            max_time=float(time.max()), caller=caller, name="landmarks")
    return RiskGroups(
        time=time,
        event=event,
        score=score,
        cutoff=value,
        method=method,
        labels=labels,
        landmark_times=landmarks,
        conf_level=conf_level,
        maxstat=maxstat,
        roc=roc,
        horizon=t,
    )
