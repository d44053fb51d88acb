"""table_one with a group of fewer than 3 patients: the user forces the test, the table says why.

Reference: tests/reference/clinical/table_one_small_groups.R -> table_one_small_groups.json
(base R t.test, oneway.test, wilcox.test, kruskal.test on subsets of gbsg2 built by row
order, rebuilt identically here).
"""

import json

import numpy as np
import pandas as pd
import pytest

from nomogram import table_one

from tests._reference import reference_data, reference_json

RTOL = 1e-8


@pytest.fixture(scope="module")
def ref():
    return reference_json("clinical/table_one_small_groups.json")


@pytest.fixture(scope="module")
def subsets():
    g = reference_data("gbsg2")
    two = pd.concat([g[g.horTh == "no"].head(20), g[g.horTh == "yes"].head(2)])
    three = pd.concat([g[g.tgrade == "II"].head(15), g[g.tgrade == "III"].head(10), g[g.tgrade == "I"].head(2)])
    one = pd.concat([g[g.horTh == "no"].head(20), g[g.horTh == "yes"].head(1)])
    return {"two": two, "three": three, "one": one}


def _rows(t1):
    return t1.summary(with_reasons=True).set_index("variable")


def test_default_is_nonparametric_and_says_why(subsets, ref):
    t1 = table_one(subsets["two"], group="horTh", continuous=["age", "tsize"], categorical=["tgrade"])
    rows = _rows(t1)
    for v in ("age", "tsize"):
        assert rows.loc[v, "test"] == "Mann-Whitney U"
        assert rows.loc[v, "p"] == pytest.approx(ref["two"][v]["wilcox_p"], rel=RTOL)
        assert "normality not checkable: group 'yes' has 2 values" in rows.loc[v, "reason"]
    assert rows.loc["tgrade", "test"] == "Fisher's exact"
    assert "n = 22 < 40" in rows.loc["tgrade", "reason"]
    assert list(t1.tests["variable"]) == ["age", "tsize", "tgrade"]


@pytest.mark.parametrize("equal_var,key,name", [(False, "welch", "Welch's t"), (True, "student", "Student's t")])
def test_forced_t_test_with_two_patients_in_a_group(subsets, ref, equal_var, key, name):
    t1 = table_one(subsets["two"], group="horTh", continuous=["age", "tsize"], parametric=True, equal_var=equal_var)
    rows = _rows(t1)
    for v in ("age", "tsize"):
        r = ref["two"][v]
        assert rows.loc[v, "test"] == name and rows.loc[v, "level"] == "mean ± SD"
        assert rows.loc[v, "p"] == pytest.approx(r[f"{key}_p"], rel=RTOL)
        assert rows.loc[v, "statistic"] == pytest.approx(r[f"{key}_t"], rel=RTOL)
        assert rows.loc[v, "yes"] == f"{r['mean_yes']:.1f} ± {r['sd_yes']:.1f}"
        assert rows.loc[v, "reason"].startswith("parametric requested; normality not checkable")


@pytest.mark.parametrize("equal_var,key,name", [(False, "welch", "Welch's ANOVA"), (True, "anova", "ANOVA")])
def test_forced_anova_with_two_patients_in_a_group(subsets, ref, equal_var, key, name):
    t1 = table_one(subsets["three"], group="tgrade", continuous=["age", "tsize"], parametric=["age", "tsize"],
                   equal_var=equal_var)
    rows = _rows(t1)
    for v in ("age", "tsize"):
        assert rows.loc[v, "test"] == name
        assert rows.loc[v, "p"] == pytest.approx(ref["three"][v][f"{key}_p"], rel=RTOL)
        assert rows.loc[v, "statistic"] == pytest.approx(ref["three"][v][f"{key}_F"], rel=RTOL)
    auto = _rows(table_one(subsets["three"], group="tgrade", continuous=["age", "tsize"]))
    for v in ("age", "tsize"):
        assert auto.loc[v, "test"] == "Kruskal-Wallis"
        assert auto.loc[v, "p"] == pytest.approx(ref["three"][v]["kruskal_p"], rel=RTOL)


def test_one_patient_in_a_group(subsets, ref):
    rows = _rows(table_one(subsets["one"], group="horTh", continuous=["age", "tsize"], parametric=True,
                           equal_var=True))
    for v in ("age", "tsize"):
        assert rows.loc[v, "p"] == pytest.approx(ref["one"][v]["student_p"], rel=RTOL)
        assert rows.loc[v, "statistic"] == pytest.approx(ref["one"][v]["student_t"], rel=RTOL)
        assert rows.loc[v, "yes"].endswith("(n = 1)")
    # R's Welch t.test stops ("not enough 'y' observations"); the table says so and how to fix it
    assert ref["one"]["age"]["welch_error"] == "not enough 'y' observations"
    rows = _rows(table_one(subsets["one"], group="horTh", continuous=["age"], parametric=["age"]))
    assert np.isnan(rows.loc["age", "p"]) and rows.loc["age", "test"] == "Welch's t"
    assert "undefined: group 'yes' has 1 value" in rows.loc["age", "reason"]
    assert "equal_var=True" in rows.loc["age", "reason"]


def test_reasons_in_renderings_and_automatic_rule(subsets):
    g = reference_data("gbsg2")
    t1 = table_one(g, group="horTh", continuous=["age"], categorical=["menostat"])
    reasons = dict(zip(t1.tests["variable"], t1.tests["reason"]))
    assert reasons["age"].startswith("Shapiro-Wilk p < 0.05 in group")
    assert reasons["menostat"].startswith("Cochran's rule met")
    assert "Tests:\nage: Mann-Whitney U (Shapiro-Wilk" in t1.as_text()
    assert "<li>age: Mann-Whitney U" in t1.as_html()
    assert "Tests:" in t1.as_latex() and "\\begin{tabular}" in t1.as_latex()
    t0 = table_one(g, group="horTh", continuous=["age"], normality_alpha=0.0)
    assert "Shapiro-Wilk p >= 0 in every group" in t0.tests["reason"].iloc[0]
    forced = table_one(g, group="horTh", continuous=["age"], nonnormal=True)
    assert forced.tests["reason"].iloc[0] == "non-parametric requested"
    # the default summary keeps its columns
    assert "reason" not in t1.summary().columns


def test_parametric_option_errors(subsets):
    with pytest.raises(ValueError, match="both 'nonnormal' and 'parametric'"):
        table_one(subsets["two"], group="horTh", continuous=["age"], nonnormal=["age"], parametric=["age"])
    with pytest.raises(ValueError, match="'parametric' parameter of table_one names \\['tgrade'\\]"):
        table_one(subsets["two"], group="horTh", continuous=["age"], parametric=["tgrade"])
