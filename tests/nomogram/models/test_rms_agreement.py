"""Coefficients, statistics, nomogram points and survival agree with R rms 6.5.

References are produced by ``tests/reference/rms_models.R`` (see the README
there); tolerances are those the project promises: coefficients rtol 1e-6,
nomogram points 0.01, survival 1e-4.
"""

import numpy as np
import pandas as pd
import pytest

from tests._reference import reference_matrix

COEF_RTOL = 1e-9  # the issue promises 1e-6; iterating as rms does gives ~1e-13
POINTS_ATOL = 0.01
SURV_ATOL = 1e-4


def _ref_coef(ref):
    return pd.Series(ref["coefficients"]["values"], index=ref["coefficients"]["names"])


def test_coefficient_names_and_values(fitted):
    name, model, X, data, ref = fitted
    expected = _ref_coef(ref)
    assert list(model.coef_.index) == list(expected.index)
    np.testing.assert_allclose(model.coef_.to_numpy(), expected.to_numpy(), rtol=COEF_RTOL, atol=1e-10)


def test_variance_matrix(fitted):
    name, model, X, data, ref = fitted
    expected = reference_matrix(ref["var"])
    np.testing.assert_allclose(model.cov_.to_numpy(), expected.to_numpy(), rtol=1e-5, atol=1e-12)


def test_knots_match_rcspline_eval(fitted):
    name, model, X, data, ref = fitted
    for term in model.design_.terms:
        if term.kind == "rcs":
            np.testing.assert_allclose(term.knots, ref["design"]["parms"][term.name], rtol=1e-12)


def test_model_statistics(fitted):
    name, model, X, data, ref = fitted
    rs = ref["stats"]
    s = model.stats_
    assert s["Obs"] == rs["Obs"]
    np.testing.assert_allclose(s["Model L.R."], rs["Model L.R."], rtol=1e-6)
    np.testing.assert_allclose(s["d.f."], rs["d.f."], rtol=1e-6)
    np.testing.assert_allclose(s["R2"], rs["R2"], rtol=1e-6)
    np.testing.assert_allclose(s["g"], rs["g"], rtol=1e-6)
    if name.startswith("L"):
        for key in ("C", "Dxy", "Brier", "gp"):
            np.testing.assert_allclose(s[key], rs[key], rtol=1e-6, err_msg=key)
    else:
        np.testing.assert_allclose(s["Score"], rs["Score"], rtol=1e-6)
        np.testing.assert_allclose(s["Dxy"], rs["Dxy"], rtol=1e-6)


def test_linear_predictor(fitted):
    name, model, X, data, ref = fitted
    np.testing.assert_allclose(model.decision_function(X), ref["linear_predictors"], rtol=1e-6, atol=1e-7)


def _ref_axes(ref_nom):
    return {a["axis"]: a for a in ref_nom["axes"]}


def _compare_nomogram(nom, ref_nom):
    info = ref_nom["info"]
    np.testing.assert_allclose(nom.scale, info["sc"], rtol=1e-6)
    np.testing.assert_allclose(nom.intercept, info["Intercept"], rtol=1e-6, atol=1e-8)
    ref_axes = _ref_axes(ref_nom)
    ours = {a.label: a for a in nom.axes}
    rename = {"total.points": "Total Points", "lp": "Linear Predictor"}
    assert [rename.get(k, k) for k in ref_axes] == [a.label for a in nom.axes]
    for label, ra in ref_axes.items():
        a = ours[rename.get(label, label)]
        if ra["kind"] == "predictor":
            ref_vals = ra["values"]
            if isinstance(ref_vals[0], str):
                assert [str(v) for v in a.values] == ref_vals
            else:
                np.testing.assert_allclose(np.asarray(a.values, float), ref_vals, rtol=1e-9)
            np.testing.assert_allclose(a.points, ra["points"], atol=POINTS_ATOL, err_msg=label)
        else:
            np.testing.assert_allclose(a.points, ra["x"], atol=POINTS_ATOL, err_msg=label)
            if "x_real" in ra:
                np.testing.assert_allclose(np.asarray(a.values, float), ra["x_real"], rtol=1e-9)


def test_nomogram_axes_and_points(fitted):
    name, model, X, data, ref = fitted
    _compare_nomogram(model.nomogram(), ref["nomogram"])


