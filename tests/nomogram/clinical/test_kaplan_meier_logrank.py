"""Kaplan–Meier (survfit) and log-rank (survdiff) against R and a hand-computed case."""

import numpy as np
import pytest

from nomogram._kaplan_meier import kaplan_meier
from nomogram._logrank import logrank_test

from tests._reference import reference_csv, reference_data, reference_json

ATOL_KM = 1e-10


def test_hand_computed_km_with_ties():
    # times 1,2,2,3,4(c),5 ; events 1,1,0,1,0,1 -> at 1: 6 at risk 1 event; at 2: 5 at risk, 1 event
    # (the censoring at 2 is at risk); at 3: 3 at risk; at 5: 1 at risk
    time = np.array([1, 2, 2, 3, 4, 5.0])
    event = np.array([1, 1, 0, 1, 0, 1.0])
    km = kaplan_meier(np.column_stack([time, event]))
    s1, s2, s3 = 5 / 6, 5 / 6 * 4 / 5, 5 / 6 * 4 / 5 * 2 / 3
    np.testing.assert_allclose(km.surv, [s1, s2, s3, s3, 0.0], atol=1e-15)
    np.testing.assert_array_equal(km.n_risk, [6, 5, 3, 2, 1])
    g = 1 / (6 * 5) + 1 / (5 * 4) + 1 / (3 * 2)  # Greenwood sum at t = 3
    assert km.std_err[2] == pytest.approx(s3 * np.sqrt(g), abs=1e-15)
    assert km.lower[2] == pytest.approx(s3 * np.exp(-1.959963984540054 * np.sqrt(g)), abs=1e-12)
    assert np.isnan(km.lower[-1])  # S = 0: survfit gives NA limits
    got = km.at([3.5, 5.0, 6.0])
    np.testing.assert_allclose(got["surv"][:2], [s3, 0.0], rtol=0, atol=1e-15)
    assert np.isnan(got["surv"].iloc[2])  # no follow-up reaches t


@pytest.mark.parametrize("group", ["no", "yes"])
def test_km_matches_survfit_gbsg2_by_horTh(group):
    d = reference_data("gbsg2")
    ref = reference_csv("clinical/km_gbsg2_horTh.csv")
    ref = ref[ref.group == group]
    m = d.horTh == group
    tab = kaplan_meier(d.loc[m, ["time", "cens"]]).table()
    np.testing.assert_array_equal(tab["time"], ref.time)
    np.testing.assert_array_equal(tab["n.risk"], ref.n_risk)
    np.testing.assert_array_equal(tab["n.event"], ref.n_event)
    for ours, theirs in [("surv", "surv"), ("std.err", "std_err"), ("lower", "lower"), ("upper", "upper")]:
        np.testing.assert_allclose(tab[ours], ref[theirs], rtol=0, atol=ATOL_KM, err_msg=ours)


def test_km_loglog_and_rossi():
    d = reference_data("gbsg2")
    ref = reference_csv("clinical/km_gbsg2_loglog.csv")
    tab = kaplan_meier(d[["time", "cens"]], conf_type="log-log").table()
    np.testing.assert_allclose(tab["lower"], ref.lower, atol=ATOL_KM)  # NaN where R has NA
    np.testing.assert_allclose(tab["upper"], ref.upper, atol=ATOL_KM)
    r = reference_data("rossi")
    ref = reference_csv("clinical/km_rossi_all.csv")
    tab = kaplan_meier(r[["week", "arrest"]]).table()
    for ours, theirs in [("surv", "surv"), ("std.err", "std_err"), ("lower", "lower"), ("upper", "upper")]:
        np.testing.assert_allclose(tab[ours], ref[theirs], atol=ATOL_KM)


def test_km_landmarks_match_summary_survfit_times():
    d = reference_data("gbsg2")
    ref = reference_csv("clinical/km_gbsg2_horTh_landmarks.csv")
    for group in ["no", "yes"]:
        m = d.horTh == group
        got = kaplan_meier(d.loc[m, ["time", "cens"]]).at([365.25, 730.5, 1095.75])
        r = ref[ref.group == group]
        np.testing.assert_array_equal(got["n.risk"], r.n_risk)
        for ours, theirs in [("surv", "surv"), ("std.err", "std_err"), ("lower", "lower"), ("upper", "upper")]:
            np.testing.assert_allclose(got[ours], r[theirs], atol=ATOL_KM)


