"""Partial-effect curves of :func:`nomogram.partial_effects`, one panel per predictor (rms ``ggplot.Predict``)."""

from __future__ import annotations

import numpy as np

from .._design import format_level

__all__ = ["PartialEffectDisplay"]


class PartialEffectDisplay:
    """One panel per predictor: the prediction over its grid with a pointwise confidence band.

    A numeric predictor is a line with a shaded band, a categorical one a point
    per level with error bars (as rms ``ggplot.Predict`` draws them); with
    ``overlay``, one line (or point) per value of the ``overlay`` predictor. Panels share
    the y axis so that the predictors' effects can be compared, as in rms.

    Parameters
    ----------
    result : PartialEffects
        From :func:`nomogram.partial_effects`.

    Attributes (after :meth:`plot`)
    -------------------------------
    ax_ : ndarray of matplotlib Axes (one per predictor)
    figure_ : matplotlib Figure
    lines_ : dict of {str: list of matplotlib artists}
        The curve (or points) of each predictor.

    Examples
    --------
    >>> PartialEffectDisplay.from_estimator(model, ["age", "tgrade"]).figure_.savefig("pe.png")  # doctest: +SKIP
    """

    def __init__(self, result):
        self.result = result

    @classmethod
    def from_result(cls, result, *, ax=None, **plot_kwargs):
        """Plot a :class:`~nomogram.effect_curves.PartialEffects`."""
        return cls(result).plot(ax=ax, **plot_kwargs)

    @classmethod
    def from_estimator(cls, model, predictors=None, *, overlay=None, values=None, adjust_to=None, scale="lp",
                       horizon=None, ref_zero=False, n_points=200, conf_level=0.95, ax=None, **plot_kwargs):
        """Run :func:`nomogram.partial_effects` on a fitted model and plot the result."""
        from ..effect_curves import partial_effects

        result = partial_effects(model, predictors, overlay=overlay, values=values, adjust_to=adjust_to, scale=scale,
                                 horizon=horizon, ref_zero=ref_zero, n_points=n_points, conf_level=conf_level)
        return cls(result).plot(ax=ax, **plot_kwargs)

    def plot(self, ax=None, *, n_cols: int | None = None, ci: bool = True, sharey: bool = True,
             show_adjust: bool = True):
        """Draw the panels; returns ``self``.

        Parameters
        ----------
        ax : matplotlib Axes or array of Axes, optional
            One Axes per predictor; a new figure when None.
        n_cols : int, optional
            Panels per row (default: up to 3).
        ci : bool, default True
            Draw the confidence band / error bars.
        sharey : bool, default True
            Same y range on every panel (new figure only).
        show_adjust : bool, default True
            Write the adjust-to values of the other predictors under the panels.
        """
        import matplotlib.pyplot as plt

        r = self.result
        n = len(r.predictors)
        if ax is None:
            n_cols = n_cols or min(3, n)
            n_rows = int(np.ceil(n / n_cols))
            fig, axes = plt.subplots(n_rows, n_cols, figsize=(max(3.6 * n_cols, 5.0), 3.0 * n_rows + 0.5),
                                     sharey=sharey, squeeze=False)
            axes = axes.ravel()
            for extra in axes[n:]:
                extra.set_visible(False)
        else:
            axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
            if len(axes) < n:
                raise ValueError(f"PartialEffectDisplay.plot: {n} predictors need {n} axes; got {len(axes)}.")
            fig = axes[0].figure
        self.lines_ = {}
        pct = round(100 * r.conf_level)
        for k, (p, a) in enumerate(zip(r.predictors, axes)):
            curve = r.curve(p)
            groups = [(None, curve)] if r.overlay is None else [
                (lv, curve[curve[r.overlay] == lv]) for lv in dict.fromkeys(curve[r.overlay])]
            artists = []
            for g, (lv, c) in enumerate(groups):
                label = None if lv is None else f"{r.overlay}={format_level(lv)}"
                yhat, lower, upper = (c[k].to_numpy(dtype=float) for k in ("yhat", "lower", "upper"))
                if r.categorical[p]:
                    pos = np.arange(len(c)) + (g - (len(groups) - 1) / 2) * 0.15
                    yerr = np.vstack([yhat - lower, upper - yhat]) if ci else None
                    art = a.errorbar(pos, yhat, yerr=yerr, fmt="o", ms=5, capsize=3, label=label)
                    a.set_xticks(np.arange(len(c)))
                    a.set_xticklabels([format_level(v) for v in c[p]])
                    a.set_xlim(-0.6, len(c) - 0.4)
                else:
                    x = c[p].to_numpy(dtype=float)
                    (art,) = a.plot(x, yhat, lw=1.8, label=label)
                    if ci:
                        a.fill_between(x, lower, upper, color=art.get_color(), alpha=0.2, lw=0)
                artists.append(art)
            self.lines_[p] = artists
            a.set_xlabel(p)
            if k % (n_cols or min(3, n)) == 0 or ax is not None:
                a.set_ylabel(r.ylabel)
            if r.ref_zero:  # the adjust-to patient is the reference: 0 on the lp scale, 1 as a ratio
                a.axhline(0.0 if r.scale == "lp" else 1.0, color="0.5", lw=0.7, ls=":")
            a.grid(alpha=0.3, lw=0.5)
            if r.overlay is not None and k == 0:
                a.legend(fontsize=8, frameon=False)
        if show_adjust:
            held = [f"{name}={format_level(v)}" for name, v in r.adjust_to.items()
                    if name != r.overlay and not (n == 1 and name in r.predictors)]
            text = f"{pct}% pointwise confidence limits; other predictors held at " + " ".join(held)
            if r.ref_zero:
                text += "; relative to the patient at all adjust-to values"
            fig.text(0.01, 0.005, text, fontsize=7, color="0.3", va="bottom", wrap=True)
        if ax is None:
            fig.tight_layout(rect=(0, 0.03, 1, 1))
        self.ax_ = axes[:n]
        self.figure_ = fig
        return self
