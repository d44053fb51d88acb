"""ROC, AUC, DeLong CI and DeLong tests against R pROC 1.18 (tests/reference/pROC)."""

import numpy as np
import pytest

from nomogram.metrics import (
    delong_placements,
    delong_test,
    delong_test_unpaired,
    roc_auc_ci,
    roc_curve,
    sensitivity_ci,
)

from tests._reference import proc_reference

SCORES, REF = proc_reference()
NAMES = ["p1", "p2", "prio", "age"]  # age: controls > cases (direction ">")


def _ref(name):
    return REF["scores"][name]


@pytest.mark.parametrize("name", NAMES)
def test_auc_and_delong_ci_equal_proc(name):
    r = _ref(name)
    res = roc_auc_ci(SCORES["arrest"], SCORES[name], direction=r["direction"])
    assert res.n_cases == r["n_cases"] and res.n_controls == r["n_controls"]
    np.testing.assert_allclose(res.auc, r["auc"], rtol=0, atol=1e-12)
    # acceptance criterion: DeLong CI equal to pROC's ci.auc(method="delong") to 1e-6
    np.testing.assert_allclose([res.lower, res.upper], np.array(r["delong_ci"])[[0, 2]], rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.se**2, r["delong_var"], rtol=1e-9)
    res90 = roc_auc_ci(SCORES["arrest"], SCORES[name], conf_level=0.90, direction=r["direction"])
    np.testing.assert_allclose([res90.lower, res90.upper], np.array(r["delong_ci_90"])[[0, 2]], rtol=0, atol=1e-9)
    s = res.summary()
    assert list(s.columns[:4]) == ["AUC", "se", "lower", "upper"] and s.loc[0, "method"] == "delong"


