"""calibrate(), val_prob() and R's lowess against rms 6.5 / R stats on gbsg2
(tests/reference/validation/validation_reference.R)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from nomogram import calibrate, val_prob
from nomogram._lowess import approx, lowess

from .conftest import COX_COLUMNS, LOGISTIC_COLUMNS, r_table


# ----------------------------------------------------------------- lowess
@pytest.mark.parametrize(
    "f, it, name",
    [(2 / 3, 0, "lowess_gbsg2_age_tsize.csv"), (0.3, 3, "lowess_gbsg2_age_tsize_f03_iter3.csv")],
)
def test_lowess_equals_r_with_ties(gbsg2, f, it, name):
    xs, ys = lowess(gbsg2["age"], gbsg2["tsize"], f=f, iter=it)
    r = r_table(name)
    np.testing.assert_array_equal(xs, r["x"])
    np.testing.assert_allclose(ys, r["y"], rtol=0, atol=1e-10)


def test_lowess_equals_r_on_predicted_risk():
    """R: lowess(plogis(fL$linear.predictors), cens, iter = 0), R's own predictions as input."""
    inp = r_table("lowess_gbsg2_p_input.csv")
    xs, ys = lowess(inp["p"], inp["y"], iter=0)
    r = r_table("lowess_gbsg2_p.csv")
    np.testing.assert_allclose(xs, r["x"], rtol=0, atol=1e-15)
    np.testing.assert_allclose(ys, r["y"], rtol=0, atol=1e-10)


def test_approx_ties_rules():
    x = [1.0, 2.0, 2.0, 3.0]
    y = [0.0, 1.0, 3.0, 4.0]
    assert approx(x, y, [2.0], ties="first")[0] == 1.0
    assert approx(x, y, [2.0], ties="mean")[0] == 2.0
    out = approx(x, y, [0.5, 2.5, 3.5], ties="mean")
    assert np.isnan(out[0]) and out[1] == 3.0 and np.isnan(out[2])


# ----------------------------------------------------------------- calibrate (logistic)
@pytest.fixture(scope="module")
def cal_logistic(gbsg2, logistic_model):
    return calibrate(logistic_model, gbsg2[LOGISTIC_COLUMNS], gbsg2["cens"], n_boot=200, random_state=3)


