"""Issue #12, metrics: a constant score, an inverted score, survival probabilities passed as risks
and an interval asked of a one-case group warn or raise."""

import numpy as np
import pandas as pd
import pytest

from nomogram.exceptions import StatisticalWarning
from nomogram.metrics import harrell_c, roc_auc_ci, roc_curve
from nomogram.metrics import sensitivity_ci


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 120)
    return y, y + rng.normal(size=120)


def test_constant_score_warns(binary):
    y, _ = binary
    with pytest.warns(StatisticalWarning, match=r"'score' is constant \(0.3 for all 120 patients\).*0.5"):
        r = roc_auc_ci(y, np.full(120, 0.3))
    assert r.auc == 0.5


def test_inverted_score_warns(binary):
    y, s = binary
    with pytest.warns(StatisticalWarning, match=r"AUC = 0.\d+ < 0.5.*pass -score, or direction='>'"):
        inverted = roc_auc_ci(y, -s)
    assert inverted.auc < 0.5
    with pytest.warns(StatisticalWarning, match="AUC = .* < 0.5"):
        roc_curve(y, -s)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", StatisticalWarning)
        assert roc_auc_ci(y, s).auc > 0.5
        assert roc_auc_ci(y, -s, direction=">").auc > 0.5


def test_survival_probabilities_passed_as_risks_warn():
    rng = np.random.default_rng(4)
    risk = rng.normal(size=300)
    t = rng.exponential(np.exp(-risk))
    y = pd.DataFrame({"time": t, "event": (rng.uniform(size=300) < 0.7).astype(int)})
    surv = np.exp(-np.exp(risk) * 0.5)  # S(t) of each patient: lower for higher risk
    with pytest.warns(StatisticalWarning, match=r"every score lies in \[0, 1\].*survival probabilities.*1 - S\(t\)"):
        c = harrell_c(y, surv)
    assert c.concordance < 0.5
    assert harrell_c(y, 1 - surv).concordance == pytest.approx(1 - c.concordance, abs=1e-12)


def test_interval_of_a_one_case_group_is_refused():
    y = np.r_[1, np.zeros(30, int)]
    s = np.linspace(0, 1, 31)
    for method in ("delong", "bootstrap"):
        with pytest.raises(ValueError, match=r"needs at least 2 cases and 2 controls; got 1 cases and 30 controls"):
            roc_auc_ci(y, s, method=method, n_boot=10)
    with pytest.raises(ValueError, match=r"at least 2 cases and 2 controls; got 1 cases"):
        sensitivity_ci(y, s, n_boot=10)
    yy = pd.DataFrame({"time": np.arange(1, 32.0), "event": y})
    with pytest.warns(StatisticalWarning, match="single event"):
        harrell_c(yy, -s)
