"""Early-fusion network: max pooling + channel concat learns planted signal in either branch,
handles a missing modality by masking, and reproduces its labels from the saved files."""

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from fusion.models import EarlyFusion  # noqa: E402
from nomogram.exceptions import ModelFileError  # noqa: E402
from nomogram.metrics import roc_auc_ci  # noqa: E402

FAST = dict(hidden=8, max_epochs=80, patience=15, batch_size=None, lr=0.02, random_state=0)


def _cohort(n, *, imaging_signal, pathology_signal, seed, maps=False):
    """Imaging (vectors, or 3D maps [C, 3, 3, 3]) and tile bags; signal is one high voxel / tile."""
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1], n // 2)
    if maps:
        img = rng.normal(size=(n, 4, 3, 3, 3)).astype(np.float32)
        img[:, 0, 1, 1, 1] += imaging_signal * y
    else:
        img = rng.normal(size=(n, 6)).astype(np.float32)
        img[:, 0] += imaging_signal * y
    tiles = []
    for i in range(n):
        t = rng.normal(size=(int(rng.integers(4, 12)), 5)).astype(np.float32)
        t[0, 2] += pathology_signal * y[i]  # one tile carries the signal: max pooling finds it
        tiles.append(t)
    return img, tiles, y


def _auc(y, s):
    ok = ~np.isnan(s)
    return roc_auc_ci(y[ok], s[ok]).auc


@pytest.mark.parametrize("branch", ["imaging", "pathology"])
def test_network_learns_planted_signal_in_either_branch(branch):
    kw = {"imaging_signal": 3.0 if branch == "imaging" else 0.0,
          "pathology_signal": 4.0 if branch == "pathology" else 0.0}
    img, tiles, y = _cohort(240, seed=1, **kw)
    net = EarlyFusion(**FAST).fit(img, tiles, y)
    img_te, tiles_te, y_te = _cohort(200, seed=2, **kw)
    labels = net.transform(img_te, tiles_te)
    signal, noise = (("imaging_label", "pathology_label") if branch == "imaging"
                     else ("pathology_label", "imaging_label"))
    assert _auc(y_te, labels[signal].to_numpy()) > 0.85
    assert _auc(y_te, labels["fused_score"].to_numpy()) > 0.85
    assert abs(_auc(y_te, labels[noise].to_numpy()) - 0.5) < 0.15


def test_feature_maps_are_max_pooled_over_voxels():
    img, tiles, y = _cohort(240, seed=3, imaging_signal=4.0, pathology_signal=0.0, maps=True)
    net = EarlyFusion(**FAST).fit(img, None, y)
    img_te, _, y_te = _cohort(200, seed=4, imaging_signal=4.0, pathology_signal=0.0, maps=True)
    assert _auc(y_te, net.transform(img_te)["imaging_label"].to_numpy()) > 0.85
    assert net.config_["pathology_dim"] is None and net.config_["imaging_dim"] == 4


def test_instance_layer_before_pooling_learns_tile_signal():
    img, tiles, y = _cohort(200, seed=5, imaging_signal=0.0, pathology_signal=4.0)
    net = EarlyFusion(**{**FAST, "instance_dim": 8}).fit(None, tiles, y)
    _, tiles_te, y_te = _cohort(160, seed=6, imaging_signal=0.0, pathology_signal=4.0)
    assert _auc(y_te, net.transform(None, tiles_te)["pathology_label"].to_numpy()) > 0.8


def test_missing_modality_is_masked_not_dropped():
    img, tiles, y = _cohort(120, seed=7, imaging_signal=2.0, pathology_signal=2.0)
    img[::5] = np.nan          # no imaging for every fifth patient
    no_slide = [i for i in range(1, 120, 7) if i % 5]
    for i in no_slide:
        tiles[i] = None        # no slide for some others
    net = EarlyFusion(**FAST).fit(img, tiles, y)
    labels = net.transform(img, tiles)
    assert len(labels) == 120 and labels["fused_score"].notna().all()
    assert labels["imaging_label"].isna().to_numpy().nonzero()[0].tolist() == list(range(0, 120, 5))
    assert labels["pathology_label"].isna().to_numpy().nonzero()[0].tolist() == no_slide
    both_missing = [img[i] if i != 0 else np.full(6, np.nan) for i in range(3)], [None, tiles[1], tiles[2]]
    with pytest.raises(ValueError, match=r"position\(s\) \[0\] have neither imaging nor pathology"):
        net.transform(*both_missing)


def test_training_is_seeded_and_labels_reproduce_from_the_saved_files(tmp_path):
    img, tiles, y = _cohort(120, seed=8, imaging_signal=2.0, pathology_signal=2.0)
    a = EarlyFusion(**FAST).fit(img, tiles, y)
    b = EarlyFusion(**FAST).fit(img, tiles, y)
    assert a.transform(img, tiles).equals(b.transform(img, tiles))  # deterministic on CPU
    path = a.to_json(tmp_path / "fusion_net.json")
    d = json.loads(path.read_text())
    assert d["format"] == "nomofuse.fusion.EarlyFusion" and (tmp_path / d["weights"]["file"]).is_file()
    again = EarlyFusion.from_json(path)
    assert again.transform(img, tiles).equals(a.transform(img, tiles))
    (tmp_path / "fusion_net.pt").write_bytes((tmp_path / "fusion_net.pt").read_bytes() + b"x")
    with pytest.raises(ModelFileError, match="SHA-256"):
        EarlyFusion.from_json(path)


def test_fit_transform_gives_cross_fitted_labels():
    img, tiles, y = _cohort(100, seed=9, imaging_signal=2.5, pathology_signal=0.0)
    net = EarlyFusion(**{**FAST, "cv": 3})
    oof = net.fit_transform(img, tiles, y, patients=[f"P{i}" for i in range(100)])
    assert list(oof.columns) == ["imaging_label", "pathology_label", "fused_score"]
    assert oof.index[0] == "P0" and set(net.folds_) == {0, 1, 2}
    assert _auc(y, oof["imaging_label"].to_numpy()) > 0.75
    # out-of-fold labels differ from the full network's own (in-sample) labels
    assert not np.allclose(oof.to_numpy(), net.transform(img, tiles).to_numpy())
