"""Issue #12, second tour: fusion models match a pandas outcome (and patient ids) to X by label."""

import numpy as np
import pandas as pd
import pytest

from fusion.models import ModalityLabel
from fusion.models.comparison import compare_predictions


def _table(n=80, seed=0):
    r = np.random.default_rng(seed)
    X = pd.DataFrame(r.normal(size=(n, 4)), columns=["f0", "f1", "f2", "f3"],
                     index=[f"p{i}" for i in range(n)])
    y = pd.Series((X["f0"] + 0.5 * r.normal(size=n) > 0).astype(int), index=X.index)
    return X, y


def test_modality_label_matches_y_by_label():
    X, y = _table()
    perm = np.random.default_rng(1).permutation(len(y))
    a = ModalityLabel(cv=3).fit(X, y.iloc[perm]).decision_function(X)
    b = ModalityLabel(cv=3).fit(X, y.to_numpy()).decision_function(X)
    np.testing.assert_allclose(a, b)
    with pytest.raises(ValueError, match="y's index does not match X's"):
        ModalityLabel(cv=3).fit(X, y.set_axis(range(len(y))))


def test_modality_label_matches_groups_by_label():
    X, y = _table()
    groups = pd.Series([f"pt{i // 2}" for i in range(len(X))], index=X.index)
    y2 = pd.Series([int(X["f0"].iloc[2 * (i // 2)] > 0) for i in range(len(X))], index=X.index)
    perm = np.random.default_rng(2).permutation(len(X))
    lab = ModalityLabel(cv=3, aggregate="mean")
    a = lab.fit(X, y2, groups=groups.iloc[perm]).decision_function(X, groups=groups)
    b = ModalityLabel(cv=3, aggregate="mean").fit(X, y2, groups=groups.to_numpy()).decision_function(
        X, groups=groups.to_numpy())
    np.testing.assert_allclose(a, b)
    bad = y2.copy()
    bad.iloc[1] = 1 - bad.iloc[0]
    with pytest.raises(ValueError, match=r"patient 'pt0' has rows with different outcomes \((0|1) and (0|1)\)"):
        ModalityLabel(cv=3, aggregate="mean").fit(X, bad, groups=groups)


def test_compare_predictions_matches_outcome_and_predictions_by_label():
    X, y = _table(120)
    r = np.random.default_rng(3)
    p1 = pd.Series(1 / (1 + np.exp(-X["f0"])), index=X.index)
    p2 = pd.Series(1 / (1 + np.exp(-X["f0"] - r.normal(size=len(X)))), index=X.index)
    perm = r.permutation(len(X))
    a = compare_predictions(y, {"a": p1.iloc[perm], "b": p2}, n_boot=0).summary()
    b = compare_predictions(y.to_numpy(), {"a": p1.to_numpy(), "b": p2.to_numpy()}, n_boot=0).summary()
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match=r"y's index does not match the predictions'"):
        compare_predictions(y.set_axis(range(len(y))), {"a": p1}, n_boot=0)
