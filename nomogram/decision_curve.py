"""Decision curve analysis: net benefit, interventions avoided, clinical impact.

Definitions follow the R package dcurves (Sjoberg, Vickers) for binary and
time-to-event outcomes and rmda (Brown) for the clinical impact curve. This
module computes; :class:`nomogram.displays.DecisionCurveDisplay` draws.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .checks import (
    check_random_state,
    check_binary_y,
    check_option,
    check_probabilities,
    check_survival_y,
    check_thresholds,
    pandas_index,
    renamed_attribute,
    renamed_parameter,
)
from ._survival import km_survival_at

__all__ = ["decision_curve", "DecisionCurveResult", "default_thresholds"]


def default_thresholds() -> np.ndarray:
    """Thresholds 0.01, 0.02, ..., 0.99 as the nearest doubles to those decimals.

    ``np.arange(0.01, 1.0, 0.01)`` accumulates rounding (its 6th value is
    0.060000000000000005), so a predicted risk of exactly 0.06 would fall
    below "0.06"; ``np.arange(1, 100) / 100`` equals R's ``(1:99) / 100``.
    """
    return np.arange(1, 100) / 100


def _as_models(predictions, n: int | None, index=None) -> dict[str, np.ndarray]:
    if isinstance(predictions, Mapping):
        models = dict(predictions)
    elif isinstance(predictions, pd.DataFrame):
        models = {str(c): predictions[c].to_numpy() for c in predictions.columns}
    else:
        models = {"model": predictions}
    if not models:
        raise ValueError("decision_curve needs at least one model: pass {'name': probabilities}.")
    for reserved in ("all", "none"):
        if reserved in models:
            raise ValueError(
                f"decision_curve: a model cannot be named '{reserved}'; that name is reserved "
                "for the treat-all / treat-none strategies. Rename it."
            )
    out = {}
    for name, p in models.items():
        arr = check_probabilities(p, name=str(name), caller="decision_curve", index=index).reshape(-1)
        if n is not None and len(arr) != n:
            raise ValueError(
                f"decision_curve: model '{name}' has {len(arr)} predictions but y has {n} patients."
            )
        out[str(name)] = arr
    return out


def _n_test_positive(risk: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Number of patients with risk >= pt at each threshold, a risk of exactly 0 never positive.

    dcurves moves risks of exactly 0 to ``-.Machine$double.eps`` (and 1 to
    ``1 + eps``), which only matters at a threshold of 0. O((n + T) log n).
    """
    r = np.sort(risk[risk != 0])
    return len(r) - np.searchsorted(r, thresholds, side="left")


def _binary_rates(y, risk, thresholds, prevalence):
    """(test_pos_rate, tp_rate, fp_rate) per threshold, dcurves' Bayes-rule form."""
    ev = y == 1
    test_pos = _n_test_positive(risk, thresholds) / len(risk)
    tp = _n_test_positive(risk[ev], thresholds) / ev.sum() * prevalence if ev.any() else np.zeros(len(thresholds))
    fp = (_n_test_positive(risk[~ev], thresholds) / (~ev).sum() * (1 - prevalence) if (~ev).any()
          else np.zeros(len(thresholds)))
    return test_pos, tp, fp


def _survival_rates(time, event, risk, thresholds, t):
    """(test_pos_rate, tp_rate, fp_rate) per threshold from Kaplan–Meier at ``t``.

    Test-positive sets are nested (``risk >= pt`` shrinks as ``pt`` grows): the
    patients enter by decreasing risk, a set is identified by its size, and the
    Kaplan–Meier estimates of all of them come from one pass
    (:func:`nomogram._nested_km.km_at_nested`).
    """
    from ._nested_km import km_at_nested

    size = _n_test_positive(risk, thresholds)
    test_pos = size / len(risk)
    sizes, where = np.unique(size, return_inverse=True)
    # NaN (dcurves' NA) when no test-positive patient is followed to t; nobody positive: risk 0
    S = km_at_nested(time, event, np.argsort(-risk, kind="stable"), sizes, t, extend=False)
    rr = np.where(sizes > 0, 1.0 - S, 0.0)[where]
    return test_pos, rr * test_pos, (1.0 - rr) * test_pos


