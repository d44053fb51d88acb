"""R's ``lowess`` (Cleveland's LOWESS as R's ``clowess`` computes it) and R's ``approx``.

statsmodels' ``lowess`` differs from R's in the neighbourhood size
(``ns = max(2, min(n, floor(f n + 1e-7)))``), in how ties at the right edge
of a window are picked up, in the ``delta`` default (R: 1 % of the range of
``x``) and in the interpolation of skipped points. rms ``calibrate`` and
``val.prob`` use R's, so it is reimplemented here from the algorithm of
Cleveland (1979) as R's C code applies it:

* sort by ``x`` (stable, as R's ``order``);
* for each fitted point ``x_i`` the window is the ``ns`` nearest points
  ``[nleft, nright]``, moved right while that does not increase the
  radius; the radius ``h = max(x_i - x_nleft, x_nright - x_i)``; points
  with ``|x_j - x_i| <= 0.999 h`` get tricube weights
  ``(1 - (|x_j - x_i|/h)^3)^3`` (weight 1 within ``0.001 h``), including
  ties beyond ``nright``;
* weighted linear fit at ``x_i`` (a weighted mean when the weighted spread
  of ``x`` is below 0.001 times the range);
* points within ``delta`` of the last fitted point are not fitted but
  linearly interpolated; tied ``x`` share the fitted value;
* ``iter`` robustness steps with bisquare weights of the residuals scaled by
  6 times their median absolute value.
"""

from __future__ import annotations

import numpy as np

__all__ = ["lowess", "approx"]


def lowess(x, y, f: float = 2.0 / 3.0, iter: int = 3, delta: float | None = None):
    """Scatterplot smoother, identical to R's ``stats::lowess``.

    Parameters
    ----------
    x, y : array-like of shape (n,)
    f : float, default 2/3
        Smoother span: the proportion of points in each window.
    iter : int, default 3
        Robustness iterations (rms ``calibrate`` and ``val.prob`` use 0).
    delta : float, optional
        Points closer than ``delta`` to the last fitted point are interpolated;
        default ``0.01 * (max(x) - min(x))`` as in R.

    Returns
    -------
    x_sorted, fitted : ndarray of shape (n,)
        ``x`` sorted increasingly (stable) and the smoothed values, as R's
        ``lowess`` returns ``list(x, y)``.

    Notes
    -----
    The smoothing pass is R's C loop compiled with numba
    (:mod:`nomogram._clowess`): O(number of fitted points x window) per pass,
    about 10 ms for 50,000 points with the default ``delta`` (the local fits
    are computed only at the points ``delta`` apart and interpolated between,
    exactly as R does).

    References
    ----------
    Cleveland WS (1979). Robust locally weighted regression and smoothing scatterplots.
    JASA 74:829-836. R Core Team, ``stats::lowess`` (``clowess``).

    Examples
    --------
    >>> xs, fit = lowess([1, 2, 3, 4, 5], [2.0, 1.0, 4.0, 3.0, 5.0], iter=0)
    >>> xs.tolist()
    [1.0, 2.0, 3.0, 4.0, 5.0]
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"lowess: x and y must be 1-D of equal length; got {x.shape} and {y.shape}.")
    if len(x) == 0:
        raise ValueError("lowess: 'x' is empty.")
    o = np.argsort(x, kind="stable")
    x = x[o]
    y = y[o]
    n = len(x)
    if delta is None:
        delta = 0.01 * (x[-1] - x[0])
    if n < 2:
        return x, y.copy()
    from ._clowess import clowess_pass

    ns = max(2, min(n, int(f * n + 1e-7)))
    x_range = x[-1] - x[0]
    rw = np.ones(n)
    for it in range(1, iter + 2):
        ys = clowess_pass(x, y, ns, float(delta), rw, it > 1, x_range)
        res = y - ys
        sc = np.sum(np.abs(res)) / n
        if it > iter:
            break
        ar = np.abs(res)
        m1 = n // 2
        srt = np.sort(ar)
        cmad = 3.0 * (srt[m1] + srt[n - m1 - 1]) if n % 2 == 0 else 6.0 * srt[m1]
        if cmad < 1e-7 * sc:
            break
        c9, c1 = 0.999 * cmad, 0.001 * cmad
        rw = np.where(ar <= c1, 1.0, np.where(ar <= c9, (1.0 - (ar / cmad) ** 2) ** 2, 0.0))
    return x, ys


def approx(x, y, xout, ties: str = "mean"):
    """R's ``approx(x, y, xout, rule = 1, ties = ...)``: linear interpolation, NaN outside.

    Parameters
    ----------
    x, y : array-like
        Knots (any order); tied ``x`` are collapsed first.
    xout : array-like
        Where to interpolate.
    ties : {"mean", "first"}
        How tied ``x`` are collapsed: their mean ``y`` (R's default ``ties = mean``)
        or the first in the stable sort order (rms ``calibrate``'s
        ``ties = function(x) x[1]``).
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    o = np.argsort(x, kind="stable")
    x, y = x[o], y[o]
    ux, start, counts = np.unique(x, return_index=True, return_counts=True)
    if ties == "first":
        uy = y[start]
    elif ties == "mean":
        uy = np.add.reduceat(y, start) / counts
    else:
        raise ValueError(f"The 'ties' parameter of approx must be one of {{'first', 'mean'}}. Got {ties!r} instead.")
    xout = np.asarray(xout, float)
    out = np.interp(xout, ux, uy)
    out[(xout < ux[0]) | (xout > ux[-1]) | np.isnan(xout)] = np.nan
    return out
