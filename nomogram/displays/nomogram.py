"""The nomogram chart: rms ``plot.nomogram``'s layout, made readable for a journal (matplotlib, lazily).

Layout (rms 6.5 ``plot.nomogram``): a *Points* ruler on top (0 to ``maxscale``,
labelled at ``pretty(c(0, maxscale), nint)`` with minor ticks every quarter
step); one horizontal axis per predictor, with the predictor's tick values
placed at their points (so an axis is as long as the points it can give);
then *Total Points*, *Linear Predictor* and one axis per outcome (risk, or
survival at each time). The total-points axis runs on its own scale: with
:math:`T_{max}` the largest total-points tick, a total of :math:`t` points is
drawn at :math:`x = t \\cdot \\text{maxscale} / T_{max}`, so the whole
total-points range spans the same width as the Points ruler; the
linear-predictor and outcome axes, whose positions are in total points, are
drawn on that scale too. Variable names sit at the left; a title above says
what is predicted (``Nomogram.title``, e.g. "Nomogram predicting 3-year and
5-year recurrence-free survival").

Where rms is hard to read, this chart departs from it:

* **Folded axes.** A continuous predictor whose points turn back (a U-shaped
  spline such as age) is drawn as one *branch* per monotone piece, stacked
  under its name, each labelled with its range of values ("20-46",
  "46-62", ...) and with monotone labels on it, joined at the turning points
  by a dotted connector. rms draws one line with labels alternately above and
  below, in an order a reader cannot follow. Turning points are found on a
  fine grid of the predictor, not only at the ticks; a turn whose points
  change by less than ``min_span`` (half a point) is not a branch.
* **Ticks that fit.** On a continuous axis every drawn tick is labelled: the
  ticks are chosen, both ends first and then the roundest values, so that
  each label fits beside the others on one of ``label_lines`` lines under the
  axis (a label on the second line hangs from a longer tick). A tick whose
  label would not fit is not drawn (rms draws it and silently drops the label,
  which turns a skewed axis into a black block). Categorical levels are
  never left out: they alternate below and above as rms draws them (``compact``:
  below first) and move further out when they collide.
* **Patient overlay** (``patient=``, a one-row DataFrame; R ``regplot``'s
  observation): an open ring on each axis at the patient's value (the tick
  under it stays visible), a dashed guide from each predictor's ring up to the
  Points ruler and one reading line through Total Points, Linear Predictor and
  the outcome axes; the guides are interrupted wherever they would cross a
  label. The patient's numbers (points per predictor, total points, linear
  predictor, outcomes with their confidence interval when ``conf_int`` is
  given) are printed in one column at the right, on each axis' row. They are
  ``Nomogram.points(patient)``: exact values, not read off the ticks.
* **Confidence bars** (``conf_int=(0.7, 0.9)``, rms ``conf.int``): bars for the
  linear predictor at rms's representative settings (``conf_lp``, see
  :meth:`Nomogram.lp_confidence_points`) above the Linear Predictor axis, one
  shade per level, and the patient's own interval when a patient is drawn.

Every text is placed against the extents of those already drawn (measured by
the renderer), and rows are spaced from the measured height of their labels,
so no two texts overlap whatever the fonts.

References
----------
Harrell FE. rms: ``plot.nomogram`` (R/plot.nomogram.s), version 6.5-0.
Marshall RJ. regplot: ``regplot`` (R package), for the patient overlay.
Iasonos A, Schrag D, Raj GV, Panageas KS (2008). How to build and interpret a
nomogram for cancer prognosis. J Clin Oncol 26:1364-70.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._pretty import pretty
from ..points import Nomogram, _format_number
from ._nomogram_layout import Branch, axis_branches, choose_ticks, format_bound, place_levels

__all__ = ["NomogramDisplay", "rms_label_sides", "PUBLICATION_RC"]

#: rcParams applied when a figure made here is saved: real text in SVG, and
#: TrueType (Type 42) fonts in PDF/PS, which journals ask for (Type 3 is refused
#: by many submission systems).
PUBLICATION_RC = {"svg.fonttype": "none", "pdf.fonttype": 42, "ps.fonttype": 42}

_BELOW, _ABOVE = -1, 1


def rms_label_sides(points, discrete: bool) -> np.ndarray:
    """Side of each tick label as rms ``plot.nomogram`` chooses it.

    Parameters
    ----------
    points : array-like of shape (n_ticks,)
        Tick positions on the points scale, in the order of the axis values,
        after flat runs were merged (``Axis.points``).
    discrete : bool
        True for a categorical predictor or a numeric one with at most 10
        distinct values (rms ``discrete``).

    Returns
    -------
    ndarray of int, shape (n_ticks,)
        ``-1`` below the line (R side 1), ``+1`` above (R side 3).

    Notes
    -----
    With :math:`d_k = \\mathbb{1}[x_{k+1} > x_k]`, a direction change is flagged
    at tick :math:`k+2` when :math:`d_{k+1} \\ne d_k` (rms ``ch``). Discrete
    axes: ticks sorted by points (stable) are labelled below, above, below, ...
    Otherwise, with no change all labels are below; with changes, the axis is cut
    before each flagged tick and the pieces alternate below/above, starting below.
    The chart uses these sides for discrete axes; it draws a continuous axis
    that changes direction as branches instead (module docstring).
    """
    xt = np.asarray(points, dtype=float)
    n = len(xt)
    sides = np.full(n, _BELOW, dtype=int)
    if discrete and n > 1:
        order = np.argsort(xt, kind="stable")
        sides[order[1::2]] = _ABOVE
        return sides
    change = _direction_changes(xt)
    side = _BELOW
    for k in range(n):
        if change[k]:
            side = -side
        sides[k] = side
    return sides


def _direction_changes(xt) -> np.ndarray:
    """rms ``ch``: True at tick k (0-based, k >= 2) when the direction turns at tick k-1."""
    n = len(xt)
    ch = np.zeros(n, dtype=bool)
    if n > 2:
        up = np.diff(xt) > 0
        ch[2:] = up[1:] != up[:-1]
    return ch


@dataclass
class _Row:
    """One axis of the chart before it is drawn."""

    label: str  # axis label (key of rows_)
    kind: str  # "ruler", "predictor", "total_points", "linear_predictor", "outcome"
    gid: str
    values: list
    points: np.ndarray  # on the axis' own scale (points, or total points)
    texts: list
    to_x: float = 1.0
    discrete: bool = False
    gap: float = 1.0  # rows (units) above this one, at least
    branches: list = field(default_factory=list)  # Branch (continuous and bottom axes)
    kept: list = field(default_factory=list)  # per branch: {tick index: label line}
    above: float = 0.0  # space needed above / below the (first / last) line, in pt
    below: float = 0.0
    ys: list = field(default_factory=list)  # y of each branch (one for others)
    axis: object = None


class NomogramDisplay:
    """Nomogram chart of a :class:`~nomogram.Nomogram` (rms ``plot.nomogram``, made readable).

    Build it from a computed nomogram (``NomogramDisplay(model.nomogram())``,
    or ``model.nomogram().plot()``) or with :meth:`from_estimator`, then call
    :meth:`plot`. After plotting, ``ax_`` and ``figure_`` hold the matplotlib
    axes and figure; :meth:`savefig` (or ``figure_.savefig``) writes PDF, SVG
    or PNG (300 dpi by default). A figure made by :meth:`plot` saves text as
    text in SVG and with TrueType fonts in PDF (:data:`PUBLICATION_RC`), unless
    the caller changed those rcParams. The module docstring describes the
    layout and where it departs from rms.

    Parameters
    ----------
    nomogram : Nomogram
        The computed nomogram (axes, points scale).
    patient : pandas.DataFrame of one row, optional
        A patient to read off the chart (module docstring). Numbers come from
        ``nomogram.points(patient)``.

    Attributes
    ----------
    ax_ : matplotlib.axes.Axes
    figure_ : matplotlib.figure.Figure
    rows_ : dict
        For each drawn axis label (and ``"Points"``): ``y`` (row position of
        its first line, in data units), ``to_x`` (factor from the axis' points
        to data x), ``ticks`` (drawn tick positions, data x), ``labels`` (dict
        tick index -> drawn Text; every drawn tick has one), ``sides`` (dict
        tick index -> -1 below / +1 above), ``omitted`` (tick indices not drawn
        because their labels would not fit), ``dropped`` (drawn ticks without a
        label: always empty) and ``branches`` (per line: ``y``, ``values``
        (low, high), ``x`` (data x of low and high), ``direction``, ``tag``
        (the Text naming its range, or None)).
    patient_points_ : pandas.DataFrame or None
        ``nomogram.points(patient)`` when a patient was drawn.
    patient_limits_ : pandas.DataFrame or None
        ``nomogram.confidence_limits(patient)`` when a patient and ``conf_int`` were given.
    conf_points_ : pandas.DataFrame
        With ``conf_int``: the linear predictors and standard errors of the bars
        (:meth:`Nomogram.lp_confidence_points`).

    Examples
    --------
    >>> disp = NomogramDisplay.from_estimator(model, patient=X.iloc[[0]])  # doctest: +SKIP
    >>> disp.savefig("nomogram.pdf")  # doctest: +SKIP

    References
    ----------
    Harrell FE. rms ``plot.nomogram`` (R/plot.nomogram.s).
    """

    def __init__(self, nomogram: Nomogram, patient: pd.DataFrame | None = None):
        if not isinstance(nomogram, Nomogram):
            raise TypeError(
                "NomogramDisplay expects a Nomogram (from model.nomogram()); got "
                f"{type(nomogram).__name__}. Use NomogramDisplay.from_estimator(model) for a fitted model."
            )
        self.nomogram = nomogram
        self.patient = patient

    @classmethod
    def from_result(cls, nomogram: Nomogram, patient: pd.DataFrame | None = None, *, ax=None,
                    **plot_kwargs) -> "NomogramDisplay":
        """Draw a computed :class:`~nomogram.Nomogram` (``model.nomogram(...)``)."""
        return cls(nomogram, patient=patient).plot(ax=ax, **plot_kwargs)

    @classmethod
    def from_estimator(cls, model, patient: pd.DataFrame | None = None, *, ax=None, plot_kwargs=None,
                       **nomogram_kwargs) -> "NomogramDisplay":
        """Compute the nomogram of a fitted model and draw it.

        Parameters
        ----------
        model : fitted LogisticNomogram or CoxNomogram
        patient : pandas.DataFrame of one row, optional
        ax : matplotlib.axes.Axes, optional
        plot_kwargs : dict, optional
            Passed to :meth:`plot` (``fontsize``, ``col_grid``, ``conf_int``, ...).
        **nomogram_kwargs
            Passed to ``model.nomogram`` (``values``, ``fun_at``, ``times``,
            ``outcome_name``, ``time_unit``, ``maxscale``...).

        Returns
        -------
        NomogramDisplay
        """
        nom = model.nomogram(**nomogram_kwargs)
        return cls(nom, patient=patient).plot(ax=ax, **dict(plot_kwargs or {}))

    # ------------------------------------------------------------------ drawing
    def plot(self, ax=None, *, fontsize: float = 9.0, tick_fontsize: float | None = None, title=True,
             title_fontsize: float | None = None, col_grid=None, figsize=None, xfrac: float | None = None,
             nint: int = 10, ia_space: float = 0.7, branch_space: float = 0.6, points_label: str = "Points",
             label_wrap: int = 24, linewidth: float | None = None, color: str = "black",
             patient_color: str = "#b2182b", fontfamily: str | None = None, compact: bool = False,
             conf_int=None, conf_lp: str = "representative", col_conf=("black", "0.6"),
             label_lines: int | None = None, min_span: float | None = None,
             labels: dict | None = None) -> "NomogramDisplay":
        """Draw the nomogram.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw into (its frame and ticks are turned off). Default: a new
            figure sized from the rows drawn (``figsize``).
        fontsize : float, default 9
            Size in points of the variable names at the left (rms ``cex.var``).
        tick_fontsize : float, optional
            Size of tick labels; default ``0.85 * fontsize`` (rms ``cex.axis=.85``).
        title : bool or str, default True
            True: ``nomogram.title`` above the chart; a string: that text; False: none.
        title_fontsize : float, optional
            Default ``1.1 * fontsize``.
        col_grid : color or (major, minor) colors or True, optional
            Faint vertical lines at the Points ruler's major (and minor) ticks,
            over the predictor rows (rms ``col.grid``). ``True`` uses light greys.
        figsize : (float, float), optional
            Inches; default 7 wide (a double-column figure) and as tall as the
            rows need (about ``0.45 * fontsize / 9`` inch per axis, 0.33 in
            ``compact`` mode).
        xfrac : float, optional
            Width of the variable-name column as a fraction of ``maxscale`` (rms
            ``xfrac=.35``). Default: just wide enough for the longest name.
        nint : int, default 10
            Intervals asked of ``pretty`` for the Points ruler (rms ``nint``).
        ia_space : float, default 0.7
            Vertical space, in rows, before the second and later axis of a
            predictor drawn once per level of an interacting factor (rms ``ia.space``).
        branch_space : float, default 0.6
            Vertical space, in rows, between the branches of a folded axis.
        points_label : str, default "Points"
        label_wrap : int, default 24
            Variable names longer than this many characters are wrapped at spaces.
        labels : dict of {str: str}, optional
            Text drawn for an axis instead of its name, e.g. ``{"alp": "ALP (U/L)"}``
            (as rms draws Hmisc labels). A predictor's key also renames its
            interaction axes (``"age (sex=m)"`` becomes ``"Age, years (sex=m)"``).
        linewidth : float, optional
            Width of axis lines and ticks in points; default ``0.8 * fontsize / 9``.
        color : color, default "black"
        patient_color : color, default dark red
        fontfamily : str, optional
            Font family of all text (e.g. ``"Arial"``, ``"serif"``); default from rcParams.
        compact : bool, default False
            Tighter rows (for many predictors): 0.33 instead of 0.45 inch per row,
            one line of tick labels, and categorical levels labelled below their
            axis first.
        conf_int : float or sequence of float or True, optional
            Confidence levels of the linear-predictor bars (rms ``conf.int``;
            True is ``(0.7, 0.9)``). Needs a nomogram with the coefficients'
            covariance (``model.nomogram()``).
        conf_lp : {"representative", "all"}, default "representative"
            Which settings get bars (rms ``conf.lp``; :meth:`Nomogram.lp_confidence_points`).
        col_conf : sequence of colors, default ("black", "0.6")
            Colour of each level's bar segment, innermost first (rms ``col.conf``).
        label_lines : {1, 2}, optional
            Lines of tick labels a continuous predictor or outcome axis may use:
            with 2, a tick whose label does not fit below the axis may have it
            above (each side in monotone order). Default 2, and 1 in ``compact`` mode.
        min_span : float, optional
            A turn of a continuous axis whose points change by less than this is
            not drawn as a branch; default ``0.005 * maxscale`` (half a point).

        Returns
        -------
        NomogramDisplay
            ``self``, with ``ax_``, ``figure_``, ``rows_`` (and ``patient_points_``) set.
        """
        import matplotlib.pyplot as plt

        caller = "NomogramDisplay.plot"
        for name, v in (("fontsize", fontsize), ("branch_space", branch_space), ("ia_space", ia_space)):
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise ValueError(f"The '{name}' parameter of {caller} must be a positive number. Got {v!r} instead.")
        if label_lines is None:
            label_lines = 1 if compact else 2
        if label_lines not in (1, 2):
            raise ValueError(f"The 'label_lines' parameter of {caller} must be 1 or 2. Got {label_lines!r} instead.")
        if conf_lp not in ("representative", "all"):
            raise ValueError(f"The 'conf_lp' parameter of {caller} must be one of {{'representative', 'all'}}. "
                             f"Got {conf_lp!r} instead.")
        levels = _conf_levels(conf_int, caller)
        nom = self.nomogram
        if levels and not nom.has_variance():
            raise ValueError(f"{caller}: conf_int needs the coefficients' covariance, which this nomogram lacks; "
                             "draw model.nomogram() (or a spec written with 'variance').")
        patient_pts = self._patient_points()
        patient_lim = None
        if patient_pts is not None and levels:
            patient_lim = nom.confidence_limits(self.patient, conf_level=max(levels))
        tick_fs = 0.85 * fontsize if tick_fontsize is None else float(tick_fontsize)
        title_fs = 1.1 * fontsize if title_fontsize is None else float(title_fontsize)
        text_kw = {} if fontfamily is None else {"fontfamily": fontfamily}
        if linewidth is None:
            linewidth = max(0.5, 0.8 * fontsize / 9.0)
        if min_span is None:
            min_span = 0.005 * nom.maxscale
        self._style = dict(fs=float(fontsize), tick_fs=tick_fs, lw=linewidth, color=color,
                           pcolor=patient_color, text_kw=text_kw, compact=bool(compact))
        title_text = nom.title if title is True else (str(title) if title else None)

        created = ax is None
        if created:
            width = 7.0 if figsize is None else float(figsize[0])
            fig = plt.figure(figsize=(width, 4.0))
            ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
            _publication_savefig(fig)
        fig = ax.figure
        ax.set_axis_off()
        renderer = _renderer(fig)
        self.ax_, self.figure_ = ax, fig
        px_per_pt = fig.dpi / 72.0

        # ---- rows and horizontal scale
        rows = self._rows(ia_space, min_span, points_label, nint)
        maxscale = nom.maxscale
        to_x_bottom = self._to_x_bottom()
        for r in rows:
            if r.kind in ("total_points", "linear_predictor", "outcome"):
                r.to_x = to_x_bottom
        xs = [0.0, maxscale]
        for r in rows:
            if len(r.points):
                xs += [float(np.min(r.points)) * r.to_x, float(np.max(r.points)) * r.to_x]
            for br in r.branches:
                xs += [br.x_lo * r.to_x, br.x_hi * r.to_x]
        if patient_pts is not None:
            xs += [float(v) for v in self._patient_x(patient_pts, to_x_bottom).values()]
        left_edge, right_edge = min(xs), max(xs)

        measure = _measurer(ax, renderer, text_kw)

        names = {r.label: _wrap(_display_name(r.label, labels), label_wrap) for r in rows}
        name_w = max(measure(s, fontsize)[0] for s in names.values())
        tags = {}
        for r in rows:
            if len(r.branches) > 1:
                for b, br in enumerate(r.branches):
                    tags[(r.label, b)] = f"{format_bound(br.lo, r.values)}\u2013{format_bound(br.hi, r.values)}"
        tag_w = max([measure(s, tick_fs)[0] for s in tags.values()], default=0.0)
        line_h = measure("0123456789Afgjpqy|", tick_fs)[1]  # a full line: ascenders and descenders
        tick_w = max(measure(t, tick_fs)[0] for t in ["100"] + [t for r in rows for t in r.texts])
        patient_texts = self._patient_texts(patient_pts, patient_lim, rows) if patient_pts is not None else {}
        patient_w = max([measure(s, tick_fs)[0] for s in patient_texts.values()], default=0.0)
        ax_w = ax.get_window_extent(renderer).width
        em = fontsize * px_per_pt
        right_pad = 0.6 * tick_w + (patient_w + 1.2 * em if patient_texts else 0.3 * em)
        tag_pad = tag_w + 0.6 * em if tags else 0.0
        if xfrac is None:
            left_pad = name_w + 1.0 * em + max(0.5 * tick_w, tag_pad)
            s = (ax_w - left_pad - right_pad) / max(right_edge - left_edge, 1e-12)
            x0 = left_edge - left_pad / s
        else:
            x0 = -float(xfrac) * maxscale
            s = (ax_w - right_pad) / max(right_edge - x0, 1e-12)
        x1 = right_edge + right_pad / s
        ax.set_xlim(x0, x1)
        self._x0, self._s, self._left_edge = x0, s, left_edge

        # ---- which ticks get drawn (labels that fit), in display pixels from x0
        gap = 0.35 * tick_fs * px_per_pt
        widths = {}
        for r in rows:
            widths[r.label] = np.array([measure(t, tick_fs)[0] if t else 0.0 for t in r.texts])
        for r in rows:
            centers = (np.asarray(r.points, dtype=float) * r.to_x - x0) * s
            if r.discrete:
                sides = np.full(len(r.points), _BELOW) if compact else rms_label_sides(r.points, True)
                r.kept = [place_levels(centers, widths[r.label], sides, gap)]
                continue
            lines = label_lines if r.kind in ("predictor", "outcome") else 1
            pts = np.asarray(r.points, dtype=float)
            tol = 0.0025 * (maxscale if r.kind == "predictor" else float(np.ptp(pts)) if len(pts) else 1.0)
            if r.kind in ("ruler", "total_points", "linear_predictor"):
                tol = np.inf  # linear axes: the roundest values
            r.kept = [choose_ticks(np.asarray(r.values, dtype=float), pts, centers, widths[r.label], gap,
                                   levels=lines, tol=tol, candidates=br.ticks) for br in r.branches]

        # ---- vertical layout in points (pt), then rows (units)
        tl = 0.42 * fontsize  # tick length, pt
        base = tl + 0.2 * tick_fs
        lh = line_h / px_per_pt * 1.02  # one label line, pt
        name_h = {k: measure(v, fontsize)[1] / px_per_pt for k, v in names.items()}
        for r in rows:
            half_name = 0.5 * name_h[r.label]
            if r.kind == "ruler":
                r.above, r.below = base + lh, 0.5 * tl
            elif r.discrete:
                placed = r.kept[0].values()
                n_above = max([k + 1 for sd, k in placed if sd == _ABOVE], default=0)
                n_below = max([k + 1 for sd, k in placed if sd == _BELOW], default=0)
                r.above = base + n_above * lh if n_above else 0.5 * tl
                r.below = base + n_below * lh if n_below else 0.5 * tl
            else:
                two = any(v > 0 for k in r.kept for v in k.values())
                r.above = base + lh if two else 0.5 * tl
                r.below = base + lh
            if r.kind == "linear_predictor" and levels:
                r.above = max(r.above, _conf_height(tl, self._conf_nlev(conf_lp)) + (0.35 * lh if patient_pts is not None else 0))
            r.above, r.below = max(r.above, half_name), max(r.below, half_name)
        row_in = (0.33 if compact else 0.45) * fontsize / 9.0
        unit = row_in * 72.0  # pt per row unit
        title_h = measure(title_text, title_fs)[1] / px_per_pt if title_text else 0.0
        if not created:
            # the caller's axes: fit the rows into its height
            total = self._stack(rows, unit, 1.0 if not compact else 0.75, branch_space, lh)
            top_pt = rows[0].above + (title_h + 0.6 * fontsize if title_text else 0.0)
            bottom_pt = rows[-1].below
            ax_h = ax.get_window_extent(renderer).height / px_per_pt
            unit = max(1.0, (ax_h - top_pt - bottom_pt) / max(total, 1e-9))
        spacing = 1.0 if not compact else 0.75
        self._stack(rows, unit, spacing, branch_space, lh)
        y_last = rows[-1].ys[-1]
        y_top = (rows[0].above + (title_h + 0.6 * fontsize if title_text else 0.0)) / unit + 0.12
        y_bottom = y_last - rows[-1].below / unit - 0.12
        if created:
            height = round((y_top - y_bottom) * row_in / 0.98, 2) if figsize is None else float(figsize[1])
            fig.set_size_inches(fig.get_size_inches()[0], height)
            renderer = _renderer(fig)
        ax.set_ylim(y_bottom, y_top)
        self._renderer = renderer

        # ---- draw
        self.rows_ = {}
        self._occupied = []  # display-space boxes of every text drawn so far
        self._pending_connectors = []  # folds of branched axes, drawn last (around every text)
        if title_text:
            t = ax.text(x0, y_top - 0.12, title_text, ha="left", va="top", fontsize=title_fs, color=color,
                        gid="title", linespacing=1.0, **text_kw)
            self._occupied.append(t.get_window_extent(renderer))
        for r in rows:
            y = r.ys[0]
            t = ax.text(x0, y, names[r.label], ha="left", va="center", fontsize=fontsize, color=color,
                        gid=f"{r.gid}-name", linespacing=1.0, **text_kw)
            self._occupied.append(t.get_window_extent(renderer))
        pred_rows = [r for r in rows if r.kind == "predictor"]
        ruler = rows[0]
        minor_ruler = self._ruler_minor(ruler)
        if col_grid is not None and col_grid is not False and pred_rows:
            self._grid(col_grid, np.asarray(ruler.points, dtype=float), minor_ruler, 0.0, pred_rows[-1].ys[-1])
        for r in rows:
            if r.discrete:
                self._draw_discrete(r, lh)
            else:
                self._draw_continuous(r, tags, minor_ruler if r.kind == "ruler" else self._minor(r), base, lh)
        if levels:
            self._draw_conf_bars(rows, levels, conf_lp, col_conf, to_x_bottom)

        self.patient_points_ = patient_pts
        self.patient_limits_ = patient_lim
        if patient_pts is not None:
            self._draw_patient(patient_pts, patient_lim, patient_texts, rows, to_x_bottom, levels, conf_lp)
        for xg, ya, yb, gid in self._pending_connectors:
            self._broken_vline(xg, ya, yb, gid, color="0.4", lw=0.7, ls=(0, (1, 1.5)))
        return self

    # ------------------------------------------------------------------ structure
    def _to_x_bottom(self):
        nom = self.nomogram
        total_axis = next((a for a in nom.axes if a.kind == "total_points"), None)
        new_max = float(np.max(total_axis.points)) if total_axis is not None and len(total_axis.points) else nom.maxscale
        if not new_max > 0:
            new_max = nom.maxscale
        return nom.maxscale / new_max

    def _rows(self, ia_space, min_span, points_label, nint):
        nom = self.nomogram
        ruler = np.asarray(pretty([0.0, nom.maxscale], nint), dtype=float)
        ruler = ruler[(ruler >= 0) & (ruler <= nom.maxscale + 1e-9)]
        rows = [_Row(points_label, "ruler", "points-ruler", list(ruler), ruler.copy(),
                     [_format_number(v) for v in ruler])]
        rows[0].branches = [Branch(0.0, float(ruler.max()), 0.0, float(ruler.max()), 1, list(range(len(ruler))))]
        prev = None
        for idx, a in enumerate(nom.axes):
            pts = np.asarray(a.points, dtype=float)
            cont = a.kind == "predictor" and bool(a.condition) and prev is not None and prev.predictor == a.predictor
            r = _Row(a.label, a.kind, f"axis{idx}", list(a.values), pts, list(a.tick_labels),
                     gap=ia_space if cont else 1.0, axis=a)
            if a.kind == "predictor":
                r.discrete = _is_discrete(nom, a) or any(isinstance(v, str) for v in a.values)
            if not r.discrete and len(pts):
                if a.kind == "predictor" and len(pts) > 1:
                    fun = None
                    if getattr(nom, "_design", None) is not None and a.predictor in nom._term_ranges:
                        fun = lambda v, _a=a: nom.predictor_points(_a, v)  # noqa: E731
                    r.branches = axis_branches(np.asarray(a.values, dtype=float), pts, fun, min_span=min_span)
                else:
                    order = np.argsort(pts)
                    r.branches = [Branch(float(np.min(a.values)), float(np.max(a.values)), float(pts[order[0]]),
                                         float(pts[order[-1]]), 1, list(range(len(pts))))]
            rows.append(r)
            prev = a
        return rows

    def _stack(self, rows, unit, spacing, branch_space, lh):
        """Set each row's (and branch's) y; returns the total height in units."""
        y = 0.0
        pad = 0.3 * lh
        for k, r in enumerate(rows):
            if k > 0:
                prev = rows[k - 1]
                need = (prev.below + r.above + pad) / unit
                y -= max(r.gap * spacing, need)
            r.ys = [y]
            for _ in r.branches[1:]:
                y -= max(branch_space * spacing, (r.below + 0.5 * r.above + pad) / unit)
                r.ys.append(y)
        return -y

    def _ruler_minor(self, ruler):
        pts = np.asarray(ruler.points, dtype=float)
        quarter = (pts[1] - pts[0]) / 4.0 if len(pts) > 1 else self.nomogram.maxscale / 4.0
        minor = np.arange(0.0, pts.max() + quarter / 2, quarter)
        return minor[~np.isclose(minor[:, None], pts[None, :]).any(axis=1)]

    def _minor(self, r):
        pts = np.asarray(r.points, dtype=float)
        if len(pts) < 2:
            return None
        if r.kind == "total_points":
            step = (pts[1] - pts[0]) / 5.0
            minor = np.arange(pts[0], pts.max() + step / 2, step)
        elif r.kind == "linear_predictor":
            lp_at = np.asarray(r.values, dtype=float)
            step = (lp_at[1] - lp_at[0]) / 2.0
            minor = self.nomogram.lp_to_total_points(np.arange(lp_at[0], lp_at.max() + step / 2, step))
        else:
            return None
        drawn = pts[sorted(set().union(*[set(k) for k in r.kept]))] if r.kept else pts
        return minor[~np.isclose(minor[:, None], drawn[None, :]).any(axis=1)]

    # ------------------------------------------------------------------ axes
    def _row_record(self, r):
        row = {"y": r.ys[0], "to_x": r.to_x, "ticks": np.array([]), "labels": {}, "dropped": [], "sides": {},
               "omitted": [], "branches": []}
        self.rows_[r.label] = row
        return row

    def _draw_continuous(self, r, tags, minor, base, lh):
        """A continuous axis: one line per branch, labelled ticks only, labels below (ruler: above)."""
        ax, st = self.ax_, self._style
        row = self._row_record(r)
        side = _ABOVE if r.kind == "ruler" else _BELOW
        tl = 0.42 * st["fs"]
        all_ticks = []
        x_all = np.asarray(r.points, dtype=float) * r.to_x
        for b, (br, kept, y) in enumerate(zip(r.branches, r.kept, r.ys)):
            suffix = "" if len(r.branches) == 1 else f"-b{b}"
            xa, xb = sorted((br.x_lo * r.to_x, br.x_hi * r.to_x))
            ax.plot([xa, xb], [y, y], color=st["color"], lw=st["lw"], solid_capstyle="butt",
                    gid=f"{r.gid}-line{suffix}", zorder=2)
            tag = None
            if (r.label, b) in tags:
                tag = ax.annotate(tags[(r.label, b)], xy=(self._left_edge, y), xytext=(-0.5 * st["fs"], 0),
                                  textcoords="offset points", ha="right", va="center", fontsize=st["tick_fs"],
                                  color="0.25", fontstyle="italic", gid=f"{r.gid}-branch{b}", zorder=3,
                                  annotation_clip=False, linespacing=1.0, **st["text_kw"])
                self._occupied.append(tag.get_window_extent(self._renderer))
            placed = {}
            for i in sorted(kept, key=lambda i: kept[i]):
                lab_side = side if kept[i] == 0 else -side  # a second line of labels goes above the axis
                t = self._tick_label(r.texts[i], x_all[i], y, lab_side * base, f"{r.gid}-label{i}")
                bb = t.get_window_extent(self._renderer)
                if self._collides(bb) and i not in (0, len(r.values) - 1):
                    t.remove()  # does not happen with the row spacing used; kept as a guard
                    continue
                self._occupied.append(bb)
                placed[i] = (t, lab_side)
            for lab_side in (side, -side):
                xs = np.array([x_all[i] for i, (_, sd) in placed.items() if sd == lab_side])
                if len(xs):
                    ax.plot(xs, np.full(len(xs), y), ls="none", marker=2 if lab_side == _ABOVE else 3,
                            markersize=tl, markeredgewidth=st["lw"], color=st["color"],
                            gid=f"{r.gid}-ticks{'up' if lab_side > 0 else 'down'}{suffix}", zorder=2, clip_on=False)
            for i, (t, sd) in placed.items():
                row["labels"][i] = t
                row["sides"][i] = sd
            all_ticks += [x_all[i] for i in placed]
            row["branches"].append({"y": y, "values": (br.lo, br.hi), "x": (br.x_lo * r.to_x, br.x_hi * r.to_x),
                                    "direction": br.direction, "tag": tag})
            if b + 1 < len(r.branches):  # the fold: a dotted connector to the next branch
                xt = br.x_hi * r.to_x
                self._pending_connectors.append((xt, y, r.ys[b + 1], f"{r.gid}-fold{b}"))
        row["ticks"] = np.array(all_ticks)
        row["omitted"] = sorted(set(range(len(r.values))) - set(row["labels"]))
        if minor is not None and len(minor):
            y = r.ys[0]
            ax.plot(np.asarray(minor) * r.to_x, np.full(len(minor), y), ls="none", marker=2 if side > 0 else 3,
                    markersize=tl / 2, markeredgewidth=st["lw"] * 0.8, color=st["color"], gid=f"{r.gid}-minor",
                    zorder=2, clip_on=False)

    def _draw_discrete(self, r, lh):
        """Levels (or few values) where :func:`place_levels` put them (rms sides, moved out when crowded)."""
        ax, st = self.ax_, self._style
        row = self._row_record(r)
        y = r.ys[0]
        x = np.asarray(r.points, dtype=float) * r.to_x
        ax.plot([x.min(), x.max()], [y, y], color=st["color"], lw=st["lw"], solid_capstyle="butt",
                gid=f"{r.gid}-line", zorder=2)
        base = 0.42 * st["fs"] + 0.2 * st["tick_fs"]
        plan = r.kept[0]
        for i, (side, level) in sorted(plan.items()):
            if not r.texts[i]:
                continue
            t = self._tick_label(r.texts[i], x[i], y, side * (base + level * lh), f"{r.gid}-label{i}")
            self._occupied.append(t.get_window_extent(self._renderer))
            row["labels"][i] = t
            row["sides"][i] = side
        row["ticks"] = x
        tick_side = np.array([plan.get(i, (_BELOW, 0))[0] for i in range(len(x))])
        tl = 0.42 * st["fs"]
        for side, marker in ((_BELOW, 3), (_ABOVE, 2)):
            sel = tick_side == side
            if sel.any():
                ax.plot(x[sel], np.full(sel.sum(), y), ls="none", marker=marker, markersize=tl,
                        markeredgewidth=st["lw"], color=st["color"],
                        gid=f"{r.gid}-ticks{'up' if side > 0 else 'down'}", zorder=2, clip_on=False)
        row["branches"].append({"y": y, "values": (None, None), "x": (float(x.min()), float(x.max())),
                                "direction": 0, "tag": None})

    def _tick_label(self, text, x, y, offset, gid):
        st = self._style
        return self.ax_.annotate(
            text, xy=(x, y), xytext=(0, offset), textcoords="offset points", ha="center",
            va="bottom" if offset > 0 else "top", fontsize=st["tick_fs"], color=st["color"],
            annotation_clip=False, gid=gid, zorder=3, linespacing=1.0, **st["text_kw"])

    def _collides(self, bb, gap=0.0):
        """Does ``bb`` (display units), widened by ``gap`` on each side, overlap a drawn text?"""
        x0, x1 = bb.x0 - gap / 2, bb.x1 + gap / 2
        return any(x0 < o.x1 and x1 > o.x0 and bb.y0 < o.y1 and bb.y1 > o.y0 for o in self._occupied)

    def _grid(self, col_grid, ruler, minor, y_top, y_bottom):
        if col_grid is True:
            col_grid = ("0.82", "0.93")
        cols = [col_grid] if isinstance(col_grid, str) or not np.iterable(col_grid) else list(col_grid)
        # a single RGB(A) tuple of numbers is one color
        if len(cols) in (3, 4) and all(isinstance(c, (int, float)) for c in cols):
            cols = [tuple(cols)]
        for xs, c, gid in ((ruler, cols[0], "grid-major"), (minor if len(cols) > 1 else [], cols[-1], "grid-minor")):
            if len(xs):
                self.ax_.vlines(xs, y_bottom, y_top, colors=c, lw=0.5, zorder=0.5, gid=gid)

    def _conf_nlev(self, conf_lp):
        return 4 if conf_lp == "representative" else 8

    def _offset(self, dy_pt):
        """Data coordinates shifted up by ``dy_pt`` points."""
        from matplotlib.transforms import ScaledTranslation

        return self.ax_.transData + ScaledTranslation(0, dy_pt / 72.0, self.figure_.dpi_scale_trans)

    def _draw_conf_bars(self, rows, levels, conf_lp, col_conf, to_x_bottom):
        """rms ``conf.int`` bars above the Linear Predictor axis, on ``nlev`` heights, one colour per level."""
        from scipy.stats import norm

        r = next((r for r in rows if r.kind == "linear_predictor"), None)
        if r is None:
            return
        nom, ax = self.nomogram, self.ax_
        pts = nom.lp_confidence_points(conf_lp)
        z = norm.ppf(0.5 + np.asarray(levels) / 2.0)
        cols = [col_conf] if isinstance(col_conf, str) else list(col_conf)
        nlev = self._conf_nlev(conf_lp)
        y = r.ys[0]
        tl = 0.42 * self._style["fs"]
        for i in range(len(z)):
            c = cols[min(i, len(cols) - 1)]
            for k in range(nlev):
                xs, ys = [], []
                for j in range(k, len(pts), nlev):
                    xc = float(nom.lp_to_total_points(pts["lp"].iloc[j])) * to_x_bottom
                    w = np.concatenate([[0.0], z * float(pts["se"].iloc[j]) * nom.scale * to_x_bottom])
                    xs += [xc - w[i + 1], xc - w[i], np.nan, xc + w[i], xc + w[i + 1], np.nan]
                    ys += [y, y, np.nan, y, y, np.nan]
                if xs:
                    ax.plot(xs, ys, color=c, lw=1.0, solid_capstyle="butt", gid=f"conf-bars-level{i}",
                            transform=self._offset(tl + 1.5 + k * 2.2), zorder=2)
        self.conf_points_ = pts

    # ------------------------------------------------------------------ patient
    def _patient_points(self):
        p = self.patient
        if p is None:
            return None
        if isinstance(p, pd.Series):
            raise TypeError(
                "NomogramDisplay: patient must be a one-row DataFrame, got a Series; use X.iloc[[i]] "
                "(double brackets) or series.to_frame().T."
            )
        if not isinstance(p, pd.DataFrame):
            raise TypeError(f"NomogramDisplay: patient must be a one-row pandas DataFrame, got {type(p).__name__}.")
        if len(p) != 1:
            raise ValueError(
                f"NomogramDisplay: patient must have exactly one row, got {len(p)}; select one, e.g. X.iloc[[0]]."
            )
        return self.nomogram.points(p)

    def _patient_x(self, pts, to_x_bottom):
        row = pts.iloc[0]
        out = {}
        for a in self.nomogram.axes:
            if a.kind == "predictor" and a.predictor in row.index:
                out[a.label] = float(row[a.predictor])
        if "Total Points" in row.index:
            out["__total__"] = float(row["Total Points"]) * to_x_bottom
        return out

    def _patient_rows(self, rows):
        """(row, branch index) of each predictor row the patient is read on."""
        patient = self.patient.iloc[0]
        out = []
        for r in rows:
            if r.kind != "predictor":
                continue
            a = r.axis
            if a.condition and any(_as_key(patient.get(k)) != _as_key(v) for k, v in a.condition.items()):
                continue
            b = 0
            if len(r.branches) > 1:
                v = float(patient[a.predictor])
                inside = [k for k, br in enumerate(r.branches) if br.lo <= v <= br.hi]
                b = inside[0] if inside else (0 if v < r.branches[0].lo else len(r.branches) - 1)
            out.append((r, b))
        return out

    def _patient_texts(self, pts, lim, rows):
        row = pts.iloc[0]
        out = {"__header__": "Patient"}
        for r, _ in self._patient_rows(rows):
            out[r.label] = f"{float(row[r.axis.predictor]):.1f} pts"
        for r in rows:
            if r.kind == "total_points":
                out[r.label] = f"{float(row['Total Points']):.1f} pts"
            elif r.kind == "linear_predictor":
                txt = f"{float(row['Linear Predictor']):.2f}"
                if lim is not None:
                    se = float(lim["Linear Predictor SE"].iloc[0])
                    txt += f" (SE {se:.2f})"
                out[r.label] = txt
            elif r.kind == "outcome":
                v = float(row[r.label]) if r.label in row.index else np.nan
                txt = f"{v:.3f}" if np.isfinite(v) else "NA"
                if lim is not None and f"{r.label} lower" in lim:
                    lo, hi = float(lim[f"{r.label} lower"].iloc[0]), float(lim[f"{r.label} upper"].iloc[0])
                    txt += f" ({lo:.3f}\u2013{hi:.3f})"
                out[r.label] = txt
        return out

    def _draw_patient(self, pts, lim, texts, rows, to_x_bottom, levels, conf_lp):
        ax, st = self.ax_, self._style
        c = st["pcolor"]
        row = pts.iloc[0]
        self.patient_artists_ = {}
        x_col = ax.get_xlim()[1] - (max(_text_size(ax, self._renderer, s, st["tick_fs"], st["text_kw"])[0]
                                        for s in texts.values()) + 0.3 * st["fs"] * self.figure_.dpi / 72) / self._s

        def column_text(s, y, gid, bold=False):
            t = ax.text(x_col, y, s, ha="left", va="center", fontsize=st["tick_fs"], color=c, gid=gid,
                        fontweight="bold" if bold else "normal", zorder=5, linespacing=1.0, **st["text_kw"])
            self._occupied.append(t.get_window_extent(self._renderer))
            return t

        self.patient_artists_["__header__"] = column_text(texts["__header__"], rows[0].ys[0], "patient-header", True)
        ring = dict(ls="none", marker="o", ms=0.75 * st["fs"], mfc="none", mec=c, mew=1.1, zorder=1.8)
        ruler_marks, guides = [], []
        for r, b in self._patient_rows(rows):
            name = r.axis.predictor
            xp, y = float(row[name]), r.ys[b]
            ax.plot([xp], [y], gid=f"patient-dot-{name}", **ring)
            guides.append((xp, y, rows[0].ys[0], f"patient-drop-{name}"))
            ruler_marks.append(xp)
            self.patient_artists_[r.label] = column_text(texts[r.label], y, f"patient-points-{name}")
        if ruler_marks:
            ax.plot(ruler_marks, np.full(len(ruler_marks), rows[0].ys[0]), ls="none", marker="|",
                    ms=0.9 * st["fs"], mew=1.4, color=c, zorder=4, gid="patient-ruler-dots")
        total = float(row["Total Points"])
        xt = total * to_x_bottom
        bottom = [r for r in rows if r.kind in ("total_points", "linear_predictor", "outcome")]
        if bottom:
            guides.append((xt, bottom[0].ys[0], bottom[-1].ys[0], "patient-reading-line"))
            for r in bottom:
                y = r.ys[0]
                ticks = np.asarray(r.points, dtype=float) * r.to_x
                inside = len(ticks) and ticks.min() - 1e-9 <= xt <= ticks.max() + 1e-9
                style = dict(ring)
                if not inside:  # off the end of its axis (e.g. survival below the lowest tick)
                    style.update(marker="D", ms=0.55 * st["fs"])
                ax.plot([xt], [y], gid=f"patient-dot-{r.kind}", **style)
                gid = "patient-outcome" if r.kind == "outcome" else f"patient-{r.kind}"
                self.patient_artists_[r.label] = column_text(texts[r.label], y, gid)
                if r.kind == "linear_predictor" and lim is not None:
                    from scipy.stats import norm

                    se = float(lim["Linear Predictor SE"].iloc[0])
                    z = norm.ppf(0.5 + max(levels) / 2.0)
                    half = z * se * self.nomogram.scale * to_x_bottom
                    dy = _conf_height(0.42 * st["fs"], self._conf_nlev(conf_lp)) + 1.0
                    ax.plot([xt - half, xt + half], [y, y], color=c, lw=1.3, marker="|", ms=4, mew=1.3,
                            transform=self._offset(dy), gid="patient-lp-ci", zorder=4)
        for xg, ya, yb, gid in guides:
            self._broken_vline(xg, ya, yb, gid, color=c, lw=0.7, ls=(0, (3, 2)), alpha=0.8)

    def _broken_vline(self, x, y_a, y_b, gid, **style):
        """A vertical line from ``y_a`` to ``y_b`` at ``x``, interrupted where it would cross a text."""
        ax = self.ax_
        trans = ax.transData
        X, Ya = trans.transform((x, y_a))
        _, Yb = trans.transform((x, y_b))
        lo, hi = min(Ya, Yb), max(Ya, Yb)
        pad = 1.5
        cuts = sorted((o.y0 - pad, o.y1 + pad) for o in self._occupied if o.x0 - pad <= X <= o.x1 + pad
                      and o.y1 > lo and o.y0 < hi)
        pieces, start = [], lo
        for a, b in cuts:
            if a > start:
                pieces.append((start, min(a, hi)))
            start = max(start, b)
        if start < hi:
            pieces.append((start, hi))
        inv = trans.inverted()
        xs, ys = [], []
        for a, b in pieces:
            ya_, yb_ = inv.transform((X, a))[1], inv.transform((X, b))[1]
            xs += [x, x, np.nan]
            ys += [ya_, yb_, np.nan]
        if not xs:
            xs, ys = [np.nan], [np.nan]
        ax.plot(xs[:-1] if len(xs) > 1 else xs, ys[:-1] if len(ys) > 1 else ys, gid=gid, zorder=1.5, **style)

    # ------------------------------------------------------------------ output
    def savefig(self, fname, **kwargs):
        """``figure_.savefig`` with :data:`PUBLICATION_RC` (text as text in SVG, Type 42 in PDF).

        Raster formats default to 300 dpi; ``bbox_inches="tight"`` by default.
        """
        import matplotlib as mpl
        from matplotlib.figure import Figure

        if not hasattr(self, "figure_"):
            raise AttributeError("NomogramDisplay.savefig: call plot() first.")
        kwargs.setdefault("bbox_inches", "tight")
        kwargs.setdefault("dpi", 300)
        with mpl.rc_context(PUBLICATION_RC):
            Figure.savefig(self.figure_, fname, **kwargs)


# ---------------------------------------------------------------------- helpers
def _conf_levels(conf_int, caller):
    if conf_int is None or conf_int is False:
        return []
    if conf_int is True:
        return [0.7, 0.9]
    levels = [conf_int] if isinstance(conf_int, (int, float)) else list(conf_int)
    bad = [v for v in levels if not (isinstance(v, (int, float)) and 0 < float(v) < 1)]
    if bad or not levels:
        raise ValueError(f"The 'conf_int' parameter of {caller} must be True, a level in (0, 1) or a list of "
                         f"them. Got {conf_int!r} instead.")
    return sorted(float(v) for v in levels)


def _conf_height(tl, nlev):
    """Points above the Linear Predictor line used by ``nlev`` heights of confidence bars."""
    return tl + 1.5 + nlev * 2.2 + 1.0


def _publication_savefig(fig):
    """Make ``fig.savefig`` write real text (SVG) and TrueType fonts (PDF) unless the user chose otherwise."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    def savefig(fname, *args, **kwargs):
        rc = {}
        if mpl.rcParams["svg.fonttype"] == "path":  # matplotlib's default: glyphs as paths
            rc["svg.fonttype"] = "none"
        if mpl.rcParams["pdf.fonttype"] == 3:  # matplotlib's default: Type 3
            rc["pdf.fonttype"] = 42
        if mpl.rcParams["ps.fonttype"] == 3:
            rc["ps.fonttype"] = 42
        with mpl.rc_context(rc):
            return Figure.savefig(fig, fname, *args, **kwargs)

    savefig.__doc__ = Figure.savefig.__doc__
    fig.savefig = savefig


