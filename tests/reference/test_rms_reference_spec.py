"""Executable checks of the specification in tests/reference/README.md.

These tests re-derive, with plain numpy and the formulas written in the README, the
numbers R rms 6.5-0 / survival 3.5-3 stored in tests/reference/rms_models/*.json.
They check the reference files and the spec (not nomofuse's models, which have their
own tests): if one fails, either the JSON or the README is wrong.
"""

from __future__ import annotations


import numpy as np

from nomogram._pretty import pretty
import pytest

from tests._reference import (
    load_rms_reference,
    reference_data,
    reference_matrix,
)

MODELS = {"L1": "gbsg2", "L2": "rossi", "L3": "gbsg2", "L4_pen2": "gbsg2",
          "L4_pen10": "gbsg2", "C1": "gbsg2", "C2": "rossi"}


# ----------------------------------------------------------------- spec ports
def rcs_basis(x, knots):
    """README A.2: columns x, x', x'', ... (norm=2)."""
    x = np.asarray(x, dtype=float)
    t = np.asarray(knots, dtype=float)
    k = len(t)
    cols = [x]
    for j in range(k - 2):
        cols.append(
            (np.maximum(x - t[j], 0) ** 3
             - np.maximum(x - t[k - 2], 0) ** 3 * (t[k - 1] - t[j]) / (t[k - 1] - t[k - 2])
             + np.maximum(x - t[k - 1], 0) ** 3 * (t[k - 2] - t[j]) / (t[k - 1] - t[k - 2]))
            / (t[k - 1] - t[0]) ** 2)
    return np.column_stack(cols)


def design_matrix(ref, df):
    """README B: rms design columns, in rms order, from the JSON design block."""
    d = ref["design"]
    blocks, names = {}, {}
    for name, assume in zip(d["name"], d["assume"]):
        if assume == "rcspline":
            knots = d["parms"][name]
            blocks[name] = rcs_basis(df[name], knots)
            names[name] = [name + "'" * j for j in range(len(knots) - 1)]
        elif assume == "category":
            levels = d["parms"][name]
            blocks[name] = np.column_stack([(df[name] == lv).to_numpy(float) for lv in levels[1:]])
            names[name] = [f"{name}={lv}" for lv in levels[1:]]
        elif assume == "asis":
            blocks[name] = df[[name]].to_numpy(float)
            names[name] = [name]
        elif assume == "interaction":
            a, b = name.split(" * ")
            cols, nm = [], []
            for jb, nb in enumerate(names[b]):
                for ja, na in enumerate(names[a]):
                    cols.append(blocks[a][:, ja] * blocks[b][:, jb])
                    nm.append(f"{na} * {nb}")
            blocks[name] = np.column_stack(cols)
            names[name] = nm
        else:  # pragma: no cover - not used by the reference models
            raise AssertionError(f"unexpected assume {assume!r}")
    X = np.column_stack([blocks[n] for n in d["name"]])
    colnames = [c for n in d["name"] for c in names[n]]
    return X, colnames


def r_pretty(lo, hi, n=5):
    """README I: R 4.2 ``pretty(c(lo, hi), n)``; the library's port is what is checked."""
    return pretty([lo, hi], n)


def efron_baseline(time, event, Xc, lp):
    """README G: H0, V0, A at every distinct time, at the covariate means."""
    r = np.exp(lp)
    times = np.unique(time)
    dH = np.zeros(len(times))
    dV = np.zeros(len(times))
    dA = np.zeros((len(times), Xc.shape[1]))
    for i, t in enumerate(times):
        at_risk = time >= t
        dead = (time == t) & (event == 1)
        d = int(dead.sum())
        if d == 0:
            continue
        N, E = r[at_risk].sum(), r[dead].sum()
        Sx = (r[at_risk, None] * Xc[at_risk]).sum(0)
        SxD = (r[dead, None] * Xc[dead]).sum(0)
        frac = np.arange(d) / d
        den = N - E * frac
        dH[i] = d * np.mean(1 / den)
        dV[i] = d * np.mean(1 / den**2)
        dA[i] = d * np.mean((Sx - np.outer(frac, SxD)) / den[:, None] ** 2, axis=0)
    return times, np.cumsum(dH), np.cumsum(dV), np.cumsum(dA, axis=0)


