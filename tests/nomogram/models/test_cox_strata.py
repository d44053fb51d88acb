"""Stratified Cox models (rms ``cph(... + strat(g))``) against R rms 6.5 (issue #13).

Reference: ``tests/reference/rms_strata/rms_strata.R`` (CS1: one stratification factor
with three strata; CS2: two factors, four strata). Coefficients, variance, log-likelihoods,
score test, model statistics, each stratum's baseline survival, ``survest`` (survival,
standard error, limits) of 20 patients at three times and the nomogram's survival axes
(one per stratum and time) are compared at 1e-8.
"""

import json

import numpy as np
import pandas as pd
import pytest

from nomogram import CoxNomogram, calibrate, load_model, validate
from nomogram._survival import RiskSets
from nomogram._cph_fit import fit_cox
from tests._reference import reference_data, reference_json, reference_matrix

RTOL, ATOL = 1e-8, 1e-10

SPECS = {
    "CS1": (["age", "horTh", "pnodes", "tgrade"], dict(splines={"age": 4}, strata="tgrade")),
    "CS2": (["age", "tsize", "menostat", "horTh"], dict(splines={"age": 3}, strata=["menostat", "horTh"])),
}


def _fit(name):
    cols, kwargs = SPECS[name]
    data = reference_data("gbsg2")
    X = data[cols]
    return CoxNomogram(times=[1095, 1825], **kwargs).fit(X, data[["time", "cens"]]), X


@pytest.fixture(scope="module", params=list(SPECS))
def case(request):
    model, X = _fit(request.param)
    return request.param, model, X, reference_json(f"rms_strata/{request.param}.json")


def test_strata_are_named_and_ordered_as_rms(case):
    _, model, _, ref = case
    assert model.strata_levels_ == ref["strata"]
    assert list(model.feature_names_in_[-len(model.strata_columns_):]) == model.strata_columns_