def test_calibrate_logistic_apparent_equals_rms(cal_logistic):
    r = r_table("calibrate_lrm_boot.csv")
    t = cal_logistic.table
    assert list(t.columns) == list(r.columns)
    np.testing.assert_allclose(t["predy"], r["predy"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(t["calibrated.orig"], r["calibrated.orig"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(t["index.orig"], r["index.orig"], rtol=0, atol=1e-6)


def test_calibrate_logistic_corrected_close_to_rms(cal_logistic):
    """Bias-corrected curve within 0.02 of rms's (B = 200 here vs 400 in R, different random
    streams; across R seeds the curve varies by up to ~0.004 at the ends, across ours by ~0.01)."""
    r = r_table("calibrate_lrm_boot.csv")
    t = cal_logistic.table
    np.testing.assert_allclose(t["calibrated.corrected"], r["calibrated.corrected"], rtol=0, atol=0.02)
    e = cal_logistic.errors
    re = r_table("calibrate_lrm_errors.csv").iloc[0]
    assert e["n"] == re["n"]
    assert e["mean_absolute_error"] == pytest.approx(re["mean_absolute_error"], abs=0.004)
    assert e["quantile90_absolute_error"] == pytest.approx(re["quantile90_absolute_error"], abs=0.006)
    # rows where the smooth of a resample did not reach predy are left out (n < B), as in rms
    assert t["n"].max() == 200 and t["n"].min() < 200


def test_calibrate_errors_definition(cal_logistic):
    t = cal_logistic.table
    err = cal_logistic.predicted - np.interp(cal_logistic.predicted, t["predy"], t["calibrated.corrected"])
    inside = (cal_logistic.predicted >= t["predy"].min()) & (cal_logistic.predicted <= t["predy"].max())
    assert cal_logistic.errors["mean_absolute_error"] == pytest.approx(np.mean(np.abs(err[inside])))


# ----------------------------------------------------------------- calibrate (Cox, KM)
@pytest.fixture(scope="module")
def cal_cox(gbsg2, cox_model):
    return calibrate(cox_model, gbsg2[COX_COLUMNS], gbsg2[["time", "cens"]], n_boot=200, random_state=3,
                     horizon=1095, m=100)


def test_calibrate_cox_apparent_equals_rms(cal_cox):
    r = r_table("calibrate_cph_km.csv")
    t = cal_cox.table
    assert len(t) == len(r) == 6
    for col in ["index.orig", "mean.predicted", "KM", "std.err"]:
        np.testing.assert_allclose(t[col], r[col], rtol=0, atol=1e-6, err_msg=col)


def test_calibrate_cox_corrected_close_to_rms(cal_cox):
    r = r_table("calibrate_cph_km.csv")
    np.testing.assert_allclose(cal_cox.table["KM.corrected"], r["KM.corrected"], rtol=0, atol=0.015)


def test_calibrate_cox_needs_u(gbsg2, cox_model):
    with pytest.raises(ValueError, match="pass horizon="):
        calibrate(cox_model, gbsg2[COX_COLUMNS], gbsg2[["time", "cens"]], n_boot=2)


# ----------------------------------------------------------------- val_prob
RMS_NAMES = {"C (ROC)": "C..ROC.", "D:Chi-sq": "D.Chi.sq", "D:p": "D.p", "U:Chi-sq": "U.Chi.sq",
             "U:p": "U.p", "S:z": "S.z", "S:p": "S.p", "HL chi2": "HL_chi2", "HL df": "HL_df",
             "HL p": "HL_p"}


def _val_prob_cases(gbsg2, logistic_model):
    inp = r_table("val_prob_external_input.csv")
    pL = logistic_model.predict_proba(gbsg2[LOGISTIC_COLUMNS])[:, 1]
    pd_ = 1 / (1 + np.exp(-(0.4 + 0.7 * np.log(pL / (1 - pL)))))
    return {"external": (inp["y"], inp["p"]), "distorted": (gbsg2["cens"], pd_), "apparent": (gbsg2["cens"], pL)}


@pytest.mark.parametrize("case", ["external", "distorted", "apparent"])
def test_val_prob_equals_rms(gbsg2, logistic_model, case):
    y, p = _val_prob_cases(gbsg2, logistic_model)[case]
    r = r_table("val_prob.csv").set_index("case").loc[case]
    s = val_prob(y, p, binned_c=True).statistics
    for name in ["Dxy", "C (ROC)", "R2", "D", "D:Chi-sq", "U", "U:Chi-sq", "U:p", "Q", "Brier", "Intercept",
                 "Slope", "Emax", "E90", "Eavg", "S:z", "S:p", "HL chi2", "HL df", "HL p"]:
        assert s[name] == pytest.approx(r[RMS_NAMES.get(name, name)], rel=1e-6, abs=1e-6), name
    assert np.isnan(s["D:p"]) and np.isnan(r["D.p"])
    exact = val_prob(y, p).statistics
    assert exact["C (ROC)"] == pytest.approx(r["C_exact"], abs=1e-9)
    assert exact["Dxy"] == pytest.approx(r["Dxy_exact"], abs=1e-9)


def test_val_prob_extra_statistics(gbsg2, logistic_model):
    y, p = _val_prob_cases(gbsg2, logistic_model)["external"]
    s = val_prob(y, p).statistics
    assert s["Intercept lower"] < s["Intercept"] < s["Intercept upper"]
    assert s["Slope lower"] < s["Slope"] < s["Slope upper"]
    # calibration-in-the-large: mean predicted risk after the shift equals the event rate
    L = np.log(p / (1 - p))
    assert np.mean(1 / (1 + np.exp(-(s["CITL"] + L)))) == pytest.approx(np.mean(y), abs=1e-10)


def test_val_prob_bad_input():
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        val_prob([0, 1, 1], [0.2, 1.3, 0.5])
    with pytest.raises(ValueError, match="p has 2 values but y has 3"):
        val_prob([0, 1, 1], [0.2, 0.5])


# ----------------------------------------------------------------- display
def test_calibration_display(cal_logistic, cal_cox):
    from nomogram.displays import CalibrationDisplay

    d = CalibrationDisplay.from_result(cal_logistic, name="gbsg2")
    assert d.ax_.get_xlim() == (0, 1)
    assert set(d.lines_) == {"apparent", "corrected", "ideal"}
    np.testing.assert_allclose(d.lines_["corrected"].get_ydata(), cal_logistic.table["calibrated.corrected"])
    d2 = cal_cox.plot()
    assert d2.figure_ is d2.ax_.figure
    import matplotlib.pyplot as plt

    plt.close("all")


def test_calibration_display_from_estimator(gbsg2, logistic_model):
    from nomogram.displays import CalibrationDisplay

    d = CalibrationDisplay.from_estimator(logistic_model, gbsg2[LOGISTIC_COLUMNS], gbsg2["cens"], n_boot=10,
                                          random_state=0)
    assert d.result.B == 10 and len(d.ax_.lines) >= 3
    import matplotlib.pyplot as plt

    plt.close("all")


def test_calibrate_crossvalidation_and_632(gbsg2, logistic_model, cox_model):
    X, y = gbsg2[LOGISTIC_COLUMNS], gbsg2["cens"]
    r = r_table("calibrate_lrm_boot.csv")
    for method, B in [("crossvalidation", 5), (".632", 30)]:
        c = calibrate(logistic_model, X, y, n_boot=B, method=method, random_state=2)
        t = c.table
        np.testing.assert_allclose(t["calibrated.orig"], r["calibrated.orig"], atol=1e-6)
        assert t["n"].max() == B
        if method == ".632":
            np.testing.assert_allclose(t["optimism"], 0.632 * (t["index.orig"] - t["test"]))
            assert np.abs(t["calibrated.corrected"] - r["calibrated.corrected"]).max() < 0.06
        else:  # 5-fold CV: smooths on 137 held-out patients are noisy; check the bookkeeping
            np.testing.assert_allclose(t["optimism"], t["training"] - t["test"])
    c = calibrate(cox_model, gbsg2[COX_COLUMNS], gbsg2[["time", "cens"]], n_boot=5, method="crossvalidation",
                  random_state=2, horizon=1095, m=100)
    assert len(c.table) == 6 and (c.table["n"] == 5).all()


def test_calibrate_cox_spline_apparent_equals_r(gbsg2, cox_model):
    """Smooth (HARE-free) curve: R cph(Surv ~ rcs(log(-log S(1095)), 3)) + survest, ICI/E50/E90."""
    c = calibrate(cox_model, gbsg2[COX_COLUMNS], gbsg2[["time", "cens"]], n_boot=20, random_state=4, horizon=1095,
                  cmethod="spline")
    r = r_table("calibrate_cph_spline_apparent.csv")
    np.testing.assert_allclose(c.table["pred"], r["pred"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(c.table["calibrated"], r["calibrated"], rtol=0, atol=1e-6)
    ri = r_table("calibrate_cph_spline_ici.csv").iloc[0]
    for k in ["ICI", "E50", "E90"]:
        assert c.errors[k] == pytest.approx(ri[k], abs=1e-6), k
    t = c.table
    assert (t["n"] == 20).all()
    np.testing.assert_allclose(t["calibrated.corrected"], t["calibrated"] - t["mean.optimism"])
    # the corrected curve stays near the KM-corrected points (different estimator, loose check)
    km = r_table("calibrate_cph_km.csv")
    at = np.interp(km["mean.predicted"], t["pred"], t["calibrated.corrected"])
    assert np.max(np.abs(at - km["KM.corrected"])) < 0.06
    with pytest.raises(ValueError, match="'cmethod' parameter of calibrate"):
        calibrate(cox_model, gbsg2[COX_COLUMNS], gbsg2[["time", "cens"]], n_boot=2, horizon=1095, cmethod="hare")


def test_calibration_display_cox_spline(gbsg2, cox_model):
    from nomogram.displays import CalibrationDisplay

    c = calibrate(cox_model, gbsg2[COX_COLUMNS], gbsg2[["time", "cens"]], n_boot=5, random_state=1, horizon=1095,
                  cmethod="spline")
    d = CalibrationDisplay(c).plot()
    np.testing.assert_allclose(d.lines_["apparent"].get_ydata(), c.table["calibrated"])
    import matplotlib.pyplot as plt

    plt.close("all")


def test_rms_aliases_B_and_u_do_not_warn(gbsg2, cox_model):
    """B and u are documented aliases of n_boot and horizon for rms users: same result, no warning."""
    import warnings

    X, y = gbsg2[COX_COLUMNS], gbsg2[["time", "cens"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        old = calibrate(cox_model, X, y, B=3, u=1095, m=100, random_state=5)
        assert (old.B, old.u) == (3, 1095)
    new = calibrate(cox_model, X, y, n_boot=3, horizon=1095, m=100, random_state=5)
    pd.testing.assert_frame_equal(old.table, new.table)
    assert (new.n_boot, new.horizon) == (3, 1095)


def test_val_prob_conf_int_warns_and_plots(gbsg2, logistic_model):
    import matplotlib.pyplot as plt

    from nomogram.displays import CalibrationDisplay

    X, y = gbsg2[LOGISTIC_COLUMNS], gbsg2["cens"]
    p = logistic_model.predict_proba(X)[:, 1]
    new = val_prob(y, p, conf_level=0.9)
    with pytest.warns(FutureWarning, match="'conf_int' parameter of val_prob was renamed 'conf_level'"):
        old = val_prob(y, p, conf_int=0.9)
    pd.testing.assert_series_equal(old.statistics, new.statistics)
    d = new.plot()
    np.testing.assert_array_equal(d.lines_["apparent"].get_xdata(), new.smooth["x"])
    d2 = CalibrationDisplay.from_predictions(y, p)
    np.testing.assert_array_equal(d2.lines_["apparent"].get_ydata(), new.smooth["y"])
    plt.close("all")
