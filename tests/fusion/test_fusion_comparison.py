"""compare_models: one tidy table of nomogram's own metrics per split and model, and a figure set."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from fusion.models import compare_models, compare_predictions  # noqa: E402
from fusion.models.synthetic import make_multicancer_cohort  # noqa: E402
from nomogram import CoxNomogram, LogisticNomogram, decision_curve, val_prob  # noqa: E402
from nomogram.metrics import (  # noqa: E402
    compare_concordance,
    delong_test,
    harrell_c,
    reclassification,
    roc_auc_ci,
)


def _splits(outcome):
    c = make_multicancer_cohort(900, outcome=outcome, random_state=21)
    X = c.clinical.set_index("patient_id")
    X["imaging_signal"] = c.radiomics.groupby("patient_id")["rad_00"].max().reindex(X.index)
    y = X["bone_metastasis"] if outcome == "binary" else X[["time", "event"]]
    return X.iloc[:600], y.iloc[:600], X.iloc[600:], y.iloc[600:]


def test_binary_comparison_equals_nomograms_metrics(tmp_path):
    Xtr, ytr, Xte, yte = _splits("binary")
    clin = LogisticNomogram().fit(Xtr[["age", "grade"]], ytr)
    full = LogisticNomogram().fit(Xtr[["age", "grade", "imaging_signal"]], ytr)
    cmp = compare_models({"clinical": clin, "clinical + imaging": full},
                         {"train": (Xtr, ytr), "test": (Xte, yte)}, nri_cutoffs=[0.3, 0.5])
    t = cmp.summary().set_index(["split", "model"])
    assert list(t.index) == [("train", "clinical"), ("train", "clinical + imaging"),
                             ("test", "clinical"), ("test", "clinical + imaging")]
    p0, p1 = clin.predict_proba(Xte)[:, 1], full.predict_proba(Xte)[:, 1]
    row = t.loc[("test", "clinical + imaging")]
    assert row["AUC"] == roc_auc_ci(yte, p1).auc and row["AUC lower"] == roc_auc_ci(yte, p1).lower
    d = delong_test(yte, p1, p0)
    assert row["difference"] == d.difference and row["p (DeLong)"] == d.p_value
    rc = reclassification(yte, p0, p1, [0.3, 0.5]).table
    assert row["NRI"] == rc.loc["NRI (categorical)", "estimate"] and row["IDI"] == rc.loc["IDI", "estimate"]
    vp = val_prob(yte, p1).statistics
    assert (row["calibration intercept"], row["calibration slope"], row["Brier"]) == \
        (vp["Intercept"], vp["Slope"], vp["Brier"])
    assert np.isnan(t.loc[("test", "clinical"), "p (DeLong)"])          # the reference itself
    assert row["AUC"] > t.loc[("test", "clinical"), "AUC"]                # the planted signal shows
    nb = decision_curve(yte, {"clinical": p0, "clinical + imaging": p1}).summary()
    assert cmp.decision_curves["test"].summary().equals(nb)
    display = cmp.plot(split="test")
    assert set(display.axes_) == {"roc", "calibration", "decision"}
    display.figure_.savefig(tmp_path / "comparison_binary.png", dpi=70)


def test_survival_comparison_uses_concordance_and_horizon(tmp_path):
    Xtr, ytr, Xte, yte = _splits("survival")
    clin = CoxNomogram(times=[24]).fit(Xtr[["age", "grade"]], ytr)
    full = CoxNomogram(times=[24]).fit(Xtr[["age", "grade", "imaging_signal"]], ytr)
    cmp = compare_models({"clinical": clin, "full": full}, {"test": (Xte, yte)}, horizon=24, n_boot=50)
    row = cmp.summary().set_index("model").loc["full"]
    s0, s1 = clin.decision_function(Xte), full.decision_function(Xte)
    assert row["C"] == harrell_c(yte, s1).concordance
    assert row["p (C comparison)"] == compare_concordance(yte, s1, s0).p_value
    assert 0.7 < row["calibration slope"] < 1.4 and np.isfinite(row["NRI"]) and np.isfinite(row["IDI"])
    assert cmp.risks["test"]["full"].between(0, 1).all()
    display = cmp.plot()
    assert set(display.axes_) == {"calibration", "decision"}
    display.figure_.savefig(tmp_path / "comparison_survival.png", dpi=70)


def test_comparison_input_errors():
    y = np.tile([0, 1], 10)
    with pytest.raises(ValueError, match=r"predictions of model 'b' have 3 values but y has 20"):
        compare_predictions(y, {"a": np.full(20, 0.5), "b": [0.1, 0.2, 0.3]})
    with pytest.raises(ValueError, match=r"must be probabilities in \[0, 1\]"):
        compare_predictions(y, {"a": np.linspace(-1, 2, 20)})
    with pytest.raises(ValueError, match="The 'reference' parameter of compare_predictions must be one of"):
        compare_predictions(y, {"a": np.full(20, 0.5)}, reference="clinical")
    with pytest.raises(ValueError, match="needs horizon="):
        compare_predictions(pd.DataFrame({"t": np.arange(1, 21), "e": y}), {"a": np.full(20, 0.5)})

