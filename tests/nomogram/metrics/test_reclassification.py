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


# --------------------------------------------------------------------------- bootstrap
# The bootstrap draws rng.integers(0, n, n) per resample; the package computes each resample's
# statistic from the counts of the rows drawn (no sort). The reference below is the former,
# unoptimised computation: frequency weights W (bincount of the rows drawn) and full weighted
# Kaplan-Meier curves from nomogram._survival for each resample.

def _reference_km_nri(time, event, up, down, t, W):
    from nomogram._survival import km_survival_at

    N = W.sum(axis=1)
    p_up, p_down = (W @ up) / N, (W @ down) / N
    s_all, s_up, s_down = (km_survival_at(time, event, t, weights=w, extend=True, chunk=len(W))[:, 0]
                           for w in (W, W * up, W * down))
    with np.errstate(divide="ignore", invalid="ignore"):
        ev = ((1 - s_up) * p_up - (1 - s_down) * p_down) / (1 - s_all)
        ne = (s_down * p_down - s_up * p_up) / s_all
    return np.stack([ev + ne, ev, ne], axis=1)


def _reference_ipcw_idi(time, event, p0, p1, t, W):
    from nomogram._survival import censoring_survival

    case = (time <= t) & (event == 1)
    ctrl = time > t
    G = censoring_survival(time, event, W).at(time[case], extend=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(W[:, case] > 0, W[:, case] / G, 0.0)
        d = p1 - p0
        ev = (w @ d[case]) / w.sum(axis=1)
        ne = (W[:, ctrl] @ d[ctrl]) / W[:, ctrl].sum(axis=1)
    out = np.stack([ev - ne, ev, -ne], axis=1)
    out[(w.sum(axis=1) == 0) | (W[:, ctrl].sum(axis=1) == 0)] = np.nan
    return out


def _reference_boots(reference, args, n, n_boot, seed):
    """``reference(*args, W)`` on all patients and on each resample of the package's random stream."""
    rng = np.random.default_rng(seed)
    W = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(n_boot)]).astype(float)
    return reference(*args, np.ones((1, n))), reference(*args, W)


def _tied_cohort(n, seed):
    """Whole-day times (many ties of events and censorings), risks with ties between the models."""
    rng = np.random.default_rng(seed)
    time = np.ceil(rng.exponential(400, n)).astype(float)
    cens = np.ceil(rng.uniform(1, 900, n))
    event = (time <= cens).astype(int)
    time = np.minimum(time, cens)
    p0 = np.round(rng.uniform(0.05, 0.6, n), 2)
    p1 = np.clip(np.round(p0 + rng.normal(0, 0.08, n), 2), 0.01, 0.99)
    return pd.DataFrame({"time": time, "event": event}), p0, p1


def _cases():
    y = SURV_SCORES[["time", "cens"]]
    yield "reference data", y, SURV_SCORES["risk1"].to_numpy(), SURV_SCORES["risk2"].to_numpy(), 1825.0
    for n, t in ((40, 300.0), (300, 200.0), (2000, 600.0)):
        y, p0, p1 = _tied_cohort(n, n)
        yield f"ties n={n}", y, p0, p1, t
    # 3 events by t = 8.5, 2 patients after it: some resamples draw no event or no one after t (NaN)
    y = pd.DataFrame({"time": np.arange(1.0, 11.0), "event": [1, 0, 0, 1, 0, 1, 0, 0, 1, 0]})
    p0 = np.array([0.3, 0.1, 0.2, 0.5, 0.1, 0.4, 0.2, 0.1, 0.6, 0.3])
    p1 = np.array([0.45, 0.1, 0.15, 0.55, 0.05, 0.3, 0.25, 0.1, 0.7, 0.2])
    yield "small n=10", y, p0, p1, 8.5


@pytest.mark.parametrize("cutoffs", [None, [0.2, 0.4]])
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")   # n=10: resamples without an event
def test_survival_nri_bootstrap_equals_reweighted_km_per_resample(cutoffs):
    """Each replicate (and the estimate) equals the full weighted KM of the same resample."""
    for label, y, p0, p1, t in _cases():
        time, event = y.iloc[:, 0].to_numpy(float), y.iloc[:, 1].to_numpy(float)
        if cutoffs is None:
            up, down = p1 > p0, p1 < p0
        else:
            k0, k1 = np.searchsorted(cutoffs, p0, side="right"), np.searchsorted(cutoffs, p1, side="right")
            up, down = k1 > k0, k1 < k0
        res = survival_nri(y, p0, p1, t, cutoffs=cutoffs, n_boot=150, random_state=7)
        est, boots = _reference_boots(_reference_km_nri, (time, event, up.astype(float), down.astype(float), t),
                                      len(time), 150, 7)
        np.testing.assert_allclose(res.table["estimate"].to_numpy(), est[0], rtol=1e-12, atol=1e-12,
                                   err_msg=label)
        np.testing.assert_allclose(res.boot, boots, rtol=1e-12, atol=1e-12, err_msg=label)
        assert np.isfinite(boots).any()
        # the counts are integers: the Kaplan-Meier factors and their products are the same floats
        np.testing.assert_array_equal(res.boot, boots, err_msg=label)


def test_survival_idi_bootstrap_equals_reweighted_ipcw_per_resample():
    """Each replicate (and the estimate) equals the IPCW IDI with G re-estimated on the weighted resample."""
    n_nan = 0
    for label, y, p0, p1, t in _cases():
        time, event = y.iloc[:, 0].to_numpy(float), y.iloc[:, 1].to_numpy(float)
        res = survival_idi(y, p0, p1, t, n_boot=150, random_state=3)
        est, boots = _reference_boots(_reference_ipcw_idi, (time, event, p0, p1, t), len(time), 150, 3)
        np.testing.assert_allclose(res.table["estimate"].to_numpy(), est[0], rtol=1e-12, atol=1e-12,
                                   err_msg=label)
        np.testing.assert_allclose(res.boot, boots, rtol=1e-12, atol=1e-12, err_msg=label)
        n_nan += np.isnan(boots).any(axis=1).sum()
    assert 0 < n_nan < 150    # the NaN rule is exercised (small n), the rest are numbers


def test_bootstrap_memory_is_bounded_by_chunks(monkeypatch):
    """Resamples reach the statistic about 2 million drawn rows at a time, never all n_boot at once."""
    from nomogram.metrics import _reclassification as rc

    y, p0, p1 = _tied_cohort(500_000 // 100, 1)
    sizes = []
    original = rc._bin_counts

    def spy(code, K, D, values=None):
        sizes.append(D.shape)
        return original(code, K, D, values)

    monkeypatch.setattr(rc, "_bin_counts", spy)
    survival_nri(y, p0, p1, 600.0, n_boot=1000, random_state=0)
    assert sizes[0] == (1, 5000) and all(b * n <= 2_000_000 for b, n in sizes[1:])
    assert sum(b for b, _ in sizes[1:]) == 1000
