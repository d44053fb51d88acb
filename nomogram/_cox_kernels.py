"""The per-patient passes of the batched Cox partial likelihood, compiled with numba.

:func:`nomogram._resample.cox_loglik_terms` needs, for every resample ``b``
at its coefficients, the risk-set sums :math:`S_0, S_1` of every event time,
the sums over its copied deaths :math:`d, D_0, D_1`, Efron's (or Breslow's)
tie terms and the weight of each patient in the information matrix. In numpy
that is a (resamples x covariates x patients) array, segment sums, reverse
cumulative sums and a scatter of every tie term; here it is one backward pass
over the time-sorted patients per resample -- the order of survival's
``coxfit6`` -- and one forward pass for the patients' weights. The sums are
reset at the first patient of each stratum (risk sets and ties within the
stratum, survival's ``strata()``). The p x p Gram matrix
:math:`\\sum_i v_i x_i x_i'` stays a matrix product (BLAS) in the caller.

Terms (see :func:`nomogram._resample.cox_loglik_terms` and
:func:`nomogram._resample.efron_tie_sums`): at an event time with ``d``
copied deaths (``nd = round(d)`` terms, Efron: :math:`f = l/d`,
``l = 0 .. nd-1``; Breslow: :math:`f = 0`, counted ``nd`` times) each term has
:math:`\\mathrm{den} = S_0 - f D_0`; the log-likelihood loses
:math:`\\sum \\log \\mathrm{den}`, the score :math:`c S_1 - e D_1` with
:math:`c = \\sum 1/\\mathrm{den}`, :math:`e = \\sum f/\\mathrm{den}`, and the
information gains :math:`\\sum_i v_i x_i x_i' - \\sum a a'` with
:math:`\\sum a a' = g_0 S_1 S_1' - g_1 (S_1 D_1' + D_1 S_1') + g_2 D_1 D_1'`,
:math:`g_k = \\sum f^k/\\mathrm{den}^2`, and
:math:`v_i = r_i (\\sum_{t_j \\le T_i} c_j - \\delta_i e_{j(i)})`.

Imported on first use, so that ``import nomogram`` does not load numba.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["cox_terms_rows"]


@numba.njit(cache=True, nogil=True)
def cox_terms_rows(X, eta, W, rows, event, start, first_of_stratum, efron, need_info, own_gram,
                   grad, outer, v, cj, ej):
    """Log partial likelihood, score, tie part of the information and patient weights of each resample.

    Parameters
    ----------
    X : ndarray (nX, n, p)
        Time-sorted design: shared (``nX`` = 1) or one per resample (``nX`` =
        B, resample ``rows[j]``'s is ``X[rows[j]]``).
    eta : ndarray (m, n)
        Linear predictors of the computed resamples.
    W : ndarray (B, n)
        Frequency weights of all resamples; resample ``j`` is ``W[rows[j]]``.
    event : ndarray (n,)
        0/1, time-sorted (deaths first at a tied time).
    start : ndarray (J,)
        First sorted row of each event time's risk set (= its first death; the
        rows from there to the next event time's are its deaths, then censorings).
    first_of_stratum : ndarray of bool (n,)
        True at the first sorted row of each stratum (the sums restart there).
    efron : bool
        Efron's correction (else Breslow's).
    need_info : bool
        Fill ``outer`` and ``v``.
    own_gram : bool
        ``outer`` receives the whole information :math:`\\sum_i v_i x_i x_i' - \\sum a a'`
        (for a design of a few columns; otherwise the caller forms the Gram matrix).
    grad : ndarray (m, p)
        Receives the score.
    outer : ndarray (m, p, p)
        Receives :math:`\\sum a a'` over all tie terms (when ``need_info``).
    v : ndarray (m, n) or (1, n)
        Receives the patients' weights in the information (when ``need_info``;
        one scratch row, reused, when ``own_gram`` or not ``need_info``).
    cj, ej : ndarray (J,)
        Scratch.

    Returns
    -------
    ll : ndarray (m,)
    """
    m, n = eta.shape
    p = X.shape[2]
    J = start.shape[0]
    ll = np.zeros(m)
    S1 = np.empty(p)
    D1 = np.empty(p)
    for jb in range(m):
        b = rows[jb]
        x = X[b] if X.shape[0] > 1 else X[0]
        vb = v[jb] if v.shape[0] == m else v[0]
        w = W[b]
        e_ = eta[jb]
        g = grad[jb]
        g[:] = 0.0
        if need_info:
            o = outer[jb]
            o[:, :] = 0.0
        s_ll = 0.0
        S0 = 0.0
        S1[:] = 0.0
        D0 = 0.0
        D1[:] = 0.0
        d = 0.0
        j = J - 1
        for i in range(n - 1, -1, -1):
            wi = w[i]
            ri = 0.0
            if wi != 0.0:
                ri = wi * np.exp(e_[i])
                S0 += ri
                for k in range(p):
                    S1[k] += ri * x[i, k]
                if event[i] > 0.0:
                    s_ll += wi * e_[i]
                    d += wi
                    D0 += ri
                    for k in range(p):
                        g[k] += wi * x[i, k]
                        D1[k] += ri * x[i, k]
            if need_info:
                vb[i] = ri                          # r_i, weighted in the forward pass
            if j >= 0 and i == start[j]:
                # the risk set and the deaths of event time j are complete: its tie terms
                c = 0.0
                e = 0.0
                g0 = 0.0
                g1 = 0.0
                g2 = 0.0
                if d > 0.5:
                    nd = int(np.rint(d))
                    if efron:
                        for l in range(nd):
                            f = l / d
                            den = S0 - f * D0
                            s_ll -= np.log(den)
                            inv = 1.0 / den
                            c += inv
                            e += inv * f
                            inv2 = inv / den
                            g0 += inv2
                            g1 += inv2 * f
                            g2 += inv2 * f * f
                    else:
                        s_ll -= nd * np.log(S0)
                        c = nd / S0
                        g0 = c / S0
                    for k in range(p):
                        g[k] -= c * S1[k] - e * D1[k]
                    if need_info:  # the full square: a loop the compiler vectorises
                        for k in range(p):
                            a0 = g0 * S1[k] - g1 * D1[k]
                            a1 = g2 * D1[k] - g1 * S1[k]
                            for l2 in range(p):
                                o[k, l2] += a0 * S1[l2] + a1 * D1[l2]
                cj[j] = c
                ej[j] = e
                D0 = 0.0
                D1[:] = 0.0
                d = 0.0
                j -= 1
            if first_of_stratum[i]:
                S0 = 0.0
                S1[:] = 0.0
        ll[jb] = s_ll
        if not need_info:
            continue
        if own_gram:
            for k in range(p):
                for l2 in range(k, p):
                    o[k, l2] = -o[k, l2]
        # forward: each patient's weight r_i (sum of c over event times <= T_i, minus e at its own if a death)
        cum = 0.0
        j = 0
        for i in range(n):
            if first_of_stratum[i]:
                cum = 0.0
            if j < J and i == start[j]:
                cum += cj[j]
                j += 1
            if vb[i] != 0.0:
                vi = cum
                if event[i] > 0.0:
                    vi -= ej[j - 1]
                vb[i] *= vi
                if own_gram:
                    for k in range(p):
                        a0 = vb[i] * x[i, k]
                        for l2 in range(k, p):
                            o[k, l2] += a0 * x[i, l2]
        for k in range(p):
            for l2 in range(k):
                o[k, l2] = o[l2, k]
    return ll


@numba.njit(cache=True, nogil=True)
def abs_spread_rows(X, W, mean):
    """``sum_i W[b, i] |X[i, k] - mean[b, k]|`` for every resample ``b`` and column ``k`` (B, p)."""
    B, n = W.shape
    p = X.shape[1]
    out = np.zeros((B, p))
    for b in range(B):
        o = out[b]
        mb = mean[b]
        for i in range(n):
            wi = W[b, i]
            if wi != 0.0:
                for k in range(p):
                    o[k] += wi * abs(X[i, k] - mb[k])
    return out
