"""The nomogram chart, laid out as rms ``plot.nomogram`` lays it out (matplotlib, lazily).

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
drawn on that scale too. Variable names sit at the left.

Tick labels follow rms: a monotone continuous axis is labelled below the line;
an axis whose points change direction (a U-shaped spline such as age) is cut
into runs of one direction and the runs are labelled alternately below and
above the line, starting below; a categorical (or few-valued) axis labels its
levels alternately below and above in order of their points. rms then relies
on R's ``axis()``, which silently skips a label that would overlap the
previous one of the same call (and labels of different calls may still
collide). Here every label of an axis is checked against every other drawn
label of that axis, in an order that keeps the ends of the axis and its turning
points first: a label that collides moves to the other side when the axis
already uses both sides (non-monotone, categorical and outcome axes), and is
otherwise left out (its tick stays), as R leaves it out. Levels of a
categorical axis are never left out; they are stacked one line further out.
Labels of different axes are checked against each other too (rms does not),
which matters for the closely spaced axes of an interaction (``ia.space``).

A patient (``patient=``, a one-row DataFrame) is drawn as R ``regplot`` shows an
observation: a dot at the patient's value on each predictor axis with a dashed
drop line to the Points ruler and the points as text, and one dashed reading
line through Total Points, Linear Predictor and the outcome axes with the
patient's total points, linear predictor and predicted outcome(s). The numbers
are ``Nomogram.points(patient)``: exact values, not read off the ticks.

References
----------
Harrell FE. rms: ``plot.nomogram`` (R/plot.nomogram.s), version 6.5-0.
Marshall RJ. regplot: ``regplot`` (R package), for the patient overlay.
Iasonos A, Schrag D, Raj GV, Panageas KS (2008). How to build and interpret a
nomogram for cancer prognosis. J Clin Oncol 26:1364-70.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from .._pretty import pretty
from ..points import Nomogram, _format_number

__all__ = ["NomogramDisplay", "rms_label_sides"]

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


class NomogramDisplay:
    """Nomogram chart of a :class:`~nomogram.Nomogram`, as rms ``plot.nomogram`` draws it.

    Build it from a computed nomogram (``NomogramDisplay(model.nomogram())``,
    or ``model.nomogram().plot()``) or with :meth:`from_estimator`, then call
    :meth:`plot`. After plotting, ``ax_`` and ``figure_`` hold the matplotlib
    axes and figure; ``figure_.savefig("nomogram.pdf")`` (or ``.svg``, ``.png``)
    writes it. A figure made by :meth:`plot` saves text as text in SVG and with
    TrueType fonts in PDF (:data:`PUBLICATION_RC`), unless the caller changed
    those rcParams.

    Parameters
    ----------
    nomogram : Nomogram
        The computed nomogram (axes, points scale).
    patient : pandas.DataFrame of one row, optional
        A patient to read off the chart (as R ``regplot`` shows an observation):
        a dot at the patient's value on each predictor axis with a drop line to
        the Points ruler and the points as text, the total points on the Total
        Points axis, and the linear predictor and each predicted outcome on
        their axes. Numbers come from ``nomogram.points(patient)``.

    Attributes
    ----------
    ax_ : matplotlib.axes.Axes
    figure_ : matplotlib.figure.Figure
    rows_ : dict
        For each drawn axis label (and ``"Points"``): ``y`` (row position in data
        units), ``to_x`` (factor from the axis' points to data x), ``ticks``
        (tick positions in data x), ``labels`` (dict tick index -> drawn Text)
        and ``dropped`` (tick indices whose labels were left out to avoid overlap).
    patient_points_ : pandas.DataFrame or None
        ``nomogram.points(patient)`` when a patient was drawn.

    Examples
    --------
    >>> disp = NomogramDisplay.from_estimator(model, patient=X.iloc[[0]])  # doctest: +SKIP
    >>> disp.figure_.savefig("nomogram.pdf")  # doctest: +SKIP

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
            Passed to :meth:`plot` (``fontsize``, ``col_grid``, ...).
        **nomogram_kwargs
            Passed to ``model.nomogram`` (``values``, ``fun_at``, ``times``, ``maxscale``...).

        Returns
        -------
        NomogramDisplay
        """
        nom = model.nomogram(**nomogram_kwargs)
        return cls(nom, patient=patient).plot(ax=ax, **dict(plot_kwargs or {}))

    # ------------------------------------------------------------------ drawing
    def plot(self, ax=None, *, fontsize: float = 9.0, tick_fontsize: float | None = None,
             col_grid=None, figsize=None, xfrac: float | None = None, nint: int = 10,
             ia_space: float = 0.7, points_label: str = "Points", label_wrap: int = 24,
             linewidth: float | None = None, color: str = "black", patient_color: str = "#b2182b",
             fontfamily: str | None = None) -> "NomogramDisplay":
        """Draw the nomogram.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw into (its frame and ticks are turned off). Default: a new
            figure sized from the number of axes (``figsize``).
        fontsize : float, default 9
            Size in points of the variable names at the left (rms ``cex.var``).
        tick_fontsize : float, optional
            Size of tick labels; default ``0.85 * fontsize`` (rms ``cex.axis=.85``).
        col_grid : color or (major, minor) colors or True, optional
            Faint vertical lines at the Points ruler's major (and minor) ticks,
            over the predictor rows (rms ``col.grid``). ``True`` uses light greys.
        figsize : (float, float), optional
            Inches; default 7 wide (a double-column figure) and
            ``0.45 * fontsize / 9`` inch per axis row.
        xfrac : float, optional
            Width of the variable-name column as a fraction of ``maxscale`` (rms
            ``xfrac=.35``). Default: just wide enough for the longest name.
        nint : int, default 10
            Intervals asked of ``pretty`` for the Points ruler (rms ``nint``).
        ia_space : float, default 0.7
            Vertical space, in rows, before the second and later axis of a
            predictor drawn once per level of an interacting factor (rms ``ia.space``).
        points_label : str, default "Points"
        label_wrap : int, default 24
            Variable names longer than this many characters are wrapped at spaces.
        linewidth : float, optional
            Width of axis lines and ticks in points; default ``0.8 * fontsize / 9``.
        color : color, default "black"
        patient_color : color, default dark red
        fontfamily : str, optional
            Font family of all text (e.g. ``"Arial"``); default from rcParams.

        Returns
        -------
        NomogramDisplay
            ``self``, with ``ax_``, ``figure_``, ``rows_`` (and ``patient_points_``) set.
        """
        import matplotlib.pyplot as plt

        nom = self.nomogram
        patient_pts = self._patient_points()
        tick_fs = 0.85 * fontsize if tick_fontsize is None else float(tick_fontsize)
        text_kw = {} if fontfamily is None else {"fontfamily": fontfamily}
        if linewidth is None:
            linewidth = max(0.5, 0.8 * fontsize / 9.0)
        self._style = dict(fs=float(fontsize), tick_fs=tick_fs, lw=linewidth, color=color,
                           pcolor=patient_color, text_kw=text_kw)

        # ---- rows: y position of every axis (rms: one unit per axis, ia_space for continuations)
        rows = self._row_positions(ia_space)
        y_last = rows[-1][1] if rows else -1.0
        n_units = -y_last

        created = ax is None
        if created:
            if figsize is None:
                row_in = 0.45 * fontsize / 9.0
                figsize = (7.0, row_in * (n_units + 1.4) + 0.15)
            fig = plt.figure(figsize=figsize)
            ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
            _publication_savefig(fig)
        fig = ax.figure
        ax.set_axis_off()
        ax.set_ylim(y_last - 0.7, 0.7)

        renderer = _renderer(fig)
        self.ax_, self.figure_ = ax, fig
        self._renderer = renderer

        # ---- horizontal scales
        maxscale = nom.maxscale
        total_axis = next((a for a in nom.axes if a.kind == "total_points"), None)
        new_max = float(np.max(total_axis.points)) if total_axis is not None and len(total_axis.points) else maxscale
        if not new_max > 0:
            new_max = maxscale
        to_x_bottom = maxscale / new_max
        ruler = np.asarray(pretty([0.0, maxscale], nint), dtype=float)
        ruler = ruler[(ruler >= 0) & (ruler <= maxscale + 1e-9)]

        xs = [0.0, maxscale]
        for a in nom.axes:
            f = 1.0 if a.kind == "predictor" else to_x_bottom
            if len(a.points):
                xs += [float(np.min(a.points)) * f, float(np.max(a.points)) * f]
        if patient_pts is not None:
            xs += [float(v) for v in self._patient_x(patient_pts, to_x_bottom).values()]
        left_edge, right_edge = min(xs), max(xs)

        labels = {a.label: _wrap(a.label, label_wrap) for a, _ in rows}
        labels[points_label] = _wrap(points_label, label_wrap)
        name_w = max(_text_size(ax, renderer, s, fontsize, text_kw)[0] for s in labels.values())
        tick_texts = [t for a in nom.axes for t in a.tick_labels] + ["100"]
        tick_w = max(_text_size(ax, renderer, t, tick_fs, text_kw)[0] for t in tick_texts)
        ax_w = ax.get_window_extent(renderer).width
        em = fontsize * fig.dpi / 72.0
        right_pad = 0.6 * tick_w + (4.5 * em if patient_pts is not None else 0.3 * em)
        if xfrac is None:
            left_pad = name_w + 1.0 * em + 0.5 * tick_w
            s = (ax_w - left_pad - right_pad) / max(right_edge - left_edge, 1e-12)
            x0 = left_edge - left_pad / s
        else:
            x0 = -float(xfrac) * maxscale
            s = (ax_w - right_pad) / max(right_edge - x0, 1e-12)
        x1 = right_edge + right_pad / s
        ax.set_xlim(x0, x1)
        self._x0 = x0

        # ---- draw
        self.rows_ = {}
        self._occupied = []  # display-space boxes of every text drawn so far
        y0 = 0.0
        t = ax.text(x0, y0, labels[points_label], ha="left", va="center", fontsize=fontsize, color=color,
                    gid="points-ruler-name", **text_kw)
        self._occupied.append(t.get_window_extent(renderer))
        quarter = (ruler[1] - ruler[0]) / 4.0 if len(ruler) > 1 else maxscale / 4.0
        minor = np.arange(0.0, ruler.max() + quarter / 2, quarter)
        minor = minor[~np.isclose(minor[:, None], ruler[None, :]).any(axis=1)]
        self._draw_axis(points_label, y0, ruler, [_format_number(v) for v in ruler], 1.0,
                        sides=np.full(len(ruler), _ABOVE), flip=False, force=False,
                        minor=minor, gid="points-ruler")

        pred_rows = [(a, y) for a, y in rows if a.kind == "predictor"]
        if col_grid is not None and col_grid is not False and pred_rows:
            self._grid(col_grid, ruler, minor, y0, pred_rows[-1][1])

        for idx, (axis, y) in enumerate(rows):  # rows follow nom.axes one to one
            t = ax.text(x0, y, labels[axis.label], ha="left", va="center", fontsize=fontsize, color=color,
                        gid=f"axis{idx}-name", linespacing=1.0, **text_kw)
            self._occupied.append(t.get_window_extent(renderer))
            pts = np.asarray(axis.points, dtype=float)
            if axis.kind == "predictor":
                discrete = _is_discrete(nom, axis)
                sides = rms_label_sides(pts, discrete)
                flip = discrete or bool(_direction_changes(pts).any())
                self._draw_axis(axis.label, y, pts, list(axis.tick_labels), 1.0, sides=sides, flip=flip,
                                force=discrete, minor=None, gid=f"axis{idx}")
            else:
                minor_b = None
                if axis.kind == "total_points" and len(pts) > 1:
                    step = (pts[1] - pts[0]) / 5.0
                    minor_b = np.arange(pts[0], pts.max() + step / 2, step)
                elif axis.kind == "linear_predictor" and len(pts) > 1:
                    lp_at = np.asarray(axis.values, dtype=float)
                    step = (lp_at[1] - lp_at[0]) / 2.0
                    minor_b = nom.lp_to_total_points(np.arange(lp_at[0], lp_at.max() + step / 2, step))
                if minor_b is not None:
                    minor_b = minor_b[~np.isclose(minor_b[:, None], pts[None, :]).any(axis=1)]
                self._draw_axis(axis.label, y, pts, list(axis.tick_labels), to_x_bottom,
                                sides=np.full(len(pts), _BELOW), flip=axis.kind == "outcome", force=False,
                                minor=minor_b, gid=f"axis{idx}")

        self.patient_points_ = patient_pts
        if patient_pts is not None:
            self._draw_patient(patient_pts, rows, to_x_bottom, y0)
        return self

    # ------------------------------------------------------------------ pieces
    def _row_positions(self, ia_space):
        rows, y, prev = [], 0.0, None
        for a in self.nomogram.axes:
            cont = a.kind == "predictor" and bool(a.condition) and prev is not None and prev.predictor == a.predictor
            y -= ia_space if cont else 1.0
            rows.append((a, y))
            prev = a
        return rows

    def _draw_axis(self, label, y, pts, tick_labels, to_x, *, sides, flip, force, minor, gid):
        """One axis: line, ticks toward their labels, labels without overlaps."""
        ax, st = self.ax_, self._style
        x = np.asarray(pts, dtype=float) * to_x
        row = {"y": y, "to_x": to_x, "ticks": x, "labels": {}, "dropped": [], "sides": {}}
        self.rows_[label] = row
        if not len(x):
            return
        ax.plot([x.min(), x.max()], [y, y], color=st["color"], lw=st["lw"], solid_capstyle="butt",
                gid=f"{gid}-line", zorder=2)
        placed = self._place_labels(x, y, tick_labels, sides, flip=flip, force=force, gid=gid)
        row["labels"] = {i: t for i, (t, _) in placed.items()}
        row["sides"] = {i: side for i, (_, side) in placed.items()}
        row["dropped"] = [i for i in range(len(x)) if i not in placed]
        tick_side = np.array([placed[i][1] if i in placed else sides[i] for i in range(len(x))])
        tl = 0.42 * st["fs"]
        for side, marker in ((_BELOW, 3), (_ABOVE, 2)):  # 3 = TICKDOWN, 2 = TICKUP
            sel = tick_side == side
            if sel.any():
                ax.plot(x[sel], np.full(sel.sum(), y), ls="none", marker=marker, markersize=tl,
                        markeredgewidth=st["lw"], color=st["color"], gid=f"{gid}-ticks{'up' if side > 0 else 'down'}",
                        zorder=2, clip_on=False)
        if minor is not None and len(minor):
            mside = 2 if sides[0] == _ABOVE else 3
            ax.plot(np.asarray(minor) * to_x, np.full(len(minor), y), ls="none", marker=mside,
                    markersize=tl / 2, markeredgewidth=st["lw"] * 0.8, color=st["color"],
                    gid=f"{gid}-minor", zorder=2, clip_on=False)

    def _place_labels(self, x, y, texts, sides, *, flip, force, gid):
        """Greedy placement: ends and turning points first; collide -> other side -> drop/stack."""
        ax, st, r = self.ax_, self._style, self._renderer
        n = len(x)
        ch = _direction_changes(x)
        turning = [k - 1 for k in range(n) if ch[k]]
        order = [0, n - 1] + turning + list(range(1, n - 1))
        seen, priority = set(), []
        for i in order:
            if 0 <= i < n and i not in seen:
                seen.add(i)
                priority.append(i)
        gap = 0.45 * st["tick_fs"] * self.figure_.dpi / 72.0
        base = 0.42 * st["fs"] + 0.2 * st["tick_fs"]
        step = 1.1 * st["tick_fs"]
        placed = {}
        for i in priority:
            if not texts[i]:
                continue
            pref = int(sides[i])
            tries = [(pref, 0)]
            if flip:
                tries.append((-pref, 0))
            if force:
                tries += [(pref, 1), (-pref, 1)] if flip else [(pref, 1)]
            chosen = None
            for side, level in tries:
                t = self._tick_label(texts[i], x[i], y, side * (base + level * step), f"{gid}-label{i}")
                bb = t.get_window_extent(r)
                if not self._collides(bb, gap):
                    chosen = (t, side, bb)
                    break
                t.remove()
            if chosen is None and force:  # a level is never left out: draw it where rms would
                t = self._tick_label(texts[i], x[i], y, pref * base, f"{gid}-label{i}")
                chosen = (t, pref, t.get_window_extent(r))
            if chosen is None:
                continue
            t, side, bb = chosen
            self._occupied.append(bb)
            placed[i] = (t, side)
        return placed

    def _tick_label(self, text, x, y, offset, gid):
        st = self._style
        # an opaque box in the figure's colour keeps grid and drop lines from crossing the digits
        face = self.figure_.get_facecolor()
        box = dict(boxstyle="square,pad=0.08", fc=face, ec="none") if face[3] > 0 else None
        return self.ax_.annotate(
            text, xy=(x, y), xytext=(0, offset), textcoords="offset points", ha="center",
            va="bottom" if offset > 0 else "top", fontsize=st["tick_fs"], color=st["color"],
            annotation_clip=False, gid=gid, zorder=3, bbox=box, **st["text_kw"])

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

    def _draw_patient(self, pts, rows, to_x_bottom, y_ruler):
        ax, st = self.ax_, self._style
        c = st["pcolor"]
        row = pts.iloc[0]
        patient = self.patient.iloc[0]
        self.patient_artists_ = {}
        ruler_marks = []
        for a, y in rows:
            if a.kind != "predictor" or a.predictor not in row.index:
                continue
            if a.condition and any(_as_key(patient.get(k)) != _as_key(v) for k, v in a.condition.items()):
                continue
            xp = float(row[a.predictor])
            ax.plot([xp, xp], [y, y_ruler], color=c, lw=0.7, ls=(0, (3, 2)), alpha=0.75, zorder=1.5,
                    gid=f"patient-drop-{a.predictor}")
            ax.plot([xp], [y], ls="none", marker="o", ms=0.5 * st["fs"], color=c, mec="white", mew=0.6, zorder=4,
                    gid=f"patient-dot-{a.predictor}")
            ruler_marks.append(xp)
            t = self._patient_text(f"{xp:.1f} pts", xp, y, gid=f"patient-points-{a.predictor}")
            self.patient_artists_[a.label] = t
        if ruler_marks:
            ax.plot(ruler_marks, np.full(len(ruler_marks), y_ruler), ls="none", marker="o", ms=0.36 * st["fs"], color=c,
                    zorder=4, gid="patient-ruler-dots")
        total = float(row["Total Points"])
        xt = total * to_x_bottom
        bottom = [(a, y) for a, y in rows if a.kind != "predictor"]
        if not bottom:
            return
        ys = [y for _, y in bottom]
        ax.plot([xt, xt], [max(ys), min(ys)], color=c, lw=0.7, ls=(0, (3, 2)), alpha=0.75, zorder=1.5,
                gid="patient-reading-line")
        for a, y in bottom:
            if a.kind == "total_points":
                txt = f"{total:.1f}"
            elif a.kind == "linear_predictor":
                txt = f"{float(row['Linear Predictor']):.2f}"
            else:
                v = float(row[a.label]) if a.label in row.index else np.nan
                txt = f"{v:.3f}" if np.isfinite(v) else "NA"
            ticks = self.rows_[a.label]["ticks"]
            inside = len(ticks) and ticks.min() - 1e-9 <= xt <= ticks.max() + 1e-9
            # off the end of its axis (e.g. survival below the lowest tick): an open dot
            ax.plot([xt], [y], ls="none", marker="o", ms=0.5 * st["fs"], color=c, mec="white" if inside else c,
                    mfc=c if inside else "white", mew=0.6 if inside else 1.0, zorder=4,
                    gid=f"patient-dot-{a.kind}")
            self.patient_artists_[a.label] = self._patient_text(txt, xt, y, gid=f"patient-{a.kind}")

    def _patient_text(self, s, x, y, gid):
        """Patient value next to its dot, at the first spot free of tick labels."""
        ax, st, r = self.ax_, self._style, self._renderer
        d = 0.45 * st["fs"]
        near = 0.42 * st["fs"] + 0.8  # clear of the ticks
        far = 0.42 * st["fs"] + 1.3 * st["tick_fs"]  # beyond a row of tick labels
        spots = [((d, near), "left", "bottom"), ((-d, near), "right", "bottom"),
                 ((d, -near), "left", "top"), ((-d, -near), "right", "top"),
                 ((d, far), "left", "bottom"), ((-d, far), "right", "bottom"),
                 ((d, -far), "left", "top"), ((-d, -far), "right", "top")]
        face = self.figure_.get_facecolor()
        box = dict(boxstyle="round,pad=0.12", fc=face, ec="none", alpha=0.85) if face[3] > 0 else None

        def draw(off, ha, va):
            return ax.annotate(s, xy=(x, y), xytext=off, textcoords="offset points", ha=ha, va=va,
                               fontsize=st["tick_fs"], color=st["pcolor"], fontweight="bold", zorder=5,
                               annotation_clip=False, gid=gid, bbox=box, **st["text_kw"])

        t = None
        for spot in spots:
            t = draw(*spot)
            if not self._collides(t.get_window_extent(r)):
                break
            t.remove()
            t = None
        if t is None:  # every spot taken: the first one, over its background box
            t = draw(*spots[0])
        self._occupied.append(t.get_window_extent(r))
        return t

    # ------------------------------------------------------------------ output
    def savefig(self, fname, **kwargs):
        """``figure_.savefig`` with :data:`PUBLICATION_RC` (text as text in SVG, Type 42 in PDF)."""
        import matplotlib as mpl
        from matplotlib.figure import Figure

        if not hasattr(self, "figure_"):
            raise AttributeError("NomogramDisplay.savefig: call plot() first.")
        kwargs.setdefault("bbox_inches", "tight")
        with mpl.rc_context(PUBLICATION_RC):
            Figure.savefig(self.figure_, fname, **kwargs)


# ---------------------------------------------------------------------- helpers
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
