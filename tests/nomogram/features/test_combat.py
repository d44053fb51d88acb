"""ComBat against Bioconductor sva::ComBat (R) and neuroCombat (Python).

References: tests/reference/imaging/combat_sva.R wrote combat_sva_<case>.csv
from combat_input.csv (made by make_combat_input.py: the real WDBC image
features with simulated centre effects). Tolerance: rtol 1e-6 / atol 1e-9 ×
feature scale for sva; neuroCombat (pip, test-only extra) is run live with
float64 input, same tolerance.
"""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from nomogram.features.harmonization import ComBat
from nomogram.exceptions import ModelFileError, NotFittedError, StatisticalWarning

from tests._reference import reference_csv  # noqa: E402

RTOL = 1e-6


@pytest.fixture(scope="module")
def data():
    x = reference_csv("imaging/combat_input.csv").set_index("patient")
    feats = [c for c in x.columns if c not in ("centre", "diagnosis", "age")]
    return x[feats], x["centre"], x[["diagnosis", "age"]]


COV = ["diagnosis", "age"]


def _frame(X, centre, cov=None):
    """One table: the features, the ``centre`` column and the covariate columns (ComBat's input)."""
    out = X.assign(centre=centre.to_numpy())
    return out if cov is None else out.join(cov)


def _sva(case):
    return reference_csv(f"imaging/combat_sva_{case}.csv").set_index("patient")


def _close(got, ref):
    ref = ref.loc[got.index, got.columns]
    scale = ref.abs().max().to_numpy()
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=RTOL, atol=1e-9 * scale.max())


@pytest.mark.parametrize("case, kwargs, use_cov", [
    ("covariates", {}, True),
    ("nocov", {}, False),
    ("ref_A", {"ref_batch": "A"}, True),
    ("mean_only", {"mean_only": True}, True),
])
def test_matches_sva_combat(data, case, kwargs, use_cov):
    X, centre, cov = data
    cb = ComBat(batch="centre", covariates=COV if use_cov else None, **kwargs)
    got = cb.fit_transform(_frame(X, centre, cov if use_cov else None))
    assert list(got.columns) == list(X.columns)  # batch and covariates are consumed
    _close(got, _sva(case))


def test_old_call_with_separate_batch_warns_and_agrees(data):
    X, centre, cov = data
    new = ComBat(batch="centre", covariates=COV).fit(_frame(X, centre, cov))
    with pytest.warns(FutureWarning, match=r"ComBat.fit\(X, batch, covariates\) with separate batch labels"):
        old = ComBat().fit(X, centre, cov)
    with pytest.warns(FutureWarning, match="ComBat.transform"):
        got = old.transform(X, centre, cov)
    pd.testing.assert_frame_equal(got, new.transform(_frame(X, centre, cov)), check_exact=True)
    with pytest.warns(FutureWarning, match="ComBat.fit_transform"):
        pd.testing.assert_frame_equal(ComBat().fit_transform(X, centre, cov), got, check_exact=True)


