"""Somers' Dxy and Gini's mean difference of rows already sorted by the score, compiled with numba.

The loops behind :func:`nomogram._indexes.somers_dxy_sorted` and
:func:`nomogram._indexes.gini_md_sorted` (their docstrings hold the
formulas): one pass over each sorted row, O(n) per resample, instead of a
dozen full-array numpy passes. Imported on first use, so that ``import
nomogram`` does not load numba.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["somers_dxy_rows", "gini_md_rows"]


@numba.njit(cache=True, nogil=True)
def somers_dxy_rows(xs, ys, ws):
    """``2 C - 1`` per row: events against the non-event weight below them, ties in ``xs`` count 1/2."""
    B, n = xs.shape
    out = np.empty(B)
    for b in range(B):
        below0 = 0.0        # non-event weight of the earlier tie groups
        num = 0.0
        w1tot = 0.0
        i = 0
        while i < n:
            g1 = 0.0
            g0 = 0.0
            x = xs[b, i]
            while i < n and xs[b, i] == x:
                w = ws[b, i]
                if ys[b, i] > 0.5:
                    g1 += w
                else:
                    g0 += w
                i += 1
            num += g1 * (below0 + 0.5 * g0)
            below0 += g0
            w1tot += g1
        out[b] = 2.0 * num / (w1tot * below0) - 1.0
    return out


@numba.njit(cache=True, nogil=True)
def gini_md_rows(xs, ws):
    """``2 / (N (N - 1)) sum_i w_i x_i (2 C_i + w_i - N)`` per row (``C_i`` weight before ``i``)."""
    B, n = xs.shape
    out = np.empty(B)
    for b in range(B):
        N = 0.0
        for i in range(n):
            N += ws[b, i]
        C = 0.0
        tot = 0.0
        for i in range(n):
            w = ws[b, i]
            tot += w * xs[b, i] * (2.0 * C + w - N)
            C += w
        out[b] = 2.0 * tot / (N * (N - 1.0))
    return out
