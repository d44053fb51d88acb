"""NRI / IDI against Hmisc::improveProb; KM-based NRI(t) against the same formula computed with survival::survfit."""

import numpy as np
import pytest

from nomogram.metrics import reclassification, survival_nri

from ._ref import proc, surv

BIN, PREF = proc()
SURV_SCORES, SREF, _ = surv()

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
    with pytest.raises(ValueError, match="t=99999.0 must lie within follow-up"):
        survival_nri(SURV_SCORES[["time", "cens"]], SURV_SCORES["risk1"], SURV_SCORES["risk2"], 99999)
