"""Issue #12, second tour: hazard ratio tables, risk groups and tables with hostile inputs."""

import numpy as np
import pandas as pd
import pytest

from nomogram import regression_table, risk_groups, table_one
from nomogram.exceptions import ExtrapolationWarning, SeparationWarning
from nomogram.risk_groups import hazard_ratio_table


def _surv(n=120, seed=0):
    r = np.random.default_rng(seed)
    score = r.normal(size=n)
    t = r.exponential(np.exp(-score) * 50) + 0.5
    c = r.exponential(60, n) + 0.5
    y = pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int)})
    return score, y


def test_hazard_ratio_table_matches_a_pandas_group_by_label():
    score, y = _surv()
    group = pd.Series(np.where(score > np.median(score), "hi", "lo"), index=y.index)
    ref = hazard_ratio_table(y, group)
    perm = np.random.default_rng(1).permutation(len(y))
    pd.testing.assert_frame_equal(hazard_ratio_table(y.iloc[perm], group), ref)
    with pytest.raises(ValueError, match="group's index does not match y's"):
        hazard_ratio_table(y, group.set_axis(np.arange(len(y)) + 1000))


def test_hazard_ratio_table_refuses_one_level_and_missing_groups():
    score, y = _surv()
    with pytest.raises(ValueError, match="single level \\['a'\\]"):
        hazard_ratio_table(y, np.repeat("a", len(y)))
    g = np.where(score > 0, "hi", "lo").astype(object)
    g[3] = None
    with pytest.raises(ValueError, match="group has 1 missing value.*row 3"):
        hazard_ratio_table(y, g)
    with pytest.raises(ValueError, match=r"must be one of \{'hi', 'lo'\}. Got 'mid'"):
        hazard_ratio_table(y, np.where(score > 0, "hi", "lo"), reference="mid")


def test_hazard_ratio_table_names_a_reference_without_events():
    score, y = _surv()
    g = np.where(score > 0, "hi", "lo").astype(object)
    g[np.flatnonzero(y["event"].to_numpy() == 0)[:5]] = "a_empty"  # sorts first: the default reference
    with pytest.warns(SeparationWarning, match="the reference group 'a_empty' has no event.*reference="):
        out = hazard_ratio_table(y, g)
    assert out["hr"].iloc[1:].isna().all()


def test_risk_groups_says_when_landmarks_lie_beyond_follow_up():
    score, y = _surv()  # follow-up of a few hundred days: 2- and 3-year survival is not estimable
    with pytest.warns(ExtrapolationWarning, match="landmarks .* beyond the last follow-up"):
        rg = risk_groups(y, score)
    assert rg.summary().filter(like="survival_1095").isna().all().all()
    with pytest.raises(ValueError, match="horizon= is the time of the ROC of cutoff='youden'"):
        risk_groups(y, score, horizon=50, landmarks=[10])


def test_table_one_refuses_a_variable_without_values():
    score, y = _surv()
    df = pd.DataFrame({"g": np.where(score > 0, "a", "b"), "age": score * 10 + 60, "z": np.nan})
    with pytest.raises(ValueError, match=r"\['z'\] have no observed value"):
        table_one(df, "g")


def test_regression_table_refuses_the_outcome_among_variables():
    score, y = _surv()
    df = pd.DataFrame({"y": (score > 0).astype(int), "age": score * 10 + 60})
    with pytest.raises(ValueError, match=r"variables lists \['y'\] which is the outcome"):
        regression_table(df, "y", ["age", "y"])
