"""validate/calibrate of stratified Cox models (rms ``cph(... + strat(g))``) against rms 6.5 (issue #13).

R: tests/reference/rms_strata_validate/rms_strata_validate.R. SV1: gbsg2, strat(tgrade), u = 1095
days; SV2: 200 patients on whole months (heavy ties) with a stratum of 8 patients and one event, so
a bootstrap sample often has that stratum without an event (its survival is 1) and sometimes its
follow-up ends before u = 24 (its patients are then left out of Dxy). The tests replay rms's own
resamples (R's random stream, tests/_r_random.py): every column of the validate table (bootstrap,
.632, 10-fold cross-validation) and of calibrate(cmethod="KM") equals R's at 1e-8, with the same
counts of kept resamples.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from nomogram import CoxNomogram, StatisticalWarning, calibrate, validate
from nomogram import _refit as rfit
from nomogram import _resample as rsm
from nomogram._cph_fit import fit_cox
from nomogram.calibration import _calibrate_on_plan
from nomogram.validation import COX_INDEXES, _validate_on_plan, strata_codes
from tests._r_random import r_bootstrap_plan, r_crossvalidation_plan
from tests._reference import reference_csv, reference_data

ATOL = 1e-8
TABLE = ["index.orig", "training", "test", "optimism", "index.corrected"]
CAL = ["index.orig", "training", "test", "mean.optimism", "mean.corrected", "mean.predicted", "KM",
       "KM.corrected", "std.err"]


def _ref(name):
    return reference_csv(f"rms_strata_validate/{name}")


@pytest.fixture(scope="module")
def cases():
    g = reference_data("gbsg2")
    sc = _ref("strata_sparse_cox.csv")
    X1, X2 = g[["age", "horTh", "pnodes", "tgrade"]], sc[["age", "rad_score", "site"]]
    return {
        "SV1": (CoxNomogram(splines={"age": 4}, strata="tgrade").fit(X1, g[["time", "cens"]]), X1,
                g[["time", "cens"]], 1095.0, 150),
        "SV2": (CoxNomogram(splines={"age": 3}, strata="site").fit(X2, sc[["months", "event"]]), X2,
                sc[["months", "event"]], 24.0, 50),
    }


def _plan(call, n, seed, B):
    if call == "crossvalidation":
        return r_crossvalidation_plan(n, B, seed)
    return r_bootstrap_plan(n, B, seed, method=call)


RUNS = [tuple(k) for k in _ref("validate_exact.csv")[["model", "call", "seed", "B"]].drop_duplicates().to_numpy()]


@pytest.mark.parametrize("model_name,call,seed,B", RUNS)
def test_validate_on_rms_resamples_equals_rms(cases, model_name, call, seed, B):
    r = _ref("validate_exact.csv")
    r = r[(r["model"] == model_name) & (r["call"] == call) & (r["seed"] == seed)].set_index("index")
    model, X, y, u, _ = cases[model_name]
    v = _validate_on_plan(model, X, y, _plan(call, len(X), int(seed), int(B)), 0.95, horizon=u)
    np.testing.assert_array_equal(v.table["n"].to_numpy(), r.loc[COX_INDEXES, "n"].to_numpy())
    np.testing.assert_allclose(v.table[TABLE].to_numpy(), r.loc[COX_INDEXES, TABLE].to_numpy(), rtol=0, atol=ATOL)
    assert v.n_failed == r["failed"].iloc[0]


@pytest.mark.parametrize("seed", [1, 2])
def test_sparse_stratum_paths_are_exercised(cases, seed):
    """SV2's replayed bootstrap samples hold stratum C without its event, and C's follow-up ending before u."""
    model, X, y, u, _ = cases["SV2"]
    plan = r_bootstrap_plan(len(X), 200, seed)
    C = (X["site"] == "C").to_numpy()
    ev = y["event"].to_numpy() == 1
    assert (plan.train[:, C & ev].sum(axis=1) == 0).sum() > 30
    last = np.where(plan.train[:, C] > 0, y["months"].to_numpy()[C], -1).max(axis=1)
    assert ((last >= 0) & (last < u)).any()


@pytest.mark.parametrize("model_name", ["SV1", "SV2"])
@pytest.mark.parametrize("seed", [1, 2])
def test_calibrate_km_on_rms_resamples_equals_rms(cases, model_name, seed):
    r = _ref("calibrate_exact.csv")
    r = r[(r["model"] == model_name) & (r["seed"] == seed)]
    model, X, y, u, m = cases[model_name]
    c = _calibrate_on_plan(model, X, y, r_bootstrap_plan(len(X), 200, seed), horizon=u, m=m)
    np.testing.assert_array_equal(c.table["n"].to_numpy(), r["n"].to_numpy())
    np.testing.assert_allclose(c.table[CAL].to_numpy(), r[CAL].to_numpy(), rtol=0, atol=ATOL)
    assert c.n_failed == r["failed"].iloc[0]


def test_batched_stratified_likelihood_equals_the_fit_on_copied_rows(cases):
    """A bootstrap refit (frequency weights) equals fit_cox with strata on the copied rows."""
    model, X, y, _, _ = cases["SV2"]
    time, event = y["months"].to_numpy(float), y["event"].to_numpy(float)
    codes = strata_codes(model, X, "test")
    Xd = model.design_matrix(X)
    rs = rsm.CoxRiskSetsBatch(time, event, codes)
    Xs = (Xd - model.means_.to_numpy())[rs.order]
    ll, _, _ = rsm.cox_loglik_terms(rs, Xs, np.ones((1, len(X))), model.coef_.to_numpy()[None], "efron")
    np.testing.assert_allclose(ll[0], model.loglik_[1], rtol=1e-12)
    plan = r_bootstrap_plan(len(X), 3, 7)
    W = plan.train[:, rs.order]
    beta, _, _, conv = rsm.cox_newton_batch(rs, Xs, W, init=model.coef_.to_numpy())
    assert conv.all()
    for b in range(3):
        rows = np.asarray(plan.train_index[b])
        ref = fit_cox(Xd[rows], time[rows], event[rows], strata=codes[rows], eps=1e-12, max_iter=50)
        np.testing.assert_allclose(beta[b], ref.coef, rtol=1e-7, atol=1e-9)
        l, g, info = rsm.cox_loglik_terms(rs, Xs, W[b:b + 1], ref.coef[None], "efron")
        np.testing.assert_allclose(l[0], ref.loglik + 0.0, rtol=1e-10)
        np.testing.assert_allclose(np.linalg.inv(info[0]), ref.cov, rtol=1e-6)


def test_batched_baseline_survival_equals_the_models(cases):
    """With unit weights the batched stratum curves are the model's (R-verified) baseline survival."""
    model, X, y, _, _ = cases["SV1"]
    time, event = y["time"].to_numpy(float), y["cens"].to_numpy(float)
    rs = rsm.CoxRiskSetsBatch(time, event, strata_codes(model, X, "test"))
    lp = (model.design_matrix(X) @ model.coef_.to_numpy())[rs.order]
    for u in (365.0, 1095.0, 1825.0):
        surv, center = rsm.cox_baseline_survival_at(rs, lp[None], np.ones((1, len(X))), u, "efron")
        np.testing.assert_allclose(center[0], model.center_, rtol=1e-12)
        expected = [model.survival_at([0.0], [u], stratum=s)[0, 0] for s in model.strata_levels_]
        np.testing.assert_allclose(surv[0], expected, rtol=1e-12)


