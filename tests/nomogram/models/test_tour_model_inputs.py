"""Issue #12, second tour: model inputs that ended in a traceback, were taken silently or were
extrapolated without a word. One test per class."""

import json

import numpy as np
import pandas as pd
import pytest

from nomogram import CoxNomogram, LogisticNomogram, calibrate, load_model, validate
from nomogram.exceptions import ExtrapolationWarning


def _data(n=120, seed=0):
    r = np.random.default_rng(seed)
    X = pd.DataFrame({"age": r.normal(60, 10, n), "size": r.gamma(2, 2, n)})
    lp = 0.05 * (X["age"] - 60) + 0.3 * (X["size"] - 4)
    y = pd.Series((r.random(n) < 1 / (1 + np.exp(-lp))).astype(int))
    t = r.exponential(np.exp(-lp) * 50) + 0.1
    c = r.exponential(60, n) + 0.1
    S = pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int)})
    return X, y, S


def test_repeated_and_multiindex_columns_are_refused():
    X, y, _ = _data()
    with pytest.raises(ValueError, match=r"repeated column name\(s\) \['age'\]"):
        LogisticNomogram().fit(pd.concat([X, X[["age"]]], axis=1), y)
    m = LogisticNomogram().fit(X, y)
    with pytest.raises(ValueError, match=r"repeated column name\(s\) \['size'\]"):
        m.predict_proba(pd.concat([X, X[["size"]]], axis=1))
    X2 = X.copy()
    X2.columns = pd.MultiIndex.from_tuples([("a", "age"), ("a", "size")])
    with pytest.raises(ValueError, match="MultiIndex .* Flatten them"):
        LogisticNomogram().fit(X2, y)


def test_event_coding_and_column_order_of_a_survival_y_are_named():
    X, _, S = _data()
    with pytest.raises(ValueError, match="coded 1/2 .*event_level=2"):
        CoxNomogram().fit(X, S.assign(event=S["event"] + 1))
    a = CoxNomogram(event_level=2).fit(X, S.assign(event=S["event"] + 1)).coef_
    np.testing.assert_allclose(a, CoxNomogram().fit(X, S).coef_)
    with pytest.raises(ValueError, match="look swapped"):
        CoxNomogram().fit(X, S[["event", "time"]].to_numpy())


def test_verb_options_that_were_ignored_or_failed_deep_are_refused():
    X, y, _ = _data()
    m = LogisticNomogram().fit(X, y)
    with pytest.raises(ValueError, match="horizon= .* binary outcome, so leave it out"):
        calibrate(m, X, y, n_boot=5, horizon=10)
    with pytest.raises(ValueError, match="'random_state' parameter must be None, an integer >= 0"):
        validate(m, X, y, n_boot=5, random_state="abc")


def test_nomogram_points_flag_values_off_the_axes():
    X, y, _ = _data()
    nm = LogisticNomogram().fit(X, y).nomogram()
    with pytest.warns(ExtrapolationWarning, match="Nomogram.points: column 'age' .* \\[250.0\\]"):
        nm.points(pd.DataFrame({"age": [250.0], "size": [3.0]}))


def test_model_file_paths_and_arguments_fail_clearly(tmp_path):
    X, y, _ = _data()
    m = LogisticNomogram().fit(X, y)
    with pytest.raises(FileNotFoundError, match="folder .* does not exist; create it first"):
        m.to_json(tmp_path / "no" / "such" / "m.json")
    assert not list(tmp_path.rglob("*.tmp"))
    with pytest.raises(TypeError, match="load_model expects a path, JSON text or bytes; got int 5"):
        load_model(5)
    assert isinstance(load_model(json.loads(json.dumps(m.to_json())).encode()), LogisticNomogram)