def gini_md(x):
    x = np.sort(np.asarray(x, float))
    n = len(x)
    return float(np.sum(x * (2 * np.arange(1, n + 1) - n - 1)) * 2 / (n * (n - 1)))


# ----------------------------------------------------------------- tests
@pytest.mark.parametrize("name", ["gbsg2", "rossi"])
def test_data_files_match_hash_and_dtypes(name):
    df = reference_data(name)  # raises on a hash mismatch
    assert df.shape == {"gbsg2": (686, 10), "rossi": (432, 9)}[name]
    if name == "gbsg2":
        assert sorted(df.tgrade.unique()) == ["I", "II", "III"]
        assert df.age.dtype == np.int64


@pytest.mark.parametrize("model", sorted(MODELS))
def test_design_and_linear_predictor(model):
    ref = load_rms_reference(model)
    df = reference_data(MODELS[model])
    X, colnames = design_matrix(ref, df)
    assert colnames == ref["design"]["colnames"]
    first10 = reference_matrix(ref["first10"]["X"])
    np.testing.assert_allclose(X[:10], first10.to_numpy(), rtol=1e-13, atol=1e-13)
    beta = np.array(ref["coefficients"]["values"])
    if ref["meta"]["fitter"] == "lrm":
        assert ref["coefficients"]["names"] == ["Intercept"] + colnames
        lp = beta[0] + X @ beta[1:]
    else:
        assert ref["coefficients"]["names"] == colnames
        np.testing.assert_allclose(X.mean(0), ref["means"], rtol=1e-13)
        assert ref["center"] == pytest.approx(X.mean(0) @ beta, rel=1e-13)
        lp = X @ beta - ref["center"]
    np.testing.assert_allclose(lp, ref["linear_predictors"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ref["predict_lp"], ref["linear_predictors"], rtol=0, atol=0)
    assert ref["stats"]["g"] == pytest.approx(gini_md(lp), rel=1e-12)


@pytest.mark.parametrize("model", ["L1", "L2", "C1", "C2"])
def test_default_knots_are_type7_quantiles(model):
    ref = load_rms_reference(model)
    df = reference_data(MODELS[model])
    probs = {3: [0.1, 0.5, 0.9], 4: [0.05, 0.35, 0.65, 0.95]}
    for name, assume in zip(ref["design"]["name"], ref["design"]["assume"]):
        if assume == "rcspline":
            knots = ref["design"]["parms"][name]
            np.testing.assert_allclose(np.quantile(df[name], probs[len(knots)]), knots)


def test_pretty_port_reproduces_r():
    cases = load_rms_reference("pretty")["cases"]
    assert len(cases) == 100
    for c in cases:
        np.testing.assert_allclose(r_pretty(c["lo"], c["hi"], c["n"]), np.atleast_1d(c["result"]),
                                   rtol=1e-12, atol=1e-300, err_msg=str(c))


@pytest.mark.parametrize("model", ["L1", "L2", "L4_pen2"])
def test_lrm_stats_formulas(model):
    ref = load_rms_reference(model)
    df = reference_data(MODELS[model])
    y = df["cens" if MODELS[model] == "gbsg2" else "arrest"].to_numpy()
    n = len(y)
    p = 1 / (1 + np.exp(-np.array(ref["linear_predictors"])))
    st = ref["stats"]
    assert st["Brier"] == pytest.approx(np.mean((p - y) ** 2), rel=1e-12)
    assert st["gp"] == pytest.approx(gini_md(p), rel=1e-12)
    L0, L1 = ref["deviance"]
    assert st["R2"] == pytest.approx((1 - np.exp(-(L0 - L1) / n)) / (1 - np.exp(-L0 / n)), rel=1e-12)
    # C on 5001 probability bins (README D.2)
    bins = np.floor(5000 * p + 1)
    b0, b1 = bins[y == 0], bins[y == 1]
    con = (b1[None, :] > b0[:, None]).sum()
    tie = (b1[None, :] == b0[:, None]).sum()
    dis = b0.size * b1.size - con - tie
    assert st["C"] == pytest.approx((con + tie / 2) / (con + dis + tie), rel=1e-12)
    assert st["Dxy"] == pytest.approx((con - dis) / (con + dis + tie), rel=1e-12)


@pytest.mark.parametrize("model", ["L4_pen2", "L4_pen10"])
def test_penalty_matrix_and_effective_df(model):
    ref = load_rms_reference(model)
    X, colnames = design_matrix(ref, reference_data("gbsg2"))
    P0 = np.diag(X.var(axis=0, ddof=1))
    start = 0
    for name, assume in zip(ref["design"]["name"], ref["design"]["assume"]):
        width = len(ref["design"]["nonlinear"][name])
        if assume == "category":
            P0[start:start + width, start:start + width] = np.eye(width) - 1 / (width + 1)
        start += width
    lam = ref["penalty"]["simple"]
    P = reference_matrix(ref["penalty_matrix"]).to_numpy()
    np.testing.assert_allclose(P, lam * P0, rtol=1e-12, atol=1e-12)
    beta = np.array(ref["coefficients"]["values"])
    assert ref["penalty_term"] == pytest.approx(beta[1:] @ P @ beta[1:], rel=1e-10)
    assert ref["deviance"][1] == pytest.approx(
        ref["unpenalized_deviance_at_estimate"][1] + ref["penalty_term"], rel=1e-12)
    assert ref["stats"]["Model L.R."] == pytest.approx(
        ref["deviance"][0] - ref["unpenalized_deviance_at_estimate"][1], rel=1e-12)
    # var = (I + P)^-1 with I the unpenalized information at the estimate
    Xi = np.column_stack([np.ones(len(X)), X])
    p = 1 / (1 + np.exp(-(Xi @ beta)))
    info = Xi.T @ (Xi * (p * (1 - p))[:, None])
    Ppad = np.zeros_like(info)
    Ppad[1:, 1:] = P
    V = np.linalg.inv(info + Ppad)
    np.testing.assert_allclose(V, reference_matrix(ref["var"]).to_numpy(), rtol=1e-7, atol=1e-12)
    edf = np.diag(info @ V)
    np.testing.assert_allclose(edf, ref["effective_df_diagonal"], rtol=1e-7)
    assert ref["stats"]["d.f."] == pytest.approx(edf[1:].sum(), rel=1e-7)


@pytest.mark.parametrize("model,times", [("C1", (1095, 1825)), ("C2", (26, 52))])
def test_cox_baseline_survest_and_survival(model, times):
    ref = load_rms_reference(model)
    df = reference_data(MODELS[model])
    tcol, ecol = ("time", "cens") if model == "C1" else ("week", "arrest")
    X, _ = design_matrix(ref, df)
    beta = np.array(ref["coefficients"]["values"])
    Xc = X - X.mean(0)
    V = reference_matrix(ref["var"]).to_numpy()
    grid, H0, V0, A = efron_baseline(df[tcol].to_numpy(float), df[ecol].to_numpy(), Xc, Xc @ beta)
    sf = ref["survfit_at_means"]
    np.testing.assert_array_equal(grid, sf["time"])
    np.testing.assert_allclose(np.exp(-H0), sf["surv"], rtol=1e-12, atol=1e-14)
    se0 = np.sqrt(V0 + np.einsum("ij,jk,ik->i", A, V, A))
    np.testing.assert_allclose(se0, np.array(sf["std_err"], float), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(H0 * np.exp(-ref["center"]), ref["basehaz_uncentered"]["hazard"],
                               rtol=1e-12, atol=1e-14)
    x2 = Xc[:10]
    rho = np.exp(x2 @ beta)
    z = 1.959963984540054
    se_ref = reference_matrix(ref["first10"]["survest"]["std_err"]).to_numpy()
    s_ref = reference_matrix(ref["first10"]["survest"]["surv"]).to_numpy()
    lo_ref = reference_matrix(ref["first10"]["survest"]["lower"]).to_numpy()
    up_ref = reference_matrix(ref["first10"]["survest"]["upper"]).to_numpy()
    surv_fun = reference_matrix(ref["first10"]["Survival_fun"]).to_numpy()
    for k, t in enumerate(times):
        i = np.searchsorted(grid, t + 1e-6, side="right") - 1
        S = np.exp(-H0[i] * rho)
        dt = H0[i] * x2 - A[i]
        se = rho * np.sqrt(V0[i] + np.einsum("ij,jk,ik->i", dt, V, dt))
        np.testing.assert_allclose(S, s_ref[:, k], rtol=1e-12)
        np.testing.assert_allclose(S, surv_fun[:, k], rtol=1e-12)
        np.testing.assert_allclose(se, se_ref[:, k], rtol=1e-10)
        np.testing.assert_allclose(S * np.exp(-z * se), lo_ref[:, k], rtol=1e-10)
        np.testing.assert_allclose(np.minimum(1, S * np.exp(z * se)), up_ref[:, k], rtol=1e-10)


def _fun(model, k):
    if model.startswith("L"):
        return lambda x: 1 / (1 + np.exp(-x))
    ref = load_rms_reference(model)
    b = ref["baseline_stored"]
    t = ref["first10"]["times"][k]
    i = np.searchsorted(np.array(b["time"], float), t + 1e-6, side="right") - 1
    s = b["surv"][i]
    return lambda x: s ** np.exp(x)


@pytest.mark.parametrize("model", ["L1", "L2", "L3", "L4_pen10", "C1", "C2"])
def test_nomogram_axes_follow_spec(model):
    ref = load_rms_reference(model)
    nom = ref["nomogram"]
    info = nom["info"]
    df = reference_data(MODELS[model])
    dd = ref["datadist"]
    Rmin = dict(zip(info["R"]["predictors"], info["R"]["min"]))
    Rmax = dict(zip(info["R"]["predictors"], info["R"]["max"]))
    sc = 100 / max(Rmax[p] - Rmin[p] for p in Rmin)
    assert info["sc"] == pytest.approx(sc, rel=1e-12)
    beta0 = ref["coefficients"]["values"][0] if model.startswith("L") else -ref["center"]
    intercept = beta0 + sum(Rmin.values())
    assert info["Intercept"] == pytest.approx(intercept, rel=1e-12)
    for ax in (a for a in nom["axes"] if a["kind"] == "predictor"):
        p = ax["predictor"]
        if p in dd["values"]:
            expected = dd["values"][p]  # levels or <= 10 distinct numeric values
        else:
            lim = dd["limits"][p]
            expected = list(r_pretty(lim["Low"], lim["High"], 10))
            assert lim["Low"] == df[p].min() and lim["High"] == df[p].max()
        assert ax["values"] == pytest.approx(expected) if not isinstance(expected[0], str) \
            else ax["values"] == expected
        np.testing.assert_allclose(ax["points"], (np.array(ax["Xbeta"]) - Rmin[p]) * sc,
                                   rtol=1e-12, atol=1e-12)
    lp_at = r_pretty(min(ref["linear_predictors"]), max(ref["linear_predictors"]), 10)
    np.testing.assert_allclose(info["lp_at"], lp_at)
    axes = {a["axis"]: a for a in nom["axes"]}
    np.testing.assert_allclose(axes["lp"]["x"], (lp_at - intercept) * sc, rtol=1e-12, atol=1e-10)
    sum_max = max(100, sc * max(lp_at - intercept))
    np.testing.assert_allclose(axes["total.points"]["x"], r_pretty(0, sum_max, 10))
    funs = [a for a in nom["axes"] if a["kind"] == "fun"]
    for k, fa in enumerate(funs):
        f = _fun(model, k)
        fat = r_pretty(*sorted(f(np.array([lp_at.min(), lp_at.max()]))), 10)
        xseq = np.linspace(lp_at.min(), lp_at.max(), 1000)
        fu = f(xseq)
        order = np.argsort(fu)
        w = np.interp(fat, fu[order], xseq[order], left=np.nan, right=np.nan)
        keep = ~np.isnan(w)
        np.testing.assert_allclose(fa["x_real"], fat[keep], atol=1e-12)
        np.testing.assert_allclose(fa["x"], (w[keep] - intercept) * sc, rtol=1e-9, atol=1e-9)
    pts = nom["points_first10"]
    total = np.array(pts["total_points"])
    np.testing.assert_allclose(intercept + total / sc, pts["lp_predict"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pts["lp_predict"], ref["first10"]["lp"], rtol=1e-13, atol=1e-13)
