"""Issue #12, second tour: metric inputs that gave a silently wrong answer, a raw traceback or
an unclear message. One test per class.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from nomogram import decision_curve, val_prob
from nomogram.exceptions import StatisticalWarning
from nomogram.metrics import delong_test, harrell_c, roc_auc_ci, time_dependent_auc, uno_c


def _data(n=150, seed=3):
    r = np.random.default_rng(seed)
    score = r.normal(size=n)
    y = (r.random(n) < 1 / (1 + np.exp(-1.5 * score))).astype(int)
    t = r.exponential(np.exp(-score) * 50) + 0.5
    c = r.exponential(80, n) + 0.5
    surv = pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int)})
    return score, y, surv


# --------------------------------------------------------------------------- alignment by label
def test_scores_and_outcome_are_matched_by_label():
    """A Series of scores in another row order than a pandas y is re-ordered, not paired by position."""
    score, y, surv = _data()
    ids = [f"p{i}" for i in range(len(y))]
    ys = pd.Series(y, index=ids)
    ss = pd.Series(score, index=ids)
    perm = np.random.default_rng(0).permutation(len(y))
    shuffled = ss.iloc[perm]
    assert roc_auc_ci(ys, shuffled).auc == pytest.approx(roc_auc_ci(y, score).auc, abs=1e-12)
    d = delong_test(ys, ss, shuffled)
    assert d.difference == pytest.approx(0.0, abs=1e-12)
    S = surv.set_axis(ids)
    for f in (harrell_c, uno_c):
        a = f(S.iloc[perm], ss).summary()["C"].iloc[0]
        assert a == pytest.approx(f(surv, score).summary()["C"].iloc[0], abs=1e-12)
    tda = time_dependent_auc(S.iloc[perm], ss, [20], n_boot=0).auc[0]
    assert tda == pytest.approx(time_dependent_auc(surv, score, [20], n_boot=0).auc[0], abs=1e-12)
    # labels that differ are refused, naming both sides
    with pytest.raises(ValueError, match=r"y's index does not match the scores'"):
        roc_auc_ci(ys, pd.Series(score))
    with pytest.raises(ValueError, match=r"score2's index does not match the first scores'"):
        delong_test(ys, ss, pd.Series(score, index=[f"q{i}" for i in range(len(y))]))
    # decision_curve: a dict of Series aligns too
    p = pd.Series(1 / (1 + np.exp(-score)), index=ids)
    a = decision_curve(ys, {"m": p.iloc[perm]}, thresholds=[0.3, 0.5]).net_benefit("m")
    b = decision_curve(y, {"m": p.to_numpy()}, thresholds=[0.3, 0.5]).net_benefit("m")
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_two_column_scores_are_refused_with_the_fix():
    score, y, _ = _data()
    with pytest.raises(ValueError, match=r"shape \(150, 2\).*score\[:, 1\]"):
        roc_auc_ci(y, np.c_[1 - score, score])


# --------------------------------------------------------------------------- inverted scores
def test_inverted_scores_warn_in_every_auc():
    score, y, surv = _data()
    with pytest.warns(StatisticalWarning, match="the AUC of score2 = .* < 0.5"):
        delong_test(y, score, -score)
    with pytest.warns(StatisticalWarning, match="AUC at time 20 = .* < 0.5"):
        time_dependent_auc(surv, -score, [20], n_boot=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StatisticalWarning)
        time_dependent_auc(surv, score, [20], n_boot=0)
        delong_test(y, score, score + 0.1 * np.random.default_rng(1).normal(size=len(y)))


def test_time_dependent_auc_refuses_empty_times():
    score, _, surv = _data()
    with pytest.raises(ValueError, match="times is empty"):
        time_dependent_auc(surv, score, [])


# --------------------------------------------------------------------------- event coding
def test_event_coded_one_two_is_refused_with_event_level_fix():
    """R's Surv accepts 1/2 (2 = event); read as 0/1 it would be refused without the fix: name it."""
    score, _, surv = _data()
    s12 = surv.assign(event=surv["event"] + 1)
    with pytest.raises(ValueError, match=r"coded 1/2 \(R's Surv coding.*event_level=2"):
        harrell_c(s12, score)
    from nomogram.checks import check_survival_y

    t, e = check_survival_y(s12, event_level=2)
    np.testing.assert_array_equal(e, surv["event"])


def test_swapped_time_and_event_columns_are_named():
    score, _, surv = _data()
    with pytest.raises(ValueError, match="look swapped.*\\[time, event\\]"):
        harrell_c(surv[["event", "time"]], score)


def test_val_prob_and_decision_curve_take_event_level():
    score, y, _ = _data()
    p = 1 / (1 + np.exp(-score))
    text = np.where(y == 1, "yes", "no")
    a = val_prob(text, p, event_level="yes").statistics
    b = val_prob(y, p).statistics
    pd.testing.assert_series_equal(a, b)
    with pytest.raises(ValueError, match="event_level='yes'"):
        val_prob(text, p)
    nb = decision_curve(text, p, thresholds=[0.2, 0.4], event_level="yes").net_benefit("model")
    np.testing.assert_allclose(nb, decision_curve(y, p, thresholds=[0.2, 0.4]).net_benefit("model"))


def test_metric_parameters_are_checked():
    score, y, _ = _data()
    p = 1 / (1 + np.exp(-score))
    with pytest.raises(ValueError, match="'g' parameter of val_prob.*>= 2. Got 0"):
        val_prob(y, p, g=0)
    with pytest.raises(ValueError, match="'random_state' parameter.*Got 'abc'"):
        roc_auc_ci(y, score, method="bootstrap", n_boot=10, random_state="abc")
    with pytest.raises(ValueError, match="horizon= is given, so y must be a survival outcome"):
        decision_curve(y, p, horizon=5)
