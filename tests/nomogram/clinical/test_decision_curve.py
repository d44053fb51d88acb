"""Decision curves: dcurves definitions by hand, and against base-R computations on real data.

dcurves is not installable here (not in Debian, CRAN unreachable), so the R side
(tests/reference/clinical/clinical_reference.R) evaluates dcurves' formulas with
base R and survival::survfit; the hand-computed cases below pin the definitions.
"""

import numpy as np
import pandas as pd
import pytest

from nomogram.decision_curve import decision_curve, default_thresholds

from tests._reference import reference_csv, reference_data

Y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
P = np.array([0.9, 0.6, 0.2, 0.7, 0.4, 0.3, 0.2, 0.1, 0.05, 0.0])


def test_binary_hand_computed():
    res = decision_curve(Y, {"m": P}, thresholds=[0.0, 0.25, 0.5])
    s = res.summary().set_index(["variable", "threshold"])
    # pt = 0.25: positives (>= .25): .9 .6 (events) .7 .4 .3 (non-events): TP=2, FP=3, n=10
    assert s.loc[("m", 0.25), "net_benefit"] == pytest.approx(2 / 10 - 3 / 10 * (0.25 / 0.75), abs=1e-15)
    # pt = 0.5: TP = 2 (.9 .6), FP = 1 (.7)
    assert s.loc[("m", 0.5), "net_benefit"] == pytest.approx(0.2 - 0.1 * 1.0, abs=1e-15)
    # pt = 0: every positive risk counts, the 0 risk does not (dcurves' -eps shift): TP=3, FP=6
    assert s.loc[("m", 0.0), "tp_rate"] == pytest.approx(0.3, abs=1e-15)
    assert s.loc[("m", 0.0), "fp_rate"] == pytest.approx(0.6, abs=1e-15)
    # treat all: prevalence - (1 - prevalence) pt/(1-pt); treat none: 0
    assert s.loc[("all", 0.25), "net_benefit"] == pytest.approx(0.3 - 0.7 / 3, abs=1e-15)
    assert s.loc[("none", 0.0), "net_benefit"] == 0.0
    assert (s.xs("none", level="variable")["net_benefit"] == 0).all()
    # standardized NB and interventions avoided per 100
    assert s.loc[("m", 0.25), "standardized_net_benefit"] == pytest.approx((0.2 - 0.1) / 0.3, abs=1e-14)
    nb_m, nb_all = 0.2 - 0.1, 0.3 - 0.7 / 3
    assert s.loc[("m", 0.25), "net_intervention_avoided"] == pytest.approx((nb_m - nb_all) / (1 / 3) * 100, abs=1e-12)
    # clinical impact per 1000: 5 of 10 high risk, 2 of them with the event
    assert s.loc[("m", 0.25), "n_high_risk"] == pytest.approx(500.0)
    assert s.loc[("m", 0.25), "n_high_risk_with_event"] == pytest.approx(200.0)
    assert s.loc[("all", 0.25), "label"] == "Treat All"


def test_case_control_prevalence_and_harm():
    res = decision_curve(Y, {"m": P}, thresholds=[0.25], prevalence=0.1, harm={"m": 0.01})
    s = res.summary().set_index("variable")
    # Bayes rule: TP/n = sens * prev = (2/3)(0.1); FP/n = (3/7)(0.9)
    nb = (2 / 3) * 0.1 - (3 / 7) * 0.9 / 3 - 0.01
    assert s.loc["m", "net_benefit"] == pytest.approx(nb, abs=1e-15)
    assert s.loc["m", "harm"] == 0.01
    assert np.isnan(s.loc["m", "standardized_net_benefit"])  # dcurves refuses sNB with harms


def test_survival_hand_computed():
    # 6 patients; horizon t = 4
    time = np.array([1.0, 2.0, 3.0, 5.0, 6.0, 7.0])
    event = np.array([1, 0, 1, 1, 0, 0])
    risk = np.array([0.8, 0.7, 0.5, 0.3, 0.2, 0.1])
    res = decision_curve((time, event), {"m": risk}, thresholds=[0.4], horizon=4.0)
    s = res.summary().set_index("variable")
    # overall KM at 4: at 1: 6 at risk, 1 event; at 3: 4 at risk, 1 event -> S = 5/6 * 3/4
    assert res.prevalence == pytest.approx(1 - 5 / 6 * 3 / 4, abs=1e-15)
    # test positives (>= .4): patients at 1, 2, 3: follow-up reaches 4? max time 3 < 4 -> NaN
    assert np.isnan(s.loc["m", "net_benefit"])
    res = decision_curve((time, event), {"m": risk}, thresholds=[0.25], horizon=4.0)
    s = res.summary().set_index("variable")
    # positives: times 1, 2, 3, 5 -> KM at 4: (1 - 1/4)(1 - 1/2) = 3/8 ; risk = 5/8 ; q = 4/6
    q = 4 / 6
    tp, fp = (1 - 3 / 8) * q, (3 / 8) * q
    assert s.loc["m", "net_benefit"] == pytest.approx(tp - fp * 0.25 / 0.75, abs=1e-15)
    assert s.loc["m", "tp_rate"] == pytest.approx(tp, abs=1e-15)
    # nobody above the threshold: event risk 0, net benefit 0 (dcurves)
    res = decision_curve((time, event), {"m": risk}, thresholds=[0.9], horizon=4.0)
    assert res.net_benefit("m")[0] == 0.0


