"""Cumulative/dynamic AUC(t) against scikit-survival's cumulative_dynamic_auc.

No R package is available here (timeROC is not packaged for apt); the committed
scikit-survival outputs (tests/reference/survival_metrics/sksurv_reference.json)
are the reference, plus a live comparison when scikit-survival is installed.
"""

import numpy as np
import pytest

from nomogram.metrics import time_dependent_auc

from tests._reference import survival_metrics_reference

SCORES, _, SKSURV = survival_metrics_reference()
Y = SCORES[["time", "cens"]]


@pytest.mark.parametrize("name", sorted(SKSURV["cumulative_dynamic_auc"]))
def test_auc_equals_scikit_survival(name):
    res = time_dependent_auc(Y, SCORES[name], SKSURV["times"], n_boot=0)
    np.testing.assert_allclose(res.auc, SKSURV["cumulative_dynamic_auc"][name], rtol=0, atol=1e-12)
    assert np.isnan(res.lower).all()


def test_bootstrap_interval():
    res = time_dependent_auc(Y, SCORES["lp2"], [730, 1825], n_boot=200, random_state=0)
    assert (res.lower < res.auc).all() and (res.auc < res.upper).all()
    assert ((res.se > 0.01) & (res.se < 0.06)).all()
    s = res.summary()
    assert list(s.columns) == ["time", "AUC", "se", "lower", "upper", "n_cases", "n_controls"]
    assert s["n_cases"].tolist() == [int(((Y.time <= t) & (Y.cens == 1)).sum()) for t in [730, 1825]]


def test_live_scikit_survival_on_lung():
    """Live check on another data set (NCCTG lung cancer, lifelines.datasets.load_lung)."""
    sk = pytest.importorskip("sksurv.metrics")
    from lifelines.datasets import load_lung
    from sksurv.util import Surv

    lung = load_lung().dropna(subset=["ph.ecog"])
    y = Surv.from_arrays(event=lung["status"].astype(bool), time=lung["time"].astype(float))
    score = (lung["ph.ecog"] + lung["age"] / 100).to_numpy(float)
    times = [180.0, 365.0, 540.0, 730.0]
    ref, _ = sk.cumulative_dynamic_auc(y, y, score, times)
    res = time_dependent_auc(lung[["time", "status"]], score, times, n_boot=0)
    np.testing.assert_allclose(res.auc, ref, rtol=0, atol=1e-12)
    ties = time_dependent_auc(lung[["time", "status"]], lung["ph.ecog"], times, n_boot=0)
    ref_ties, _ = sk.cumulative_dynamic_auc(y, y, lung["ph.ecog"].to_numpy(float), times)
    np.testing.assert_allclose(ties.auc, ref_ties, rtol=0, atol=1e-12)


def test_times_outside_follow_up_raise():
    with pytest.raises(ValueError, match="times must lie within follow-up"):
        time_dependent_auc(Y, SCORES["lp1"], [100000], n_boot=0)


def test_compare_two_models_bootstrap():
    from nomogram.metrics import compare_time_dependent_auc

    times = [730, 1825]
    cmp = compare_time_dependent_auc(Y, SCORES["lp2"], SCORES["lp1"], times, n_boot=200, random_state=0)
    np.testing.assert_allclose(cmp["AUC1"], np.array(SKSURV["cumulative_dynamic_auc"]["lp2"])[[1, 4]], atol=1e-12)
    np.testing.assert_allclose(cmp["difference"], cmp["AUC1"] - cmp["AUC2"], atol=1e-15)
    assert (cmp["lower"] < cmp["difference"]).all() and (cmp["difference"] < cmp["upper"]).all()
    assert ((cmp["se"] > 0.005) & (cmp["se"] < 0.05)).all()
    same = compare_time_dependent_auc(Y, SCORES["lp1"], SCORES["lp1"], times, n_boot=20, random_state=0)
    assert (same["difference"] == 0).all() and (same["p_value"] == 1).all()


def test_km_and_ipcw_curves_are_the_empirical_roc_without_censoring_before_t():
    """Rossi: nobody is censored before week 52, so both estimators of the one
    time-dependent ROC module reduce to the ROC of the binary outcome T <= t."""
    from nomogram._time_dependent_roc import cumulative_dynamic_auc, cumulative_dynamic_roc
    from nomogram.metrics import roc_curve
    from tests._reference import reference_data

    rossi = reference_data("rossi")
    time, event = rossi["week"].to_numpy(float), rossi["arrest"].to_numpy(float)
    score = rossi["prio"].to_numpy(float) + rossi["age"].to_numpy(float) / 100
    t = 30.0
    case = ((time <= t) & (event == 1)).astype(int)
    cuts = np.unique(score)
    want_se = np.array([np.mean(score[case == 1] > c) for c in cuts])
    want_sp = np.array([np.mean(score[case == 0] <= c) for c in cuts])
    for method in ("km", "ipcw"):
        c, se, sp = cumulative_dynamic_roc(time, event, score, t, method=method)
        np.testing.assert_array_equal(c, cuts)
        np.testing.assert_allclose(se, want_se, rtol=0, atol=1e-12)
        np.testing.assert_allclose(sp, want_sp, rtol=0, atol=1e-12)
        auc = cumulative_dynamic_auc(time, event, score, [t], method=method)[0]
        assert auc == pytest.approx(roc_curve(case, score).auc, abs=1e-12)


def test_bootstrap_by_reweighting_equals_resampled_rows():
    """One ranking, frequency weights per resample: the AUCs of the copied rows, same random stream."""
    from nomogram._time_dependent_roc import bootstrap_ipcw_auc, cumulative_dynamic_auc

    rng = np.random.default_rng(0)
    n = 300
    t = rng.integers(1, 40, n).astype(float)
    e = rng.integers(0, 2, n).astype(float)
    x = rng.integers(0, 12, n) + 0.5 * (t < 15)
    times = [8.0, 20.0, 39.0]
    draw = np.random.default_rng(5)
    want = []
    for _ in range(30):
        i = draw.integers(0, n, n)
        want.append(cumulative_dynamic_auc(t[i], e[i], x[i], times))
    got = bootstrap_ipcw_auc(t, e, [x], times, 30, np.random.default_rng(5), chunk=7)[0]
    np.testing.assert_allclose(got, np.array(want), rtol=0, atol=1e-13)


def test_time_grid_sorted_once_gives_the_same_curves():
    """km_steps / the IPCW AUC rows with a TimeGrid made once = sorting the times at every call."""
    from nomogram._survival import TimeGrid, km_steps
    from nomogram._time_dependent_roc import _ipcw_auc_rows

    rng = np.random.default_rng(3)
    n = 400
    t = rng.integers(1, 30, n).astype(float)
    e = rng.integers(0, 2, n).astype(float)
    W = rng.poisson(1.0, (5, n)).astype(float)
    grid = TimeGrid.of(t)
    a, b = km_steps(t, e, W), km_steps(t, e, W, grid)
    for name in ("time", "n_risk", "n_event", "n_censor", "surv", "last"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    values, vid = np.unique(rng.normal(size=n).round(1), return_inverse=True)
    np.testing.assert_array_equal(_ipcw_auc_rows(t, e, vid, len(values), [5.0, 20.0], W),
                                  _ipcw_auc_rows(t, e, vid, len(values), [5.0, 20.0], W, grid))
