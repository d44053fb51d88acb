"""Batched refits that make rms's decisions: which resamples ``validate``/``calibrate`` keep.

rms ``predab.resample`` refits the model on every resample with its fitter
and leaves out the resamples whose fit *fails*. What counts as failed, and
where a kept fit stops, is the fitter's own rule; this module reproduces those
rules exactly, for all resamples at once (a resample is a frequency-weight
vector: a row drawn ``c`` times counts ``c`` times, exactly as the copied
rows of R's bootstrap sample).

Logistic models: rms 6.5 ``lrm.fit`` (Fortran ``lrmfit``)
---------------------------------------------------------
``validate.lrm`` refits with ``lrm.fit(x, y, maxit = 12, tol = 1e-7)``,
``calibrate.default`` with ``tol = 1e-13``; ``eps = 0.025`` in both. From the
start (intercept = logit of the event fraction, slopes 0) at most
``maxit - 1`` passes are made; a pass evaluates -2 log L (penalised; fitted
probabilities computed from the linear predictor clipped to [-30, 30]), the
score ``u`` and the information ``V`` at the current estimate, and

1. stops (converged) if ``max |u| < 1e-9`` and -2 log L moved by less than
   ``eps / 10``;
2. if -2 log L got worse than at the previous accepted estimate, halves the
   last step (``beta -= curstp * delta`` with ``curstp`` halved);
3. otherwise checks the rank of ``V`` with LINPACK ``dqrdc2`` (a column is
   negligible when its norm after removing the previous columns falls below
   ``tol`` times its original norm) — rank deficient: the fit **fails as
   singular**; else takes the Newton step ``delta = V^{-1} u`` and stops
   (converged) if -2 log L had moved by at most ``eps`` since the previous
   pass. Running out of passes: the fit **fails as not converged**.

So a factor level or a spline segment with no patient in the training sample
(a zero design column) is singular and dropped, while a level present with
only non-events (quasi-separation) usually *converges* under the 0.025 rule,
at a large negative coefficient, and is kept. A training sample with a single
outcome class cannot be fitted (rms then stops with an error; here it is
counted as failed).

Cox models: survival 3.5 ``coxph.fit`` (C ``coxfit6``)
------------------------------------------------------
Each covariate is centred and scaled by ``sum(w) / sum(w |x - mean|)`` of the
training sample (scale 1 for a constant column); Newton–Raphson starts at 0;
at pass ``k = 1, 2, ...`` the log partial likelihood, score and information
are evaluated at the new estimate and the information is factored by
survival's ``cholesky2`` (a pivot below ``toler`` times the largest diagonal
is set to 0: that coefficient is *singular*). Converged when
``|1 - loglik_best / loglik_new| <= eps``; a worse or non-finite value
moves the estimate back, ``new = (new + h * old) / (h + 1)`` for the ``h``-th
successive halving; otherwise a full Newton step (singular components 0)
follows. rms ``validate.cph`` refits through ``coxphFit(iter.max = 10,
eps = 1e-4, toler.chol = 1e-9)``, which **fails** when the iteration count
reaches 10 (not converged) or a coefficient is singular at convergence (NA
in R). ``calibrate.cph`` refits through ``cph()``, which fails only on a
singular coefficient (a non-converged fit is kept at its last accepted
estimate) and, before fitting, on a training sample with fewer than 5 events.

Stratified Cox models (rms ``strat()``) are refitted with their strata
(each stratum's risk sets and ties, survival's ``strata()``): ``validate.cph``
then refits through ``cph(y ~ x + strat(strata), surv = TRUE)`` (failed only
when singular, as ``calibrate.cph``), and its test-sample slope is stratified
too. A training sample without a patient of some stratum has no baseline
survival for it; rms 6.5 then stops with an error (``validate.cph``:
``survest`` indexes the refit's strata by the original codes) or misassigns
the strata (``calibrate.cph``); here that resample is left out and counted
as **stratum absent**.

The recalibration fits on the test sample (logistic intercept and slope,
Cox slope) use the same fitters with rms's arguments; rms stops with an error
when they fail, here the resample is counted as failed instead.

References
----------
Harrell FE. rms 6.5-0: ``predab.resample``, ``lrm.fit`` and ``src/lrmfit.f``,
``validate.lrm``, ``validate.cph``, ``calibrate.default``, ``calibrate.cph``.
Therneau TM. survival 3.5-3: ``coxph.fit``, ``src/coxfit6.c``, ``cholesky2.c``,
``chsolve2.c``. R ``src/appl/dqrdc2.f``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "OK",
    "SINGULAR",
    "NOT_CONVERGED",
    "ONE_CLASS",
    "FEW_EVENTS",
    "TEST_FIT_FAILED",
    "STRATUM_ABSENT",
    "FAILURE_CAUSES",
    "Refits",
    "lrm_fit_batch",
    "lrm_recalibration_batch",
    "coxph_fit_batch",
    "coxph_scale",
    "coxfit6_batch",
    "failure_table",
    "failure_message",
]

OK, SINGULAR, NOT_CONVERGED, ONE_CLASS, FEW_EVENTS, TEST_FIT_FAILED, STRATUM_ABSENT = range(7)

#: failure code -> (cause as the failure table names it, what it means)
FAILURE_CAUSES = {
    SINGULAR: ("singular", "information matrix singular in the training sample: a factor level or a spline "
                           "segment has no patient there, or design columns are collinear"),
    NOT_CONVERGED: ("not converged", "the refit did not converge within rms's iteration limit: (quasi-)separation "
                                     "(logistic) or monotone likelihood (Cox) in the training sample"),
    ONE_CLASS: ("one outcome class", "the training sample has only events or only non-events"),
    FEW_EVENTS: ("fewer than 5 events", "rms calibrate.cph does not fit a training sample with fewer than 5 events"),
    TEST_FIT_FAILED: ("test-sample fit failed", "the recalibration of the refit on the test sample failed "
                                                "(rms stops with an error there)"),
    STRATUM_ABSENT: ("stratum absent", "a stratum of the stratified Cox model has no patient in the training "
                                       "sample, so the refit has no baseline survival for it (rms 6.5 then stops "
                                       "with an error in validate.cph and misassigns the strata in calibrate.cph)"),
}

# largest number of float64 temporaries of size (chunk, n, k) held at once
_CHUNK_ELEMENTS = 4_000_000


@dataclass
class Refits:
    """Refits of one model on ``B`` resamples.

    Attributes
    ----------
    beta : ndarray of shape (B, k)
        Final estimates (the last iterate; meaningful where ``status == OK``).
    loglik : ndarray of shape (B,)
        Logistic: -2 log L (penalised) at ``beta``, as ``lrm.fit``'s
        ``deviance[2]``. Cox: log partial likelihood at ``beta``.
    loglik0 : ndarray of shape (B,)
        Logistic: -2 log L of the intercept-only model (``deviance[1]``).
        Cox: log partial likelihood at the start (0).
    status : ndarray of int, shape (B,)
        :data:`OK` or a failure code of :data:`FAILURE_CAUSES`.
    column : ndarray of int, shape (B,)
        The offending design column of a failed fit (the first negligible
        column of a singular one, the largest standardised coefficient of a
        non-converged one; without the logistic intercept), else -1.
    n_iter : ndarray of int, shape (B,)
        Passes made (survival's ``iter``: the pass that converged, or
        ``maxit + 1``).
    lp : ndarray of shape (B, n) or None
        The linear predictors ``Z beta_b`` of the final estimates on every
        patient, where asked for (:func:`lrm_fit_batch`'s ``return_lp``).
    """

    beta: np.ndarray
    loglik: np.ndarray
    loglik0: np.ndarray
    status: np.ndarray
    column: np.ndarray
    n_iter: np.ndarray
    lp: np.ndarray | None = None

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the kept resamples."""
        return self.status == OK


# --------------------------------------------------------------------------- logistic
class _Gram:
    """``Z' diag(v_b) Z`` for every row ``v_b``, for a shared design or one design per resample.

    ``Z`` shared (n, k): :class:`nomogram._resample.WeightedGram` (matrix
    products with the column products of ``Z``); one design per resample
    (B, n, k): an ``einsum``, or the three sums of a recalibration design
    ``[1, x_b]``.
    """

    def __init__(self, Z: np.ndarray):
        from ._resample import WeightedGram

        self.Z = Z
        self.k = Z.shape[-1]
        self.shared = WeightedGram(Z) if Z.ndim == 2 else None

    def __call__(self, v: np.ndarray, rows=None) -> np.ndarray:
        if self.shared is not None:
            return self.shared(v)
        Z = self.Z if rows is None else self.Z[rows]
        if self.k == 2:  # [1, x_b]: the three sums directly
            x = Z[:, :, 1]
            vx = v * x
            s0, s1, s2 = v.sum(axis=1), vx.sum(axis=1), np.einsum("bn,bn->b", vx, x)
            return np.stack([np.stack([s0, s1], axis=1), np.stack([s1, s2], axis=1)], axis=1)
        return np.einsum("bn,bni,bnj->bij", v, Z, Z)


def _llogit(Z, y, W, P, beta, gram=None, rows=None):
    """-2 log L (penalised), score and information of ``lrmfit``'s ``LLOGIT`` for each row of ``beta``.

    Probabilities come from the linear predictor clipped to [-30, 30]
    (Fortran ``lprob``), which is also what keeps them strictly inside (0, 1).
    ``Z`` is (n, k) or (B, n, k) (then ``rows`` selects its resamples);
    without ``gram`` only -2 log L is computed.
    """
    if Z.ndim == 3 and rows is not None:
        Z = Z[rows]
    if Z.ndim == 2:
        eta = beta @ Z.T
    elif Z.shape[2] == 2:  # [1, x_b]
        eta = beta[:, :1] + beta[:, 1:] * Z[:, :, 1]
    else:
        eta = np.einsum("bnk,bk->bn", Z, beta)
    # p = 1 / (1 + exp(-clip(eta))), in place (the operations of Fortran lprob)
    p = np.clip(eta, -30.0, 30.0, out=eta if eta.flags.writeable and eta.base is None else None)
    np.negative(p, out=p)
    np.exp(p, out=p)
    p += 1.0
    np.reciprocal(p, out=p)
    q = 1.0 - p                                          # 1 - p, then the probability of the outcome seen
    event = y > 0
    lq = np.where(event, p, q)
    np.log(lq, out=lq)
    ll = np.einsum("bn,bn->b", W, lq)
    dev = -2.0 * (ll - 0.5 * np.einsum("bi,ij,bj->b", beta, P, beta))
    if gram is None:
        return dev, None, None
    v = lq
    np.multiply(p, q, out=v)
    v *= W
    r = np.subtract(y, p, out=q)
    r *= W
    if Z.ndim == 2:
        grad = r @ Z
    elif Z.shape[2] == 2:
        grad = np.stack([r.sum(axis=1), np.einsum("bn,bn->b", r, Z[:, :, 1])], axis=1)
    else:
        grad = np.einsum("bn,bnk->bk", r, Z)
    grad = grad - beta @ P
    info = gram(v, rows) + P
    return dev, grad, info


def _first_negligible_column(V: np.ndarray, tol: float):
    """LINPACK ``dqrdc2``'s rank decision on each matrix of ``V`` (m, k, k).

    ``dqrdc2`` moves a column to the end when its norm, after the Householder
    steps of the columns before it, is below ``tol`` times its original norm;
    the rank is full exactly when no column is moved, so the first such column
    of an unpivoted QR decides. Returns (deficient mask, first negligible column).
    """
    R = np.linalg.qr(V, mode="r")
    d = np.abs(np.diagonal(R, axis1=1, axis2=2))
    norm = np.linalg.norm(V, axis=1)
    norm = np.where(norm == 0, 1.0, norm)
    negligible = ~(d >= tol * norm)
    return negligible.any(axis=1), np.argmax(negligible, axis=1)


def lrm_fit_batch(Z: np.ndarray, y: np.ndarray, W: np.ndarray, *, penalty: np.ndarray | None = None,
                  maxit: int = 12, eps: float = 0.025, tol: float = 1e-7, final_loglik: bool = True,
                  return_lp: bool = False) -> Refits:
    """rms 6.5 ``lrm.fit(x, y, maxit=, eps=, tol=, penalty.matrix=)`` for ``B`` weight vectors.

    Parameters
    ----------
    Z : ndarray of shape (n, k) or (B, n, k)
        Design *with* the intercept column (of ones) first; one design per
        resample when 3-D (see :func:`lrm_recalibration_batch` for the
        recalibration design ``[1, lp_b]``, which it fits without forming it).
    y : ndarray of shape (n,)
        0/1 outcome.
    W : ndarray of shape (B, n)
        Frequency weights.
    penalty : ndarray of shape (k, k), optional
        Penalty matrix with a zero intercept row and column.
    maxit, eps, tol
        ``lrm.fit``'s arguments (module docstring).
    final_loglik : bool
        Evaluate -2 log L at the final estimates (one more pass over the
        patients). ``False`` leaves ``loglik`` NaN, for a caller that
        computes it in a pass of its own (``validate``).
    return_lp : bool
        Also return the linear predictors of the final estimates on every
        patient (``Refits.lp``, (B, n); shared design only), written into
        the buffer of the passes when all resamples were fitted in one
        chunk, so that ``validate`` holds one (B, n) array less.

    Returns
    -------
    Refits
        ``loglik``/``loglik0`` are ``deviance[2]``/``deviance[1]`` (-2 log L).
    """
    B = W.shape[0]
    n, k = Z.shape[-2], Z.shape[-1]
    P = np.zeros((k, k)) if penalty is None else np.asarray(penalty, float)
    y = np.ascontiguousarray(y, dtype=float)
    gram = _Gram(Z) if Z.ndim == 2 else None
    chunk = max(1, _CHUNK_ELEMENTS // max(1, n * (k if Z.ndim == 3 else 1)))
    parts = []
    for s in range(0, B, chunk):
        e = min(B, s + chunk)
        if Z.ndim == 2:
            terms = _DesignTerms(Z, y, np.ascontiguousarray(W[s:e], dtype=float), P, gram)
        else:
            terms = _StackedTerms(Z[s:e], y, W[s:e], P)
        parts.append(_lrm_fit_chunk(terms, y, W[s:e], k, maxit, eps, tol, final_loglik))
    fits = _concat_refits(parts, B, k)
    if return_lp and Z.ndim == 2:
        if len(parts) == 1 and terms._buf is not None:      # the passes' buffer, no longer needed
            fits.lp = np.matmul(fits.beta, Z.T, out=terms._buf[0, :B])
        else:
            fits.lp = fits.beta @ Z.T
    return fits


def lrm_recalibration_batch(x: np.ndarray, y: np.ndarray, W: np.ndarray, *, maxit: int = 12,
                            eps: float = 0.025, tol: float = 1e-13, final_loglik: bool = True) -> Refits:
    """``lrm.fit(x_b, y)`` (intercept and slope of ``x_b``) on weights ``W_b`` for each row ``b``.

    The test-sample recalibration of ``validate``: the same fitter and rules
    as :func:`lrm_fit_batch` with the design ``[1, x_b]`` (``x`` (B, n), ``W``
    (B, n), or (1, n) when every resample has the same weights: the
    bootstrap's test sample), whose terms are six sums per resample
    (:func:`nomogram._lrm_kernels.recal_rows`); no (B, n, 2) design is formed.
    ``final_loglik``: as in :func:`lrm_fit_batch`.
    """
    x = np.ascontiguousarray(x, dtype=float)
    W = np.ascontiguousarray(W, dtype=float)
    y = np.ascontiguousarray(y, dtype=float)
    return Refits(*_lrm_fit_chunk(_RecalTerms(x, y, W), y, W, 2, maxit, eps, tol, final_loglik, B=len(x)))


def _concat_refits(parts, B, k) -> Refits:
    if len(parts) == 1:
        return Refits(*parts[0])
    return Refits(*(np.concatenate([p[i] for p in parts]) for i in range(6)))


class _DesignTerms:
    """``lrmfit``'s ``LLOGIT`` terms for a shared design ``Z`` (n, k): one compiled pass per call.

    ``terms(beta, rows, need_info, start)`` -> (-2 log L penalised, score,
    information) for the resamples ``rows`` of ``W`` at ``beta`` (len(rows),
    k). The pass runs over each resample's dense weights (a patient left out
    of a bootstrap sample has weight 0), vectorised
    (:func:`nomogram._lrm_kernels.llogit_rows`). At the start (``start``:
    slopes 0) the linear predictor is the intercept for every patient: no
    product with the design, one probability per resample.
    """

    def __init__(self, Z, y, W, P, gram):
        self.Z, self.y, self.W, self.P, self.gram = Z, y, W, P, gram
        self._buf = None

    def __call__(self, beta, rows, need_info=True, start=False):
        from ._lrm_kernels import llogit_rows

        rows = np.asarray(rows, dtype=np.int64)
        start = bool(start) and not np.any(beta[:, 1:])
        m = len(rows)
        n = self.Z.shape[0]
        if self._buf is None:  # two (resamples, patients) buffers and one row, reused by every pass
            self._buf = np.empty((2, len(self.W), n))
            self._lg = np.empty(n)
        eta_r, v = self._buf[0, :m], self._buf[1, :m]     # linear predictors, then residuals
        if not start:
            np.matmul(beta, self.Z.T, out=eta_r)
        ll = llogit_rows(eta_r, self.y, self.W, rows, v, need_info, np.ascontiguousarray(beta[:, 0]), start,
                         self._lg)
        dev = -2.0 * (ll - 0.5 * np.einsum("bi,ij,bj->b", beta, self.P, beta))
        if not need_info:
            return dev, None, None
        grad = eta_r @ self.Z - beta @ self.P
        return dev, grad, self.gram(v) + self.P

    def column_sd(self, rows):
        return np.broadcast_to(np.std(self.Z, axis=0)[1:], (len(rows), self.Z.shape[1] - 1))


class _StackedTerms:
    """``LLOGIT`` terms for one design per resample, ``Z`` (B, n, k) (numpy; small problems)."""

    def __init__(self, Z, y, W, P):
        self.Z, self.y, self.W, self.P = Z, y, W, P
        self.gram = _Gram(Z)

    def __call__(self, beta, rows, need_info=True, start=False):
        return _llogit(self.Z, self.y, self.W[rows], self.P, beta, self.gram if need_info else None, rows)

    def column_sd(self, rows):
        return np.std(self.Z[rows], axis=-2)[..., 1:]


class _RecalTerms:
    """``LLOGIT`` terms for the design ``[1, x_b]`` (:func:`lrm_recalibration_batch`)."""

    def __init__(self, x, y, W):
        self.x, self.y, self.W = x, y, W

    def __call__(self, beta, rows, need_info=True, start=False):
        from ._lrm_kernels import recal_rows

        rows = np.asarray(rows, dtype=np.int64)
        beta = np.ascontiguousarray(beta, dtype=float)
        start = bool(start) and not np.any(beta[:, 1])
        ll, g, H = recal_rows(self.x, self.y, self.W, rows, beta, need_info, start)
        return -2.0 * ll, (g if need_info else None), (H if need_info else None)

    def column_sd(self, rows):
        return np.std(self.x[rows], axis=1)[:, None]


def _lrm_fit_chunk(terms, y, W, k, maxit, eps, tol, final_loglik=True, B=None):
    """``lrm.fit``'s passes for ``B`` resamples (weights ``W`` (B, n), or (1, n) shared by all)."""
    B = W.shape[0] if B is None else B
    sumw = np.broadcast_to(W.sum(axis=1), (B,)).copy()
    sw1 = np.broadcast_to(W @ y, (B,)).copy()
    sw0 = sumw - sw1
    status = np.where((sw1 <= 0) | (sw0 <= 0), ONE_CLASS, OK)
    column = np.full(B, -1)
    beta = np.zeros((B, k))
    with np.errstate(divide="ignore", invalid="ignore"):
        pp = sw1 / sumw
        beta[:, 0] = np.where(status == OK, np.log(pp / (1 - pp)), 0.0)
        dev0 = -2.0 * (np.where(sw1 > 0, sw1 * np.log(sw1 / sumw), 0.0)
                       + np.where(sw0 > 0, sw0 * np.log(sw0 / sumw), 0.0))
    oldl = np.full(B, 1e30)
    delta = np.zeros((B, k))
    curstp = np.ones(B)
    active = status == OK
    n_iter = np.zeros(B, dtype=np.int64)
    for it in range(1, maxit):
        a = np.flatnonzero(active)
        if a.size == 0:
            break
        n_iter[a] = it
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            d, u, V = terms(beta[a], a, start=it == 1)
        stop = (np.max(np.abs(u), axis=1) < 1e-9) & (np.abs(d - oldl[a]) < 0.1 * eps)
        worse = ~stop & (d > oldl[a])
        if it == 1:  # lrmfit gives up when the start is already worse (only with non-finite values)
            status[a[worse]] = NOT_CONVERGED
        else:
            h = a[worse]
            curstp[h] /= 2.0
            beta[h] -= curstp[h, None] * delta[h]
        take = ~stop & ~worse
        t = a[take]
        if t.size:
            curstp[t] = 1.0
            deficient, first = _first_negligible_column(V[take], tol)
            status[t[deficient]] = SINGULAR
            column[t[deficient]] = first[deficient]
            good = ~deficient
            tg = t[good]
            step = np.linalg.solve(V[take][good], u[take][good][..., None])[..., 0]
            delta[tg] = step
            beta[tg] += step
            dg = d[take][good]
            conv = np.abs(oldl[tg] - dg) <= eps
            oldl[tg] = dg
            active[tg[conv]] = False
            active[t[deficient]] = False
        active[a[stop]] = False
        if it == 1:
            active[a[worse]] = False
    # out of passes: lrmfit sets its divergence flag
    left = np.flatnonzero(active)
    status[left] = NOT_CONVERGED
    fitted = np.flatnonzero(status != ONE_CLASS)
    dev = np.full(B, np.nan)
    if fitted.size and final_loglik:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            dev[fitted] = terms(beta[fitted], fitted, need_info=False)[0]
    nc = np.flatnonzero(status == NOT_CONVERGED)
    if nc.size and k > 1:
        column[nc] = np.argmax(np.abs(beta[nc, 1:]) * terms.column_sd(nc), axis=-1) + 1
    # column numbers without the intercept
    column = np.where(column >= 0, column - 1, -1)
    return beta, dev, dev0, status, column, n_iter


# --------------------------------------------------------------------------- Cox
def _cholesky2(M: np.ndarray, toler: float):
    """survival's ``cholesky2`` on each matrix of ``M`` (m, p, p): LDL' with zeroed singular pivots.

    Returns the factor (strict lower triangle: multipliers; diagonal: pivots,
    0 where singular) and the mask of singular pivots.
    """
    A = np.array(M, dtype=float, copy=True)
    m, p, _ = A.shape
    diag = np.diagonal(A, axis1=1, axis2=2)
    top = np.max(np.where(diag > 0, diag, 0.0), axis=1) if p else np.zeros(m)
    eps = np.where(top == 0, toler, top * toler)
    singular = np.zeros((m, p), bool)
    for i in range(p):
        pivot = A[:, i, i].copy()
        bad = ~np.isfinite(pivot) | (pivot < eps)
        singular[:, i] = bad
        A[bad, i, i] = 0.0
        if i + 1 < p:
            g = ~bad
            col = A[g, i + 1:, i]
            pv = pivot[g]
            A[g, i + 1:, i + 1:] -= col[:, :, None] * col[:, None, :] / pv[:, None, None]
            A[g, i + 1:, i] = col / pv[:, None]
    return A, singular


def _chsolve2(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """survival's ``chsolve2``: solve with the ``cholesky2`` factor; singular components are 0."""
    y = np.array(b, dtype=float, copy=True)
    p = y.shape[1]
    for i in range(p):
        if i:
            y[:, i] -= np.einsum("bj,bj->b", y[:, :i], A[:, i, :i])
    for i in range(p - 1, -1, -1):
        piv = A[:, i, i]
        with np.errstate(divide="ignore", invalid="ignore"):
            v = y[:, i] / piv - np.einsum("bj,bj->b", y[:, i + 1:], A[:, i + 1:, i])
        y[:, i] = np.where(piv == 0, 0.0, v)
    return y


def coxph_scale(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``coxfit6``'s scale of each column on each weighted sample: ``sum(w) / sum(w |x - mean_w|)``.

    ``X`` (n, p) is the design as R's fitter receives it (not centred), ``W``
    (B, n) frequency weights; a column constant on the sample gets 1.
    """
    from ._cox_kernels import abs_spread_rows

    X = np.ascontiguousarray(X, dtype=float)
    W = np.ascontiguousarray(W, dtype=float)
    sumw = W.sum(axis=1)
    mean = (W @ X) / sumw[:, None]
    spread = abs_spread_rows(X, W, mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spread > 0, sumw[:, None] / spread, 1.0)


def coxfit6_batch(terms, B: int, p: int, *, scale: np.ndarray | None = None, init: np.ndarray | None = None,
                  maxit: int = 10, eps: float = 1e-4, toler: float = 1e-9):
    """survival's ``coxfit6`` iteration for ``B`` problems at once (module docstring).

    Parameters
    ----------
    terms : callable
        ``terms(beta, rows) -> (loglik, score, information)`` for the problems
        ``rows`` (int array) at ``beta`` (len(rows), p); the objective maximised
        (penalised if the caller adds a penalty).
    B, p : int
    scale : ndarray of shape (B, p), optional
        Column scales (:func:`coxph_scale`); they only move the singularity
        test (Newton steps do not depend on the scaling).
    init : ndarray of shape (p,) or (B, p), optional
        Start (default 0).

    Returns
    -------
    beta : ndarray (B, p)
        At convergence the converged estimate; otherwise the last accepted one.
    loglik, loglik0 : ndarray (B,)
        At ``beta`` and at the start.
    converged : ndarray of bool (B,)
    n_iter : ndarray of int (B,)
        The pass at which it converged, ``maxit + 1`` otherwise.
    singular : ndarray of bool (B, p)
        Pivots that ``cholesky2`` set to 0 at convergence.
    """
    S = np.ones((B, p)) if scale is None else np.asarray(scale, float)
    beta = np.zeros((B, p)) if init is None else np.broadcast_to(np.asarray(init, float), (B, p)).copy()
    rows = np.arange(B)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ll, g, H = terms(beta, rows)
    ll0 = ll.copy()
    L, _ = _cholesky2(S[:, :, None] * H * S[:, None, :], toler)
    new = beta + S * _chsolve2(L, S * g)
    best = ll.copy()
    halving = np.zeros(B)
    converged = np.zeros(B, bool)
    n_iter = np.full(B, maxit + 1)
    singular = np.zeros((B, p), bool)
    final_ll = np.full(B, np.nan)
    active = np.isfinite(ll0)
    for it in range(1, maxit + 1):
        a = np.flatnonzero(active)
        if a.size == 0:
            break
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            nl, g, H = terms(new[a], a)
            L, sing = _cholesky2(S[a, :, None] * H * S[a, None, :], toler)
            finite = np.isfinite(nl) & np.all(np.isfinite(g), axis=1) & np.all(np.isfinite(L), axis=(1, 2))
            conv = finite & (np.abs(1.0 - best[a] / nl) <= eps)
        c = a[conv]
        beta[c] = new[c]
        final_ll[c] = nl[conv]
        converged[c] = True
        n_iter[c] = it
        singular[c] = sing[conv]
        active[c] = False
        worse = ~conv & (~finite | ~(nl >= best[a]))
        h = a[worse]
        halving[h] += 1
        new[h] = (new[h] + halving[h, None] * beta[h]) / (halving[h, None] + 1.0)
        step = ~conv & ~worse
        s = a[step]
        if s.size:
            halving[s] = 0
            best[s] = nl[step]
            beta[s] = new[s]
            new[s] = new[s] + S[s] * _chsolve2(L[step], S[s] * g[step])
    left = np.flatnonzero(~converged & np.isfinite(ll0))
    if left.size:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            final_ll[left] = terms(beta[left], left)[0]
    return beta, final_ll, ll0, converged, n_iter, singular


def coxph_fit_batch(terms, B: int, p: int, *, scale=None, rule: str = "coxphFit", maxit: int = 10,
                    eps: float = 1e-4, toler: float = 1e-9, chunk: int | None = None) -> Refits:
    """Cox refits with the failure rule of rms's fitter (module docstring).

    ``terms(beta, rows)`` as for :func:`coxfit6_batch`, ``rows`` indexing all
    ``B`` problems. ``rule="coxphFit"`` (``validate.cph``): failed when not
    converged before pass ``maxit`` or singular at convergence. ``rule="cph"``
    (``calibrate.cph``): failed only when singular at convergence. ``chunk``:
    problems iterated together (memory).
    """
    S = np.ones((B, p)) if scale is None else np.asarray(scale, float)
    beta = np.zeros((B, p))
    ll, ll0 = np.full(B, np.nan), np.full(B, np.nan)
    conv = np.zeros(B, bool)
    n_iter = np.zeros(B, dtype=np.int64)
    sing = np.zeros((B, p), bool)
    step = B if chunk is None else max(1, int(chunk))
    for s in range(0, B, step):
        e = min(B, s + step)
        out = coxfit6_batch(lambda b, rows, s=s: terms(b, rows + s), e - s, p, scale=S[s:e], maxit=maxit,
                            eps=eps, toler=toler)
        beta[s:e], ll[s:e], ll0[s:e], conv[s:e], n_iter[s:e], sing[s:e] = out
    status = np.zeros(B, dtype=np.int64)
    column = np.full(B, -1)
    is_sing = conv & sing.any(axis=1)
    status[is_sing] = SINGULAR
    column[is_sing] = np.argmax(sing[is_sing], axis=1)
    if rule == "coxphFit":
        nc = ~is_sing & (n_iter >= maxit)
        status[nc] = NOT_CONVERGED
        if nc.any() and p:
            column[nc] = np.argmax(np.abs(beta[nc]) / S[nc], axis=1)
    status[~np.isfinite(ll0)] = NOT_CONVERGED
    return Refits(beta, ll, ll0, status, column, n_iter)


# --------------------------------------------------------------------------- reporting
def failure_table(status: np.ndarray, column: np.ndarray, names) -> pd.DataFrame:
    """Failed resamples by cause: ``n``, the design ``columns`` involved (with counts) and the ``reason``.

    One row per cause that occurred, in the order of :data:`FAILURE_CAUSES`;
    an empty table (same columns) when none failed.
    """
    names = list(names)
    rows = {}
    for code, (cause, reason) in FAILURE_CAUSES.items():
        m = status == code
        if not m.any():
            continue
        cols = column[m]
        cols = cols[(cols >= 0) & (cols < len(names))]
        vals, counts = np.unique(cols, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        where = ", ".join(f"{names[vals[i]]} ({counts[i]})" for i in order[:4])
        if len(order) > 4:
            where += ", ..."
        rows[cause] = {"n": int(m.sum()), "columns": where, "reason": reason}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["n", "columns", "reason"])
    table["n"] = table["n"].astype(int)
    table.index.name = "cause"
    return table


def failure_message(caller: str, failures: pd.DataFrame, B: int) -> str:
    """The warning ``validate``/``calibrate`` give when resamples were left out."""
    n = int(failures["n"].sum())
    parts = []
    for cause, row in failures.iterrows():
        where = f" in {row['columns']}" if row["columns"] else ""
        parts.append(f"{row['n']} {cause}{where}")
    return (
        f"{caller}: {n} of {B} resamples did not converge or were singular and were left out, as rms does: "
        + "; ".join(parts)
        + ". The indexes average the other resamples (column 'n'); see the result's 'failures' table. "
        "A level or spline segment absent from many resamples: merge rare levels or use fewer knots."
    )
