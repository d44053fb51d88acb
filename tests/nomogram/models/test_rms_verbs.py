"""anova, effects, partial_effects and the extra model statistics agree with R rms 6.5.

References: ``tests/reference/rms_verbs/rms_verbs.R`` -> ``<MODEL>.json`` (anova.rms,
summary.rms, Predict, fit$stats and rms 8.2's rank statistics). Models L1-L4_pen2, C1,
C2 are those of ``tests/reference/rms_models.R``; L5 (pnodes * tgrade) and C3
(rcs(age, 4) * horTh, Cox) add a linear x factor and a Cox spline x factor interaction.
Exact quantities are compared at rtol 1e-8.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nomogram
from nomogram import CoxNomogram, LogisticNomogram, anova, effects, partial_effects
from nomogram._rms_statistics import binary_rank_statistics, r2_measures
from nomogram.model_io import model_from_dict
from tests._reference import reference_data

from .conftest import MODEL_SPECS

RTOL = 1e-8
VERBS_DIR = Path(__file__).resolve().parents[2] / "reference" / "rms_verbs"

SPECS = {k: MODEL_SPECS[k] for k in ("L1", "L2", "L3", "L4_pen2", "C1", "C2")}
SPECS["L5"] = ("gbsg2", "cens", ["age", "pnodes", "tgrade", "horTh"],
               dict(splines={"age": 4}, interaction=("pnodes", "tgrade")))
SPECS["C3"] = ("gbsg2", ("time", "cens"), ["age", "horTh", "tgrade", "pnodes"],
               dict(splines={"age": 4}, interaction=("age", "horTh")))
NAMES = list(SPECS)

_CACHE = {}


def _fit(name):
    if name not in _CACHE:
        data_name, outcome, predictors, kwargs = SPECS[name]
        data = reference_data(data_name)
        X = data[predictors]
        if isinstance(outcome, tuple):
            model = CoxNomogram(**kwargs).fit(X, data[list(outcome)])
        else:
            model = LogisticNomogram(**kwargs).fit(X, data[outcome])
        ref = json.loads((VERBS_DIR / f"{name}.json").read_text())
        _CACHE[name] = (model, X, data, ref)
    return _CACHE[name]


def _arr(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_reference_versions():
    ref = _fit("L1")[3]
    v = ref["meta"]["versions"]
    assert v["rms"] == "6.5.0" and v["Hmisc"] == "4.8.0" and v["survival"] == "3.5.3"
    assert v["R"].startswith("R version 4.2.2")


# ------------------------------------------------------------------ datadist
@pytest.mark.parametrize("name", NAMES)
def test_datadist_effect_and_prediction_limits(name):
    model, _, _, ref = _fit(name)
    rows = ref["datadist_rows"]
    for term in model.design_.terms:
        lim = dict(zip(rows, ref["datadist"][term.name]))
        if term.kind == "categorical":
            assert str(term.adjust) == lim["Adjust to"]
            continue
        np.testing.assert_allclose(term.effect_limits, [lim["Low:effect"], lim["High:effect"]], rtol=1e-12)
        np.testing.assert_allclose(term.prediction_limits, [lim["Low:prediction"], lim["High:prediction"]],
                                   rtol=1e-12)
        assert term.adjust == pytest.approx(lim["Adjust to"], rel=1e-12)


# ------------------------------------------------------------------ anova
ANOVA_OPTIONS = {
    "anova": {},
    "anova_main_effect": dict(main_effect=True),
    "anova_no_india": dict(interaction_rows=False),
    "anova_no_indnl": dict(nonlinear_rows=False),
    "anova_neither": dict(interaction_rows=False, nonlinear_rows=False),
}
ANOVA_CASES = [(n, k) for n in NAMES for k in ANOVA_OPTIONS if k in _fit(n)[3]]


@pytest.mark.parametrize("name,key", ANOVA_CASES)
def test_anova_matches_anova_rms(name, key):
    model, _, _, ref = _fit(name)
    r = ref[key]
    res = anova(model, **ANOVA_OPTIONS[key])
    t = res.summary()
    assert list(t.index) == r["rownames"]
    np.testing.assert_allclose(t["Chi-Square"], r["chisq"], rtol=RTOL)
    np.testing.assert_array_equal(t["d.f."], r["df"])
    # exact upper tail at rtol 1e-8; rms's own 1 - pchisq() agrees to its ~1e-16 absolute precision
    np.testing.assert_allclose(t["P"], r["P_upper"], rtol=RTOL, atol=0)
    np.testing.assert_allclose(t["P"], _arr(r["P"]), rtol=RTOL, atol=1e-15)
    assert [list(v) for v in res.which.values()] == [list(v) for v in r["which"].values()]


def test_anova_labels_of_interaction_model_and_method():
    model = _fit("L3")[0]
    t = model.anova().summary()
    assert t.index[0] == "age  (Factor+Higher Order Factors)"
    assert list(t.index[-3:]) == ["TOTAL NONLINEAR", "TOTAL NONLINEAR + INTERACTION", "TOTAL"]
    pd.testing.assert_frame_equal(t, anova(model).summary())
    t2 = anova(model, interaction_rows=False).summary()
    assert "TOTAL INTERACTION" in t2.index and " All Interactions" not in t2.index
    assert "Wald Statistics" in repr(model.anova())


def test_anova_p_for_nonlinearity_is_the_spline_terms_test():
    """The ' Nonlinear' row of L2 is the 1-d.f. Wald test of age' alone: z^2."""
    model = _fit("L2")[0]
    t = anova(model).summary()
    z = model.coef_["age'"] / np.sqrt(model.cov_.loc["age'", "age'"])
    assert t.loc[" Nonlinear", "Chi-Square"] == pytest.approx(z**2, rel=1e-12)
    assert t.loc[" Nonlinear", "d.f."] == 1


