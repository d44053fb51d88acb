"""Mean/max pooling, attention MIL on a planted signal, and the path-score builder."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from nomogram.features import ImagingSignature
from pathology import AttentionMIL, PathologySignature, RunningPool, pool_features


def test_running_pool_equals_pooling_all_at_once():
    f = np.random.default_rng(0).normal(size=(103, 6))
    pool = RunningPool(6)
    for i in range(0, 103, 10):
        pool.update(f[i:i + 10])
    assert pool.row() == pytest.approx(pool_features(f))
    assert pool_features(f, methods=("max",))["max_0003"] == f[:, 3].max()


def _bags(rng, n, size=40, planted=4, dim=16):
    bags, y, where = [], [], []
    for i in range(n):
        x = rng.normal(size=(size, dim)).astype(np.float32)
        idx = rng.choice(size, planted, replace=False)
        if i % 2:
            x[idx, :4] += 2.5
        bags.append(x)
        y.append(i % 2)
        where.append(idx)
    return bags, np.array(y), where


@pytest.fixture(scope="module")
def mil_data():
    rng = np.random.default_rng(0)
    return _bags(rng, 60), _bags(rng, 30)


@pytest.fixture(scope="module")
def mil(mil_data):
    (tr, ytr, _), _ = mil_data
    return AttentionMIL(max_epochs=30, patience=8, random_state=0).fit(tr, ytr)


def test_mil_learns_a_planted_signal_and_attends_to_it(mil, mil_data):
    _, (te, yte, where) = mil_data
    assert roc_auc_score(yte, mil.decision_function(te)) > 0.95
    mass = [mil.attention(b)[w].sum() for b, w, label in zip(te, where, yte) if label]
    assert np.mean(mass) > 0.5  # 4 planted of 40 tiles: 0.1 by chance
    a = mil.attention(te[0])
    assert a.shape == (40,) and a.min() >= 0 and a.sum() == pytest.approx(1.0, abs=1e-5)
    assert mil.n_train_ + mil.n_val_ == 60 and mil.best_epoch_ <= len(mil.history_)


def test_mil_is_seeded_and_round_trips_without_pickle(mil, mil_data, tmp_path):
    (tr, ytr, _), (te, _, _) = mil_data
    again = AttentionMIL(max_epochs=30, patience=8, random_state=0).fit(tr, ytr)
    np.testing.assert_array_equal(again.decision_function(te), mil.decision_function(te))
    mil.to_json(tmp_path / "mil.json")
    assert (tmp_path / "mil.pt").is_file()
    back = AttentionMIL.from_json(tmp_path / "mil.json")
    np.testing.assert_array_equal(back.decision_function(te), mil.decision_function(te))
    (tmp_path / "mil.pt").write_bytes((tmp_path / "mil.pt").read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(Exception, match="checksum"):
        AttentionMIL.from_json(tmp_path / "mil.json")


def test_mil_survival_orders_planted_risk(mil_data):
    (tr, ytr, _), (te, yte, _) = mil_data
    rng = np.random.default_rng(3)
    time = rng.exponential(np.where(ytr == 1, 0.3, 2.0))
    y = pd.DataFrame({"time": time, "event": np.ones(len(tr))})
    m = AttentionMIL(outcome="survival", max_epochs=30, patience=8).fit(tr, y)
    s = m.decision_function(te)
    assert s[yte == 1].mean() > s[yte == 0].mean()


def _pooled(rng, n=120, p=60):
    X = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"mean_{i:04d}" for i in range(p)])
    lp = 1.5 * X["mean_0003"] - 1.2 * X["mean_0010"]
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    return X, y


def test_path_score_is_the_rad_score_builder():
    X, y = _pooled(np.random.default_rng(0))
    path = PathologySignature(cv=5, n_mrmr=10).fit(X, y)
    rad = ImagingSignature(cv=5, n_mrmr=10).fit(X, y)
    pd.testing.assert_series_equal(path.coef_, rad.coef_)
    assert list(path.transform(X).columns) == ["path_score"]
    assert path.formula().startswith("Path-score = ")
    assert {"mean_0003", "mean_0010"} <= set(path.features_)


def test_path_score_with_pca_is_linear_in_the_features_and_round_trips(tmp_path):
    rng = np.random.default_rng(1)
    X, y = _pooled(rng)
    sig = PathologySignature(n_components=0.9, cv=5, univariate_test=None, n_mrmr=None).fit(X, y)
    assert sig.features_[0].startswith("pc_") and list(sig.feature_names_in_) == list(X.columns)
    score = sig.decision_function(X)
    manual = sig.intercept_original_ + X[sig.coef_original_.index].to_numpy() @ sig.coef_original_.to_numpy()
    np.testing.assert_allclose(score, manual, rtol=1e-10, atol=1e-10)
    assert roc_auc_score(y, score) > 0.7
    back = PathologySignature.from_json(sig.to_json(tmp_path / "sig.json"))
    np.testing.assert_allclose(back.decision_function(X), score, rtol=0, atol=1e-12)
    import json
    assert json.loads((tmp_path / "sig.json").read_text())["format"] == "nomofuse.pathology.PathologySignature"
    with pytest.raises(ValueError, match="n_components"):
        PathologySignature(n_components=-1).fit(X, y)
