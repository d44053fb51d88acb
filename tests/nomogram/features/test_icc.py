"""ICC(1,1), ICC(2,1), ICC(3,1) against R psych::ICC (lmer = FALSE).

References: tests/reference/imaging/icc_psych.R wrote icc_psych.csv from
icc_readings.csv (made by make_icc_readings.py from scikit-learn's real
``load_digits`` images under two segmentations) and the Shrout & Fleiss (1979)
table. Tolerance: rtol 1e-8 on ICC, F, p and confidence limits.
"""

import numpy as np
import pandas as pd
import pytest

from nomogram.features.stability import FeatureStability, feature_icc, intraclass_correlation

from tests._reference import reference_csv  # noqa: E402

PSYCH_TYPE = {"ICC1": "ICC(1,1)", "ICC2": "ICC(2,1)", "ICC3": "ICC(3,1)"}
RTOL = 1e-8


@pytest.fixture(scope="module")
def psych():
    return reference_csv("imaging/icc_psych.csv")


@pytest.fixture(scope="module")
def readings():
    x = reference_csv("imaging/icc_readings.csv")
    return {r: g.drop(columns="reader").set_index("case") for r, g in x.groupby("reader")}


def test_shrout_fleiss_table_matches_psych_and_paper(psych):
    sf = reference_csv("imaging/shrout_fleiss_sf.csv")
    got = intraclass_correlation(sf)
    ref = psych[psych.table == "shrout_fleiss"].set_index("type")
    for rtype, kind in PSYCH_TYPE.items():
        for col in ["ICC", "F", "df1", "df2", "p", "lower", "upper"]:
            np.testing.assert_allclose(got.loc[kind, col], ref.loc[rtype, col], rtol=RTOL,
                                       err_msg=f"{kind} {col}")
    # Shrout & Fleiss (1979), table 4, printed to two decimals.
    np.testing.assert_allclose(got["ICC"].to_numpy(), [0.17, 0.29, 0.71], atol=0.005)


def test_feature_icc_matches_psych_on_real_digit_features(psych, readings):
    res = feature_icc(readings, kinds=("ICC(1,1)", "ICC(2,1)", "ICC(3,1)"))
    assert isinstance(res, FeatureStability)
    ref = psych[psych.table == "digits"]
    assert len(ref) == 3 * res.table.shape[0] == 21
    for _, row in ref.iterrows():
        kind = PSYCH_TYPE[row["type"]]
        got = res.table.loc[row["feature"]]
        np.testing.assert_allclose(got[kind], row["ICC"], rtol=RTOL)
        np.testing.assert_allclose(got[f"{kind} lower"], row["lower"], rtol=RTOL)
        np.testing.assert_allclose(got[f"{kind} upper"], row["upper"], rtol=RTOL)


def test_vectorised_feature_icc_equals_single_table_function(readings):
    res = feature_icc(readings)
    for f in res.table.index:
        tab = np.column_stack([readings["reader1"][f], readings["reader2"][f]])
        single = intraclass_correlation(tab)
        for kind in ("ICC(2,1)", "ICC(3,1)"):
            np.testing.assert_allclose(res.table.loc[f, kind], single.loc[kind, "ICC"], rtol=1e-12)


def test_stable_features_uses_threshold_and_kind(readings, psych):
    res = feature_icc(readings)
    ref = psych[(psych.table == "digits") & (psych.type == "ICC3")].set_index("feature")["ICC"]
    expected = sorted(ref.index[ref >= 0.75])
    assert sorted(res.stable_features(0.75, kind="ICC(3,1)")) == expected
    assert 0 < len(expected) < len(ref)  # the real table has both stable and unstable features
    # absolute agreement is never above consistency here (readers differ systematically)
    assert set(res.stable_features(0.75, kind="ICC(2,1)")) <= set(expected)
    strict = res.stable_features(0.75, kind="ICC(3,1)", bound="lower")
    assert set(strict) <= set(expected)
    s = res.summary()
    assert s.loc["ICC(3,1)", "n_icc_ge_0.75"] == len(expected)


