"""The common contracts of ``tests/nomogram/test_common.py`` applied to fusion's estimators and results.

Estimators (``ModalityLabel``, ``NomogramGroup``): :func:`check_estimator`
(clone, ``NotFittedError``, ``feature_names_in_``, columns by name, the model
file through :func:`nomogram.load_model` reproducing predictions exactly,
``summary()``). ``EarlyFusion`` takes arrays and bags, not a table, and its
model file names a weights file beside it: the same contract on its own inputs.
Results (``ModelComparison``, ``ScoringSummary``): :func:`check_result`.
"""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import nomogram
from fusion.models import EarlyFusion, ModalityLabel, NomogramGroup, compare_predictions, score_csv
from fusion.models.synthetic import make_multicancer_cohort
from nomogram import ModelFileError, NotFittedError, load_model
from nomogram.exceptions import StatisticalWarning
from tests.nomogram.test_common import F, SURV, X, Y, EstimatorCase, check_estimator, check_result

XGB_SMALL = {"n_estimators": 20, "max_depth": 2}


def _group_table():
    c = make_multicancer_cohort(900, random_state=3)
    return c.clinical.set_index("patient_id")


GROUP_X = _group_table()
GROUP_FACTORS = ["age", "grade"]


def _fit_group(m):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return m.fit(GROUP_X, GROUP_X["bone_metastasis"])


ESTIMATORS = [
    EstimatorCase(
        "ModalityLabel(lasso)",
        lambda: ModalityLabel("lasso", params={"n_mrmr": 5, "cv": 3, "univariate_test": None}),
        lambda m: m.fit(F, Y), F,
        lambda m, d: m.decision_function(d), ["f0"],
        lambda m: (F.shape[1], 2),
    ),
    EstimatorCase(
        "ModalityLabel(xgboost, survival)",
        lambda: ModalityLabel("xgboost", outcome="survival", params=XGB_SMALL),
        lambda m: m.fit(F, SURV), F,
        lambda m, d: m.decision_function(d), ["f3"],
        lambda m: (F.shape[1], 2),
    ),
    EstimatorCase(
        "NomogramGroup",
        lambda: NomogramGroup(by="cancer_type", shared=GROUP_FACTORS, candidates=["psa", "cea"], small_groups="merge"),
        _fit_group, GROUP_X,
        lambda m, d: m.predict_proba(d)[:, 1], ["age"],
        lambda m: (sum(len(mm.coef_) for mm in m.models_.values()), 10),
    ),
]


@pytest.mark.parametrize("case", ESTIMATORS, ids=[c.name for c in ESTIMATORS])
def test_fusion_estimator_contract(case, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        check_estimator(case, tmp_path)


def test_early_fusion_contract(tmp_path):
    rng = np.random.default_rng(4)
    n = 60
    y = rng.integers(0, 2, n)
    img = rng.normal(size=(n, 5)) + 1.5 * y[:, None] * np.eye(5)[0]
    tiles = [rng.normal(size=(int(rng.integers(2, 5)), 4)) + y[i] for i in range(n)]
    est = EarlyFusion(hidden=4, max_epochs=8, patience=4, batch_size=None, lr=0.05, random_state=0)
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(NotFittedError, match="This EarlyFusion instance is not fitted yet; call fit first"):
        est.transform(img, tiles)
    assert est.fit(img, tiles, y) is est
    ref = est.transform(img, tiles)
    path = est.to_json(tmp_path / "net.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "nomofuse.fusion.EarlyFusion" and "sha256" in data
    for back in (load_model(path), EarlyFusion.from_json(path)):
        assert type(back) is EarlyFusion
        pd.testing.assert_frame_equal(back.transform(img, tiles), ref)
    with pytest.raises(ModelFileError, match="load the model from its path"):
        load_model(path.read_text(encoding="utf-8"))
    data["n_epochs"] += 1
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelFileError, match="sha256"):
        load_model(path)


def test_fusion_models_load_model_is_nomogram_load_model(tmp_path):
    from fusion.models import load_model as fusion_load_model

    assert fusion_load_model is load_model
    label = ModalityLabel("xgboost", params=XGB_SMALL).fit(F, Y)
    data = json.loads(label.to_json())
    assert data["format"] == "nomofuse.fusion.ModalityLabel" and data["version"] == 2 and "sha256" in data
    # files written before checksums (version 1) still load
    old = {k: v for k, v in data.items() if k != "sha256"} | {"version": 1}
    np.testing.assert_array_equal(fusion_load_model(json.dumps(old)).decision_function(F),
                                  label.decision_function(F))


# --------------------------------------------------------------------------- results
def _results(tmp):
    lm = nomogram.LogisticNomogram().fit(X, Y)
    cm = nomogram.CoxNomogram().fit(X, SURV)
    p = lm.predict_proba(X)[:, 1]
    p2 = nomogram.LogisticNomogram().fit(X[["age"]], Y).predict_proba(X[["age"]])[:, 1]
    lp = cm.decision_function(X)
    lp2 = nomogram.CoxNomogram().fit(X[["size"]], SURV).decision_function(X[["size"]])
    risk = 1 - np.exp(-np.exp(lp - lp.mean()) * 0.3)
    risk2 = 1 - np.exp(-np.exp(lp2 - lp2.mean()) * 0.3)
    group = _fit_group(NomogramGroup(by="cancer_type", shared=GROUP_FACTORS, candidates=["psa"],
                                     small_groups="merge"))
    GROUP_X.head(30).reset_index().to_csv(tmp / "patients.csv", index=False)
    scoring = score_csv(group, tmp / "patients.csv", tmp / "scores.csv")
    return {
        "ModelComparison": (compare_predictions(Y, {"full": p, "age": p2}, thresholds=[0.2, 0.4]), (2, None), True),
        "ModelComparison(survival)": (compare_predictions(SURV, {"full": risk, "size": risk2},
                                                          scores={"full": lp, "size": lp2}, horizon=730.0,
                                                          thresholds=[0.2, 0.4], n_boot=10), (2, None), True),
        "ScoringSummary": (scoring, (None, 2), False),
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        return _results(tmp_path_factory.mktemp("fusion_results"))


@pytest.mark.parametrize("name", ["ModelComparison", "ModelComparison(survival)", "ScoringSummary"])
def test_fusion_result_contract(results, name):
    result, shape, draws = results[name]
    check_result(result, shape, draws)
