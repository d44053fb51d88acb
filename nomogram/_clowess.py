"""One smoothing pass of R's ``clowess`` (the loop behind ``stats::lowess``), compiled with numba.

Imported by :func:`nomogram._lowess.lowess` on first use, so that ``import
nomogram`` does not load numba. The algorithm and its exact rules are
documented in :mod:`nomogram._lowess`; this is R's C loop: for each fitted
point the window of ``ns`` nearest points is found by moving it right while
that does not increase the radius, the local weighted linear fit is evaluated
there, and the points skipped within ``delta`` are interpolated. The local fit
(:func:`_lowest`) skips the points of zero weight by bisection and takes its
sums in two vectorised passes instead of R's five, so its values equal R's to
rounding (about 1e-15) rather than bit for bit.

References
----------
Cleveland WS (1979). Robust locally weighted regression and smoothing
scatterplots. JASA 74:829-836. R Core Team, ``src/library/stats/src/lowess.c``.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["clowess_pass"]


@numba.njit(cache=True, nogil=True)
def _first_within(x, lo, hi, xs, h9):
    """First ``j`` in ``[lo, hi]`` with ``xs - x[j] <= h9`` (x sorted, ``x[hi] == xs``)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if abs(x[mid] - xs) <= h9:
            hi = mid
        else:
            lo = mid + 1
    return lo


@numba.njit(cache=True, nogil=True)
def _last_within(x, lo, hi, xs, h9):
    """Last ``j`` in ``[lo, hi]`` with ``x[j] - xs <= h9`` (x sorted, ``x[lo] == xs``)."""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if abs(x[mid] - xs) <= h9:
            lo = mid
        else:
            hi = mid - 1
    return lo


@numba.njit(cache=True, nogil=True, inline="always")
def _tricube(r, h, h1):
    """lowess's weight of a point at distance ``r`` (1 within ``h1``, tricube up to ``h``)."""
    q = r / h
    q = 1.0 - q * q * q
    return 1.0 if r <= h1 else q * q * q


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract", "nsz", "arcp"})
def _window_sums(x, y, jlo, jhi, xs, h, h1, userw, rw):
    """Tricube weights of ``x[jlo:jhi+1]`` around ``xs`` and the weighted sums of 1, x, y (one vectorised loop)."""
    s0 = 0.0
    s1 = 0.0
    sy = 0.0
    for j in range(jlo, jhi + 1):
        wj = _tricube(abs(x[j] - xs), h, h1)
        if userw:
            wj *= rw[j]
        s0 += wj
        s1 += wj * x[j]
        sy += wj * y[j]
    return s0, s1, sy


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract", "nsz", "arcp"})
def _window_moments(x, y, jlo, jhi, xs, h, h1, userw, rw, a):
    """The weighted sums of ``(x - a)^2`` and ``(x - a) y`` over the window (weights as :func:`_window_sums`)."""
    c = 0.0
    sxy = 0.0
    for j in range(jlo, jhi + 1):
        wj = _tricube(abs(x[j] - xs), h, h1)
        if userw:
            wj *= rw[j]
        d = x[j] - a
        c += wj * d * d
        sxy += wj * d * y[j]
    return c, sxy


@numba.njit(cache=True, nogil=True)
def _lowest(x, y, n, i, nleft, nright, userw, rw, x_range):
    """Fitted value at ``xs = x[i]`` from the window starting at ``nleft``; (value, ok).

    R's ``lowest``: the points within ``0.999 h`` of ``xs`` (``h`` the radius
    of the window ``[nleft, nright]``, ties beyond ``nright`` included) get
    tricube weights (1 within ``0.001 h``); with the weights normalised to sum
    1, ``a = sum w x``, ``c = sum w (x - a)^2``, and the fitted value is
    ``sum w y (1 + b (x - a))`` with ``b = (xs - a) / c`` when ``sqrt(c) >
    0.001 * range``, else ``sum w y``. The points with weight 0 are skipped
    (found by bisection: ``x`` is sorted) and the sums are taken in two
    vectorised passes, ``sum w y (1 + b (x - a)) = (S_y + b S_{(x-a)y}) / S_0``;
    equal to R's loop to rounding.
    """
    xs = x[i]
    h = max(xs - x[nleft], x[nright] - xs)
    h9 = 0.999 * h
    h1 = 0.001 * h
    jlo = _first_within(x, nleft, i, xs, h9)
    jhi = _last_within(x, i, n - 1, xs, h9)
    s0, s1, sy = _window_sums(x, y, jlo, jhi, xs, h, h1, userw, rw)
    if s0 <= 0.0:
        return 0.0, False
    if h > 0.0:
        a = s1 / s0
        c, sxy = _window_moments(x, y, jlo, jhi, xs, h, h1, userw, rw, a)
        c /= s0
        if np.sqrt(c) > 0.001 * x_range:
            return (sy + (xs - a) / c * sxy) / s0, True
    return sy / s0, True


@numba.njit(cache=True, nogil=True)
def clowess_pass(x, y, ns, delta, rw, userw, x_range):
    """Smoothed values at every (sorted) ``x``: fitted points, ties copied, skipped points interpolated."""
    n = x.shape[0]
    ys = np.empty(n)
    nleft = 0
    nright = ns - 1
    last = -1
    i = 0
    while True:
        if nright < n - 1:
            if x[i] - x[nleft] > x[nright + 1] - x[i]:
                nleft += 1
                nright += 1
                continue
        val, ok = _lowest(x, y, n, i, nleft, nright, userw, rw, x_range)
        ys[i] = val if ok else y[i]
        if last < i - 1:
            denom = x[i] - x[last]
            for j in range(last + 1, i):
                alpha = (x[j] - x[last]) / denom
                ys[j] = alpha * ys[i] + (1.0 - alpha) * ys[last]
        last = i
        cut = x[last] + delta
        i = last + 1
        while i < n:
            if x[i] > cut:
                break
            if x[i] == x[last]:
                ys[i] = ys[last]
                last = i
            i += 1
        i = max(last + 1, i - 1)
        if last >= n - 1:
            break
    return ys