def test_reader_order_and_case_order_do_not_matter(readings):
    a = feature_icc(readings).table
    shuffled = {"B": readings["reader2"].iloc[::-1], "A": readings["reader1"]}
    b = feature_icc(shuffled).table
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)


def test_pingouin_agrees_when_installed(readings):
    pg = pytest.importorskip("pingouin")
    long = pd.concat([df.assign(reader=r) for r, df in readings.items()]).reset_index()
    got = feature_icc(readings, kinds=("ICC(1,1)", "ICC(2,1)", "ICC(3,1)")).table
    for f in ["area", "mean", "entropy"]:
        ref = pg.intraclass_corr(long, targets="case", raters="reader", ratings=f).set_index("Type")
        for pk, kind in [("ICC(1,1)", "ICC(1,1)"), ("ICC(A,1)", "ICC(2,1)"), ("ICC(C,1)", "ICC(3,1)")]:
            np.testing.assert_allclose(got.loc[f, kind], ref.loc[pk, "ICC"], rtol=1e-10)


def test_constant_feature_is_nan_and_never_stable():
    a = pd.DataFrame({"const": [1.0] * 5, "x": [1.0, 2, 3, 4, 5]}, index=list("abcde"))
    b = pd.DataFrame({"const": [1.0] * 5, "x": [1.1, 2.2, 2.9, 4.1, 5.0]}, index=list("abcde"))
    res = feature_icc([a, b])
    assert np.isnan(res.table.loc["const", "ICC(3,1)"])
    assert res.stable_features(0.75) == ["x"]


def test_bad_input_messages():
    a = pd.DataFrame({"x": [1.0, 2, 3]}, index=["p1", "p2", "p3"])
    b = pd.DataFrame({"x": [1.0, 2, 3]}, index=["p1", "p2", "p4"])
    with pytest.raises(ValueError, match=r"missing \['p3'\], extra \['p4'\]"):
        feature_icc([a, b])
    c = pd.DataFrame({"x": [1.0, np.nan, 3]}, index=["p1", "p2", "p3"])
    with pytest.raises(ValueError, match="case 'p2', feature 'x'"):
        feature_icc({"r1": a, "r2": c})
    d = pd.DataFrame({"y": [1.0, 2, 3]}, index=["p1", "p2", "p3"])
    with pytest.raises(ValueError, match=r"lacks feature column\(s\) \['x'\]"):
        feature_icc([a, d])
    with pytest.raises(ValueError, match="at least 2 raters"):
        feature_icc([a])
    with pytest.raises(TypeError, match="one DataFrame per reader"):
        feature_icc(a)
    with pytest.raises(ValueError, match="The 'kinds' parameter of feature_icc"):
        feature_icc([a, a], kinds=("ICC(3,k)",))


def test_alpha_is_the_old_name_of_conf_level():
    """alpha (1 - level) still works with a FutureWarning; conf_level=0.9 gives the same limits."""
    rng = np.random.default_rng(3)
    truth = rng.normal(size=(12, 1))
    a = pd.DataFrame({"f": truth[:, 0] + rng.normal(scale=0.3, size=12)})
    b = pd.DataFrame({"f": truth[:, 0] + rng.normal(scale=0.3, size=12)})
    new = feature_icc([a, b], conf_level=0.9)
    with pytest.warns(FutureWarning, match="pass conf_level=1 - alpha"):
        old = feature_icc([a, b], alpha=0.1)
    pd.testing.assert_frame_equal(old.table, new.table, rtol=1e-12)
    assert new.conf_level == 0.9
    wide = feature_icc([a, b]).table
    assert (wide["ICC(3,1) lower"] < new.table["ICC(3,1) lower"]).all()  # 95 % limits are wider
    with pytest.warns(FutureWarning, match="'alpha' parameter of intraclass_correlation"):
        t = intraclass_correlation(np.column_stack([a.f, b.f]), alpha=0.1)
    pd.testing.assert_frame_equal(t, intraclass_correlation(np.column_stack([a.f, b.f]), conf_level=0.9),
                                  rtol=1e-12)
