"""Partial-effect curves: the predicted outcome over one predictor's range (rms ``Predict``).

:func:`partial_effects` varies one predictor (or two, jointly) over a grid and
holds every other predictor at its adjust-to value, and returns the log odds or
log relative hazard (or the risk, survival or hazard ratio) with pointwise
confidence limits: the curves rms draws with ``ggplot(Predict(fit))``, which
show the shape a spline gives a predictor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from .checks import check_is_fitted, check_option
from ._settings import adjust_values, check_predictor, check_value, require_limits, settings_frame
from .metrics._roc import _check_conf_level

__all__ = ["partial_effects", "PartialEffects"]

CALLER = "partial_effects"

_SCALES = {
    True: {"lp": "log odds", "risk": "Risk"},  # logistic
    False: {"lp": "log Relative Hazard", "hazard_ratio": "Hazard Ratio", "survival": "Survival Probability",
            "risk": "Risk"},  # Cox
}


@dataclass
class PartialEffects:
    """Result of :func:`partial_effects`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per setting, as rms ``Predict``: ``predictor`` (the predictor varied
        on that row), one column per model predictor (its value), ``yhat``,
        ``lower``, ``upper``.
    predictors : list of str
        The predictors varied, one curve (panel) each.
    overlay : str or None
        The predictor varied jointly with each, one line per value.
    scale : str
    ylabel : str
    adjust_to : dict
        The values at which the other predictors are held.
    conf_level : float
    horizon : float or None
        The time of the survival or risk scale.
    categorical : dict of {str: bool}
        Whether each predictor is categorical (drawn as points, not a curve).
    """

    table: pd.DataFrame
    predictors: list
    overlay: str | None
    scale: str
    ylabel: str
    adjust_to: dict
    conf_level: float
    horizon: float | None = None
    ref_zero: bool = False
    categorical: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def curve(self, predictor: str) -> pd.DataFrame:
        """Rows of one predictor's curve: its value (and ``overlay``), ``yhat``, ``lower``, ``upper``."""
        if predictor not in self.predictors:
            raise ValueError(f"'{predictor}' is not among the predictors of this result: {self.predictors}.")
        t = self.table[self.table["predictor"] == predictor]
        cols = [predictor] + ([self.overlay] if self.overlay else []) + ["yhat", "lower", "upper"]
        return t[cols].reset_index(drop=True)

    def plot(self, ax=None, **kwargs):
        """One panel per predictor; see :class:`nomogram.displays.PartialEffectDisplay`."""
        from .displays.partial_effect import PartialEffectDisplay

        return PartialEffectDisplay.from_result(self, ax=ax, **kwargs)


def _grid(term, values, n_points):
    """rms ``value.chk``: levels; the distinct values (at most 10); or n_points between the prediction limits."""
    if values is not None:
        return values
    if term.kind == "categorical":
        return list(term.levels)
    if term.values is not None:
        return list(term.values)
    lo, hi = require_limits(term, "prediction_limits", CALLER)
    return list(np.linspace(lo, hi, n_points))


