"""The per-patient passes of the batched ``lrm.fit`` refits, compiled with numba.

:func:`nomogram._refit.lrm_fit_batch` evaluates, at every pass and for every
resample ``b``, rms ``lrmfit``'s probabilities (linear predictor clipped to
[-30, 30]), the weighted log-likelihood, the IRLS weights ``w p (1 - p)`` and
the score residuals ``w (y - p)``. In numpy that is a dozen passes over a
(resamples x patients) array; here it is one pass over each resample's
weights, written so that the compiler vectorises it (4 patients per
instruction, :mod:`nomogram._vmath`): no branch, no sum carried from patient
to patient (the terms go to a buffer, added by :func:`nomogram._vmath.sum4`).
A patient left out of a bootstrap sample has weight 0 and adds exact zeros.
The products with the design (score, information) stay matrix products (BLAS).
The recalibration fit ``[1, x_b]`` of the test sample needs six sums per
resample, computed in the same pass, a block of patients at a time, without
forming its design.

The arithmetic of each term is the one of :func:`nomogram._refit._llogit`
(``p = 1 / (1 + exp(-clip(eta)))``, ``q = 1 - p``, ``log p`` or ``log q``,
``(p q) w``), with ``exp`` and ``log`` to 1 ulp, so the fits equal the numpy
ones to rounding of the sums (tests: 1e-12, and rms's own resamples).
Imported on first use, so that ``import nomogram`` does not load numba.
"""

from __future__ import annotations

import numba
import numpy as np

from ._vmath import sum4, vexp, vlog

__all__ = ["prob", "llogit_rows", "recal_rows", "upper_products_into", "BLOCK"]

#: patients per block of the recalibration pass (its six term buffers stay in the L1/L2 cache)
BLOCK = 512


@numba.njit(cache=True, nogil=True, error_model="numpy")
def prob(eta):
    """lrmfit's probability: ``1 / (1 + exp(-eta))`` of the linear predictor clipped to [-30, 30]."""
    e = -30.0 if eta < -30.0 else (30.0 if eta > 30.0 else eta)
    return 1.0 / (1.0 + vexp(-e))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _terms_row(eta_r, w, y, lg, v, need_info):
    """One resample's terms at linear predictors ``eta_r`` (n,), vectorised.

    ``lg = w log p|q``; with ``need_info`` ``v = (p q) w`` and the residuals
    ``w (y - p)`` replace the linear predictors in ``eta_r``.
    """
    n = eta_r.shape[0]
    if need_info:
        for i in range(n):
            p = prob(eta_r[i])
            q = 1.0 - p
            event = y[i] > 0.0
            wi = w[i]
            lg[i] = wi * vlog(p if event else q)
            eta_r[i] = (q if event else -p) * wi
            v[i] = p * q * wi
    else:
        for i in range(n):
            p = prob(eta_r[i])
            lg[i] = w[i] * vlog(p if y[i] > 0.0 else 1.0 - p)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _start_row(p, w, y, lg, v, r, need_info):
    """The terms of the first pass (slopes 0): one probability ``p`` for every patient."""
    n = w.shape[0]
    q = 1.0 - p
    lp1 = vlog(p)
    lq1 = vlog(q)
    for i in range(n):
        event = y[i] > 0.0
        wi = w[i]
        lg[i] = wi * (lp1 if event else lq1)
        if need_info:
            r[i] = (q if event else -p) * wi
            v[i] = p * q * wi


