"""NRI / IDI against Hmisc::improveProb; KM-based NRI(t) against the same formula computed with survival::survfit."""

import numpy as np
import pytest

import pandas as pd

from nomogram.metrics import reclassification, survival_idi, survival_nri

from tests._reference import proc_reference, reference_data, survival_metrics_reference

BIN, PREF = proc_reference()
SURV_SCORES, SREF, _ = survival_metrics_reference()

ROWS = {  # our row -> improveProb fields (estimate, se)
    "NRI": ("nri", "se.nri"),
    "NRI events": ("nri.ev", "se.nri.ev"),
    "NRI non-events": ("nri.ne", "se.nri.ne"),
}


@pytest.mark.parametrize("kind", ["continuous", "categorical"])
def test_nri_equals_improveprob(kind):
    ref = PREF["improveProb"][kind]
    res = reclassification(BIN["arrest"], BIN["p1"], BIN["p2"], cutoffs=PREF["improveProb"]["cuts"])
    t = res.summary()
    for row, (est, se) in ROWS.items():
        np.testing.assert_allclose(t.loc[f"{row} ({kind})", ["estimate", "se"]].to_numpy(float),
                                   [ref[est], ref[se]], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(t.loc[f"NRI ({kind})", "z"], ref["z.nri"], rtol=1e-10)
    p = res.proportions[kind]
    np.testing.assert_allclose([p["up_events"], p["down_events"], p["up_nonevents"], p["down_nonevents"]],
                               [ref["pup.ev"], ref["pdown.ev"], ref["pup.ne"], ref["pdown.ne"]], atol=1e-14)


def test_idi_equals_improveprob():
    ref = PREF["improveProb"]["continuous"]
    t = reclassification(BIN["arrest"], BIN["p1"], BIN["p2"]).summary()
    np.testing.assert_allclose(t.loc["IDI", ["estimate", "se", "z"]].to_numpy(float),
                               [ref["idi"], ref["se.idi"], ref["z.idi"]], rtol=1e-10)
    assert "NRI (categorical)" not in t.index


def test_reclassification_tables_count_every_patient():
    res = reclassification(BIN["arrest"], BIN["p1"], BIN["p2"], cutoffs=[0.2, 0.4])
    assert res.reclassification_events.to_numpy().sum() == (BIN["arrest"] == 1).sum()
    assert res.reclassification_nonevents.to_numpy().sum() == (BIN["arrest"] == 0).sum()
    ev = res.reclassification_events.to_numpy()
    up = np.triu(ev, 1).sum() / ev.sum()
    assert up == pytest.approx(res.proportions["categorical"]["up_events"], abs=1e-15)


@pytest.mark.parametrize("kind", ["categorical", "continuous"])
def test_km_nri_at_t_equals_survfit_formula(kind):
    ref = SREF["km_nri"]
    y = SURV_SCORES[["time", "cens"]]
    cut = ref["cuts"] if kind == "categorical" else None
    res = survival_nri(y, SURV_SCORES["risk1"], SURV_SCORES["risk2"], ref["t"], cutoffs=cut, n_boot=0)
    r = ref[kind]
    np.testing.assert_allclose(res.table["estimate"].to_numpy(),
                               [r["nri"], r["nri_events"], r["nri_nonevents"]], rtol=1e-10)


def test_km_nri_bootstrap_interval():
    ref = SREF["km_nri"]
    y = SURV_SCORES[["time", "cens"]]
    res = survival_nri(y, SURV_SCORES["risk1"], SURV_SCORES["risk2"], ref["t"], cutoffs=ref["cuts"],
                       n_boot=200, random_state=0)
    t = res.summary()
    assert (t["lower"] < t["estimate"]).all() and (t["estimate"] < t["upper"]).all()
    assert res.kind == "categorical" and res.n_boot == 200


def test_errors():
    with pytest.raises(ValueError, match="must be probabilities in \\[0, 1\\]"):
        reclassification(BIN["arrest"], BIN["p1"], BIN["prio"])
    with pytest.raises(ValueError, match="cutoffs must be increasing risks"):
        reclassification(BIN["arrest"], BIN["p1"], BIN["p2"], cutoffs=[0.4, 0.2])
    with pytest.raises(ValueError, match="horizon=99999.0 must lie within follow-up"):
        survival_nri(SURV_SCORES[["time", "cens"]], SURV_SCORES["risk1"], SURV_SCORES["risk2"], 99999)


def _rossi_by_t(t):
    """Rossi data: everyone is followed 52 weeks, so nobody is censored before t < 52."""
    rossi = reference_data("rossi")
    assert (rossi["arrest"].to_numpy() == BIN["arrest"].to_numpy()).all()  # same rows as the scores
    yb = ((rossi["week"] <= t) & (rossi["arrest"] == 1)).astype(int)
    return rossi[["week", "arrest"]], yb


@pytest.mark.parametrize("cutoffs", [None, [0.2, 0.4]])
def test_survival_nri_without_censoring_equals_binary_nri(cutoffs):
    y, yb = _rossi_by_t(30)
    kind = "continuous" if cutoffs is None else "categorical"
    surv_nri = survival_nri(y, BIN["p1"], BIN["p2"], 30, cutoffs=cutoffs, n_boot=0).table["estimate"]
    binary = reclassification(yb, BIN["p1"], BIN["p2"], cutoffs=cutoffs).table["estimate"]
    np.testing.assert_allclose(
        surv_nri.to_numpy(),
        [binary[f"NRI ({kind})"], binary[f"NRI events ({kind})"], binary[f"NRI non-events ({kind})"]],
        rtol=1e-12,
    )


def test_survival_idi_without_censoring_equals_binary_idi():
    from nomogram.metrics import survival_idi

    y, yb = _rossi_by_t(30)
    res = survival_idi(y, BIN["p1"], BIN["p2"], 30, n_boot=300, random_state=0)
    binary = reclassification(yb, BIN["p1"], BIN["p2"]).table.loc["IDI"]
    assert res.table.loc["IDI", "estimate"] == pytest.approx(binary["estimate"], rel=1e-12)
    # bootstrap se close to the asymptotic (Hmisc) se of the binary IDI
    assert res.table.loc["IDI", "se"] == pytest.approx(binary["se"], rel=0.3)
    assert res.table.loc["IDI", "lower"] < res.table.loc["IDI", "estimate"] < res.table.loc["IDI", "upper"]


def test_survival_idi_with_censoring_weights_events():
    from nomogram.metrics import survival_idi

    y = SURV_SCORES[["time", "cens"]]
    a = survival_idi(y, SURV_SCORES["risk1"], SURV_SCORES["risk2"], 1825, n_boot=0).table["estimate"]
    # hand computation of the IPCW formula with the censoring Kaplan-Meier
    t, e = y["time"].to_numpy(float), y["cens"].to_numpy()
    d = (SURV_SCORES["risk2"] - SURV_SCORES["risk1"]).to_numpy()
    ctimes = np.unique(t[e == 0])
    factor = [1 - np.sum((t == c) & (e == 0)) / (np.sum(t > c) + np.sum((t == c) & (e == 0)))
              for c in ctimes]  # deaths at c leave the risk set before the censorings at c
    G = np.array([np.prod([f for c, f in zip(ctimes, factor) if c <= ti]) for ti in t])
    case = (t <= 1825) & (e == 1)
    ev = np.sum(d[case] / G[case]) / np.sum(1 / G[case])
    ne = d[t > 1825].mean()
    np.testing.assert_allclose(a.to_numpy(), [ev - ne, ev, -ne], rtol=1e-12)


def test_survival_nri_idi_old_t_keyword_warns():
    y = SURV_SCORES[["time", "cens"]]
    new = survival_idi(y, SURV_SCORES["risk1"], SURV_SCORES["risk2"], horizon=1825, n_boot=0)
    with pytest.warns(FutureWarning, match="'t' parameter of survival_idi was renamed 'horizon'"):
        old = survival_idi(y, SURV_SCORES["risk1"], SURV_SCORES["risk2"], t=1825, n_boot=0)
    pd.testing.assert_frame_equal(old.table, new.table)
    with pytest.warns(FutureWarning, match="renamed horizon"):
        assert old.t == new.horizon == 1825
    with pytest.warns(FutureWarning, match="'t' parameter of survival_nri"):
        survival_nri(y, SURV_SCORES["risk1"], SURV_SCORES["risk2"], t=1825, n_boot=0)
