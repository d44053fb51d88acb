"""Models with more than one interaction, against R rms 6.5 (issue #13).

Reference: ``tests/reference/rms_interactions/rms_interactions.R`` (LI1, LI2, CI1 on
gbsg2): coefficients, variance, ``anova`` (three variants), every nomogram axis and the
points of 20 patients, compared at 1e-8 (relative; absolute 1e-10 for values near 0).
"""

import json

import numpy as np
import pandas as pd
import pytest

from nomogram import CoxNomogram, LogisticNomogram, load_model
from nomogram.points import Nomogram
from tests._reference import reference_data, reference_json, reference_matrix

RTOL, ATOL = 1e-8, 1e-10

# name -> (outcome, predictors in R's term order, estimator kwargs, nomogram kwargs)
SPECS = {
    "LI1": ("cens", ["age", "horTh", "tsize", "tgrade", "pnodes"],
            dict(splines={"age": 4}, interaction=[("age", "horTh"), ("age", "tsize")]),
            dict(interact={"tsize": [20, 35, 60]})),
    "LI2": ("cens", ["age", "horTh", "tgrade", "menostat", "pnodes"],
            dict(splines={"age": 3}, interaction=[("age", "horTh"), ("tgrade", "menostat")]),
            dict()),
    "CI1": (("time", "cens"), ["age", "horTh", "tsize", "pnodes", "tgrade"],
            dict(splines={"age": 4}, interaction=[("age", "horTh"), ("tsize", "pnodes")], times=[1095, 1825]),
            dict(interact={"pnodes": [1, 5, 10]})),
}


def _fit(name):
    outcome, predictors, kwargs, _ = SPECS[name]
    data = reference_data("gbsg2")
    X = data[predictors]
    if isinstance(outcome, tuple):
        return CoxNomogram(**kwargs).fit(X, data[list(outcome)]), X
    return LogisticNomogram(**kwargs).fit(X, data[outcome]), X


@pytest.fixture(scope="module", params=list(SPECS))
def case(request):
    model, X = _fit(request.param)
    ref = reference_json(f"rms_interactions/{request.param}.json")
    nom = model.nomogram(**SPECS[request.param][3])
    return request.param, model, X, ref, nom


def test_design_columns_are_named_as_rms(case):
    _, model, _, ref, _ = case
    assert model.design_.column_names == ref["colnames"]


