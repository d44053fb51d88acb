"""The compiled passes of the logistic refits and of validate's indexes equal their numpy forms."""

import numpy as np
import pytest
from scipy.special import expit

from nomogram import _refit as rfit
from nomogram._indexes import weighted_gini_md, weighted_somers_dxy

from .conftest import LOGISTIC_COLUMNS


@pytest.fixture(scope="module")
def problem(gbsg2, logistic_model):
    X = logistic_model.design_matrix(gbsg2[LOGISTIC_COLUMNS])
    y = gbsg2["cens"].to_numpy(float)
    n = len(y)
    Z = np.column_stack([np.ones(n), X])
    rng = np.random.default_rng(11)
    W = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(25)]).astype(float)
    return Z, y, W


def test_design_terms_equal_numpy_llogit(problem):
    """One compiled pass (patients of the resample only) = the numpy terms of lrmfit's LLOGIT."""
    Z, y, W = problem
    k = Z.shape[1]
    P = np.zeros((k, k))
    rng = np.random.default_rng(2)
    beta = rng.normal(0, 0.3, (len(W), k))
    beta[:, 0] = 40.0 * (rng.uniform(size=len(W)) > 0.8)     # some rows clipped at 30
    rows = np.arange(len(W))[::2]
    fast = rfit._DesignTerms(Z, y, W, P, rfit._Gram(Z))(beta[rows], rows)
    slow = rfit._llogit(Z, y, W[rows], P, beta[rows], rfit._Gram(Z))
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)
    dev_only = rfit._DesignTerms(Z, y, W, P, rfit._Gram(Z))(beta[rows], rows, need_info=False)[0]
    np.testing.assert_allclose(dev_only, slow[0], rtol=1e-12)


def test_recalibration_batch_equals_stacked_design(problem):
    """lrm_recalibration_batch([1, x_b]) makes the same fits as lrm_fit_batch on the formed design."""
    Z, y, W = problem
    fits = rfit.lrm_fit_batch(Z, y, W, maxit=12, eps=0.025, tol=1e-12)
    x = fits.beta @ Z.T
    T = np.ones_like(x)
    T[3, ::3] = 0.0                                         # a test sample that leaves patients out
    fast = rfit.lrm_recalibration_batch(x, y, T, maxit=12, eps=0.025, tol=1e-13)
    slow = rfit.lrm_fit_batch(np.stack([np.ones_like(x), x], axis=-1), y, T, maxit=12, eps=0.025, tol=1e-13)
    np.testing.assert_array_equal(fast.status, slow.status)
    np.testing.assert_array_equal(fast.n_iter, slow.n_iter)
    np.testing.assert_allclose(fast.beta, slow.beta, rtol=0, atol=1e-10)
    np.testing.assert_allclose(fast.loglik, slow.loglik, rtol=1e-12)
    np.testing.assert_allclose(fast.loglik0, slow.loglik0, rtol=1e-12)
    # test weights shared by every resample, given once (1, n): the same fits as repeated rows
    shared = rfit.lrm_recalibration_batch(x, y, np.ones((1, len(y))), maxit=12, eps=0.025, tol=1e-13)
    rows = rfit.lrm_recalibration_batch(x, y, np.ones_like(x), maxit=12, eps=0.025, tol=1e-13)
    for name in ("beta", "loglik", "loglik0", "status", "n_iter"):
        np.testing.assert_array_equal(getattr(shared, name), getattr(rows, name))


def test_fit_batch_returns_the_final_linear_predictors(problem):
    """return_lp gives Z beta_b of the final estimates (written into the passes' buffer)."""
    Z, y, W = problem
    fits = rfit.lrm_fit_batch(Z, y, W, maxit=12, eps=0.025, tol=1e-12, final_loglik=False, return_lp=True)
    np.testing.assert_allclose(fits.lp, fits.beta @ Z.T, rtol=1e-13, atol=1e-13)
    assert rfit.lrm_fit_batch(Z, y, W, maxit=12, eps=0.025, tol=1e-12).lp is None


