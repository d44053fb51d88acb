"""validate() against rms 6.5 validate.lrm / validate.cph on gbsg2 (R script:
tests/reference/validation/validation_reference.R, B = 400, outputs validate_*.csv)."""

import numpy as np
import pandas as pd
import pytest

from nomogram import validate
from nomogram.validation import COX_INDEXES, LOGISTIC_INDEXES, dual_sd, emax_from_calibration

from .conftest import COX_COLUMNS, LOGISTIC_COLUMNS, r_table

COLUMNS = ["index.orig", "training", "test", "optimism", "index.corrected", "n"]


@pytest.fixture(scope="module")
def v_logistic(gbsg2, logistic_model):
    return validate(logistic_model, gbsg2[LOGISTIC_COLUMNS], gbsg2["cens"], n_boot=400, random_state=7)


@pytest.fixture(scope="module")
def v_cox(gbsg2, cox_model):
    return validate(cox_model, gbsg2[COX_COLUMNS], gbsg2[["time", "cens"]], n_boot=400, random_state=7)


def _r(name):
    return r_table(name).set_index("index")


def test_logistic_table_layout(v_logistic):
    assert list(v_logistic.table.index) == LOGISTIC_INDEXES
    assert list(v_logistic.table.columns) == COLUMNS
    s = v_logistic.summary()
    assert list(s.columns) == COLUMNS[:5] + ["Lower", "Upper", "n"]
    assert list(v_logistic.summary(ci=False).columns) == COLUMNS


def test_cox_table_layout(v_cox):
    assert list(v_cox.table.index) == COX_INDEXES
    assert list(v_cox.table.columns) == COLUMNS


def test_logistic_index_orig_equals_rms(v_logistic):
    r = _r("validate_lrm_boot.csv")
    # acceptance criterion 1e-4; observed agreement is ~1e-9
    np.testing.assert_allclose(v_logistic.table["index.orig"], r.loc[LOGISTIC_INDEXES, "index.orig"],
                               rtol=0, atol=1e-6)


def test_cox_index_orig_equals_rms(v_cox):
    r = _r("validate_cph_boot.csv")
    np.testing.assert_allclose(v_cox.table["index.orig"], r.loc[COX_INDEXES, "index.orig"], rtol=0, atol=1e-6)


def test_logistic_corrected_close_to_rms(v_logistic):
    r = _r("validate_lrm_boot.csv")
    t = v_logistic.table
    # acceptance criterion: corrected Dxy within 0.015 of rms (both B = 400, different random streams)
    assert abs(t.loc["Dxy", "index.corrected"] - r.loc["Dxy", "index.corrected"]) < 0.015
    # the other indexes within bootstrap noise: 0.02 absolute, g (log-odds scale) 0.06, Slope 0.04
    tol = pd.Series(0.02, index=LOGISTIC_INDEXES)
    tol["g"], tol["Slope"] = 0.06, 0.04
    diff = (t["index.corrected"] - r.loc[LOGISTIC_INDEXES, "index.corrected"]).abs()
    assert (diff <= tol).all(), diff[diff > tol]
    assert (t["n"] == 400).all()


def test_cox_corrected_close_to_rms(v_cox):
    r = _r("validate_cph_boot.csv")
    t = v_cox.table
    assert abs(t.loc["Dxy", "index.corrected"] - r.loc["Dxy", "index.corrected"]) < 0.015
    tol = pd.Series(0.02, index=COX_INDEXES)
    tol["g"], tol["Slope"] = 0.05, 0.04
    diff = (t["index.corrected"] - r.loc[COX_INDEXES, "index.corrected"]).abs()
    assert (diff <= tol).all(), diff[diff > tol]


def test_table_arithmetic(v_logistic):
    t = v_logistic.table
    rows = [i for i in LOGISTIC_INDEXES if i != "Emax"]
    np.testing.assert_allclose(t.loc[rows, "optimism"], t.loc[rows, "training"] - t.loc[rows, "test"], atol=1e-12)
    np.testing.assert_allclose(t.loc[rows, "index.corrected"], t.loc[rows, "index.orig"] - t.loc[rows, "optimism"],
                               atol=1e-12)
    # rms 6.5 prints the Emax row as (0, 0, e, e, e): test = optimism = corrected = Emax computed
    # from the corrected calibration intercept and slope
    assert t.loc["Emax", "test"] == t.loc["Emax", "optimism"] == t.loc["Emax", "index.corrected"]
    assert t.loc["Emax", "index.orig"] == t.loc["Emax", "training"] == 0.0
    e = emax_from_calibration(t.loc["Intercept", "index.corrected"], t.loc["Slope", "index.corrected"])
    assert t.loc["Emax", "index.corrected"] == pytest.approx(e)
    # training and test averages are the means of the per-resample indexes
    np.testing.assert_allclose(t["training"].drop("Emax"), v_logistic.training_indexes.mean().drop("Emax"))


