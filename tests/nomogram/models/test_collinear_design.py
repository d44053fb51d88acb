"""A design whose columns are linearly dependent is refused, naming the columns (issue 12)."""

import numpy as np
import pandas as pd
import pytest

from nomogram import CoxNomogram, LogisticNomogram
from nomogram.checks import collinear_columns
from nomogram.exceptions import ConvergenceError


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 200
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    X["c"] = X["a"] + 2 * X["b"]          # derived from two others
    y = (rng.random(n) < 0.4).astype(int)
    surv = pd.DataFrame({"time": rng.exponential(size=n), "event": y})
    return X, y, surv


@pytest.mark.parametrize("model", ["logistic", "cox"])
def test_collinear_predictors_are_refused_by_name(data, model):
    X, y, surv = data
    est, yy = (LogisticNomogram(), y) if model == "logistic" else (CoxNomogram(), surv)
    with pytest.raises(ConvergenceError, match=r"\['c'\] are linear combinations"):
        est.fit(X, yy)
    est.fit(X[["a", "b"]], yy)  # without the derived column the fit works
    assert np.isfinite(np.diag(est.cov_)).all() and (np.diag(est.cov_) > 0).all()


def test_a_factor_level_identical_to_a_binary_column_is_named(data):
    X, y, _ = data
    Z = X[["a", "b"]].assign(g=np.where(X["a"] > 0, "hi", "lo"), h=(X["a"] > 0).astype(int))
    with pytest.raises(ConvergenceError, match=r"\['h'\]"):
        LogisticNomogram().fit(Z, y)


def test_a_penalised_fit_of_collinear_columns_is_allowed(data):
    X, y, _ = data
    m = LogisticNomogram(penalty=1.0).fit(X, y)
    assert np.isfinite(m.coef_).all()


def test_collinear_columns_of_an_independent_design_is_empty(data):
    X, _, _ = data
    assert collinear_columns(X[["a", "b"]].to_numpy(), ["a", "b"]) == []
    assert collinear_columns(np.column_stack([X["a"], np.ones(len(X))]), ["a", "k"]) == ["k"]


def test_more_coefficients_than_patients_is_refused_up_front():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(10, 15)), columns=[f"x{i}" for i in range(15)])
    with pytest.raises(ConvergenceError, match="16 coefficients .* for 10 patients"):
        LogisticNomogram().fit(X, np.array([0, 1] * 5))


def test_a_cox_fit_that_runs_out_of_iterations_says_so(data):
    from nomogram.exceptions import StatisticalWarning

    X, _, surv = data
    with pytest.warns(StatisticalWarning, match="did not converge in 1 iterations"):
        CoxNomogram(max_iter=1, eps=1e-12).fit(X[["a", "b"]], surv)
