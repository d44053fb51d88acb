"""ComBat against Bioconductor sva::ComBat (R) and neuroCombat (Python).

References: tests/reference/imaging/combat_sva.R wrote combat_sva_<case>.csv
from combat_input.csv (made by make_combat_input.py: the real WDBC image
features with simulated centre effects). Tolerance: rtol 1e-6 / atol 1e-9 ×
feature scale for sva; neuroCombat (pip, test-only extra) is run live with
float64 input, same tolerance.
"""

import numpy as np
import pandas as pd
import pytest

from nomogram.features.harmonization import ComBat
from nomogram.exceptions import ModelFileError, NotFittedError, StatisticalWarning

from tests._reference import reference_csv  # noqa: E402

RTOL = 1e-6


@pytest.fixture(scope="module")
def data():
    x = reference_csv("imaging/combat_input.csv").set_index("patient")
    feats = [c for c in x.columns if c not in ("centre", "diagnosis", "age")]
    return x[feats], x["centre"], x[["diagnosis", "age"]]


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
    got = ComBat(**kwargs).fit_transform(X, centre, cov if use_cov else None)
    _close(got, _sva(case))


def test_matches_neurocombat(data):
    nc = pytest.importorskip("neuroCombat")
    X, centre, cov = data
    covars = pd.DataFrame({"batch": centre.to_numpy(), "diagnosis": cov["diagnosis"].to_numpy(),
                           "age": cov["age"].to_numpy()})
    import contextlib, io
    with contextlib.redirect_stdout(io.StringIO()):
        ref = nc.neuroCombat(dat=X.to_numpy().T.copy(), covars=covars, batch_col="batch",
                             categorical_cols=["diagnosis"], continuous_cols=["age"])
    got = ComBat().fit(X, centre, cov)
    _close(got.transform(X, centre, cov), pd.DataFrame(ref["data"].T, index=X.index, columns=X.columns))
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
    cb = ComBat().fit(X[train], centre[train])
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
    got = cb.transform(X[~train], centre[~train])
    _close(got, pd.DataFrame(ref, index=X.index[~train], columns=X.columns))


def test_transform_uses_only_training_estimates(data):
    X, centre, cov = data
    train = np.arange(len(X)) % 4 != 0
    cb = ComBat().fit(X[train], centre[train], cov[train])
    params = cb.to_dict()
    test = X[~train]
    a = cb.transform(test, centre[~train], cov[~train])
    # one row harmonised alone gives the same numbers: no statistic of the new data is used
    one = cb.transform(test.iloc[[3]], centre[~train].iloc[[3]], cov[~train].iloc[[3]])
    np.testing.assert_allclose(one.to_numpy(), a.iloc[[3]].to_numpy(), rtol=1e-14)
    changed = test.copy()
    changed.iloc[:10] *= 3.0
    b = cb.transform(changed, centre[~train], cov[~train])
    np.testing.assert_allclose(b.iloc[10:].to_numpy(), a.iloc[10:].to_numpy(), rtol=1e-14)
    assert cb.to_dict() == params


def test_harmonisation_removes_centre_effect_and_keeps_diagnosis(data):
    X, centre, cov = data
    Xh = ComBat().fit_transform(X, centre, cov)
    f = "mean_radius"
    for d in ["benign", "malignant"]:
        grp = cov["diagnosis"] == d
        before = X[f][grp].groupby(centre[grp]).mean()
        after = Xh[f][grp].groupby(centre[grp]).mean()
        assert (after.max() - after.min()) < 0.5 * (before.max() - before.min())
    diff = Xh[f][cov.diagnosis == "malignant"].mean() - Xh[f][cov.diagnosis == "benign"].mean()
    assert diff > 0.5 * X[f].std()


def test_json_round_trip_gives_identical_output(data, tmp_path):
    X, centre, cov = data
    cb = ComBat(ref_batch="B").fit(X, centre, cov)
    path = tmp_path / "combat.json"
    cb.to_json(path)
    again = ComBat.from_json(path)
    pd.testing.assert_frame_equal(again.transform(X, centre, cov), cb.transform(X, centre, cov),
                                  check_exact=True)
    assert again.get_params() == cb.get_params()
    with pytest.raises(ModelFileError, match="expected format"):
        ComBat.from_json('{"format": "other"}')


def test_unseen_batch_policy(data):
    X, centre, cov = data
    keep = centre != "C"
    cb = ComBat().fit(X[keep], centre[keep], cov[keep])
    with pytest.raises(ValueError, match=r"batch\(es\) \['C'\] were not in the training data"):
        cb.transform(X, centre, cov)
    pt = ComBat(unseen_batch="passthrough").fit(X[keep], centre[keep], cov[keep])
    with pytest.warns(StatisticalWarning, match="unchanged"):
        out = pt.transform(X, centre, cov)
    np.testing.assert_array_equal(out[~keep].to_numpy(), X[~keep].to_numpy())
    np.testing.assert_allclose(out[keep].to_numpy(), cb.transform(X[keep], centre[keep], cov[keep]).to_numpy())


def test_bad_input_messages(data):
    X, centre, cov = data
    with pytest.raises(NotFittedError, match="ComBat instance is not fitted yet; call fit first"):
        ComBat().transform(X, centre)
    with pytest.raises(ValueError, match="one label per row of X"):
        ComBat().fit(X, centre[:10])
    with pytest.raises(ValueError, match="at least 2 batches"):
        ComBat().fit(X, np.repeat("A", len(X)))
    with pytest.raises(ValueError, match="ref_batch 'Z' is not one of the batches"):
        ComBat(ref_batch="Z").fit(X, centre)
    with pytest.raises(ValueError, match="The 'unseen_batch' parameter of ComBat"):
        ComBat(unseen_batch="ignore").fit(X, centre)
    confounded = pd.DataFrame({"site_copy": centre.to_numpy()}, index=X.index)
    with pytest.raises(ValueError, match="confounded"):
        ComBat().fit(X, centre, confounded)
    cb = ComBat().fit(X, centre, cov)
    with pytest.raises(ValueError, match="fitted with covariates"):
        cb.transform(X, centre)
    bad = cov.copy()
    bad.iloc[0, 0] = "unknown"
    with pytest.raises(ValueError, match=r"level\(s\) \['unknown'\] not seen at fit"):
        cb.transform(X, centre, bad)
    with pytest.raises(ValueError, match=r"feature column\(s\) \['mean_radius'\]"):
        cb.transform(X.drop(columns="mean_radius"), centre, cov)
    Xc = X.copy()
    Xc.loc[centre == "B", "mean_area"] = 1.0
    with pytest.raises(ValueError, match=r"\['mean_area'\] are constant within batch 'B'"):
        ComBat().fit(Xc, centre)


def test_summary_per_batch(data):
    X, centre, cov = data
    cb = ComBat().fit(X, centre, cov)
    s = cb.summary()
    assert list(s.index) == ["A", "B", "C"]
    assert s["n"].tolist() == centre.value_counts().sort_index().tolist()
    assert (s["eb_iterations"] > 0).all()
    # the simulated centre effects are real: location and scale estimates are far from 0 and 1
    assert (s["mean_abs_gamma_star"] > 0.1).all()
