"""The per-patient passes of the batched ``lrm.fit`` refits, compiled with numba.

:func:`nomogram._refit.lrm_fit_batch` evaluates, at every pass and for every
resample ``b``, rms ``lrmfit``'s probabilities (linear predictor clipped to
[-30, 30]), the weighted log-likelihood, the IRLS weights ``w p (1 - p)`` and
the score residuals ``w (y - p)``. In numpy that is a dozen passes over a
(resamples x patients) array; here it is one, over the patients of the
resample only (a third of the patients are not in a bootstrap sample). The
products with the design (score, information) stay matrix products (BLAS).
The recalibration fit ``[1, x_b]`` of the test sample needs six sums per
resample, computed in the same pass without forming its design.

The arithmetic of each term is the one of :func:`nomogram._refit._llogit`
(``p = 1 / (1 + exp(-clip(eta)))``, ``q = 1 - p``, ``log p`` or ``log q``,
``(p q) w``), so the fits equal the numpy ones to rounding of the sums (tests:
1e-10, and rms's own resamples). Imported on first use, so that ``import
nomogram`` does not load numba.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["llogit_rows", "recal_rows", "nonzero_rows"]

@numba.njit(cache=True, nogil=True, inline="always")
def _prob(eta):
    """lrmfit's probability: ``1 / (1 + exp(-eta))`` of the linear predictor clipped to [-30, 30]."""
    if eta < -30.0:
        eta = -30.0
    elif eta > 30.0:
        eta = 30.0
    return 1.0 / (1.0 + np.exp(-eta))


@numba.njit(cache=True, nogil=True)
def llogit_rows(eta, y, indptr, index, weight, rows, v, r, need_info, eta0, start):
    """Log-likelihood of each row of ``eta`` (m, n); resample ``rows[j]``'s patients in CSR form.

    Resample ``b`` holds patients ``index[indptr[b]:indptr[b + 1]]`` with
    weights ``weight[...]`` (no zero weight). With ``need_info`` ``v`` (m, n)
    receives the IRLS weights ``(p q) w`` and ``r`` (m, n) the residuals
    ``w (y - p)`` (both 0 for the patients not in the resample). With
    ``start`` (the first pass: slopes 0) the linear predictor of row ``j`` is
    ``eta0[j]`` for every patient and ``eta`` is not read: one probability and
    two logarithms per resample. Returns the log-likelihood (m,) (not -2 log L).
    """
    m = eta.shape[0]
    ll = np.zeros(m)
    for j in range(m):
        b = rows[j]
        s = 0.0
        if need_info:
            v[j, :] = 0.0
            r[j, :] = 0.0
        p = 0.5
        if start:
            p = _prob(eta0[j])
        q = 1.0 - p
        lp1 = np.log(p)
        lq1 = np.log(q)
        for t in range(indptr[b], indptr[b + 1]):
            i = index[t]
            w = weight[t]
            event = y[i] > 0.0
            if start:
                s += w * (lp1 if event else lq1)
            else:
                p = _prob(eta[j, i])
                q = 1.0 - p
                s += w * np.log(p if event else q)
            if need_info:
                r[j, i] = (q if event else -p) * w
                v[j, i] = p * q * w
        ll[j] = s
    return ll


@numba.njit(cache=True, nogil=True)
def recal_rows(x, y, W, rows, beta, need_info, start):
    """``lrmfit`` terms of the design ``[1, x_b]`` for ``b = rows[j]`` at ``beta[j]`` (intercept, slope).

    With ``start`` (the first pass: slope 0) the probability is the one of
    the intercept for every patient: one probability and two logarithms per
    resample. Returns the log-likelihood (m,), the score (m, 2) and the information
    (m, 2, 2) (both zero unless ``need_info``), from the sums over patients
    of ``w log p``, ``w (y - p)``, ``w (y - p) x``, ``v``, ``v x``, ``v x x``
    with ``v = (p q) w``.
    """
    m = rows.shape[0]
    n = x.shape[1]
    ll = np.zeros(m)
    g = np.zeros((m, 2))
    H = np.zeros((m, 2, 2))
    for j in range(m):
        b = rows[j]
        a0 = beta[j, 0]
        a1 = beta[j, 1]
        s = 0.0
        r0 = 0.0
        r1 = 0.0
        v0 = 0.0
        v1 = 0.0
        v2 = 0.0
        p = 0.5
        if start:
            p = _prob(a0)
        q = 1.0 - p
        lp1 = np.log(p)
        lq1 = np.log(q)
        for i in range(n):
            w = W[b, i]
            if w == 0.0:
                continue
            xi = x[b, i]
            event = y[i] > 0.0
            if start:
                s += w * (lp1 if event else lq1)
            else:
                p = _prob(a0 + a1 * xi)
                q = 1.0 - p
                s += w * np.log(p if event else q)
            if need_info:
                ri = (q if event else -p) * w
                v = p * q * w
                r0 += ri
                r1 += ri * xi
                v0 += v
                vx = v * xi
                v1 += vx
                v2 += vx * xi
        ll[j] = s
        g[j, 0] = r0
        g[j, 1] = r1
        H[j, 0, 0] = v0
        H[j, 0, 1] = v1
        H[j, 1, 0] = v1
        H[j, 1, 1] = v2
    return ll, g, H


@numba.njit(cache=True, nogil=True)
def nonzero_rows(W):
    """CSR form of the non-zero entries of each row of ``W`` (B, n): (indptr, index, weight)."""
    B, n = W.shape
    indptr = np.zeros(B + 1, dtype=np.int64)
    for b in range(B):
        c = 0
        for i in range(n):
            if W[b, i] != 0.0:
                c += 1
        indptr[b + 1] = indptr[b] + c
    index = np.empty(indptr[B], dtype=np.int64)
    weight = np.empty(indptr[B])
    for b in range(B):
        t = indptr[b]
        for i in range(n):
            w = W[b, i]
            if w != 0.0:
                index[t] = i
                weight[t] = w
                t += 1
    return indptr, index, weight