def _curves(y_bin, time, event, models, thresholds, t, prevalence, harm):
    """All statistics for every model plus treat all / treat none, as arrays."""
    n = len(y_bin) if y_bin is not None else len(time)
    if time is None:
        pos_rate = float(np.mean(y_bin)) if prevalence is None else float(prevalence)
    else:
        s = float(km_survival_at(time, event, t)[0])
        if np.isnan(s):
            raise ValueError(
                f"decision_curve: no follow-up reaches horizon={t} (largest observed time is "
                f"{time.max():g}); choose an earlier horizon."
            )
        pos_rate = 1.0 - s if prevalence is None else float(prevalence)
    odds = thresholds / (1 - thresholds)
    rows = {}
    strategies = {"all": np.ones(n), "none": np.zeros(n), **models}
    for name, risk in strategies.items():
        if time is None:
            tpos, tp, fp = _binary_rates(y_bin, risk, thresholds, pos_rate)
        else:
            tpos, tp, fp = _survival_rates(time, event, risk, thresholds, t)
        h = float(harm.get(name, 0.0)) if harm else 0.0
        nb = tp - odds * fp - h
        rows[name] = {"test_pos_rate": tpos, "tp_rate": tp, "fp_rate": fp, "harm": h, "net_benefit": nb}
    nb_all = rows["all"]["net_benefit"]
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, r in rows.items():
            r["standardized_net_benefit"] = (
                r["net_benefit"] / pos_rate if r["harm"] == 0 else np.full(len(thresholds), np.nan)
            )
            r["net_intervention_avoided"] = (r["net_benefit"] - nb_all) / odds
    return pos_rate, rows


def _percentile_interval(d: np.ndarray, alpha: float):
    """Column-wise percentile interval of bootstrap draws, ignoring non-finite ones."""
    d = np.where(np.isfinite(d), d, np.nan)
    lo = np.full(d.shape[1], np.nan)
    hi = np.full(d.shape[1], np.nan)
    has_nan = np.isnan(d).any(axis=0)
    full = ~has_nan
    if full.any():
        q = np.quantile(d[:, full], [alpha, 1 - alpha], axis=0)
        lo[full], hi[full] = q[0], q[1]
    some = has_nan & ~np.isnan(d).all(axis=0)
    if some.any():
        q = np.nanquantile(d[:, some], [alpha, 1 - alpha], axis=0)
        lo[some], hi[some] = q[0], q[1]
    return lo, hi


_CI_STATS = ("net_benefit", "standardized_net_benefit", "net_intervention_avoided")


