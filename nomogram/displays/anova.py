"""Dot chart of predictor importance from :func:`nomogram.anova` (rms ``plot.anova``)."""

from __future__ import annotations

import numpy as np

__all__ = ["AnovaDisplay"]

_WHAT = {"chisqminusdf": "χ² − d.f.", "chisq": "χ²"}


class AnovaDisplay:
    """Each predictor's Wald χ² − d.f. (or χ²), largest at the top, as rms ``plot(anova(fit))``.

    One dot per predictor: its "Factor+Higher Order Factors" row when it
    enters an interaction, otherwise its own row (rms ``plot.anova`` keeps the
    rows of type "main effect" and "combined effect"). The P-value is written
    at the right.

    Parameters
    ----------
    result : AnovaResult

    Attributes (after :meth:`plot`)
    -------------------------------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    order_ : list of str
        Predictors, top to bottom.

    Examples
    --------
    >>> AnovaDisplay.from_estimator(model).figure_.savefig("anova.png")  # doctest: +SKIP
    """

    def __init__(self, result):
        self.result = result

    @classmethod
    def from_result(cls, result, *, ax=None, **plot_kwargs):
        """Plot an :class:`~nomogram.wald_anova.AnovaResult`."""
        return cls(result).plot(ax=ax, **plot_kwargs)

    @classmethod
    def from_estimator(cls, model, *, ax=None, **plot_kwargs):
        """Run :func:`nomogram.anova` on a fitted model and plot the result."""
        from ..wald_anova import anova

        return cls(anova(model)).plot(ax=ax, **plot_kwargs)

    def plot(self, ax=None, *, what: str = "chisqminusdf", show_p: bool = True):
        """Draw on ``ax`` (a new figure when None); returns ``self``.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        what : {"chisqminusdf", "chisq"}, default "chisqminusdf"
            rms ``plot.anova``'s ``what``: χ² minus its d.f. (its expected value
            under the null), or χ².
        show_p : bool, default True
        """
        import matplotlib.pyplot as plt

        from ..checks import check_option

        check_option(what, set(_WHAT), name="what", caller="AnovaDisplay.plot")
        r = self.result
        t = r.table
        keep = [k for k, kind in enumerate(r.row_type) if kind in ("main effect", "combined effect")]
        names = [r.row_predictor[k] for k in keep]
        chisq = t["Chi-Square"].to_numpy()[keep]
        df = t["d.f."].to_numpy()[keep]
        p = t["P"].to_numpy()[keep]
        value = chisq - df if what == "chisqminusdf" else chisq
        order = np.argsort(value)  # ascending: largest ends at the top
        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 0.4 * len(keep) + 1.2))
        ypos = np.arange(len(order))
        ax.plot(value[order], ypos, "o", color="C0")
        ax.hlines(ypos, min(0.0, value.min()), value[order], color="0.8", lw=0.8, zorder=0)
        ax.set_yticks(ypos)
        ax.set_yticklabels([names[k] for k in order])
        ax.set_xlabel(_WHAT[what])
        if what == "chisqminusdf":
            ax.axvline(0.0, color="0.5", lw=0.7, ls=":")
        if show_p:
            for y, k in zip(ypos, order):
                txt = "P<0.0001" if p[k] < 1e-4 else f"P={p[k]:.4f}"
                ax.annotate(txt, xy=(1.0, y), xycoords=("axes fraction", "data"), xytext=(6, 0),
                            textcoords="offset points", va="center", fontsize=8)
        ax.grid(axis="x", alpha=0.3, lw=0.5)
        if ax.figure.get_layout_engine() is None:
            ax.figure.tight_layout()
        self.ax_ = ax
        self.figure_ = ax.figure
        self.order_ = [names[k] for k in order][::-1]
        return self
