"""Bad input gets an error that names the column, the problem and the fix."""

import numpy as np
import pandas as pd
import pytest

from nomogram import ConvergenceError, CoxNomogram, LogisticNomogram, NotFittedError, SeparationError
from tests._reference import reference_data


@pytest.fixture(scope="module")
def gbsg2():
    return reference_data("gbsg2")


def test_y_not_binary(gbsg2):
    with pytest.raises(ValueError, match="binary.*3 distinct"):
        LogisticNomogram().fit(gbsg2[["age"]], gbsg2["tgrade"])


def test_missing_values_named(gbsg2):
    X = gbsg2[["age", "tsize"]].astype(float).copy()
    X.loc[[3, 7], "tsize"] = np.nan
    with pytest.raises(ValueError, match=r"missing values.*'tsize': 2.*\[3, 7\]"):
        LogisticNomogram().fit(X, gbsg2["cens"])


def test_constant_column(gbsg2):
    X = gbsg2[["age"]].assign(site=1)
    with pytest.raises(ValueError, match="'site' is constant"):
        LogisticNomogram().fit(X, gbsg2["cens"])


def test_unseen_category(gbsg2):
    m = LogisticNomogram().fit(gbsg2[["age", "tgrade"]], gbsg2["cens"])
    new = gbsg2[["age", "tgrade"]].head(3).copy()
    new.loc[new.index[1], "tgrade"] = "IV"
    with pytest.raises(ValueError, match=r"'tgrade' has level\(s\) \['IV'\].*known levels are \['I', 'II', 'III'\]"):
        m.predict_proba(new)


def test_missing_predictor_column(gbsg2):
    m = LogisticNomogram().fit(gbsg2[["age", "tgrade"]], gbsg2["cens"])
    with pytest.raises(ValueError, match=r"lacks the predictor column\(s\) \['tgrade'\]"):
        m.predict_proba(gbsg2[["age"]])


def test_complete_separation_names_variable():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    X = pd.DataFrame({"marker": x, "noise": rng.normal(size=200)})
    y = (x > 0).astype(int)
    with pytest.raises(SeparationError, match="'marker'"):
        LogisticNomogram().fit(X, y)


def test_separation_resolved_by_penalty():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    X = pd.DataFrame({"marker": x})
    m = LogisticNomogram(penalty=1.0).fit(X, (x > 0).astype(int))
    assert np.isfinite(m.coef_).all()


def test_non_convergence_reported(gbsg2):
    with pytest.raises(ConvergenceError, match="did not converge"):
        LogisticNomogram(max_iter=1).fit(gbsg2[["age", "pnodes"]], gbsg2["cens"])


def test_not_fitted():
    with pytest.raises(NotFittedError, match="LogisticNomogram.*call fit first"):
        LogisticNomogram().predict_proba(pd.DataFrame({"a": [1.0]}))


def test_bad_parameters(gbsg2):
    with pytest.raises(ValueError, match="between 3 and 7"):
        LogisticNomogram(splines={"age": 2}).fit(gbsg2[["age"]], gbsg2["cens"])
    with pytest.raises(ValueError, match="'ties' parameter of CoxNomogram must be one of"):
        CoxNomogram(ties="exact").fit(gbsg2[["age"]], gbsg2[["time", "cens"]])
    with pytest.raises(ValueError, match="splines names column"):
        LogisticNomogram(splines={"agee": 4}).fit(gbsg2[["age"]], gbsg2["cens"])


def test_survival_outcome_checks(gbsg2):
    y = gbsg2[["time", "cens"]].copy()
    y.loc[0, "time"] = 0
    with pytest.raises(ValueError, match="times must be positive; row 0"):
        CoxNomogram().fit(gbsg2[["age"]], y)
    with pytest.raises(ValueError, match="all samples are censored"):
        CoxNomogram().fit(gbsg2[["age"]], gbsg2[["time"]].assign(e=0))


def test_structured_survival_array(gbsg2):
    y = np.array(list(zip(gbsg2["cens"].astype(bool), gbsg2["time"].astype(float))),
                 dtype=[("event", bool), ("time", float)])
    a = CoxNomogram().fit(gbsg2[["age", "pnodes"]], y)
    b = CoxNomogram().fit(gbsg2[["age", "pnodes"]], gbsg2[["time", "cens"]])
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_fully_converged_cox_matches_tight_rms():
    from tests._reference import load_rms_reference
    from tests.nomogram.models.conftest import MODEL_SPECS

    ref = load_rms_reference("C1")["converged"]
    data_name, outcome, predictors, kwargs = MODEL_SPECS["C1"]
    d = reference_data(data_name)
    m = CoxNomogram(eps=1e-10, **kwargs).fit(d[predictors], d[list(outcome)])
    np.testing.assert_allclose(m.coef_.to_numpy(), ref["coefficients"]["values"], rtol=1e-6)


def test_harrell_c_matches_lifelines_with_ties():
    from lifelines.utils import concordance_index

    from nomogram._indexes import harrell_c_survival

    rng = np.random.default_rng(1)
    for n in (7, 60, 500):
        for _ in range(5):
            t = rng.integers(1, 15, n).astype(float)
            e = rng.integers(0, 2, n)
            s = rng.integers(0, 6, n).astype(float)
            assert harrell_c_survival(t, e, s) == pytest.approx(concordance_index(t, -s, e), abs=1e-12)
