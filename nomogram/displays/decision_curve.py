"""Decision curve and clinical impact figures (matplotlib imported lazily)."""

from __future__ import annotations

import numpy as np

from ..checks import check_option
from ..decision_curve import DecisionCurveResult, decision_curve

__all__ = ["DecisionCurveDisplay", "ClinicalImpactDisplay"]

_YLABELS = {
    "net_benefit": "Net benefit",
    "standardized_net_benefit": "Standardized net benefit",
    "net_intervention_avoided": "Net reduction in interventions per {nper} patients",
}


class DecisionCurveDisplay:
    """Decision curves: net benefit against threshold probability.

    Build with :meth:`from_predictions` or :meth:`from_result`, then call
    :meth:`plot`. After plotting, ``ax_`` and ``figure_`` hold the axes and figure.

    Parameters
    ----------
    result : DecisionCurveResult
    statistic : {"net_benefit", "standardized_net_benefit", "net_intervention_avoided"}

    Examples
    --------
    >>> disp = DecisionCurveDisplay.from_predictions(y, {"nomogram": p})  # doctest: +SKIP
    >>> disp.figure_.savefig("dca.pdf")  # doctest: +SKIP
    """

    def __init__(self, result: DecisionCurveResult, statistic: str = "net_benefit"):
        check_option(statistic, _YLABELS, name="statistic", caller="DecisionCurveDisplay")
        self.result = result
        self.statistic = statistic

    @classmethod
    def from_result(cls, result: DecisionCurveResult, *, statistic="net_benefit", ax=None,
                    show_ci=True, ylim=None):
        """Plot an existing :class:`DecisionCurveResult`."""
        return cls(result, statistic).plot(ax=ax, show_ci=show_ci, ylim=ylim)

    @classmethod
    def from_predictions(cls, y, predictions, thresholds=None, *, statistic="net_benefit",
                         ax=None, show_ci=True, ylim=None, **kwargs):
        """Compute with :func:`nomogram.decision_curve` and plot.

        Extra keyword arguments (``horizon``, ``n_boot``, ...) go to
        :func:`~nomogram.decision_curve`.
        """
        result = decision_curve(y, predictions, thresholds, **kwargs)
        return cls.from_result(result, statistic=statistic, ax=ax, show_ci=show_ci, ylim=ylim)

    @classmethod
    def from_estimator(cls, model, X, y, thresholds=None, *, name=None, horizon=None,
                       statistic="net_benefit", ax=None, show_ci=True, ylim=None, **kwargs):
        """Decision curve of a fitted model's predicted risk on ``X``, plotted.

        The risk is ``predict_proba(X)[:, 1]`` for a binary model and
        ``1 - S(horizon | X)`` (``predict_survival``) for a survival model,
        which then needs ``horizon``. Other keyword arguments go to
        :func:`~nomogram.decision_curve`.
        """
        if hasattr(model, "predict_survival"):
            if horizon is None:
                raise ValueError(
                    "DecisionCurveDisplay.from_estimator: a survival model needs horizon=<time> "
                    "(the risk is 1 - S(horizon))."
                )
            risk = 1 - np.asarray(model.predict_survival(X, times=[horizon]))[:, 0]
        else:
            risk = np.asarray(model.predict_proba(X))[:, 1]
        result = decision_curve(y, {name or type(model).__name__: risk}, thresholds, horizon=horizon,
                                **kwargs)
        return cls.from_result(result, statistic=statistic, ax=ax, show_ci=show_ci, ylim=ylim)

    def plot(self, ax=None, *, show_ci: bool = True, ylim=None):
        """Draw the curves; treat all in grey, treat none as a black line at 0.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        show_ci : bool, default True
            Shade bootstrap intervals when the result has them.
        ylim : (float, float), optional
            Default: from slightly below 0 to just above the largest value (net
            benefit of treat-all falls without bound at high thresholds, so
            it is not allowed to set the scale, as in dcurves' plot).

        Returns
        -------
        self
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4.5))
        res = self.result
        df = res.summary()
        stat = self.statistic
        styles = {"all": {"color": "0.55", "lw": 1.5}, "none": {"color": "black", "lw": 1.2}}
        order = ["all", "none"] if stat == "net_benefit" else []
        if stat == "standardized_net_benefit":
            order = ["all", "none"]
        for name in [*order, *res.labels]:
            sub = df[df["variable"] == name]
            label = sub["label"].iloc[0]
            ax.plot(sub["threshold"], sub[stat], label=label, **styles.get(name, {"lw": 1.8}))
            lo_col = f"{stat}_lower"
            if show_ci and lo_col in sub and name not in ("all", "none"):
                ax.fill_between(sub["threshold"], sub[lo_col], sub[f"{stat}_upper"], alpha=0.2,
                                color=ax.lines[-1].get_color(), lw=0)
        if ylim is None:
            models = df[df["variable"].isin(res.labels)][stat].to_numpy(dtype=float)
            top = np.nanmax(np.r_[models, df[df["variable"] == "all"][stat].to_numpy(float)[:1]])
            if stat == "net_intervention_avoided":
                bottom = min(0.0, np.nanmin(models))
            else:
                bottom = -0.05 * max(top, 1e-3) if stat == "net_benefit" else -0.1
            ylim = (bottom, top * 1.05 if top > 0 else 0.05)
        ax.set_ylim(*ylim)
        ax.set_xlim(float(res.thresholds.min()), float(res.thresholds.max()))
        ax.set_xlabel("Threshold probability")
        ax.set_ylabel(_YLABELS[stat].format(nper=res.nper))
        if res.horizon is not None:
            ax.set_title(f"Decision curve at t = {res.horizon:g}")
        ax.legend(frameon=False)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


class ClinicalImpactDisplay:
    """Clinical impact curve (rmda ``plot_clinical_impact``).

    Number classified high risk and number high risk with the event, out of
    ``population_size`` patients, against the threshold probability.
    """

    def __init__(self, result: DecisionCurveResult, model: str | None = None):
        self.result = result
        self.model = result.labels[0] if model is None else model
        check_option(self.model, result.labels, name="model", caller="ClinicalImpactDisplay")

    @classmethod
    def from_result(cls, result: DecisionCurveResult, *, model=None, ax=None):
        """Plot one model of an existing :class:`DecisionCurveResult`."""
        return cls(result, model).plot(ax=ax)

    @classmethod
    def from_predictions(cls, y, predictions, thresholds=None, *, model=None, ax=None, **kwargs):
        """Compute with :func:`nomogram.decision_curve` and plot one model."""
        result = decision_curve(y, predictions, thresholds, **kwargs)
        return cls(result, model).plot(ax=ax)

    def plot(self, ax=None):
        """Draw both curves; returns self."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4.5))
        res = self.result
        d = res.clinical_impact(self.model)
        ax.plot(d["threshold"], d["n_high_risk"], color="tab:red", lw=1.8, label="Number high risk")
        ax.plot(d["threshold"], d["n_high_risk_with_event"], color="tab:blue", lw=1.8, ls="--",
                label="Number high risk with event")
        ax.set_ylim(0, res.population_size * 1.05)
        ax.set_xlim(float(res.thresholds.min()), float(res.thresholds.max()))
        ax.set_xlabel("Threshold probability")
        ax.set_ylabel(f"Number high risk (out of {res.population_size})")
        ax.set_title(self.model)
        ax.legend(frameon=False)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