def test_confidence_limits_rms8_formula(v_logistic):
    """Lower/Upper = corrected -/+ z dualSD(training - 1.25 test) (rms 8 predab.resample)."""
    t = v_logistic.table
    cl = v_logistic.confidence_limits
    d = v_logistic.training_indexes["Dxy"] - 1.25 * v_logistic.test_indexes["Dxy"]
    m = d.mean()
    top = np.sqrt(np.sum((d[d >= m] - m) ** 2) / ((d >= m).sum() - 1))
    bottom = np.sqrt(np.sum((d[d <= m] - m) ** 2) / ((d <= m).sum() - 1))
    assert cl.loc["Dxy", "Lower"] == pytest.approx(t.loc["Dxy", "index.corrected"] - 1.959963984540054 * top)
    assert cl.loc["Dxy", "Upper"] == pytest.approx(t.loc["Dxy", "index.corrected"] + 1.959963984540054 * bottom)
    assert (cl["Lower"] <= t["index.corrected"]).all() and (t["index.corrected"] <= cl["Upper"]).all()


def test_dual_sd_small_sample_is_sd():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert dual_sd(x) == pytest.approx((np.std(x, ddof=1), np.std(x, ddof=1)))


def test_crossvalidation_and_632(gbsg2, logistic_model):
    X, y = gbsg2[LOGISTIC_COLUMNS], gbsg2["cens"]
    cv = validate(logistic_model, X, y, n_boot=10, method="crossvalidation", random_state=3)
    r = _r("validate_lrm_cv10.csv")
    assert (cv.table["n"] == 10).all()
    np.testing.assert_allclose(cv.table["index.orig"], r.loc[LOGISTIC_INDEXES, "index.orig"], atol=1e-6)
    # 10-fold CV with a different random partition: Dxy within 0.03
    assert abs(cv.table.loc["Dxy", "index.corrected"] - r.loc["Dxy", "index.corrected"]) < 0.03
    v632 = validate(logistic_model, X, y, n_boot=200, method=".632", random_state=3)
    r = _r("validate_lrm_632.csv")
    assert abs(v632.table.loc["Dxy", "index.corrected"] - r.loc["Dxy", "index.corrected"]) < 0.02
    t = v632.table
    np.testing.assert_allclose(t.loc["Dxy", "optimism"], 0.632 * (t.loc["Dxy", "index.orig"] - t.loc["Dxy", "test"]))


def test_bad_method_and_model(gbsg2, logistic_model):
    X, y = gbsg2[LOGISTIC_COLUMNS], gbsg2["cens"]
    with pytest.raises(ValueError, match=r"'method' parameter of validate must be one of .*Got 'bot'"):
        validate(logistic_model, X, y, method="bot")
    with pytest.raises(TypeError, match="fitted LogisticNomogram or CoxNomogram"):
        validate(object(), X, y)
    with pytest.raises(ValueError, match="n_boot <= n/2"):
        validate(logistic_model, X, y, n_boot=400, method="crossvalidation")
    from nomogram import LogisticNomogram, NotFittedError

    with pytest.raises(NotFittedError, match="call fit first"):
        validate(LogisticNomogram(), X, y)


def test_reproducible(gbsg2, logistic_model):
    X, y = gbsg2[LOGISTIC_COLUMNS], gbsg2["cens"]
    a = validate(logistic_model, X, y, n_boot=20, random_state=11).table
    b = validate(logistic_model, X, y, n_boot=20, random_state=11).table
    pd.testing.assert_frame_equal(a, b)


