"""risk_groups, maxstat and time-dependent ROC against R (survival, maxstat)."""

import numpy as np
import pytest

from nomogram.risk_groups import maxstat_cutoff, risk_groups, time_dependent_roc

from tests._reference import reference_csv, reference_data, reference_json


@pytest.fixture(scope="module")
def gbsg2():
    d = reference_data("gbsg2")
    d["score"] = reference_csv("clinical/gbsg2_score.csv").score.values  # Cox LP written by R (17 digits)
    return d


def test_median_groups_match_survdiff_and_coxph(gbsg2):
    ref = reference_json("clinical/clinical_reference.json")["median_groups"]
    rg = risk_groups(gbsg2[["time", "cens"]], gbsg2.score, cutoff="median")
    assert rg.cutoff == pytest.approx(ref["cutoff"], rel=1e-14)
    assert (rg.group == "high").sum() == ref["n_high"]
    assert rg.logrank.chisq == pytest.approx(ref["chisq"], rel=1e-8)
    assert rg.logrank.p_value == pytest.approx(ref["p"], rel=1e-8)
    hr = rg.hazard_ratio.loc["high"]
    for ours, theirs in [("hr", "hr"), ("hr_lower", "hr_lower"), ("hr_upper", "hr_upper"), ("p_value", "hr_p")]:
        assert hr[ours] == pytest.approx(ref[theirs], rel=1e-6), ours
    assert rg.hazard_ratio.attrs["coef"][0] == pytest.approx(ref["coef"], rel=1e-6)
    assert rg.hazard_ratio.attrs["se"][0] == pytest.approx(ref["se"], rel=1e-6)
    s = rg.summary()
    for lab, r in zip(["low", "high"], reference_json("clinical/clinical_reference.json")["median_groups_km"]):
        got = s.loc[lab, ["median_survival", "median_lower", "median_upper"]].to_numpy(float)
        want = [np.nan if r[k] == "NA" else r[k] for k in ("median", "lower", "upper")]
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_landmarks_and_numbers_at_risk(gbsg2):
    rg = risk_groups(gbsg2[["time", "cens"]], gbsg2.score, landmarks=[365.25, 730.5, 1095.75])
    ref = reference_csv("clinical/landmarks_median_groups.csv")
    lm = rg.landmark_table()
    for lab, code in [("low", 0), ("high", 1)]:
        got = lm[lm.group == lab]
        r = ref[ref.group == code]
        np.testing.assert_array_equal(got.n_risk, r.n_risk)
        for ours, theirs in [("survival", "surv"), ("std_err", "std_err"), ("lower", "lower"), ("upper", "upper")]:
            np.testing.assert_allclose(got[ours], r[theirs], atol=1e-10)
    nr = rg.numbers_at_risk(range(0, 2501, 500))
    ref = reference_csv("clinical/n_risk_median_groups.csv")
    np.testing.assert_array_equal(nr.loc["low"].values, ref[ref.group == 0].n_risk.values)
    np.testing.assert_array_equal(nr.loc["high"].values, ref[ref.group == 1].n_risk.values)
    # default landmarks: 1, 2, 3 years of 365.25 days, as columns of the summary
    s = risk_groups(gbsg2[["time", "cens"]], gbsg2.score).summary()
    assert {"survival_365.25", "lower_730.5", "upper_1095.75", "hr", "logrank_p"} <= set(s.columns)
    assert s.loc["low", "hr"] == 1.0


@pytest.mark.parametrize(
    "key, col, minprop, maxprop",
    [("maxstat_score", "score", 0.1, 0.9), ("maxstat_pnodes", "pnodes", 0.2, 0.8)],
)
def test_maxstat_matches_R(gbsg2, key, col, minprop, maxprop):
    ref = reference_json("clinical/clinical_reference.json")[key]
    ms = maxstat_cutoff(gbsg2[["time", "cens"]], gbsg2[col], minprop=minprop, maxprop=maxprop)
    assert ms.statistic == pytest.approx(ref["statistic"], rel=1e-10)
    assert ms.p_value == pytest.approx(ref["p"], rel=1e-8)
    assert ms.cutoff == pytest.approx(ref["estimate"], rel=1e-14)


def test_maxstat_heavy_ties_rossi():
    # weeks are heavily tied: checks cscores' tie convention
    r = reference_data("rossi")
    ref = reference_json("clinical/clinical_reference.json")["maxstat_rossi_prio"]
    ms = maxstat_cutoff(r[["week", "arrest"]], r.prio)
    assert ms.statistic == pytest.approx(ref["statistic"], rel=1e-10)
    assert ms.p_value == pytest.approx(ref["p"], rel=1e-8)
    assert ms.cutoff == ref["estimate"]


def test_lausen92_formula_by_hand():
    from scipy.stats import norm

    from nomogram.risk_groups import _p_lausen92

    b = 3.0
    expected = 4 * norm.pdf(b) / b + norm.pdf(b) * (b - 1 / b) * np.log(0.9 * 0.9 / (0.1 * 0.1))
    assert _p_lausen92(b, 0.1, 0.9) == pytest.approx(expected, rel=1e-14)
    assert _p_lausen92(0.5, 0.1, 0.9) == 1.0


