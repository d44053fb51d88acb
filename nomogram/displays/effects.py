"""Forest plot of the odds or hazard ratios of :func:`nomogram.effects` (rms ``plot.summary.rms``)."""

from __future__ import annotations

import numpy as np

from .._design import format_level

__all__ = ["EffectsDisplay"]


class EffectsDisplay:
    """Each comparison's odds or hazard ratio with its confidence interval, on a log axis.

    One row per comparison of :func:`nomogram.effects` ("age 46:61" for a
    numeric predictor's range, "tgrade I:II" for a level against the
    reference), a point at the ratio, a line for the interval and a dotted
    line at 1.

    Parameters
    ----------
    result : EffectsResult

    Attributes (after :meth:`plot`)
    -------------------------------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    labels_ : list of str
        Row labels, top to bottom.

    Examples
    --------
    >>> EffectsDisplay.from_estimator(model).figure_.savefig("effects.png")  # doctest: +SKIP
    """

    def __init__(self, result):
        self.result = result

    @classmethod
    def from_result(cls, result, *, ax=None, **plot_kwargs):
        """Plot an :class:`~nomogram.effect_summary.EffectsResult`."""
        return cls(result).plot(ax=ax, **plot_kwargs)

    @classmethod
    def from_estimator(cls, model, ranges=None, *, adjust_to=None, conf_level=0.95, ax=None, **plot_kwargs):
        """Run :func:`nomogram.effects` on a fitted model and plot the result."""
        from ..effect_summary import effects

        return cls(effects(model, ranges, adjust_to=adjust_to, conf_level=conf_level)).plot(ax=ax, **plot_kwargs)

    def plot(self, ax=None, *, show_values: bool = True, color=None):
        """Draw on ``ax`` (a new figure when None); returns ``self``.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        show_values : bool, default True
            Write "ratio (lower-upper)" at the right of each row.
        color : matplotlib colour, optional
        """
        import matplotlib.pyplot as plt

        r = self.result
        t = r.ratios()
        n = len(t)
        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 0.45 * n + 1.2))
        labels = [f"{p} - {format_level(hi)}:{format_level(lo)}" for p, lo, hi in zip(t["predictor"], t["low"],
                                                                                        t["high"])]
        ypos = np.arange(n)[::-1]
        est, lo, hi = t[r.ratio_label].to_numpy(), t["lower"].to_numpy(), t["upper"].to_numpy()
        ax.hlines(ypos, lo, hi, color=color or "C0", lw=2)
        ax.plot(est, ypos, "D", color=color or "C0", ms=5)
        ax.axvline(1.0, color="0.4", lw=0.8, ls=":")
        ax.set_xscale("log")
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

        lo_all, hi_all = min(lo.min(), 1.0), max(hi.max(), 1.0)
        ticks = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
                 if lo_all / 1.5 <= v <= hi_all * 1.5]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(ypos)
        ax.set_yticklabels(labels)
        ax.set_ylim(-0.7, n - 0.3)
        pct = round(100 * r.conf_level)
        ax.set_xlabel(f"{r.ratio_label} ({pct}% CI)")
        if show_values:
            for y, e, a, b in zip(ypos, est, lo, hi):
                ax.annotate(f"{e:.2f} ({a:.2f}-{b:.2f})", xy=(1.0, y), xycoords=("axes fraction", "data"),
                            xytext=(6, 0), textcoords="offset points", va="center", fontsize=8)
        ax.grid(axis="x", alpha=0.3, lw=0.5, which="both")
        if ax.figure.get_layout_engine() is None:
            ax.figure.tight_layout()
        self.ax_ = ax
        self.figure_ = ax.figure
        self.labels_ = labels
        return self
