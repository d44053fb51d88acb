"""Kaplan–Meier curves with a numbers-at-risk table (matplotlib imported lazily)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..checks import check_survival_y
from .._kaplan_meier import KaplanMeier, kaplan_meier
from ..risk_groups import RiskGroups

__all__ = ["KaplanMeierDisplay"]


class KaplanMeierDisplay:
    """Kaplan–Meier curves, one per group, and a numbers-at-risk table under the plot.

    Parameters
    ----------
    curves : dict of str to KaplanMeier
    at_risk : dict of str to ndarray
        Follow-up times per group (for the numbers at risk).
    annotation : str, optional
        Text written in the plot (log-rank p, HR).

    Attributes (after :meth:`plot`)
    -------------------------------
    ax_ : matplotlib Axes of the curves
    table_ax_ : matplotlib Axes of the numbers-at-risk table (None without table)
    figure_ : matplotlib Figure
    """

    def __init__(self, curves: Mapping[str, KaplanMeier], follow_up: Mapping[str, np.ndarray],
                 annotation: str | None = None):
        self.curves = dict(curves)
        self.follow_up = {k: np.asarray(v, float) for k, v in follow_up.items()}
        self.annotation = annotation

    @classmethod
    def from_risk_groups(cls, result: RiskGroups, *, ax=None, risk_table_times=None, show_ci=True,
                         xlabel="Time", ylabel="Survival probability"):
        """Plot the groups of :func:`nomogram.risk_groups` with log-rank p and HR."""
        hr = result.hazard_ratio.iloc[1]
        p = result.logrank.p_value
        p_txt = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
        note = (f"Log-rank {p_txt}\nHR {hr['hr']:.2f} "
                f"({hr['hr_lower']:.2f}-{hr['hr_upper']:.2f})")
        follow = {lab: result.time[result.group == lab] for lab in result.labels}
        return cls(result.km, follow, note).plot(
            ax=ax, risk_table_times=risk_table_times, show_ci=show_ci, xlabel=xlabel, ylabel=ylabel
        )

    @classmethod
    def from_survival(cls, time, event, group=None, *, ax=None, risk_table_times=None, show_ci=True,
                      xlabel="Time", ylabel="Survival probability", conf_level=0.95):
        """Compute Kaplan–Meier curves per group (or overall) and plot."""
        time, event = check_survival_y((time, event), caller="KaplanMeierDisplay.from_survival")
        if group is None:
            group = np.full(len(time), "all")
        group = np.asarray(group)
        if len(group) != len(time):
            raise ValueError(
                f"KaplanMeierDisplay.from_survival: group has {len(group)} values but time has {len(time)}."
            )
        labels = [str(g) for g in np.unique(group)]
        curves = {lab: kaplan_meier(time[group.astype(str) == lab], event[group.astype(str) == lab],
                                    conf_level=conf_level) for lab in labels}
        follow = {lab: time[group.astype(str) == lab] for lab in labels}
        return cls(curves, follow).plot(ax=ax, risk_table_times=risk_table_times, show_ci=show_ci,
                                       xlabel=xlabel, ylabel=ylabel)

    def plot(self, ax=None, *, risk_table_times: Sequence[float] | None = None, show_ci: bool = True,
             risk_table: bool = True, xlabel="Time", ylabel="Survival probability"):
        """Draw step curves (censoring marks, CI bands) and the numbers-at-risk table.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            The table is appended below it (``make_axes_locatable``).
        risk_table_times : sequence of float, optional
            Default: the x tick positions.
        show_ci : bool, default True
        risk_table : bool, default True

        Returns
        -------
        self
        """
        import matplotlib.pyplot as plt
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 5.5 if risk_table else 4.5))
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        tmax = max(float(np.max(v)) for v in self.follow_up.values())
        for i, (lab, km) in enumerate(self.curves.items()):
            c = colors[i % len(colors)]
            x = np.r_[0.0, km.time]
            y = np.r_[1.0, km.surv]
            ax.step(x, y, where="post", color=c, lw=1.8, label=lab)
            cens = km.n_censor > 0
            ax.plot(km.time[cens], km.surv[cens], "|", color=c, ms=6, mew=1)
            if show_ci:
                lo = np.r_[1.0, km.lower]
                hi = np.r_[1.0, km.upper]
                ax.fill_between(x, lo, hi, step="post", color=c, alpha=0.15, lw=0)
        ax.set_ylim(0, 1.02)
        ax.set_xlim(0, tmax * 1.02)
        ax.set_ylabel(ylabel)
        ax.legend(frameon=False, loc="lower left")
        if self.annotation:
            ax.text(0.98, 0.98, self.annotation, transform=ax.transAxes, ha="right", va="top")
        self.table_ax_ = None
        if risk_table:
            times = (np.asarray(risk_table_times, float) if risk_table_times is not None
                     else np.array([t for t in ax.get_xticks() if 0 <= t <= tmax]))
            ax.set_xticks(times)
            divider = make_axes_locatable(ax)
            tab = divider.append_axes("bottom", size=f"{8 + 6 * len(self.curves)}%", pad=0.55,
                                      sharex=ax)
            labels = list(self.curves)
            for i, lab in enumerate(labels):
                y = len(labels) - 1 - i
                at_risk = self.curves[lab].at(times)["n.risk"]  # follow-up >= t (survfit's n.risk)
                for t, n_at in zip(times, at_risk):
                    tab.text(t, y, str(int(n_at)), ha="center", va="center",
                             color=colors[i % len(colors)], fontsize=9)
            tab.set_ylim(-0.5, len(labels) - 0.5)
            tab.set_yticks(range(len(labels)))
            tab.set_yticklabels(labels[::-1])
            tab.set_title("Number at risk", loc="left", fontsize=9)
            tab.tick_params(axis="y", length=0, pad=14)
            for side in ("top", "right", "left"):
                tab.spines[side].set_visible(False)
            tab.set_xlabel(xlabel)
            plt.setp(ax.get_xticklabels(), visible=False)
            self.table_ax_ = tab
        else:
            ax.set_xlabel(xlabel)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