def test_anova_input_errors():
    with pytest.raises(nomogram.NotFittedError, match="call fit first"):
        anova(LogisticNomogram())
    with pytest.raises(TypeError, match="'main_effect' parameter of anova must be True or False"):
        anova(_fit("L1")[0], main_effect="yes")


# ------------------------------------------------------------------ effects
def _effects_kwargs(name, key):
    return {
        "default": {},
        "conf90": dict(conf_level=0.9),
        "three": dict(ranges={"age": (40, 50, 60)}),
        "horTh_yes": dict(adjust_to={"horTh": "yes"}),
        "tgrade_III": dict(adjust_to={"tgrade": "III"}, ranges={"pnodes": (2, 10)}),
        "ranges": (dict(ranges={"age": (40, 60), "tsize": (20, 40)}, adjust_to={"tgrade": "I"}) if name == "L1"
                   else dict(ranges={"pnodes": (1, 10)}, adjust_to={"tgrade": "III"})),
    }[key]


EFFECT_CASES = [(n, k) for n in NAMES for k in _fit(n)[3]["effects"]]


@pytest.mark.parametrize("name,key", EFFECT_CASES)
def test_effects_match_summary_rms(name, key):
    model, _, _, ref = _fit(name)
    r = ref["effects"][key]
    res = effects(model, **_effects_kwargs(name, key))
    t = res.summary()
    assert list(t.index) == r["rownames"]
    assert list(t.columns) == r["colnames"]
    expected = np.array([_arr(row) for row in r["values"]])
    got = t.to_numpy(dtype=float)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-13)
    # rms prints the adjust-to values of the interacting predictors
    shown = dict(item.split("=") for item in r["adjust"].split())
    for k, v in shown.items():
        assert str(nomogram._design.format_level(res.adjust_to[k])) == v


def test_effects_ratio_table_and_method():
    model = _fit("L3")[0]
    res = model.effects()
    ratios = res.ratios()
    assert list(ratios["predictor"]) == ["age", "pnodes", "horTh", "tgrade", "tgrade"]
    age = ratios.iloc[0]
    assert (age["low"], age["high"]) == (46.0, 61.0)
    assert age["Odds Ratio"] == pytest.approx(np.exp(res.table.loc["age", "Effect"]), rel=1e-14)
    assert list(ratios.iloc[3][["low", "high"]]) == ["II", "I"]  # reference = most frequent level
    assert "Adjusted to: age=53 horTh=no" in res.as_text()
    assert _fit("C1")[0].effects().ratios().columns[3] == "Hazard Ratio"


def test_effects_of_interacting_predictor_depend_on_partner():
    """L3: the age effect at horTh=yes adds the interaction columns (rms: summary(fit, horTh='yes'))."""
    model = _fit("L3")[0]
    b = model.coef_
    x46, x61 = (model.design_.transform(pd.DataFrame({"age": [a], "horTh": ["yes"], "tgrade": ["II"],
                                                      "pnodes": [3]})) for a in (46, 61))
    expected = float(((x61 - x46) @ b.to_numpy()[1:])[0])
    got = effects(model, adjust_to={"horTh": "yes"}).table.loc["age", "Effect"]
    assert got == pytest.approx(expected, rel=1e-12)


