"""Effects of each predictor over a range, with odds or hazard ratios (rms ``summary.rms``).

:func:`effects` answers "how much does the risk change from a typical low to a
typical high value of this predictor, the others held fixed": for a numeric
predictor, the change in the linear predictor (log odds, log hazard) from its
lower to its upper quartile (or a range you give) and the odds or hazard ratio;
for a categorical predictor, each level against the reference level. This is
the table rms prints with ``summary(fit)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .checks import check_is_fitted
from ._design import format_level
from ._settings import adjust_values, check_predictor, check_value, require_limits, settings_frame
from .metrics._roc import _check_conf_level

__all__ = ["effects", "EffectsResult"]

CALLER = "effects"


@dataclass
class EffectsResult:
    """Result of :func:`effects`.

    Attributes
    ----------
    table : pandas.DataFrame
        As rms ``summary.rms``: index the row labels rms prints (``"age"``,
        ``" Odds Ratio"``, ``"tgrade - I:II"``); columns ``Low``, ``High``,
        ``Diff.``, ``Effect``, ``S.E.``, ``Lower 0.95``, ``Upper 0.95`` (named
        for ``conf_level``) and ``Type`` (1 = effect on the linear predictor,
        2 = its antilog, the odds or hazard ratio). For a categorical
        predictor ``Low`` and ``High`` are the positions (1-based, in level
        order) of the reference and the compared level, as rms gives them.
    predictor : list of str
        The predictor of each row.
    contrast : list of tuple
        ``(low, high)`` values compared on each row (levels for a categorical predictor).
    adjust_to : dict
        The value every predictor was held at.
    ratio_label : str
        ``"Odds Ratio"`` or ``"Hazard Ratio"``.
    conf_level : float
    """

    table: pd.DataFrame
    predictor: list
    contrast: list
    adjust_to: dict
    ratio_label: str
    conf_level: float
    interacting: tuple = ()

    def summary(self) -> pd.DataFrame:
        """The table (a copy), rows and columns as rms ``summary.rms``."""
        return self.table.copy()

    def ratios(self) -> pd.DataFrame:
        """One row per comparison: predictor, low, high, ratio and its confidence limits."""
        t = self.table
        lo, hi = t.columns[5], t.columns[6]
        keep = (t["Type"] == 2).to_numpy()
        return pd.DataFrame({
            "predictor": np.asarray(self.predictor, dtype=object)[keep],
            "low": [c[0] for c, k in zip(self.contrast, keep) if k],
            "high": [c[1] for c, k in zip(self.contrast, keep) if k],
            self.ratio_label: t["Effect"].to_numpy()[keep],
            "lower": t[lo].to_numpy()[keep],
            "upper": t[hi].to_numpy()[keep],
        })

    def as_text(self) -> str:
        """The table as rms prints it, with the "Adjusted to" line for interacting predictors."""
        body = self.table.to_string(float_format=lambda v: f"{v:.5g}")
        adj = " ".join(f"{k}={format_level(self.adjust_to[k])}" for k in self.interacting)
        return "Effects\n" + body + (f"\n\nAdjusted to: {adj}" if adj else "")

    def __repr__(self) -> str:
        return self.as_text()

    def plot(self, ax=None, **kwargs):
        """Forest plot of the ratios; see :class:`nomogram.displays.EffectsDisplay`."""
        from .displays.effects import EffectsDisplay

        return EffectsDisplay.from_result(self, ax=ax, **kwargs)


def _check_ranges(design, ranges):
    """``{predictor: (low, high) or (low, adjust, high)}`` for numeric predictors, checked."""
    if ranges is None:
        return {}, {}
    if not isinstance(ranges, dict):
        raise TypeError(
            f"The 'ranges' parameter of {CALLER} must be a dict {{predictor: (low, high)}}. "
            f"Got {type(ranges).__name__} instead."
        )
    limits, adjust = {}, {}
    for name, value in ranges.items():
        term = check_predictor(design, name, parameter="ranges", caller=CALLER)
        if term.kind == "categorical":
            raise ValueError(
                f"The 'ranges' parameter of {CALLER} gives a range for the categorical predictor "
                f"'{name}'; each of its levels is compared with the reference level. Choose the "
                f"reference with adjust_to={{'{name}': <level>}}."
            )
        vals = list(np.atleast_1d(value)) if not isinstance(value, str) else [value]
        if len(vals) not in (2, 3):
            raise ValueError(
                f"The 'ranges' parameter of {CALLER} gives {name}={value!r}; give (low, high) or "
                "(low, adjust_to, high) as rms does."
            )
        vals = [check_value(term, v, parameter="ranges", caller=CALLER) for v in vals]
        limits[name] = (vals[0], vals[-1])
        if len(vals) == 3:
            adjust[name] = vals[1]
    return limits, adjust


def effects(model, ranges=None, *, adjust_to=None, conf_level: float = 0.95) -> EffectsResult:
    """Effect of each predictor over a range, with its odds or hazard ratio, as rms ``summary``.

    For a numeric predictor with range ``(low, high)`` (default: its lower and
    upper quartiles, rms ``datadist``'s ``Low:effect``/``High:effect``) the
    effect is the difference of the linear predictor between two patients
    who differ only in that predictor,

    .. math::

        \\hat\\delta = (x_{high} - x_{low})^\\top \\hat\\beta, \\qquad
        se = \\sqrt{(x_{high} - x_{low})^\\top V (x_{high} - x_{low})},

    where the design rows :math:`x` include the spline and interaction columns,
    so the effect of a predictor in an interaction is the effect at the
    partner's adjust-to value. The confidence interval is
    :math:`\\hat\\delta \\pm z_{1-\\alpha/2}\\, se` and the ratio row is its
    antilog. A categorical predictor gives one row per level against the
    reference level, which is its adjust-to value (the most frequent level,
    rms's default — not necessarily the first level).

    Parameters
    ----------
    model : LogisticNomogram or CoxNomogram
        A fitted model.
    ranges : dict of {str: (low, high)}, optional
        Ranges of numeric predictors (rms ``summary(fit, age=c(40, 60))``);
        ``(low, adjust, high)`` also sets the adjust-to value.
    adjust_to : dict of {str: value}, optional
        Values at which to hold predictors (rms ``summary(fit, horTh="yes")``);
        for a categorical predictor this is also the reference level of its rows.
    conf_level : float, default 0.95

    Returns
    -------
    EffectsResult

    References
    ----------
    Harrell FE (2015). Regression Modeling Strategies, 2nd ed., Springer, sec. 10.10.
    rms ``summary.rms`` and ``datadist`` (rms 6.5-0).

    Examples
    --------
    >>> effects(model).ratios()  # doctest: +SKIP
    >>> effects(model, ranges={"age": (40, 60)}, adjust_to={"tgrade": "I"})  # doctest: +SKIP
    """
    check_is_fitted(model, "coef_")
    conf_level = _check_conf_level(conf_level, CALLER)
    design = model.design_
    limits, adjust_from_ranges = _check_ranges(design, ranges)
    adjust = {**adjust_values(design, adjust_to, caller=CALLER), **adjust_from_ranges}
    beta = np.asarray(model._slopes, dtype=float)
    V = model.cov_.to_numpy()
    if model._intercept:
        V = V[1:, 1:]
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    ratio_label = "Odds Ratio" if model._intercept else "Hazard Ratio"

    pairs, labels, lows, highs, predictors, contrasts = [], [], [], [], [], []
    for term in design.terms:  # numeric predictors first, in model order (rms)
        if term.kind == "categorical":
            continue
        lo, hi = limits.get(term.name) or require_limits(term, "effect_limits", CALLER)
        pairs.append(({**adjust, term.name: lo}, {**adjust, term.name: hi}))
        labels.append(term.name)
        lows.append(lo)
        highs.append(hi)
        predictors.append(term.name)
        contrasts.append((lo, hi))
    for term in design.terms:
        if term.kind != "categorical":
            continue
        ref = adjust[term.name]
        ki = term.levels.index(ref) + 1
        for kj, level in enumerate(term.levels, start=1):
            if level == ref:
                continue
            pairs.append(({**adjust, term.name: ref}, {**adjust, term.name: level}))
            labels.append(f"{term.name} - {format_level(level)}:{format_level(ref)}")
            lows.append(ki)
            highs.append(kj)
            predictors.append(term.name)
            contrasts.append((ref, level))

    rows = [r for pair in pairs for r in pair]
    X = design.transform(settings_frame(design, rows), caller=CALLER)
    D = X[1::2] - X[0::2]
    est = D @ beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", D, V, D))
    lower, upper = est - z * se, est + z * se
    numeric = np.array([design.term(p).kind != "categorical" for p in predictors])
    diff = np.where(numeric, np.asarray(highs, float) - np.asarray(lows, float), np.nan)
    cl = f"{conf_level:.3g}"
    records, index, row_pred, row_contrast = [], [], [], []
    for k in range(len(labels)):
        base = [lows[k], highs[k], diff[k]]
        records.append(base + [est[k], se[k], lower[k], upper[k], 1])
        records.append(base + [np.exp(est[k]), np.nan, np.exp(lower[k]), np.exp(upper[k]), 2])
        index += [labels[k], f" {ratio_label}"]
        row_pred += [predictors[k]] * 2
        row_contrast += [contrasts[k]] * 2
    table = pd.DataFrame(records, index=pd.Index(index, name="Factor"),
                         columns=["Low", "High", "Diff.", "Effect", "S.E.", f"Lower {cl}", f"Upper {cl}", "Type"])
    table["Type"] = table["Type"].astype(int)
    inter = {v for pair in design.interactions for v in pair}
    interacting = tuple(p for p in design.predictors if p in inter)
    return EffectsResult(table=table, predictor=row_pred, contrast=row_contrast, adjust_to=adjust,
                         ratio_label=ratio_label, conf_level=conf_level, interacting=interacting)
