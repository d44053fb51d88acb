"""Deep features: output shape, determinism, and identical features after saving/loading weights."""

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from imaging import ImageReadError
from imaging.deep_features import DeepFeatureExtractor

from .conftest import case_files, make_image


@pytest.fixture(scope="module")
def lesion_case():
    rng = np.random.default_rng(3)
    arr = rng.normal(40, 20, size=(20, 48, 48))
    z, y, x = np.mgrid[:20, :48, :48]
    ball = (((x - 22) * 0.8) ** 2 + ((y - 25) * 0.8) ** 2 + ((z - 9) * 2.5) ** 2) <= 64
    arr[ball] += 80
    return make_image(arr.astype(np.float32), (0.8, 0.8, 2.5)), make_image(ball.astype(np.uint8), (0.8, 0.8, 2.5))


def test_shape_and_determinism(lesion_case):
    img, mask = lesion_case
    ext = DeepFeatureExtractor("resnet18", n_slices=3, input_size=64, crop_mm=40)
    v1 = ext.extract(img, mask)
    v2 = ext.extract(img, mask)
    assert v1.shape == (512,) and ext.num_features_ == 512
    assert np.isfinite(v1).all() and v1.std() > 0
    np.testing.assert_array_equal(v1, v2)
    # a new extractor with the same seed builds the same random encoder
    np.testing.assert_array_equal(v1, DeepFeatureExtractor("resnet18", n_slices=3, input_size=64,
                                                           crop_mm=40).extract(img, mask))
    row = ext.extract_case("c1", img, mask)
    assert list(row)[0] == "lesion_deep_resnet18_0000" and len(row) == 512


@pytest.mark.parametrize("fmt", ["pt", "safetensors"])
def test_saved_state_dict_gives_identical_features(tmp_path, lesion_case, fmt):
    img, mask = lesion_case
    src = DeepFeatureExtractor("resnet18", n_slices=2, input_size=64, crop_mm=40, random_state=11)
    ref = src.extract(img, mask)
    sd = {k: v.contiguous() for k, v in src.model_.state_dict().items()}
    path = tmp_path / f"w.{fmt}"
    if fmt == "pt":
        torch.save(sd, path)
    else:
        from safetensors.torch import save_file

        save_file(sd, str(path))
    other = DeepFeatureExtractor("resnet18", weights=path, n_slices=2, input_size=64, crop_mm=40, random_state=99)
    np.testing.assert_array_equal(other.extract(img, mask), ref)
    # a different seed without weights gives different features: the weights were really loaded
    assert not np.array_equal(
        DeepFeatureExtractor("resnet18", n_slices=2, input_size=64, crop_mm=40, random_state=99).extract(img, mask), ref)


def test_wrong_weights_are_refused(tmp_path, lesion_case):
    img, mask = lesion_case
    torch.save({"conv.weight": torch.zeros(3)}, tmp_path / "bad.pt")
    with pytest.raises(ImageReadError, match="does not fit encoder 'resnet18'"):
        DeepFeatureExtractor("resnet18", weights=tmp_path / "bad.pt", input_size=32).extract(img, mask)
    with pytest.raises(ImageReadError, match="does not exist"):
        DeepFeatureExtractor("resnet18", weights=tmp_path / "none.pt", input_size=32).extract(img, mask)


def test_crop_is_centred_on_lesion(lesion_case):
    img, mask = lesion_case
    ext = DeepFeatureExtractor(n_slices=1, input_size=41, crop_mm=41 * 0.8, slice_gap_mm=2.5)
    block = ext.crop(sitk.Cast(mask, sitk.sitkFloat32) * 100, mask)  # crop the mask itself
    # the lesion is centred: the middle plane's centre pixel is inside, the corner is not
    assert block.shape == (3, 41, 41)
    assert block[1, 20, 20] == 100 and block[1, 0, 0] == 0


def test_3d_mode_and_real_case():
    image, mask = case_files("breast1")
    ext = DeepFeatureExtractor("r3d_18", mode="3d", input_size=16, crop_mm=24)
    v = ext.extract(image, mask)
    assert v.shape == (512,) and np.isfinite(v).all()
    with pytest.raises(ValueError, match="'encoder' parameter"):
        DeepFeatureExtractor("resnet18", mode="3d")
    with pytest.raises(ValueError, match="'mode' parameter"):
        DeepFeatureExtractor(mode="2d")
