"""Streamed encoding and the HDF5 layout; CLAM and TRIDENT files load."""

import h5py
import numpy as np
import pytest
import torch

from pathology import (FeatureFileError, FeatureFileWriter, check_slide, create_encoder, encode_tiles,
                       load_features, open_slide, read_tile, tile_grid, tissue_mask)


@pytest.fixture(scope="module")
def grid_and_encoder(slides, tiny_encoders):
    info = check_slide(slides["svs"])
    grid = tile_grid(info, tissue_mask(slides["svs"], info), target_mpp=0.5, tile_size=48, min_tissue=0.5)
    enc = create_encoder("test_resnet18_trunc", random_init=True, device="cpu")
    return info, grid, enc


def test_readers_give_the_features_of_the_tiles(slides, grid_and_encoder):
    info, grid, enc = grid_and_encoder
    slide = open_slide(slides["svs"])
    direct = enc(np.stack([read_tile(slide, grid, i) for i in range(len(grid))])).numpy()
    f0, s0 = encode_tiles(slides["svs"], grid, enc, num_workers=0, batch_size=7)
    f1, s1 = encode_tiles(slides["svs"], grid, enc, num_workers=1, batch_size=7)
    assert f0.shape == (len(grid), 256)
    np.testing.assert_allclose(f0, direct, atol=1e-5)
    np.testing.assert_array_equal(f0, f1)
    assert s1.n_tiles == len(grid) and s1.tiles_per_s > 0 and s1.read_s > 0 and s1.model_s > 0
    assert s1.num_workers == 1 and s1.device == "cpu"


def test_feature_file_layout_and_attributes(slides, grid_and_encoder, tmp_path):
    info, grid, enc = grid_and_encoder
    attrs = {"encoder": enc.name, "weights_sha256": enc.weights_sha256, "patch_size": grid.tile_size,
             "patch_size_level0": grid.size0, "target_mpp": grid.target_mpp, "slide_mpp": info.mpp,
             "level0_magnification": info.objective_power, "level0_width": info.width,
             "level0_height": info.height, "name": "s1"}
    path = tmp_path / "s1.h5"
    with FeatureFileWriter(path, enc.feature_dim, attrs) as w:
        encode_tiles(slides["svs"], grid, enc, on_batch=w.append, num_workers=0, batch_size=5)
    with h5py.File(path, "r") as f:
        assert f["features"].dtype == np.float32 and f["features"].shape == (len(grid), 256)
        assert f["coords"].shape == (len(grid), 2)
        np.testing.assert_array_equal(f["coords"][()], grid.coords)
        for key in ("encoder", "weights_sha256", "patch_size", "patch_size_level0", "target_mpp",
                    "slide_mpp", "level0_magnification", "level0_width", "level0_height",
                    "nomofuse_version"):
            assert key in f.attrs, key
        assert f.attrs["patch_size_level0"] == pytest.approx(48 * 0.5 / 0.2631, rel=1e-12)
        # TRIDENT reads its attributes from the coords dataset
        assert f["coords"].attrs["patch_size_level0"] == round(48 * 0.5 / 0.2631)
        assert f["features"].attrs["encoder"] == "test_resnet18_trunc"
    sf = load_features(path)
    assert sf.layout == "nomofuse" and sf.n_tiles == len(grid) and sf.attrs["name"] == "s1"
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "x.h5"
    with pytest.raises(FeatureFileError, match="non-finite"):
        with FeatureFileWriter(path, 4, {"encoder": "e"}) as w:
            w.append(np.full((2, 4), np.nan), np.zeros((2, 2)))
    assert not path.exists() and not list(tmp_path.iterdir())


def test_clam_and_trident_files_load(tmp_path):
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(12, 1024)).astype(np.float32)
    coords = rng.integers(0, 5000, (12, 2))
    # CLAM extract_features_fp.py: save_hdf5(features, coords int32), no attributes
    with h5py.File(tmp_path / "clam.h5", "w") as f:
        f.create_dataset("features", data=feats, maxshape=(None, 1024), chunks=(32, 1024))
        f.create_dataset("coords", data=coords.astype(np.int32), maxshape=(None, 2), chunks=(32, 2))
    torch.save(torch.from_numpy(feats), tmp_path / "clam.pt")
    # TRIDENT save_h5: attributes on the datasets, None written as 'None'
    with h5py.File(tmp_path / "trident.h5", "w") as f:
        d = f.create_dataset("features", data=feats, chunks=(1, 1024), maxshape=(None, 1024))
        d.attrs.update({"name": "TCGA-1", "savetodir": "out", "encoder": "uni_v1"})
        c = f.create_dataset("coords", data=coords.astype(np.int64), chunks=(1, 2), maxshape=(None, 2))
        c.attrs.update({"patch_size": 256, "patch_size_level0": 512, "level0_magnification": 40,
                        "target_magnification": 20, "overlap": 0, "name": "TCGA-1", "savetodir": "None",
                        "level0_width": 90000, "level0_height": 60000})
    clam = load_features(tmp_path / "clam.h5")
    assert clam.layout == "clam" and clam.coords.dtype == np.int64
    np.testing.assert_array_equal(clam.features, feats)
    np.testing.assert_array_equal(clam.coords, coords)
    pt = load_features(tmp_path / "clam.pt")
    assert pt.layout == "clam-pt" and pt.coords is None and pt.features.shape == (12, 1024)
    tri = load_features(tmp_path / "trident.h5")
    assert tri.layout == "trident" and tri.patch_size_level0 == 512.0
    assert tri.attrs["encoder"] == "uni_v1" and tri.attrs["savetodir"] is None


def test_bad_feature_files_are_named(tmp_path):
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f["features"] = np.zeros((5, 8), np.float32)
        f["coords"] = np.zeros((4, 2), np.int64)
    with pytest.raises(FeatureFileError, match=r"bad\.h5.*\[5, 2\]"):
        load_features(tmp_path / "bad.h5")
    with h5py.File(tmp_path / "patches.h5", "w") as f:
        f["coords"] = np.zeros((4, 2), np.int64)
    with pytest.raises(FeatureFileError, match="patch"):
        load_features(tmp_path / "patches.h5")
    good = tmp_path / "good.h5"
    with FeatureFileWriter(good, 8, {"encoder": "e"}) as w:
        w.append(np.ones((300, 8)), np.zeros((300, 2)))
    (tmp_path / "cut.h5").write_bytes(good.read_bytes()[:3000])
    with pytest.raises(FeatureFileError, match="truncated or corrupt"):
        load_features(tmp_path / "cut.h5")