def test_km_at_outside_follow_up():
    km = kaplan_meier(np.array([[2.0, 1], [3.0, 0], [5.0, 1]]))
    got = km.at([1.0, 10.0])
    assert got["surv"].iloc[0] == 1.0 and got["std.err"].iloc[0] == 0.0
    assert np.isnan(got["surv"].iloc[1])
    assert got["n.risk"].tolist() == [3, 0]


def test_logrank_two_groups_matches_survdiff():
    d = reference_data("gbsg2")
    ref = reference_json("clinical/clinical_reference.json")["logrank_horTh"]
    res = logrank_test(d[["time", "cens"]], d.horTh)
    assert res.chisq == pytest.approx(ref["chisq"], rel=1e-8)
    assert res.p_value == pytest.approx(ref["p"], rel=1e-8)
    np.testing.assert_allclose(res.observed, ref["observed"], rtol=1e-12)
    np.testing.assert_allclose(res.expected, ref["expected"], rtol=1e-10)
    assert res.df == 1
    assert list(res.summary().columns) == ["N", "Observed", "Expected", "(O-E)^2/E", "(O-E)^2/V"]


def test_logrank_three_groups_matches_survdiff():
    d = reference_data("gbsg2")
    ref = reference_json("clinical/clinical_reference.json")["logrank_tgrade"]
    res = logrank_test(d[["time", "cens"]], d.tgrade)
    assert res.df == 2
    assert res.chisq == pytest.approx(ref["chisq"], rel=1e-8)
    assert res.p_value == pytest.approx(ref["p"], rel=1e-8)
    np.testing.assert_allclose(res.variance.ravel(), ref["var"], rtol=1e-10)


def test_logrank_hand_computed():
    # two groups, one event time each with no ties: A events at 1, B at 2.
    # t=1: n=4 (A 2, B 2), d=1 -> E_A=0.5, V=1*(3/3)*0.5*0.5=0.25
    # t=2: n=2 (A 1, B 1) after A's patient at 1 left and B's censored at 1.5 ... keep it exact:
    time = np.array([1.0, 3.0, 2.0, 4.0])
    event = np.array([1, 0, 1, 0])
    group = np.array(["A", "A", "B", "B"])
    # t=1: at risk A2 B2 d=1 (A): E_A=0.5 V=0.25 ; t=2: at risk A1 B2 d=1 (B): E_A=1/3 V=(1/3)(2/3)
    res = logrank_test(np.column_stack([time, event]), group)
    oe = 1 - (0.5 + 1 / 3)
    v = 0.25 + 2 / 9
    assert res.chisq == pytest.approx(oe**2 / v, rel=1e-14)


def test_logrank_needs_two_groups():
    with pytest.raises(ValueError, match="at least two groups"):
        logrank_test(np.array([[1.0, 1], [2.0, 1]]), ["a", "a"])


def _nan_or(v):
    return float("nan") if v == "NA" else float(v)


def test_median_survival_and_ci_match_quantile_survfit():
    ref = reference_json("clinical/clinical_reference.json")
    d = reference_data("gbsg2")
    for level, r in zip(["I", "II", "III"], ref["median_tgrade"]):
        m = d.tgrade == level
        got = kaplan_meier(d.loc[m, ["time", "cens"]]).quantile(0.5)
        np.testing.assert_allclose(got, [_nan_or(r[k]) for k in ("median", "lower", "upper")], rtol=1e-12)
    for key, (time, event) in {
        "median_toy_flat": ([1, 2, 3, 4], [1, 1, 0, 0]),  # S = 0.5 on [2, 3): midpoint rule
        "median_toy_ends_half": ([1, 2, 3, 4], [1, 1, 1, 0]),
        "median_toy_ends_half2": ([1, 2, 5, 6], [0, 1, 0, 0]),
    }.items():
        got = kaplan_meier(np.column_stack([time, event]).astype(float)).quantile(0.5)
        r = ref[key]
        np.testing.assert_allclose(got, [_nan_or(r[k]) for k in ("median", "lower", "upper")], rtol=1e-12)


def test_old_time_event_form_warns_and_agrees():
    """kaplan_meier(time, event) and logrank_test(time, event, group) still work, with a FutureWarning."""
    d = reference_data("gbsg2")
    with pytest.warns(FutureWarning, match=r"kaplan_meier\(y, \.\.\.\)"):
        old = kaplan_meier(d.time, d.cens)
    np.testing.assert_array_equal(old.surv, kaplan_meier(d[["time", "cens"]]).surv)
    with pytest.warns(FutureWarning, match=r"logrank_test\(y, group, \.\.\.\)"):
        old = logrank_test(time=d.time, event=d.cens, group=d.horTh)
    assert old.chisq == logrank_test(d[["time", "cens"]], d.horTh).chisq