class DecisionCurveResult:
    """Decision curves for several models, with treat-all and treat-none.

    Attributes
    ----------
    thresholds : ndarray of shape (k,)
    labels : list of str
        Model names, then ``"all"`` and ``"none"`` are added in :meth:`summary`.
    n : int
    prevalence : float
        Outcome prevalence (binary) or :math:`1 - \\hat S_{KM}(t)` (survival).
    horizon : float or None
        Time horizon for a survival outcome.
    n_boot : int
        Bootstrap resamples of the confidence intervals (0: none).
    conf_level : float
    nper : int
        Interventions avoided are per ``nper`` patients.
    population_size : int
        Clinical impact counts are per ``population_size`` patients.
    """

    _LABELS = {"all": "Treat All", "none": "Treat None"}

    def __init__(self, *, thresholds, models, n, prevalence, horizon, rows, ci, n_boot,
                 conf_level, nper, population_size):
        self.thresholds = thresholds
        self.labels = list(models)
        self.n = n
        self.prevalence = prevalence
        self.horizon = horizon
        self._rows = rows
        self._ci = ci
        self.n_boot = n_boot
        self.conf_level = conf_level
        self.nper = nper
        self.population_size = population_size

    # old attribute names (deprecated)
    time = renamed_attribute("time", "horizon")
    n_bootstrap = renamed_attribute("n_bootstrap", "n_boot")
    confidence = renamed_attribute("confidence", "conf_level")

    def __repr__(self) -> str:
        kind = "binary" if self.horizon is None else f"survival at horizon {self.horizon:g}"
        return (
            f"DecisionCurveResult({kind}, n={self.n}, prevalence={self.prevalence:.4g}, "
            f"models={self.labels}, {len(self.thresholds)} thresholds)"
        )

    def net_benefit(self, model: str) -> np.ndarray:
        """Net benefit of one strategy (a model name, ``"all"`` or ``"none"``)."""
        check_option(model, list(self._rows), name="model", caller="DecisionCurveResult.net_benefit")
        return self._rows[model]["net_benefit"].copy()

    def summary(self) -> pd.DataFrame:
        """Long table, one row per strategy and threshold, columns named as dcurves.

        Columns: ``variable, label, n, threshold, pos_rate, test_pos_rate,
        tp_rate, fp_rate, harm, net_benefit, standardized_net_benefit,
        net_intervention_avoided, n_high_risk, n_high_risk_with_event`` and, with
        a bootstrap, ``<stat>_lower`` / ``<stat>_upper`` for net benefit,
        standardized net benefit and interventions avoided.
        ``net_intervention_avoided`` is per ``nper`` patients; the clinical
        impact counts are per ``population_size``.
        """
        frames = []
        k = len(self.thresholds)
        for name in [*self.labels, "all", "none"]:
            r = self._rows[name]
            df = pd.DataFrame(
                {
                    "variable": name,
                    "label": self._LABELS.get(name, name),
                    "n": self.n,
                    "threshold": self.thresholds,
                    "pos_rate": np.full(k, self.prevalence),
                    "test_pos_rate": r["test_pos_rate"],
                    "tp_rate": r["tp_rate"],
                    "fp_rate": r["fp_rate"],
                    "harm": r["harm"],
                    "net_benefit": r["net_benefit"],
                    "standardized_net_benefit": r["standardized_net_benefit"],
                    "net_intervention_avoided": r["net_intervention_avoided"] * self.nper,
                    "n_high_risk": r["test_pos_rate"] * self.population_size,
                    "n_high_risk_with_event": r["tp_rate"] * self.population_size,
                }
            )
            if self._ci is not None:
                for stat in _CI_STATS:
                    scale = self.nper if stat == "net_intervention_avoided" else 1
                    df[f"{stat}_lower"] = self._ci[name][stat][0] * scale
                    df[f"{stat}_upper"] = self._ci[name][stat][1] * scale
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    def clinical_impact(self, model: str | None = None) -> pd.DataFrame:
        """Clinical impact curve data (rmda ``plot_clinical_impact``).

        Number classified high risk, :math:`N \\cdot P(\\hat p \\ge p_t)`, and
        number high risk with the event, :math:`N \\cdot TP/n`, out of a
        population of ``population_size`` (default 1000), per threshold.

        Parameters
        ----------
        model : str, optional
            Default: the first model.
        """
        model = self.labels[0] if model is None else model
        check_option(model, self.labels, name="model", caller="DecisionCurveResult.clinical_impact")
        s = self.summary()
        s = s[s["variable"] == model]
        cols = ["threshold", "n_high_risk", "n_high_risk_with_event"]
        return s[cols].reset_index(drop=True)

    def plot(self, ax=None, *, statistic: str = "net_benefit", **kwargs):
        """Draw with :class:`nomogram.displays.DecisionCurveDisplay`; returns the display."""
        from .displays.decision_curve import DecisionCurveDisplay

        return DecisionCurveDisplay.from_result(self, statistic=statistic, ax=ax, **kwargs)