def test_fits_inside_a_pipeline_and_cross_fitting(data):
    """Batch and covariates are columns of X, so fit(X, y) / cross_val_predict work unchanged."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, centre, cov = data
    Z = _frame(X, centre, cov[["age"]])  # the outcome is not a covariate: it would leak into the test folds
    y = (cov["diagnosis"] == "malignant").astype(int)
    pipe = make_pipeline(ComBat(batch="centre", covariates=["age"]), StandardScaler(), LogisticRegression())
    p = cross_val_predict(pipe, Z, y, cv=3, method="predict_proba")[:, 1]
    assert p.shape == (len(Z),) and ((p > 0.5) == y).mean() > 0.8
    cb = clone(pipe.steps[0][1]).fit(Z, y)
    assert list(cb.feature_names_in_) == list(Z.columns) and cb.n_features_in_ == Z.shape[1]
    assert list(cb.get_feature_names_out()) == list(X.columns)


def test_matches_neurocombat(data):
    nc = pytest.importorskip("neuroCombat")
    X, centre, cov = data
    covars = pd.DataFrame({"batch": centre.to_numpy(), "diagnosis": cov["diagnosis"].to_numpy(),
                           "age": cov["age"].to_numpy()})
    import contextlib, io
    with contextlib.redirect_stdout(io.StringIO()):
        ref = nc.neuroCombat(dat=X.to_numpy().T.copy(), covars=covars, batch_col="batch",
                             categorical_cols=["diagnosis"], continuous_cols=["age"])
    got = ComBat(batch="centre", covariates=COV).fit(_frame(X, centre, cov))
    _close(got.transform(_frame(X, centre, cov)), pd.DataFrame(ref["data"].T, index=X.index, columns=X.columns))
    np.testing.assert_allclose(got.gamma_star_, ref["estimates"]["gamma.star"], rtol=RTOL)
    np.testing.assert_allclose(got.delta_star_, ref["estimates"]["delta.star"], rtol=RTOL)
    np.testing.assert_allclose(got.var_pooled_, ref["estimates"]["var.pooled"].ravel(), rtol=1e-10)


def test_train_fit_applied_to_test_equals_neurocombat_from_training(data):
    """Fit on a training split, apply to the held-out rows.

    neuroCombat.neuroCombatFromTraining (0.2.12) fails under numpy 2
    (``int()`` of a 1-element array), so its three lines are applied here to
    neuroCombat's own training estimates: standardise with stand.mean and
    var.pooled, remove gamma.star, divide by sqrt(delta.star), rescale.
    """
    nc = pytest.importorskip("neuroCombat")
    X, centre, _ = data
    train = np.arange(len(X)) % 3 != 0
    cb = ComBat(batch="centre").fit(_frame(X[train], centre[train]))
    import contextlib, io
    with contextlib.redirect_stdout(io.StringIO()):
        est = nc.neuroCombat(dat=X[train].to_numpy().T.copy(),
                             covars=pd.DataFrame({"batch": centre[train].to_numpy()}),
                             batch_col="batch")["estimates"]
    levels = [str(b) for b in np.unique(centre[train])]
    which = np.array([levels.index(b) for b in centre[~train]])
    stand = est["stand.mean"][:, 0]
    vp = est["var.pooled"].ravel()
    z = (X[~train].to_numpy() - stand) / np.sqrt(vp)
    ref = (z - est["gamma.star"][which]) / np.sqrt(est["delta.star"][which]) * np.sqrt(vp) + stand
    got = cb.transform(_frame(X[~train], centre[~train]))
    _close(got, pd.DataFrame(ref, index=X.index[~train], columns=X.columns))


def test_transform_uses_only_training_estimates(data):
    X, centre, cov = data
    Z = _frame(X, centre, cov)
    train = np.arange(len(X)) % 4 != 0
    cb = ComBat(batch="centre", covariates=COV).fit(Z[train])
    params = cb.to_dict()
    test = Z[~train]
    a = cb.transform(test)
    # one row harmonised alone gives the same numbers: no statistic of the new data is used
    one = cb.transform(test.iloc[[3]])
    np.testing.assert_allclose(one.to_numpy(), a.iloc[[3]].to_numpy(), rtol=1e-14)
    changed = test.copy()
    changed.iloc[:10, :X.shape[1]] *= 3.0
    b = cb.transform(changed)
    np.testing.assert_allclose(b.iloc[10:].to_numpy(), a.iloc[10:].to_numpy(), rtol=1e-14)
    assert cb.to_dict() == params


def test_harmonisation_removes_centre_effect_and_keeps_diagnosis(data):
    X, centre, cov = data
    Xh = ComBat(batch="centre", covariates=COV).fit_transform(_frame(X, centre, cov))
    f = "mean_radius"
    for d in ["benign", "malignant"]:
        grp = cov["diagnosis"] == d
        before = X[f][grp].groupby(centre[grp]).mean()
        after = Xh[f][grp].groupby(centre[grp]).mean()
        assert (after.max() - after.min()) < 0.5 * (before.max() - before.min())
    diff = Xh[f][cov.diagnosis == "malignant"].mean() - Xh[f][cov.diagnosis == "benign"].mean()
    assert diff > 0.5 * X[f].std()


def test_json_round_trip_gives_identical_output(data, tmp_path):
    from nomogram import load_model

    X, centre, cov = data
    Z = _frame(X, centre, cov)
    cb = ComBat(batch="centre", covariates=COV, ref_batch="B").fit(Z)
    path = tmp_path / "combat.json"
    cb.to_json(path)
    again = ComBat.from_json(path)
    pd.testing.assert_frame_equal(again.transform(Z), cb.transform(Z), check_exact=True)
    assert again.get_params() == cb.get_params()
    assert isinstance(load_model(path), ComBat)
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "nomofuse.nomogram.ComBat"
    with pytest.raises(ModelFileError, match="not a nomofuse model file"):
        ComBat.from_json('{"format": "other"}')


def test_unseen_batch_policy(data):
    X, centre, cov = data
    Z = _frame(X, centre, cov)
    keep = (centre != "C").to_numpy()
    cb = ComBat(batch="centre", covariates=COV).fit(Z[keep])
    with pytest.raises(ValueError, match=r"batch\(es\) \['C'\] were not in the training data"):
        cb.transform(Z)
    pt = ComBat(batch="centre", covariates=COV, unseen_batch="passthrough").fit(Z[keep])
    with pytest.warns(StatisticalWarning, match="unchanged"):
        out = pt.transform(Z)
    np.testing.assert_array_equal(out[~keep].to_numpy(), X[~keep].to_numpy())
    np.testing.assert_allclose(out[keep].to_numpy(), cb.transform(Z[keep]).to_numpy())


def test_bad_input_messages(data):
    X, centre, cov = data
    Z = _frame(X, centre, cov)
    with pytest.raises(NotFittedError, match="ComBat instance is not fitted yet; call fit first"):
        ComBat(batch="centre").transform(Z)
    with pytest.raises(ValueError, match=r"lacks the batch/covariate column\(s\) \['site'\]"):
        ComBat(batch="site").fit(Z)
    with pytest.raises(TypeError, match=r"feature column\(s\) \['diagnosis'\] are not numeric; name the batch"):
        ComBat(batch="centre").fit(Z)
    with pytest.raises(TypeError, match="needs each row's batch"):
        ComBat().fit(X)
    with pytest.raises(TypeError, match="do not pass them separately"):
        ComBat(batch="centre").fit(Z, None, cov)
    with pytest.raises(ValueError, match="at least 2 batches"):
        ComBat(batch="centre").fit(_frame(X, pd.Series(np.repeat("A", len(X)), index=X.index)))
    with pytest.raises(ValueError, match="ref_batch 'Z' is not one of the batches"):
        ComBat(batch="centre", ref_batch="Z").fit(_frame(X, centre))
    with pytest.raises(ValueError, match="The 'unseen_batch' parameter of ComBat"):
        ComBat(batch="centre", unseen_batch="ignore").fit(_frame(X, centre))
    confounded = _frame(X, centre).assign(site_copy=centre.to_numpy())
    with pytest.raises(ValueError, match="confounded"):
        ComBat(batch="centre", covariates=["site_copy"]).fit(confounded)
    cb = ComBat(batch="centre", covariates=COV).fit(Z)
    with pytest.raises(ValueError, match=r"lacks the batch/covariate column\(s\) \['diagnosis', 'age'\]"):
        cb.transform(_frame(X, centre))
    bad = Z.copy()
    bad.iloc[0, bad.columns.get_loc("diagnosis")] = "unknown"
    with pytest.raises(ValueError, match=r"level\(s\) \['unknown'\] not seen at fit"):
        cb.transform(bad)
    with pytest.raises(ValueError, match=r"lacks the feature column\(s\) \['mean_radius'\]"):
        cb.transform(Z.drop(columns="mean_radius"))
    Xc = _frame(X, centre)
    Xc.loc[(centre == "B").to_numpy(), "mean_area"] = 1.0
    with pytest.raises(ValueError, match=r"\['mean_area'\] are constant within batch 'B'"):
        ComBat(batch="centre").fit(Xc)
    # the deprecated form still checks its arguments
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="one label per row of X"):
        ComBat().fit(X, centre[:10])


def test_summary_per_batch(data):
    X, centre, cov = data
    cb = ComBat(batch="centre", covariates=COV).fit(_frame(X, centre, cov))
    s = cb.summary()
    assert list(s.index) == ["A", "B", "C"]
    assert s["n"].tolist() == centre.value_counts().sort_index().tolist()
    assert (s["eb_iterations"] > 0).all()
    # the simulated centre effects are real: location and scale estimates are far from 0 and 1
    assert (s["mean_abs_gamma_star"] > 0.1).all()