def test_maxstat_groups_hazard_ratio(gbsg2):
    ref = reference_json("clinical/clinical_reference.json")["maxstat_groups"]
    rg = risk_groups(gbsg2[["time", "cens"]], gbsg2.score, cutoff="maxstat")
    assert rg.maxstat is not None and rg.cutoff == pytest.approx(reference_json("clinical/clinical_reference.json")["maxstat_score"]["estimate"])
    hr = rg.hazard_ratio.loc["high"]
    assert hr["hr"] == pytest.approx(ref["hr"], rel=1e-6)
    assert hr["hr_lower"] == pytest.approx(ref["hr_lower"], rel=1e-6)
    assert hr["hr_upper"] == pytest.approx(ref["hr_upper"], rel=1e-6)


def test_youden_time_dependent_roc(gbsg2):
    ref = reference_json("clinical/clinical_reference.json")["youden"]
    roc_ref = reference_csv("clinical/td_roc_gbsg2_score.csv")
    roc = time_dependent_roc(gbsg2[["time", "cens"]], gbsg2.score, ref["t"])
    np.testing.assert_allclose(roc.cutoff, roc_ref.cut, rtol=1e-14)
    np.testing.assert_allclose(roc.sensitivity, roc_ref.se, atol=1e-12)
    np.testing.assert_allclose(roc.specificity, roc_ref.sp, atol=1e-12)
    rg = risk_groups(gbsg2[["time", "cens"]], gbsg2.score, cutoff="youden", horizon=ref["t"])
    assert rg.cutoff == pytest.approx(ref["cutoff"], rel=1e-14)


def test_fixed_cutoff_and_labels(gbsg2):
    rg = risk_groups(gbsg2[["time", "cens"]], gbsg2.score, cutoff=0.5, labels=("favourable", "poor"))
    assert rg.method == "fixed"
    assert set(rg.group) == {"favourable", "poor"}
    assert ((rg.group == "poor") == (gbsg2.score.values > 0.5)).all()


def test_errors_name_the_fix(gbsg2):
    with pytest.raises(ValueError, match="needs horizon="):
        risk_groups(gbsg2[["time", "cens"]], gbsg2.score, cutoff="youden")
    with pytest.raises(ValueError, match="must be one of"):
        risk_groups(gbsg2[["time", "cens"]], gbsg2.score, cutoff="mean")
    with pytest.raises(ValueError, match="'high' group empty"):
        risk_groups(gbsg2[["time", "cens"]], gbsg2.score, cutoff=1e6)
    with pytest.raises(ValueError, match="has 3 values but y has"):
        risk_groups(gbsg2[["time", "cens"]], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="positive"):
        risk_groups(np.array([[0.0, 1], [1.0, 0], [2.0, 1]]), [1.0, 2.0, 3.0])


def test_old_time_event_and_t_forms_warn_and_agree(gbsg2):
    """risk_groups(time, event, score, t=...) and friends keep working, with a FutureWarning."""
    y = gbsg2[["time", "cens"]]
    new = risk_groups(y, gbsg2.score, cutoff="youden", horizon=1095.75)
    with pytest.warns(FutureWarning) as rec:
        old = risk_groups(gbsg2.time, gbsg2.cens, gbsg2.score, cutoff="youden", t=1095.75)
    messages = [str(w.message) for w in rec]
    assert any("'t' parameter of risk_groups was renamed 'horizon'" in m for m in messages)
    assert any("risk_groups(y, score, ...)" in m for m in messages)
    assert old.cutoff == new.cutoff and old.logrank.chisq == new.logrank.chisq
    with pytest.warns(FutureWarning, match="renamed horizon"):
        assert old.t == new.horizon == 1095.75
    with pytest.warns(FutureWarning, match=r"maxstat_cutoff\(y, score"):
        assert maxstat_cutoff(gbsg2.time, gbsg2.cens, gbsg2.score).cutoff == maxstat_cutoff(y, gbsg2.score).cutoff
    with pytest.warns(FutureWarning, match=r"time_dependent_roc\(y, score"):
        old_roc = time_dependent_roc(time=gbsg2.time, event=gbsg2.cens, score=gbsg2.score, horizon=1000.0)
    assert old_roc.equals(time_dependent_roc(y, gbsg2.score, 1000.0))


def test_result_summaries_are_tables(gbsg2):
    rg = risk_groups(gbsg2[["time", "cens"]], gbsg2.score, cutoff="maxstat")
    s = rg.maxstat.summary()
    assert s.shape == (1, 6) and s.loc[0, "cutoff"] == rg.cutoff
    assert rg.summary().shape[0] == 2


def test_time_unit_sets_default_landmarks_and_year_warns(gbsg2):
    y = gbsg2[["time", "cens"]]
    months = y.assign(time=y["time"] / (365.25 / 12))
    rg = risk_groups(months, gbsg2.score, time_unit="months")
    np.testing.assert_array_equal(rg.landmark_times, [12.0, 24.0, 36.0])
    with pytest.warns(FutureWarning, match="pass time_unit="):
        old = risk_groups(months, gbsg2.score, year=12)
    np.testing.assert_array_equal(old.landmark_times, rg.landmark_times)
    with pytest.raises(ValueError, match="The 'time_unit' parameter of risk_groups must be one of"):
        risk_groups(y, gbsg2.score, time_unit="decades")
