"""ROC curves with a bootstrap sensitivity band and the optimal cut-off (matplotlib imported lazily)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics._cutoff import CutoffResult, cutoff_metrics
from ..metrics._roc import RocAucResult, RocCurve, roc_auc_ci, roc_curve, sensitivity_ci

__all__ = ["RocDisplay"]


class RocDisplay:
    """ROC curve (sensitivity against 1 - specificity, as papers print it).

    Parameters
    ----------
    curve : RocCurve
        From :func:`nomogram.metrics.roc_curve`.
    auc : RocAucResult, optional
        Shown in the legend as "AUC 0.xx (0.xx-0.xx)".
    band : pandas.DataFrame, optional
        From :func:`nomogram.metrics.sensitivity_ci` (columns specificity,
        lower, upper): drawn as a shaded band (pROC ``plot(ci.se(...))``).
    cutoff : CutoffResult, optional
        From :func:`nomogram.metrics.cutoff_metrics`: drawn as a point with
        its threshold, specificity and sensitivity.
    name : str, optional
        Legend label of the curve.

    Attributes (after :meth:`plot`)
    -------------------------------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    line_ : matplotlib Line2D of the curve

    Examples
    --------
    >>> RocDisplay.from_predictions(y, risk, name="nomogram").figure_.savefig("roc.pdf")  # doctest: +SKIP
    """

    def __init__(self, curve: RocCurve, *, auc: RocAucResult | None = None,
                 band: pd.DataFrame | None = None, cutoff: CutoffResult | None = None,
                 name: str | None = None):
        self.curve = curve
        self.auc = auc
        self.band = band
        self.cutoff = cutoff
        self.name = name

    @classmethod
    def from_result(cls, curve: RocCurve, *, auc: RocAucResult | None = None, band=None,
                    cutoff: CutoffResult | None = None, name=None, ax=None, **plot_kwargs):
        """Plot a computed :class:`~nomogram.metrics.RocCurve` (with an AUC, band and cut-off if given)."""
        if not isinstance(curve, RocCurve):
            raise TypeError(
                f"RocDisplay.from_result expects a RocCurve (nomogram.metrics.roc_curve); got "
                f"{type(curve).__name__}."
            )
        return cls(curve, auc=auc, band=band, cutoff=cutoff, name=name).plot(ax=ax, **plot_kwargs)

    @classmethod
    def from_estimator(cls, model, X, y, **kwargs):
        """ROC of a fitted binary model on ``X``: its ``predict_proba(X)[:, 1]`` (or
        ``decision_function``); other arguments as :meth:`from_predictions`."""
        if hasattr(model, "predict_proba"):
            score = np.asarray(model.predict_proba(X))[:, 1]
        else:
            score = model.decision_function(X)
        kwargs.setdefault("name", type(model).__name__)
        return cls.from_predictions(y, score, **kwargs)

    @classmethod
    def from_predictions(cls, y, score, *, name=None, direction="<", ci=True, ci_band=True,
                         cutoff="youden", specificities=None, conf_level=0.95, n_boot=2000,
                         random_state=None, ax=None):
        """Compute the ROC curve, DeLong CI of the AUC, the sensitivity band and the cut-off; plot.

        Parameters
        ----------
        y, score : array-like of shape (n,)
        name : str, optional
        direction : {"<", ">"}, default "<" (higher score = event)
        ci : bool, default True
            DeLong CI of the AUC in the legend.
        ci_band : bool, default True
            Bootstrap band of sensitivity at ``specificities``
            (:func:`~nomogram.metrics.sensitivity_ci`).
        cutoff : "youden", float or None, default "youden"
            Cut-off to mark; None marks nothing.
        specificities : array-like, default 0, 0.02, ..., 1
        conf_level : float, default 0.95
        n_boot : int, default 2000
        random_state : None, int or numpy.random.Generator
        ax : matplotlib Axes, optional
        """
        curve = roc_curve(y, score, direction=direction)
        auc = roc_auc_ci(y, score, conf_level=conf_level, direction=direction) if ci else None
        band = None
        if ci_band:
            sp = np.linspace(0, 1, 51) if specificities is None else specificities
            band = sensitivity_ci(y, score, sp, conf_level=conf_level, n_boot=n_boot,
                                  random_state=random_state, direction=direction)
        cut = None
        if cutoff is not None:
            cut = cutoff_metrics(y, score, cutoff, conf_level=conf_level, n_boot=200,
                                 random_state=random_state, direction=direction)
        return cls(curve, auc=auc, band=band, cutoff=cut, name=name).plot(ax=ax)

    def plot(self, ax=None, *, name=None, color=None, show_chance=True):
        """Draw the curve, the band, the cut-off and the chance line.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            New figure when None.
        name : str, optional
            Overrides the legend label.
        color : matplotlib colour, optional
        show_chance : bool, default True
            Dashed diagonal.

        Returns
        -------
        self
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 5))
        label = name or self.name or "ROC"
        if self.auc is not None:
            pct = round(100 * self.auc.conf_level)
            label += (f" (AUC {self.auc.auc:.3f}, {pct}% CI {self.auc.lower:.3f}-"
                      f"{self.auc.upper:.3f})")
        fpr = 1 - self.curve.specificities
        (self.line_,) = ax.plot(fpr, self.curve.sensitivities, drawstyle="default", color=color,
                                label=label, lw=1.8)
        c = self.line_.get_color()
        if self.band is not None:
            b = self.band.sort_values("specificity")
            ax.fill_between(1 - b["specificity"], b["lower"], b["upper"], color=c, alpha=0.2,
                            lw=0, label=f"{round(100 * (self.auc.conf_level if self.auc else 0.95))}% CI of sensitivity")
        if self.cutoff is not None:
            t = self.cutoff.table
            se, sp = t.loc["sensitivity", "estimate"], t.loc["specificity", "estimate"]
            ax.plot([1 - sp], [se], "o", color=c, ms=6, zorder=5)
            ax.annotate(f"{self.cutoff.threshold:.3g} ({sp:.3f}, {se:.3f})", (1 - sp, se),
                        xytext=(8, -12), textcoords="offset points", fontsize=8)
        if show_chance:
            ax.plot([0, 1], [0, 1], ls="--", color="0.6", lw=0.8)
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.01)
        ax.set_aspect("equal")
        ax.set_xlabel("1 - Specificity")
        ax.set_ylabel("Sensitivity")
        ax.legend(loc="lower right", fontsize=8)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
