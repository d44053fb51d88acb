"""Checks every estimator and every result object of :mod:`nomogram` passes (as sksurv's test_common).

Estimators: ``clone``; ``NotFittedError`` naming the class before ``fit``;
``feature_names_in_`` / ``n_features_in_`` after it; columns found by name
(shuffled columns give the same predictions, a missing one is an error naming
it); the JSON model file reproduces predictions exactly (via
:func:`nomogram.load_model`, from text and from a file); ``summary()`` is a
DataFrame of the stated shape.

Results: ``summary()`` is a DataFrame of the stated shape; those that draw
have ``plot(ax=None)`` returning a Display with ``ax_`` and ``figure_``.

The helpers :func:`check_estimator` and :func:`check_result` are reused by
``tests/imaging/test_common_imaging.py``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import nomogram
from nomogram import NotFittedError, load_model
from nomogram.features import ComBat, Signature


# --------------------------------------------------------------------------- data
def cohort(n: int = 160, seed: int = 11):
    """A small deterministic cohort: clinical predictors, features, binary and survival outcomes."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "age": np.round(rng.normal(60, 9, n), 1),
        "size": np.round(rng.gamma(2.0, 12.0, n), 1),
        "grade": rng.choice(["G1", "G2", "G3"], n),
    })
    lp = 0.05 * (X["age"] - 60) + 0.04 * (X["size"] - 24) + 0.9 * (X["grade"] == "G3")
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int), name="event")
    t = np.round(rng.exponential(900 * np.exp(-lp)), 0) + 1
    c = rng.uniform(300, 2500, n)
    surv = pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int)})
    F = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"f{i}" for i in range(8)])
    F["f0"] += 1.2 * y
    F["f1"] += 0.8 * lp
    site = np.where(np.arange(n) % 3 == 0, "A", np.where(np.arange(n) % 3 == 1, "B", "C"))
    F.loc[site == "B", ["f2", "f3"]] += 1.0
    return X, y, surv, F, site


X, Y, SURV, F, SITE = cohort()


# --------------------------------------------------------------------------- estimators
@dataclass
class EstimatorCase:
    name: str
    make: Callable[[], object]
    fit: Callable[[object], object]          # fit(est) -> fitted est
    X: pd.DataFrame                          # data predicted on (holds every needed column)
    predict: Callable[[object, pd.DataFrame], np.ndarray]
    needed: list                             # columns the fitted estimator needs
    summary_shape: Callable[[object], tuple]


def _lp(m, data):
    return np.asarray(m.decision_function(data))


def _combat_frame():
    return F.assign(site=SITE, age=X["age"].to_numpy())


ESTIMATORS = [
    EstimatorCase(
        "LogisticNomogram",
        lambda: nomogram.LogisticNomogram(splines={"age": 3}),
        lambda m: m.fit(X, Y), X,
        lambda m, d: m.predict_proba(d)[:, 1], ["age", "size", "grade"],
        lambda m: (len(m.coef_), 9),  # coef, se, z, p, CI (2), OR and its CI (3)
    ),
    EstimatorCase(
        "CoxNomogram",
        lambda: nomogram.CoxNomogram(splines={"age": 3}, times=[365.0, 730.0]),
        lambda m: m.fit(X, SURV), X,
        lambda m, d: m.predict_survival(d).to_numpy(), ["age", "size", "grade"],
        lambda m: (len(m.coef_), 9),
    ),
    EstimatorCase(
        "Signature(binary)",
        lambda: Signature(n_mrmr=5, cv=3, univariate_test=None, redundancy_threshold=None, random_state=0),
        lambda m: m.fit(F, Y), F,
        _lp, None,  # the selected features_
        lambda m: (len(m.selection_report_), 3),
    ),
    EstimatorCase(
        "Signature(survival)",
        lambda: Signature(outcome="survival", n_mrmr=5, cv=3, univariate_test=None, random_state=0),
        lambda m: m.fit(F, SURV), F,
        _lp, None,
        lambda m: (len(m.selection_report_), 3),
    ),
    EstimatorCase(
        "ComBat",
        lambda: ComBat(batch="site", covariates=["age"]),
        lambda m: m.fit(_combat_frame()), _combat_frame(),
        lambda m, d: m.transform(d).to_numpy(), ["f0", "site", "age"],
        lambda m: (3, 8),  # one row per batch
    ),
]


