"""A nomogram as formulas and tables a reader can compute by hand (R ``nomogramEx``).

:func:`points_formulas` writes, for every predictor axis, the exact points as
a function of the predictor's value: a straight line for a linear predictor;
for a restricted cubic spline one cubic polynomial per interval between
knots (and a straight line beyond the outer knots, where the spline is
linear); the points of each level for a categorical predictor. Each piece is
written around its lower end :math:`L`,

.. math::

    \\text{points}(x) = a + b\\,(x - L) + c\\,(x - L)^2 + d\\,(x - L)^3,
    \\qquad L \\le x < U,

which keeps the coefficients small and the arithmetic stable (the first
piece, below the first knot, is written around that knot). An interaction
axis (``age (horTh=yes)``) has its own formulas with the partner's level
folded in. Then the total points map to the linear predictor and each
outcome (``LP = intercept + total / scale``; risk ``1/(1 + exp(-LP))``;
survival ``S0(t) ^ exp(LP)``). Because a spline is a polynomial between
knots, each piece is found exactly: its four coefficients are solved from the
nomogram's own points at four values inside the piece
(:meth:`Nomogram.predictor_points`), and the test suite recomputes every
patient's points from the printed text.

:func:`points_table` lists the points of every tick of every predictor axis,
then the linear predictor and each outcome at regular totals of points (the
two tables R ``nomogramEx`` prints), as one long table for a CSV file.

References
----------
Zhang Z, Kattan MW (2017). Drawing nomograms with R: applications to
categorical outcome and survival data. Ann Transl Med 5(10):211
(``nomogramEx``). Harrell FE. rms ``nomogram``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._pretty import pretty
from .points import Nomogram, _format_number, _RiskOutcome, _SurvivalOutcome

__all__ = ["points_formulas", "points_table", "PointsFormulas"]


def _num(v: float, digits: int) -> str:
    """A number with ``digits`` significant digits, no exponent for ordinary sizes."""
    v = float(v)
    if v == 0 or not np.isfinite(v):
        return "0" if v == 0 else str(v)
    text = f"{v:.{digits}g}"
    if "e" in text:
        mant, exp = text.split("e")
        return f"{mant}e{int(exp)}"
    return text


def _poly_text(coefs, var: str, center: float, digits: int) -> str:
    """``a + b*(x - L) + c*(x - L)^2 + d*(x - L)^3`` with signs folded and zero terms left out."""
    u = var if center == 0 else f"({var} - {_num(center, digits)})" if center > 0 else \
        f"({var} + {_num(-center, digits)})"
    parts = []
    for k, c in enumerate(coefs):
        if c == 0 and (k > 0 or any(coefs[1:])):
            continue
        term = _num(abs(c), digits) if parts else _num(c, digits)
        if k == 1:
            term += f"*{u}"
        elif k > 1:
            term += f"*{u}^{k}"
        if parts:
            parts.append(("- " if c < 0 else "+ ") + term)
        else:
            parts.append(term)
    return " ".join(parts) if parts else "0"


@dataclass
class PointsFormulas:
    """Every predictor's points as explicit formulas (result of :func:`points_formulas`).

    Attributes
    ----------
    pieces : pandas.DataFrame
        One row per piece: ``axis``, ``predictor``, ``kind`` (``linear``,
        ``rcs``, ``categorical``), ``condition`` (partner level, text), ``lower``
        and ``upper`` (the piece holds ``lower <= x < upper``; the outer pieces
        run to -inf / +inf), ``center`` (L), ``a``, ``b``, ``c``, ``d`` (the
        polynomial in ``x - L``; a categorical level has only ``a``), ``level``
        and ``formula`` (the text).
    lines : list of str
        The printed text, one line each (:meth:`as_text`).
    """

    pieces: pd.DataFrame
    lines: list

    def summary(self) -> pd.DataFrame:
        """The pieces as a table (see ``pieces``)."""
        return self.pieces.copy()

    def as_text(self) -> str:
        """All formulas as plain text, as R ``nomogramEx`` prints them."""
        return "\n".join(self.lines) + "\n"

    def __str__(self) -> str:
        return self.as_text()


def _check_nomogram(nom, caller):
    if not isinstance(nom, Nomogram):
        raise TypeError(f"{caller} expects a Nomogram (model.nomogram() or load_model of a NomogramSpec file); "
                        f"got {type(nom).__name__}.")
    if getattr(nom, "_design", None) is None:
        raise ValueError(f"{caller}: this nomogram carries no model design (it was built from axes only); "
                         "use model.nomogram() or Nomogram.from_spec.")


def points_formulas(nomogram: Nomogram, *, digits: int = 6) -> PointsFormulas:
    """Each predictor's points as exact formulas, the totals-to-outcome equations, as text and table.

    Parameters
    ----------
    nomogram : Nomogram
    digits : int, default 6
        Significant digits of the printed numbers (``digits=15`` reproduces
        the points to about 1e-10).

    Returns
    -------
    PointsFormulas
        ``as_text()`` for the printed formulas, ``summary()`` for the table.

    Examples
    --------
    >>> print(points_formulas(model.nomogram()).as_text())  # doctest: +SKIP
    age (restricted cubic spline, knots 36, 45, 53, 65)
      age < 36:          points = 57.4722 - 2.32245*(age - 36)
      36 <= age < 45:    points = ...
    """
    caller = "points_formulas"
    _check_nomogram(nomogram, caller)
    if not (isinstance(digits, (int, np.integer)) and 2 <= digits <= 17):
        raise ValueError(f"The 'digits' parameter of {caller} must be an integer in [2, 17]. Got {digits!r} instead.")
    nom, design = nomogram, nomogram._design
    rows, lines = [], []
    lines.append(f"{nom.title}")
    lines.append(f"Points of each predictor (points per unit of linear predictor: {_num(nom.scale, digits)})")
    for axis in nom.axes:
        if axis.kind != "predictor":
            continue
        term = design.term(axis.predictor)
        cond = ", ".join(f"{k}={v}" for k, v in axis.condition.items())
        var = axis.predictor
        if term.kind == "categorical" or (term.values is not None and all(isinstance(v, str) for v in axis.values)):
            lines.append(f"{axis.label} (categorical)")
            levels = list(term.levels) if term.kind == "categorical" else list(axis.values)
            pts = nom.predictor_points(axis, levels)
            for lev, p in zip(levels, pts):
                text = f"{_num(p, digits)}"
                lines.append(f"  {var} = {lev}: points = {text}")
                rows.append(dict(axis=axis.label, predictor=var, kind="categorical", condition=cond, level=lev,
                                 lower=np.nan, upper=np.nan, center=np.nan, a=float(p), b=0.0, c=0.0, d=0.0,
                                 formula=f"points = {text}"))
            continue
        if term.kind == "rcs":
            knots = [float(t) for t in term.knots]
            lines.append(f"{axis.label} (restricted cubic spline, knots {', '.join(_num(t, digits) for t in knots)})")
            bounds = [-np.inf] + knots + [np.inf]
        else:
            lines.append(f"{axis.label} (linear)")
            bounds = [-np.inf, np.inf]
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            center = lo if np.isfinite(lo) else (hi if np.isfinite(hi) else 0.0)
            coefs = _piece(nom, axis, lo, hi, center, term)
            text = _poly_text(coefs, var, center, digits)
            if np.isfinite(lo) and np.isfinite(hi):
                where = f"{_num(lo, digits)} <= {var} < {_num(hi, digits)}"
            elif np.isfinite(lo):
                where = f"{var} >= {_num(lo, digits)}"
            elif np.isfinite(hi):
                where = f"{var} < {_num(hi, digits)}"
            else:
                where = f"every {var}"
            lines.append(f"  {where}: points = {text}")
            rows.append(dict(axis=axis.label, predictor=var, kind=term.kind, condition=cond, level=None,
                             lower=lo, upper=hi, center=center, a=coefs[0], b=coefs[1], c=coefs[2], d=coefs[3],
                             formula=f"points = {text}"))
    lines.append("Total points and outcome")
    lines.append(f"  total points = sum of the points above (one line per predictor; an interaction axis for "
                 "the patient's own level)")
    lines.append(f"  LP = {_num(nom.intercept, digits)} + total points / {_num(nom.scale, digits)}")
    for label, f in nom._outcomes:
        if isinstance(f, _RiskOutcome):
            lines.append(f"  {label} = 1 / (1 + exp(-LP))")
        elif isinstance(f, _SurvivalOutcome):
            lines.append(f"  {label} = {_num(f.baseline_survival, digits)} ^ exp(LP)")
        else:
            lines.append(f"  {label} = a function of LP given as Python code (not printable)")
    cols = ["axis", "predictor", "kind", "condition", "level", "lower", "upper", "center", "a", "b", "c", "d",
            "formula"]
    return PointsFormulas(pd.DataFrame(rows, columns=cols), lines)


def _piece(nom, axis, lo, hi, center, term):
    """Cubic coefficients (in x - center) of the axis' points on [lo, hi], solved from 4 exact values."""
    span = 1.0
    if term.kind == "rcs" and len(term.knots) > 1:
        span = float(term.knots[-1] - term.knots[0]) / max(1, len(term.knots) - 1)
    elif term.low is not None and term.high is not None and term.high > term.low:
        span = float(term.high - term.low)
    if np.isfinite(lo) and np.isfinite(hi):
        h = hi - lo
        s = np.array([0.0, 1 / 3, 2 / 3, 1.0])
        x = lo + h * s
    elif np.isfinite(lo):  # x >= lo: linear beyond the last knot
        h = span
        s = np.array([0.0, 1 / 3, 2 / 3, 1.0])
        x = lo + h * s
    else:  # x < hi (or the whole line): linear
        h = span
        s = np.array([-1.0, -2 / 3, -1 / 3, 0.0])
        x = (hi if np.isfinite(hi) else 0.0) + h * s
    p = nom.predictor_points(axis, x)
    u = (x - center) / h
    V = np.vander(u, 4, increasing=True)
    sol = np.linalg.solve(V, p)
    coefs = sol / h ** np.arange(4)
    if term.kind != "rcs" or not (np.isfinite(lo) and np.isfinite(hi)):
        coefs[2:] = 0.0  # linear (outer spline pieces, linear predictors): drop round-off
    tiny = 1e-12 * max(1.0, float(np.max(np.abs(p))))
    coefs[np.abs(coefs) * np.maximum(1.0, h) ** np.arange(4) < tiny] = 0.0
    return [float(c) for c in coefs]


