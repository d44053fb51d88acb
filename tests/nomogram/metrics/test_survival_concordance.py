"""Harrell's and Uno's C against R survival::concordance / Hmisc::rcorr.cens and scikit-survival."""

import numpy as np
import pandas as pd
import pytest

from nomogram.metrics import compare_concordance, harrell_c, uno_c

from tests._reference import survival_metrics_reference

SCORES, REF, SKSURV = survival_metrics_reference()
Y = SCORES[["time", "cens"]]


@pytest.mark.parametrize("name", ["lp1", "lp2", "pnodes"])
def test_harrell_c_and_se_equal_survival_concordance(name):
    r = REF["harrell"][name]
    res = harrell_c(Y, SCORES[name])
    # acceptance: Harrell's C to 1e-6 (incl. its std. error from concordance())
    np.testing.assert_allclose(res.concordance, r["concordance"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.se, r["std_err"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.concordance, r["rcorr_cens_C"], rtol=0, atol=1e-10)
    for k, v in r["count"].items():
        assert res.counts[k] == v, k
    assert res.lower < res.concordance < res.upper
    assert res.summary().loc[0, "C"] == res.concordance


def test_harrell_c_equals_bruteforce_pairs_on_small_data_with_ties():
    rng = np.random.default_rng(5)
    n = 60
    t = rng.integers(1, 15, n).astype(float)
    e = rng.integers(0, 2, n).astype(float)
    e[0] = 1
    x = rng.integers(0, 5, n).astype(float)
    num = den = 0.0
    for i in range(n):
        if e[i] != 1:
            continue
        for j in range(n):
            if t[j] > t[i] or (t[j] == t[i] and e[j] == 0 and j != i):
                den += 1
                num += 1.0 if x[i] > x[j] else 0.5 if x[i] == x[j] else 0.0
    assert harrell_c((t, e), x).concordance == pytest.approx(num / den, abs=1e-14)


@pytest.mark.parametrize("key", ["lp1_1825", "lp2_1825", "lp2_1000", "pnodes_1825"])
def test_uno_c_and_se_equal_survival_concordance_n_over_g2(key):
    r = REF["uno"][key]
    res = uno_c(Y, SCORES[key.split("_")[0]], tau=r["tau"])
    np.testing.assert_allclose(res.concordance, r["concordance"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.se, r["std_err"], rtol=0, atol=1e-10)
    assert res.method == "uno" and res.tau == r["tau"]


@pytest.mark.parametrize("key", sorted(SKSURV["concordance_index_ipcw"]))
def test_uno_c_close_to_scikit_survival(key):
    # scikit-survival evaluates G at t_i (right-continuous) and compares only t_i < t_j;
    # survival (our reference) uses G(t_i-) and keeps censored ties: differences ~5e-5 here.
    name, tau = key.split("_")
    res = uno_c(Y, SCORES[name], tau=float(tau))
    np.testing.assert_allclose(res.concordance, SKSURV["concordance_index_ipcw"][key], rtol=0, atol=1e-4)


def test_model_comparison_ij_equals_concordance_of_two_fits():
    r = REF["harrell_pair"]
    cmp = compare_concordance(Y, SCORES["lp1"], SCORES["lp2"])
    np.testing.assert_allclose([cmp.c1, cmp.c2], r["concordance"], atol=1e-10)
    np.testing.assert_allclose(cmp.difference, r["diff"], atol=1e-10)
    np.testing.assert_allclose(cmp.se, r["diff_se"], rtol=1e-8)
    assert cmp.p_value < 0.05 and cmp.upper < 0


def test_model_comparison_bootstrap_agrees_with_ij_roughly():
    ij = compare_concordance(Y, SCORES["lp1"], SCORES["lp2"])
    bt = compare_concordance(Y, SCORES["lp1"], SCORES["lp2"], method="bootstrap", n_boot=100, random_state=0)
    assert bt.difference == ij.difference and bt.n_boot == 100
    assert 0.6 < bt.se / ij.se < 1.6
    assert bt.lower < bt.difference < bt.upper
    un = compare_concordance(Y, SCORES["lp1"], SCORES["lp2"], kind="uno", tau=1825,
                             method="bootstrap", n_boot=50, random_state=0)
    np.testing.assert_allclose(un.c1, REF["uno"]["lp1_1825"]["concordance"], atol=1e-10)


def test_errors():
    with pytest.raises(ValueError, match="all samples are censored"):
        harrell_c(pd.DataFrame({"t": [1.0, 2, 3], "e": [0, 0, 0]}), [1, 2, 3])
    with pytest.raises(ValueError, match="tau=10.0 is not after the first event"):
        uno_c(Y, SCORES["lp1"], tau=10)
    with pytest.raises(ValueError, match="'kind' parameter of compare_concordance"):
        compare_concordance(Y, SCORES["lp1"], SCORES["lp2"], kind="gonen")