def check_estimator(case: EstimatorCase, tmp_path) -> None:
    """The common estimator contract; raises AssertionError naming what failed."""
    est = case.make()
    cls = type(est).__name__
    # clone keeps the parameters
    assert clone(est).get_params() == est.get_params()
    # not fitted: NotFittedError naming the class and the fix
    with pytest.raises(NotFittedError, match=rf"This {cls} instance is not fitted yet; call fit first"):
        case.predict(est, case.X)
    fitted = case.fit(est)
    assert fitted is est, "fit must return self"
    assert isinstance(est.feature_names_in_, np.ndarray) and est.feature_names_in_.dtype == object
    assert est.n_features_in_ == len(est.feature_names_in_) > 0
    ref = case.predict(est, case.X)
    # columns are found by name: another order gives the same numbers
    shuffled = case.X[case.X.columns[::-1]]
    np.testing.assert_array_equal(case.predict(est, shuffled), ref)
    # a needed column missing: an error that names it
    needed = case.needed if case.needed is not None else list(est.features_)
    gone = needed[0]
    with pytest.raises(ValueError, match=rf"lacks the .*\['{gone}'\]"):
        case.predict(est, case.X.drop(columns=gone))
    # a clone of a fitted estimator is unfitted and refits to the same predictions
    again = case.fit(clone(est))
    np.testing.assert_array_equal(case.predict(again, case.X), ref)
    # the model file reproduces predictions exactly, from text and from a file
    text = est.to_json()
    assert isinstance(text, str) and text.lstrip().startswith("{")
    for source in (text, est.to_json(tmp_path / f"{cls}.json")):
        back = load_model(source)
        assert type(back) is type(est)
        np.testing.assert_array_equal(case.predict(back, case.X), ref)
        assert list(back.feature_names_in_) == list(est.feature_names_in_)
        assert back.get_params().keys() == est.get_params().keys()
    assert type(est).from_json(text).to_json() == text  # nothing lost or added in a round trip
    # summary(): a DataFrame of the stated shape
    s = est.summary()
    assert isinstance(s, pd.DataFrame)
    assert s.shape == case.summary_shape(est), (s.shape, case.summary_shape(est))


