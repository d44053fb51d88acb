"""Per-modality labels: cross-fitting passes the noise test, aggregation rules, JSON round trips."""

import warnings

import numpy as np
import pandas as pd
import pytest

from fusion.models import ModalityLabel, aggregate_rows
from nomogram import LogisticNomogram
from nomogram.exceptions import ModelFileError, StatisticalWarning
from nomogram.metrics import roc_auc_ci

XGB_SMALL = {"n_estimators": 40, "max_depth": 2}


def _lesion_cohort(n=300, n_features=30, signal=0.0, seed=0):
    """Patients with 1-3 lesions of noise features (signal in f0 of every lesion) and age."""
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 10, n)
    les = rng.integers(1, 4, n)
    owner = np.repeat(np.arange(n), les)
    F = pd.DataFrame(rng.normal(size=(len(owner), n_features)), columns=[f"f{i}" for i in range(n_features)])
    lesion_mean = pd.Series(F["f0"].to_numpy()).groupby(owner).mean().to_numpy()
    lp = 0.06 * (age - 60) + signal * lesion_mean
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    ids = np.array([f"P{i:03d}" for i in range(n)], dtype=object)
    clinical = pd.DataFrame({"age": age}, index=pd.Index(ids, name="patient"))
    return clinical, F, ids[owner], y, y[owner]


def _train_auc(X, y):
    m = LogisticNomogram().fit(X, y)
    return roc_auc_ci(y, m.predict_proba(X)[:, 1]).auc


def test_cross_fitted_noise_label_does_not_raise_training_auc_but_in_sample_stacking_does():
    clinical, F, pid, y, y_rows = _lesion_cohort()
    lab = ModalityLabel("xgboost", name="noise_label", aggregate="mean", params=XGB_SMALL, random_state=0)
    cross_fitted = lab.fit_transform(F, y_rows, groups=pid)
    in_sample = lab.transform(F, groups=pid)
    auc_clinical = _train_auc(clinical, y)
    auc_cross = _train_auc(clinical.join(cross_fitted), y)
    auc_stacked = _train_auc(clinical.join(in_sample), y)
    assert auc_cross - auc_clinical < 0.03          # chance: a noise label adds nothing
    assert auc_stacked - auc_clinical > 0.15        # in-sample stacking inflates the training AUC
    # one score per patient, the folds are of patients
    assert cross_fitted.index.equals(clinical.index)
    assert lab.folds_.index.equals(clinical.index) and set(lab.folds_) == set(range(5))


def test_lasso_label_finds_planted_signal_and_its_json_round_trip_is_exact():
    clinical, F, pid, y, y_rows = _lesion_cohort(n=250, n_features=12, signal=2.0, seed=1)
    lab = ModalityLabel("lasso", name="rad_score", aggregate="mean", params={"cv": 5, "n_mrmr": 8})
    oof = lab.fit_transform(F, y_rows, groups=pid)
    assert roc_auc_ci(y, oof["rad_score"]).auc > 0.7
    assert "f0" in lab.model_.features_
    again = ModalityLabel.from_json(lab.to_json())
    a, b = lab.transform(F, groups=pid), again.transform(F, groups=pid)
    assert np.array_equal(a.to_numpy(), b.to_numpy()) and a.index.equals(b.index)


@pytest.mark.parametrize("outcome", ["binary", "survival"])
def test_xgboost_label_json_round_trip_is_exact(tmp_path, outcome):
    clinical, F, pid, y, y_rows = _lesion_cohort(n=120, n_features=6, signal=1.0, seed=2)
    if outcome == "survival":
        rng = np.random.default_rng(3)
        t = rng.exponential(10, len(y)) + 0.1
        y_rows = pd.DataFrame({"time": t, "event": y})[["time", "event"]].iloc[
            pd.factorize(pd.Series(pid))[0]].reset_index(drop=True)
    lab = ModalityLabel("xgboost", outcome=outcome, name="lab", aggregate="max", params=XGB_SMALL)
    lab.fit(F, y_rows, groups=pid)
    path = tmp_path / "label.json"
    lab.to_json(path)
    again = ModalityLabel.from_json(path)
    assert np.array_equal(lab.decision_function(F, groups=pid), again.decision_function(F, groups=pid))


def test_aggregation_rules_are_stated_and_applied():
    X = pd.DataFrame({"volume": [1.0, 5.0, 2.0, 3.0], "a": [1.0, 4.0, 2.0, 8.0]})
    g = ["p1", "p1", "p2", "p2"]
    assert aggregate_rows(X, g, aggregate="max", caller="t")["a"].tolist() == [4.0, 8.0]
    assert aggregate_rows(X, g, aggregate="mean", caller="t")["a"].tolist() == [2.5, 5.0]
    largest = aggregate_rows(X, g, aggregate="largest", size_column="volume", caller="t")
    assert largest["a"].tolist() == [4.0, 8.0] and list(largest.index) == ["p1", "p2"]
    with pytest.raises(ValueError, match=r"patient 'p1' has 2 rows.*aggregate="):
        aggregate_rows(X, g, aggregate=None, caller="t")
    with pytest.raises(ValueError, match="size_column"):
        aggregate_rows(X, g, aggregate="largest", caller="t")


def test_outcome_must_be_the_patients():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0] * 5})
    g = [f"p{i // 2}" for i in range(20)]
    y = [0, 1] * 10  # the two rows of each patient disagree
    with pytest.raises(ValueError, match="patient 'p0' has rows with different outcomes"):
        ModalityLabel("xgboost", aggregate="mean").fit(X, y, groups=g)


def test_lasso_on_noise_gives_a_constant_label_with_a_warning_or_raises():
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(80, 5)), columns=list("abcde"))
    y = np.tile([0, 1], 40)
    lab = ModalityLabel("lasso", params={"cv": 4})
    with pytest.warns(StatisticalWarning, match="keeps no feature"):
        lab.fit(X, y)
    assert lab.model_ is None and np.all(lab.decision_function(X) == 0.0)
    assert ModalityLabel.from_json(lab.to_json()).constant_ == 0.0
    with pytest.raises(ValueError, match="no feature"):
        ModalityLabel("lasso", params={"cv": 4}, no_signal="raise").fit(X, y)


def test_label_input_errors_name_the_problem():
    X = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0], "b": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ValueError, match=r"missing value.*column 'a'.*method='xgboost'"):
        ModalityLabel("lasso").fit(X, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="must be one of"):
        ModalityLabel("svm").fit(X, [0, 1, 0, 1])
    lab = ModalityLabel("xgboost", params=XGB_SMALL).fit(X, [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"lacks the feature column\(s\) \['b'\]"):
        lab.transform(X[["a"]])
    with pytest.raises(ModelFileError, match="unknown format 'nomofuse.fusion.Nothing'"):
        ModalityLabel.from_json('{"format": "nomofuse.fusion.Nothing", "version": 1}')
    # a model file of another class: named, with the loader that takes any file
    other = LogisticNomogram().fit(pd.DataFrame({"a": np.arange(40.0)}), np.arange(40) % 3 == 0)
    with pytest.raises(ModelFileError, match="holds a LogisticNomogram, not a ModalityLabel"):
        ModalityLabel.from_json(other.to_json())
