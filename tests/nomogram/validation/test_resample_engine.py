"""The batched engine equals the one-at-a-time fitters on copied rows (what R's bootstrap does)."""

import numpy as np
import pytest

from nomogram import _resample as rsm
from nomogram._cph_fit import _efron_terms, _RiskSets, fit_cox
from nomogram._indexes import binned_c_index, gini_mean_difference, weighted_gini_md, weighted_somers_dxy
from nomogram._lrm_fit import fit_logistic

from .conftest import COX_COLUMNS, LOGISTIC_COLUMNS


@pytest.fixture(scope="module")
def boot_rows(gbsg2):
    rng = np.random.default_rng(5)
    return [rng.integers(0, len(gbsg2), len(gbsg2)) for _ in range(3)]


def _counts(idx, n):
    return np.bincount(idx, minlength=n).astype(float)


def test_logistic_batch_equals_fit_on_copies(gbsg2, logistic_model, boot_rows):
    X = logistic_model.design_matrix(gbsg2[LOGISTIC_COLUMNS])
    y = gbsg2["cens"].to_numpy(float)
    n = len(y)
    Z = np.column_stack([np.ones(n), X])
    W = np.stack([_counts(i, n) for i in boot_rows])
    beta, ll, conv, _ = rsm.logistic_newton_batch(Z, y, W, init=logistic_model.coef_.to_numpy())
    assert conv.all()
    for b, idx in enumerate(boot_rows):
        ref = fit_logistic(X[idx], y[idx])
        np.testing.assert_allclose(beta[b], ref.coef, rtol=0, atol=1e-7)
        assert ll[b] == pytest.approx(ref.loglik, abs=1e-8)


def test_cox_batch_equals_fit_on_copies(gbsg2, cox_model, boot_rows):
    """Efron ties among copied deaths, exactly as coxph on the copied rows."""
    X = cox_model.design_matrix(gbsg2[COX_COLUMNS])
    Xc = X - cox_model.means_.to_numpy()
    time = gbsg2["time"].to_numpy(float)
    event = gbsg2["cens"].to_numpy(float)
    n = len(time)
    rs = rsm.CoxRiskSetsBatch(time, event)
    W = np.stack([_counts(i, n) for i in boot_rows])[:, rs.order]
    beta, ll, ll0, conv = rsm.cox_newton_batch(rs, Xc[rs.order], W, init=cox_model.coef_.to_numpy())
    assert conv.all()
    for b, idx in enumerate(boot_rows):
        ref = fit_cox(X[idx], time[idx], event[idx], ties="efron")
        np.testing.assert_allclose(beta[b], ref.coef, rtol=0, atol=1e-6)
        assert ll[b] == pytest.approx(ref.loglik, abs=1e-7)
        assert ll0[b] == pytest.approx(ref.loglik_null, abs=1e-7)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("stratified", [False, True])
