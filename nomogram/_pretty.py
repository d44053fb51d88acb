"""R's ``pretty()``: 'round' tick values covering a range.

A reimplementation of ``R_pretty`` (src/appl/pretty.c) and ``pretty.default``
of R 4.x with its defaults (``min.n = n %/% 3``, ``shrink.sml = 0.75``,
``high.u.bias = 1.5``, ``u5.bias = 0.5 + 1.5 * high.u.bias``,
``eps.correct = 0``, ``f.min = 2^-20``, ``bounds = TRUE``), so that nomogram
axes carry the same ticks as rms draws.
"""

from __future__ import annotations

import math
import sys

import numpy as np

__all__ = ["pretty"]

_ROUNDING_EPS = 1e-10
_DBL_EPS = sys.float_info.epsilon
_DBL_MIN = sys.float_info.min


def pretty(x, n: int = 5) -> np.ndarray:
    """Tick values as R's ``pretty(x, n)`` returns them.

    Parameters
    ----------
    x : array-like
        Values whose finite range is covered.
    n : int, default 5
        Desired number of intervals.

    Returns
    -------
    ndarray
        Equally spaced round values, the first <= min(x), the last >= max(x).

    Examples
    --------
    >>> pretty([21, 80], 10).tolist()
    [20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 80.0]
    """
    arr = np.asarray(x, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return arr
    lo, up = float(arr.min()), float(arr.max())
    min_n = n // 3
    h, h5, f_min = 1.5, 0.5 + 1.5 * 1.5, 2.0**-20
    shrink_sml = 0.75
    ndiv = n

    dx = up - lo
    if dx == 0 and up == 0:
        cell, i_small = 1.0, True
    else:
        cell = max(abs(lo), abs(up))
        U = 1 + (1 / (1 + h) if h5 >= 1.5 * h + 0.5 else 1.5 / (1 + h5))
        U *= max(1, ndiv) * _DBL_EPS
        i_small = dx < cell * U * 3
    if i_small:
        if cell > 10:
            cell = 9 + cell / 10
        cell *= shrink_sml
        if min_n > 1:
            cell /= min_n
    else:
        cell = dx
        if ndiv > 1:
            cell /= ndiv
    subsmall = f_min * _DBL_MIN or _DBL_MIN
    if cell < subsmall:
        cell = subsmall

    base = 10.0 ** math.floor(math.log10(cell))
    unit = base
    ns = 2 * base
    if ns - cell < h * (cell - unit):
        unit = ns
        ns = 5 * base
        if ns - cell < h5 * (cell - unit):
            unit = ns
            ns = 10 * base
            if ns - cell < h * (cell - unit):
                unit = ns

    ns = math.floor(lo / unit + _ROUNDING_EPS)
    nu = math.ceil(up / unit - _ROUNDING_EPS)
    while ns * unit > lo + _ROUNDING_EPS * unit:
        ns -= 1
    while nu * unit < up - _ROUNDING_EPS * unit:
        nu += 1
    k = int(0.5 + nu - ns)
    if k < min_n:
        k = min_n - k
        if lo == 0 and ns == 0 and up != 0:
            nu += k
        elif up == 0 and nu == 0 and lo != 0:
            ns -= k
        elif ns >= 0:
            nu += k // 2
            ns -= k // 2 + k % 2
        else:
            ns -= k // 2
            nu += k // 2 + k % 2
        ndiv = min_n
    else:
        ndiv = k
    new_lo = ns * unit if ns * unit < lo else lo
    new_up = nu * unit if nu * unit > up else up
    if ndiv == 0:
        return np.array([new_lo])
    by = (new_up - new_lo) / ndiv
    s = new_lo + np.arange(ndiv + 1) * by
    s[-1] = new_up
    delta = (new_up - new_lo) / ndiv
    s[np.abs(s) < 1e-14 * delta] = 0.0
    return s
