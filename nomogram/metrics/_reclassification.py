"""Reclassification: net reclassification improvement (NRI) and integrated discrimination improvement (IDI)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import (
    check_random_state,
    check_binary_y,
    check_probabilities,
    check_survival_y,
    pandas_index,
    renamed_attribute,
    renamed_parameter,
)
from ._roc import _check_conf_level, _check_n_boot

__all__ = [
    "ReclassificationResult",
    "reclassification",
    "SurvivalNriResult",
    "survival_nri",
    "SurvivalIdiResult",
    "survival_idi",
]


def _categories(p, cutoffs):
    """Category codes 0..k: [0, c1), [c1, c2), ..., [ck, 1] (R ``findInterval``)."""
    return np.searchsorted(np.asarray(cutoffs, float), p, side="right")


def _check_cutoffs(cutoffs, caller):
    c = np.atleast_1d(np.asarray(cutoffs, dtype=float))
    if c.ndim != 1 or len(c) == 0 or not np.all(np.diff(c) > 0) or (c <= 0).any() or (c >= 1).any():
        raise ValueError(
            f"{caller}: cutoffs must be increasing risks strictly between 0 and 1, e.g. "
            f"[0.1, 0.2]; got {np.asarray(cutoffs).tolist()}."
        )
    return c


def _nri_rows(up, down, yy):
    """Pencina 2008 NRI with the variance used by Hmisc::improveProb."""
    a, b = yy == 1, yy == 0
    na, nb = a.sum(), b.sum()
    nup_ev, ndown_ev = up[a].sum(), down[a].sum()
    nup_ne, ndown_ne = up[b].sum(), down[b].sum()
    nri_ev = (nup_ev - ndown_ev) / na
    v_ev = (nup_ev + ndown_ev) / na**2 - (nup_ev - ndown_ev) ** 2 / na**3
    nri_ne = (ndown_ne - nup_ne) / nb
    v_ne = (ndown_ne + nup_ne) / nb**2 - (ndown_ne - nup_ne) ** 2 / nb**3
    return {
        "nri": (nri_ev + nri_ne, np.sqrt(v_ev + v_ne)),
        "nri_events": (nri_ev, np.sqrt(v_ev)),
        "nri_nonevents": (nri_ne, np.sqrt(v_ne)),
        "proportions": {"up_events": float(nup_ev / na), "down_events": float(ndown_ev / na),
                        "up_nonevents": float(nup_ne / nb), "down_nonevents": float(ndown_ne / nb)},
    }


@dataclass
class ReclassificationResult:
    """NRI and IDI of a new model over an old one (binary outcome).

    Attributes
    ----------
    table : pandas.DataFrame
        Rows among "NRI (categorical)", "NRI events (categorical)",
        "NRI non-events (categorical)", "NRI (continuous)", "NRI events
        (continuous)", "NRI non-events (continuous)", "IDI"; columns
        estimate, se, lower, upper, z, p_value.
    reclassification_events, reclassification_nonevents : DataFrame or None
        Old category (rows) x new category (columns) counts, when cutoffs are given.
    proportions : dict
        Proportions moving up/down among events and non-events (continuous and categorical).
    cutoffs : ndarray or None
    conf_level : float
    """

    table: pd.DataFrame
    reclassification_events: pd.DataFrame | None
    reclassification_nonevents: pd.DataFrame | None
    proportions: dict
    cutoffs: np.ndarray | None
    conf_level: float

    def summary(self) -> pd.DataFrame:
        """The table of NRI/IDI estimates with se, CI, z and p (a copy)."""
        return self.table.copy()


def _row(est, se, z_crit):
    z = est / se if se > 0 else np.nan
    p = 2 * stats.norm.cdf(-abs(z)) if np.isfinite(z) else np.nan
    return [est, se, est - z_crit * se, est + z_crit * se, z, p]


def reclassification(y, risk_old, risk_new, cutoffs=None, *, conf_level=0.95) -> ReclassificationResult:
    """Categorical and continuous NRI and the IDI, with asymptotic standard errors.

    Moving "up" means a higher risk category (categorical NRI, categories
    ``[0, c1), [c1, c2), ..., [ck, 1]``) or a higher predicted risk
    (continuous, "category-free" NRI) under the new model.

    .. math::

        NRI = [P(up|D) - P(down|D)] + [P(down|\\bar D) - P(up|\\bar D)]

    with variance (Pencina et al. 2008, as in ``Hmisc::improveProb``)
    :math:`(n_{up,D} + n_{down,D})/n_D^2 - (n_{up,D} - n_{down,D})^2/n_D^3`
    plus the same for non-events. The IDI is

    .. math::

        IDI = (\\bar p_{new,D} - \\bar p_{old,D}) - (\\bar p_{new,\\bar D} - \\bar p_{old,\\bar D})

    with :math:`se^2 = \\mathrm{var}(d_D)/n_D + \\mathrm{var}(d_{\\bar D})/n_{\\bar D}`,
    :math:`d = p_{new} - p_{old}`. CIs are estimate :math:`\\pm z\\,se`;
    p-values two-sided normal.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary outcome.
    risk_old, risk_new : array-like of shape (n,)
        Predicted probabilities of the event from the old and new model.
    cutoffs : sequence of float, optional
        Risk category boundaries for the categorical NRI (e.g. [0.1, 0.2]).
    conf_level : float, default 0.95

    Returns
    -------
    ReclassificationResult

    References
    ----------
    Pencina MJ, D'Agostino RB Sr, D'Agostino RB Jr, Vasan RS. Evaluating the
    added predictive ability of a new marker. Stat Med 2008;27:157-72.
    Pencina MJ, D'Agostino RB Sr, Steyerberg EW. Extensions of net
    reclassification improvement calculations. Stat Med 2011;30:11-21.
    R: ``Hmisc::improveProb(x1, x2, y)``.
    """
    caller = "reclassification"
    conf_level = _check_conf_level(conf_level, caller)
    idx = pandas_index(risk_old, risk_new)
    yy = check_binary_y(y, caller=caller, index=idx, against="the scores")
    p0 = check_probabilities(risk_old, name="risk_old", caller=caller, index=idx)
    p1 = check_probabilities(risk_new, name="risk_new", caller=caller, index=idx)
    for name, p in (("risk_old", p0), ("risk_new", p1)):
        if len(p) != len(yy):
            raise ValueError(f"{caller}: '{name}' has {len(p)} values but y has {len(yy)}.")
    zc = stats.norm.ppf(1 - (1 - conf_level) / 2)
    rows, props = {}, {}
    ev_tab = ne_tab = None
    if cutoffs is not None:
        c = _check_cutoffs(cutoffs, caller)
        k0, k1 = _categories(p0, c), _categories(p1, c)
        r = _nri_rows(k1 > k0, k1 < k0, yy)
        rows["NRI (categorical)"] = _row(*r["nri"], zc)
        rows["NRI events (categorical)"] = _row(*r["nri_events"], zc)
        rows["NRI non-events (categorical)"] = _row(*r["nri_nonevents"], zc)
        props["categorical"] = r["proportions"]
        edges = np.concatenate([[0.0], c, [1.0]])
        labels = [f"[{edges[i]:g}, {edges[i + 1]:g}{']' if i == len(c) else ')'}" for i in range(len(c) + 1)]
        cat = pd.CategoricalDtype(range(len(labels)))

        def tab(mask):
            t = pd.crosstab(pd.Series(k0[mask], dtype=cat), pd.Series(k1[mask], dtype=cat), dropna=False)
            t.index = pd.Index(labels, name="old")
            t.columns = pd.Index(labels, name="new")
            return t

        ev_tab, ne_tab = tab(yy == 1), tab(yy == 0)
    d = p1 - p0
    r = _nri_rows(d > 0, d < 0, yy)
    rows["NRI (continuous)"] = _row(*r["nri"], zc)
    rows["NRI events (continuous)"] = _row(*r["nri_events"], zc)
    rows["NRI non-events (continuous)"] = _row(*r["nri_nonevents"], zc)
    props["continuous"] = r["proportions"]
    a, b = yy == 1, yy == 0
    idi = d[a].mean() - d[b].mean()
    se_idi = np.sqrt(d[a].var(ddof=1) / a.sum() + d[b].var(ddof=1) / b.sum())
    rows["IDI"] = _row(idi, se_idi, zc)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "se", "lower", "upper", "z", "p_value"])
    return ReclassificationResult(table, ev_tab, ne_tab, props,
                                  None if cutoffs is None else np.asarray(cutoffs, float), conf_level)


def _check_survival_risks(y, risk_old, risk_new, t, caller):
    """Validate the inputs of the survival NRI/IDI; return ``(time, event, p0, p1, t)``.

    ``risk_old``/``risk_new`` must be probabilities with one value per row of
    ``y``, and ``t`` must lie within follow-up ``[min(time), max(time))``.
    """
    idx = pandas_index(risk_old, risk_new)
    time, event = check_survival_y(y, caller=caller, index=idx, against="the scores")
    p0 = check_probabilities(risk_old, name="risk_old", caller=caller, index=idx)
    p1 = check_probabilities(risk_new, name="risk_new", caller=caller, index=idx)
    for name, p in (("risk_old", p0), ("risk_new", p1)):
        if len(p) != len(time):
            raise ValueError(f"{caller}: '{name}' has {len(p)} values but y has {len(time)} rows.")
    t = float(t)
    if not (time.min() <= t < time.max()):
        raise ValueError(f"{caller}: horizon={t} must lie within follow-up [{time.min()}, {time.max()}).")
    return time, event, p0, p1, t


def _bootstrap_patients(statistic, n, n_boot, conf_level, random_state, caller):
    """Percentile bootstrap over patients of a statistic of 3 values.

    Resample ``b`` draws ``n`` rows with replacement from ``0..n-1``
    (``rng.integers(0, n, n)``, one call per resample). ``statistic(D)``
    computes the 3 values of each resample from the rows drawn, ``D`` of
    shape (b, n), about 2 million rows at a time (memory O(n), whatever
    ``n_boot``). Returns ``(boots, se, lower, upper, n_boot)``: the
    ``(n_boot, 3)`` replicates, their SD (ddof=1) and ``conf_level``
    percentile interval (NaN replicates ignored), and the number of
    resamples; with ``n_boot`` 0 or None, ``(None, nan, nan, nan, 0)``.
    """
    nan = np.full(3, np.nan)
    if not n_boot:
        return None, nan, nan, nan, 0
    n_boot = _check_n_boot(n_boot, caller)
    rng = check_random_state(random_state)
    boots = np.empty((n_boot, 3))
    chunk = max(1, 2_000_000 // max(n, 1))
    D = np.empty((min(chunk, n_boot), n), dtype=np.int64)
    for a in range(0, n_boot, chunk):
        b = min(n_boot, a + chunk)
        for j in range(b - a):
            D[j] = rng.integers(0, n, n)
        boots[a:b] = statistic(D[:b - a])
    a = (1 - conf_level) / 2
    lo, hi = np.nanquantile(boots, a, axis=0), np.nanquantile(boots, 1 - a, axis=0)
    se = np.nanstd(boots, axis=0, ddof=1)
    return boots, se, lo, hi, n_boot


def _time_bins(time, t):
    """Each patient's bin: the index of its time among the distinct times ``<= t``, or ``m`` if later.

    Returns ``(bins, m)``. A Kaplan–Meier estimate at ``t`` (or a censoring
    survival at any time ``<= t``) needs no more than the patients (or their
    weights) in each bin: the number at risk at the ``j``-th time is the
    count in bins ``j..m``.
    """
    ut = np.unique(time[time <= t])
    return np.searchsorted(ut, time), len(ut)


def _bin_counts(code, K, D, values=None):
    """Per resample (row of ``D``), the number of drawn rows with each ``code`` (0..K-1): (b, K).

    With ``values``, also the sums of ``values`` over those rows, (b, K).
    One gather and one ``bincount`` over the b x n drawn rows: O(b n), no sort.
    """
    b = D.shape[0]
    flat = (code[D] + K * np.arange(b)[:, None]).ravel()
    counts = np.bincount(flat, minlength=b * K).reshape(b, K).astype(float)
    if values is None:
        return counts
    return counts, np.bincount(flat, weights=values[D].ravel(), minlength=b * K).reshape(b, K)


def _km_at_end(total, dead):
    """Kaplan–Meier at the last of ``m`` times from counts per bin (..., m + 1) and deaths (..., m).

    ``total[..., j]``: patients whose time is the ``j``-th (``m``: later);
    factors :math:`1 - d_j / n_j` multiplied in time order, as
    :func:`nomogram._survival.km_steps` does (1 for an empty set).
    """
    n_risk = np.cumsum(total[..., ::-1], axis=-1)[..., ::-1][..., :-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(dead > 0, 1.0 - dead / n_risk, 1.0)
    return np.cumprod(f, axis=-1)[..., -1] if f.shape[-1] else np.ones(f.shape[:-1])


def _km_nri_statistic(time, event, up, down, t):
    """KM NRI (overall, events, non-events) of each resample ``D`` (b, n) of drawn rows: a function -> (b, 3).

    Kaplan-Meier S(t) with the last value carried beyond follow-up (1 for no
    patients; ``extend=True`` of :mod:`nomogram._survival`): a bootstrap "up"
    or "down" group may have no follow-up reaching ``t``. Each patient gets
    one code (group, time bin, event); a resample's three Kaplan–Meier
    estimates come from the counts of the codes drawn, O(n) per resample.
    """
    bins, m = _time_bins(time, t)
    group = up.astype(np.int64) + 2 * down.astype(np.int64)        # 0 neither, 1 up, 2 down
    code = (group * (m + 1) + bins) * 2 + (event > 0)
    K = 3 * (m + 1) * 2

    def statistic(D):
        h = _bin_counts(code, K, D).reshape(len(D), 3, m + 1, 2)
        total, dead = h.sum(axis=-1), h[:, :, :m, 1]
        s_up, s_down = _km_at_end(total[:, 1], dead[:, 1]), _km_at_end(total[:, 2], dead[:, 2])
        s_all = _km_at_end(total.sum(axis=1), dead.sum(axis=1))
        N = total.sum(axis=(1, 2))
        p_up, p_down = total[:, 1].sum(axis=-1) / N, total[:, 2].sum(axis=-1) / N
        ev = ((1 - s_up) * p_up - (1 - s_down) * p_down) / (1 - s_all)
        ne = (s_down * p_down - s_up * p_up) / s_all
        return np.stack([ev + ne, ev, ne], axis=1)

    return statistic


@dataclass
class SurvivalNriResult:
    """Kaplan-Meier based NRI at time ``horizon``.

    Attributes
    ----------
    horizon : float
    kind : {"categorical", "continuous"}
    table : pandas.DataFrame
        Rows "NRI", "NRI events", "NRI non-events"; columns estimate, se,
        lower, upper (bootstrap SD and percentile interval).
    cutoffs : ndarray or None
    n_boot : int
    conf_level : float
    """

    horizon: float
    kind: str
    table: pd.DataFrame
    cutoffs: np.ndarray | None
    n_boot: int
    conf_level: float
    boot: np.ndarray | None = field(default=None, repr=False)

    t = renamed_attribute("t", "horizon")

    def summary(self) -> pd.DataFrame:
        """The table of NRI estimates (a copy)."""
        return self.table.copy()


@renamed_parameter("t", "horizon")
def survival_nri(
    y,
    risk_old,
    risk_new,
    horizon,
    cutoffs=None,
    *,
    conf_level=0.95,
    n_boot=1000,
    random_state=None,
) -> SurvivalNriResult:
    """NRI at time ``horizon`` (:math:`t`) for a censored outcome, by Kaplan-Meier (Pencina et al. 2011).

    With "up"/"down" the patients whose risk by ``t`` moves up/down (between
    categories if ``cutoffs`` are given, else any change), :math:`\\hat S`
    Kaplan-Meier estimates at ``t`` in all patients, in "up" and in "down",
    and :math:`\\hat P` proportions of patients:

    .. math::

        NRI_e = \\frac{(1 - \\hat S_{up}) \\hat P_{up} - (1 - \\hat S_{down}) \\hat P_{down}}{1 - \\hat S},\\qquad
        NRI_{ne} = \\frac{\\hat S_{down} \\hat P_{down} - \\hat S_{up} \\hat P_{up}}{\\hat S},

    :math:`NRI = NRI_e + NRI_{ne}` (Bayes' rule for P(up | event by t),
    etc.). Confidence intervals: percentile bootstrap over patients (each
    resample's Kaplan-Meier estimates from the counts of the patients drawn
    per group, time and status: O(n) per resample, no sort). This is
    the Kaplan-Meier NRI of Pencina, D'Agostino & Steyerberg (2011) and
    Steyerberg & Pencina (2010), not the IPW estimators of Uno et al.
    (``survIDINRI``), and no survival IDI is computed.

    Parameters
    ----------
    y : DataFrame [time, event], (n, 2) array or structured array
    risk_old, risk_new : array-like of shape (n,)
        Predicted risks of the event by ``horizon`` (1 - S(horizon | x)).
    horizon : float
        The time :math:`t`, within follow-up (old name: ``t``).
    cutoffs : sequence of float, optional
        Risk categories; None gives the continuous (category-free) NRI.
    conf_level : float, default 0.95
    n_boot : int, default 1000 (0: no interval)
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    SurvivalNriResult

    References
    ----------
    Pencina MJ, D'Agostino RB Sr, Steyerberg EW. Extensions of net
    reclassification improvement calculations to measure usefulness of new
    biomarkers. Stat Med 2011;30:11-21. Steyerberg EW, Pencina MJ.
    Reclassification calculations for persons with incomplete follow-up.
    Ann Intern Med 2010;152:195-6.
    """
    caller = "survival_nri"
    conf_level = _check_conf_level(conf_level, caller)
    time, event, p0, p1, t = _check_survival_risks(y, risk_old, risk_new, horizon, caller)
    if cutoffs is not None:
        c = _check_cutoffs(cutoffs, caller)
        k0, k1 = _categories(p0, c), _categories(p1, c)
        up, down, kind = k1 > k0, k1 < k0, "categorical"
    else:
        up, down, kind, c = p1 > p0, p1 < p0, "continuous", None
    statistic = _km_nri_statistic(time, event, up, down, t)
    est = statistic(np.arange(len(time))[None])[0]
    boots, se, lo, hi, n_boot = _bootstrap_patients(statistic, len(time), n_boot, conf_level,
                                                    random_state, caller)
    table = pd.DataFrame({"estimate": est, "se": se, "lower": lo, "upper": hi},
                         index=["NRI", "NRI events", "NRI non-events"])
    return SurvivalNriResult(t, kind, table, c, n_boot, conf_level, boots)


def _ipcw_idi_statistic(time, event, p0, p1, t):
    """IPCW IDI (overall, events, non-events) of each resample ``D`` (b, n) of drawn rows: a function -> (b, 3).

    The censoring survival :math:`\\hat G` of a resample (deaths leaving
    first at tied times, :func:`nomogram._survival.censoring_survival`) at
    each distinct time up to ``t`` comes from the counts of patients and of
    deaths drawn in each time bin, and the events' weighted sum from the sums
    of ``d = p1 - p0`` over the events drawn in each bin: O(n) per resample.
    NaN for a resample without an event by ``t`` or without a patient after it.
    """
    bins, m = _time_bins(time, t)
    code = bins * 2 + (event > 0)                 # codes 2j + 1 (j < m): the events by t
    K = 2 * (m + 1)
    d = p1 - p0
    value = np.where((time > t) | (event > 0), d, 0.0)

    def statistic(D):
        h, v = _bin_counts(code, K, D, value)
        h, v = h.reshape(len(D), m + 1, 2), v.reshape(len(D), m + 1, 2)
        total, dead = h.sum(axis=-1), h[:, :m, 1]
        at_risk = np.cumsum(total[:, ::-1], axis=-1)[:, ::-1][:, :m] - dead
        censored = total[:, :m] - dead
        with np.errstate(divide="ignore", invalid="ignore"):
            G = np.cumprod(np.where(censored > 0, 1.0 - censored / at_risk, 1.0), axis=-1)
            w = np.where(dead > 0, dead / G, 0.0).sum(axis=-1)
            ev = np.where(dead > 0, v[:, :m, 1] / G, 0.0).sum(axis=-1) / w
            n_ctrl = total[:, m]
            ne = v[:, m].sum(axis=-1) / n_ctrl
        out = np.stack([ev - ne, ev, -ne], axis=1)
        out[(w == 0) | (n_ctrl == 0)] = np.nan
        return out

    return statistic


@dataclass
class SurvivalIdiResult:
    """IPCW integrated discrimination improvement at time ``horizon``.

    Attributes
    ----------
    horizon : float
    table : pandas.DataFrame
        Rows "IDI", "mean risk change, events", "mean risk decrease, non-events";
        columns estimate, se, lower, upper, z, p_value (bootstrap se and
        percentile interval; z = estimate / se).
    n_boot : int
    conf_level : float
    """

    horizon: float
    table: pd.DataFrame
    n_boot: int
    conf_level: float
    boot: np.ndarray | None = field(default=None, repr=False)

    t = renamed_attribute("t", "horizon")

    def summary(self) -> pd.DataFrame:
        """The table of IDI estimates (a copy)."""
        return self.table.copy()


@renamed_parameter("t", "horizon")
def survival_idi(
    y,
    risk_old,
    risk_new,
    horizon,
    *,
    conf_level=0.95,
    n_boot=1000,
    random_state=None,
) -> SurvivalIdiResult:
    """Integrated discrimination improvement at time ``horizon`` (:math:`t`) for a censored outcome (IPCW).

    Events by ``t`` (:math:`T_i \\le t, \\delta_i = 1`) are weighted by
    :math:`1/\\hat G(T_i)` (Kaplan-Meier of censoring, as in
    :func:`time_dependent_auc`); patients event-free after ``t`` all carry
    the same weight :math:`1/\\hat G(t)`, which cancels. With
    :math:`d = r_{new} - r_{old}`:

    .. math::

        IDI(t) = \\frac{\\sum_i w_i d_i I(T_i \\le t, \\delta_i = 1)}
        {\\sum_i w_i I(T_i \\le t, \\delta_i = 1)}
        - \\frac{\\sum_j d_j I(T_j > t)}{\\sum_j I(T_j > t)} .

    Without censoring before ``t`` this is the binary IDI of
    :func:`reclassification` with outcome :math:`I(T \\le t)` (tested).
    It uses inverse probability of censoring weights in the spirit of Uno et
    al. (2013, R ``survIDINRI``), but has not been checked against
    ``survIDINRI`` (not installable here). Intervals are percentile bootstrap
    over patients (G re-estimated in each resample, from the counts of the
    patients drawn per time and status: O(n) per resample).

    Parameters
    ----------
    y : DataFrame [time, event], (n, 2) array or structured array
    risk_old, risk_new : array-like of shape (n,)
        Predicted risks of the event by ``horizon``.
    horizon : float
        The time :math:`t`, within follow-up (old name: ``t``).
    conf_level : float, default 0.95
    n_boot : int, default 1000 (0: no interval)
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    SurvivalIdiResult

    References
    ----------
    Pencina MJ, D'Agostino RB Sr, D'Agostino RB Jr, Vasan RS. Stat Med
    2008;27:157-72. Uno H, Tian L, Cai T, Kohane IS, Wei LJ. A unified
    inference procedure for a class of measures to assess improvement in risk
    prediction systems with survival data. Stat Med 2013;32:2430-42.
    """
    caller = "survival_idi"
    conf_level = _check_conf_level(conf_level, caller)
    time, event, p0, p1, t = _check_survival_risks(y, risk_old, risk_new, horizon, caller)
    if not ((time <= t) & (event == 1)).any():
        raise ValueError(f"{caller}: no event by horizon={t}; choose a later horizon.")
    statistic = _ipcw_idi_statistic(time, event, p0, p1, t)
    est = statistic(np.arange(len(time))[None])[0]
    boots, se, lo, hi, n_boot = _bootstrap_patients(statistic, len(time), n_boot, conf_level,
                                                    random_state, caller)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / se
    p = 2 * stats.norm.cdf(-np.abs(z))
    table = pd.DataFrame({"estimate": est, "se": se, "lower": lo, "upper": hi, "z": z, "p_value": p},
                         index=["IDI", "mean risk change, events", "mean risk decrease, non-events"])
    return SurvivalIdiResult(t, table, n_boot, conf_level, boots)