def _renderer(fig):
    get = getattr(fig.canvas, "get_renderer", None)
    return get() if get is not None else fig._get_renderer()


def _text_size(ax, renderer, s, fontsize, text_kw):
    t = ax.text(0, 0, s, fontsize=fontsize, linespacing=1.0, **text_kw)
    bb = t.get_window_extent(renderer)
    t.remove()
    return bb.width, bb.height


def _measurer(ax, renderer, text_kw):
    """``measure(s, size) -> (width, height)`` in pixels, as the drawn Text's extent, cached.

    Widths of one-line plain strings come straight from the renderer's text
    metrics (what ``Text`` uses); heights are one full line (``linespacing=1``).
    """
    from matplotlib.font_manager import FontProperties

    cache, heights = {}, {}

    def measure(s, size):
        key = (s, float(size))
        if key not in cache:
            if not s or "\n" in s or "$" in s:
                cache[key] = _text_size(ax, renderer, s, size, text_kw)
            else:
                if key[1] not in heights:
                    heights[key[1]] = _text_size(ax, renderer, "0123456789Afgjpqy|", size, text_kw)[1]
                prop = FontProperties(size=size, family=text_kw.get("fontfamily"))
                w, _, _ = renderer.get_text_width_height_descent(s, prop, ismath=False)
                cache[key] = (w, heights[key[1]])
        return cache[key]

    return measure


def _wrap(label, width):
    return label if len(label) <= width else "\n".join(textwrap.wrap(label, width)) or label


def _is_discrete(nom, axis) -> bool:
    """rms ``discrete``: categorical, or numeric with few distinct values (datadist ``values``)."""
    design = getattr(nom, "_design", None)
    if design is not None and axis.predictor is not None:
        try:
            term = design.term(axis.predictor)
            return term.kind == "categorical" or term.values is not None
        except (KeyError, AttributeError, ValueError):
            pass
    return all(isinstance(v, str) for v in axis.values)


def _as_key(v):
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return str(v) if not isinstance(v, (int, float)) else v


def _display_name(label: str, labels: dict | None) -> str:
    """The text drawn for axis ``label`` given the ``labels`` mapping of :meth:`NomogramDisplay.plot`."""
    if not labels:
        return label
    if label in labels:
        return str(labels[label])
    name, sep, rest = label.partition(" (")
    return f"{labels[name]} ({rest}" if sep and name in labels else label
