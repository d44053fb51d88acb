"""Kaplan–Meier curves with a numbers-at-risk table (matplotlib imported lazily)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..checks import check_survival_y, survival_outcome, warn_deprecated
from .._kaplan_meier import KaplanMeier, kaplan_meier
from ..risk_groups import RiskGroups

__all__ = ["KaplanMeierDisplay"]


class KaplanMeierDisplay:
    """Kaplan–Meier curves, one per group, and a numbers-at-risk table under the plot.

    Parameters
    ----------
    curves : dict of str to KaplanMeier
    follow_up : dict of str to ndarray
        Follow-up times per group (for the numbers at risk).

    Build it with :meth:`from_result` (a :class:`~nomogram.RiskGroups` or
    Kaplan–Meier curves), :meth:`from_predictions` (a risk score and a
    cut-off), :meth:`from_estimator` (a fitted model) or
    :meth:`from_survival` (any grouping, e.g. treatment arm).
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
    def from_result(cls, result, *, ax=None, risk_table_times=None, show_ci=True,
                    xlabel="Time", ylabel="Survival probability"):
        """Plot a computed result.

        Parameters
        ----------
        result : RiskGroups, KaplanMeier or dict of str to KaplanMeier
            :func:`nomogram.risk_groups` (its groups, with the log-rank p and
            HR written in the plot), one :func:`nomogram.kaplan_meier` curve,
            or several named curves.
        ax, risk_table_times, show_ci, xlabel, ylabel
            As in :meth:`plot`.

        Returns
        -------
        KaplanMeierDisplay
        """
        note = None
        if isinstance(result, RiskGroups):
            hr = result.hazard_ratio.iloc[1]
            p = result.logrank.p_value
            p_txt = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
            note = (f"Log-rank {p_txt}\nHR {hr['hr']:.2f} "
                    f"({hr['hr_lower']:.2f}-{hr['hr_upper']:.2f})")
            curves = result.km
            follow = {lab: result.time[result.group == lab] for lab in result.labels}
        else:
            if isinstance(result, KaplanMeier):
                curves = {"all": result}
            elif isinstance(result, Mapping) and all(isinstance(v, KaplanMeier) for v in result.values()):
                curves = {str(k): v for k, v in result.items()}
            else:
                raise TypeError(
                    "KaplanMeierDisplay.from_result expects a RiskGroups, a KaplanMeier or a dict of "
                    f"KaplanMeier curves; got {type(result).__name__}."
                )
            # each patient's follow-up, recovered exactly from the curve's counts
            follow = {lab: np.repeat(km.time, (km.n_event + km.n_censor).astype(int))
                      for lab, km in curves.items()}
        return cls(curves, follow, note).plot(
            ax=ax, risk_table_times=risk_table_times, show_ci=show_ci, xlabel=xlabel, ylabel=ylabel
        )

    @classmethod
    def from_risk_groups(cls, result: RiskGroups, **kwargs):
        """Deprecated name of :meth:`from_result`."""
        warn_deprecated("KaplanMeierDisplay.from_risk_groups was renamed from_result",
                        "call KaplanMeierDisplay.from_result(result, ...)")
        return cls.from_result(result, **kwargs)

    @classmethod
    def from_predictions(cls, y, score, cutoff="median", *, ax=None, risk_table_times=None,
                         show_ci=True, xlabel="Time", ylabel="Survival probability", **kwargs):
        """Split patients at a cut-off of a risk score (:func:`nomogram.risk_groups`) and plot.

        Parameters
        ----------
        y : DataFrame [time, event], (n, 2) array or structured array
        score : array-like of shape (n,)
            Higher = higher risk.
        cutoff : {"median", "youden", "maxstat"} or float, default "median"
        **kwargs
            Passed to :func:`~nomogram.risk_groups` (``horizon``, ``labels``, ...).
        """
        from ..risk_groups import risk_groups

        result = risk_groups(y, score, cutoff, **kwargs)
        return cls.from_result(result, ax=ax, risk_table_times=risk_table_times, show_ci=show_ci,
                               xlabel=xlabel, ylabel=ylabel)

    @classmethod
    def from_estimator(cls, model, X, y, cutoff="median", *, ax=None, risk_table_times=None,
                       show_ci=True, xlabel="Time", ylabel="Survival probability", **kwargs):
        """Risk groups of a fitted model's linear predictor (``decision_function(X)``), plotted.

        Parameters
        ----------
        model : fitted CoxNomogram (or any estimator with ``decision_function``)
        X : pandas.DataFrame
        y : DataFrame [time, event], (n, 2) array or structured array
        cutoff, **kwargs
            As in :meth:`from_predictions`.
        """
        score = model.decision_function(X)
        return cls.from_predictions(y, score, cutoff, ax=ax, risk_table_times=risk_table_times,
                                    show_ci=show_ci, xlabel=xlabel, ylabel=ylabel, **kwargs)

    @classmethod
    @survival_outcome
    def from_survival(cls, y, group=None, *, ax=None, risk_table_times=None, show_ci=True,
                      xlabel="Time", ylabel="Survival probability", conf_level=0.95):
        """Kaplan–Meier curves per group (or overall), plotted.

        Parameters
        ----------
        y : DataFrame [time, event], (n, 2) array or structured array
            Survival outcome.
        group : array-like of shape (n,), optional
            Any labels (treatment arm, stage, ...); one curve each.
        conf_level : float, default 0.95
        """
        time, event = check_survival_y(y, caller="KaplanMeierDisplay.from_survival", require_event=False)
        if group is None:
            group = np.full(len(time), "all")
        group = np.asarray(group)
        if len(group) != len(time):
            raise ValueError(
                f"KaplanMeierDisplay.from_survival: group has {len(group)} values but y has {len(time)}."
            )
        labels = [str(g) for g in np.unique(group)]
        curves = {lab: kaplan_meier((time[group.astype(str) == lab], event[group.astype(str) == lab]),
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
