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

from ._lrm_kernels import prob
from ._vmath import sum4, vexp, vlog

__all__ = ["somers_dxy_rows", "gini_md_rows", "bucket_order", "lrm_validate_rows"]


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


#: largest bucket of :func:`bucket_order` sorted by insertion (larger ones: numba's quicksort)
_INSERTION_MAX = 32


@numba.njit(cache=True, nogil=True)
def bucket_order(x, order, xs, bucket, counts):
    """Ascending order of ``x`` (n,) into ``order``, and ``xs = x[order]``, in O(n) for smooth data.

    A bucket sort: ``n`` equal-width buckets between the minimum and the
    maximum (``floor((x - min) * n / (max - min))``, a monotone map, so the
    buckets are in the order of the values), filled stably, then each bucket
    sorted by insertion (by quicksort when it holds more than
    :data:`_INSERTION_MAX` values; equal values cost no moves). The order of
    tied values may differ from ``numpy.argsort``'s; nothing computed from it
    here depends on that order. ``bucket`` (n,) and ``counts`` (n + 1,) are
    work buffers. With a non-finite value (NaN last), or fewer than 64: numba's quicksort.
    """
    n = x.shape[0]
    lo = np.inf
    hi = -np.inf
    nan = False
    for i in range(n):
        v = x[i]
        if v < lo:
            lo = v
        if v > hi:
            hi = v
        if v != v:
            nan = True
    if nan or not (np.isfinite(lo) and np.isfinite(hi)) or n < 64:
        o = np.argsort(x)
        for k in range(n):
            order[k] = o[k]
            xs[k] = x[o[k]]
        return
    scale = n / (hi - lo) if hi > lo else 0.0
    counts[:] = 0
    for i in range(n):
        c = min(int((x[i] - lo) * scale), n - 1)
        bucket[i] = c
        counts[c + 1] += 1
    for c in range(n):
        counts[c + 1] += counts[c]
    for i in range(n):                       # stable scatter; counts[c] ends at the end of bucket c
        c = bucket[i]
        k = counts[c]
        order[k] = i
        xs[k] = x[i]
        counts[c] = k + 1
    start = 0
    for c in range(n):
        end = counts[c]
        m = end - start
        if m > _INSERTION_MAX:
            o = np.argsort(xs[start:end])
            tmp_i = order[start:end].copy()
            tmp_x = xs[start:end].copy()
            for k in range(m):
                order[start + k] = tmp_i[o[k]]
                xs[start + k] = tmp_x[o[k]]
        elif m > 1:
            for k in range(start + 1, end):
                v = xs[k]
                oi = order[k]
                j = k - 1
                while j >= start and xs[j] > v:
                    xs[j + 1] = xs[j]
                    order[j + 1] = order[j]
                    j -= 1
                xs[j + 1] = v
                order[j + 1] = oi
        start = end


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _validate_terms(x, w, t, y, a, s, p_out, pc_out, tmp):
    """Per patient of one resample (vectorised): ``expit(lp)``, ``expit(a + s lp)`` and five sum terms.

    ``tmp`` rows: the Brier terms (training, test), the test log-likelihood
    of ``lp`` as is, and ``lrmfit``'s log-likelihood terms of the refit
    (training) and of the recalibration (test), with probabilities from the
    linear predictor clipped to [-30, 30] (:func:`nomogram._lrm_kernels.prob`;
    inside the clip that is the probability itself).
    """
    n = x.shape[0]
    p30 = prob(30.0)
    m30 = prob(-30.0)
    for i in range(n):
        xi = x[i]
        wi = w[i]
        ti = t[i]
        event = y[i] > 0.5
        e = vexp(-abs(xi))
        p = (1.0 if xi >= 0.0 else e) / (1.0 + e)
        ec = a + s * xi
        pc = 1.0 / (1.0 + vexp(-ec))
        p_out[i] = p
        pc_out[i] = pc
        d = (1.0 - p) if event else p
        tmp[0, i] = wi * d * d
        tmp[1, i] = ti * d * d
        # y lp - log(1 + e^lp), log(1 + e^lp) = max(lp, 0) + log(1 + e^-|lp|)
        tmp[2, i] = ti * ((xi if event else 0.0) - (max(xi, 0.0) + vlog(1.0 + e)))
        pl = p30 if xi > 30.0 else (m30 if xi < -30.0 else p)
        pcl = p30 if ec > 30.0 else (m30 if ec < -30.0 else pc)
        tmp[3, i] = wi * vlog(pl if event else 1.0 - pl)
        tmp[4, i] = ti * vlog(pcl if event else 1.0 - pcl)