def test_coefficients_and_variance(case):
    _, model, _, ref, _ = case
    assert list(model.coef_.index) == ref["coefficients"]["names"]
    np.testing.assert_allclose(model.coef_.to_numpy(), ref["coefficients"]["values"], rtol=RTOL, atol=ATOL)
    V = reference_matrix(ref["var"])
    np.testing.assert_allclose(model.cov_.to_numpy(), V.to_numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(model.loglik_, ref["loglik"], rtol=1e-12)


@pytest.mark.parametrize("variant, kwargs", [("anova", {}), ("anova_main_effect", {"main_effect": True}),
                                             ("anova_no_india", {"interaction_rows": False})])
def test_anova_rows(case, variant, kwargs):
    _, model, _, ref, _ = case
    table = model.anova(**kwargs).table
    want = ref[variant]
    assert list(table.index) == want["rownames"]
    np.testing.assert_allclose(table["Chi-Square"], want["chisq"], rtol=RTOL)
    np.testing.assert_array_equal(table["d.f."], want["df"])
    np.testing.assert_allclose(table["P"], want["P_upper"], rtol=1e-7, atol=1e-300)


def test_nomogram_axes(case):
    name, model, _, ref, nom = case
    info = ref["nomogram"]["info"]
    np.testing.assert_allclose(nom.scale, info["sc"], rtol=RTOL)
    np.testing.assert_allclose(nom.intercept, info["Intercept"], rtol=RTOL)
    r_pred = [a for a in ref["nomogram"]["axes"] if a["kind"] == "predictor"]
    py_pred = [a for a in nom.axes if a.kind == "predictor"]
    assert [a.label for a in py_pred] == [a["axis"] for a in r_pred]
    for mine, theirs in zip(py_pred, r_pred):
        # rms keeps every value; nomofuse merges runs of equal points (as plot.nomogram labels them)
        pts = nom.predictor_points(mine, theirs["values"])
        np.testing.assert_allclose(pts, theirs["points"], rtol=RTOL, atol=1e-8)
        held = {k: v for k, v in (theirs.get("held_at") or {}).items()}
        assert {k: (v if isinstance(v, str) else float(v)) for k, v in mine.condition.items()} == \
            {k: (v if isinstance(v, str) else float(v)) for k, v in held.items()}
    total = nom.axis("Total Points")
    np.testing.assert_allclose(total.values, [a for a in ref["nomogram"]["axes"] if a["kind"] == "total.points"][0]["x"])
    r_fun = [a for a in ref["nomogram"]["axes"] if a["kind"] == "fun"]
    py_fun = [a for a in nom.axes if a.kind == "outcome"]
    assert len(r_fun) == len(py_fun)
    for mine, theirs in zip(py_fun, r_fun):
        np.testing.assert_allclose(mine.values, theirs["x_real"], rtol=RTOL)
        np.testing.assert_allclose(mine.points, theirs["x"], rtol=RTOL, atol=1e-8)


def test_patient_points(case):
    _, model, X, ref, nom = case
    want = ref["points_first20"]
    pts = nom.points(X.iloc[:20])
    R = reference_matrix(want["points"])
    for col in R.columns:
        np.testing.assert_allclose(pts[col], R[col], rtol=RTOL, atol=1e-8)
    np.testing.assert_allclose(pts["Total Points"], want["total_points"], rtol=RTOL)
    np.testing.assert_allclose(pts["Linear Predictor"], want["lp"], rtol=RTOL, atol=ATOL)


def test_model_file_round_trip(case):
    _, model, X, _, nom = case
    again = load_model(model.to_json())
    assert again.design_.interactions == model.design_.interactions
    np.testing.assert_array_equal(again.decision_function(X), model.decision_function(X))
    spec = json.loads(nom.to_json())
    assert spec["version"] == 2 and len(spec["interactions"]) == 2 and "interaction" not in spec
    rebuilt = load_model(nom.to_json())
    pd.testing.assert_frame_equal(rebuilt.points(X), nom.points(X))
    pd.testing.assert_frame_equal(Nomogram.from_spec(nom.to_spec()).points(X), nom.points(X))


def test_cox_survival_of_patients():
    model, X = _fit("CI1")
    ref = reference_json("rms_interactions/CI1.json")
    np.testing.assert_allclose(model.center_, ref["center"], rtol=RTOL)
    S = model.predict_survival(X.iloc[:20], ref["survest_first20"]["times"]).to_numpy()
    np.testing.assert_allclose(S, np.array(ref["survest_first20"]["surv"], dtype=float), rtol=1e-8)


def test_one_interaction_files_keep_version_1():
    data = reference_data("gbsg2")
    model = LogisticNomogram(splines={"age": 4}, interaction=("age", "horTh")).fit(
        data[["age", "horTh", "pnodes"]], data["cens"])
    d = json.loads(model.to_json())
    assert d["design"]["interaction"] == ["age", "horTh"] and "interactions" not in d["design"]
    assert d["params"]["interaction"] == ["age", "horTh"]
    spec = model.nomogram().to_spec()
    assert spec["version"] == 1 and spec["interaction"]["predictors"] == ["age", "horTh"]


def test_interaction_errors_name_the_problem():
    data = reference_data("gbsg2")
    X = data[["age", "horTh", "tsize"]]
    with pytest.raises(ValueError, match="given twice"):
        LogisticNomogram(interaction=[("age", "horTh"), ("horTh", "age")]).fit(X, data["cens"])
    with pytest.raises(ValueError, match="no column"):
        LogisticNomogram(interaction=[("age", "horTh"), ("age", "grade")]).fit(X, data["cens"])
    with pytest.raises(ValueError, match="pair of column names"):
        LogisticNomogram(interaction=["age"]).fit(X, data["cens"])
    model = LogisticNomogram(interaction=[("age", "horTh"), ("age", "tsize")]).fit(X, data["cens"])
    with pytest.raises(ValueError, match="interact="):
        model.nomogram()