def test_penalized_logistic_matches_rms(gbsg2):
    """lrm(..., penalty = 5): R2 from the penalised LR, D from the unpenalised (rms 6.5)."""
    from nomogram import LogisticNomogram

    X, y = gbsg2[LOGISTIC_COLUMNS], gbsg2["cens"]
    m = LogisticNomogram(splines={"age": 4, "tsize": 3}, penalty=5).fit(X, y)
    v = validate(m, X, y, n_boot=400, random_state=7)
    r = _r("validate_lrm_penalty5_boot.csv")
    np.testing.assert_allclose(v.table["index.orig"], r.loc[LOGISTIC_INDEXES, "index.orig"], rtol=0, atol=1e-6)
    assert abs(v.table.loc["Dxy", "index.corrected"] - r.loc["Dxy", "index.corrected"]) < 0.015
    tol = pd.Series(0.02, index=LOGISTIC_INDEXES)
    tol["g"], tol["Slope"] = 0.06, 0.04
    diff = (v.table["index.corrected"] - r.loc[LOGISTIC_INDEXES, "index.corrected"]).abs()
    assert (diff <= tol).all(), diff[diff > tol]


def test_cox_crossvalidation_and_632_run(gbsg2, cox_model):
    X, y = gbsg2[COX_COLUMNS], gbsg2[["time", "cens"]]
    cv = validate(cox_model, X, y, n_boot=5, method="crossvalidation", random_state=1)
    assert (cv.table["n"] == 5).all()
    r = _r("validate_cph_boot.csv")
    np.testing.assert_allclose(cv.table["index.orig"], r.loc[COX_INDEXES, "index.orig"], atol=1e-6)
    # held-out Dxy of a 9 d.f. model on 686 patients is below the apparent one
    assert cv.table.loc["Dxy", "test"] < cv.table.loc["Dxy", "index.orig"]
    v = validate(cox_model, X, y, n_boot=40, method=".632", random_state=1)
    assert v.table.loc["Dxy", "index.corrected"] == pytest.approx(r.loc["Dxy", "index.corrected"], abs=0.04)


def test_outcome_errors(gbsg2, logistic_model, cox_model):
    X = gbsg2[LOGISTIC_COLUMNS]
    with pytest.raises(ValueError, match="y has 10 values but X has 686 rows"):
        validate(logistic_model, X, gbsg2["cens"][:10], n_boot=2)
    with pytest.raises(TypeError, match="pandas DataFrame"):
        validate(logistic_model, X.to_numpy(), gbsg2["cens"], n_boot=2)
    with pytest.raises(ValueError, match="'n_boot' parameter of validate"):
        validate(logistic_model, X, gbsg2["cens"], n_boot=0)
    with pytest.raises(TypeError, match=r"DataFrame \[time, event\]"):
        validate(cox_model, gbsg2[COX_COLUMNS], gbsg2["cens"], n_boot=2)


def test_failed_resamples_left_out_with_warning(gbsg2):
    """40 patients: some bootstrap refits diverge (separation); rms drops them and counts n."""
    from nomogram import LogisticNomogram, StatisticalWarning

    d = gbsg2.iloc[:40]
    X = d[["age", "tsize", "pnodes", "tgrade"]]
    m = LogisticNomogram(splines={"age": 3}).fit(X, d["cens"])
    with pytest.warns(StatisticalWarning, match=r"resamples did not converge"):
        v = validate(m, X, d["cens"], n_boot=60, random_state=0)
    assert v.n_failed > 0
    assert (v.table["n"] == 60 - v.n_failed).all()
    assert len(v.training_indexes) == 60 - v.n_failed


def test_old_names_B_alias_and_conf_int_warning(gbsg2, logistic_model):
    """B stays an rms alias without warning; conf_int= (level) and summary(conf_int=) warn."""
    import warnings

    X, y = gbsg2[LOGISTIC_COLUMNS], gbsg2["cens"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = validate(logistic_model, X, y, B=5, random_state=1)
    assert a.B == a.n_boot == 5
    with pytest.warns(FutureWarning, match="'conf_int' parameter of validate was renamed 'conf_level'"):
        b = validate(logistic_model, X, y, n_boot=5, random_state=1, conf_int=0.9)
    assert b.conf_level == 0.9
    c = validate(logistic_model, X, y, n_boot=5, random_state=1, conf_level=0.9)
    pd.testing.assert_frame_equal(b.summary(), c.summary())
    with pytest.warns(FutureWarning, match="'conf_int' parameter of ValidationResult.summary"):
        t = c.summary(conf_int=False)
    pd.testing.assert_frame_equal(t, c.summary(ci=False))
