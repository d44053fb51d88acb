"""table_one and regression_table against base R (stats, survival) on real data.

Reference: tests/reference/clinical/tables_reference.R -> tables_reference.json.
"""


import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nomogram.tables import fisher_exact_rxc, regression_table, table_one

from tests._reference import reference_data, reference_json


@pytest.fixture(scope="module")
def ref():
    return reference_json("clinical/tables_reference.json")


@pytest.fixture(scope="module")
def gbsg2():
    return reference_data("gbsg2")


def _row(t1, var):
    tab = t1.summary()
    return tab[tab.variable == var].iloc[0]


def test_table_one_two_groups(gbsg2, ref):
    t1 = table_one(gbsg2, group="horTh", categorical=["menostat", "tgrade"],
                   continuous=["age", "tsize", "pnodes", "progrec", "estrec"])
    for var, r in ref["two_groups"].items():
        assert t1.normality.loc[var, "no"] == pytest.approx(r["shapiro_no"], rel=1e-6)
        assert t1.normality.loc[var, "yes"] == pytest.approx(r["shapiro_yes"], rel=1e-6)
        row = _row(t1, var)
        # every variable here rejects normality at 0.05 in some group -> Mann-Whitney
        assert row.test == "Mann-Whitney U"
        assert row.p == pytest.approx(r["wilcox_p"], rel=1e-8)
        assert row.statistic == pytest.approx(r["wilcox_W"], rel=1e-12)
        assert row["no"] == f"{r['median_no']:.1f} [{r['q1_no']:.1f}, {r['q3_no']:.1f}]"
    row = _row(t1, "menostat")
    assert row.test == "Chi-square (Yates)"
    assert row.p == pytest.approx(ref["chisq_menostat"]["p"], rel=1e-8)
    assert row.statistic == pytest.approx(ref["chisq_menostat"]["stat"], rel=1e-10)
    row = _row(t1, "tgrade")
    assert row.test == "Chi-square"
    assert row.p == pytest.approx(ref["chisq_tgrade"]["p"], rel=1e-8)
    # n (%) cells: percent of the group's column
    tab = t1.summary()
    post_no = tab[(tab.level == "Post")]["no"].iloc[0]
    n_no = int((gbsg2.horTh == "no").sum())
    k = int(((gbsg2.horTh == "no") & (gbsg2.menostat == "Post")).sum())
    assert post_no == f"{k} ({100 * k / n_no:.1f})"


def test_table_one_parametric_branch_matches_t_test(gbsg2, ref):
    # with alpha = 0 normality is never rejected: mean ± SD and Welch / Student t
    t1 = table_one(gbsg2, group="horTh", continuous=["age"], normality_alpha=0.0)
    row = _row(t1, "age")
    r = ref["two_groups"]["age"]
    assert row.test == "Welch's t" and row.level == "mean ± SD"
    assert row.p == pytest.approx(r["welch_p"], rel=1e-8)
    assert row.statistic == pytest.approx(r["welch_t"], rel=1e-10)
    assert row["no"] == f"{r['mean_no']:.1f} ± {r['sd_no']:.1f}"
    t1 = table_one(gbsg2, group="horTh", continuous=["age"], normality_alpha=0.0, equal_var=True)
    assert _row(t1, "age").p == pytest.approx(r["student_p"], rel=1e-8)


def test_table_one_three_groups(gbsg2, ref):
    t_np = table_one(gbsg2, group="tgrade", continuous=["age", "tsize", "progrec"], nonnormal=["age", "tsize", "progrec"])
    t_an = table_one(gbsg2, group="tgrade", continuous=["age", "tsize", "progrec"], normality_alpha=0.0, equal_var=True)
    t_wa = table_one(gbsg2, group="tgrade", continuous=["age", "tsize", "progrec"], normality_alpha=0.0)
    t_sp = table_one(gbsg2, group="tgrade", continuous=["age", "tsize", "progrec"], spearman=True)
    for var, r in ref["three_groups"].items():
        assert _row(t_np, var).test == "Kruskal-Wallis"
        assert _row(t_np, var).p == pytest.approx(r["kruskal_p"], rel=1e-8)
        assert _row(t_np, var).statistic == pytest.approx(r["kruskal_stat"], rel=1e-10)
        assert _row(t_an, var).p == pytest.approx(r["anova_p"], rel=1e-8)
        assert _row(t_wa, var).p == pytest.approx(r["welch_anova_p"], rel=1e-8)
        assert _row(t_sp, var).test == "Spearman"
        assert _row(t_sp, var).statistic == pytest.approx(r["spearman_rho"], rel=1e-10)
        assert _row(t_sp, var).p == pytest.approx(r["spearman_p"], rel=1e-8)