@renamed_parameter("time", "horizon")
@renamed_parameter("n_bootstrap", "n_boot")
@renamed_parameter("confidence", "conf_level")
def decision_curve(
    y,
    predictions,
    thresholds=None,
    *,
    horizon: float | None = None,
    prevalence: float | None = None,
    harm: Mapping[str, float] | None = None,
    n_boot: int = 0,
    conf_level: float = 0.95,
    random_state=None,
    nper: int = 100,
    population_size: int = 1000,
    event_level=None,
) -> DecisionCurveResult:
    """Net benefit of deciding by predicted risk, for one or several models.

    For a threshold probability :math:`p_t`, patients with predicted risk
    :math:`\\hat p \\ge p_t` are "test positive" (treated) and

    .. math::

        NB(p_t) = \\frac{TP}{n} - \\frac{FP}{n} \\frac{p_t}{1 - p_t} - \\text{harm}.

    Binary outcome (dcurves' Bayes-rule form, prevalence :math:`\\pi`):
    :math:`TP/n = P(\\hat p \\ge p_t \\mid Y=1)\\,\\pi` and
    :math:`FP/n = P(\\hat p \\ge p_t \\mid Y=0)(1-\\pi)`.

    Survival outcome at ``horizon`` :math:`t` (dcurves ``dca(Surv(...) ~ ., time = t)``):
    with :math:`q = P(\\hat p \\ge p_t)` and the Kaplan–Meier estimate among
    the test positives,
    :math:`TP/n = \\{1 - \\hat S_{KM}(t \\mid \\hat p \\ge p_t)\\}\\, q`,
    :math:`FP/n = \\hat S_{KM}(t \\mid \\hat p \\ge p_t)\\, q`,
    and :math:`\\pi = 1 - \\hat S_{KM}(t)`. If nobody is test positive the
    event risk is 0 (net benefit 0); if no test-positive patient is followed
    to :math:`t` the net benefit is NaN, as in dcurves.

    Treat all uses :math:`\\hat p \\equiv 1`, treat none :math:`\\hat p \\equiv 0`
    (never positive, even at :math:`p_t = 0`).

    Derived columns, as dcurves ``standardized_net_benefit()`` and
    ``net_intervention_avoided(nper = 100)``:
    :math:`sNB = NB / \\pi` and
    :math:`\\text{avoided} = (NB - NB_{all}) / \\{p_t/(1-p_t)\\} \\times nper`.

    Parameters
    ----------
    y : array-like of shape (n,) or survival outcome
        Binary outcome (0/1, bool or two-valued), or with ``horizon`` a survival
        outcome: DataFrame ``[time, event]``, an (n, 2) array or a
        scikit-survival structured array.
    predictions : dict of str to array-like, DataFrame, or array-like
        Predicted risks in [0, 1] per model (for survival: the risk of the
        event by ``horizon``). A bare array is named ``"model"``.
    thresholds : array-like, optional
        Threshold probabilities in [0, 1). Default :func:`default_thresholds`
        (0.01 to 0.99 by 0.01).
    horizon : float, optional
        Time horizon for a survival outcome (in the unit of the times);
        required when ``y`` is survival. (Old name: ``time``.)
    prevalence : float, optional
        Known population prevalence for case-control data (binary only).
    harm : dict of str to float, optional
        Harm of a test, subtracted from its net benefit.
    n_boot : int, default 0
        Number of bootstrap resamples (patients drawn with replacement) for
        percentile confidence intervals; 0 for none. (Old name: ``n_bootstrap``.)
    conf_level : float, default 0.95
        (Old name: ``confidence``.)
    random_state : int or numpy Generator, optional
    nper : int, default 100
        Interventions avoided are reported per ``nper`` patients.
    population_size : int, default 1000
        Clinical impact counts are per ``population_size`` patients.
    event_level : scalar, optional
        The value of a text outcome (or of the text event column of a survival
        outcome) that means the event; without it text must be ``'0'/'1'`` or
        ``'False'/'True'``.

    Returns
    -------
    DecisionCurveResult

    References
    ----------
    Vickers AJ, Elkin EB (2006) Med Decis Making 26:565-574. Vickers AJ, Cronin AM,
    Elkin EB, Gonen M (2008) BMC Med Inform Decis Mak 8:53 (survival outcomes).
    Kerr KF, Brown MD, Zhu K, Janes H (2016) J Clin Oncol 34:2534-2540 (standardized
    net benefit, rmda). Sjoberg DD, R package dcurves (``dca``,
    ``standardized_net_benefit``, ``net_intervention_avoided``). Brown M, R package
    rmda (``plot_clinical_impact``; rmda counts ``risk > pt`` strictly, dcurves
    and this function ``risk >= pt``).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1, 0, 1, 0, 0])
    >>> p = np.array([0.8, 0.3, 0.6, 0.1, 0.4])
    >>> res = decision_curve(y, {"model": p}, thresholds=[0.5])
    >>> float(res.net_benefit("model")[0])  # 2/5 - 0/5 * 1
    0.4
    """
    caller = "decision_curve"
    thresholds = default_thresholds() if thresholds is None else check_thresholds(thresholds, caller=caller)
    if not 0 < conf_level < 1:
        raise ValueError(f"The 'conf_level' parameter of {caller} must be in (0, 1). Got {conf_level!r} instead.")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"The 'n_boot' parameter of {caller} must be an integer >= 0. Got {n_boot!r} instead.")
    time, n_bootstrap, confidence = horizon, int(n_boot), conf_level

    # the outcome is matched to pandas predictions by index label (a dict of Series: the first's)
    index = pandas_index(*(predictions.values() if isinstance(predictions, Mapping) else [predictions]))
    if time is None:
        if isinstance(y, (pd.DataFrame, tuple)) or (
            isinstance(y, np.ndarray) and y.dtype.names is not None
        ):
            raise ValueError(
                f"{caller}: y looks like a survival outcome; pass horizon=<time> for a "
                "survival decision curve."
            )
        y_bin = check_binary_y(y, caller=caller, index=index, against="the predictions", event_level=event_level)
        t_arr = e_arr = None
        n = len(y_bin)
    else:
        if prevalence is not None:
            raise ValueError(f"{caller}: prevalence= applies to binary (case-control) outcomes only.")
        if isinstance(y, pd.Series) or (not isinstance(y, (pd.DataFrame, tuple)) and np.ndim(y) == 1
                                         and getattr(np.asarray(y).dtype, "names", None) is None):
            raise ValueError(f"{caller}: horizon= is given, so y must be a survival outcome ([time, event]); got a "
                             "one-column outcome. For a binary outcome leave horizon out.")
        t_arr, e_arr = check_survival_y(y, caller=caller, index=index, against="the predictions",
                                        event_level=event_level)
        y_bin = None
        n = len(t_arr)
        if not np.isfinite(time) or time <= 0:
            raise ValueError(f"{caller}: horizon must be a positive number; got {time!r}.")
    if prevalence is not None and not 0 < prevalence < 1:
        raise ValueError(f"{caller}: prevalence must be in (0, 1); got {prevalence}.")
    models = _as_models(predictions, n, index)
    if harm:
        unknown = set(harm) - set(models) - {"all", "none"}
        if unknown:
            raise ValueError(
                f"{caller}: harm given for unknown model(s) {sorted(unknown)}; models are "
                f"{list(models)}."
            )

    pos_rate, rows = _curves(y_bin, t_arr, e_arr, models, thresholds, time, prevalence, harm)

    ci = None
    if n_bootstrap:
        rng = check_random_state(random_state)
        draws = {name: {s: np.empty((n_bootstrap, len(thresholds))) for s in _CI_STATS} for name in rows}
        for b in range(n_bootstrap):
            idx = rng.integers(0, n, n)
            bm = {k: v[idx] for k, v in models.items()}
            if time is None:
                yb = y_bin[idx]
                if prevalence is None and (yb.min() == yb.max()):
                    for name in rows:
                        for s in _CI_STATS:
                            draws[name][s][b] = np.nan
                    continue
                _, rb = _curves(yb, None, None, bm, thresholds, None, prevalence, harm)
            else:
                try:
                    _, rb = _curves(None, t_arr[idx], e_arr[idx], bm, thresholds, time, None, harm)
                except ValueError:
                    for name in rows:
                        for s in _CI_STATS:
                            draws[name][s][b] = np.nan
                    continue
            for name in rows:
                for s in _CI_STATS:
                    draws[name][s][b] = rb[name][s]
        alpha = (1 - confidence) / 2
        ci = {}
        for name in rows:
            ci[name] = {}
            for s in _CI_STATS:
                ci[name][s] = _percentile_interval(draws[name][s], alpha)

    return DecisionCurveResult(
        thresholds=thresholds,
        models=models,
        n=n,
        prevalence=pos_rate,
        horizon=time,
        rows=rows,
        ci=ci,
        n_boot=n_bootstrap,
        conf_level=confidence,
        nper=nper,
        population_size=population_size,
    )
