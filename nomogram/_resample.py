"""Batched resampling engine behind :func:`nomogram.validate` and :func:`nomogram.calibrate`.

rms ``predab.resample`` refits the model once per resample on a copy of the
resampled rows. Here a resample is a vector of *frequency weights* on the
original rows (a bootstrap sample is a multinomial count vector, a
cross-validation training set a 0/1 vector), and all ``B`` refits run at once:

* logistic models: Newton–Raphson vectorised across resamples, warm-started at
  the original coefficients (2-4 iterations), with the ``B`` information
  matrices built by batched matrix products and solved by one batched
  ``numpy.linalg.solve``. For the binomial likelihood frequency weights are
  exactly equivalent to copied rows.
* Cox models: Newton–Raphson on the Efron (or Breslow) partial likelihood with
  the risk-set sums for all resamples formed by one reverse cumulative sum.
  Efron's correction is applied to *copies*: a row drawn ``c`` times
  contributes ``c`` tied deaths, each with weight 1, exactly as the copied
  rows of R's bootstrap sample do (this is not what ``coxph(weights=)``
  computes, so the generic weighted fitter cannot be reused).

The accuracy indexes are computed from weighted formulas that equal the
unweighted formula on the expanded (copied) sample: Harrell's censored-data
``Dxy`` here; Somers' ``Dxy`` and Gini's mean difference in
:mod:`nomogram._indexes`, their one home; Brier score, likelihood ratios.

Everything here works on numbers; :mod:`nomogram.validation` and
:mod:`nomogram.calibration` hold the rms semantics and the result objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from ._survival import RiskSets

__all__ = [
    "ResamplePlan",
    "resample_plan",
    "logistic_newton_batch",
    "logistic_loglik_batch",
    "recalibrate_logistic_batch",
    "CoxRiskSetsBatch",
    "cox_newton_batch",
    "weighted_cox_dxy",
]

# largest number of float64 temporaries of size (chunk, k, n) held at once
_CHUNK_ELEMENTS = 4_000_000


# --------------------------------------------------------------------------- plan
@dataclass
class ResamplePlan:
    """Training frequency weights and test weights for ``B`` resamples.

    Attributes
    ----------
    method : str
    train : ndarray of shape (B, n)
        How many times each original row is in training sample ``b``.
    test : ndarray of shape (B, n)
        1 for the rows of test sample ``b`` (all rows for the bootstrap), else 0.
    train_index : list of ndarray
        Row indices of each training sample, copies included, in draw order
        (needed where an index is not a weighted sum, e.g. lowess).
    weights_632 : ndarray of shape (B,) or None
        Efron's .632 weights ``W_b`` of each test estimate (rms ``predab.resample``).
    """

    method: str
    train: np.ndarray
    test: np.ndarray
    train_index: list
    weights_632: np.ndarray | None = None


def resample_plan(method: str, n: int, B: int, rng: np.random.Generator) -> ResamplePlan:
    """Draw the resamples rms ``predab.resample`` draws (with numpy's generator).

    ``boot``: ``B`` samples of ``n`` rows with replacement, tested on all rows.
    ``crossvalidation``: the rows are permuted once and cut into ``B`` groups,
    group ``i`` holding positions ``round((i - 1) n / B) + 1`` to
    ``min(n, round(start + n / B - 1))`` (R's ``round``, half to even);
    each group is the test set of the model fitted on the other rows.
    ``.632``: bootstrap samples tested on the rows they left out; the test
    estimate of sample ``b`` is weighted by
    :math:`W_b = \\frac{1}{n}\\sum_{i \\notin b} 1 / m_i` where :math:`m_i` is
    the number of samples that left row ``i`` out.
    """
    if method == "crossvalidation":
        per_group = n / B
        if per_group < 2:
            raise ValueError(
                f"validate: method='crossvalidation' needs n_boot <= n/2 groups; got n_boot={B} for n={n}."
            )
        sb = rng.permutation(n)
        train = np.ones((B, n))
        test = np.zeros((B, n))
        index = []
        for i in range(1, B + 1):
            start = 1 + int(np.round((i - 1) * per_group))
            end = min(n, int(np.round(start + per_group - 1)))
            rows = sb[start - 1:end]
            train[i - 1, rows] = 0.0
            test[i - 1, rows] = 1.0
            index.append(np.flatnonzero(train[i - 1] > 0))
        return ResamplePlan(method, train, test, index)
    idx = rng.integers(0, n, size=(B, n))
    train = np.zeros((B, n))
    for b in range(B):
        train[b] = np.bincount(idx[b], minlength=n)
    index = list(idx)
    if method == "boot":
        return ResamplePlan(method, train, np.ones((B, n)), index)
    if method == ".632":
        omitted = train == 0
        nomit = omitted.sum(axis=0)
        if nomit.min() == 0:
            raise ValueError(
                "validate: with method='.632' every patient must be left out of at least one "
                f"bootstrap sample; with n_boot={B} some never are. Increase n_boot."
            )
        w632 = (omitted / nomit).sum(axis=1) / n
        return ResamplePlan(method, train, omitted.astype(float), index, w632)
    raise ValueError(f"unknown resampling method {method!r}")  # pragma: no cover


# --------------------------------------------------------------------------- logistic
def logistic_loglik_batch(eta: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``sum_i w_bi [y_i eta_bi - log(1 + e^eta_bi)]`` for each row ``b``."""
    terms = y * eta
    terms -= np.logaddexp(0.0, eta)
    w = np.broadcast_to(w, terms.shape)
    if terms.ndim == 1:
        return float(np.dot(w, terms))
    return np.einsum("ij,ij->i", w, terms)


def _null_loglik(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    w1 = w @ y
    wt = w.sum(axis=1)
    w0 = wt - w1
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(w1 > 0, w1 * np.log(w1 / wt), 0.0) + np.where(w0 > 0, w0 * np.log(w0 / wt), 0.0)
    return out


class _Gram:
    """``Z' diag(v_b) Z`` for many weight vectors ``v_b`` as one matrix product.

    The products ``z_ij z_il`` (upper triangle, ``k(k+1)/2`` columns) are formed
    once; each information matrix is then a row of ``V @ Q``, so all resamples
    cost one BLAS matrix multiplication instead of ``B`` small ones.
    """

    def __init__(self, Z: np.ndarray):
        n, k = Z.shape
        self.k = k
        self.iu = np.triu_indices(k)
        self.Q = Z[:, self.iu[0]] * Z[:, self.iu[1]]            # (n, k(k+1)/2)

    def __call__(self, v: np.ndarray) -> np.ndarray:
        flat = v @ self.Q                                      # (B, k(k+1)/2)
        out = np.empty((v.shape[0], self.k, self.k))
        out[:, self.iu[0], self.iu[1]] = flat
        out[:, self.iu[1], self.iu[0]] = flat
        return out


def _finite_fits(beta: np.ndarray) -> np.ndarray:
    """Rows of ``beta`` (B, k) that are usable fits: all finite and every |coefficient| < 1e6."""
    return np.all(np.isfinite(beta), axis=1) & (np.max(np.abs(beta), axis=1) < 1e6)


def _logistic_newton_safeguarded(
    Z: np.ndarray,
    y: np.ndarray,
    W: np.ndarray,
    *,
    penalty: np.ndarray | None = None,
    init: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 25,
):
    """Safeguarded Newton–Raphson (step halving) behind :func:`logistic_newton_batch`.

    Parameters and returns as :func:`logistic_newton_batch` (``loglik`` is
    always computed), except: ``init`` None starts every resample at 0, and
    convergence is when the change in the penalised log-likelihood is below
    ``tol * max(1, |ll|)`` and the largest step is below ``sqrt(tol)``.
    """
    B = W.shape[0]
    k = Z.shape[1]
    P = np.zeros((k, k)) if penalty is None else np.asarray(penalty, float)
    beta = np.zeros((B, k)) if init is None else np.broadcast_to(np.asarray(init, float), (B, k)).copy()
    obj, ll, eta = _objective_rows(Z, y, W, P, beta)
    gram = _Gram(Z)
    active = np.ones(B, bool)
    converged = np.zeros(B, bool)
    it = 0
    for it in range(1, max_iter + 1):
        a = np.flatnonzero(active)
        if a.size == 0:
            break
        mu = expit(eta[a])
        grad = (W[a] * (y - mu)) @ Z - beta[a] @ P
        info = gram(W[a] * mu * (1 - mu)) + P
        try:
            step = np.linalg.solve(info, grad[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.stack([np.linalg.lstsq(info[i], grad[i], rcond=None)[0] for i in range(a.size)])
        t = np.ones(a.size)
        new_beta = beta[a] + step
        new_obj, new_ll, new_eta = _objective_rows(Z, y, W[a], P, new_beta)
        for _ in range(30):  # step halving where the objective got worse
            bad = ~(new_obj >= obj[a] - 1e-12 * np.abs(obj[a])) | ~np.isfinite(new_obj)
            if not bad.any():
                break
            t[bad] *= 0.5
            nb = beta[a][bad] + t[bad, None] * step[bad]
            o2, l2, e2 = _objective_rows(Z, y, W[a][bad], P, nb)
            new_beta[bad], new_obj[bad], new_ll[bad], new_eta[bad] = nb, o2, l2, e2
        change = np.abs(new_obj - obj[a])
        beta[a], obj[a], ll[a], eta[a] = new_beta, new_obj, new_ll, new_eta
        done = (change <= tol * np.maximum(1.0, np.abs(new_obj))) & (
            np.max(np.abs(t[:, None] * step), axis=1) <= np.sqrt(tol)
        )
        converged[a[done]] = True
        active[a[done]] = False
    return beta, ll, converged & _finite_fits(beta), it


def logistic_newton_batch(
    Z: np.ndarray,
    y: np.ndarray,
    W: np.ndarray,
    *,
    penalty: np.ndarray | None = None,
    init: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 25,
    return_loglik: bool = True,
):
    """Penalised logistic MLE for ``B`` weight vectors at once.

    Parameters
    ----------
    Z : ndarray of shape (n, k)
        Design matrix *with* the intercept column first.
    y : ndarray of shape (n,)
        0/1 outcome.
    W : ndarray of shape (B, n)
        Frequency weights of each resample.
    penalty : ndarray of shape (k, k), optional
        Penalty on the coefficients (zero row/column for the intercept).
    init : ndarray of shape (k,) or (B, k), optional
        Starting values (the original fit's coefficients warm-start every resample).
    tol : float
        Convergence tolerance (see below).

    Returns
    -------
    beta : ndarray of shape (B, k)
    loglik : ndarray of shape (B,) or None
        Unpenalised weighted log-likelihood at ``beta`` (None unless ``return_loglik``).
    converged : ndarray of bool, shape (B,)
    n_iter : int

    Notes
    -----
    Started at the original fit, a resample's solution is close, so the
    information matrix is formed (one matrix product for all resamples, see
    :class:`_Gram`) and inverted once, at the start, and reused for the next
    steps (the chord method: linear convergence at a rate set by how much the
    resample's information differs from the start's, a few per cent here).
    Iterations stop when the largest step is below ``sqrt(tol)`` and the
    gradient has the size of rounding error. Resamples that do not converge
    within 12 such steps are refitted by safeguarded Newton–Raphson with step
    halving (:func:`_logistic_newton_safeguarded`), as is everything when no
    starting value is given.
    """
    B, k = W.shape[0], Z.shape[1]
    if init is None:
        return _logistic_newton_safeguarded(Z, y, W, penalty=penalty, init=None, tol=tol, max_iter=max_iter)
    P = np.zeros((k, k)) if penalty is None else np.asarray(penalty, float)
    beta = np.broadcast_to(np.asarray(init, float), (B, k)).copy()
    gram = _Gram(Z)
    mu = expit(beta @ Z.T)
    try:
        Hinv = np.linalg.inv(gram(W * mu * (1 - mu)) + P)
    except np.linalg.LinAlgError:
        return _logistic_newton_safeguarded(Z, y, W, penalty=penalty, init=init, tol=tol, max_iter=max_iter)
    active = np.ones(B, bool)
    converged = np.zeros(B, bool)
    last = np.full(B, np.inf)
    it = 0
    for it in range(1, 13):
        a = np.flatnonzero(active)
        if a.size == 0:
            break
        if it > 1:
            mu = expit(beta[a] @ Z.T)
        else:
            mu = mu[a]
        grad = (W[a] * (y - mu)) @ Z - beta[a] @ P
        step = np.einsum("bij,bj->bi", Hinv[a], grad)
        size = np.max(np.abs(step), axis=1)
        ok = np.isfinite(size) & (size < 1e3)
        beta[a[ok]] += step[ok]
        done = ok & (size <= np.sqrt(tol) * 1e-2)
        # a step that does not shrink means the chord iteration is not contracting
        stuck = ~ok | (size > 0.7 * last[a])
        last[a] = size
        converged[a[done]] = True
        active[a[done | stuck]] = False
    redo = np.flatnonzero(~converged)
    if redo.size:
        b2, _, c2, _ = _logistic_newton_safeguarded(Z, y, W[redo], penalty=penalty, init=init, tol=tol,
                                                    max_iter=max_iter)
        beta[redo] = b2
        converged[redo] = c2
    ll = logistic_loglik_batch(beta @ Z.T, y, W) if return_loglik else None
    return beta, ll, converged & _finite_fits(beta), it


def _objective_rows(Z, y, W, P, b):
    """Penalised and unpenalised log-likelihood and linear predictor of each row of ``b``.

    Returns ``(ll - b' P b / 2, ll, eta)`` with ``eta = b Z'`` and ``ll``
    the weighted log-likelihood (:func:`logistic_loglik_batch`).
    """
    eta = b @ Z.T
    ll = logistic_loglik_batch(eta, y, W)
    return ll - 0.5 * np.einsum("bi,ij,bj->b", b, P, b), ll, eta


def recalibrate_logistic_batch(x: np.ndarray, y: np.ndarray, W: np.ndarray, *, tol=1e-12, max_iter=30):
    """Logistic recalibration ``logit P(y=1) = a + b x_b`` for every row ``x_b``.

    This is rms's ``lrm.fit(x, y)`` on a linear predictor (calibration intercept
    and slope): Newton–Raphson on the 2 x 2 system, vectorised over rows,
    started at ``(0, 1)``, until the largest step is below 1e-9; rows that do
    not get there without step halving are redone with it.

    Returns
    -------
    coef : ndarray of shape (B, 2)
        Intercept and slope.
    loglik : ndarray of shape (B,)
        Weighted log-likelihood at ``coef``.
    converged : ndarray of bool
    """
    B = x.shape[0]
    a = np.zeros(B)
    b = np.ones(B)
    converged = np.zeros(B, bool)
    active = np.ones(B, bool)
    last = np.full(B, np.inf)
    for _ in range(max_iter):
        r_ = np.flatnonzero(active)
        if r_.size == 0:
            break
        da, db = _recal_step(x[r_], y, W[r_], a[r_], b[r_])
        size = np.maximum(np.abs(da), np.abs(db))
        ok = np.isfinite(size) & (size < 0.5 * last[r_] + 1.0)
        a[r_[ok]] += da[ok]
        b[r_[ok]] += db[ok]
        last[r_] = size
        done = ok & (size < 1e-9)
        converged[r_[done]] = True
        active[r_[done | ~ok]] = False
    ll = logistic_loglik_batch(a[:, None] + b[:, None] * x, y, W)
    redo = np.flatnonzero(~converged)
    for i in redo:  # rare: safeguarded Newton with step halving
        a[i], b[i], ll[i], converged[i] = _recal_halving(x[i], y, W[i], tol, max_iter)
    return np.column_stack([a, b]), ll, converged


def _recal_step(x, y, W, a, b):
    mu = expit(a[:, None] + b[:, None] * x)
    r = W * (y - mu)
    v = W * mu * (1 - mu)
    vx = v * x
    g0, g1 = r.sum(1), (r * x).sum(1)
    h00, h01, h11 = v.sum(1), vx.sum(1), (vx * x).sum(1)
    det = h00 * h11 - h01 * h01
    with np.errstate(divide="ignore", invalid="ignore"):   # singular: non-finite step, handled by callers
        return (h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det


def _recal_halving(x, y, w, tol, max_iter):
    a, b = 0.0, 1.0
    x2, w2 = x[None], w[None]
    ll = float(logistic_loglik_batch(a + b * x2, y, w2)[0])
    for _ in range(max_iter):
        da, db = (float(v[0]) for v in _recal_step(x2, y, w2, np.array([a]), np.array([b])))
        t = 1.0
        for _ in range(30):
            new = float(logistic_loglik_batch((a + t * da) + (b + t * db) * x2, y, w2)[0])
            if np.isfinite(new) and new >= ll - 1e-12 * abs(ll):
                break
            t *= 0.5
        a, b = a + t * da, b + t * db
        change, ll = abs(new - ll), new
        if change <= tol * max(1.0, abs(ll)) and max(abs(t * da), abs(t * db)) < 1e-9:
            return a, b, ll, True
    return a, b, ll, False


# --------------------------------------------------------------------------- Cox
class CoxRiskSetsBatch(RiskSets):
    """:class:`nomogram._survival.RiskSets` for arrays with one resample per row.

    The same time order (deaths before censorings at a tied time) and sums;
    only the rows of the data are on axis 1 of every array given to
    :meth:`at_risk_sum` and :meth:`death_sum`.
    """

    axis = 1


def cox_loglik_terms(rs: CoxRiskSetsBatch, Xs: np.ndarray, W: np.ndarray, beta: np.ndarray,
                     ties: str, need_info: bool = True):
    """Log partial likelihood, gradient and information for each resample.

    ``Xs`` (n, p) and ``W`` (B, n) are in time order. A row with frequency ``c``
    counts as ``c`` copies: at an event time with ``d`` copied deaths (d = sum
    of the counts of the deaths there) Efron's correction runs over
    ``l = 0..d-1`` with unit weights. Second moments are kept as the upper
    triangle of ``x x'`` (``p(p+1)/2`` columns).
    """
    B = W.shape[0]
    p = Xs.shape[1]
    iu0, iu1 = np.triu_indices(p)
    eta = beta @ Xs.T                                   # (B, n)
    r = W * np.exp(eta)
    dW = W * rs.event                                   # death copies per row
    ll = np.einsum("ij,ij->i", dW, eta)
    grad = dW @ Xs
    S0 = rs.at_risk_sum(r)                              # (B, J)
    d = rs.death_sum(dW)                                # copied deaths per event time
    D0 = rs.death_sum(r)                                # death_sum reads death rows only
    rx = r[:, :, None] * Xs[None]                       # (B, n, p)
    S1 = rs.at_risk_sum(rx)
    D1 = rs.death_sum(rx)
    flat = np.zeros((B, len(iu0)))                      # sum of S2/den terms (upper triangle)
    outer = np.zeros((B, p, p))                         # sum of a a' terms
    if need_info:
        rxx = rx[:, :, iu0] * Xs[None, :, iu1]
        S2 = rs.at_risk_sum(rxx)
        D2 = rs.death_sum(rxx)
        del rxx
    if ties == "breslow":
        with np.errstate(divide="ignore", invalid="ignore"):
            S0s = np.where(d > 0, S0, 1.0)
            ll -= np.sum(np.where(d > 0, d * np.log(S0s), 0.0), axis=1)
            a = S1 / S0s[..., None]
            grad -= np.einsum("bj,bjk->bk", d, a)
            if need_info:
                flat += np.matmul((d / S0s)[:, None, :], S2)[:, 0]
                outer += np.matmul(np.swapaxes(a * d[..., None], 1, 2), a)
        return ll, grad, _info_from(flat, outer, iu0, iu1, p, need_info)
    # l = 0: every event time (no Efron correction yet)
    has = (d > 0.5).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        S0s = np.where(has > 0, S0, 1.0)
        ll -= np.sum(has * np.log(S0s), axis=1)
        a = S1 / S0s[..., None]
        grad -= np.einsum("bj,bjk->bk", has, a)
        if need_info:
            flat += np.matmul((has / S0s)[:, None, :], S2)[:, 0]
            outer += np.matmul(np.swapaxes(a * has[..., None], 1, 2), a)
    # l >= 1: only the (resample, time) pairs with more than l copied deaths
    bi, ji = np.nonzero(d > 1.5)
    if bi.size:
        dd = d[bi, ji]
        s0, d0 = S0[bi, ji], D0[bi, ji]
        s1, d1 = S1[bi, ji], D1[bi, ji]
        if need_info:
            s2, d2 = S2[bi, ji], D2[bi, ji]
        for l in range(1, int(np.round(dd.max()))):
            m = dd - l > 0.5
            if not m.any():
                break
            b_ = bi[m]
            frac = l / dd[m]
            den = s0[m] - frac * d0[m]
            ll -= np.bincount(b_, weights=np.log(den), minlength=B)
            a = (s1[m] - frac[:, None] * d1[m]) / den[:, None]
            rows, starts = np.unique(b_, return_index=True)   # b_ is sorted (np.nonzero order)
            grad[rows] -= np.add.reduceat(a, starts, axis=0)
            if need_info:
                flat[rows] += np.add.reduceat((s2[m] - frac[:, None] * d2[m]) / den[:, None], starts, axis=0)
                outer[rows] += np.add.reduceat(a[:, :, None] * a[:, None, :], starts, axis=0)
    return ll, grad, _info_from(flat, outer, iu0, iu1, p, need_info)


def _info_from(flat, outer, iu0, iu1, p, need_info):
    B = flat.shape[0]
    info = np.zeros((B, p, p))
    if not need_info:
        return info
    info[:, iu0, iu1] = flat
    info[:, iu1, iu0] = flat
    return info - outer


def _cox_newton_safeguarded(rs, Xs, Wc, P, b, ties, tol, max_iter):
    """Newton–Raphson with step halving for the resamples the chord method did not finish."""
    n_b = len(b)
    l, g, info = cox_loglik_terms(rs, Xs, Wc, b, ties)
    obj = l - 0.5 * np.einsum("bi,ij,bj->b", b, P, b)
    g = g - b @ P
    info = info + P
    conv = np.zeros(n_b, bool)
    for _ in range(max_iter):
        try:
            step = np.linalg.solve(info, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.stack([np.linalg.lstsq(info[i], g[i], rcond=None)[0] for i in range(n_b)])
        step[conv] = 0.0
        t = np.ones(n_b)
        for _ in range(30):
            nb = b + t[:, None] * step
            nl, ng, ninfo = cox_loglik_terms(rs, Xs, Wc, nb, ties)
            nobj = nl - 0.5 * np.einsum("bi,ij,bj->b", nb, P, nb)
            bad = ~(nobj >= obj - 1e-12 * np.abs(obj)) | ~np.isfinite(nobj)
            if not bad.any():
                break
            t[bad] *= 0.5
        change = np.abs(nobj - obj)
        b, l, obj = nb, nl, nobj
        g, info = ng - nb @ P, ninfo + P
        conv = (change <= tol * np.maximum(1.0, np.abs(obj))) & (np.max(np.abs(t[:, None] * step), axis=1) <= 1e-6)
        if conv.all():
            break
    return b, l, conv


def cox_newton_batch(
    rs: CoxRiskSetsBatch,
    Xs: np.ndarray,
    W: np.ndarray,
    *,
    ties: str = "efron",
    penalty: np.ndarray | None = None,
    init: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 25,
):
    """Cox partial-likelihood MLE for ``B`` frequency-weight vectors at once.

    Parameters
    ----------
    rs : CoxRiskSetsBatch
    Xs : ndarray of shape (n, p)
        Design in time order (``X[rs.order]``).
    W : ndarray of shape (B, n)
        Frequency weights in time order.

    Returns
    -------
    beta : ndarray of shape (B, p)
    loglik : ndarray of shape (B,)
        Log partial likelihood at ``beta`` (unpenalised).
    loglik0 : ndarray of shape (B,)
        At ``beta = 0``.
    converged : ndarray of bool
    """
    B = W.shape[0]
    p = Xs.shape[1]
    P = np.zeros((p, p)) if penalty is None else np.asarray(penalty, float)
    beta = np.zeros((B, p)) if init is None else np.broadcast_to(np.asarray(init, float), (B, p)).copy()
    chunk = max(1, _CHUNK_ELEMENTS // max(1, rs.n * p * p))
    ll0 = np.empty(B)
    ll = np.empty(B)
    converged = np.zeros(B, bool)
    for s in range(0, B, chunk):
        e = min(B, s + chunk)
        Wc = W[s:e]
        ll0[s:e] = cox_loglik_terms(rs, Xs, Wc, np.zeros((e - s, p)), ties, need_info=False)[0]
        # Bootstrap Cox fits on a few hundred patients move far from the original
        # coefficients (spline terms), so the chord method used for logistic models
        # converges slowly here: full Newton steps.
        b, l, conv = _cox_newton_safeguarded(rs, Xs, Wc, P, beta[s:e], ties, tol, max_iter)
        beta[s:e] = b
        ll[s:e] = l
        converged[s:e] = conv & np.all(np.isfinite(b), axis=1)
    return beta, ll, ll0, converged


def cox_slope_batch(rs: CoxRiskSetsBatch, xs: np.ndarray, W: np.ndarray, ties: str = "efron",
                    max_iter: int = 30):
    """One-covariate Cox fit of ``x_b`` (rms calibration slope) for every row ``b``.

    ``xs`` (B, n) and ``W`` (B, n) are in time order. Returns the slope, the
    log partial likelihood at 0, at the slope and at 1 (rms's "frozen" fit).
    """
    B = xs.shape[0]
    # a separate "design" per resample: do the one-dimensional sums directly
    def terms(beta):
        eta = beta[:, None] * xs
        r = W * np.exp(eta)
        dW = W * rs.event
        ll = np.sum(dW * eta, axis=1)
        g = np.sum(dW * xs, axis=1)
        h = np.zeros(B)
        S0 = rs.at_risk_sum(r)
        S1 = rs.at_risk_sum(r * xs)
        S2 = rs.at_risk_sum(r * xs * xs)
        d = rs.death_sum(dW)
        D0 = rs.death_sum(r * rs.event)
        D1 = rs.death_sum(r * xs * rs.event)
        D2 = rs.death_sum(r * xs * xs * rs.event)
        if ties == "breslow":
            with np.errstate(divide="ignore", invalid="ignore"):
                ll -= np.sum(np.where(d > 0, d * np.log(S0), 0.0), axis=1)
                a = S1 / S0
                g -= np.sum(d * a, axis=1)
                h += np.sum(d * (S2 / S0 - a * a), axis=1)
            return ll, g, h
        max_d = int(np.round(d.max()))
        for l in range(max_d):
            m = (d - l > 0.5).astype(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = np.where(d > 0, l / d, 0.0)
                den = np.where(m > 0, S0 - frac * D0, 1.0)
                a = (S1 - frac * D1) / den
                ll -= np.sum(m * np.log(den), axis=1)
                g -= np.sum(m * a, axis=1)
                h += np.sum(m * ((S2 - frac * D2) / den - a * a), axis=1)
        return ll, g, h

    ll0 = terms(np.zeros(B))[0]
    ll1 = terms(np.ones(B))[0]
    beta = np.zeros(B)
    ll, g, h = terms(beta)
    for _ in range(max_iter):
        step = g / h
        t = np.ones(B)
        for _ in range(30):
            nl, ng, nh = terms(beta + t * step)
            bad = ~(nl >= ll - 1e-12 * np.abs(ll)) | ~np.isfinite(nl)
            if not bad.any():
                break
            t[bad] *= 0.5
        beta = beta + t * step
        change = np.abs(nl - ll)
        ll, g, h = nl, ng, nh
        if np.all((change <= 1e-12 * np.maximum(1, np.abs(ll))) & (np.abs(t * step) < 1e-9)):
            break
    return beta, ll0, ll, ll1


# --------------------------------------------------------------------------- indexes
def _dense_ranks(x: np.ndarray) -> np.ndarray:
    """1-based dense ranks of each row of ``x`` (ties share a rank)."""
    o = np.argsort(x, axis=1)
    xs = np.take_along_axis(x, o, axis=1)
    new = np.ones(x.shape, dtype=np.int64)
    new[:, 1:] = xs[:, 1:] != xs[:, :-1]
    ranks = np.empty_like(new)
    np.put_along_axis(ranks, o, np.cumsum(new, axis=1), axis=1)
    return ranks


def cox_dxy_fenwick(x: np.ndarray, rs: CoxRiskSetsBatch, w: np.ndarray) -> np.ndarray:
    """:func:`weighted_cox_dxy` in O(n log n) per resample with Fenwick trees.

    Rows are visited from the latest time down (a censoring sorts after the
    deaths at its time); each resample keeps a Fenwick tree of the weights of
    the rows already visited, indexed by the rank of ``x``. A death's usable
    partners are exactly the rows visited before its own time group, so its
    concordant weight is the tree's prefix sum below its rank, ties the
    weight at its rank. All resamples advance together (one numpy operation
    per tree level).
    """
    x = np.atleast_2d(x)
    B, n = x.shape
    w = np.broadcast_to(np.asarray(w, float), x.shape)
    ranks = _dense_ranks(x)
    R = int(ranks.max())
    tree = np.zeros((B, R + 1))
    rows_b = np.arange(B)
    total = np.zeros(B)
    num = np.zeros(B)
    den = np.zeros(B)
    key = 2 * np.searchsorted(np.unique(rs.time), rs.time) + (rs.event == 0)
    # groups of equal key, visited from the largest key down
    order = np.argsort(-key, kind="stable")
    kk = key[order]
    bounds = np.flatnonzero(np.r_[True, kk[1:] != kk[:-1], True])

    def prefix(pos):
        out = np.zeros(B)
        pos = pos.copy()
        while True:
            m = pos > 0
            if not m.any():
                return out
            out[m] += tree[rows_b[m], pos[m]]
            pos[m] -= pos[m] & -pos[m]

    for g in range(len(bounds) - 1):
        members = order[bounds[g]:bounds[g + 1]]
        for i in members:
            if rs.event[i] > 0:
                wi = w[:, i]
                if not wi.any():
                    continue
                less = prefix(ranks[:, i] - 1)
                leq = prefix(ranks[:, i])
                num += wi * (less + 0.5 * (leq - less))
                den += wi * total
        for i in members:
            wi = w[:, i]
            pos = ranks[:, i].copy()
            m = wi != 0
            while m.any():
                tree[rows_b[m], pos[m]] += wi[m]
                pos[m] += pos[m] & -pos[m]
                m &= pos <= R
            total += wi
    return 2.0 * num / den - 1.0


def weighted_cox_dxy(x: np.ndarray, rs: CoxRiskSetsBatch, w: np.ndarray, method: str = "fenwick") -> np.ndarray:
    """Harrell's censored-data ``Dxy`` of each row of risk scores ``x`` (time order).

    rms ``dxy.cens(x, S, type="hazard")`` via survival's ``survConcordance.fit``:
    a pair is usable when the shorter time is an event; a censored time equal
    to an event time counts as longer; two events at the same time are
    "tied in time" and not used. Concordant: the higher ``x`` has the event
    first; ties in ``x`` count 1/2. ``Dxy = 2 C - 1``. Weights are frequencies
    (copies of a row are tied in time with each other, so never used as a pair).
    ``method``: ``"fenwick"`` (default, :func:`cox_dxy_fenwick`), ``"pairs"``
    (all (resample, death, patient) triples at once; memory O(B n_deaths n)) or
    ``"expand"`` (one O(n log^2 n) count per resample on the copied rows); the
    three agree exactly and are kept as cross-checks.
    """
    if method == "fenwick":
        return cox_dxy_fenwick(x, rs, w)
    x = np.atleast_2d(x)
    B, n = x.shape
    w = np.broadcast_to(w, x.shape)
    dr = rs.death_rows
    t = rs.time
    ev = rs.event
    out = np.empty(B)
    if method == "expand":
        # O(n log^2 n) per resample on the expanded rows (weights are counts)
        from ._indexes import harrell_c_survival

        for b in range(B):
            rows = np.repeat(np.arange(n), np.rint(w[b]).astype(np.int64))
            out[b] = 2.0 * harrell_c_survival(t[rows], ev[rows], x[b, rows]) - 1.0
        return out
    # usable partners of the death in row i: later times, or censored at the same time
    later = (t[None, :] > t[dr][:, None]) | ((t[None, :] == t[dr][:, None]) & (ev[None, :] == 0))
    chunk = max(1, _CHUNK_ELEMENTS // max(1, dr.size * n))
    for s in range(0, B, chunk):
        e = min(B, s + chunk)
        xd = x[s:e, dr][:, :, None]                     # (b, E, 1)
        xo = x[s:e, None, :]                            # (b, 1, n)
        wp = w[s:e, None, :] * later[None]              # partner weights
        conc = np.sum(wp * (xo < xd), axis=2) + 0.5 * np.sum(wp * (xo == xd), axis=2)
        tot = np.sum(wp, axis=2)
        wd = w[s:e, dr]
        out[s:e] = 2.0 * np.sum(wd * conc, axis=1) / np.sum(wd * tot, axis=1) - 1.0
    return out
