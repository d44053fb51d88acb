"""Restricted cubic splines exactly as Hmisc ``rcspline.eval`` and rms ``rcs`` build them.

Knots (when not given) sit at quantiles of the non-missing values:

=====  ==============================================
 nk    quantiles
=====  ==============================================
 3     .10  .50  .90
 4     .05  .35  .65  .95
 5     .05  .275 .50  .725 .95
 6     .05  .23  .41  .59  .77  .95
 7     .025 .1833 .3417 .50 .6583 .8167 .975
=====  ==============================================

i.e. ``linspace(outer, 1 - outer, nk)`` with ``outer`` = .10 (nk = 3), .05
(4-6), .025 (7); quantiles are R's type 7 (NumPy's default). With fewer than
100 values the outer knots move to the 5th smallest and 5th largest value.
When the smallest (largest) value holds at least ``fractied`` = 5 % of the
data and no interior value does, the next distinct value becomes a fixed
first (last) knot and the remaining knots are placed in the rest of the data.

For knots :math:`t_1 < \\dots < t_k` and :math:`\\tau = (t_k - t_1)^{2/3}`, the
basis is :math:`x` plus, for :math:`j = 1..k-2`,

.. math::

    (x - t_j)_+^3/\\tau^3 + \\big[(t_{k-1} - t_j)(x - t_k)_+^3
        - (t_k - t_j)(x - t_{k-1})_+^3\\big] / \\big[\\tau^3 (t_k - t_{k-1})\\big],

(``norm = 2``: every column is in the units of x). rms names the columns
``x``, ``x'``, ``x''``, ...

References
----------
Harrell FE. Hmisc ``rcspline.eval``; rms ``rcs``. Stone CJ, Koo CY (1985).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["rcs_knots", "rcs_basis", "rcs_column_names"]

_DEFAULT_FRACTIED = 0.05


def _outer_quantile(nk: int) -> float:
    if nk > 6:
        return 0.025
    return 0.05 if nk > 3 else 0.10


def rcs_knots(x, nk: int = 5, *, fractied: float = _DEFAULT_FRACTIED, name: str = "x") -> np.ndarray:
    """Default knot locations for a restricted cubic spline with ``nk`` knots.

    Parameters
    ----------
    x : array-like
        Values of the predictor (missing values are ignored).
    nk : int, default 5
        Number of knots requested (>= 3).
    fractied : float, default 0.05
        Fraction of ties at the smallest or largest value that triggers the
        fixed-end-knot rule (Hmisc >= 3.14).
    name : str
        Predictor name used in messages.

    Returns
    -------
    ndarray
        Sorted unique knots (possibly fewer than ``nk``).
    """
    xx = np.asarray(x, dtype=float)
    xx = xx[~np.isnan(xx)]
    n = len(xx)
    if n < 6:
        raise ValueError(f"rcs knots for '{name}': fewer than 6 non-missing values ({n}).")
    if nk < 3:
        raise ValueError(f"rcs for '{name}': the number of knots must be >= 3; got {nk}.")
    xu = np.unique(xx)
    nxu = len(xu)
    if nxu - 2 <= nk:
        warnings.warn(
            f"'{name}': {nk} knots requested with {nxu} unique values; knots set to the "
            f"{nxu - 2} interior values.",
            stacklevel=3,
        )
        knots = xu[1:-1]
    else:
        outer = _outer_quantile(nk)
        nke = nk
        first_knot: list[float] = []
        last_knot: list[float] = []
        override_first = override_last = False
        if 0 < fractied < 1:
            values, counts = np.unique(xx, return_counts=True)
            f = counts / n
            if f[1:-1].max() < fractied:
                if f[0] >= fractied:
                    fk = xx[xx > xx.min()].min()
                    first_knot = [fk]
                    xx = xx[xx > fk]
                    nke -= 1
                    override_first = True
                if f[-1] >= fractied:
                    lk = xx[xx < xx.max()].max()
                    last_knot = [lk]
                    xx = xx[xx < lk]
                    nke -= 1
                    override_last = True
        if nke == 1:
            knots = np.array([np.median(xx)])
        else:
            if nxu <= nke:
                knots = xu.copy()
            else:
                if nke == 2:
                    probs = np.linspace(0.5, 1.0 - outer, nke)
                else:
                    probs = np.linspace(outer, 1.0 - outer, nke)
                knots = np.quantile(xx, probs)
                if len(np.unique(knots)) < min(nke, 3):
                    knots = np.quantile(xx, np.linspace(outer, 1.0 - outer, 2 * nke))
                    if first_knot and len(np.unique(knots)) < 3:
                        midval = (
                            (first_knot[0] + last_knot[0]) / 2.0 if last_knot else np.median(xx)
                        )
                        third = last_knot[0] if last_knot else np.quantile(xx, 1.0 - outer)
                        knots = np.sort([first_knot[0], midval, third])
                    if len(np.unique(knots)) < 3:
                        raise ValueError(
                            f"rcs for '{name}': fewer than 3 distinct knots can be placed; the "
                            "variable has too few distinct values. Use it as linear or categorical."
                        )
                    warnings.warn(
                        f"'{name}': could not obtain {nke} interior knots with the default "
                        f"algorithm; used {len(np.unique(knots))} knots.",
                        stacklevel=3,
                    )
            if len(xx) < 100:
                xs = np.sort(xx)
                knots = np.array(knots, dtype=float)
                if not override_first:
                    knots[0] = xs[4]
                if not override_last:
                    knots[nke - 1] = xs[len(xs) - 5]
        knots = np.concatenate([first_knot, np.asarray(knots, float), last_knot])
    knots = np.unique(knots)
    if len(knots) < 3:
        raise ValueError(
            f"rcs for '{name}': fewer than 3 distinct knots ({knots.tolist()}); use the "
            "variable as linear or categorical."
        )
    return knots


def rcs_basis(x, knots) -> np.ndarray:
    """Restricted cubic spline design columns (``x`` first), rms ``rcs`` / ``norm=2``.

    Parameters
    ----------
    x : array-like of shape (n,)
    knots : array-like of shape (k,)
        Sorted knots, k >= 3.

    Returns
    -------
    ndarray of shape (n, k - 1)
    """
    x = np.asarray(x, dtype=float)
    t = np.asarray(knots, dtype=float)
    k = len(t)
    kd = (t[-1] - t[0]) ** (2.0 / 3.0)
    out = np.empty((len(x), k - 1))
    out[:, 0] = x
    tail_k = np.maximum((x - t[-1]) / kd, 0.0) ** 3
    tail_k1 = np.maximum((x - t[-2]) / kd, 0.0) ** 3
    for j in range(k - 2):
        out[:, j + 1] = np.maximum((x - t[j]) / kd, 0.0) ** 3 + (
            (t[-2] - t[j]) * tail_k - (t[-1] - t[j]) * tail_k1
        ) / (t[-1] - t[-2])
    return out


def rcs_column_names(name: str, n_knots: int) -> list[str]:
    """rms names of the spline columns: ``age``, ``age'``, ``age''``, ..."""
    return [name + "'" * j for j in range(n_knots - 1)]