def test_nomogram_with_explicit_settings():
    """rms: nomogram(fit, fun=plogis, fun.at=c(.05,...,.7), lp=TRUE, maxscale=100, age=seq(30,80,by=10))."""
    from tests._reference import load_rms_reference
    from tests.nomogram.models.conftest import fit_reference_model

    model, X, data = fit_reference_model("L1")
    nom = model.nomogram(fun_at=[0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], values={"age": list(range(30, 81, 10))},
                         funlabel="Predicted Value")
    _compare_nomogram(nom, load_rms_reference("L1")["nomogram_explicit"])


def test_patient_points(fitted):
    name, model, X, data, ref = fitted
    ref_pts = ref["nomogram"]["points_first10"]
    nom = model.nomogram()
    pts = nom.points(X.iloc[:10])
    np.testing.assert_allclose(pts["Total Points"], ref_pts["total_points"], atol=POINTS_ATOL)
    np.testing.assert_allclose(pts["Linear Predictor"], ref_pts["lp_predict"], atol=1e-6)
    ref_matrix = reference_matrix(ref_pts["points"])
    for col in ref_matrix.columns:
        if col in pts:
            np.testing.assert_allclose(pts[col], ref_matrix[col], atol=POINTS_ATOL, err_msg=col)


@pytest.mark.parametrize("name", ["C1", "C2"])
def test_survest_at_two_times(name):
    from tests.nomogram.models.conftest import fit_reference_model
    from tests._reference import load_rms_reference

    model, X, data = fit_reference_model(name)
    ref = load_rms_reference(name)
    first = ref["first10"]
    S = model.predict_survival(X.iloc[:10], times=first["times"])
    expected = reference_matrix(first["survest"]["surv"]).to_numpy()
    np.testing.assert_allclose(S.to_numpy(), expected, atol=SURV_ATOL)


@pytest.mark.parametrize("name", ["C1", "C2"])
def test_baseline_survival_matches_survfit(name):
    from tests.nomogram.models.conftest import fit_reference_model
    from tests._reference import load_rms_reference

    model, X, data = fit_reference_model(name)
    ref = load_rms_reference(name)["survfit_at_means"]
    t = np.asarray(ref["time"], float)
    s = np.asarray(ref["surv"], float)
    ours = model.survival_at([0.0], t)[0]
    np.testing.assert_allclose(ours, s, atol=1e-8)


@pytest.mark.parametrize("name", ["C1", "C2"])
def test_survest_standard_errors_and_limits(name, tmp_path):
    from nomogram import load_model
    from tests._reference import load_rms_reference
    from tests.nomogram.models.conftest import fit_reference_model

    model, X, data = fit_reference_model(name)
    first = load_rms_reference(name)["first10"]
    for m in (model, load_model(model.to_json(tmp_path / "m.json"))):
        est = m.survest(X.iloc[:10], times=first["times"])
        for key, col in (("surv", "survival"), ("std_err", "std_err"), ("lower", "lower"), ("upper", "upper")):
            expected = reference_matrix(first["survest"][key]).to_numpy()
            ours = est[col].to_numpy().reshape(10, len(first["times"]))
            np.testing.assert_allclose(ours, expected, atol=1e-10, err_msg=key)


def test_points_give_back_every_patients_linear_predictor(fitted):
    """Total points -> LP reproduces the model's own linear predictor for all patients."""
    name, model, X, data, ref = fitted
    pts = model.nomogram().points(X)
    np.testing.assert_allclose(pts["Linear Predictor"], model.decision_function(X), atol=1e-9)


def test_interaction_with_continuous_partner_needs_levels():
    from nomogram import LogisticNomogram
    from tests._reference import reference_data

    d = reference_data("gbsg2")
    X = d[["age", "tsize", "pnodes"]]
    m = LogisticNomogram(interaction=("age", "tsize")).fit(X, d["cens"])
    with pytest.raises(ValueError, match=r"interact=\{'tsize': \[values\]\}"):
        m.nomogram()
    nom = m.nomogram(interact={"tsize": [10, 30, 60]})
    assert [a.label for a in nom.axes[:3]] == ["age (tsize=10)", "age (tsize=30)", "age (tsize=60)"]
    pts = nom.points(X)
    np.testing.assert_allclose(pts["Linear Predictor"], m.decision_function(X), atol=1e-9)
