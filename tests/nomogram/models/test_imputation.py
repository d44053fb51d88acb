"""Multiple imputation and Rubin's rules against rms ``fit.mult.impute`` (issue #13).

The five completed datasets in ``tests/reference/imputation`` were written by
``make_imputations.py`` (nomofuse's chained-equations imputation of gbsg2 with values
removed); ``imputation_reference.R`` fitted lrm and cph on each and pooled them with
fit.mult.impute's formulas. Pooled coefficients, total variance, between/within,
variance inflation, fraction of missing information and Rubin's d.f. agree at 1e-8.
"""

import numpy as np
import pandas as pd
import pytest

from nomogram import CoxNomogram, LogisticNomogram
from nomogram.imputation import fit_mult_impute, impute_datasets
from tests._reference import reference_csv, reference_data, reference_json

RTOL = 1e-8
COLS = ["age", "tsize", "pnodes", "horTh", "tgrade"]


@pytest.fixture(scope="module")
def completed():
    sets = [reference_csv(f"imputation/gbsg2_imputed_{k}.csv") for k in range(1, 6)]
    return sets, sets[0][["time", "cens"]]


@pytest.mark.parametrize("kind", ["lrm", "cph"])
def test_pooling_matches_fit_mult_impute(completed, kind):
    sets, y = completed
    ref = reference_json("imputation/pooled_reference.json")
    want = ref[kind]
    if kind == "lrm":
        res = fit_mult_impute(LogisticNomogram(splines={"age": 4}), None, y["cens"], datasets=[d[COLS] for d in sets])
    else:
        res = fit_mult_impute(CoxNomogram(splines={"age": 4}, times=[1095]), None, y,
                              datasets=[d[COLS] for d in sets])
    # R read the knots from knots.json (the meta block echoes them to 15 digits)
    assert res.fits[0].design_.term("age").knots == reference_json("imputation/knots.json")["age"]
    np.testing.assert_allclose(res.fits[0].design_.term("age").knots, ref["meta"]["knots"], rtol=1e-14)
    assert all(f.design_ is res.fits[0].design_ for f in res.fits[1:])
    for fit, coef in zip(res.fits, want["per_imputation_coef"]):
        np.testing.assert_allclose(fit.coef_.to_numpy(), coef, rtol=RTOL)
    model = res.model
    np.testing.assert_allclose(model.coef_.to_numpy(), want["coef"], rtol=RTOL)
    np.testing.assert_allclose(model.cov_.to_numpy(), np.array(want["var"]["values"]), rtol=RTOL)
    np.testing.assert_allclose(res.pooled["within"], np.diag(np.array(want["within"]["values"])), rtol=RTOL)
    np.testing.assert_allclose(res.pooled["between"], np.diag(np.array(want["between"]["values"])), rtol=RTOL)
    np.testing.assert_allclose(res.pooled["variance_inflation"], want["variance_inflation"], rtol=RTOL)
    np.testing.assert_allclose(res.pooled["missing_information"], want["missing_information"], rtol=RTOL)
    np.testing.assert_allclose(res.pooled["df"], want["dfmi"], rtol=RTOL)
    # the nomogram is drawn from the pooled fit
    nom = model.nomogram()
    pts = nom.points(sets[0][COLS].iloc[:10])
    np.testing.assert_allclose(pts["Linear Predictor"], model.decision_function(sets[0][COLS].iloc[:10]), atol=1e-10)


def test_impute_datasets_draws_differ_and_keep_observed_values():
    data = reference_data("gbsg2")
    X = data[COLS].astype({"age": float, "tsize": float, "pnodes": float})
    rng = np.random.default_rng(1)
    miss = rng.random(len(X)) < 0.2
    X.loc[miss, "age"] = np.nan
    sets = impute_datasets(X, data["cens"], m=3, random_state=0)
    assert len(sets) == 3 and not any(d.isna().any().any() for d in sets)
    for d in sets:
        pd.testing.assert_frame_equal(d.loc[~miss], X.loc[~miss])
    assert not np.allclose(sets[0].loc[miss, "age"], sets[1].loc[miss, "age"])
    again = impute_datasets(X, data["cens"], m=3, random_state=0)
    pd.testing.assert_frame_equal(again[2], sets[2])


def test_end_to_end_and_validation_on_one_imputation():
    data = reference_data("gbsg2")
    X = data[COLS].astype({"age": float, "tsize": float, "pnodes": float})
    X.loc[np.random.default_rng(2).random(len(X)) < 0.1, "tsize"] = np.nan
    res = fit_mult_impute(LogisticNomogram(splines={"age": 3}), X, data["cens"], m=3, random_state=3)
    assert (res.pooled["missing_information"].between(0, 1)).all()
    v = res.validate(0, n_boot=10, random_state=0)
    assert np.isfinite(v.summary().loc["Dxy", "index.corrected"])


def test_errors_name_the_problem():
    data = reference_data("gbsg2")
    X = data[COLS].astype({"age": float})
    with pytest.raises(ValueError, match="no missing value"):
        impute_datasets(X, data["cens"], m=2)
    X2 = X.astype({"horTh": object})
    X2.loc[0, "horTh"] = None
    X2.loc[1, "age"] = np.nan
    with pytest.raises(ValueError, match="categorical column"):
        impute_datasets(X2, data["cens"], m=2)
    with pytest.raises(ValueError, match="'m' parameter"):
        impute_datasets(X.assign(age=np.nan), m=1)


def test_a_text_outcome_is_checked_before_imputing():
    from lifelines.datasets import load_gbsg2

    from nomogram import LogisticNomogram, fit_mult_impute

    d = load_gbsg2()
    X = d[["age", "tsize", "pnodes"]].astype(float)
    X.loc[X.index % 5 == 0, "pnodes"] = np.nan
    text = d["cens"].map({0: "no", 1: "Yes"})
    with pytest.raises(ValueError, match="event_level"):
        fit_mult_impute(LogisticNomogram(), X, text)
    coded = fit_mult_impute(LogisticNomogram(event_level="Yes"), X, text, random_state=1)
    plain = fit_mult_impute(LogisticNomogram(), X, d["cens"], random_state=1)
    np.testing.assert_array_equal(coded.model.coef_, plain.model.coef_)
