"""Calibration plot of :func:`nomogram.calibrate` (matplotlib imported lazily)."""

from __future__ import annotations

import numpy as np

from ..checks import renamed_parameter

__all__ = ["CalibrationDisplay"]


class CalibrationDisplay:
    """Apparent, bias-corrected and ideal calibration with the distribution of predictions.

    Logistic models (rms ``plot.calibrate.default``): the apparent curve
    (lowess of the outcome on the predicted risk), the bias-corrected curve
    and the 45-degree ideal line, over a histogram ("rug") of the predicted
    risks along the bottom. Cox models (rms ``plot.calibrate``, KM method):
    observed Kaplan–Meier survival at ``horizon`` against mean predicted survival
    per group, apparent (with 95 % error bars) and bias-corrected. Predicted
    probabilities on new patients (:func:`nomogram.val_prob`): the lowess
    calibration curve, the Hosmer–Lemeshow group means and the ideal line.

    Build it with :meth:`from_result`, :meth:`from_estimator` (runs
    :func:`~nomogram.calibrate`) or :meth:`from_predictions` (runs
    :func:`~nomogram.val_prob`).

    Parameters
    ----------
    result : CalibrationResult or ValProbResult
        From :func:`nomogram.calibrate` or :func:`nomogram.val_prob`.
    name : str, optional
        Title of the axes.

    Attributes (after :meth:`plot`)
    -------------------------------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : dict of matplotlib Line2D ("apparent", "corrected", "ideal")

    Examples
    --------
    >>> CalibrationDisplay.from_estimator(model, X, y, n_boot=200).figure_.savefig("cal.pdf")  # doctest: +SKIP
    """

    def __init__(self, result, *, name: str | None = None):
        self.result = result
        self.name = name

    @classmethod
    def from_result(cls, result, *, name: str | None = None, ax=None, **plot_kwargs):
        """Plot a :class:`~nomogram.calibration.CalibrationResult` (as every ``from_*`` draws)."""
        return cls(result, name=name).plot(ax=ax, **plot_kwargs)

    @classmethod
    @renamed_parameter("u", "horizon", warn=False)
    @renamed_parameter("B", "n_boot", warn=False)
    def from_estimator(cls, model, X, y, *, n_boot: int = 200, method: str = "boot", random_state=None,
                       horizon=None, m: int = 150, name: str | None = None, ax=None, **plot_kwargs):
        """Run :func:`nomogram.calibrate` on a fitted model and plot the result.

        ``n_boot`` and ``horizon`` also take rms's names ``B`` and ``u``.
        """
        from ..calibration import calibrate

        result = calibrate(model, X, y, n_boot=n_boot, method=method, random_state=random_state,
                           horizon=horizon, m=m)
        return cls(result, name=name).plot(ax=ax, **plot_kwargs)

    @classmethod
    def from_predictions(cls, y, proba, *, g: int = 10, name: str | None = None, ax=None, **plot_kwargs):
        """Run :func:`nomogram.val_prob` on predicted probabilities of new patients and plot."""
        from ..calibration import val_prob

        result = val_prob(y, proba, g=g)
        return cls(result, name=name).plot(ax=ax, **plot_kwargs)

    @staticmethod
    def _rug(ax, predicted, bins):
        """Histogram of the predictions along the bottom (rms ``riskdist``), 10 % of the height."""
        counts, edges = np.histogram(predicted, bins=bins, range=(0, 1))
        if counts.max() > 0:
            heights = 0.1 * counts / counts.max()
            ax.vlines(edges[:-1][counts > 0] + 0.5 / bins, 0, heights[counts > 0], color="0.3", lw=0.8)

    def plot(self, ax=None, *, bins: int = 100, show_errors: bool = True):
        """Draw on ``ax`` (a new figure when None); returns ``self``.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        bins : int, default 100
            Bins of the histogram of predictions (logistic).
        show_errors : bool, default True
            Write n, B and the mean absolute error in the corner (logistic).
        """
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(5.5, 5.5))
        r = self.result
        self.lines_ = {}
        (self.lines_["ideal"],) = ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls=":", label="Ideal")
        if not hasattr(r, "table"):  # ValProbResult: external validation of probabilities
            (self.lines_["apparent"],) = ax.plot(r.smooth["x"], r.smooth["y"], color="C0", lw=1.8,
                                                 label="Nonparametric (lowess)")
            grp = r.groups
            (self.lines_["groups"],) = ax.plot(grp["mean_predicted"], grp["observed"] / grp["n"], "^",
                                               color="0.2", ms=5, label="Grouped observations")
            ax.set_xlabel("Predicted probability")
            ax.set_ylabel("Observed probability")
            if show_errors:
                st = r.statistics
                ax.text(0.02, 0.98, f"C={st['C (ROC)']:.3f}  Intercept={st['Intercept']:.3f}  "
                        f"Slope={st['Slope']:.3f}\nEavg={st['Eavg']:.3f}  Brier={st['Brier']:.3f}",
                        transform=ax.transAxes, va="top", fontsize=8)
        elif r.kind == "logistic":
            t = r.table
            (self.lines_["apparent"],) = ax.plot(t["predy"], t["calibrated.orig"], color="0.2", ls="--",
                                                 lw=1.2, label="Apparent")
            (self.lines_["corrected"],) = ax.plot(t["predy"], t["calibrated.corrected"], color="C0", lw=1.8,
                                                  label="Bias-corrected")
            self._rug(ax, r.predicted, bins)
            ax.set_xlabel("Predicted probability")
            ax.set_ylabel("Observed probability")
            if show_errors and len(r.errors):
                ax.text(0.02, 0.98, f"B={r.n_boot} {r.method} repetitions\n"
                        f"Mean absolute error={r.errors['mean_absolute_error']:.3f}   "
                        f"n={int(r.errors['n'])}", transform=ax.transAxes, va="top", fontsize=8)
        elif "pred" in r.table:  # Cox, smooth (spline) curve
            t = r.table
            (self.lines_["apparent"],) = ax.plot(t["pred"], t["calibrated"], color="0.2", ls="--", lw=1.2,
                                                 label="Apparent")
            (self.lines_["corrected"],) = ax.plot(t["pred"], t["calibrated.corrected"], color="C0", lw=1.8,
                                                  label="Bias-corrected")
            self._rug(ax, r.predicted, bins)
            ax.set_xlabel(f"Predicted survival at {r.horizon:g}")
            ax.set_ylabel(f"Observed survival at {r.horizon:g}")
            if show_errors and len(r.errors):
                ax.text(0.02, 0.98, f"B={r.n_boot} {r.method} repetitions\nICI={r.errors['ICI']:.3f}   "
                        f"E90={r.errors['E90']:.3f}", transform=ax.transAxes, va="top", fontsize=8)
        else:
            t = r.table
            x = t["mean.predicted"]
            se = t["std.err"]
            km = t["KM"]
            lo, hi = km * np.exp(-1.96 * se), np.minimum(1, km * np.exp(1.96 * se))
            (self.lines_["apparent"],) = ax.plot(x, km, "o-", color="0.2", ms=4, lw=1, label="Observed (KM)")
            ax.vlines(x, lo, hi, color="0.4", lw=0.8)
            (self.lines_["corrected"],) = ax.plot(x, t["KM.corrected"], "x", color="C0", ms=7,
                                                  label="Bias-corrected")
            self._rug(ax, r.predicted, bins)
            ax.set_xlabel(f"Predicted survival at {r.horizon:g}")
            ax.set_ylabel(f"Observed survival at {r.horizon:g} (Kaplan–Meier)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        # above the rug (which fills the bottom 10 % of the axes)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.11), frameon=False, fontsize=8)
        if self.name:
            ax.set_title(self.name)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