def test_effects_input_errors():
    model = _fit("L1")[0]
    with pytest.raises(ValueError, match="categorical predictor 'tgrade'.*adjust_to"):
        effects(model, ranges={"tgrade": ("I", "III")})
    with pytest.raises(ValueError, match="not a predictor of this model"):
        effects(model, ranges={"weight": (1, 2)})
    with pytest.raises(ValueError, match="not a level of 'tgrade'"):
        effects(model, adjust_to={"tgrade": "IV"})
    with pytest.raises(ValueError, match="give \\(low, high\\)"):
        effects(model, ranges={"age": (40,)})
    with pytest.raises(ValueError, match="finite number"):
        effects(model, ranges={"age": (40, np.nan)})
    with pytest.raises(ValueError, match="conf_level"):
        effects(model, conf_level=95)
    with pytest.raises(TypeError, match="'adjust_to' parameter of effects must be a dict"):
        effects(model, adjust_to=["tgrade", "I"])


def test_model_file_keeps_datadist_limits_and_old_files_say_refit():
    model = _fit("L1")[0]
    d = json.loads(model.to_json())  # the model file's content, checksum included
    again = model_from_dict(d)
    pd.testing.assert_frame_equal(effects(again).table, effects(model).table)
    for t in d["design"]["terms"]:  # a file written before the limits existed
        t.pop("effect_limits", None)
        t.pop("prediction_limits", None)
    old = model_from_dict(d, verify=False)  # edited by hand: the checksum no longer matches
    with pytest.raises(ValueError, match="Refit the model, or give the range"):
        effects(old)
    ok = effects(old, ranges={"age": (46, 61), "tsize": (20, 35), "pnodes": (1, 7)})
    np.testing.assert_allclose(ok.table["Effect"], effects(model).table["Effect"], rtol=1e-14)


# ------------------------------------------------------------------ partial effects
def _predict_kwargs(ref, key):
    return {
        "lp": {},
        "risk": dict(scale="risk"),
        "ref_zero": dict(predictors="age", ref_zero=True),
        "conf90": dict(predictors="tsize", conf_level=0.9),
        "values": dict(predictors="age", values={"age": [35, 50, 65]}, adjust_to={"tgrade": "III"}),
        "np": dict(predictors="tsize", n_points=7),
        "by": dict(predictors="age", overlay="horTh"),
        "by_risk": dict(predictors="age", overlay="horTh", scale="risk"),
        "survival": dict(scale="survival", horizon=ref.get("horizon")),
        "hazard_ratio": dict(scale="hazard_ratio"),
        "by_survival": dict(predictors="age", overlay="horTh", scale="survival", horizon=1825),
    }[key]


PREDICT_CASES = [(n, k) for n in NAMES for k in _fit(n)[3]["predict"]]


@pytest.mark.parametrize("name,key", PREDICT_CASES)
def test_partial_effects_match_predict(name, key):
    model, _, _, ref = _fit(name)
    r = ref["predict"][key]
    res = partial_effects(model, **_predict_kwargs(ref, key))
    t = res.summary()
    assert len(t) == len(r["yhat"])
    if r["predictor"] is not None:
        assert list(t["predictor"]) == r["predictor"]
    for col, vals in r["settings"].items():
        if isinstance(vals[0], str):
            assert [nomogram._design.format_level(v) for v in t[col]] == vals, col
        else:
            np.testing.assert_allclose(t[col].to_numpy(float), vals, rtol=1e-12, err_msg=col)
    for col in ("yhat", "lower", "upper"):
        np.testing.assert_allclose(t[col], _arr(r[col]), rtol=RTOL, atol=1e-12, err_msg=col)


def test_partial_effects_cox_risk_is_one_minus_survival():
    model = _fit("C1")[0]
    s = partial_effects(model, "age", scale="survival", horizon=1095).table
    k = partial_effects(model, "age", scale="risk", horizon=1095).table
    np.testing.assert_allclose(k["yhat"], 1 - s["yhat"], rtol=1e-14)
    np.testing.assert_allclose(k["lower"], 1 - s["upper"], rtol=1e-14)
    np.testing.assert_allclose(k["upper"], 1 - s["lower"], rtol=1e-14)