def test_fit_matches_cph(case):
    _, model, _, ref = case
    assert list(model.coef_.index) == ref["coefficients"]["names"]
    np.testing.assert_allclose(model.coef_, ref["coefficients"]["values"], rtol=RTOL)
    np.testing.assert_allclose(model.cov_.to_numpy(), reference_matrix(ref["var"]).to_numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(model.loglik_, ref["loglik"], rtol=1e-12)
    np.testing.assert_allclose(model.stats_["Score"], ref["score"], rtol=RTOL)
    np.testing.assert_allclose(model.center_, ref["center"], rtol=RTOL)
    for key in ("Model L.R.", "R2", "Dxy", "g", "gr"):
        np.testing.assert_allclose(model.stats_[key], ref["stats"][key], rtol=RTOL)
    lp = model.decision_function(reference_data("gbsg2"))
    np.testing.assert_allclose(lp, ref["linear_predictors"], rtol=RTOL, atol=ATOL)


def test_baseline_survival_of_every_stratum(case):
    _, model, _, ref = case
    base = ref["baseline"]
    times, surv, strata = (np.asarray(base[k]) for k in ("time", "surv", "strata"))
    for lab in model.strata_levels_:
        mine = model.survival_at(0.0, times[strata == lab], stratum=lab)[0]
        np.testing.assert_allclose(mine, surv[strata == lab], rtol=RTOL, atol=ATOL)
        # past the stratum's own follow-up survival is undefined
        assert np.isnan(model.survival_at(0.0, [model.stratum_max_time_[lab] + 1], stratum=lab)[0, 0])


def test_survest_per_stratum(case):
    _, model, X, ref = case
    want = ref["survest_first20"]
    est = model.survest(X.iloc[:20], want["times"])
    k = len(want["times"])
    for col, key in (("survival", "surv"), ("std_err", "std_err"), ("lower", "lower"), ("upper", "upper")):
        np.testing.assert_allclose(est[col].to_numpy().reshape(20, k), reference_matrix(want[key]).to_numpy(),
                                   rtol=RTOL, atol=ATOL)
    S = model.predict_survival(X.iloc[:20], want["times"]).to_numpy()
    np.testing.assert_allclose(S, reference_matrix(want["surv"]).to_numpy(), rtol=RTOL)


def test_nomogram_has_one_survival_axis_per_stratum_and_time(case):
    _, model, X, ref = case
    nom = model.nomogram()
    info = ref["nomogram"]
    np.testing.assert_allclose(nom.scale, info["sc"], rtol=RTOL)
    np.testing.assert_allclose(nom.intercept, info["Intercept"], rtol=RTOL)
    r_fun = [a for a in info["axes"] if "x_real" in a]
    py_fun = [a for a in nom.axes if a.kind == "outcome"]
    assert [a.label for a in py_fun] == info["funlabel"] == [a["axis"] for a in r_fun]
    for mine, theirs in zip(py_fun, r_fun):
        np.testing.assert_allclose(mine.values, theirs["x_real"], rtol=RTOL)
        np.testing.assert_allclose(mine.points, theirs["x"], rtol=RTOL, atol=1e-8)
    r_pred = [a for a in info["axes"] if "points" in a]
    assert [a.label for a in nom.axes if a.kind == "predictor"] == [a["axis"] for a in r_pred]
    # a patient's survival on their own stratum's axis is predict_survival
    pts = nom.points(X.iloc[:20])
    strata = model.stratum_of(X.iloc[:20])
    S = model.predict_survival(X.iloc[:20], [1095]).to_numpy()[:, 0]
    own = [pts[f"S(1095) {s}"].iloc[i] for i, s in enumerate(strata)]
    np.testing.assert_allclose(own, S, rtol=1e-12)


def test_model_file_round_trip(case):
    _, model, X, _ = case
    again = load_model(model.to_json())
    assert again.strata_levels_ == model.strata_levels_
    pd.testing.assert_frame_equal(again.survest(X, [365, 1095]), model.survest(X, [365, 1095]))
    spec = json.loads(model.nomogram().to_json())
    assert {o["stratum"] for o in spec["outcomes"]} == set(model.strata_levels_)
    pd.testing.assert_frame_equal(load_model(model.nomogram().to_json()).points(X), model.nomogram().points(X))


def test_risk_sets_of_one_stratum_equal_the_unstratified_fit_on_it():
    data = reference_data("gbsg2")
    X = data[["age", "pnodes"]].to_numpy(float)
    t, e = data["time"].to_numpy(float), data["cens"].to_numpy(float)
    g = (data["horTh"] == "yes").to_numpy().astype(int)
    both = fit_cox(X, t, e, strata=g)
    # the stratified log-likelihood is the sum of the strata's at the same coefficients
    from nomogram._cph_fit import _RiskSets, _efron_terms

    ll = sum(_efron_terms(_RiskSets(X[g == k] - both.means, t[g == k], e[g == k], np.ones((g == k).sum())),
                          (X[g == k] - both.means)[RiskSets(t[g == k], e[g == k]).order] @ both.coef, "efron")[0]
             for k in (0, 1))
    np.testing.assert_allclose(ll, both.loglik, rtol=1e-12)


def test_errors_name_the_problem():
    model, X = _fit("CS1")
    with pytest.raises(ValueError, match="stratum"):
        model.survival_at([0.0], [1000])
    with pytest.raises(ValueError, match="not in the training data"):
        model.predict_survival(X.assign(tgrade="IV").iloc[:3], [1000])
    data = reference_data("gbsg2")
    # validate/calibrate work on stratified models (tests/nomogram/validation/test_strata_validation.py);
    # validate needs the horizon at which Dxy ranks survival, as rms validate.cph(u=)
    with pytest.raises(ValueError, match="stratified.*horizon="):
        validate(model, X, data[["time", "cens"]], n_boot=5, random_state=0)
    with pytest.raises(ValueError, match="horizon="):
        calibrate(model, X, data[["time", "cens"]], n_boot=5, random_state=0)
    with pytest.raises(ValueError, match="strata"):
        CoxNomogram(strata="grade").fit(X, data[["time", "cens"]])
