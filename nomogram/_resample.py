"""Batched resampling engine behind :func:`nomogram.validate` and :func:`nomogram.calibrate`.

rms ``predab.resample`` refits the model once per resample on a copy of the
resampled rows. Here a resample is a vector of *frequency weights* on the
original rows (a bootstrap sample is a multinomial count vector, a
cross-validation training set a 0/1 vector), and all ``B`` refits run at once.
This module holds the resample plans (:func:`resample_plan`), the batched Cox
partial likelihood (:func:`cox_loglik_terms`, :func:`cox_slope_batch`) and the
batched indexes; the refits ``validate``/``calibrate`` keep or leave out, with
rms's iterations and failure rules, are :mod:`nomogram._refit`'s.

* Cox models: the Efron (or Breslow) partial likelihood of each resample in
  one compiled backward pass over the time-sorted rows
  (:mod:`nomogram._cox_kernels`; the Gram matrices of all resamples are one
  matrix product). Efron's correction is applied to *copies*: a row drawn
  ``c`` times contributes ``c`` tied deaths, each with weight 1, exactly as
  the copied rows of R's bootstrap sample do (this is not what ``coxph(weights=)`` computes, so the generic
  weighted fitter cannot be reused). For the binomial likelihood frequency
  weights are exactly equivalent to copied rows.
* :func:`logistic_newton_batch` and :func:`cox_newton_batch` fit the exact
  maximum-likelihood estimates of all resamples (warm-started at the original
  coefficients, iterated to a tight tolerance). They are *not* rms's refits
  (rms stops earlier and fails some fits, see :mod:`nomogram._refit`) and
  serve as cross-checks of the batched likelihoods against the one-at-a-time
  fitters.

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
    "cox_baseline_survival_at",
    "efron_tie_sums",
    "weighted_cox_dxy",
]

# largest number of float64 elements of the (chunk, n, k) temporaries held at once
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
        1 for the rows of test sample ``b`` (all rows for the bootstrap: then a
        read-only broadcast of one row of ones), else 0.
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
    # the copies of each row in each sample, one sample at a time (no (B, n) temporaries)
    train = np.empty((B, n))
    for b in range(B):
        train[b] = np.bincount(idx[b], minlength=n)
    index = list(idx)
    if method == "boot":  # every sample is tested on every row: one row of ones, broadcast (read-only)
        return ResamplePlan(method, train, np.broadcast_to(np.ones((1, n)), (B, n)), index)
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


class WeightedGram:
    """``Z' diag(v_b) Z`` for many weight vectors ``v_b`` (rows of ``V``) by matrix products.

    Each information matrix is a row of ``V @ Q``, ``Q`` the products
    ``z_ij z_il`` (upper triangle, ``k(k+1)/2`` columns):
    all resamples cost one BLAS product instead of ``B`` small ones. ``Q`` is
    formed a block of :attr:`block` patients at a time, at every call
    (:func:`nomogram._lrm_kernels.upper_products_into`), so
    the memory held is ``block x k(k+1)/2`` whatever the number of patients
    (the whole ``Q`` is 420 MB at 500,000 patients and 14 design columns);
    forming it costs one multiplication per product and patient, a small
    part of the product with ``V``.
    """

    block = 4096

    def __init__(self, Z: np.ndarray):
        self.Zt = np.ascontiguousarray(np.asarray(Z, dtype=float).T)
        k, n = self.Zt.shape
        self.k = k
        self.iu = np.triu_indices(k)
        self._Qt = np.empty((len(self.iu[0]), min(n, self.block)))

    def __call__(self, v: np.ndarray) -> np.ndarray:
        from ._lrm_kernels import upper_products_into

        n = self.Zt.shape[1]
        flat = np.zeros((v.shape[0], len(self.iu[0])))
        for s in range(0, n, self.block):
            e = min(n, s + self.block)
            Qt = self._Qt[:, :e - s]
            upper_products_into(self.Zt, s, e, Qt)
            flat += v[:, s:e] @ Qt.T
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
    gram = WeightedGram(Z)
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
    :class:`WeightedGram`) and inverted once, at the start, and reused for the next
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
    gram = WeightedGram(Z)
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

    def design_products(self, Xs: np.ndarray):
        """``Xs'`` (contiguous) and the upper-triangle products ``x_k x_l`` of each row of ``Xs``.

        The products are returned as the transpose of a (p(p+1)/2, n) array
        (each product one contiguous row, in the order of ``numpy.triu_indices``),
        so ``v @ Q`` is the Gram matrices of the weight rows ``v``. Computed once
        per design and kept while ``Xs`` is alive (every Newton step of every
        resample reuses them); ``Xs`` must not be modified in place.
        """
        import weakref

        cached = getattr(self, "_products", None)
        if cached is not None and cached[0]() is Xs:
            return cached[1], cached[2]
        XsT = np.ascontiguousarray(Xs.T)
        p = XsT.shape[0]
        QT = np.empty((p * (p + 1) // 2, XsT.shape[1]))
        at = 0
        for j in range(p):
            np.multiply(XsT[j:], XsT[j], out=QT[at:at + p - j])
            at += p - j
        Q = QT.T
        self._products = (weakref.ref(Xs), XsT, Q)
        return XsT, Q

    def kernel_arrays(self):
        """``event`` (float), ``start`` (int64) and the first row of each stratum (bool), for the compiled passes."""
        cached = getattr(self, "_kernel_arrays", None)
        if cached is None:
            first = np.zeros(self.n, dtype=bool)
            first[self._bounds[0]] = True
            cached = (np.ascontiguousarray(self.event, dtype=float),
                      np.ascontiguousarray(self.start, dtype=np.int64), first)
            self._kernel_arrays = cached
        return cached


def efron_tie_sums(d: np.ndarray, S0: np.ndarray, D0: np.ndarray, ties: str, need_info: bool = True):
    """Scalar sums over the terms of the tied-death correction, per (resample, event time).

    ``d`` (B, J) copied deaths (unit weight each), ``S0``/``D0`` the risk-set
    and death sums of :math:`w e^{\\eta}`. Each term has
    :math:`\\mathrm{den} = S_0 - f D_0` with :math:`f = l/d`, ``l = 0 .. d-1``
    (Efron) or :math:`f = 0` counted ``d`` times (Breslow). Its mean covariate
    is :math:`a = (S_1 - f D_1)/\\mathrm{den}` and its second moment
    :math:`(S_2 - f D_2)/\\mathrm{den}`, so every likelihood sum needs only

    * ``log_den``: :math:`\\sum_{j,l} \\log \\mathrm{den}` per resample (B,),
    * ``c``, ``e``: :math:`\\sum_l 1/\\mathrm{den}`, :math:`\\sum_l f/\\mathrm{den}` (B, J),
    * ``g0``, ``g1``, ``g2``: :math:`\\sum_l f^k/\\mathrm{den}^2`, k = 0, 1, 2 (B, J)
      (None unless ``need_info``), with which
      :math:`\\sum_l a a' = g_0 S_1 S_1' - g_1 (S_1 D_1' + D_1 S_1') + g_2 D_1 D_1'`.

    All terms of all resamples at once: O(B J + total copied deaths).
    """
    B, J = d.shape
    bi, ji = np.nonzero(d > 0.5)
    nd = np.rint(d[bi, ji]).astype(np.int64)
    if ties == "breslow":
        k = np.ones_like(nd)                            # one term, counted d times
        mult = nd.astype(float)
    else:
        k = nd
        mult = np.ones(len(nd))
    rep = np.repeat(np.arange(bi.size), k)
    flat_bj = bi[rep] * J + ji[rep]
    if ties == "breslow":
        frac = np.zeros(rep.size)
    else:
        l = np.arange(rep.size) - np.repeat(np.cumsum(k) - k, k)
        frac = l / d[bi, ji][rep]
    den = S0.ravel()[flat_bj] - frac * D0.ravel()[flat_bj]
    wt = mult[rep]

    def per_time(weights):
        return np.bincount(flat_bj, weights=weights, minlength=B * J).reshape(B, J)

    with np.errstate(divide="ignore", invalid="ignore"):
        log_den = np.bincount(bi[rep], weights=wt * np.log(den), minlength=B)
        inv = wt / den
        c, e = per_time(inv), per_time(inv * frac)
        if not need_info:
            return log_den, c, e, None, None, None
        inv2 = inv / den
        return log_den, c, e, per_time(inv2), per_time(inv2 * frac), per_time(inv2 * frac * frac)


def cox_loglik_terms(rs: CoxRiskSetsBatch, Xs: np.ndarray, W: np.ndarray, beta: np.ndarray,
                     ties: str, need_info: bool = True, rows: np.ndarray | None = None):
    r"""Log partial likelihood, gradient and information for each resample.

    ``Xs`` (n, p) and ``W`` (B, n) are in time order (:attr:`RiskSets.order`;
    with strata, stratum by stratum: each event time's risk set and ties are
    then its stratum's, survival's ``strata()``). A row with frequency ``c``
    counts as ``c`` copies: at an event time with ``d`` copied deaths (d = sum
    of the counts of the deaths there) Efron's correction runs over
    ``l = 0..d-1`` with unit weights. ``rows`` (optional) selects the
    resamples of ``W`` that ``beta`` (len(rows), p) belongs to.

    The information is never formed per event time. Each term of the sum,
    :math:`(S_2 - f D_2)/\mathrm{den} - a a'` (:math:`f = l/d`), has its
    second moments :math:`S_2 = \sum_{T_i \ge t_j} r_i x_i x_i'` and
    :math:`D_2` (deaths at :math:`t_j`) linear in :math:`x_i x_i'`, so

    .. math::

        \sum_{j,l} \frac{S_{2j} - f_{jl} D_{2j}}{\mathrm{den}_{jl}}
        = \sum_i r_i \Big(\sum_{t_j \le T_i} c_j - \delta_i e_{j(i)}\Big) x_i x_i',
        \qquad c_j = \sum_l \frac{1}{\mathrm{den}_{jl}},\quad e_j = \sum_l \frac{f_{jl}}{\mathrm{den}_{jl}},

    one weighted Gram matrix per resample (all of them one matrix product with
    the products :math:`x_k x_l` of each row, :meth:`CoxRiskSetsBatch.design_products`).
    With :math:`a = (S_1 - f D_1)/\mathrm{den}`, the gradient and
    :math:`\sum a a'` need only the scalar sums :math:`c_j, e_j` and
    :math:`\sum_l f^k/\mathrm{den}^2` (k = 0, 1, 2) of each event time.
    Everything but the Gram matrices is one compiled backward pass over the
    sorted rows per resample (:func:`nomogram._cox_kernels.cox_terms_rows`):
    O(B n p + B J p^2) time, O(B n + n p^2) memory.
    """
    from ._cox_kernels import cox_terms_rows

    rows = np.arange(W.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    beta = np.atleast_2d(np.asarray(beta, float))
    m = len(rows)
    p = Xs.shape[1]
    XsT, Q = rs.design_products(Xs) if need_info else (np.ascontiguousarray(Xs.T), None)
    eta = beta @ XsT                                    # (m, n)
    grad = np.empty((m, p))
    outer = np.empty((m, p, p) if need_info else (0, p, p))
    v = np.empty((m if need_info else 1, rs.n))
    event, start, first = rs.kernel_arrays()
    X3 = np.ascontiguousarray(Xs, dtype=float)[None]
    ll = cox_terms_rows(X3, eta, np.ascontiguousarray(W, dtype=float), rows, event, start, first,
                        ties != "breslow", need_info, False, grad, outer, v, np.empty(len(start)),
                        np.empty(len(start)))
    if not need_info:
        return ll, grad, np.zeros((m, p, p))
    iu0, iu1 = np.triu_indices(p)
    flat = v @ Q                                        # (m, p(p+1)/2): the Gram matrices
    info = np.empty((m, p, p))
    info[:, iu0, iu1] = flat
    info[:, iu1, iu0] = flat
    info -= outer
    return ll, grad, info


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
    chunk = max(1, _CHUNK_ELEMENTS // max(1, rs.n))     # cox_loglik_terms holds (chunk, n) arrays
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


def cox_baseline_survival_at(rs: CoxRiskSetsBatch, lp: np.ndarray, W: np.ndarray, u: float,
                             ties: str = "efron", *, past_tol: float | None = 0.0):
    r"""Each resample's baseline survival at ``u`` in every stratum, as ``survfit.cph`` of its refit.

    The curve of stratum ``k`` is survival's ``survfit.coxph`` at the weighted
    mean linear predictor of the sample (rms's ``center``): the Efron (or
    Breslow) cumulative hazard :math:`H_k(u)` over the event times
    :math:`t_j \le u + 10^{-6}` of stratum ``k``, with frequency weights as
    copies (a row drawn ``c`` times is ``c`` tied deaths), and
    :math:`S_k(u) = e^{-H_k(u)}`; a stratum without an event in the sample has
    :math:`S_k = 1`. Patient ``i`` of stratum ``k`` then has survival
    :math:`S_k(u)^{\exp(x_i\beta - \mathrm{center})}`.

    Parameters
    ----------
    rs : CoxRiskSetsBatch
        Risk sets (with the strata of the model, if any).
    lp : ndarray of shape (B, n)
        Linear predictors of each resample's fit, rows in ``rs`` order (any centring).
    W : ndarray of shape (B, n)
        Frequency weights in ``rs`` order.
    u : float
    ties : {"efron", "breslow"}
    past_tol : float or None, default 0
        Past follow-up rule: ``S_k(u)`` is NaN where ``u`` is later than the last
        follow-up time of stratum ``k`` in the sample by more than ``past_tol``
        and the curve has not reached 0 (rms ``survest.cph``: 0; the
        ``surv.summary`` of ``cph`` that ``calibrate.cph`` reads: 1e-6); None
        carries the last value forward.

    Returns
    -------
    surv : ndarray of shape (B, K)
        ``K`` = number of strata (1 without strata); NaN for a stratum absent
        from a sample.
    center : ndarray of shape (B,)
        The weighted mean of ``lp`` the curves are taken at.
    """
    B = W.shape[0]
    K = int(rs.strata.max()) + 1 if rs.n else 1
    center = np.sum(W * lp, axis=1) / W.sum(axis=1)
    r = W * np.exp(lp - center[:, None])
    # the hazard increment of an event time is the sum over its tie terms of 1 / den
    inc = efron_tie_sums(rs.death_sum(W * rs.event), rs.at_risk_sum(r), rs.death_sum(r * rs.event), ties,
                         need_info=False)[1]
    onehot = np.zeros((len(rs.event_strata), K))
    onehot[np.arange(len(rs.event_strata)), rs.event_strata] = 1.0
    surv = np.exp(-(inc * (rs.event_times <= u + 1e-6)) @ onehot)
    # last follow-up time of each stratum in each sample (-inf: stratum absent)
    lo, _ = rs._bounds
    last = np.full((B, K), -np.inf)
    last[:, rs._levels] = np.maximum.reduceat(np.where(W > 0, rs.time[None, :], -np.inf), lo, axis=1)
    surv[~np.isfinite(last)] = np.nan
    if past_tol is not None:
        reached_zero = np.exp(-(inc @ onehot)) == 0
        surv[(u > last + past_tol) & ~reached_zero] = np.nan
    return surv, center


def cox_slope_batch(rs: CoxRiskSetsBatch, xs: np.ndarray, W: np.ndarray, ties: str = "efron",
                    max_iter: int = 30, *, eps: float = 1e-12, full: bool = False):
    """One-covariate Cox fit of ``x_b`` (rms calibration slope) for every row ``b``.

    ``xs`` (B, n) and ``W`` (B, n) are in time order. The iteration is
    survival's ``coxfit6`` (:func:`nomogram._refit.coxfit6_batch`) from 0 with
    relative log-likelihood tolerance ``eps``; rms ``validate.cph`` fits the
    test-sample slope with ``max_iter=10, eps=1e-4``.

    Returns the slope, the log partial likelihood at 0, at the slope and at 1
    (rms's "frozen" fit); with ``full=True`` also the pass count (``coxfit6``'s
    ``iter``; rms's ``coxphFit`` fails the fit when it reaches ``max_iter``).
    """
    from ._cox_kernels import cox_terms_rows
    from ._refit import coxfit6_batch

    B = xs.shape[0]
    event, start, first = rs.kernel_arrays()
    W = np.ascontiguousarray(W, dtype=float)
    X3 = np.ascontiguousarray(xs, dtype=float)[:, :, None]
    scratch = np.empty((1, rs.n)), np.empty(len(start)), np.empty(len(start))

    # a separate one-column "design" per resample: the compiled pass with one design per row,
    # the information sum_i v_i x_i^2 - sum a^2 formed in the pass too
    def terms(beta, rows):
        rows = np.asarray(rows, dtype=np.int64)
        eta = np.reshape(beta, (len(rows), 1)) * X3[rows, :, 0]
        m = len(rows)
        g, h = np.empty((m, 1)), np.empty((m, 1, 1))
        ll = cox_terms_rows(X3, eta, W, rows, event, start, first, ties != "breslow", True, True, g, h, *scratch)
        return ll, g, h

    rows = np.arange(B)
    ll1 = terms(np.ones(B), rows)[0]
    beta, ll, ll0, _, n_iter, _ = coxfit6_batch(terms, B, 1, maxit=max_iter, eps=eps, toler=1e-9)
    if full:
        return beta[:, 0], ll0, ll, ll1, n_iter
    return beta[:, 0], ll0, ll, ll1


# --------------------------------------------------------------------------- indexes
def weighted_cox_dxy(x: np.ndarray, rs: CoxRiskSetsBatch, w: np.ndarray, *, ranks=None) -> np.ndarray:
    """Harrell's censored-data ``Dxy`` of each row of risk scores ``x`` (time order).

    rms ``dxy.cens(x, S, type="hazard")`` via survival's ``survConcordance.fit``:
    a pair is usable when the shorter time is an event; a censored time equal
    to an event time counts as longer; two events at the same time are
    "tied in time" and not used. Concordant: the higher ``x`` has the event
    first; ties in ``x`` count 1/2. ``Dxy = 2 C - 1``. Weights are frequencies
    (copies of a row are tied in time with each other, so never used as a pair).
    O(n log n) per resample with a Fenwick tree
    (:func:`nomogram._pair_counts.concordance_totals_batch`); ``ranks``: the
    dense ranks of ``x`` when known (the same scores under other weights).
    """
    from ._pair_counts import concordance_totals_batch

    conc, disc, tied = concordance_totals_batch(rs.time, rs.event, x, w, ranks=ranks).T
    return (conc - disc) / (conc + disc + tied)