def test_public_verbs_and_aliases(cases):
    model, X, y, u, _ = cases["SV2"]
    v = validate(model, X, y, n_boot=20, random_state=3, horizon=u)
    v2 = validate(model, X, y, B=20, random_state=3, u=u)
    pd.testing.assert_frame_equal(v.table, v2.table)
    assert list(v.table.index) == COX_INDEXES and np.isfinite(v.table["index.corrected"]).all()
    c = calibrate(model, X, y, n_boot=10, random_state=3, horizon=u, m=50)
    assert np.isfinite(c.table["KM.corrected"]).all()
    s = calibrate(model, X, y, n_boot=5, random_state=3, horizon=u, cmethod="spline")
    assert len(s.table) == 50


def test_horizon_is_required_for_strata_and_refused_without(cases):
    model, X, y, _, _ = cases["SV2"]
    with pytest.raises(ValueError, match="stratified.*horizon="):
        validate(model, X, y, n_boot=5, random_state=0)
    plain = CoxNomogram(splines={"age": 3}).fit(X[["age", "rad_score"]], y)
    with pytest.raises(ValueError, match="only for a stratified Cox model"):
        validate(plain, X, y, n_boot=5, random_state=0, horizon=24)
    with pytest.raises(ValueError, match="beyond the last follow-up time of stratum"):
        calibrate(model, X, y, n_boot=5, random_state=0, horizon=50)


def test_a_training_sample_without_a_stratum_is_left_out_by_cause(cases):
    model, X, y, u, _ = cases["SV2"]
    plan = r_bootstrap_plan(len(X), 12, 1)
    C = (X["site"] == "C").to_numpy()
    other = np.flatnonzero(~C)
    for b in (0, 5):                       # move stratum C's draws onto other patients
        plan.train[b, other[0]] += plan.train[b, C].sum()
        plan.train[b, C] = 0.0
    with pytest.warns(StatisticalWarning, match="2 stratum absent"):
        v = _validate_on_plan(model, X, y, plan, 0.95, horizon=u)
    assert v.n_failed == 2 and v.failures.loc["stratum absent", "n"] == 2
    assert (v.table["n"] == 10).all()
    with pytest.warns(StatisticalWarning, match="stratum absent"):
        c = _calibrate_on_plan(model, X, y, plan, horizon=u, m=50)
    assert c.n_failed == 2
    assert rfit.FAILURE_CAUSES[rfit.STRATUM_ABSENT][0] == "stratum absent"
