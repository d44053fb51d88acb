"""Youden cut-off and accuracy at the cut-off against pROC coords, prop.test and binom.test."""

import numpy as np
import pytest

from nomogram.metrics import cutoff_metrics, optimal_cutoff, proportion_ci

from tests._reference import proc_reference

SCORES, REF = proc_reference()
NAMES = ["p1", "p2", "prio", "age"]


@pytest.mark.parametrize("name", NAMES)
def test_youden_cutoff_and_counts_equal_proc_coords(name):
    r = REF["scores"][name]
    best = r["youden"]
    res = cutoff_metrics(SCORES["arrest"], SCORES[name], direction=r["direction"], random_state=0)
    np.testing.assert_allclose(res.threshold, best["threshold"][0], rtol=1e-12)
    np.testing.assert_allclose(optimal_cutoff(SCORES["arrest"], SCORES[name], direction=r["direction"]),
                               best["threshold"], rtol=1e-12)
    assert (res.tp, res.fp, res.tn, res.fn) == (best["tp"][0], best["fp"][0], best["tn"][0], best["fn"][0])
    t = res.summary()
    for k in ["sensitivity", "specificity", "ppv", "npv", "accuracy"]:
        np.testing.assert_allclose(t.loc[k, "estimate"], best[k][0], rtol=0, atol=1e-12)
        # Wilson score interval = prop.test(x, n, correct=FALSE)$conf.int
        np.testing.assert_allclose(t.loc[k, ["lower", "upper"]].to_numpy(float), r["wilson"][k], rtol=0, atol=1e-9)
    assert res.method == "youden" and t.loc["sensitivity", "ci_method"] == "wilson"
    cp = cutoff_metrics(SCORES["arrest"], SCORES[name], direction=r["direction"], ci_method="clopper-pearson")
    for k in ["sensitivity", "specificity", "ppv", "npv", "accuracy"]:
        # exact Clopper-Pearson = binom.test(x, n)$conf.int
        np.testing.assert_allclose(cp.table.loc[k, ["lower", "upper"]].to_numpy(float),
                                   r["clopper_pearson"][k], rtol=0, atol=1e-9)


def test_f1_and_its_bootstrap_interval():
    res = cutoff_metrics(SCORES["arrest"], SCORES["p2"], n_boot=2000, random_state=1)
    f1 = 2 * res.tp / (2 * res.tp + res.fp + res.fn)
    row = res.table.loc["f1"]
    assert row["estimate"] == pytest.approx(f1, abs=1e-15)
    assert row["lower"] < f1 < row["upper"]
    # percentile interval of F1 for n = 432 is about +/- 0.07 wide (binomial-like spread)
    assert 0.03 < row["upper"] - row["lower"] < 0.25
    again = cutoff_metrics(SCORES["arrest"], SCORES["p2"], n_boot=2000, random_state=1)
    assert again.table.loc["f1", "lower"] == row["lower"]


def test_fixed_threshold_uses_score_at_least_threshold_as_positive():
    y = np.array([0, 0, 1, 1, 0, 1, 1, 0])
    s = np.array([0.1, 0.5, 0.5, 0.9, 0.3, 0.2, 0.7, 0.6])
    res = cutoff_metrics(y, s, 0.5, n_boot=50, random_state=0)
    # positives: scores >= 0.5 -> ids 1,2,3,6,7: tp = 3 (2,3,6), fp = 2 (1,7); fn = 1 (5), tn = 2 (0,4)
    assert (res.tp, res.fp, res.tn, res.fn) == (3, 2, 2, 1)
    assert res.method == "fixed"
    low = cutoff_metrics(y, s, 0.5, direction=">", n_boot=50, random_state=0)
    # direction ">": positive when score <= 0.5 -> ids 0,1,2,4,5: tp = 2 (2,5), fp = 3
    assert (low.tp, low.fp) == (2, 3)


def test_proportion_ci_boundaries():
    assert proportion_ci(0, 20, method="clopper-pearson")[0] == 0.0
    assert proportion_ci(20, 20, method="clopper-pearson")[1] == 1.0
    lo, hi = proportion_ci(0, 20)
    assert lo == 0.0 and 0 < hi < 0.2
    assert np.isnan(proportion_ci(0, 0)[0])


def test_bad_threshold_and_ci_method():
    with pytest.raises(ValueError, match="'threshold' parameter of cutoff_metrics must be one of"):
        cutoff_metrics(SCORES["arrest"], SCORES["p1"], "youdenn")
    with pytest.raises(ValueError, match="'ci_method' parameter"):
        cutoff_metrics(SCORES["arrest"], SCORES["p1"], ci_method="exact")