def test_binary_matches_R_definitions_rossi():
    rr = reference_csv("clinical/rossi_risks.csv")
    ref = reference_csv("clinical/dca_binary_rossi.csv")
    res = decision_curve(rr.arrest, {"full": rr.risk_full, "prio": rr.risk_prio})
    np.testing.assert_array_equal(res.thresholds, default_thresholds())
    s = res.summary()
    for lab in ["full", "prio", "all"]:
        a = s[s.variable == lab].reset_index(drop=True)
        b = ref[ref.label == lab].reset_index(drop=True)
        np.testing.assert_allclose(a.threshold, b.threshold, rtol=0, atol=0)
        for col in ["test_pos_rate", "tp_rate", "fp_rate", "net_benefit", "standardized_net_benefit"]:
            np.testing.assert_allclose(a[col], b[col], rtol=0, atol=1e-12, err_msg=f"{lab} {col}")
        np.testing.assert_allclose(a.net_intervention_avoided, b.net_intervention_avoided, atol=1e-10)


def test_survival_matches_R_km_definitions_gbsg2():
    g = reference_data("gbsg2")
    risk = reference_csv("clinical/gbsg2_risk5.csv").risk5
    ref = reference_csv("clinical/dca_survival_gbsg2.csv")
    res = decision_curve(g[["time", "cens"]], {"cox": risk}, horizon=1825)
    s = res.summary()
    for lab in ["cox", "all"]:
        a = s[s.variable == lab].reset_index(drop=True)
        b = ref[ref.label == lab].reset_index(drop=True)
        for col in ["pos_rate", "test_pos_rate", "tp_rate", "fp_rate", "net_benefit"]:
            np.testing.assert_allclose(a[col], b[col], rtol=0, atol=1e-12, err_msg=f"{lab} {col}")
    # high thresholds where no test-positive patient is followed to 5 years are NaN in both
    assert s[s.variable == "cox"].net_benefit.isna().sum() == ref[ref.label == "cox"].net_benefit.isna().sum() > 0


def test_bootstrap_interval_is_reproducible_and_brackets_estimate():
    rr = reference_csv("clinical/rossi_risks.csv")
    kw = dict(thresholds=[0.1, 0.2, 0.3], n_boot=200, random_state=42)
    a = decision_curve(rr.arrest, {"full": rr.risk_full}, **kw).summary()
    b = decision_curve(rr.arrest, {"full": rr.risk_full}, **kw).summary()
    pd.testing.assert_frame_equal(a, b)
    m = a[a.variable == "full"]
    assert (m.net_benefit_lower <= m.net_benefit).all() and (m.net_benefit <= m.net_benefit_upper).all()
    assert (m.net_benefit_upper - m.net_benefit_lower > 0.01).all()


def test_survival_bootstrap_runs():
    g = reference_data("gbsg2")
    risk = reference_csv("clinical/gbsg2_risk5.csv").risk5
    res = decision_curve(g[["time", "cens"]], {"cox": risk}, thresholds=[0.2, 0.4], horizon=1825,
                         n_boot=30, random_state=0)
    m = res.summary().query("variable == 'cox'")
    assert (m.net_benefit_lower < m.net_benefit_upper).all()


def test_clinical_impact_table():
    rr = reference_csv("clinical/rossi_risks.csv")
    res = decision_curve(rr.arrest, {"full": rr.risk_full}, population_size=1000)
    ci = res.clinical_impact("full")
    assert list(ci.columns) == ["threshold", "n_high_risk", "n_high_risk_with_event"]
    risk = rr.risk_full.values
    y = rr.arrest.values
    i = 19  # threshold 0.20
    assert ci.n_high_risk[i] == pytest.approx(1000 * np.mean(risk >= 0.2), abs=1e-9)
    assert ci.n_high_risk_with_event[i] == pytest.approx(1000 * np.mean((risk >= 0.2) & (y == 1)), abs=1e-9)
    assert (np.diff(ci.n_high_risk) <= 0).all()


def test_input_errors():
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        decision_curve(Y, {"m": P}, thresholds=[0.5, 1.0])
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        decision_curve(Y, {"m": P * 3})
    with pytest.raises(ValueError, match="reserved"):
        decision_curve(Y, {"all": P})
    with pytest.raises(ValueError, match="has 3 predictions but y has 10"):
        decision_curve(Y, {"m": P[:3]})
    with pytest.raises(ValueError, match="pass horizon="):
        decision_curve(pd.DataFrame({"t": [1, 2], "e": [1, 0]}), {"m": [0.1, 0.2]})
    with pytest.raises(ValueError, match="no follow-up reaches"):
        decision_curve(([1.0, 2.0], [1, 0]), {"m": [0.1, 0.2]}, horizon=10.0)
    with pytest.raises(ValueError, match="binary"):
        decision_curve(np.arange(10), {"m": P})


def test_old_parameter_names_warn_and_agree():
    """time=, n_bootstrap= and confidence= still work, each with a FutureWarning naming the new name."""
    g = reference_data("gbsg2")
    risk = reference_csv("clinical/gbsg2_risk5.csv").risk5
    new = decision_curve(g[["time", "cens"]], {"cox": risk}, thresholds=[0.2, 0.4], horizon=1825,
                         n_boot=5, conf_level=0.9, random_state=0)
    with pytest.warns(FutureWarning) as rec:
        old = decision_curve(g[["time", "cens"]], {"cox": risk}, thresholds=[0.2, 0.4], time=1825,
                             n_bootstrap=5, confidence=0.9, random_state=0)
    renamed = sorted(str(w.message).split("'")[1] for w in rec)
    assert renamed == ["confidence", "n_bootstrap", "time"]
    pd.testing.assert_frame_equal(old.summary(), new.summary())
    with pytest.warns(FutureWarning, match="renamed horizon"):
        assert old.time == 1825
    assert (new.horizon, new.n_boot, new.conf_level) == (1825, 5, 0.9)
    with pytest.raises(TypeError, match="got both 'time' and 'horizon'"):
        decision_curve(g[["time", "cens"]], {"cox": risk}, horizon=1825, time=1825)