def test_partial_effects_curve_and_method():
    model = _fit("L3")[0]
    res = model.partial_effects("age", overlay="horTh")
    c = res.curve("age")
    assert list(c.columns) == ["age", "horTh", "yhat", "lower", "upper"] and len(c) == 400
    assert (c["lower"] < c["yhat"]).all() and (c["yhat"] < c["upper"]).all()
    with pytest.raises(ValueError, match="not among the predictors"):
        res.curve("pnodes")


def test_partial_effects_input_errors():
    model, cox = _fit("L1")[0], _fit("C1")[0]
    with pytest.raises(ValueError, match="'scale' parameter of partial_effects"):
        partial_effects(model, scale="survival")
    with pytest.raises(ValueError, match="'horizon' parameter.*positive time"):
        partial_effects(cox, scale="survival")
    with pytest.raises(ValueError, match="horizon is only used"):
        partial_effects(cox, horizon=365)
    with pytest.raises(ValueError, match="ref_zero=True"):
        partial_effects(model, ref_zero=True, scale="risk")
    with pytest.raises(ValueError, match="not a predictor of this model"):
        partial_effects(model, "weight")
    with pytest.raises(ValueError, match="'n_points' parameter"):
        partial_effects(model, "age", n_points=1)
    with pytest.raises(ValueError, match="not a level of 'tgrade'"):
        partial_effects(model, "tgrade", values={"tgrade": ["I", "IV"]})
    with pytest.raises(ValueError, match="only predictor to vary"):
        partial_effects(model, "age", overlay="age")


# ------------------------------------------------------------------ statistics
@pytest.mark.parametrize("name", NAMES)
def test_extra_statistics_match_rms(name):
    model, _, _, ref = _fit(name)
    rs = ref["stats"]
    r2_keys = [k for k in rs if k.startswith("R2(")]  # R2(686), R2(10,686), R2(506), R2(10,506)
    assert len(r2_keys) == 4
    for ours, theirs in zip(("R2(n)", "R2(p,n)", "R2(m)", "R2(p,m)"), r2_keys):
        assert model.stats_[ours] == pytest.approx(rs[theirs], rel=RTOL), ours
        assert model.stats_[ours] == pytest.approx(ref["stats_rms8"][ours], rel=RTOL), ours
    if name.startswith("L"):
        for key in ("C", "Dxy", "Gamma", "Tau-a"):
            assert model.stats_[key] == pytest.approx(rs[key], rel=RTOL), key


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("L")])
def test_rank_statistics_on_the_linear_predictor_match_rms8(name):
    """rms 8.2 ranks the unbinned linear predictor (concordancefit); same function, other score."""
    model, X, data, ref = _fit(name)
    y = data[SPECS[name][1]].to_numpy()
    got = binary_rank_statistics(model.decision_function(X), y)
    for key in ("C", "Dxy", "Gamma", "Tau-a"):
        assert got[key] == pytest.approx(ref["stats_rms8"][key], rel=RTOL), key


def test_stats_keep_existing_keys_in_order():
    model = _fit("L1")[0]
    keys = list(model.stats_.index)
    for old in ("Obs", "Events", "Model L.R.", "d.f.", "P", "C", "Dxy", "R2", "Brier", "g", "gr", "gp"):
        assert old in keys
    assert keys.index("Gamma") == keys.index("Dxy") + 1
    assert keys[keys.index("R2") + 1: keys.index("R2") + 5] == ["R2(n)", "R2(p,n)", "R2(m)", "R2(p,m)"]


def test_r2_measures_formulas():
    r = r2_measures(20.0, 4, 100, 30)
    assert r["R2(n)"] == pytest.approx(1 - np.exp(-0.2))
    assert r["R2(p,n)"] == pytest.approx(1 - np.exp(-0.16))
    assert r["R2(m)"] == pytest.approx(1 - np.exp(-20 / 30))
    assert r2_measures(2.0, 4, 100, 30)["R2(p,n)"] == 0.0  # LR below p: floored at 0
    assert np.isnan(r2_measures(20.0, 4, 100, 100)["R2(m)"])  # m == n: NA as in Hmisc
    s = binary_rank_statistics([1, 2, 2, 3], [0, 0, 1, 1])
    # pairs (event, non-event): (2,1) c, (2,2) tie, (3,1) c, (3,2) c -> C = 3.5 / 4
    assert s["C"] == 0.875 and s["Gamma"] == 1.0 and s["Tau-a"] == pytest.approx(3 / 6)