def test_validate_rows_equal_the_weighted_indexes(problem):
    from nomogram._sorted_indexes import lrm_validate_rows

    Z, y, W = problem
    rng = np.random.default_rng(4)
    lp = np.round(rng.normal(0, 1, (len(W), Z.shape[0])), 1)     # many ties
    lp[1, :40:2], lp[2, 1:40:2] = 35.0, -33.0                     # beyond lrmfit's clip at 30
    T = (rng.uniform(size=W.shape) > 0.3).astype(float)
    a, s = rng.normal(0, 0.2, len(W)), rng.normal(1, 0.5, len(W))
    s[:3] = -np.abs(s[:3])                                   # decreasing recalibration
    out = lrm_validate_rows(lp, y, W, T, a, s)
    p = expit(lp)
    pc = expit(a[:, None] + s[:, None] * lp)
    terms = (y * lp - np.logaddexp(0.0, lp))
    # lrmfit's log-likelihood terms (clipped linear predictor, log of p or of q = 1 - p)
    pl = 1.0 / (1.0 + np.exp(-np.clip(lp, -30.0, 30.0)))
    pcl = 1.0 / (1.0 + np.exp(-np.clip(a[:, None] + s[:, None] * lp, -30.0, 30.0)))
    ref = np.column_stack([
        weighted_somers_dxy(lp, y, W), weighted_somers_dxy(lp, y, T),
        weighted_gini_md(lp, W), weighted_gini_md(lp, T), weighted_gini_md(p, W),
        [weighted_gini_md(pc[b][None], T[b][None])[0] for b in range(len(W))],
        np.einsum("bn,bn->b", W, (y - p) ** 2), np.einsum("bn,bn->b", T, (y - p) ** 2),
        np.einsum("bn,bn->b", T, terms),
        np.einsum("bn,bn->b", W, np.log(np.where(y > 0, pl, 1.0 - pl))),
        np.einsum("bn,bn->b", T, np.log(np.where(y > 0, pcl, 1.0 - pcl))),
    ])
    np.testing.assert_allclose(out, ref, rtol=1e-11, atol=1e-12)
    # one row of test weights shared by every resample = that row repeated
    ones = np.ones((1, lp.shape[1]))
    np.testing.assert_array_equal(lrm_validate_rows(lp, y, W, ones, a, s),
                                  lrm_validate_rows(lp, y, W, np.repeat(ones, len(W), axis=0), a, s))


@pytest.mark.parametrize("case", ["normal", "ties", "constant", "clustered", "few", "infinite", "spike", "nan"])
def test_bucket_order_sorts(case):
    """The O(n) bucket sort gives a permutation whose values ascend, whatever the distribution."""
    from nomogram._sorted_indexes import bucket_order

    rng = np.random.default_rng(7)
    n = 5000
    x = {
        "normal": rng.normal(size=n),
        "ties": np.round(rng.normal(size=n), 1),
        "constant": np.full(n, 2.5),
        "clustered": np.concatenate([rng.normal(0, 1e-9, n - 10), rng.normal(0, 100, 10)]),  # buckets > 32
        "few": rng.normal(size=20),
        "infinite": np.concatenate([rng.normal(size=n - 2), [np.inf, -np.inf]]),
        "spike": np.concatenate([np.zeros(n - 100), rng.exponential(1e6, 100)]),
        "nan": np.concatenate([rng.normal(size=n - 3), [np.nan, 1.0, np.nan]]),
    }[case]
    m = len(x)
    order = np.empty(m, dtype=np.int64)
    xs = np.empty(m)
    bucket_order(x, order, xs, np.empty(m, dtype=np.int64), np.empty(m + 1, dtype=np.int64))
    np.testing.assert_array_equal(np.sort(order), np.arange(m))
    np.testing.assert_array_equal(xs, x[order])
    np.testing.assert_array_equal(xs, np.sort(x))       # NaN last, as numpy