@numba.njit(cache=True, nogil=True)
def llogit_rows(eta_r, y, W, rows, v, need_info, eta0, start, lg):
    """Log-likelihood of resample ``rows[j]`` at linear predictors ``eta_r[j]`` (m, n), weights ``W[rows[j]]``.

    With ``need_info`` ``v`` (m, n) receives the IRLS weights ``(p q) w``
    and ``eta_r`` the residuals ``w (y - p)`` in place of the linear
    predictors (both 0 for the patients not in the resample, whose weight is
    0). With ``start`` (the first pass: slopes 0) the linear predictor of
    row ``j`` is ``eta0[j]`` for every patient and ``eta_r`` is only
    written: one probability and two logarithms per resample. ``lg`` (n,)
    is a work buffer. Returns the log-likelihood (m,) (not -2 log L).
    """
    m = rows.shape[0]
    n = W.shape[1]
    ll = np.zeros(m)
    for j in range(m):
        w = W[rows[j]]
        if start:
            _start_row(prob(eta0[j]), w, y, lg, v[j], eta_r[j], need_info)
        else:
            _terms_row(eta_r[j], w, y, lg, v[j], need_info)
        ll[j] = sum4(lg, n)
    return ll


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _recal_block(x, w, y, a0, a1, p0, start, need_info, tmp):
    """The six terms of the recalibration ``[1, x]`` at (``a0``, ``a1``) for a block of patients (vectorised).

    ``tmp`` rows: ``w log p|q``, ``w (y - p)``, ``w (y - p) x``, ``v``,
    ``v x``, ``v x x`` with ``v = (p q) w``. With ``start`` (slope 0) the
    probability is ``p0`` for every patient: no exp or log per patient.
    """
    n = x.shape[0]
    if start:
        lp1 = vlog(p0)
        lq1 = vlog(1.0 - p0)
        for i in range(n):
            tmp[0, i] = w[i] * (lp1 if y[i] > 0.0 else lq1)
            tmp[3, i] = p0
    else:
        for i in range(n):
            p = prob(a0 + a1 * x[i])
            tmp[0, i] = w[i] * vlog(p if y[i] > 0.0 else 1.0 - p)
            tmp[3, i] = p
    if need_info:
        for i in range(n):
            xi = x[i]
            wi = w[i]
            p = tmp[3, i]
            q = 1.0 - p
            ri = (q if y[i] > 0.0 else -p) * wi
            vi = p * q * wi
            vx = vi * xi
            tmp[1, i] = ri
            tmp[2, i] = ri * xi
            tmp[3, i] = vi
            tmp[4, i] = vx
            tmp[5, i] = vx * xi


@numba.njit(cache=True, nogil=True)
def recal_rows(x, y, W, rows, beta, need_info, start):
    """``lrmfit`` terms of the design ``[1, x_b]`` for ``b = rows[j]`` at ``beta[j]`` (intercept, slope).

    ``W`` (B, n) holds the weights of each resample, or (1, n) the weights
    all resamples share (the bootstrap's test sample: every patient once).
    With ``start`` (the first pass: slope 0) the probability is the one of
    the intercept for every patient. Returns the log-likelihood (m,), the
    score (m, 2) and the information (m, 2, 2) (both zero unless
    ``need_info``), from the sums over patients of ``w log p``,
    ``w (y - p)``, ``w (y - p) x``, ``v``, ``v x``, ``v x x`` with
    ``v = (p q) w``, added a block of :data:`BLOCK` patients at a time.
    """
    m = rows.shape[0]
    n = x.shape[1]
    shared = W.shape[0] == 1
    ll = np.zeros(m)
    g = np.zeros((m, 2))
    H = np.zeros((m, 2, 2))
    tmp = np.zeros((6, BLOCK))
    nterms = 6 if need_info else 1
    acc = np.zeros(6)
    for j in range(m):
        b = rows[j]
        wb = 0 if shared else b
        a0 = beta[j, 0]
        a1 = beta[j, 1]
        p0 = prob(a0)
        acc[:] = 0.0
        for s in range(0, n, BLOCK):
            e = min(n, s + BLOCK)
            _recal_block(x[b, s:e], W[wb, s:e], y[s:e], a0, a1, p0, start, need_info, tmp)
            for c in range(nterms):
                acc[c] += sum4(tmp[c], e - s)
        ll[j] = acc[0]
        g[j, 0] = acc[1]
        g[j, 1] = acc[2]
        H[j, 0, 0] = acc[3]
        H[j, 0, 1] = acc[4]
        H[j, 1, 0] = acc[4]
        H[j, 1, 1] = acc[5]
    return ll, g, H


@numba.njit(cache=True, nogil=True)
def upper_products_into(Zt, start, end, out):
    """``out[c, i - start] = z_ia z_ib`` for the pairs ``a <= b`` (``c``: the order of ``numpy.triu_indices``).

    ``Zt`` (k, n) is the design transposed; patients ``start <= i < end``.
    One vectorised product of two rows of ``Zt`` per pair.
    """
    k = Zt.shape[0]
    c = 0
    for a in range(k):
        for b in range(a, k):
            for i in range(start, end):
                out[c, i - start] = Zt[a, i] * Zt[b, i]
            c += 1