def test_small_sample_uses_fisher_rxc(gbsg2, ref):
    s = gbsg2.iloc[:35]
    t1 = table_one(s, group="tgrade", categorical=["menostat", "horTh"], continuous=[])
    for var, key in [("menostat", "small_fisher_menostat"), ("horTh", "small_fisher_horTh")]:
        row = _row(t1, var)
        assert row.test == "Fisher's exact"  # n = 35 < 40
        assert row.p == pytest.approx(ref[key], rel=1e-10)


def test_fisher_rxc_matches_fisher_test(ref):
    for item in ref["fisher_tables"]:
        tab = np.array(item["table"])
        assert fisher_exact_rxc(tab) == pytest.approx(item["p"], rel=1e-10)
    # 2 x 2 agrees with scipy's (R-compatible) two-sided Fisher test
    assert fisher_exact_rxc([[8, 2], [1, 5]]) == pytest.approx(stats.fisher_exact([[8, 2], [1, 5]]).pvalue, rel=1e-12)


def test_fisher_too_large_falls_back_to_monte_carlo():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"g": rng.choice(list("ABCD"), 400), "v": rng.choice(list("uvwxyz"), 400)})
    df.loc[:3, "v"] = "rare"  # expected counts < 1 -> Fisher
    t1 = table_one(df, group="g", categorical=["v"], continuous=[], fisher_max_nodes=2_000, n_monte_carlo=2_000)
    row = _row(t1, "v")
    assert row.test == "Fisher's exact (Monte Carlo, 2000 tables)"
    assert 0 <= row.p <= 1


def test_exact_mann_whitney_small(ref):
    r = ref["small_wilcox_exact"]
    df = pd.DataFrame({"x": r["x"] + r["y"], "grp": ["a"] * len(r["x"]) + ["b"] * len(r["y"])})
    t1 = table_one(df, group="grp", continuous=["x"], nonnormal=["x"])
    row = _row(t1, "x")
    assert row.test == "Mann-Whitney U (exact)"
    assert row.p == pytest.approx(r["p"], rel=1e-10)
    assert row.statistic == r["W"]


def test_table_one_renderers(gbsg2):
    t1 = table_one(gbsg2, group="horTh", categorical=["menostat"], continuous=["age"])
    txt = t1.as_text()
    assert txt.startswith("Table 1") and "menostat" in txt and "<0.001" in txt
    assert "<table" in t1.as_html()
    assert "\\begin{tabular}" in t1.as_latex()
    assert list(t1.summary().columns) == ["variable", "level", "no", "yes", "Overall", "statistic", "p", "test"]


def test_table_one_errors(gbsg2):
    with pytest.raises(ValueError, match="missing"):
        table_one(gbsg2, group="nope", continuous=["age"])
    with pytest.raises(ValueError, match="not numeric"):
        table_one(gbsg2, group="horTh", continuous=["tgrade"])
    with pytest.raises(ValueError, match="at least 2"):
        table_one(gbsg2.assign(one="x"), group="one", continuous=["age"])


