"""One smoothing pass of R's ``clowess`` (the loop behind ``stats::lowess``), compiled with numba.

Imported by :func:`nomogram._lowess.lowess` on first use, so that ``import
nomogram`` does not load numba. The algorithm and its exact rules are
documented in :mod:`nomogram._lowess`; this is the same loop as R's C code,
statement for statement (sums accumulate in R's order), at C speed: for each
fitted point the window of ``ns`` nearest points is found by moving it right
while that does not increase the radius, the local weighted linear fit is
evaluated there, and the points skipped within ``delta`` are interpolated.

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
def _lowest(x, y, n, xs, nleft, nright, w, userw, rw, x_range):
    """Fitted value at ``xs`` from the window starting at ``nleft``; (value, ok)."""
    h = max(xs - x[nleft], x[nright] - xs)
    h9 = 0.999 * h
    h1 = 0.001 * h
    a = 0.0
    j = nleft
    while j < n:
        w[j] = 0.0
        r = abs(x[j] - xs)
        if r <= h9:
            if r <= h1:
                w[j] = 1.0
            else:
                q = r / h
                q = 1.0 - q * q * q
                w[j] = q * q * q
            if userw:
                w[j] *= rw[j]
            a += w[j]
        elif x[j] > xs:
            break
        j += 1
    nrt = j - 1
    if a <= 0.0:
        return 0.0, False
    for j in range(nleft, nrt + 1):
        w[j] /= a
    if h > 0.0:
        a = 0.0
        for j in range(nleft, nrt + 1):
            a += w[j] * x[j]
        b = xs - a
        c = 0.0
        for j in range(nleft, nrt + 1):
            c += w[j] * (x[j] - a) * (x[j] - a)
        if np.sqrt(c) > 0.001 * x_range:
            b /= c
            for j in range(nleft, nrt + 1):
                w[j] *= b * (x[j] - a) + 1.0
    ys = 0.0
    for j in range(nleft, nrt + 1):
        ys += w[j] * y[j]
    return ys, True


@numba.njit(cache=True, nogil=True)
def clowess_pass(x, y, ns, delta, rw, userw, x_range):
    """Smoothed values at every (sorted) ``x``: fitted points, ties copied, skipped points interpolated."""
    n = x.shape[0]
    ys = np.empty(n)
    w = np.zeros(n)
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
        val, ok = _lowest(x, y, n, x[i], nleft, nright, w, userw, rw, x_range)
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