def partial_effects(model, predictors=None, *, overlay: str | None = None, values: dict | None = None,
                    adjust_to: dict | None = None, scale: str = "lp", horizon: float | None = None,
                    ref_zero: bool = False, n_points: int = 200, conf_level: float = 0.95) -> PartialEffects:
    """Predicted log odds / log hazard (or risk) over each predictor's range, others adjusted.

    For each predictor in turn, rows are built in which that predictor takes
    the values of a grid and every other predictor its adjust-to value (median,
    most frequent level; see :func:`nomogram.effects`). On the linear-predictor
    scale the estimate and its standard error are

    .. math::

        \\hat\\eta = x^\\top\\hat\\beta, \\qquad se = \\sqrt{x^\\top V x},

    with :math:`x` the design row (with the intercept for a logistic model; for
    a Cox model centred on the column means, so :math:`\\hat\\eta` is the log
    hazard relative to the mean patient, as rms ``predict.cph``), and the
    pointwise limits are :math:`\\hat\\eta \\pm z\\,se`. With ``ref_zero=True``
    :math:`x` is replaced by :math:`x - x_{adj}` (the curve is 0 at the adjust-to
    patient: rms ``ref.zero``). Other scales transform the limits: ``"risk"``
    of a logistic model is :math:`\\mathrm{expit}` (rms ``fun=plogis``);
    ``"hazard_ratio"`` is :math:`\\exp` (``fun=exp``); ``"survival"`` at
    ``horizon`` comes with the limits of :meth:`CoxNomogram.survest` (rms
    ``Predict(fit, time=)``); ``"risk"`` of a Cox model is one minus that
    survival.

    The grid of a numeric predictor is ``n_points`` equally spaced values
    between its ``datadist`` prediction limits (about the 10th smallest and
    10th largest value), or its distinct values when it has at most 10; a
    categorical predictor takes all its levels.

    Parameters
    ----------
    model : LogisticNomogram or CoxNomogram
        A fitted model.
    predictors : str or list of str, optional
        The predictors to vary, one curve each. Default: every predictor.
    overlay : str, optional
        A second predictor varied jointly with each (one line per value; rms
        ``Predict(fit, age, horTh)``), typically an interaction partner. A
        numeric one takes its grid too (its distinct values, or ``n_points``
        values): give ``values={overlay: [...]}`` for a few lines.
    values : dict of {str: list}, optional
        The grid of a varied predictor (rms ``Predict(fit, age=c(35, 50, 65))``).
    adjust_to : dict of {str: value}, optional
        Values at which to hold the other predictors (rms ``Predict(fit, age, tgrade="III")``).
    scale : str, default "lp"
        Logistic: ``"lp"`` (log odds) or ``"risk"``. Cox: ``"lp"`` (log relative
        hazard), ``"hazard_ratio"``, ``"survival"`` or ``"risk"`` (the last two need
        ``horizon``).
    horizon : float, optional
        Time of the survival or risk scale, in the time unit of the data.
    ref_zero : bool, default False
        Subtract the prediction at the adjust-to values (linear-predictor and
        hazard-ratio scales only).
    n_points : int, default 200
        Grid size for a numeric predictor (rms ``np``).
    conf_level : float, default 0.95

    Returns
    -------
    PartialEffects

    References
    ----------
    Harrell FE (2015). Regression Modeling Strategies, 2nd ed., Springer, sec. 10.5.
    rms ``Predict`` and ``predictrms`` (rms 6.5-0).

    Examples
    --------
    >>> pe = partial_effects(model, ["age", "tgrade"])  # doctest: +SKIP
    >>> pe.plot().figure_.savefig("partial_effects.png")  # doctest: +SKIP
    """
    check_is_fitted(model, "coef_")
    conf_level = _check_conf_level(conf_level, CALLER)
    design = model.design_
    logistic = bool(model._intercept)
    check_option(scale, set(_SCALES[logistic]), name="scale", caller=f"{CALLER} ({type(model).__name__})")
    if not isinstance(ref_zero, (bool, np.bool_)):
        raise TypeError(f"The 'ref_zero' parameter of {CALLER} must be True or False. Got {ref_zero!r} instead.")
    if ref_zero and scale not in ("lp", "hazard_ratio"):
        raise ValueError(
            f"{CALLER}: ref_zero=True subtracts the linear predictor at the adjust-to values, which only "
            f"makes sense with scale='lp' or 'hazard_ratio'; got scale={scale!r}."
        )
    survival_scale = not logistic and scale in ("survival", "risk")
    if survival_scale:
        if horizon is None or isinstance(horizon, (bool, np.bool_)) or not np.isfinite(float(horizon)) \
                or float(horizon) <= 0:
            raise ValueError(
                f"The 'horizon' parameter of {CALLER} must be a positive time when scale={scale!r}. "
                f"Got {horizon!r} instead; e.g. horizon=1095 for 3 years in days."
            )
        horizon = float(horizon)
    elif horizon is not None:
        raise ValueError(f"{CALLER}: horizon is only used with scale='survival' or 'risk' of a Cox model.")
    if isinstance(n_points, (bool, np.bool_)) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ValueError(f"The 'n_points' parameter of {CALLER} must be an integer >= 2. Got {n_points!r} instead.")
    if predictors is None:
        predictors = list(design.predictors)
    elif isinstance(predictors, str):
        predictors = [predictors]
    else:
        predictors = list(predictors)
    if not predictors:
        raise ValueError(f"The 'predictors' parameter of {CALLER} is empty; name at least one predictor.")
    for p in predictors:
        check_predictor(design, p, parameter="predictors", caller=CALLER)
    if overlay is not None:
        check_predictor(design, overlay, parameter="overlay", caller=CALLER)
        predictors = [p for p in predictors if p != overlay]
        if not predictors:
            raise ValueError(f"{CALLER}: overlay={overlay!r} is the only predictor to vary; name another in "
                             "predictors.")
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise TypeError(f"The 'values' parameter of {CALLER} must be a dict {{predictor: list of values}}. "
                        f"Got {type(values).__name__} instead.")
    grids = {}
    for name, vals in values.items():
        term = check_predictor(design, name, parameter="values", caller=CALLER)
        vals = [vals] if isinstance(vals, str) or np.ndim(vals) == 0 else list(vals)
        if not vals:
            raise ValueError(f"The 'values' parameter of {CALLER} gives no value for '{name}'.")
        grids[name] = [check_value(term, v, parameter="values", caller=CALLER) for v in vals]
    adjust = adjust_values(design, adjust_to, caller=CALLER)

    rows, varied = [], []
    for p in predictors:
        gp = _grid(design.term(p), grids.get(p), n_points)
        gb = _grid(design.term(overlay), grids.get(overlay), n_points) if overlay else [None]
        for b in gb:  # expand.grid: the first predictor varies fastest
            for v in gp:
                row = {**adjust, p: v}
                if overlay:
                    row[overlay] = b
                rows.append(row)
                varied.append(p)
    frame = settings_frame(design, rows)
    z = stats.norm.ppf(0.5 + conf_level / 2)
    if survival_scale:
        se = model.survest(frame, times=[horizon], conf_level=conf_level)
        yhat, lower, upper = (se[c].to_numpy() for c in ("survival", "lower", "upper"))
        if scale == "risk":
            yhat, lower, upper = 1 - yhat, 1 - upper, 1 - lower
        ylabel = f"{'Survival Probability' if scale == 'survival' else 'Risk'} at t = {horizon:g}"
    else:
        X = design.transform(frame, caller=CALLER)
        beta = np.asarray(model._slopes, dtype=float)
        V = model.cov_.to_numpy()
        if ref_zero:
            Xa = design.transform(settings_frame(design, [adjust]), caller=CALLER)
            Xc = X - Xa
            Vs = V[1:, 1:] if logistic else V
            yhat = Xc @ beta
            sd = np.sqrt(np.einsum("ij,jk,ik->i", Xc, Vs, Xc))
        elif logistic:
            Xi = np.column_stack([np.ones(len(X)), X])
            yhat = Xi @ model.coef_.to_numpy()
            sd = np.sqrt(np.einsum("ij,jk,ik->i", Xi, V, Xi))
        else:
            Xc = X - model.means_.to_numpy()
            yhat = Xc @ beta
            sd = np.sqrt(np.einsum("ij,jk,ik->i", Xc, V, Xc))
        lower, upper = yhat - z * sd, yhat + z * sd
        if scale == "risk":
            yhat, lower, upper = expit(yhat), expit(lower), expit(upper)
        elif scale == "hazard_ratio":
            yhat, lower, upper = np.exp(yhat), np.exp(lower), np.exp(upper)
        ylabel = _SCALES[logistic][scale]
    table = frame.copy()
    table.insert(0, "predictor", varied)
    table["yhat"], table["lower"], table["upper"] = yhat, lower, upper
    categorical = {p: design.term(p).kind == "categorical" for p in predictors + ([overlay] if overlay else [])}
    return PartialEffects(table=table, predictors=predictors, overlay=overlay, scale=scale, ylabel=ylabel,
                          adjust_to=adjust, conf_level=conf_level, horizon=horizon, ref_zero=ref_zero,
                          categorical=categorical)