@numba.njit(cache=True, nogil=True)
def lrm_validate_rows(lp, y, W, T, a, s):
    """Every rank- and probability-based index of ``validate`` (logistic) per resample.

    Row ``b``: the refit's linear predictor ``lp[b]`` on the original
    patients, training weights ``W[b]``, test weights ``T[b]`` (``T``
    (1, n): the same for every resample, the bootstrap's),
    recalibration intercept ``a[b]`` and slope ``s[b]``. Returns (B, 11):
    Dxy (training, test), Gini's mean difference of ``lp`` (training, test),
    of ``expit(lp)`` (training), of ``expit(a + s lp)`` (test), the Brier
    sums ``sum w (y - expit(lp))^2`` (training, test),
    ``sum_T (y lp - log(1 + e^lp))`` (the test log-likelihood of ``lp`` as
    is), and the log-likelihoods of ``lrm.fit`` at its final estimates: of
    the refit on its training sample, ``sum_W log p|q`` with ``p`` from
    ``lp`` clipped to [-30, 30], and of the recalibration on the test
    sample, ``sum_T log p|q`` with ``p`` from ``a + s lp`` clipped (the
    arithmetic of ``lrmfit``, see :mod:`nomogram._lrm_kernels`; so the
    refits need no pass of their own for them).

    Per resample: the order of ``lp`` (:func:`bucket_order`), the patients'
    values gathered in that order, one vectorised pass for the probabilities
    and the sums (:func:`_validate_terms`), one sequential pass for Dxy and
    Gini's mean difference, whose formulas are those of
    :func:`somers_dxy_rows` and :func:`gini_md_rows`; a decreasing
    ``expit(a + s lp)`` (``s < 0``) is read backwards, which only changes
    the sign of the Gini sum.
    """
    B, n = lp.shape
    shared = T.shape[0] == 1
    out = np.empty((B, 11))
    order = np.empty(n, dtype=np.int64)
    bucket = np.empty(n, dtype=np.int64)
    counts = np.empty(n + 1, dtype=np.int64)
    xs = np.empty(n)
    ws = np.empty(n)
    ts = np.empty(n)
    ys = np.empty(n)
    ps = np.empty(n)
    pcs = np.empty(n)
    tmp = np.empty((5, n))
    for b in range(B):
        w_b = W[b]
        t_b = T[0] if shared else T[b]
        sb = s[b]
        bucket_order(lp[b], order, xs, bucket, counts)
        for k in range(n):
            i = order[k]
            ws[k] = w_b[i]
            ts[k] = t_b[i]
            ys[k] = y[i]
        _validate_terms(xs, ws, ts, ys, a[b], sb, ps, pcs, tmp)
        NW = sum4(ws, n)
        NT = sum4(ts, n)
        # Dxy tie groups (training W, test T)
        below_w = 0.0
        below_t = 0.0
        num_w = 0.0
        num_t = 0.0
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
        prev = xs[0]
        for k in range(n):
            x = xs[k]
            # a new tie group closes the previous one (without a branch: ties are irregular)
            new = 1.0 if x != prev else 0.0
            num_w += new * (g1w * (below_w + 0.5 * g0w))
            below_w += new * g0w
            num_t += new * (g1t * (below_t + 0.5 * g0t))
            below_t += new * g0t
            keep = 1.0 - new
            g1w *= keep
            g0w *= keep
            g1t *= keep
            g0t *= keep
            prev = x
            w = ws[k]
            t = ts[k]
            ev = ys[k] > 0.5
            g1w += w if ev else 0.0
            g0w += 0.0 if ev else w
            g1t += t if ev else 0.0
            g0t += 0.0 if ev else t
            fw = 2.0 * cw + w - NW
            ft = 2.0 * ct + t - NT
            gx_w += w * x * fw
            gx_t += t * x * ft
            gp_w += w * ps[k] * fw
            gp_t += t * pcs[k] * ft
            cw += w
            ct += t
        num_w += g1w * (below_w + 0.5 * g0w)
        below_w += g0w
        num_t += g1t * (below_t + 0.5 * g0t)
        below_t += g0t
        ev_w = NW - below_w
        ev_t = NT - below_t
        out[b, 0] = 2.0 * num_w / (ev_w * below_w) - 1.0
        out[b, 1] = 2.0 * num_t / (ev_t * below_t) - 1.0
        out[b, 2] = 2.0 * gx_w / (NW * (NW - 1.0))
        out[b, 3] = 2.0 * gx_t / (NT * (NT - 1.0))
        out[b, 4] = 2.0 * gp_w / (NW * (NW - 1.0))
        out[b, 5] = (-2.0 if sb < 0.0 else 2.0) * gp_t / (NT * (NT - 1.0))
        for c in range(5):
            out[b, 6 + c] = sum4(tmp[c], n)
    return out