def points_table(nomogram: Nomogram, *, total_step: float | None = None) -> pd.DataFrame:
    """Points of every predictor tick, and the outcome at regular total points (R ``nomogramEx``).

    Parameters
    ----------
    nomogram : Nomogram
    total_step : float, optional
        Spacing of the total-points rows; default the Total Points axis' tick
        spacing halved (``pretty`` steps).

    Returns
    -------
    pandas.DataFrame
        Columns ``axis``, ``kind`` (``predictor`` or ``total_points``), ``value``
        (the predictor's value or level; the total points), ``points``, then
        ``Linear Predictor`` and one column per outcome (filled on the
        ``total_points`` rows).
    """
    caller = "points_table"
    if not isinstance(nomogram, Nomogram):
        raise TypeError(f"{caller} expects a Nomogram; got {type(nomogram).__name__}.")
    nom = nomogram
    rows = []
    for axis in nom.axes:
        if axis.kind != "predictor":
            continue
        for v, lab, p in zip(axis.values, axis.tick_labels, axis.points):
            rows.append({"axis": axis.label, "kind": "predictor", "value": lab, "points": float(p)})
    total_axis = next((a for a in nom.axes if a.kind == "total_points"), None)
    if total_step is None:
        ticks = np.asarray(total_axis.values, dtype=float) if total_axis is not None else pretty([0, nom.maxscale], 10)
        total_step = float(ticks[1] - ticks[0]) / 2 if len(ticks) > 1 else nom.maxscale / 10
        top = float(ticks.max())
    else:
        if not (isinstance(total_step, (int, float)) and total_step > 0):
            raise ValueError(f"The 'total_step' parameter of {caller} must be a positive number. "
                             f"Got {total_step!r} instead.")
        top = float(np.max(total_axis.values)) if total_axis is not None else nom.maxscale
    totals = np.arange(0.0, top + total_step / 2, total_step)
    out = nom.total_points_to_outcome(totals)
    lp = nom.total_points_to_lp(totals)
    table = pd.DataFrame(rows, columns=["axis", "kind", "value", "points"])
    tot = pd.DataFrame({"axis": "Total Points", "kind": "total_points", "value": [_format_number(t) for t in totals],
                        "points": totals, "Linear Predictor": lp})
    for col in out.columns:
        tot[col] = out[col].to_numpy()
    return pd.concat([table, tot], ignore_index=True)