@pytest.mark.parametrize("name", NAMES)
def test_roc_curve_coordinates_equal_proc(name):
    r = _ref(name)
    c = roc_curve(SCORES["arrest"], SCORES[name], direction=r["direction"])
    thr = np.array([float(t) for t in r["thresholds"]])
    np.testing.assert_allclose(c.thresholds, thr, rtol=1e-12, atol=0)
    np.testing.assert_allclose(c.sensitivities, r["sensitivities"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(c.specificities, r["specificities"], rtol=0, atol=1e-12)
    # coords(input="specificity", ret="sensitivity"): exact points and interpolation
    np.testing.assert_allclose(
        c.sensitivity_at(r["se_at_sp"]["specificity"]), r["se_at_sp"]["sensitivity"], rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("name", ["p1", "prio"])
def test_stratified_bootstrap_ci_close_to_proc(name):
    r = _ref(name)
    res = roc_auc_ci(SCORES["arrest"], SCORES[name], method="bootstrap", n_boot=2000, random_state=7)
    # different random streams: agreement up to Monte-Carlo error of 2000 resamples
    np.testing.assert_allclose([res.lower, res.boot_median, res.upper], r["bootstrap_ci"], atol=0.012)
    again = roc_auc_ci(SCORES["arrest"], SCORES[name], method="bootstrap", n_boot=2000, random_state=7)
    assert again.lower == res.lower and again.upper == res.upper
    assert res.method == "bootstrap" and res.auc == pytest.approx(r["auc"], abs=1e-12)


@pytest.mark.parametrize("name", ["p2", "age"])
def test_sensitivity_band_close_to_proc_ci_se(name):
    r = _ref(name)
    band = sensitivity_ci(SCORES["arrest"], SCORES[name], n_boot=1000, random_state=3, direction=r["direction"])
    np.testing.assert_allclose(band["specificity"], r["ci_se"]["specificity"], atol=1e-15)
    np.testing.assert_allclose(band["lower"], r["ci_se"]["lower"], atol=0.035)
    np.testing.assert_allclose(band["median"], r["ci_se"]["median"], atol=0.03)
    np.testing.assert_allclose(band["upper"], r["ci_se"]["upper"], atol=0.035)
    assert (band["lower"] <= band["sensitivity"] + 1e-12).all()
    assert (band["sensitivity"] <= band["upper"] + 1e-12).all()


def test_direction_auto_follows_proc_median_rule():
    c = roc_curve(SCORES["arrest"], SCORES["age"], direction="auto")
    assert c.direction == REF["age_auto_direction"] == ">"
    assert c.auc == pytest.approx(_ref("age")["auc"], abs=1e-12)
    # default "<" keeps the orientation: age is protective, so AUC < 0.5
    assert roc_curve(SCORES["arrest"], SCORES["age"]).auc == pytest.approx(1 - _ref("age")["auc"], abs=1e-12)


@pytest.mark.parametrize("pair,a,b", [("p2_vs_p1", "p2", "p1"), ("p1_vs_prio", "p1", "prio")])
def test_paired_delong_equals_roc_test(pair, a, b):
    r = REF["paired"][pair]
    t = delong_test(SCORES["arrest"], SCORES[a], SCORES[b])
    np.testing.assert_allclose(t.statistic, r["Z"], rtol=1e-9)
    # acceptance criterion: p equal to roc.test to 1e-4
    np.testing.assert_allclose(t.p_value, r["p"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose([t.lower, t.upper], r["conf_int"], rtol=0, atol=1e-9)
    np.testing.assert_allclose([t.auc1, t.auc2], [r["auc1"], r["auc2"]], atol=1e-12)
    g = delong_test(SCORES["arrest"], SCORES[a], SCORES[b], alternative="greater")
    np.testing.assert_allclose(g.p_value, r["p_greater"], rtol=1e-9)
    assert t.summary().loc[0, "method"] == "DeLong's test for two correlated ROC curves"


def test_unpaired_delong_equals_roc_test():
    r = REF["unpaired"]
    g0 = SCORES[SCORES["fin"] == 0]
    g1 = SCORES[SCORES["fin"] == 1]
    t = delong_test_unpaired(g0["arrest"], g0["p2"], g1["arrest"], g1["p2"])
    np.testing.assert_allclose([t.statistic, t.df], [r["D"], r["df"]], rtol=1e-9)
    np.testing.assert_allclose(t.p_value, r["p"], rtol=1e-9)
    np.testing.assert_allclose([t.auc1, t.auc2], [r["auc1"], r["auc2"]], atol=1e-12)
    assert not t.paired and t.lower < t.difference < t.upper


def test_midrank_placements_equal_naive_pairwise_placements():
    rng = np.random.default_rng(0)
    cases = rng.integers(0, 8, 37).astype(float)  # many ties
    controls = rng.integers(0, 6, 51).astype(float)
    psi = (cases[:, None] > controls[None, :]) + 0.5 * (cases[:, None] == controls[None, :])
    theta, v10, v01 = delong_placements(cases, controls)
    np.testing.assert_allclose(v10, psi.mean(axis=1), atol=1e-14)
    np.testing.assert_allclose(v01, psi.mean(axis=0), atol=1e-14)
    assert theta == pytest.approx(psi.mean(), abs=1e-14)
    t2, w10, w01 = delong_placements(cases, controls, direction=">")
    assert t2 == pytest.approx(1 - theta, abs=1e-14)


def test_identical_scores_give_zero_statistic():
    t = delong_test(SCORES["arrest"], SCORES["p1"], SCORES["p1"])
    assert t.statistic == 0.0 and t.p_value == 1.0 and t.difference == 0.0


def test_bad_inputs_raise_clear_errors():
    y, s = SCORES["arrest"].to_numpy(), SCORES["p1"].to_numpy()
    with pytest.raises(ValueError, match="'method' parameter of roc_auc_ci must be one of"):
        roc_auc_ci(y, s, method="delongg")
    with pytest.raises(ValueError, match="'direction' parameter"):
        roc_auc_ci(y, s, direction="<=")
    with pytest.raises(ValueError, match="must be binary"):
        roc_auc_ci(np.arange(len(y)) % 3, s)
    bad = s.copy()
    bad[5] = np.nan
    with pytest.raises(ValueError, match="'score' has 1 missing"):
        roc_auc_ci(y, bad)
    with pytest.raises(ValueError, match="'score2' has 10 values but y has 432"):
        delong_test(y, s, s[:10])
    with pytest.raises(ValueError, match="at least 2 cases and 2 controls"):
        roc_auc_ci([0, 0, 0, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="conf_level"):
        roc_auc_ci(y, s, conf_level=95)
