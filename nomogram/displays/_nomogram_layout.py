"""Layout decisions of the nomogram chart that need no drawing: folded axes and tick choice.

* :func:`axis_branches` cuts a continuous predictor axis whose points turn
  back (a U-shaped spline) into monotone *branches*, found on a fine grid of
  the predictor (not only at the ticks) with each turning point refined on a
  finer grid around it; a run whose points span less than ``min_span`` is merged
  into its neighbour (a reader cannot see the difference).
* :func:`tick_priority` orders an axis' candidate ticks for labelling: both
  ends first, then the "nicest" values (multiples of 10, 5, 2 steps...).
* :func:`choose_ticks` keeps ticks one at a time, each where its label fits
  beside the labels already kept (on one or two label lines): first both
  ends, then, while reading the axis by straight-line interpolation between
  the kept ticks would be off by more than ``tol`` points somewhere, the tick
  where it is off most (the knee of a skewed spline axis; it may take the
  second line), then the finest evenly spaced grid of round values (every 1,
  2, 5, 10... steps) whose labels all fit on the first line (when none does,
  as on a skewed axis, the roundest values one by one where they fit). A tick
  whose label does not fit is not drawn at all, so every drawn tick is labelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Branch", "axis_branches", "tick_priority", "select_labels", "choose_ticks", "place_levels", "format_bound"]

_NICE = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)


@dataclass
class Branch:
    """One monotone piece of a predictor axis.

    Attributes
    ----------
    lo, hi : float
        Smallest and largest predictor value on the branch.
    x_lo, x_hi : float
        Points at ``lo`` and ``hi``.
    direction : int
        +1 when points rise with the value, -1 when they fall, 0 when flat.
    ticks : list of int
        Indices (into the axis' values) of the candidate ticks on this branch.
    """

    lo: float
    hi: float
    x_lo: float
    x_hi: float
    direction: int
    ticks: list = field(default_factory=list)


def _runs(p, tol):
    """Direction of each grid interval (+1/-1, flat intervals take a neighbour's) and run bounds."""
    d = np.diff(p)
    sign = np.where(d > tol, 1, np.where(d < -tol, -1, 0))
    if not sign.any():
        return [(0, len(p) - 1, 0)]
    # flat intervals take the direction of the previous non-flat one (the first: the next)
    first = sign[np.flatnonzero(sign)[0]]
    cur = first
    for i in range(len(sign)):
        if sign[i] == 0:
            sign[i] = cur
        cur = sign[i]
    runs, start = [], 0
    for i in range(1, len(sign)):
        if sign[i] != sign[i - 1]:
            runs.append([start, i, int(sign[i - 1])])  # grid indices start..i
            start = i
    runs.append([start, len(sign), int(sign[-1])])
    return runs


def axis_branches(values, points, fun, *, min_span: float, n_grid: int = 801) -> list[Branch]:
    """Monotone branches of a continuous predictor axis.

    Parameters
    ----------
    values, points : array-like
        The axis' tick values (sorted) and their points.
    fun : callable or None
        Points at any values (``Nomogram.predictor_points``); None uses the
        ticks only.
    min_span : float
        A run of one direction whose points span less than this is merged into
        its neighbour.

    Returns
    -------
    list of Branch
        In order of the predictor's values; one branch when the axis is monotone.
    """
    values = np.asarray(values, dtype=float)
    points = np.asarray(points, dtype=float)
    lo, hi = float(values.min()), float(values.max())
    if fun is not None and hi > lo:
        grid = np.union1d(np.linspace(lo, hi, n_grid), values)
        p = np.asarray(fun(grid), dtype=float)
    else:
        grid, p = values, points
    scale = max(1.0, float(np.nanmax(np.abs(p))))
    runs = _runs(p, 1e-10 * scale)
    # merge runs too short to see (span of their points < min_span)
    changed = True
    while changed and len(runs) > 1:
        changed = False
        spans = [float(np.ptp(p[a:b + 1])) for a, b, _ in runs]
        k = int(np.argmin(spans))
        if spans[k] < min_span:
            if k == 0:
                runs[1][0] = runs[0][0]
                del runs[0]
            else:
                runs[k - 1][1] = runs[k][1]
                del runs[k]
            merged = [runs[0]]
            for r in runs[1:]:
                if r[2] == merged[-1][2]:
                    merged[-1][1] = r[1]
                else:
                    merged.append(r)
            runs = merged
            changed = True
    # refine each turning point (a local extremum of the points) between grid neighbours
    bounds = [float(grid[0])]
    for (a, b, direction), nxt in zip(runs[:-1], runs[1:]):
        bounds.append(_refine_turn(fun, grid, b, direction) if fun is not None else float(grid[b]))
    bounds.append(float(grid[-1]))
    out = []
    for k, (a, b, direction) in enumerate(runs):
        v0, v1 = bounds[k], bounds[k + 1]
        if fun is not None:
            x0, x1 = (float(x) for x in fun(np.array([v0, v1])))
        else:
            x0, x1 = float(p[a]), float(p[b])
        out.append(Branch(v0, v1, x0, x1, int(direction)))
    # candidate ticks: each value goes to the first branch that holds it
    eps = 1e-9 * max(1.0, hi - lo)
    for i, v in enumerate(values):
        for br in out:
            if br.lo - eps <= v <= br.hi + eps:
                br.ticks.append(i)
                break
    return out


def _refine_turn(fun, grid, i, direction):
    """The extremum near grid point ``i`` (a maximum when the run before it rises), to 1/400 of a grid step."""
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    fine = np.linspace(a, b, 801)
    p = np.asarray(fun(fine), dtype=float)
    return float(fine[int(np.argmax(p) if direction > 0 else np.argmin(p))])


def tick_priority(values) -> list[int]:
    """Order in which ticks get their labels: both ends, then the nicest values.

    A value's niceness is the largest of 1, 2, 5, 10, 20, 25, 50, 100... steps
    (the smallest spacing of the values) it is a multiple of; ties keep the
    values' order.
    """
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n == 0:
        return []
    ends = [int(np.argmin(v)), int(np.argmax(v))]
    u = np.unique(v)
    step = float(np.min(np.diff(u))) if len(u) > 1 else 1.0
    score = np.ones(n)
    for m in _NICE:
        q = v / (m * step)
        score[np.abs(q - np.round(q)) < 1e-6] = m
    rest = sorted((i for i in range(n) if i not in ends), key=lambda i: (-score[i], i))
    order = []
    for i in ends + rest:
        if i not in order:
            order.append(i)
    return order


def select_labels(centers, widths, priority, gap: float, levels: int = 1, taken=None) -> dict:
    """Ticks whose labels fit, with the label line (0 = nearest the axis) of each.

    Parameters
    ----------
    centers, widths : array-like
        Display x of each tick and width of its label.
    priority : list of int
        Order in which ticks are tried (:func:`tick_priority`).
    gap : float
        Least space between two labels on one line.
    levels : int, default 1
        Label lines available.
    taken : list of (float, float), optional
        Display x intervals already used on the first line.

    Returns
    -------
    dict of {int: int}
        Kept tick -> its label line.
    """
    lines = [list(taken or []) if k == 0 else [] for k in range(levels)]
    kept = {}
    for i in priority:
        lo, hi = centers[i] - widths[i] / 2.0, centers[i] + widths[i] / 2.0
        for k in range(levels):
            if all(hi + gap <= a or lo - gap >= b for a, b in lines[k]):
                lines[k].append((lo, hi))
                kept[i] = k
                break
    return kept


def choose_ticks(values, points, centers, widths, gap: float, *, levels: int = 1, tol: float = np.inf,
                 candidates=None) -> dict:
    """Ticks to draw on one monotone piece of an axis, and the label line of each.

    Parameters
    ----------
    values, points : array-like
        Every tick's value and position on the axis' points scale.
    centers, widths : array-like
        Display x of every tick and width of its label.
    gap : float
        Least display space between two labels on one line.
    levels : int
        Label lines available.
    tol : float
        Largest tolerated error, in points, of reading a value by straight-line
        interpolation between kept ticks (module docstring).
    candidates : list of int, optional
        The ticks of this piece (default all).

    Returns
    -------
    dict of {int: int}
        Kept tick -> its label line (0 nearest the axis).
    """
    values = np.asarray(values, dtype=float)
    points = np.asarray(points, dtype=float)
    cand = list(range(len(values))) if candidates is None else list(candidates)
    if not cand:
        return {}
    sub = tick_priority(values[cand])
    nice = [cand[i] for i in sub]
    lines = [[] for _ in range(levels)]
    kept = {}

    def keep(i, n_lines=levels):
        lo, hi = centers[i] - widths[i] / 2.0, centers[i] + widths[i] / 2.0
        for k in range(n_lines):
            if all(hi + gap <= a or lo - gap >= b for a, b in lines[k]):
                lines[k].append((lo, hi))
                kept[i] = k
                return

    for i in nice[:2]:  # both ends
        keep(i)
    remaining = [i for i in nice[2:]]
    # 1. where straight-line reading between kept ticks is off by more than tol: the worst tick, any line
    while remaining and np.isfinite(tol):
        ref = sorted(kept, key=lambda i: values[i])
        if len(ref) < 2:
            break
        rem = np.array(remaining)
        err = np.abs(points[rem] - np.interp(values[rem], values[ref], points[ref]))
        j = int(np.argmax(err))
        if err[j] <= tol:
            break
        pick = remaining.pop(j)
        keep(pick)
    # 2. the finest evenly spaced grid of round values whose labels all fit on the first line
    vals = values[remaining] if remaining else np.array([])
    u = np.unique(values[cand])
    step = float(np.min(np.diff(u))) if len(u) > 1 else 1.0
    for m in _NICE:
        q = vals / (m * step)
        grid = [i for i, on in zip(remaining, np.abs(q - np.round(q)) < 1e-6) if on]
        if not grid:
            continue
        trial = list(lines[0])
        fits = True
        for i in grid:
            lo, hi = centers[i] - widths[i] / 2.0, centers[i] + widths[i] / 2.0
            if any(not (hi + gap <= a or lo - gap >= b) for a, b in trial):
                fits = False
                break
            trial.append((lo, hi))
        if fits:
            for i in grid:
                keep(i, 1)
            break
    else:  # no even grid fits (a skewed axis): the roundest values one by one, where they fit
        for i in remaining:
            keep(i, 1)
    return kept


def place_levels(centers, widths, sides, gap: float, *, max_lines: int = 4) -> dict:
    """Where each level label of a categorical axis goes: (side, line).

    Levels are taken in order of their position; each goes to its preferred
    side (rms: alternately below and above), else the other side, else one
    line further out on either, and so on, wherever it does not overlap a
    label already placed on that line. A level is never left out: past
    ``max_lines`` it goes on a new line of its preferred side.

    Returns
    -------
    dict of {int: (int, int)}
        Level index -> (side, line): side -1 below, +1 above; line 0 nearest the axis.
    """
    lines = {}
    out = {}
    order = np.argsort(np.asarray(centers, dtype=float), kind="stable")
    for i in order:
        lo, hi = centers[i] - widths[i] / 2.0, centers[i] + widths[i] / 2.0
        pref = int(sides[i])
        k = 0
        while True:
            tries = [(pref, k), (-pref, k)] if k < max_lines else [(pref, k)]
            done = False
            for key in tries:
                used = lines.setdefault(key, [])
                if all(hi + gap <= a or lo - gap >= b for a, b in used):
                    used.append((lo, hi))
                    out[int(i)] = key
                    done = True
                    break
            if done:
                break
            k += 1
    return out


def format_bound(v: float, values) -> str:
    """A branch's end value, rounded to the precision of the axis' tick values."""
    vals = np.asarray(values, dtype=float)
    u = np.unique(vals)
    step = float(np.min(np.diff(u))) if len(u) > 1 else 1.0
    decimals = max(0, int(np.ceil(-np.log10(step) - 1e-9))) if step < 1 else 0
    if decimals == 0:
        return str(int(round(v)))
    return f"{v:.{decimals}f}"