def test_logistic_table_matches_glm(ref):
    r = reference_data("rossi")
    rt = regression_table(r, "arrest", ["fin", "age", "race", "wexp", "mar", "paro", "prio"])
    t = rt.summary().set_index("variable")
    for v, u in ref["logistic_uni"].items():
        assert t.loc[v, "uni_OR"] == pytest.approx(u["or"], rel=1e-6)
        assert t.loc[v, "uni_lower"] == pytest.approx(u["lower"], rel=1e-6)
        assert t.loc[v, "uni_upper"] == pytest.approx(u["upper"], rel=1e-6)
        assert t.loc[v, "uni_p"] == pytest.approx(u["p"], rel=1e-6)
    m = ref["logistic_multi"]
    assert rt.selected == m["selected"]
    sel = t.loc[m["selected"]]
    np.testing.assert_allclose(sel.multi_OR, m["or"], rtol=1e-6)
    np.testing.assert_allclose(sel.multi_lower, m["lower"], rtol=1e-6)
    np.testing.assert_allclose(sel.multi_upper, m["upper"], rtol=1e-6)
    np.testing.assert_allclose(sel.multi_p, m["p"], rtol=1e-6)
    assert t.loc[[v for v in t.index if v not in m["selected"]], "multi_OR"].isna().all()


def test_cox_table_matches_coxph(gbsg2, ref):
    cvars = ["horTh", "age", "menostat", "tsize", "tgrade", "pnodes", "progrec", "estrec"]
    ct = regression_table(gbsg2, ("time", "cens"), cvars, model="cox")
    t = ct.summary()
    for v, u in ref["cox_uni"].items():
        rows = t[t.variable == v]
        np.testing.assert_allclose(rows.uni_HR, np.atleast_1d(u["hr"]), rtol=1e-6)
        np.testing.assert_allclose(rows.uni_lower, np.atleast_1d(u["lower"]), rtol=1e-6)
        np.testing.assert_allclose(rows.uni_upper, np.atleast_1d(u["upper"]), rtol=1e-6)
        np.testing.assert_allclose(rows.uni_p, np.atleast_1d(u["p"]), rtol=1e-6)
        assert rows.uni_variable_p.iloc[0] == pytest.approx(u["var_p"], rel=1e-6)
    m = ref["cox_multi"]
    assert ct.selected == m["selected"]
    sel = t[t.variable.isin(m["selected"])]
    assert len(sel) == len(m["terms"])
    np.testing.assert_allclose(sel.multi_HR, m["hr"], rtol=1e-6)
    np.testing.assert_allclose(sel.multi_lower, m["lower"], rtol=1e-6)
    np.testing.assert_allclose(sel.multi_upper, m["upper"], rtol=1e-6)
    np.testing.assert_allclose(sel.multi_p, m["p"], rtol=1e-6)
    assert "Multivariable HR (95% CI)" in ct.as_text()


def test_regression_table_options_and_errors(gbsg2):
    ct = regression_table(gbsg2, ("time", "cens"), ["age", "pnodes"], model="cox", multivariable=["age", "pnodes"])
    assert ct.selected == ["age", "pnodes"] and ct.summary().multi_HR.notna().all()
    ct = regression_table(gbsg2, ("time", "cens"), ["age", "pnodes"], model="cox", screen_p=1e-300)
    assert ct.selected == [] and ct.summary().multi_HR.isna().all()
    with pytest.raises(ValueError, match="outcome=\\(time_column, event_column\\)"):
        regression_table(gbsg2, "cens", ["age"], model="cox")
    with pytest.raises(ValueError, match="must be one of"):
        regression_table(gbsg2, "cens", ["age"], model="poisson")
    with pytest.raises(ValueError, match="missing"):
        regression_table(gbsg2, "cens", ["nope"])


def test_table_one_reports_missing(gbsg2):
    d = gbsg2.copy()
    d.loc[[0, 5, 9], "age"] = np.nan
    d.loc[[3], "menostat"] = None
    t1 = table_one(d, group="horTh", categorical=["menostat"], continuous=["age"])
    tab = t1.summary().set_index("variable")
    assert tab.loc["age", "missing"] == "3" and tab.loc["menostat", "missing"] == "1"
    full = table_one(d.dropna(subset=["age"]), group="horTh", continuous=["age"])
    assert tab.loc["age", "p"] == pytest.approx(_row(full, "age").p, rel=1e-12)
