"""Multi-class report against scikit-learn (classification_report, confusion_matrix, roc_auc_score)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report, confusion_matrix, roc_auc_score

from nomogram.metrics import multiclass_metrics, roc_auc_ci


@pytest.fixture(scope="module")
def four_classes():
    """Four classes (digits 0-3 of scikit-learn's bundled digits data), a weak model so that errors occur."""
    X, y = load_digits(return_X_y=True)
    keep = y < 4
    X, y = X[keep][:, ::9], y[keep]  # 8 of 64 pixels: about 80% accuracy
    names = np.array(["benign", "inflammatory", "primary", "metastasis"])
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(y))
    tr, te = idx[: len(y) // 2], idx[len(y) // 2 :]
    m = LogisticRegression(max_iter=2000).fit(X[tr], y[tr])
    proba = pd.DataFrame(m.predict_proba(X[te]), columns=names)
    return names[y[te]], proba


def test_report_equals_sklearn_classification_report(four_classes):
    y, proba = four_classes
    res = multiclass_metrics(y, proba)
    y_pred = proba.columns.to_numpy()[proba.to_numpy().argmax(axis=1)]
    rep = classification_report(y, y_pred, labels=list(proba.columns), output_dict=True, zero_division=0)
    assert res.accuracy == pytest.approx(rep["accuracy"], abs=1e-15)
    assert 0.6 < res.accuracy < 0.97
    for c in proba.columns:
        for k in ["precision", "recall", "f1-score", "support"]:
            assert res.per_class.loc[c, k] == pytest.approx(rep[c][k], abs=1e-15)
    for avg in ["macro avg", "weighted avg"]:
        for k in ["precision", "recall", "f1-score", "support"]:
            assert res.averages.loc[avg, k] == pytest.approx(rep[avg][k], abs=1e-15)
    cm = confusion_matrix(y, y_pred, labels=list(proba.columns))
    np.testing.assert_array_equal(res.confusion_matrix.to_numpy(), cm)
    s = res.summary()
    assert list(s.index[-3:]) == ["accuracy", "macro avg", "weighted avg"]


def test_one_vs_rest_auc_with_delong_ci(four_classes):
    y, proba = four_classes
    res = multiclass_metrics(y, proba)
    for c in proba.columns:
        yk = (y == c).astype(int)
        assert res.per_class.loc[c, "AUC"] == pytest.approx(roc_auc_score(yk, proba[c]), abs=1e-12)
        ci = roc_auc_ci(yk, proba[c])
        assert res.per_class.loc[c, "AUC_lower"] == pytest.approx(ci.lower, abs=1e-15)
        assert res.per_class.loc[c, "AUC_upper"] == pytest.approx(ci.upper, abs=1e-15)


def test_zero_division_and_given_predictions():
    y = ["a", "a", "b", "b", "c", "c"]
    y_pred = ["a", "a", "a", "b", "a", "b"]  # class c never predicted
    res = multiclass_metrics(y, y_pred=y_pred)
    rep = classification_report(y, y_pred, output_dict=True, zero_division=0)
    assert res.per_class.loc["c", "precision"] == 0.0 == rep["c"]["precision"]
    assert res.averages.loc["macro avg", "f1-score"] == pytest.approx(rep["macro avg"]["f1-score"], abs=1e-15)
    assert "AUC" not in res.per_class.columns


def test_errors():
    with pytest.raises(ValueError, match="pass class probabilities"):
        multiclass_metrics([0, 1, 2])
    with pytest.raises(ValueError, match="proba has 2 columns but there are 3 classes"):
        multiclass_metrics([0, 1, 2], np.ones((3, 2)) / 2, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not among the classes"):
        multiclass_metrics([0, 1, 5], y_pred=[0, 1, 1], classes=[0, 1])


def test_y_true_keyword_warns():
    y = np.array([0, 1, 2, 1, 0, 2])
    proba = np.eye(3)[y] * 0.8 + 0.2 / 3
    with pytest.warns(FutureWarning, match="'y_true' parameter of multiclass_metrics was renamed 'y'"):
        old = multiclass_metrics(y_true=y, proba=proba)
    assert old.summary().equals(multiclass_metrics(y, proba).summary())
