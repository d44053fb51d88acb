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

__all__ = ["somers_dxy_rows", "gini_md_rows", "lrm_validate_rows"]


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


@numba.njit(cache=True, nogil=True)
def lrm_validate_rows(lp, order, y, W, T, a, s):
    """Every rank- and probability-based index of ``validate`` (logistic) per resample, one pass each.

    Row ``b``: the refit's linear predictor ``lp[b]`` on the original
    patients, ``order[b]`` its ascending order, training weights ``W[b]``,
    test weights ``T[b]``, recalibration intercept ``a[b]`` and slope
    ``s[b]``. Returns (B, 9): Dxy (training, test), Gini's mean difference
    of ``lp`` (training, test), of ``expit(lp)`` (training), of
    ``expit(a + s lp)`` (test), the Brier sums ``sum w (y - expit(lp))^2``
    (training, test), ``sum_T (y lp - log(1 + e^lp))`` (the test
    log-likelihood of ``lp`` as is), and the log-likelihoods of ``lrm.fit``
    at its final estimates: of the refit on its training sample,
    ``sum_W log p|q`` with ``p`` from ``lp`` clipped to [-30, 30], and of
    the recalibration on the test sample, ``sum_T log p|q`` with ``p`` from
    ``a + s lp`` clipped (the arithmetic of ``lrmfit``, see
    :mod:`nomogram._lrm_kernels`; so the refits need no pass of their own
    for them). Formulas: :func:`somers_dxy_rows`,
    :func:`gini_md_rows`; a decreasing ``expit(a + s lp)`` (``s < 0``) is
    read backwards, which only changes the sign of the Gini sum.
    """
    B, n = lp.shape
    out = np.empty((B, 11))
    for b in range(B):
        NW = 0.0
        NT = 0.0
        for i in range(n):
            NW += W[b, i]
            NT += T[b, i]
        ab = a[b]
        sb = s[b]
        # Dxy tie groups (training W, test T)
        below_w = 0.0
        below_t = 0.0
        num_w = 0.0
        num_t = 0.0
        ev_w = 0.0
        ev_t = 0.0
        g1w = 0.0
        g0w = 0.0
        g1t = 0.0
        g0t = 0.0
        # Gini sums and the weight before the current patient
        cw = 0.0
        ct = 0.0
        gx_w = 0.0
        gx_t = 0.0
        gp_w = 0.0
        gp_t = 0.0
        br_w = 0.0
        br_t = 0.0
        l01 = 0.0
        ll_w = 0.0
        ll_t = 0.0
        prev = 0.0
        for k in range(n):
            i = order[b, k]
            x = lp[b, i]
            if k > 0 and x != prev:
                num_w += g1w * (below_w + 0.5 * g0w)
                below_w += g0w
                ev_w += g1w
                num_t += g1t * (below_t + 0.5 * g0t)
                below_t += g0t
                ev_t += g1t
                g1w = 0.0
                g0w = 0.0
                g1t = 0.0
                g0t = 0.0
            prev = x
            w = W[b, i]
            t = T[b, i]
            event = y[i] > 0.5
            if event:
                g1w += w
                g1t += t
            else:
                g0w += w
                g0t += t
            e = np.exp(-abs(x))
            p = 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)
            ec = ab + sb * x
            pc = 1.0 / (1.0 + np.exp(-ec))
            fw = 2.0 * cw + w - NW
            ft = 2.0 * ct + t - NT
            gx_w += w * x * fw
            gx_t += t * x * ft
            gp_w += w * p * fw
            gp_t += t * pc * ft
            d = (1.0 - p) if event else p
            br_w += w * d * d
            br_t += t * d * d
            # y lp - log(1 + e^lp), log(1 + e^lp) = max(lp, 0) + log1p(e^-|lp|)
            l01 += t * ((x if event else 0.0) - (max(x, 0.0) + np.log(1.0 + e)))
            # lrmfit's probabilities: 1 / (1 + exp(-clip(eta))); exp(-x) = 1 / e for x < 0
            if x > 30.0:
                pl = 1.0 / (1.0 + np.exp(-30.0))
            elif x < -30.0:
                pl = 1.0 / (1.0 + np.exp(30.0))
            else:
                pl = 1.0 / (1.0 + (e if x >= 0.0 else 1.0 / e))
            ll_w += w * np.log(pl if event else 1.0 - pl)
            pcl = pc
            if ec > 30.0 or ec < -30.0:
                pcl = 1.0 / (1.0 + np.exp(-min(max(ec, -30.0), 30.0)))
            ll_t += t * np.log(pcl if event else 1.0 - pcl)
            cw += w
            ct += t
        num_w += g1w * (below_w + 0.5 * g0w)
        below_w += g0w
        ev_w += g1w
        num_t += g1t * (below_t + 0.5 * g0t)
        below_t += g0t
        ev_t += g1t
        out[b, 0] = 2.0 * num_w / (ev_w * below_w) - 1.0
        out[b, 1] = 2.0 * num_t / (ev_t * below_t) - 1.0
        out[b, 2] = 2.0 * gx_w / (NW * (NW - 1.0))
        out[b, 3] = 2.0 * gx_t / (NT * (NT - 1.0))
        out[b, 4] = 2.0 * gp_w / (NW * (NW - 1.0))
        out[b, 5] = (-2.0 if sb < 0.0 else 2.0) * gp_t / (NT * (NT - 1.0))
        out[b, 6] = br_w
        out[b, 7] = br_t
        out[b, 8] = l01
        out[b, 9] = ll_w
        out[b, 10] = ll_t
    return out
