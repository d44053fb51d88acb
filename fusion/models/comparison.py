"""Compare candidate models on each split: one tidy table and one figure set.

The candidates of a fusion study (clinical only, + imaging label, + pathology
label, full fusion, seed + soil radiomics, ...) are compared on the training
split, the internal test split and external cohorts, against a reference
model (usually the clinical one). Every number comes from :mod:`nomogram`:

=============================  =========================================================
column                         computed by
=============================  =========================================================
``AUC``, ``lower``, ``upper``  :func:`nomogram.metrics.roc_auc_ci` (DeLong CI)
``C`` (survival)               :func:`nomogram.metrics.harrell_c` (infinitesimal jackknife)
``difference``, ``p``          :func:`nomogram.metrics.delong_test` (paired) or
                               :func:`nomogram.metrics.compare_concordance`, vs the reference
``NRI``, ``IDI`` (+ CI, p)     :func:`nomogram.metrics.reclassification` (continuous NRI);
                               :func:`~nomogram.metrics.survival_nri` /
                               :func:`~nomogram.metrics.survival_idi` at ``horizon``
calibration intercept, slope   :func:`nomogram.val_prob` (binary); for survival the slope is
                               the Cox coefficient of the linear predictor (:class:`~nomogram.CoxNomogram`)
                               and ``observed/expected`` the Kaplan-Meier risk by ``horizon``
                               over the mean predicted risk
``Brier``                      :func:`nomogram.val_prob` (binary only)
decision curves                :func:`nomogram.decision_curve` (one per split)
=============================  =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nomogram.checks import (align_y, check_binary_y, check_option, check_probabilities, check_survival_y,
                             pandas_index)

__all__ = ["ModelComparison", "compare_predictions", "compare_models", "ComparisonDisplay"]


@dataclass
class ModelComparison:
    """Metrics of several models on one or more splits.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (split, model); columns listed in the module docstring.
    decision_curves : dict of {split: DecisionCurveResult}
    risks : dict of {split: DataFrame}
        Predicted risk (probability, or risk of the event by ``horizon``) per model.
    scores : dict of {split: DataFrame}
        The scores ranked for AUC / C (the risk for binary, the linear predictor for survival).
    y : dict of {split: outcome}
    outcome : {"binary", "survival"}
    reference : str
    horizon : float or None
    """

    table: pd.DataFrame
    decision_curves: dict
    risks: dict
    scores: dict
    y: dict
    outcome: str
    reference: str
    horizon: float | None = None
    conf_level: float = 0.95
    calibration: dict = field(default_factory=dict, repr=False)

    def summary(self) -> pd.DataFrame:
        """The tidy table (a copy)."""
        return self.table.copy()

    def plot(self, ax=None, *, split=None, figsize=None):
        """The figure set of one split (ROC, calibration, decision curve): a :class:`ComparisonDisplay`.

        ``ax``: one Axes per panel (3 for a binary outcome, 2 for survival), or
        None for a new figure; ``split``: default the first.
        """
        return ComparisonDisplay.from_result(self, split=split, ax=ax, figsize=figsize)


def _prediction_index(predictions):
    """The row labels the outcome is matched to: those of the first pandas predictions (or None)."""
    if isinstance(predictions, pd.DataFrame):
        return predictions.index
    return pandas_index(*predictions.values()) if isinstance(predictions, dict) else None


def _check_predictions(predictions, n, caller, *, probabilities, index=None):
    if isinstance(predictions, pd.DataFrame):
        predictions = {c: predictions[c] for c in predictions.columns}
    if not isinstance(predictions, dict) or not predictions:
        raise TypeError(f"{caller}: predictions must be a non-empty dict {{model name: values}} or a DataFrame.")
    out = {}
    for name, v in predictions.items():
        v = align_y(v, index, caller=caller, what=f"predictions['{name}']", against="the first predictions")
        arr = np.asarray(v, dtype=float).reshape(-1)
        if len(arr) != n:
            raise ValueError(f"{caller}: predictions of model '{name}' have {len(arr)} values but y has {n}.")
        if probabilities:
            arr = check_probabilities(arr, name=f"predictions['{name}']", caller=caller)
        elif not np.isfinite(arr).all():
            raise ValueError(f"{caller}: scores of model '{name}' have {int((~np.isfinite(arr)).sum())} "
                             "missing or infinite value(s).")
        out[str(name)] = arr
    return out


def compare_predictions(y, risks, *, scores=None, reference=None, horizon=None, split="", conf_level=0.95,
                        nri_cutoffs=None, thresholds=None, n_boot=200, random_state=0) -> ModelComparison:
    """Compare models from their predictions on one split.

    Parameters
    ----------
    y : array-like (n,) binary, or survival outcome (DataFrame [time, event], ...)
    risks : dict of {name: array (n,)} or DataFrame
        Predicted probability of the event (binary), or of the event by
        ``horizon`` (survival).
    scores : dict of {name: array (n,)}, optional
        Survival: the risk scores ranked by the C-index (linear predictors);
        default the risks. Ignored for binary outcomes.
    reference : str, optional
        The model the others are compared with; default the first.
    horizon : float, optional
        Survival: the time of the risks, NRI/IDI, calibration and decision curves.
    split : str, default ""
    conf_level : float, default 0.95
    nri_cutoffs : sequence of float, optional
        Risk categories for a categorical NRI (binary); the continuous NRI is always given.
    thresholds : array-like, optional
        Decision-curve thresholds (default 0.01..0.99).
    n_boot : int, default 200
        Bootstrap resamples of the survival NRI/IDI.
    random_state : int, default 0

    Returns
    -------
    ModelComparison
    """
    caller = "compare_predictions"
    survival = not _is_binary(y)
    index = _prediction_index(risks)  # a pandas y is matched to pandas predictions by label
    if survival:
        time, event = check_survival_y(y, caller=caller, index=index, against="the predictions")
        n = len(time)
        if horizon is None:
            raise ValueError(f"{caller}: a survival outcome needs horizon= (the time of the predicted risks).")
        yv = pd.DataFrame({"time": time, "event": event})
    else:
        yv = check_binary_y(y, caller=caller, index=index, against="the predictions")
        n = len(yv)
    risks = _check_predictions(risks, n, caller, probabilities=True, index=index)
    scores = risks if (scores is None or not survival) else _check_predictions(scores, n, caller, probabilities=False,
                                                                               index=index)
    if survival and set(scores) != set(risks):
        raise ValueError(f"{caller}: scores name models {sorted(scores)} but risks name {sorted(risks)}.")
    reference = list(risks)[0] if reference is None else reference
    check_option(reference, list(risks), name="reference", caller=caller)
    rows, calib = [], {}
    for name in risks:
        row = {"split": split, "model": name, "n": n,
               "events": int(yv["event"].sum() if survival else yv.sum())}
        if survival:
            row.update(_survival_metrics(yv, risks, scores, name, reference, horizon, conf_level, n_boot,
                                         random_state))
        else:
            row.update(_binary_metrics(yv, risks, name, reference, conf_level, nri_cutoffs))
            calib[name] = row.pop("_smooth")
        rows.append(row)
    from nomogram import decision_curve

    dc_kw = {"horizon": horizon} if survival else {}
    dc = decision_curve(yv if survival else yv, risks, thresholds, **dc_kw)
    if survival:
        for name in risks:
            calib[name] = _grouped_km(yv, risks[name], horizon)
    table = pd.DataFrame(rows)
    return ModelComparison(table, {split: dc}, {split: pd.DataFrame(risks)},
                           {split: pd.DataFrame(scores)}, {split: yv}, "survival" if survival else "binary",
                           reference, horizon, conf_level, {split: calib})


def _is_binary(y) -> bool:
    if isinstance(y, pd.DataFrame) or isinstance(y, tuple):
        return False
    arr = np.asarray(y)
    return not (arr.dtype.names is not None or (arr.ndim == 2 and arr.shape[1] == 2))


def _binary_metrics(y, risks, name, reference, conf_level, nri_cutoffs):
    from nomogram import val_prob
    from nomogram.metrics import delong_test, reclassification, roc_auc_ci

    p = risks[name]
    auc = roc_auc_ci(y, p, conf_level=conf_level)
    vp = val_prob(y, p, conf_level=conf_level)
    s = vp.statistics
    row = {"AUC": auc.auc, "AUC lower": auc.lower, "AUC upper": auc.upper}
    if name == reference:
        row.update({"difference": np.nan, "p (DeLong)": np.nan, "NRI": np.nan, "NRI lower": np.nan,
                    "NRI upper": np.nan, "NRI p": np.nan, "IDI": np.nan, "IDI lower": np.nan,
                    "IDI upper": np.nan, "IDI p": np.nan})
    else:
        d = delong_test(y, p, risks[reference], conf_level=conf_level)
        rc = reclassification(y, risks[reference], p, nri_cutoffs, conf_level=conf_level).table
        nri = rc.loc["NRI (categorical)" if nri_cutoffs is not None else "NRI (continuous)"]
        idi = rc.loc["IDI"]
        row.update({"difference": d.difference, "p (DeLong)": d.p_value,
                    "NRI": nri["estimate"], "NRI lower": nri["lower"], "NRI upper": nri["upper"],
                    "NRI p": nri["p_value"], "IDI": idi["estimate"], "IDI lower": idi["lower"],
                    "IDI upper": idi["upper"], "IDI p": idi["p_value"]})
    row.update({"calibration intercept": s["Intercept"], "calibration slope": s["Slope"], "Brier": s["Brier"],
                "_smooth": vp.smooth})
    return row


def _survival_metrics(y, risks, scores, name, reference, horizon, conf_level, n_boot, random_state):
    from nomogram import CoxNomogram
    from nomogram.metrics import compare_concordance, harrell_c, survival_idi, survival_nri

    c = harrell_c(y, scores[name], conf_level=conf_level)
    row = {"C": c.concordance, "C lower": c.lower, "C upper": c.upper}
    if name == reference:
        row.update({"difference": np.nan, "p (C comparison)": np.nan, "NRI": np.nan, "NRI lower": np.nan,
                    "NRI upper": np.nan, "IDI": np.nan, "IDI lower": np.nan, "IDI upper": np.nan})
    else:
        cc = compare_concordance(y, scores[name], scores[reference], conf_level=conf_level)
        nri = survival_nri(y, risks[reference], risks[name], horizon, conf_level=conf_level, n_boot=n_boot,
                           random_state=random_state)
        idi = survival_idi(y, risks[reference], risks[name], horizon, conf_level=conf_level, n_boot=n_boot,
                           random_state=random_state)
        nt, it = nri.summary(), idi.summary()
        row.update({"difference": cc.difference, "p (C comparison)": cc.p_value,
                    **_first_estimate("NRI", nt), **_first_estimate("IDI", it)})
    lp = pd.DataFrame({"linear predictor": scores[name]})
    slope = float(CoxNomogram().fit(lp, y).coef_.iloc[0])
    from nomogram import kaplan_meier

    km = kaplan_meier(y[["time", "event"]])
    observed = 1 - _km_at(km, horizon)
    row.update({"calibration slope": slope, "observed/expected": observed / float(np.mean(risks[name]))})
    return row


def _first_estimate(label, table):
    r = table.iloc[0]
    return {label: float(r["estimate"]), f"{label} lower": float(r["lower"]), f"{label} upper": float(r["upper"])}


def _km_at(km, t) -> float:
    i = np.searchsorted(km.time, t, side="right") - 1
    return 1.0 if i < 0 else float(km.surv[i])


def _grouped_km(y, risk, horizon, groups=5):
    """Observed (Kaplan-Meier) against mean predicted risk by ``horizon`` in risk quintiles."""
    from nomogram import kaplan_meier

    edges = np.unique(np.quantile(risk, np.linspace(0, 1, groups + 1)))
    codes = np.clip(np.searchsorted(edges, risk, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for g in np.unique(codes):
        m = codes == g
        km = kaplan_meier(y.loc[m, ["time", "event"]])
        rows.append({"predicted": float(risk[m].mean()), "observed": 1 - _km_at(km, horizon), "n": int(m.sum())})
    return pd.DataFrame(rows)


def compare_models(models, splits, *, reference=None, horizon=None, conf_level=0.95, nri_cutoffs=None,
                   thresholds=None, n_boot=200, random_state=0) -> ModelComparison:
    """Compare fitted models on several splits.

    Parameters
    ----------
    models : dict of {name: fitted model}
        ``LogisticNomogram``, ``CoxNomogram``, ``NomogramGroup`` or anything
        with ``predict_proba`` (binary) or ``decision_function`` +
        ``predict_survival`` (survival). Each takes the columns it needs from X.
    splits : dict of {split name: (X, y)}
        E.g. ``{"train": (X_tr, y_tr), "test": (X_te, y_te), "external": (X_ex, y_ex)}``.
        Training-split labels must be the cross-fitted ones.
    reference : str, optional
        Default the first model.
    horizon : float, optional
        Survival models: the time of risks, NRI/IDI, calibration and decision curves.

    Returns
    -------
    ModelComparison
        ``table`` stacks the splits; ``decision_curves``, ``risks``,
        ``scores`` and the figure set are per split.
    """
    if not isinstance(models, dict) or not models:
        raise TypeError("compare_models: models must be a non-empty dict {name: fitted model}.")
    if not isinstance(splits, dict) or not splits:
        raise TypeError("compare_models: splits must be a non-empty dict {name: (X, y)}.")
    parts = []
    for split, pair in splits.items():
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"compare_models: splits['{split}'] must be a tuple (X, y).")
        X, y = pair
        survival = not _is_binary(y)
        risks, scores = {}, {}
        for name, m in models.items():
            if survival:
                if horizon is None:
                    raise ValueError("compare_models: survival outcomes need horizon=.")
                S = m.predict_survival(X, times=[horizon])
                risks[name] = 1 - np.asarray(S, dtype=float).reshape(-1)
                scores[name] = np.asarray(m.decision_function(X), dtype=float)
            else:
                risks[name] = np.asarray(m.predict_proba(X), dtype=float)[:, 1]
        parts.append(compare_predictions(y, risks, scores=scores or None, reference=reference, horizon=horizon,
                                         split=split, conf_level=conf_level, nri_cutoffs=nri_cutoffs,
                                         thresholds=thresholds, n_boot=n_boot, random_state=random_state))
    first = parts[0]
    merged = ModelComparison(pd.concat([p.table for p in parts], ignore_index=True), {}, {}, {}, {},
                             first.outcome, first.reference, horizon, conf_level, {})
    for p in parts:
        for attr in ("decision_curves", "risks", "scores", "y", "calibration"):
            getattr(merged, attr).update(getattr(p, attr))
    return merged


class ComparisonDisplay:
    """The figure set of one split: ROC curves (binary), calibration curves, decision curves.

    Built by :meth:`from_result` (or :meth:`ModelComparison.plot`); ROC and
    decision panels are drawn by :class:`nomogram.displays.RocDisplay` and
    :class:`~nomogram.displays.DecisionCurveDisplay`.

    Attributes (after :meth:`plot`)
    -------------------------------
    figure_ : matplotlib Figure
    ax_ : ndarray of matplotlib Axes (one per panel)
    axes_ : dict of {"roc", "calibration", "decision": Axes}
    """

    def __init__(self, comparison: ModelComparison, split=None):
        self.comparison = comparison
        split = list(comparison.risks)[0] if split is None else split
        check_option(split, list(comparison.risks), name="split", caller="ComparisonDisplay")
        self.split = split

    @classmethod
    def from_result(cls, comparison: ModelComparison, *, split=None, ax=None, figsize=None):
        """Plot one split of a :class:`ModelComparison`."""
        return cls(comparison, split).plot(ax=ax, figsize=figsize)

    def plot(self, ax=None, *, figsize=None):
        """Draw the panels on ``ax`` (one Axes per panel) or a new figure; returns ``self``."""
        import matplotlib.pyplot as plt

        from nomogram.displays import DecisionCurveDisplay, RocDisplay

        c = self.comparison
        kinds = (["roc"] if c.outcome == "binary" else []) + ["calibration", "decision"]
        if ax is None:
            fig, axs = plt.subplots(1, len(kinds), figsize=figsize or (5.2 * len(kinds), 5))
        else:
            axs = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
            if len(axs) != len(kinds):
                raise ValueError(f"ComparisonDisplay.plot: the {c.outcome} comparison draws {len(kinds)} panels "
                                 f"({', '.join(kinds)}); got {len(axs)} Axes.")
            fig = axs[0].figure
        self.ax_ = np.asarray(np.atleast_1d(axs), dtype=object).ravel()
        self.axes_ = dict(zip(kinds, self.ax_))
        y = c.y[self.split]
        if "roc" in self.axes_:
            ax = self.axes_["roc"]
            for name in c.risks[self.split]:
                RocDisplay.from_predictions(y, c.risks[self.split][name].to_numpy(), name=name, ci_band=False,
                                            cutoff=None, conf_level=c.conf_level, ax=ax)
            ax.set_title(f"ROC ({self.split})" if self.split else "ROC")
        ax = self.axes_["calibration"]
        ax.plot([0, 1], [0, 1], ls=":", color="0.6", lw=1, label="Ideal")
        for name, cal in c.calibration[self.split].items():
            if c.outcome == "binary":
                ax.plot(cal["x"], cal["y"], lw=1.6, label=name)
            else:
                ax.plot(cal["predicted"], cal["observed"], "o-", ms=4, lw=1.4, label=name)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        what = "probability" if c.outcome == "binary" else f"risk by {c.horizon:g}"
        ax.set_xlabel(f"Predicted {what}")
        ax.set_ylabel(f"Observed {what}" + ("" if c.outcome == "binary" else " (Kaplan-Meier)"))
        ax.set_title(f"Calibration ({self.split})" if self.split else "Calibration")
        ax.legend(frameon=False, fontsize=8, loc="upper left")
        DecisionCurveDisplay.from_result(c.decision_curves[self.split], ax=self.axes_["decision"])
        self.axes_["decision"].set_title(f"Decision curve ({self.split})" if self.split else "Decision curve")
        if ax is None:
            fig.tight_layout()
        self.figure_ = fig
        return self