def test_cox_loglik_terms_equal_copied_rows(gbsg2, cox_model, boot_rows, ties, stratified):
    """The compiled pass (frequency weights, strata reset) equals the numpy likelihood of the copied rows."""
    X = cox_model.design_matrix(gbsg2[COX_COLUMNS])
    Xc = X - cox_model.means_.to_numpy()
    time = gbsg2["time"].to_numpy(float)
    event = gbsg2["cens"].to_numpy(float)
    n = len(time)
    strata = np.random.default_rng(7).integers(0, 3, n) if stratified else None
    rs = rsm.CoxRiskSetsBatch(time, event, strata)
    W = np.stack([_counts(i, n) for i in boot_rows])[:, rs.order]
    beta = cox_model.coef_.to_numpy() * np.array([[0.5], [1.0], [1.5]])
    ll, grad, info = rsm.cox_loglik_terms(rs, Xc[rs.order], W, beta, ties)
    ll2, grad2, _ = rsm.cox_loglik_terms(rs, Xc[rs.order], W, beta[1:], ties, need_info=False, rows=np.array([1, 2]))
    np.testing.assert_allclose(ll2, ll[1:], rtol=1e-13)
    np.testing.assert_allclose(grad2, grad[1:], rtol=1e-12, atol=1e-10)
    for b, idx in enumerate(boot_rows):
        ref = _RiskSets(Xc[idx], time[idx], event[idx], np.ones(n), None if strata is None else strata[idx])
        l0, g0, i0 = _efron_terms(ref, ref.X @ beta[b], ties)
        assert ll[b] == pytest.approx(l0, rel=1e-12)
        np.testing.assert_allclose(grad[b], g0, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(info[b], i0, rtol=1e-9, atol=1e-9)


def test_cox_slope_batch_equals_one_covariate_fit(gbsg2, cox_model):
    time = gbsg2["time"].to_numpy(float)
    event = gbsg2["cens"].to_numpy(float)
    rs = rsm.CoxRiskSetsBatch(time, event)
    lp = cox_model.decision_function(gbsg2[COX_COLUMNS])
    x = np.stack([lp, 0.5 * lp + 0.1 * gbsg2["age"].to_numpy()])[:, rs.order]
    slope, l0, ls, l1 = rsm.cox_slope_batch(rs, x, np.ones_like(x))
    # (R: coef(coxph(Surv(time, cens) ~ fC$linear.predictors)) = 0.999176376664, not exactly 1)
    assert slope[0] == pytest.approx(0.999176376664, abs=1e-8)
    for b in range(2):
        ref = fit_cox(x[b][:, None], time[rs.order], event[rs.order])
        assert slope[b] == pytest.approx(ref.coef[0], abs=1e-7)
        assert ls[b] == pytest.approx(ref.loglik, abs=1e-8)
        assert l0[b] == pytest.approx(ref.loglik_null, abs=1e-8)
        assert l1[b] == pytest.approx(_loglik_at_one(x[b], time[rs.order], event[rs.order]), abs=1e-8)


def _loglik_at_one(x, time, event):
    """Efron log partial likelihood of the offset x (coefficient fixed at 1), by brute force."""
    ll = 0.0
    for t in np.unique(time[event == 1]):
        dead = (time == t) & (event == 1)
        d = dead.sum()
        risk = np.exp(x[time >= t]).sum()
        dsum = np.exp(x[dead]).sum()
        ll += x[dead].sum() - sum(np.log(risk - k / d * dsum) for k in range(d))
    return ll


def _pairwise_c(x, y):
    """Concordance probability of x with a 0/1 outcome by brute force over (event, non-event) pairs."""
    d = x[y == 1][:, None] - x[y == 0][None, :]
    return (np.sum(d > 0) + 0.5 * np.sum(d == 0)) / d.size


def test_weighted_indexes_equal_pairwise_definitions_on_copies(gbsg2, boot_rows):
    y = gbsg2["cens"].to_numpy(float)
    n = len(y)
    rng = np.random.default_rng(1)
    x = np.round(rng.normal(size=n), 1)                    # many ties
    for idx in boot_rows:
        w = _counts(idx, n)
        xc = x[idx]
        gmd = np.abs(xc[:, None] - xc[None, :]).sum() / (len(xc) * (len(xc) - 1))
        assert weighted_gini_md(x[None], w[None])[0] == pytest.approx(gmd, rel=1e-12)
        assert gini_mean_difference(xc) == pytest.approx(gmd, rel=1e-12)
        dxy = weighted_somers_dxy(x[None], y, w[None])[0]
        assert dxy == pytest.approx(2 * _pairwise_c(xc, y[idx]) - 1, rel=1e-12)
    p = 1 / (1 + np.exp(-x))
    assert binned_c_index(p, y) == pytest.approx(_pairwise_c(np.floor(5000 * p + 1), y), rel=1e-12)


def test_weighted_cox_dxy_equals_pairwise_definition(gbsg2, boot_rows):
    """Brute-force Harrell C on the copied rows (usable pairs: shorter time is an event;
    a censoring at an event time counts as later; tied event times are not used)."""
    time = gbsg2["time"].to_numpy(float)[:200]
    event = gbsg2["cens"].to_numpy(float)[:200]
    x = np.round(gbsg2["pnodes"].to_numpy(float)[:200] / 3)
    idx = boot_rows[0][boot_rows[0] < 200]
    t, e, s = time[idx], event[idx], x[idx]
    conc = tot = 0.0
    for i in range(len(t)):
        if not e[i]:
            continue
        usable = (t > t[i]) | ((t == t[i]) & (e == 0))
        tot += usable.sum()
        conc += np.sum(usable & (s < s[i])) + 0.5 * np.sum(usable & (s == s[i]))
    rs = rsm.CoxRiskSetsBatch(time, event)
    w = np.bincount(idx, minlength=200).astype(float)
    got = rsm.weighted_cox_dxy(x[rs.order][None], rs, w[rs.order][None])[0]
    assert got == pytest.approx(2 * conc / tot - 1, rel=1e-12)


def test_resample_plan_shapes():
    rng = np.random.default_rng(0)
    p = rsm.resample_plan("boot", 50, 4, rng)
    assert p.train.shape == (4, 50) and (p.train.sum(axis=1) == 50).all() and (p.test == 1).all()
    p = rsm.resample_plan("crossvalidation", 50, 5, rng)
    assert (p.test.sum(axis=0) == 1).all() and (p.train + p.test == 1).all()
    p = rsm.resample_plan(".632", 50, 40, rng)
    assert np.array_equal(p.test, (p.train == 0).astype(float))
    assert p.weights_632.sum() == pytest.approx(1.0)


def _dxy_all_pairs(x, rs, w):
    """Weighted Dxy from every (resample, death, patient) triple at once: the O(n^2) definition."""
    t, ev, dr = rs.time, rs.event, rs.death_rows
    later = (t[None, :] > t[dr][:, None]) | ((t[None, :] == t[dr][:, None]) & (ev[None, :] == 0))
    xd, xo = x[:, dr][:, :, None], x[:, None, :]
    wp = w[:, None, :] * later[None]
    conc = np.sum(wp * (xo < xd), axis=2) + 0.5 * np.sum(wp * (xo == xd), axis=2)
    wd = w[:, dr]
    return 2.0 * np.sum(wd * conc, axis=1) / np.sum(wd * np.sum(wp, axis=2), axis=1) - 1.0


def test_weighted_cox_dxy_equals_all_pairs_and_copied_rows(gbsg2, cox_model, boot_rows):
    from nomogram._indexes import harrell_c_survival

    time = gbsg2["time"].to_numpy(float)
    event = gbsg2["cens"].to_numpy(float)
    rs = rsm.CoxRiskSetsBatch(time, event)
    lp = cox_model.decision_function(gbsg2[COX_COLUMNS])[rs.order]
    W = np.stack([_counts(i, len(time)) for i in boot_rows])[:, rs.order]
    x = np.stack([lp, np.round(lp, 1), -lp])
    a = rsm.weighted_cox_dxy(x, rs, W)
    np.testing.assert_allclose(a, _dxy_all_pairs(x, rs, W), rtol=0, atol=1e-12)
    for b in range(len(x)):
        rows = np.repeat(np.arange(len(time)), W[b].astype(np.int64))
        want = 2.0 * harrell_c_survival(rs.time[rows], rs.event[rows], x[b, rows]) - 1.0
        assert a[b] == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("n", [7, 4096, 4097, 10_000])
def test_weighted_gram_equals_direct_products(n):
    """Z' diag(v_b) Z by blocks of patients (partial last block included) = the direct sum."""
    rng = np.random.default_rng(n)
    Z = rng.normal(size=(n, 5))
    v = rng.random((3, n))
    got = rsm.WeightedGram(Z)(v)
    np.testing.assert_allclose(got, np.einsum("bn,ni,nj->bij", v, Z, Z), rtol=1e-12)
    np.testing.assert_array_equal(got, np.swapaxes(got, 1, 2))
