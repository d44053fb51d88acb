"""Issue #12, models: inputs that used to give a silently wrong answer are refused or aligned.

One test per class: outcome coding, column types, alignment of y, infinite values.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from nomogram import CoxNomogram, LogisticNomogram, calibrate, validate
from tests._reference import reference_data


@pytest.fixture(scope="module")
def gbsg2():
    return reference_data("gbsg2")


# --------------------------------------------------------------------------- outcome coding
def test_text_outcome_needs_event_level(gbsg2):
    X = gbsg2[["age", "pnodes"]]
    yes_no = np.where(gbsg2["cens"] == 1, "Yes", "no")
    with pytest.raises(ValueError, match=r"levels \['Yes', 'no'\].*ambiguous.*event_level='Yes'"):
        LogisticNomogram().fit(X, yes_no)
    ref = LogisticNomogram().fit(X, gbsg2["cens"])
    m = LogisticNomogram(event_level="Yes").fit(X, yes_no)
    np.testing.assert_array_equal(m.coef_, ref.coef_)  # 'no' is not taken as the event
    # unambiguous text codes keep working
    np.testing.assert_array_equal(LogisticNomogram().fit(X, gbsg2["cens"].astype(str)).coef_, ref.coef_)
    tf = np.where(gbsg2["cens"] == 1, "True", "False")
    np.testing.assert_array_equal(LogisticNomogram().fit(X, tf).coef_, ref.coef_)
    with pytest.raises(ValueError, match=r"event_level='dead' never occurs in y.*\['Yes', 'no'\]"):
        LogisticNomogram(event_level="dead").fit(X, yes_no)
    # validate reads the model's event_level
    v = validate(m, X, yes_no, n_boot=3, random_state=1)
    assert np.isfinite(v.summary()["index.orig"]).all()


def test_survival_event_text_needs_event_level(gbsg2):
    X = gbsg2[["age", "pnodes"]]
    y = pd.DataFrame({"time": gbsg2["time"], "status": np.where(gbsg2["cens"] == 1, "dead", "alive")})
    with pytest.raises(ValueError, match=r"event indicator is text with levels \['alive', 'dead'\].*event_level='dead'"):
        CoxNomogram().fit(X, y)
    ref = CoxNomogram().fit(X, gbsg2[["time", "cens"]])
    m = CoxNomogram(event_level="dead").fit(X, y)
    np.testing.assert_array_equal(m.coef_, ref.coef_)


# --------------------------------------------------------------------------- column types
def test_numeric_column_with_a_stray_string_is_refused(gbsg2):
    X = gbsg2[["age", "tsize"]].astype({"tsize": str})
    X.loc[17, "tsize"] = "12a"
    with pytest.raises(ValueError, match=r"'tsize' holds numbers in 685 of 686 rows but \['12a'\].*rows \[17\]"):
        LogisticNomogram().fit(X, gbsg2["cens"])
    X.loc[17, "tsize"] = 12  # numbers held as Python objects are numbers
    X["tsize"] = X["tsize"].map(lambda v: int(v))
    assert LogisticNomogram().fit(X.astype({"tsize": object}), gbsg2["cens"]).coef_.index.tolist() == [
        "Intercept", "age", "tsize"]
    # the same column declared a factor is the user's explicit choice
    X2 = gbsg2[["age"]].assign(grade=gbsg2["tgrade"].astype(str).map({"I": "1", "II": "2", "III": "3x"}))
    with pytest.raises(ValueError, match="'grade' holds numbers"):
        LogisticNomogram().fit(X2, gbsg2["cens"])
    assert "grade=3x" in LogisticNomogram(categorical=["grade"]).fit(X2, gbsg2["cens"]).coef_.index


def test_identifier_and_date_columns_are_refused(gbsg2):
    X = gbsg2[["age"]].assign(patient=[f"P{i:04d}" for i in range(len(gbsg2))])
    with pytest.raises(ValueError, match=r"'patient' is text with 686 distinct values in 686 rows \(an identifier\?\)"):
        LogisticNomogram().fit(X, gbsg2["cens"])
    X = gbsg2[["age"]].assign(site=[f"S{i % 25}" for i in range(len(gbsg2))])
    with pytest.raises(ValueError, match=r"'site' is text with 25 distinct.*list it in categorical="):
        LogisticNomogram().fit(X, gbsg2["cens"])
    assert len(LogisticNomogram(categorical=["site"]).fit(X, gbsg2["cens"]).coef_) == 26
    X = gbsg2[["age"]].assign(diagnosed=pd.Timestamp("2020-01-01") + pd.to_timedelta(gbsg2["time"], "D"))
    with pytest.raises(ValueError, match=r"'diagnosed' holds dates.*days since diagnosis"):
        CoxNomogram().fit(X, gbsg2[["time", "cens"]])
    # text factors with few levels stay factors, as before
    m = LogisticNomogram().fit(gbsg2[["age", "tgrade", "horTh"]], gbsg2["cens"])
    assert list(m.coef_.index) == ["Intercept", "age", "tgrade=II", "tgrade=III", "horTh=yes"]


def test_predict_names_non_numeric_values(gbsg2):
    m = LogisticNomogram().fit(gbsg2[["age", "tsize"]], gbsg2["cens"])
    new = gbsg2[["age", "tsize"]].head(4).astype(object)
    new.loc[2, "tsize"] = "n/a"
    with pytest.raises(ValueError, match=r"'tsize' must hold numbers.*\['n/a'\] \(rows \[2\]\)"):
        m.predict_proba(new)


# --------------------------------------------------------------------------- alignment
def test_y_is_aligned_to_X_by_index(gbsg2):
    X = gbsg2[["age", "pnodes"]]
    ref = LogisticNomogram().fit(X, gbsg2["cens"])
    shuffled = gbsg2["cens"].sample(frac=1, random_state=0)
    np.testing.assert_array_equal(LogisticNomogram().fit(X, shuffled).coef_, ref.coef_)
    cref = CoxNomogram().fit(X, gbsg2[["time", "cens"]])
    ys = gbsg2[["time", "cens"]].sample(frac=1, random_state=0)
    np.testing.assert_array_equal(CoxNomogram().fit(X, ys).coef_, cref.coef_)
    other = gbsg2["cens"].set_axis(np.arange(len(gbsg2)) + 1000)
    with pytest.raises(ValueError, match="y's index does not match X's: 686 of X's 686 row labels"):
        LogisticNomogram().fit(X, other)
    with pytest.raises(ValueError, match="y's index does not match X's: 686"):
        calibrate(ref, X, other, n_boot=3)
    # an array is paired by position
    np.testing.assert_array_equal(LogisticNomogram().fit(X, other.to_numpy()).coef_, ref.coef_)


# --------------------------------------------------------------------------- infinite values
def test_infinite_values_are_refused_with_column_and_row(gbsg2):
    X = gbsg2[["age", "tsize"]].astype(float).copy()
    X.loc[5, "tsize"] = np.inf
    with pytest.raises(ValueError, match=r"'tsize' of X has 1 infinite value\(s\) \(rows \[5\]\)"):
        CoxNomogram().fit(X, gbsg2[["time", "cens"]])
    with pytest.raises(ValueError, match=r"'tsize' of X has 1 infinite"):
        LogisticNomogram().fit(X, gbsg2["cens"])
    m = LogisticNomogram().fit(gbsg2[["age", "tsize"]], gbsg2["cens"])
    with pytest.raises(ValueError, match=r"'tsize' of X has 1 infinite value\(s\) \(rows \[5\]\)"):
        m.predict_proba(X)
    y = gbsg2[["time", "cens"]].astype(float).copy()
    y.loc[3, "time"] = np.inf
    with pytest.raises(ValueError, match="times must be finite; row 3"):
        CoxNomogram().fit(gbsg2[["age"]], y)
    yb = gbsg2["cens"].astype(float).copy()
    yb[yb == 1] = np.inf
    with pytest.raises(ValueError, match="y has .* infinite value"):
        LogisticNomogram().fit(gbsg2[["age"]], yb)


# --------------------------------------------------------------------------- separation
def _level_data(seed=0, n=200):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n), "noise": rng.normal(size=n)})
    return rng, X


def test_separation_and_monotone_likelihood_are_named():
    from nomogram.exceptions import SeparationWarning

    rng, X = _level_data()
    y = (rng.uniform(size=len(X)) < 0.4).astype(int)
    y[X["g"] == "c"] = 1
    with pytest.warns(SeparationWarning, match=r"level 'c' of 'g': all \d+ patients had the event.*g=c: 10.9 .*"
                                               r"penalty="):
        m = LogisticNomogram().fit(X, y)
    assert m.coef_["g=c"] == pytest.approx(10.91, abs=0.01)  # the coefficients themselves are unchanged
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeparationWarning)
        LogisticNomogram(penalty=1.0).fit(X, y)  # the remedy silences it
    t = rng.exponential(10, len(X))
    e = (rng.uniform(size=len(X)) < 0.6).astype(int)
    e[X["g"] == "c"] = 0
    with pytest.warns(SeparationWarning, match=r"level 'c' of 'g': none of its \d+ patients had an event.*monotone"):
        CoxNomogram().fit(X, pd.DataFrame({"t": t, "e": e}))
    e[X["g"] == "a"] = 0  # the reference level without events: every other level diverges
    e[X["g"] == "c"] = 1
    with pytest.warns(SeparationWarning, match=r"level 'a' of 'g' \(the reference\).*g=b: .*g=c: "):
        CoxNomogram().fit(X, pd.DataFrame({"t": t, "e": e}))


def test_no_separation_warning_on_the_reference_models():
    from nomogram.exceptions import SeparationWarning
    from tests.nomogram.models.conftest import MODEL_SPECS, fit_reference_model

    with warnings.catch_warnings():
        warnings.simplefilter("error", SeparationWarning)
        for name in MODEL_SPECS:
            fit_reference_model(name)


def test_hazard_ratio_of_a_group_without_events_is_not_estimable(gbsg2):
    from nomogram import risk_groups
    from nomogram.risk_groups import hazard_ratio_table
    from nomogram.exceptions import SeparationWarning

    score = gbsg2["pnodes"].to_numpy(float)
    y = gbsg2[["time", "cens"]].copy()
    y.loc[score > 10, "cens"] = 0  # the high group has no event
    with pytest.warns(SeparationWarning, match=r"\['high'\] have no event.*not estimable"):
        rg = risk_groups(y, score, cutoff=10)
    s = rg.summary()
    assert np.isnan(s.loc["high", ["hr", "hr_lower", "hr_upper", "p_value"]].astype(float)).all()
    assert rg.logrank.p_value < 0.05  # the log-rank test is still the comparison to read
    with pytest.warns(SeparationWarning, match="not estimable"):
        t = hazard_ratio_table(y, np.where(score > 10, "B", "A"), reference="B")
    assert np.isnan(t.loc["A", "hr"])
    ok = hazard_ratio_table(gbsg2[["time", "cens"]], np.where(score > 10, "B", "A"))
    assert np.isfinite(ok.loc["B", ["hr", "hr_lower", "hr_upper"]].astype(float)).all()


# --------------------------------------------------------------------------- prediction outside the data
def test_prediction_outside_the_training_data_is_flagged(gbsg2):
    from nomogram.exceptions import ExtrapolationWarning

    X = gbsg2[["age", "tsize"]]
    m = LogisticNomogram().fit(X, gbsg2["cens"])
    new = X.head(3).copy()
    new.loc[1, "age"] = 250
    with pytest.warns(ExtrapolationWarning, match=r"'age' has 1 value\(s\) outside the training range \[21, 80\]: "
                                                  r"\[250.0\] \(rows \[1\]\)"):
        m.predict_proba(new)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExtrapolationWarning)
        m.predict_proba(X)  # the training data itself is within range
    c = CoxNomogram(times=[365]).fit(X, gbsg2[["time", "cens"]])
    with pytest.raises(ValueError, match=r"times must be finite times >= 0; got \[-5.0\]"):
        c.predict_survival(X.head(2), times=[-5])
    with pytest.warns(ExtrapolationWarning, match=r"times \[5000.0\] lie beyond the last follow-up time .*2659"):
        S = c.predict_survival(X.head(2), times=[365, 5000])
    assert np.isnan(S[5000]).all() and np.isfinite(S[365]).all()
    with pytest.raises(ValueError, match="times must be finite"):
        c.survest(X.head(2), times=[-1])


# --------------------------------------------------------------------------- siblings
def test_siblings_use_the_same_checkers(gbsg2):
    from nomogram import decision_curve, regression_table
    from nomogram.features import Signature

    df = gbsg2.assign(recurred=np.where(gbsg2["cens"] == 1, "Yes", "no"))
    with pytest.raises(ValueError, match=r"levels \['Yes', 'no'\].*event_level='Yes'"):
        regression_table(df, "recurred", ["age", "tgrade"])
    t = regression_table(df, "recurred", ["age", "tgrade"], event_level="Yes")
    ref = regression_table(df, "cens", ["age", "tgrade"])
    pd.testing.assert_frame_equal(t.table, ref.table)
    with pytest.raises(ValueError, match=r"'pid' is text with 686 distinct values"):
        regression_table(df.assign(pid=[f"P{i}" for i in range(len(df))]), "cens", ["age", "pid"])
    with pytest.raises(ValueError, match="ambiguous"):
        decision_curve(df["recurred"], pd.DataFrame({"m": gbsg2["age"] / 100}))
    risk = pd.DataFrame({"m": gbsg2["pnodes"] / 52}, index=gbsg2.index)
    shuffled = gbsg2["cens"].sample(frac=1, random_state=1)
    pd.testing.assert_frame_equal(decision_curve(shuffled, risk).summary(),
                                  decision_curve(gbsg2["cens"], risk).summary())
    other = gbsg2["cens"].set_axis(np.arange(len(gbsg2)) + 5000)
    X = gbsg2[["age", "tsize", "pnodes", "progrec", "estrec"]].astype(float)
    with pytest.raises(ValueError, match="y's index does not match X's"):
        Signature().fit(X, other)