@pytest.mark.parametrize("case", ESTIMATORS, ids=[c.name for c in ESTIMATORS])
def test_estimator_contract(case, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # the new vocabulary raises no deprecation
        check_estimator(case, tmp_path)


# --------------------------------------------------------------------------- results
@pytest.fixture(scope="module")
def models():
    return (nomogram.LogisticNomogram(splines={"age": 3}).fit(X, Y),
            nomogram.CoxNomogram(splines={"age": 3}, times=[365.0]).fit(X, SURV))


def _results(models):
    from nomogram import metrics

    lm, cm = models
    p = lm.predict_proba(X)[:, 1]
    lp = cm.decision_function(X)
    risk1 = 1 - cm.predict_survival(X, times=[730.0]).to_numpy()[:, 0]
    risk2 = np.clip(risk1 + 0.05 * np.sin(np.arange(len(X))), 0.001, 0.999)
    grade = X["grade"].to_numpy()
    proba3 = pd.get_dummies(X["grade"]).to_numpy(float) * 0.6 + 0.4 / 3
    reader2 = F + np.random.default_rng(1).normal(scale=0.2, size=F.shape)
    df = X.assign(event=Y, time=SURV["time"], status=SURV["event"])
    # name -> (result, summary shape, draws)
    return {
        "CalibrationResult": (nomogram.calibrate(lm, X, Y, n_boot=4, random_state=0), (50, 9), True),
        "CalibrationResult(cox)": (nomogram.calibrate(cm, X, SURV, n_boot=4, horizon=730.0, m=40,
                                                      random_state=0), (4, 10), True),
        "ValProbResult": (nomogram.val_prob(Y, p), (28, 1), True),
        "ValidationResult": (nomogram.validate(lm, X, Y, n_boot=4, random_state=0), (11, 8), False),
        "DecisionCurveResult": (nomogram.decision_curve(Y, {"m": p}, thresholds=[0.1, 0.2, 0.3]), (9, 14), True),
        "RiskGroups": (nomogram.risk_groups(SURV, lp, landmarks=[365.0, 730.0]), (2, 11 + 3 * 2), True),
        "MaxstatResult": (nomogram.maxstat_cutoff(SURV, lp), (1, 6), False),
        "KaplanMeier": (nomogram.kaplan_meier(SURV), (SURV["time"].nunique(), 8), True),
        "LogRankResult": (nomogram.logrank_test(SURV, grade), (3, 5), False),
        "TableOne": (nomogram.table_one(df, group="event", continuous=["age", "size"],
                                        categorical=["grade"]), None, False),
        "RegressionTable": (nomogram.regression_table(df, "event", ["age", "size", "grade"]), None, False),
        "Nomogram": (lm.nomogram(), None, True),
        "PointsFormulas": (nomogram.points_formulas(lm.nomogram()), (None, 13), False),
        "AnovaResult": (nomogram.anova(lm), (5, 3), True),  # age, its nonlinearity, size, grade, TOTAL
        "AnovaResult(cox)": (nomogram.anova(cm), (5, 3), True),
        "EffectsResult": (nomogram.effects(lm), (8, 8), True),
        "EffectsResult(cox)": (nomogram.effects(cm, conf_level=0.9), (8, 8), True),
        "PartialEffects": (nomogram.partial_effects(lm, "age"), (200, 7), True),
        "PartialEffects(cox)": (nomogram.partial_effects(cm, ["age", "grade"], scale="survival", horizon=730.0),
                                (203, 7), True),
        "ConcordanceResult": (metrics.harrell_c(SURV, lp), (1, None), False),
        "ConcordanceComparison": (metrics.compare_concordance(SURV, lp, risk2), (1, None), False),
        "CutoffResult": (metrics.cutoff_metrics(Y, p, n_boot=20, random_state=0), None, False),
        "DelongTestResult": (metrics.delong_test(Y, p, X["size"].to_numpy()), (1, None), False),
        "MulticlassResult": (metrics.multiclass_metrics(grade, proba3, classes=["G1", "G2", "G3"]),
                             (6, None), False),
        "ReclassificationResult": (metrics.reclassification(Y, risk1, risk2, [0.2, 0.5]), None, False),
        "SurvivalNriResult": (metrics.survival_nri(SURV, risk1, risk2, 730.0, n_boot=0), (3, 4), False),
        "SurvivalIdiResult": (metrics.survival_idi(SURV, risk1, risk2, 730.0, n_boot=0), (3, 6), False),
        "RocCurve": (metrics.roc_curve(Y, p), None, True),
        "RocAucResult": (metrics.roc_auc_ci(Y, p), (1, None), False),
        "TimeDependentAucResult": (metrics.time_dependent_auc(SURV, lp, [365.0, 730.0], n_boot=0), (2, None), False),
        "FeatureStability": (nomogram.features.feature_icc([F, reader2]), (2, None), False),
        "MultipleImputationFit": (nomogram.fit_mult_impute(nomogram.LogisticNomogram(), _with_missing(X), Y, m=2,
                                                           random_state=0), (None, 7), False),
    }


def _with_missing(X):
    out = X.copy()
    out["size"] = out["size"].astype(float)
    out.loc[out.index[::7], "size"] = np.nan
    return out


RESULT_NAMES = ["CalibrationResult", "CalibrationResult(cox)", "ValProbResult", "ValidationResult",
                "DecisionCurveResult", "RiskGroups", "MaxstatResult", "KaplanMeier", "LogRankResult",
                "TableOne", "RegressionTable", "Nomogram", "PointsFormulas", "AnovaResult", "AnovaResult(cox)", "EffectsResult",
                "EffectsResult(cox)", "PartialEffects", "PartialEffects(cox)", "ConcordanceResult",
                "ConcordanceComparison", "CutoffResult", "DelongTestResult", "MulticlassResult",
                "ReclassificationResult", "SurvivalNriResult", "SurvivalIdiResult", "RocCurve",
                "RocAucResult", "TimeDependentAucResult", "FeatureStability", "MultipleImputationFit"]


@pytest.fixture(scope="module")
def results(models):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        return _results(models)


def check_result(result, shape, draws: bool) -> None:
    """summary() is a DataFrame (of ``shape``; None entries unchecked); plot() returns a Display.

    The Display's ``ax_`` is an Axes, or an array of Axes for a display with one
    panel per predictor (``PartialEffectDisplay``); ``plot(ax=...)`` draws on
    the Axes given (as many as the panels).
    """
    s = result.summary()
    assert isinstance(s, pd.DataFrame), type(s)
    assert len(s) > 0
    if shape is not None:
        rows, cols = shape
        assert rows is None or s.shape[0] == rows, (s.shape, shape)
        assert cols is None or s.shape[1] == cols, (s.shape, shape)
    assert hasattr(result, "plot") == draws, "a result that draws has plot(); one that does not has none"
    if draws:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        disp = result.plot()
        assert type(disp).__name__.endswith("Display")
        panels = np.atleast_1d(np.asarray(disp.ax_, dtype=object)).ravel()
        assert all(a.figure is disp.figure_ for a in panels)
        n = len([a for a in panels if a.get_visible()])
        fig, ax = plt.subplots(1, n, squeeze=False)
        given = ax[0, 0] if n == 1 else ax[0]
        drawn = np.atleast_1d(np.asarray(result.plot(ax=given).ax_, dtype=object)).ravel()
        assert list(drawn[:n]) == list(ax[0]), "plot(ax=...) draws on the Axes given"
        plt.close("all")


@pytest.mark.parametrize("name", RESULT_NAMES)
def test_result_contract(results, name):
    result, shape, draws = results[name]
    check_result(result, shape, draws)


@pytest.mark.parametrize("kind", ["logistic", "cox"])
def test_nomogram_is_a_model_file_through_its_spec(models, kind, tmp_path):
    """``Nomogram.to_json`` writes its NomogramSpec (checksummed); ``load_model`` gives a Nomogram back."""
    import json

    nom = models[kind == "cox"].nomogram()
    path = nom.to_json(tmp_path / "nomogram.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "nomofuse.nomogram.NomogramSpec" and data["version"] == 1 and "sha256" in data
    assert {k: v for k, v in data.items() if k != "sha256"} == json.loads(json.dumps(nom.to_spec()))
    back = load_model(path)
    assert type(back) is nomogram.Nomogram
    pd.testing.assert_frame_equal(back.points(X), nom.points(X))
    # a bare specification (no checksum, e.g. written by another program) loads too
    bare = json.dumps(nom.to_spec())
    pd.testing.assert_frame_equal(load_model(bare).points(X), nom.points(X))
    # an edited, checksummed file is refused
    data["maxscale"] = 50.0
    with pytest.raises(nomogram.ModelFileError, match="sha256"):
        load_model(json.dumps(data))
    # the model's own file carries its default nomogram as a spec
    assert json.loads(models[kind == "cox"].to_json())["nomogram"] == json.loads(json.dumps(nom.to_spec()))


def test_every_result_class_is_covered(results):
    """A new result class in nomogram must be added to this test."""
    import inspect

    from nomogram import metrics

    covered = {type(r).__name__ for r, _, _ in results.values()}
    public = set()
    for mod in (nomogram, metrics, nomogram.features):
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if inspect.isclass(obj) and hasattr(obj, "summary") and not hasattr(obj, "fit"):
                public.add(name)
    assert public <= covered, sorted(public - covered)


def test_every_estimator_is_covered():
    import inspect

    covered = {c.name.split("(")[0] for c in ESTIMATORS}
    public = {name for mod in (nomogram, nomogram.features) for name in getattr(mod, "__all__", [])
              if inspect.isclass(getattr(mod, name)) and hasattr(getattr(mod, name), "fit")}
    assert public <= covered, sorted(public - covered)
